/* How assets are reached: gateways (an SSH asset and one of its accounts
 * through which other assets are reached) and each asset's gateway.
 * Only the rows; the dial is target/dial.h, the secrets session/authz.h. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct gh_store;

#define GH_ROUTE_MAX_HOPS 8

struct gh_gateway {
	int64_t id;
	char *name;
	int64_t asset_id;
	char *asset_name;
	char *account;
	int64_t created_at;
};

void gh_gateway_free(struct gh_gateway *g);
void gh_gateways_free(struct gh_gateway *v, size_t n);

/* GH_EEXIST when NAME is taken. */
int gh_store_gateway_add(struct gh_store *st, const char *name, int64_t asset_id,
			 const char *account, int64_t *ret_id);
int gh_store_gateway_get(struct gh_store *st, const char *name, struct gh_gateway *ret);
int gh_store_gateway_get_by_id(struct gh_store *st, int64_t id, struct gh_gateway *ret);
int gh_store_gateway_list(struct gh_store *st, struct gh_gateway **ret, size_t *ret_n);
/* GH_EBUSY while an asset is reached through it, GH_ENOENT when none. */
int gh_store_gateway_del(struct gh_store *st, const char *name);

/* The gateway asset ASSET_ID is reached through (*ret_id 0: none). */
int gh_store_asset_gateway(struct gh_store *st, int64_t asset_id, int64_t *ret_id);
/* Reach ASSET_ID through GATEWAY_ID (0: directly). GH_EINVAL when that
 * would make a cycle or a chain longer than GH_ROUTE_MAX_HOPS. */
int gh_store_asset_set_gateway(struct gh_store *st, int64_t asset_id, int64_t gateway_id);

/* The gateways of ASSET_ID's route, outermost (the one Gatehouse connects
 * to first) first: *ret_n 0 when direct. Caller frees with gh_gateways_free.
 * GH_EINVAL on a cycle or a chain too long, GH_ENOENT when a gateway row
 * is gone (fail closed). */
int gh_store_route(struct gh_store *st, int64_t asset_id, struct gh_gateway **ret,
		   size_t *ret_n);
