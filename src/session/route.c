/* Routes to targets (see route.h). */
#include "session/route.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "session/authz.h"
#include "ssh/jpnode.h"
#include "store/jumpoint.h"
#include "store/route.h"
#include "store/store.h"
#include "target/dial.h"
#include "target/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gh_sess_route {
	struct gh_store *st;
	struct gh_audit_who who;
	struct gh_gateway *gws;
	size_t n;
	struct gh_asset *assets;        /* the gateways' assets */
	struct gh_credential *creds;
	struct gh_dial_hop *hops;
	struct gh_route route;
	char path[GH_ROUTE_MAX_HOPS * 70];
	char jp_name[128];
	char jp_paths[GH_JUMPOINT_MAX_NODES][4096];
	const char *jp_socks[GH_JUMPOINT_MAX_NODES];
	int64_t jp_nodes[GH_JUMPOINT_MAX_NODES];
	int64_t used_node, used_pid;
};

/* Through jumpoint JP: the dial sockets of its connected nodes. */
static int jp_fill(struct gh_sess_route *r, int64_t jp, const char *data_dir, char *err)
{
	size_t n = 0;
	int e = gh_store_jumpoint_name(r->st, jp, r->jp_name, sizeof r->jp_name);
	if (e == 0)
		e = gh_store_jumpoint_connected(r->st, jp, r->jp_nodes, GH_JUMPOINT_MAX_NODES, &n);
	for (size_t i = 0; e == 0 && i < n; i++) {
		e = gh_jpnode_sock_path(data_dir, r->jp_nodes[i], r->jp_paths[i],
					sizeof r->jp_paths[i]);
		r->jp_socks[i] = r->jp_paths[i];
	}
	if (e < 0) {
		snprintf(err, GH_TARGET_ERRLEN, "no route to the asset (jumpoint missing)");
		return e;
	}
	r->route = (struct gh_route){ .jumpoint = r->jp_name, .jp_socks = r->jp_socks,
				      .jp_nodes = r->jp_nodes, .n_jp = n,
				      .used_node = &r->used_node, .used_pid = &r->used_pid };
	snprintf(r->path, sizeof r->path, "jumpoint %s", r->jp_name);
	return 0;
}

int gh_sess_host_key_check(struct gh_store *st, const struct gh_audit_who *who,
			   const struct gh_asset *a, const char *hk, const char *fp, char *err)
{
	if (a->host_key && *a->host_key) {
		if (gh_target_host_key_equal(a->host_key, hk))
			return 0;
		char detail[512];
		snprintf(detail, sizeof detail, "presented %s (%.40s...)", fp, hk);
		gh_audit_hostkey(st, who, a->name, "mismatch", detail);
		gh_warn("host key of asset %s changed: now %s; refused", a->name, fp);
		snprintf(err, GH_TARGET_ERRLEN, "host key changed");
		return GH_EHOSTKEY;
	}
	int r = gh_store_asset_set_host_key(st, a->id, hk);
	if (r < 0)
		gh_error("cannot pin host key of %s: %s", a->name, gh_strerror(r));
	gh_audit_hostkey(st, who, a->name, "pinned", fp);
	gh_info("pinned host key of %s: %s", a->name, fp);
	return 0;
}

static int on_host_key(void *ud, size_t i, const char *key, const char *fp, char *err)
{
	struct gh_sess_route *r = ud;
	if (i >= r->n)
		return GH_EINVAL;
	return gh_sess_host_key_check(r->st, &r->who, &r->assets[i], key, fp, err);
}

