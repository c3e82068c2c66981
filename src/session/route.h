/* The session core's routes: how a target asset is reached (directly or
 * through a chain of gateways, store/route.h), turned into what the dial
 * needs (target/dial.h): each gateway's address, pinned host key and the
 * secret of its account, which the gate (authz.h) gives only for a route
 * of an asset the request is allowed on. No libssh. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_vault;
struct gh_asset;
struct gh_authz_req;
struct gh_audit_who;
struct gh_route;
struct gh_sess_route;

/* The route to RQ->asset for the request RQ (through a jumpoint: the dial
 * sockets of its connected nodes in DATA_DIR/run) (the same request the door
 * asked the gate; ASSET_ID its asset). WHO: for the host key events of
 * the gateways (pinned on first use, refused when changed, as targets).
 * On success *RET is the caller's (gh_sess_route_free as soon as the
 * dial returned: it holds secrets). Otherwise GH_E* and ERR
 * (GH_TARGET_ERRLEN) a reason fit for the user. */
int gh_sess_route_open(struct gh_store *st, struct gh_vault *v, const struct gh_authz_req *rq,
		       int64_t asset_id, const struct gh_audit_who *who, const char *data_dir,
		       struct gh_sess_route **ret, char *err);
/* After a dial through a jumpoint: the node that carried it and the pid of
 * the worker holding that node (0, 0 otherwise). */
void gh_sess_route_used(const struct gh_sess_route *r, int64_t *ret_node, int64_t *ret_pid);
/* Whether ASSET_ID is reached directly (no gateway, no jumpoint): 0 with
 * *RET, or GH_E* (a store error: treat as not direct). */
int gh_sess_route_is_direct(struct gh_store *st, int64_t asset_id, bool *ret);
/* What gh_target_dial takes (borrowed; NULL when direct). */
const struct gh_route *gh_sess_route_dial(const struct gh_sess_route *r);
/* "web01 > bastion2" (the gateways, outermost first), "" when direct. */
const char *gh_sess_route_path(const struct gh_sess_route *r);
/* Wipes the secrets. NULL ok; returns NULL. */
struct gh_sess_route *gh_sess_route_free(struct gh_sess_route *r);

/* The host key HK (fingerprint FP) asset A presented: pinned on first use,
 * refused (GH_EHOSTKEY, ERR "host key changed") when it differs from the
 * pinned one; both audited under WHO. The one rule for targets and
 * gateways alike. */
int gh_sess_host_key_check(struct gh_store *st, const struct gh_audit_who *who,
			   const struct gh_asset *a, const char *hk, const char *fp, char *err);
