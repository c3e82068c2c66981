/* Jumpoint rows (see jumpoint.h). */
#include "store/jumpoint.h"
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void gh_jumpoint_free(struct gh_jumpoint *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_nodes; i++) {
		free(j->nodes[i].host);
		free(j->nodes[i].version);
	}
	free(j->nodes);
	free(j->name);
	free(j->comment);
	memset(j, 0, sizeof *j);
}

void gh_jumpoints_free(struct gh_jumpoint *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_jumpoint_free(&v[i]);
	free(v);
}

struct jp_rows {
	struct gh_jumpoint *v;
	size_t n, cap;
};

static int take_jp(void *ud, const struct gh_db_val *c, int n)
{
	struct jp_rows *rows = ud;
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 8;
		struct gh_jumpoint *v = realloc(rows->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	struct gh_jumpoint *j = &rows->v[rows->n++];
	memset(j, 0, sizeof *j);
	j->id = gh_store_col_int(&c[0]);
	j->name = gh_store_col_str(&c[1]);
	j->clustered = gh_store_col_int(&c[2]) != 0;
	j->comment = gh_store_col_str(&c[3]);
	j->disabled = gh_store_col_int(&c[4]) != 0;
	j->created_at = gh_store_col_int(&c[5]);
	return j->name && j->comment ? 0 : GH_ENOMEM;
}

static int take_node(void *ud, const struct gh_db_val *c, int n)
{
	struct gh_jumpoint *j = ud;
	struct gh_jumpoint_node *v = realloc(j->nodes, (j->n_nodes + 1) * sizeof *v);
	if (!v)
		return GH_ENOMEM;
	j->nodes = v;
	struct gh_jumpoint_node *d = &v[j->n_nodes++];
	memset(d, 0, sizeof *d);
	d->id = gh_store_col_int(&c[0]);
	d->registered = gh_store_col_int(&c[1]) != 0;
	d->token_expires = gh_store_col_int(&c[2]);
	d->host = gh_store_col_str(&c[3]);
	d->version = gh_store_col_str(&c[4]);
	d->connected = gh_store_col_int(&c[5]) != 0;
	d->connected_since = gh_store_col_int(&c[6]);
	d->last_seen = gh_store_col_int(&c[7]);
	d->sessions = gh_store_col_int(&c[8]);
	return d->host && d->version ? 0 : GH_ENOMEM;
}

static int load_nodes(struct gh_store *st, struct gh_jumpoint *j)
{
	struct gh_db_val p[] = { DB_INT(j->id) };
	return gh_store_q(st, "SELECT id, pubkey IS NOT NULL, token_expires, host, version, "
			      "connected, connected_since, last_seen, sessions FROM jumpoint_nodes "
			      "WHERE jumpoint_id = ? ORDER BY id", p, 1, take_node, j, NULL, NULL);
}

#define JP_COLS "SELECT id, name, clustered, comment, disabled, created_at FROM jumpoints "

int gh_store_jumpoint_add(struct gh_store *st, const char *name, bool clustered,
			  const char *comment, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(name), DB_INT(clustered), DB_TEXT(comment ? comment : ""),
				 DB_INT(gh_now()) };
	return gh_store_q(st, "INSERT INTO jumpoints (name, clustered, comment, created_at) "
			      "VALUES (?, ?, ?, ?)", p, 4, NULL, NULL, ret_id, NULL);
}

static int list_where(struct gh_store *st, const char *sql, const struct gh_db_val *p, int np,
		      struct gh_jumpoint **ret, size_t *ret_n)
{
	struct jp_rows rows = { 0 };
	int r = gh_store_q(st, sql, p, np, take_jp, &rows, NULL, NULL);
	for (size_t i = 0; r == 0 && i < rows.n; i++)
		r = load_nodes(st, &rows.v[i]);
	if (r < 0) {
		gh_jumpoints_free(rows.v, rows.n);
		return r;
	}
	*ret = rows.v;
	*ret_n = rows.n;
	return 0;
}