/* Hop I of R from its gateway row: asset, secret. */
static int hop_fill(struct gh_sess_route *r, struct gh_vault *v, const struct gh_authz_req *rq,
		    size_t i, char *err)
{
	const struct gh_gateway *g = &r->gws[i];
	struct gh_authz dec;
	int e = gh_store_asset_get_by_id(r->st, g->asset_id, &r->assets[i]);
	if (e == 0)
		e = gh_authz_gateway_credential(r->st, v, rq, g->id, &dec, &r->creds[i]);
	if (e < 0) {
		gh_error("gateway %s: %s", g->name, gh_strerror(e));
		snprintf(err, GH_TARGET_ERRLEN, "gateway %.64s: %s", g->name,
			 e == GH_EPERM ? "not permitted" : "the stored credentials cannot be used");
		return e;
	}
	const struct gh_asset *a = &r->assets[i];
	r->hops[i] = (struct gh_dial_hop){ .name = a->name, .address = a->address, .port = a->port,
					   .username = g->account,
					   .pinned_host_key = a->host_key,
					   .secret_kind = r->creds[i].kind,
					   .secret = r->creds[i].secret };
	size_t used = strlen(r->path);
	snprintf(r->path + used, sizeof r->path - used, "%s%.64s", used ? " > " : "", a->name);
	return 0;
}

int gh_sess_route_open(struct gh_store *st, struct gh_vault *v, const struct gh_authz_req *rq,
		       int64_t asset_id, const struct gh_audit_who *who, const char *data_dir,
		       struct gh_sess_route **ret, char *err)
{
	struct gh_sess_route *r = calloc(1, sizeof *r);
	int e = GH_ENOMEM;
	err[0] = '\0';
	if (!r)
		goto fail;
	r->st = st;
	r->who = *who;
	int64_t jp = 0;
	e = gh_store_asset_jumpoint(st, asset_id, &jp);
	if (e == 0 && jp) { /* never directly: only through its agent */
		if ((e = jp_fill(r, jp, data_dir, err)) < 0)
			goto fail;
		*ret = r;
		return 0;
	}
	if (e == 0)
		e = gh_store_route(st, asset_id, &r->gws, &r->n);
	if (e < 0) {
		snprintf(err, GH_TARGET_ERRLEN, "no route to the asset (%s)",
			 e == GH_EINVAL ? "gateway cycle" : "gateway missing");
		goto fail;
	}
	e = GH_ENOMEM;
	r->assets = calloc(r->n + 1, sizeof *r->assets);
	r->creds = calloc(r->n + 1, sizeof *r->creds);
	r->hops = calloc(r->n + 1, sizeof *r->hops);
	if (!r->assets || !r->creds || !r->hops)
		goto fail;
	for (size_t i = 0; i < r->n; i++)
		if ((e = hop_fill(r, v, rq, i, err)) < 0)
			goto fail;
	r->route = (struct gh_route){ .hops = r->hops, .n_hops = r->n, .host_key = on_host_key,
				      .ud = r };
	*ret = r;
	return 0;
fail:
	if (e == GH_ENOMEM && !err[0])
		snprintf(err, GH_TARGET_ERRLEN, "out of memory");
	gh_sess_route_free(r);
	return e;
}

int gh_sess_route_is_direct(struct gh_store *st, int64_t asset_id, bool *ret)
{
	int64_t gw = 0, jp = 0;
	int r = gh_store_asset_gateway(st, asset_id, &gw);
	if (r == 0)
		r = gh_store_asset_jumpoint(st, asset_id, &jp);
	if (r == 0)
		*ret = !gw && !jp;
	return r;
}

const struct gh_route *gh_sess_route_dial(const struct gh_sess_route *r)
{
	return r && (r->n || r->route.jumpoint) ? &r->route : NULL;
}

void gh_sess_route_used(const struct gh_sess_route *r, int64_t *ret_node, int64_t *ret_pid)
{
	*ret_node = r ? r->used_node : 0;
	*ret_pid = r ? r->used_pid : 0;
}

const char *gh_sess_route_path(const struct gh_sess_route *r)
{
	return r ? r->path : "";
}

struct gh_sess_route *gh_sess_route_free(struct gh_sess_route *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->creds)
			gh_credential_clear(&r->creds[i]);
		if (r->assets)
			gh_asset_free(&r->assets[i]);
	}
	gh_gateways_free(r->gws, r->n);
	free(r->creds);
	free(r->assets);
	free(r->hops);
	free(r);
	return NULL;
}
