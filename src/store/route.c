/* Gateways and the routes to assets (see route.h). */
#include "store/route.h"
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"

#include <stdlib.h>
#include <string.h>

#define GW_COLS                                                                   \
	"SELECT g.id, g.name, g.asset_id, a.name, g.account, g.created_at "       \
	"FROM gateways g JOIN assets a ON a.id = g.asset_id "

void gh_gateway_free(struct gh_gateway *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->asset_name);
	free(g->account);
	memset(g, 0, sizeof *g);
}

void gh_gateways_free(struct gh_gateway *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_gateway_free(&v[i]);
	free(v);
}

struct gw_rows {
	struct gh_gateway *v;
	size_t n, cap;
};

static int take_gw(void *ud, const struct gh_db_val *c, int n)
{
	struct gw_rows *rows = ud;
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 8;
		struct gh_gateway *v = realloc(rows->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	struct gh_gateway *g = &rows->v[rows->n];
	memset(g, 0, sizeof *g);
	g->id = gh_store_col_int(&c[0]);
	g->name = gh_store_col_str(&c[1]);
	g->asset_id = gh_store_col_int(&c[2]);
	g->asset_name = gh_store_col_str(&c[3]);
	g->account = gh_store_col_str(&c[4]);
	g->created_at = gh_store_col_int(&c[5]);
	rows->n++;
	if (!g->name || !g->asset_name || !g->account)
		return GH_ENOMEM;
	return 0;
}

static int get_one(struct gh_store *st, const char *sql, const struct gh_db_val *p,
		   struct gh_gateway *ret)
{
	struct gw_rows rows = { 0 };
	int r = gh_store_q(st, sql, p, 1, take_gw, &rows, NULL, NULL);
	if (r == 0 && rows.n == 0)
		r = GH_ENOENT;
	if (r == 0) {
		*ret = rows.v[0];
		rows.v[0] = (struct gh_gateway){ 0 };
	}
	gh_gateways_free(rows.v, rows.n);
	return r;
}

int gh_store_gateway_add(struct gh_store *st, const char *name, int64_t asset_id,
			 const char *account, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(name), DB_INT(asset_id), DB_TEXT(account),
				 DB_INT(gh_now()) };
	return gh_store_q(st, "INSERT INTO gateways (name, asset_id, account, created_at) "
			      "VALUES (?, ?, ?, ?)", p, 4, NULL, NULL, ret_id, NULL);
}

int gh_store_gateway_get(struct gh_store *st, const char *name, struct gh_gateway *ret)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return get_one(st, GW_COLS "WHERE g.name = ?", p, ret);
}

int gh_store_gateway_get_by_id(struct gh_store *st, int64_t id, struct gh_gateway *ret)
{
	struct gh_db_val p[] = { DB_INT(id) };
	return get_one(st, GW_COLS "WHERE g.id = ?", p, ret);
}

int gh_store_gateway_list(struct gh_store *st, struct gh_gateway **ret, size_t *ret_n)
{
	struct gw_rows rows = { 0 };
	int r = gh_store_q(st, GW_COLS "ORDER BY g.name", NULL, 0, take_gw, &rows, NULL, NULL);
	if (r < 0) {
		gh_gateways_free(rows.v, rows.n);
		return r;
	}
	*ret = rows.v;
	*ret_n = rows.n;
	return 0;
}

int gh_store_gateway_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	int64_t users = 0;
	int changes = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "SELECT COUNT(*) FROM asset_routes r JOIN gateways g "
			   "ON g.id = r.gateway_id WHERE g.name = ?", p, 1, gh_store_take_int, &users,
		       NULL, NULL);
	if (r == 0 && users > 0)
		r = GH_EBUSY;
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM gateways WHERE name = ?", p, 1, NULL, NULL, NULL,
			       &changes);
	if (r == 0 && changes == 0)
		r = GH_ENOENT;
	return gh_store_tx_end(st, r);
}

int gh_store_asset_gateway(struct gh_store *st, int64_t asset_id, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(asset_id) };
	int64_t id = 0;
	int r = gh_store_q(st, "SELECT gateway_id FROM asset_routes WHERE asset_id = ?", p, 1,
			   gh_store_take_int, &id, NULL, NULL);
	if (r == 0)
		*ret_id = id;
	return r;
}

/* The gateway chain starting at gateway GW_ID, innermost first, into V
 * (at most GH_ROUTE_MAX_HOPS). GH_EINVAL when it reaches asset AVOID (a
 * cycle through it; 0: none) or itself, or is too long. */
static int walk(struct gh_store *st, int64_t gw_id, int64_t avoid, struct gh_gateway *v,
		size_t *ret_n)
{
	size_t n = 0;
	int r = 0;
	while (gw_id && r == 0) {
		if (n == GH_ROUTE_MAX_HOPS)
			return GH_EINVAL;
		r = gh_store_gateway_get_by_id(st, gw_id, &v[n]);
		if (r < 0)
			break;
		int64_t a = v[n++].asset_id;
		for (size_t i = 0; i + 1 < n; i++)
			if (v[i].asset_id == a)
				r = GH_EINVAL;
		if (a == avoid)
			r = GH_EINVAL;
		if (r == 0)
			r = gh_store_asset_gateway(st, a, &gw_id);
	}
	*ret_n = n;
	return r;
}

int gh_store_route(struct gh_store *st, int64_t asset_id, struct gh_gateway **ret,
		   size_t *ret_n)
{
	struct gh_gateway *v = calloc(GH_ROUTE_MAX_HOPS, sizeof *v);
	int64_t gw = 0;
	size_t n = 0;
	if (!v)
		return GH_ENOMEM;
	int r = gh_store_asset_gateway(st, asset_id, &gw);
	if (r == 0)
		r = walk(st, gw, asset_id, v, &n);
	if (r < 0) {
		gh_gateways_free(v, n);
		return r;
	}
	for (size_t i = 0; i < n / 2; i++) { /* outermost first */
		struct gh_gateway t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int gh_store_asset_set_gateway(struct gh_store *st, int64_t asset_id, int64_t gateway_id)
{
	struct gh_gateway v[GH_ROUTE_MAX_HOPS];
	size_t n = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	memset(v, 0, sizeof v);
	if (gateway_id) {
		r = walk(st, gateway_id, asset_id, v, &n);
		for (size_t i = 0; i < n; i++)
			gh_gateway_free(&v[i]);
	}
	struct gh_db_val p[] = { DB_INT(asset_id), DB_INT(gateway_id) };
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM asset_routes WHERE asset_id = ?", p, 1, NULL, NULL,
			       NULL, NULL);
	if (r == 0 && gateway_id) /* a gateway replaces a jumpoint (store/jumpoint.h) */
		r = gh_store_q(st, "DELETE FROM asset_jumpoints WHERE asset_id = ?", p, 1, NULL,
			       NULL, NULL, NULL);
	if (r == 0 && gateway_id)
		r = gh_store_q(st, "INSERT INTO asset_routes (asset_id, gateway_id) VALUES (?, ?)",
			       p, 2, NULL, NULL, NULL, NULL);
	return gh_store_tx_end(st, r);
}