int gh_store_jumpoint_get(struct gh_store *st, const char *name, struct gh_jumpoint *ret)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	struct gh_jumpoint *v = NULL;
	size_t n = 0;
	int r = list_where(st, JP_COLS "WHERE name = ?", p, 1, &v, &n);
	if (r == 0 && n == 0)
		r = GH_ENOENT;
	if (r == 0) {
		*ret = v[0];
		v[0] = (struct gh_jumpoint){ 0 };
	}
	gh_jumpoints_free(v, n);
	return r;
}

int gh_store_jumpoint_list(struct gh_store *st, struct gh_jumpoint **ret, size_t *ret_n)
{
	return list_where(st, JP_COLS "ORDER BY name", NULL, 0, ret, ret_n);
}

int gh_store_jumpoint_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	int64_t users = 0;
	int changes = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "SELECT COUNT(*) FROM asset_jumpoints a JOIN jumpoints j "
			   "ON j.id = a.jumpoint_id WHERE j.name = ?", p, 1, gh_store_take_int, &users,
		       NULL, NULL);
	if (r == 0 && users > 0)
		r = GH_EBUSY;
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM jumpoints WHERE name = ?", p, 1, NULL, NULL, NULL,
			       &changes);
	if (r == 0 && changes == 0)
		r = GH_ENOENT;
	return gh_store_tx_end(st, r);
}

int gh_store_jumpoint_set_disabled(struct gh_store *st, const char *name, bool disabled)
{
	struct gh_db_val p[] = { DB_INT(disabled), DB_TEXT(name) };
	int changes = 0;
	int r = gh_store_q(st, "UPDATE jumpoints SET disabled = ? WHERE name = ?", p, 2, NULL,
			   NULL, NULL, &changes);
	return r == 0 && changes == 0 ? GH_ENOENT : r;
}

int gh_store_jumpoint_node_add(struct gh_store *st, int64_t jp_id, bool clustered,
			       const char *token_hash, int64_t expires, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(jp_id), DB_TEXT(token_hash), DB_INT(expires),
				 DB_INT(gh_now()) };
	struct gh_db_val pe[] = { DB_INT(jp_id), DB_INT(gh_now()) };
	int64_t n = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "DELETE FROM jumpoint_nodes WHERE jumpoint_id = ? AND pubkey IS NULL "
			   "AND token_expires <= ?", pe, 2, NULL, NULL, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "SELECT COUNT(*) FROM jumpoint_nodes WHERE jumpoint_id = ?", p,
			       1, gh_store_take_int, &n, NULL, NULL);
	if (r == 0 && n >= (clustered ? GH_JUMPOINT_MAX_NODES : 1))
		r = GH_ELIMIT;
	if (r == 0)
		r = gh_store_q(st, "INSERT INTO jumpoint_nodes (jumpoint_id, token_hash, "
				   "token_expires, created_at) VALUES (?, ?, ?, ?)", p, 4, NULL, NULL,
			       ret_id, NULL);
	return gh_store_tx_end(st, r);
}

struct reg_row {
	int64_t node, jp;
};

static int take_reg(void *ud, const struct gh_db_val *c, int n)
{
	struct reg_row *rr = ud;
	rr->node = gh_store_col_int(&c[0]);
	rr->jp = gh_store_col_int(&c[1]);
	return 0;
}

int gh_store_jumpoint_register(struct gh_store *st, const char *token_hash, const char *pubkey,
			       int64_t now, int64_t *ret_node, int64_t *ret_jp)
{
	struct gh_db_val p[] = { DB_TEXT(token_hash), DB_INT(now) };
	struct reg_row rr = { 0 };
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "SELECT n.id, n.jumpoint_id FROM jumpoint_nodes n JOIN jumpoints j "
			   "ON j.id = n.jumpoint_id WHERE n.token_hash = ? AND n.pubkey IS NULL "
			   "AND n.token_expires > ? AND j.disabled = 0", p, 2, take_reg, &rr, NULL,
		       NULL);
	if (r == 0 && !rr.node)
		r = GH_ENOENT;
	struct gh_db_val pu[] = { DB_TEXT(pubkey), DB_INT(rr.node) };
	if (r == 0)
		r = gh_store_q(st, "UPDATE jumpoint_nodes SET pubkey = ?, token_hash = NULL, "
				   "token_expires = 0 WHERE id = ?", pu, 2, NULL, NULL, NULL, NULL);
	r = gh_store_tx_end(st, r);
	if (r == 0) {
		*ret_node = rr.node;
		*ret_jp = rr.jp;
	}
	return r;
}

int gh_store_asset_jumpoint(struct gh_store *st, int64_t asset_id, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(asset_id) };
	int64_t id = 0;
	int r = gh_store_q(st, "SELECT jumpoint_id FROM asset_jumpoints WHERE asset_id = ?", p, 1,
			   gh_store_take_int, &id, NULL, NULL);
	if (r == 0)
		*ret_id = id;
	return r;
}

int gh_store_asset_set_jumpoint(struct gh_store *st, int64_t asset_id, int64_t jp_id)
{
	struct gh_db_val p[] = { DB_INT(asset_id), DB_INT(jp_id) };
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "DELETE FROM asset_jumpoints WHERE asset_id = ?", p, 1, NULL, NULL,
		       NULL, NULL);
	if (r == 0 && jp_id)
		r = gh_store_q(st, "DELETE FROM asset_routes WHERE asset_id = ?", p, 1, NULL, NULL,
			       NULL, NULL);
	if (r == 0 && jp_id)
		r = gh_store_q(st, "INSERT INTO asset_jumpoints (asset_id, jumpoint_id) "
				   "VALUES (?, ?)", p, 2, NULL, NULL, NULL, NULL);
	return gh_store_tx_end(st, r);
}

int gh_store_jumpoint_node_by_key(struct gh_store *st, const char *pubkey, int64_t *ret_node)
{
	struct gh_db_val p[] = { DB_TEXT(pubkey) };
	int64_t id = 0;
	int r = gh_store_q(st, "SELECT n.id FROM jumpoint_nodes n JOIN jumpoints j ON j.id = "
			   "n.jumpoint_id WHERE n.pubkey = ? AND j.disabled = 0", p, 1,
			   gh_store_take_int, &id, NULL, NULL);
	if (r == 0 && !id)
		r = GH_ENOENT;
	if (r == 0)
		*ret_node = id;
	return r;
}

int gh_store_jumpoint_node_claim(struct gh_store *st, int64_t node, int64_t pid, const char *host,
				 const char *version, int64_t now)
{
	struct gh_db_val p[] = { DB_INT(pid), DB_INT(now), DB_TEXT(host), DB_TEXT(version),
				 DB_INT(node) };
	return gh_store_q(st, "UPDATE jumpoint_nodes SET connected = 1, conn_pid = ?1, "
			      "connected_since = ?2, last_seen = ?2, host = ?3, version = ?4 "
			      "WHERE id = ?5", p, 5, NULL, NULL, NULL, NULL);
}

int gh_store_jumpoint_node_beat(struct gh_store *st, int64_t node, int64_t pid, int64_t now)
{
	struct gh_db_val p[] = { DB_INT(now), DB_INT(node), DB_INT(pid) };
	int changes = 0;
	int r = gh_store_q(st, "UPDATE jumpoint_nodes SET last_seen = ? WHERE id = ? AND "
			   "conn_pid = ? AND connected = 1 AND jumpoint_id IN "
			   "(SELECT id FROM jumpoints WHERE disabled = 0)", p, 3, NULL, NULL, NULL,
			   &changes);
	return r == 0 && changes == 0 ? GH_ENOENT : r;
}

int gh_store_jumpoint_node_drop(struct gh_store *st, int64_t node, int64_t pid, int64_t now)
{
	struct gh_db_val p[] = { DB_INT(now), DB_INT(node), DB_INT(pid) };
	return gh_store_q(st, "UPDATE jumpoint_nodes SET connected = 0, conn_pid = 0, "
			      "sessions = 0, last_seen = ? WHERE id = ? AND conn_pid = ?", p, 3, NULL, NULL, NULL,
			  NULL);
}

struct id_rows {
	int64_t *v;
	size_t n, cap;
};

static int take_id(void *ud, const struct gh_db_val *c, int n)
{
	struct id_rows *rows = ud;
	(void)n;
	if (rows->n < rows->cap)
		rows->v[rows->n++] = gh_store_col_int(&c[0]);
	return 0;
}

int gh_store_jumpoint_connected(struct gh_store *st, int64_t jp_id, int64_t *ids, size_t cap,
				size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(jp_id) };
	struct id_rows rows = { .v = ids, .cap = cap };
	int r = gh_store_q(st, "SELECT n.id FROM jumpoint_nodes n JOIN jumpoints j ON j.id = "
			   "n.jumpoint_id WHERE n.jumpoint_id = ? AND n.connected = 1 AND "
			   "j.disabled = 0 ORDER BY n.id", p, 1, take_id, &rows, NULL, NULL);
	*ret_n = r == 0 ? rows.n : 0;
	return r;
}

int gh_store_jumpoint_node_held(struct gh_store *st, int64_t node, int64_t pid, bool *ret)
{
	struct gh_db_val p[] = { DB_INT(node), DB_INT(pid) };
	int64_t c = 0;
	int r = gh_store_q(st, "SELECT connected FROM jumpoint_nodes WHERE id = ? AND "
			   "conn_pid = ?", p, 2,
			   gh_store_take_int, &c, NULL, NULL);
	*ret = r == 0 && c != 0;
	return r;
}

struct dest_text {
	char *buf;
	size_t len, cap;
	int r;
};

static int take_dest(void *ud, const struct gh_db_val *c, int n)
{
	struct dest_text *d = ud;
	(void)n;
	const char *host = c[0].s;
	int64_t port = gh_store_col_int(&c[1]);
	if (!host || !*host || strcspn(host, " \t\r\n") != strlen(host) || port < 1 || port > 65535)
		return 0; /* never pushed: not a destination */
	int k = snprintf(d->buf + d->len, d->cap - d->len, "%s %lld\n", host, (long long)port);
	if (k < 0 || (size_t)k >= d->cap - d->len) {
		d->r = GH_ELIMIT;
		return 0;
	}
	d->len += (size_t)k;
	return 0;
}

int gh_store_jumpoint_node_dests(struct gh_store *st, int64_t node, char *buf, size_t cap)
{
	struct gh_db_val p[] = { DB_INT(node) };
	struct dest_text d = { .buf = buf, .cap = cap };
	if (cap == 0)
		return GH_EINVAL;
	buf[0] = '\0';
	int r = gh_store_q(st, "SELECT DISTINCT a.address, a.port FROM assets a JOIN "
			   "asset_jumpoints aj ON aj.asset_id = a.id JOIN jumpoint_nodes n ON "
			   "n.jumpoint_id = aj.jumpoint_id WHERE n.id = ? ORDER BY a.address, "
			   "a.port", p, 1, take_dest, &d, NULL, NULL);
	return r < 0 ? r : d.r;
}

static int take_name(void *ud, const struct gh_db_val *c, int n)
{
	struct dest_text *d = ud;
	(void)n;
	int k = snprintf(d->buf, d->cap, "%s", c[0].s ? c[0].s : "");
	d->r = k < 0 || (size_t)k >= d->cap ? GH_ELIMIT : 0;
	return 0;
}

int gh_store_jumpoint_name(struct gh_store *st, int64_t jp_id, char *buf, size_t cap)
{
	struct gh_db_val p[] = { DB_INT(jp_id) };
	struct dest_text d = { .buf = buf, .cap = cap, .r = GH_ENOENT };
	int r = gh_store_q(st, "SELECT name FROM jumpoints WHERE id = ?", p, 1, take_name, &d,
			   NULL, NULL);
	return r < 0 ? r : d.r;
}

int gh_store_jumpoint_node_sessions(struct gh_store *st, int64_t node, int64_t pid, int64_t n)
{
	struct gh_db_val p[] = { DB_INT(n), DB_INT(node), DB_INT(pid) };
	return gh_store_q(st, "UPDATE jumpoint_nodes SET sessions = ? WHERE id = ? AND "
			      "conn_pid = ?", p, 3, NULL, NULL, NULL, NULL);
}
