/* The store: model <-> portable SQL through a gh_db_driver. */
#include "store/store.h"
#include "core/config.h"
#include "core/error.h"
#include "core/util.h"
#include "store/db.h"
#include "store/priv.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/cluster.h"
#include "store/cmdstore.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct gh_store {
	const struct gh_db_driver *drv;
	void *conn;
	int busy_ms;
	int schema_version;
	char *node; /* node_name: written on the sessions this process opens */
};

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define BUSY_RETRIES 100

/* ---- small helpers ---------------------------------------------------- */

static void busy_backoff(int attempt)
{
	/* 5..55 ms, jittered so competing processes spread out */
	usleep((useconds_t)(5000 + (randombytes_uniform(10000)) + attempt * 500));
}

/* One statement, retried while the database is busy. */
static int q(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n,
	     gh_db_row_fn fn, void *ud, int64_t *ret_id, int *ret_changes)
{
	int r;
	for (int i = 0;; i++) {
		r = st->drv->exec(st->conn, sql, p, n, fn, ud, ret_id, ret_changes);
		if (r != GH_EBUSY || i >= BUSY_RETRIES)
			return r;
		busy_backoff(i);
	}
}

static int tx_begin(struct gh_store *st)
{
	int r;
	for (int i = 0;; i++) {
		r = st->drv->begin_write(st->conn);
		if (r != GH_EBUSY || i >= BUSY_RETRIES)
			return r;
		busy_backoff(i);
	}
}

/* Commit when R is 0, roll back otherwise; returns the final status. */
static int tx_end(struct gh_store *st, int r)
{
	if (r < 0) {
		st->drv->rollback(st->conn);
		return r;
	}
	for (int i = 0;; i++) {
		r = st->drv->commit(st->conn);
		if (r != GH_EBUSY || i >= BUSY_RETRIES)
			break;
		busy_backoff(i);
	}
	if (r < 0)
		st->drv->rollback(st->conn);
	return r;
}

static char *col_str(const struct gh_db_val *c)
{
	if (c->type == GH_DB_TEXT)
		return strndup(c->s, c->n);
	if (c->type == GH_DB_INT) {
		char *s = NULL;
		return asprintf(&s, "%lld", (long long)c->i) < 0 ? NULL : s;
	}
	return NULL;
}

static int64_t col_int(const struct gh_db_val *c)
{
	return c->type == GH_DB_INT ? c->i : 0;
}

static uint8_t *col_blob(const struct gh_db_val *c, size_t *ret_len)
{
	if (c->type != GH_DB_BLOB && c->type != GH_DB_TEXT)
		return NULL;
	const void *src = c->type == GH_DB_BLOB ? c->b : (const void *)c->s;
	uint8_t *p = malloc(c->n ? c->n : 1);
	if (!p)
		return NULL;
	memcpy(p, src, c->n);
	*ret_len = c->n;
	return p;
}

/* Generic growable array collector: each row is decoded into an element. */
struct collect {
	void *items;
	size_t n, cap, size;
	int (*decode)(const struct gh_db_val *cols, int ncols, void *out);
};

static int collect_row(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct collect *c = ud;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *ni = realloc(c->items, ncap * c->size);
		if (!ni)
			return GH_ENOMEM;
		c->items = ni;
		c->cap = ncap;
	}
	void *slot = (char *)c->items + c->n * c->size;
	memset(slot, 0, c->size);
	int r = c->decode(cols, ncols, slot);
	if (r < 0)
		return r;
	c->n++;
	return 0;
}

static int one_id(void *ud, const struct gh_db_val *cols, int ncols)
{
	*(int64_t *)ud = col_int(&cols[0]);
	return 0;
}

int gh_store_one_int(void *ud, const struct gh_db_val *cols, int ncols)
{
	return one_id(ud, cols, ncols);
}

static int one_str(void *ud, const struct gh_db_val *cols, int ncols)
{
	char **out = ud;
	free(*out);
	*out = col_str(&cols[0]);
	return *out || cols[0].type == GH_DB_NULL ? 0 : GH_ENOMEM;
}

/* ---- open / migrate ------------------------------------------------------ */

static int migrate(struct gh_store *st)
{
	int64_t version = 0;
	int r = tx_begin(st);
	if (r < 0)
		return r;
	r = st->drv->exec_script(st->conn,
				 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (r == 0)
		r = q(st, "SELECT version FROM schema_version", NULL, 0, one_id, &version, NULL, NULL);
	for (size_t v = (size_t)version + 1; r == 0 && v <= gh_migrations_count(); v++) {
		r = st->drv->exec_script(st->conn, gh_migration_sql(v));
		if (r == 0) {
			struct gh_db_val p[] = { DB_INT(v) };
			r = q(st, version == 0 && v == 1 ? "INSERT INTO schema_version (version) VALUES (?)"
							 : "UPDATE schema_version SET version = ?",
			      p, 1, NULL, NULL, NULL, NULL);
			version = (int64_t)v;
		}
	}
	r = tx_end(st, r);
	if (r == 0)
		st->schema_version = (int)version;
	return r;
}

int gh_store_open_sqlite(const char *path, int busy_ms, struct gh_store **ret)
{
	struct gh_store *st = calloc(1, sizeof *st);
	int r;
	if (!st)
		return GH_ENOMEM;
	if (sodium_init() < 0) {
		free(st);
		return GH_ECRYPTO;
	}
	st->drv = &gh_db_sqlite;
	st->busy_ms = busy_ms;
	r = st->drv->open(path, busy_ms, &st->conn);
	if (r < 0) {
		free(st);
		return r;
	}
	r = migrate(st);
	if (r < 0) {
		gh_store_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

int gh_store_open_pg(const char *url, const char *password, int busy_ms, struct gh_store **ret)
{
	struct gh_store *st = calloc(1, sizeof *st);
	int r;
	if (!st)
		return GH_ENOMEM;
	if (sodium_init() < 0) {
		free(st);
		return GH_ECRYPTO;
	}
	st->drv = &gh_db_pg;
	st->busy_ms = busy_ms;
	r = gh_pg_connect(url, password, busy_ms, &st->conn);
	if (r < 0) {
		free(st);
		return r;
	}
	r = migrate(st);
	if (r < 0) {
		gh_store_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

int gh_store_open(const struct gh_config *cfg, struct gh_store **ret)
{
	struct gh_store *st = NULL;
	int r;
	if (!strcmp(cfg->database, "postgresql"))
		r = gh_store_open_pg(cfg->database_url, cfg->database_password,
				     cfg->store_busy_timeout_ms, &st);
	else if (!strcmp(cfg->database, "sqlite"))
		r = gh_store_open_sqlite(cfg->database_path, cfg->store_busy_timeout_ms, &st);
	else
		r = GH_EINVAL;
	if (r == 0 && cfg->node_name && *cfg->node_name && !(st->node = strdup(cfg->node_name)))
		r = GH_ENOMEM;
	if (r < 0) {
		gh_store_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

const char *gh_store_node(struct gh_store *st)
{
	return st->node ? st->node : "";
}

bool gh_store_is_pg(struct gh_store *st)
{
	return st->drv == &gh_db_pg;
}

int gh_store_backup(struct gh_store *st, const char *dest)
{
	if (!st->drv->backup)
		return GH_EINVAL;
	return st->drv->backup(st->conn, dest);
}

struct gh_store *gh_store_close(struct gh_store *st)
{
	if (!st)
		return NULL;
	if (st->conn)
		st->drv->close(st->conn);
	free(st->node);
	free(st);
	return NULL;
}

struct gh_store *gh_store_forget(struct gh_store *st)
{
	if (!st)
		return NULL;
	if (st->conn)
		st->drv->forget(st->conn);
	free(st->node);
	free(st);
	return NULL;
}

int gh_store_schema_version(struct gh_store *st)
{
	return st->schema_version;
}

const char *gh_store_errmsg(struct gh_store *st)
{
	return st->drv->errmsg(st->conn);
}

int gh_store_meta_get(struct gh_store *st, const char *key, char **ret)
{
	char *v = NULL;
	struct gh_db_val p[] = { DB_TEXT(key) };
	int r = q(st, "SELECT value FROM meta WHERE key = ?", p, 1, one_str, &v, NULL, NULL);
	if (r < 0)
		return r;
	if (!v)
		return GH_ENOENT;
	*ret = v;
	return 0;
}

int gh_store_meta_set(struct gh_store *st, const char *key, const char *value)
{
	struct gh_db_val p[] = { DB_TEXT(key), DB_TEXT(value) };
	int r = tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val k[] = { DB_TEXT(key) };
	r = q(st, "DELETE FROM meta WHERE key = ?", k, 1, NULL, NULL, NULL, NULL);
	if (r == 0)
		r = q(st, "INSERT INTO meta (key, value) VALUES (?, ?)", p, 2, NULL, NULL, NULL, NULL);
	return tx_end(st, r);
}

/* Run an UPDATE/DELETE; GH_ENOENT when it touched nothing. */
static int q_change(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n)
{
	int changes = 0;
	int r = q(st, sql, p, n, NULL, NULL, NULL, &changes);
	if (r < 0)
		return r;
	return changes > 0 ? 0 : GH_ENOENT;
}

/* ---- users ---------------------------------------------------------------- */

#define USER_COLS "id, name, role, password_hash, totp_sealed, disabled, created_at, source"

static int decode_user(const struct gh_db_val *c, int n, void *out)
{
	struct gh_user *u = out;
	u->id = col_int(&c[0]);
	u->name = col_str(&c[1]);
	u->role = (int)col_int(&c[2]);
	u->password_hash = col_str(&c[3]);
	u->totp_sealed = col_blob(&c[4], &u->totp_sealed_len);
	u->disabled = col_int(&c[5]) != 0;
	u->created_at = col_int(&c[6]);
	u->ldap = n > 7 && c[7].type == GH_DB_TEXT && c[7].s && !strcmp(c[7].s, "ldap");
	return u->name ? 0 : GH_ENOMEM;
}

/* Fetch exactly one row into *RET (SIZE bytes) or GH_ENOENT. */
static int get_one(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n,
		   int (*decode)(const struct gh_db_val *, int, void *), size_t size, void *ret,
		   void (*free_one)(void *))
{
	struct collect c = { .size = size, .decode = decode };
	int r = q(st, sql, p, n, collect_row, &c, NULL, NULL);
	if (r == 0 && c.n == 0)
		r = GH_ENOENT;
	if (r == 0)
		memcpy(ret, c.items, size);
	for (size_t i = r == 0 ? 1 : 0; i < c.n; i++)
		free_one((char *)c.items + i * size);
	free(c.items);
	return r;
}

static int list_all(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n,
		    int (*decode)(const struct gh_db_val *, int, void *), size_t size,
		    void **ret, size_t *ret_n, void (*free_one)(void *))
{
	struct collect c = { .size = size, .decode = decode };
	int r = q(st, sql, p, n, collect_row, &c, NULL, NULL);
	if (r < 0) {
		for (size_t i = 0; i < c.n; i++)
			free_one((char *)c.items + i * size);
		free(c.items);
		return r;
	}
	*ret = c.items;
	*ret_n = c.n;
	return 0;
}

#define FREE_FN(f) ((void (*)(void *))(f))

int gh_store_user_add(struct gh_store *st, const char *name, int role,
		      const char *password_hash, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(name), DB_INT(role), DB_TEXT(password_hash), DB_INT(gh_now()) };
	int64_t id = 0;
	int r = q(st, "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
		  p, NP(p), NULL, NULL, &id, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int gh_store_user_get(struct gh_store *st, const char *name, struct gh_user *ret)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return get_one(st, "SELECT " USER_COLS " FROM users WHERE name = ?", p, 1, decode_user,
		       sizeof *ret, ret, FREE_FN(gh_user_free));
}

int gh_store_user_get_by_id(struct gh_store *st, int64_t id, struct gh_user *ret)
{
	struct gh_db_val p[] = { DB_INT(id) };
	return get_one(st, "SELECT " USER_COLS " FROM users WHERE id = ?", p, 1, decode_user,
		       sizeof *ret, ret, FREE_FN(gh_user_free));
}

int gh_store_user_list(struct gh_store *st, struct gh_user **ret, size_t *ret_n)
{
	return list_all(st, "SELECT " USER_COLS " FROM users ORDER BY name", NULL, 0, decode_user,
			sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_user_free));
}

int gh_store_user_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	int r = tx_begin(st);
	if (r < 0)
		return r;
	r = q_change(st, "DELETE FROM users WHERE name = ?", p, 1);
	if (r == 0)
		r = gh_store_cmdfilter_forget(st, GH_CFREF_USER, name);
	return tx_end(st, r);
}

int gh_store_user_set_password(struct gh_store *st, int64_t id, const char *password_hash)
{
	struct gh_db_val p[] = { DB_TEXT(password_hash), DB_INT(id) };
	return q_change(st, "UPDATE users SET password_hash = ? WHERE id = ?", p, 2);
}

int gh_store_user_set_disabled(struct gh_store *st, int64_t id, bool disabled)
{
	struct gh_db_val p[] = { DB_INT(disabled ? 1 : 0), DB_INT(id) };
	return q_change(st, "UPDATE users SET disabled = ? WHERE id = ?", p, 2);
}

int gh_store_user_set_role(struct gh_store *st, int64_t id, int role)
{
	struct gh_db_val p[] = { DB_INT(role), DB_INT(id) };
	return q_change(st, "UPDATE users SET role = ? WHERE id = ?", p, 2);
}

int gh_store_user_set_totp(struct gh_store *st, int64_t id, const uint8_t *sealed, size_t len)
{
	struct gh_db_val p[] = { DB_BLOB(sealed, len), DB_INT(id) };
	return q_change(st, "UPDATE users SET totp_sealed = ? WHERE id = ?", p, 2);
}

/* ---- user keys ------------------------------------------------------------ */

static int decode_key(const struct gh_db_val *c, int n, void *out)
{
	struct gh_user_key *k = out;
	k->id = col_int(&c[0]);
	k->user_id = col_int(&c[1]);
	k->type = col_str(&c[2]);
	k->base64 = col_str(&c[3]);
	k->comment = col_str(&c[4]);
	k->fingerprint = col_str(&c[5]);
	k->created_at = col_int(&c[6]);
	return k->type && k->base64 && k->fingerprint ? 0 : GH_ENOMEM;
}

int gh_store_key_add(struct gh_store *st, const struct gh_user_key *k, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(k->user_id), DB_TEXT(k->type), DB_TEXT(k->base64),
				 DB_TEXT(k->comment), DB_TEXT(k->fingerprint), DB_INT(gh_now()) };
	int64_t id = 0;
	int r = q(st, "INSERT INTO user_keys (user_id, key_type, key_base64, comment, fingerprint,"
		      " created_at) VALUES (?, ?, ?, ?, ?, ?)",
		  p, NP(p), NULL, NULL, &id, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int gh_store_key_list(struct gh_store *st, int64_t user_id, struct gh_user_key **ret, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(user_id) };
	return list_all(st, "SELECT id, user_id, key_type, key_base64, comment, fingerprint, created_at"
			    " FROM user_keys WHERE user_id = ? ORDER BY id",
			p, 1, decode_key, sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_user_key_free));
}

int gh_store_key_del(struct gh_store *st, int64_t user_id, const char *fingerprint)
{
	struct gh_db_val p[] = { DB_INT(user_id), DB_TEXT(fingerprint) };
	return q_change(st, "DELETE FROM user_keys WHERE user_id = ? AND fingerprint = ?", p, 2);
}

/* ---- groups --------------------------------------------------------------- */

static int decode_group(const struct gh_db_val *c, int n, void *out)
{
	struct gh_group *g = out;
	g->id = col_int(&c[0]);
	g->name = col_str(&c[1]);
	g->created_at = col_int(&c[2]);
	return g->name ? 0 : GH_ENOMEM;
}

int gh_store_group_add(struct gh_store *st, const char *name, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(name), DB_INT(gh_now()) };
	int64_t id = 0;
	int r = q(st, "INSERT INTO user_groups (name, created_at) VALUES (?, ?)", p, 2, NULL, NULL,
		  &id, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int gh_store_group_get(struct gh_store *st, const char *name, struct gh_group *ret)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return get_one(st, "SELECT id, name, created_at FROM user_groups WHERE name = ?", p, 1,
		       decode_group, sizeof *ret, ret, FREE_FN(gh_group_free));
}

int gh_store_group_list(struct gh_store *st, struct gh_group **ret, size_t *ret_n)
{
	return list_all(st, "SELECT id, name, created_at FROM user_groups ORDER BY name", NULL, 0,
			decode_group, sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_group_free));
}

int gh_store_group_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	int r = tx_begin(st);
	if (r < 0)
		return r;
	r = q_change(st, "DELETE FROM user_groups WHERE name = ?", p, 1);
	if (r == 0)
		r = gh_store_cmdfilter_forget(st, GH_CFREF_UGROUP, name);
	return tx_end(st, r);
}

int gh_store_group_member_add(struct gh_store *st, int64_t group_id, int64_t user_id)
{
	struct gh_db_val p[] = { DB_INT(group_id), DB_INT(user_id) };
	return q(st, "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", p, 2, NULL, NULL,
		 NULL, NULL);
}

int gh_store_group_member_del(struct gh_store *st, int64_t group_id, int64_t user_id)
{
	struct gh_db_val p[] = { DB_INT(group_id), DB_INT(user_id) };
	return q_change(st, "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", p, 2);
}

int gh_store_group_members(struct gh_store *st, int64_t group_id, struct gh_user **ret, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(group_id) };
	return list_all(st, "SELECT u.id, u.name, u.role, NULL, NULL, u.disabled, u.created_at, u.source"
			    " FROM users u JOIN group_members m ON m.user_id = u.id"
			    " WHERE m.group_id = ? ORDER BY u.name",
			p, 1, decode_user, sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_user_free));
}

static int decode_id(const struct gh_db_val *c, int n, void *out)
{
	*(int64_t *)out = col_int(&c[0]);
	return 0;
}

static void free_nothing(void *p) { (void)p; }

int gh_store_user_groups(struct gh_store *st, int64_t user_id, int64_t **ret_ids, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(user_id) };
	return list_all(st, "SELECT group_id FROM group_members WHERE user_id = ? ORDER BY group_id",
			p, 1, decode_id, sizeof **ret_ids, (void **)ret_ids, ret_n, free_nothing);
}

/* ---- nodes ---------------------------------------------------------------- */

int gh_node_path_normalize(const char *in, char **ret)
{
	if (!in || in[0] != '/')
		return GH_EINVAL;
	size_t len = strlen(in);
	if (len > 1024)
		return GH_EINVAL;
	char *out = malloc(len + 2);
	size_t o = 0;
	if (!out)
		return GH_ENOMEM;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		/* segment: printable, no control chars, not . or .. */
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			free(out);
			return GH_EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				free(out);
				return GH_EINVAL;
			}
		}
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*ret = out;
	return 0;
}

static int decode_node(const struct gh_db_val *c, int n, void *out)
{
	struct gh_node *nd = out;
	nd->id = col_int(&c[0]);
	nd->path = col_str(&c[1]);
	return nd->path ? 0 : GH_ENOMEM;
}

int gh_store_node_add(struct gh_store *st, const char *path, int64_t *ret_id)
{
	char *norm = NULL;
	int64_t id = 0;
	int r = gh_node_path_normalize(path, &norm);
	if (r < 0)
		return r;
	r = tx_begin(st);
	if (r < 0) {
		free(norm);
		return r;
	}
	/* create each prefix; the last one must be new */
	size_t len = strlen(norm);
	for (size_t i = 1; r == 0 && i <= len; i++) {
		if (i != len && norm[i] != '/')
			continue;
		char save = norm[i];
		norm[i] = '\0';
		struct gh_db_val p[] = { DB_TEXT(norm) };
		int64_t existing = 0;
		r = q(st, "SELECT id FROM nodes WHERE path = ?", p, 1, one_id, &existing, NULL, NULL);
		if (r == 0 && existing && i == len)
			r = GH_EEXIST;
		else if (r == 0 && !existing)
			r = q(st, "INSERT INTO nodes (path) VALUES (?)", p, 1, NULL, NULL, &id, NULL);
		else
			id = existing;
		norm[i] = save;
	}
	r = tx_end(st, r);
	free(norm);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int gh_store_node_get(struct gh_store *st, const char *path, struct gh_node *ret)
{
	char *norm = NULL;
	int r = gh_node_path_normalize(path, &norm);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_TEXT(norm) };
	r = get_one(st, "SELECT id, path FROM nodes WHERE path = ?", p, 1, decode_node, sizeof *ret,
		    ret, FREE_FN(gh_node_free));
	free(norm);
	return r;
}

int gh_store_node_list(struct gh_store *st, struct gh_node **ret, size_t *ret_n)
{
	return list_all(st, "SELECT id, path FROM nodes ORDER BY path", NULL, 0, decode_node,
			sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_node_free));
}

int gh_store_node_del(struct gh_store *st, const char *path)
{
	struct gh_node nd = { 0 };
	int64_t count = 0;
	int r = gh_store_node_get(st, path, &nd);
	if (r < 0)
		return r;
	r = tx_begin(st);
	if (r == 0) {
		char *like = NULL;
		if (asprintf(&like, "%s/%%", strcmp(nd.path, "/") ? nd.path : "") < 0)
			r = GH_ENOMEM;
		struct gh_db_val p[] = { DB_TEXT(like), DB_INT(nd.id) };
		if (r == 0)
			r = q(st, "SELECT (SELECT COUNT(*) FROM nodes WHERE path LIKE ?) +"
				  " (SELECT COUNT(*) FROM asset_nodes WHERE node_id = ?)",
			      p, 2, one_id, &count, NULL, NULL);
		free(like);
		if (r == 0 && count > 0)
			r = GH_EBUSY;
		struct gh_db_val d[] = { DB_INT(nd.id) };
		if (r == 0)
			r = q(st, "DELETE FROM nodes WHERE id = ?", d, 1, NULL, NULL, NULL, NULL);
		r = tx_end(st, r);
	}
	gh_node_free(&nd);
	return r;
}

/* ---- assets --------------------------------------------------------------- */

#define ASSET_COLS "id, name, address, port, platform, protocols, comment, host_key, created_at"

static int decode_asset(const struct gh_db_val *c, int n, void *out)
{
	struct gh_asset *a = out;
	a->id = col_int(&c[0]);
	a->name = col_str(&c[1]);
	a->address = col_str(&c[2]);
	a->port = (int)col_int(&c[3]);
	a->platform = col_str(&c[4]);
	a->protocols = (uint32_t)col_int(&c[5]);
	a->comment = col_str(&c[6]);
	a->host_key = col_str(&c[7]);
	a->created_at = col_int(&c[8]);
	return a->name && a->address && a->platform ? 0 : GH_ENOMEM;
}

struct asset_nodes_ctx {
	struct gh_asset *assets;
	size_t n;
};

static struct gh_asset *find_asset(struct asset_nodes_ctx *c, int64_t id)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->assets[mid].id == id)
			return &c->assets[mid];
		if (c->assets[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int attach_node(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct gh_asset *a = find_asset(ud, col_int(&cols[0]));
	if (!a)
		return 0;
	char **nn = realloc(a->nodes, (a->n_nodes + 1) * sizeof *nn);
	if (!nn)
		return GH_ENOMEM;
	a->nodes = nn;
	if (!(a->nodes[a->n_nodes] = col_str(&cols[1])))
		return GH_ENOMEM;
	a->n_nodes++;
	return 0;
}

static int cmp_asset_id(const void *x, const void *y)
{
	const struct gh_asset *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

static int cmp_asset_name(const void *x, const void *y)
{
	const struct gh_asset *a = x, *b = y;
	return strcmp(a->name, b->name);
}

int gh_store_asset_add(struct gh_store *st, const struct gh_asset *a, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(a->name), DB_TEXT(a->address), DB_INT(a->port),
				 DB_TEXT(a->platform), DB_INT(a->protocols), DB_TEXT(a->comment),
				 DB_TEXT(a->host_key), DB_INT(gh_now()) };
	int64_t id = 0;
	int r = q(st, "INSERT INTO assets (name, address, port, platform, protocols, comment, host_key,"
		      " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		  p, NP(p), NULL, NULL, &id, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

static int asset_fill_nodes(struct gh_store *st, struct gh_asset *a)
{
	struct asset_nodes_ctx c = { a, 1 };
	struct gh_db_val p[] = { DB_INT(a->id) };
	return q(st, "SELECT an.asset_id, n.path FROM asset_nodes an JOIN nodes n ON n.id = an.node_id"
		     " WHERE an.asset_id = ? ORDER BY n.path",
		 p, 1, attach_node, &c, NULL, NULL);
}

static int asset_get_where(struct gh_store *st, const char *sql, struct gh_db_val *p,
			   struct gh_asset *ret)
{
	struct gh_asset a = { 0 };
	int r = get_one(st, sql, p, 1, decode_asset, sizeof a, &a, FREE_FN(gh_asset_free));
	if (r == 0)
		r = asset_fill_nodes(st, &a);
	if (r < 0) {
		gh_asset_free(&a);
		return r;
	}
	*ret = a;
	return 0;
}

int gh_store_asset_get(struct gh_store *st, const char *name, struct gh_asset *ret)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return asset_get_where(st, "SELECT " ASSET_COLS " FROM assets WHERE name = ?", p, ret);
}

int gh_store_asset_get_by_id(struct gh_store *st, int64_t id, struct gh_asset *ret)
{
	struct gh_db_val p[] = { DB_INT(id) };
	return asset_get_where(st, "SELECT " ASSET_COLS " FROM assets WHERE id = ?", p, ret);
}

int gh_store_asset_list(struct gh_store *st, struct gh_asset **ret, size_t *ret_n)
{
	struct gh_asset *v = NULL;
	size_t n = 0;
	int r = list_all(st, "SELECT " ASSET_COLS " FROM assets ORDER BY id", NULL, 0, decode_asset,
			 sizeof *v, (void **)&v, &n, FREE_FN(gh_asset_free));
	if (r < 0)
		return r;
	struct asset_nodes_ctx c = { v, n };
	r = q(st, "SELECT an.asset_id, n.path FROM asset_nodes an JOIN nodes n ON n.id = an.node_id"
		  " ORDER BY n.path",
	      NULL, 0, attach_node, &c, NULL, NULL);
	if (r < 0) {
		gh_assets_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_asset_name);
	(void)cmp_asset_id;
	*ret = v;
	*ret_n = n;
	return 0;
}

int gh_store_asset_page(struct gh_store *st, const char *after, int limit, struct gh_asset **ret,
			size_t *ret_n)
{
	struct gh_asset *v = NULL;
	size_t n = 0;
	struct gh_db_val p[] = { DB_TEXT(after ? after : ""), DB_INT(limit) };
	int r = list_all(st, "SELECT " ASSET_COLS " FROM (SELECT * FROM assets WHERE name > ?"
			     " ORDER BY name LIMIT ?) AS page ORDER BY id",
			 p, 2, decode_asset, sizeof *v, (void **)&v, &n, FREE_FN(gh_asset_free));
	if (r < 0)
		return r;
	struct asset_nodes_ctx c = { v, n };
	r = q(st, "SELECT an.asset_id, n.path FROM asset_nodes an JOIN nodes n ON n.id = an.node_id"
		  " WHERE an.asset_id IN (SELECT id FROM assets WHERE name > ? ORDER BY name LIMIT ?)"
		  " ORDER BY n.path",
	      p, 2, attach_node, &c, NULL, NULL);
	if (r < 0) {
		gh_assets_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_asset_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

int gh_store_asset_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return q_change(st, "DELETE FROM assets WHERE name = ?", p, 1);
}

int gh_store_asset_set_host_key(struct gh_store *st, int64_t id, const char *host_key)
{
	struct gh_db_val p[] = { DB_TEXT(host_key), DB_INT(id) };
	return q_change(st, "UPDATE assets SET host_key = ? WHERE id = ?", p, 2);
}

int gh_store_asset_node_add(struct gh_store *st, int64_t asset_id, int64_t node_id)
{
	struct gh_db_val p[] = { DB_INT(asset_id), DB_INT(node_id) };
	return q(st, "INSERT INTO asset_nodes (asset_id, node_id) VALUES (?, ?)", p, 2, NULL, NULL,
		 NULL, NULL);
}

struct pairs {
	int64_t *a, *b;
	size_t n, cap;
};

static int collect_pair(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct pairs *p = ud;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		int64_t *na = realloc(p->a, nc * sizeof *na);
		if (!na)
			return GH_ENOMEM;
		p->a = na;
		int64_t *nb = realloc(p->b, nc * sizeof *nb);
		if (!nb)
			return GH_ENOMEM;
		p->b = nb;
		p->cap = nc;
	}
	p->a[p->n] = col_int(&cols[0]);
	p->b[p->n] = col_int(&cols[1]);
	p->n++;
	return 0;
}

int gh_store_asset_node_pairs(struct gh_store *st, int64_t **ret_asset_ids,
			      int64_t **ret_node_ids, size_t *ret_n)
{
	struct pairs p = { 0 };
	int r = q(st, "SELECT asset_id, node_id FROM asset_nodes ORDER BY asset_id", NULL, 0,
		  collect_pair, &p, NULL, NULL);
	if (r < 0) {
		free(p.a);
		free(p.b);
		return r;
	}
	*ret_asset_ids = p.a;
	*ret_node_ids = p.b;
	*ret_n = p.n;
	return 0;
}

/* ---- accounts ------------------------------------------------------------- */

static int decode_account(const struct gh_db_val *c, int n, void *out)
{
	struct gh_account *a = out;
	a->id = col_int(&c[0]);
	a->asset_id = col_int(&c[1]);
	a->username = col_str(&c[2]);
	a->secret_kind = (int)col_int(&c[3]);
	a->sealed = col_blob(&c[4], &a->sealed_len);
	a->created_at = col_int(&c[5]);
	return a->username ? 0 : GH_ENOMEM;
}

#define ACCOUNT_COLS "id, asset_id, username, secret_kind, secret, created_at"

int gh_store_account_add(struct gh_store *st, const struct gh_account *a, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(a->asset_id), DB_TEXT(a->username), DB_INT(a->secret_kind),
				 DB_BLOB(a->sealed, a->sealed_len), DB_INT(gh_now()) };
	int64_t id = 0;
	int r = q(st, "INSERT INTO accounts (asset_id, username, secret_kind, secret, created_at)"
		      " VALUES (?, ?, ?, ?, ?)",
		  p, NP(p), NULL, NULL, &id, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int gh_store_account_get(struct gh_store *st, int64_t asset_id, const char *username,
			 struct gh_account *ret)
{
	struct gh_db_val p[] = { DB_INT(asset_id), DB_TEXT(username) };
	return get_one(st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE asset_id = ? AND username = ?",
		       p, 2, decode_account, sizeof *ret, ret, FREE_FN(gh_account_free));
}

int gh_store_account_list(struct gh_store *st, int64_t asset_id, struct gh_account **ret, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(asset_id) };
	return list_all(st, "SELECT " ACCOUNT_COLS " FROM accounts WHERE asset_id = ? ORDER BY username",
			p, 1, decode_account, sizeof **ret, (void **)ret, ret_n,
			FREE_FN(gh_account_free));
}

int gh_store_account_del(struct gh_store *st, int64_t asset_id, const char *username)
{
	struct gh_db_val p[] = { DB_INT(asset_id), DB_TEXT(username) };
	return q_change(st, "DELETE FROM accounts WHERE asset_id = ? AND username = ?", p, 2);
}

int gh_store_account_set_secret(struct gh_store *st, int64_t id, int kind,
				const uint8_t *sealed, size_t len)
{
	struct gh_db_val p[] = { DB_INT(kind), DB_BLOB(sealed, len), DB_INT(id) };
	return q_change(st, "UPDATE accounts SET secret_kind = ?, secret = ? WHERE id = ?", p, 3);
}

/* ---- permissions ---------------------------------------------------------- */

static int decode_perm(const struct gh_db_val *c, int n, void *out)
{
	struct gh_perm *p = out;
	p->id = col_int(&c[0]);
	p->name = col_str(&c[1]);
	p->actions = (uint32_t)col_int(&c[2]);
	p->protocols = (uint32_t)col_int(&c[3]);
	p->valid_from = col_int(&c[4]);
	p->valid_until = col_int(&c[5]);
	p->active = col_int(&c[6]) != 0;
	p->created_at = col_int(&c[7]);
	p->forward_ports = n > 8 ? col_str(&c[8]) : NULL;
	if (p->forward_ports && !*p->forward_ports) {
		free(p->forward_ports);
		p->forward_ports = NULL;
	}
	return p->name ? 0 : GH_ENOMEM;
}

#define PERM_COLS                                                                   \
	"id, name, actions, protocols, valid_from, valid_until, active, created_at, " \
	"forward_ports"

int gh_store_perm_add(struct gh_store *st, const struct gh_perm *pm, int64_t *ret_id)
{
	int64_t id = 0;
	int r = tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_TEXT(pm->name), DB_INT(pm->actions), DB_INT(pm->protocols),
				 DB_INT(pm->valid_from), DB_INT(pm->valid_until),
				 DB_INT(pm->active ? 1 : 0), DB_INT(gh_now()),
				 DB_TEXT(pm->forward_ports ? pm->forward_ports : "") };
	r = q(st, "INSERT INTO perms (name, actions, protocols, valid_from, valid_until, active,"
		  " created_at, forward_ports) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	      p, NP(p), NULL, NULL, &id, NULL);
	static const char *const sql[] = {
		"INSERT INTO perm_users (perm_id, user_id) VALUES (?, ?)",
		"INSERT INTO perm_groups (perm_id, group_id) VALUES (?, ?)",
		"INSERT INTO perm_assets (perm_id, asset_id) VALUES (?, ?)",
		"INSERT INTO perm_nodes (perm_id, node_id) VALUES (?, ?)",
	};
	const int64_t *lists[] = { pm->user_ids, pm->group_ids, pm->asset_ids, pm->node_ids };
	size_t counts[] = { pm->n_users, pm->n_groups, pm->n_assets, pm->n_nodes };
	for (int l = 0; l < 4 && r == 0; l++) {
		for (size_t i = 0; i < counts[l] && r == 0; i++) {
			struct gh_db_val c[] = { DB_INT(id), DB_INT(lists[l][i]) };
			r = q(st, sql[l], c, 2, NULL, NULL, NULL, NULL);
			if (r == GH_EEXIST) /* the same subject named twice */
				r = 0;
		}
	}
	for (size_t i = 0; i < pm->n_accounts && r == 0; i++) {
		struct gh_db_val c[] = { DB_INT(id), DB_TEXT(pm->accounts[i]) };
		r = q(st, "INSERT INTO perm_accounts (perm_id, username) VALUES (?, ?)", c, 2, NULL, NULL,
		      NULL, NULL);
		if (r == GH_EEXIST)
			r = 0;
	}
	if (r == 0 && pm->schedule && pm->schedule[0]) {
		struct gh_db_val c[] = { DB_INT(id), DB_TEXT(pm->schedule) };
		r = q(st, "INSERT INTO perm_schedules (perm_id, schedule) VALUES (?, ?)", c, 2, NULL,
		      NULL, NULL, NULL);
	}
	if (r == GH_EINVAL) /* foreign key: a referenced row vanished */
		r = GH_ENOENT;
	r = tx_end(st, r);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

/* Children of permissions, attached by perm id (perms sorted by id). */
struct perm_attach {
	struct gh_perm *perms;
	size_t n;
	int which; /* 0 users, 1 groups, 2 assets, 3 nodes, 4 accounts, 5 schedule */
};

static struct gh_perm *find_perm(struct perm_attach *c, int64_t id)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->perms[mid].id == id)
			return &c->perms[mid];
		if (c->perms[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int push_id(int64_t **v, size_t *n, int64_t id)
{
	int64_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return GH_ENOMEM;
	nv[(*n)++] = id;
	*v = nv;
	return 0;
}

static int attach_perm_child(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct perm_attach *c = ud;
	struct gh_perm *p = find_perm(c, col_int(&cols[0]));
	if (!p)
		return 0;
	switch (c->which) {
	case 0: return push_id(&p->user_ids, &p->n_users, col_int(&cols[1]));
	case 1: return push_id(&p->group_ids, &p->n_groups, col_int(&cols[1]));
	case 2: return push_id(&p->asset_ids, &p->n_assets, col_int(&cols[1]));
	case 3: return push_id(&p->node_ids, &p->n_nodes, col_int(&cols[1]));
	case 5:
		free(p->schedule);
		return (p->schedule = col_str(&cols[1])) ? 0 : GH_ENOMEM;
	default: {
		char **na = realloc(p->accounts, (p->n_accounts + 1) * sizeof *na);
		if (!na)
			return GH_ENOMEM;
		p->accounts = na;
		if (!(na[p->n_accounts] = col_str(&cols[1])))
			return GH_ENOMEM;
		p->n_accounts++;
		return 0;
	}
	}
}

static int perm_attach_all(struct gh_store *st, struct gh_perm *v, size_t n, const int64_t *only)
{
	static const char *const sql_all[] = {
		"SELECT perm_id, user_id FROM perm_users ORDER BY perm_id, user_id",
		"SELECT perm_id, group_id FROM perm_groups ORDER BY perm_id, group_id",
		"SELECT perm_id, asset_id FROM perm_assets ORDER BY perm_id, asset_id",
		"SELECT perm_id, node_id FROM perm_nodes ORDER BY perm_id, node_id",
		"SELECT perm_id, username FROM perm_accounts ORDER BY perm_id, username",
		"SELECT perm_id, schedule FROM perm_schedules ORDER BY perm_id",
	};
	static const char *const sql_one[] = {
		"SELECT perm_id, user_id FROM perm_users WHERE perm_id = ? ORDER BY user_id",
		"SELECT perm_id, group_id FROM perm_groups WHERE perm_id = ? ORDER BY group_id",
		"SELECT perm_id, asset_id FROM perm_assets WHERE perm_id = ? ORDER BY asset_id",
		"SELECT perm_id, node_id FROM perm_nodes WHERE perm_id = ? ORDER BY node_id",
		"SELECT perm_id, username FROM perm_accounts WHERE perm_id = ? ORDER BY username",
		"SELECT perm_id, schedule FROM perm_schedules WHERE perm_id = ?",
	};
	int r = 0;
	for (int w = 0; w < 6 && r == 0; w++) {
		struct perm_attach c = { v, n, w };
		struct gh_db_val p[] = { DB_INT(only ? *only : 0) };
		r = q(st, only ? sql_one[w] : sql_all[w], p, only ? 1 : 0, attach_perm_child, &c, NULL,
		      NULL);
	}
	return r;
}

int gh_store_perm_get(struct gh_store *st, const char *name, struct gh_perm *ret)
{
	struct gh_perm p = { 0 };
	struct gh_db_val a[] = { DB_TEXT(name) };
	int r = get_one(st, "SELECT " PERM_COLS " FROM perms WHERE name = ?", a, 1, decode_perm,
			sizeof p, &p, FREE_FN(gh_perm_free));
	if (r == 0)
		r = perm_attach_all(st, &p, 1, &p.id);
	if (r < 0) {
		gh_perm_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

static int cmp_perm_name(const void *x, const void *y)
{
	return strcmp(((const struct gh_perm *)x)->name, ((const struct gh_perm *)y)->name);
}

int gh_store_perm_list(struct gh_store *st, struct gh_perm **ret, size_t *ret_n)
{
	struct gh_perm *v = NULL;
	size_t n = 0;
	int r = list_all(st, "SELECT " PERM_COLS " FROM perms ORDER BY id", NULL, 0, decode_perm,
			 sizeof *v, (void **)&v, &n, FREE_FN(gh_perm_free));
	if (r < 0)
		return r;
	r = perm_attach_all(st, v, n, NULL);
	if (r < 0) {
		gh_perms_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_perm_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

int gh_store_perm_del(struct gh_store *st, const char *name)
{
	struct gh_db_val p[] = { DB_TEXT(name) };
	return q_change(st, "DELETE FROM perms WHERE name = ?", p, 1);
}

int gh_store_perm_set_active(struct gh_store *st, int64_t id, bool active)
{
	struct gh_db_val p[] = { DB_INT(active ? 1 : 0), DB_INT(id) };
	return q_change(st, "UPDATE perms SET active = ? WHERE id = ?", p, 2);
}

/* ---- sessions ------------------------------------------------------------- */

void gh_session_id_new(char *buf)
{
	unsigned char raw[16];
	if (sodium_init() < 0)
		abort();
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(buf, 33, raw, sizeof raw);
}

#define SESSION_COLS                                                                     \
	"id, user_id, user_name, source_addr, source_port, asset_id, asset_name, account,"     \
	" protocol, kind, started_at, ended_at, exit_status, exit_signal, bytes_in, bytes_out," \
	" recording_path, close_reason, worker_pid, node"

static int decode_session(const struct gh_db_val *c, int n, void *out)
{
	struct gh_session *s = out;
	s->id = col_str(&c[0]);
	s->user_id = col_int(&c[1]);
	s->user_name = col_str(&c[2]);
	s->source_addr = col_str(&c[3]);
	s->source_port = (int)col_int(&c[4]);
	s->asset_id = col_int(&c[5]);
	s->asset_name = col_str(&c[6]);
	s->account = col_str(&c[7]);
	s->protocol = col_str(&c[8]);
	s->kind = col_str(&c[9]);
	s->started_at = col_int(&c[10]);
	s->ended_at = col_int(&c[11]);
	s->exit_status = (int)col_int(&c[12]);
	s->exit_signal = col_str(&c[13]);
	s->bytes_in = col_int(&c[14]);
	s->bytes_out = col_int(&c[15]);
	s->recording_path = col_str(&c[16]);
	s->close_reason = col_str(&c[17]);
	s->worker_pid = (int)col_int(&c[18]);
	s->node = col_str(&c[19]);
	return s->id && s->user_name ? 0 : GH_ENOMEM;
}

int gh_store_session_open(struct gh_store *st, const struct gh_session *s)
{
	struct gh_db_val p[] = { DB_TEXT(s->id), DB_INT(s->user_id), DB_TEXT(s->user_name),
				 DB_TEXT(s->source_addr), DB_INT(s->source_port), DB_INT(s->asset_id),
				 DB_TEXT(s->asset_name), DB_TEXT(s->account), DB_TEXT(s->protocol),
				 DB_TEXT(s->kind), DB_INT(s->started_at ? s->started_at : gh_now()),
				 DB_TEXT(s->recording_path), DB_INT(s->worker_pid),
				 DB_TEXT(gh_store_node(st)) };
	return q(st, "INSERT INTO sessions (id, user_id, user_name, source_addr, source_port, asset_id,"
		     " asset_name, account, protocol, kind, started_at, recording_path, worker_pid, node)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 p, NP(p), NULL, NULL, NULL, NULL);
}

int gh_store_session_update_target(struct gh_store *st, const struct gh_session *s)
{
	struct gh_db_val p[] = { DB_INT(s->asset_id), DB_TEXT(s->asset_name), DB_TEXT(s->account),
				 DB_TEXT(s->protocol), DB_TEXT(s->kind), DB_TEXT(s->recording_path),
				 DB_TEXT(s->id) };
	return q_change(st, "UPDATE sessions SET asset_id = ?, asset_name = ?, account = ?, protocol = ?,"
			    " kind = ?, recording_path = ? WHERE id = ?",
			p, NP(p));
}

int gh_store_session_close(struct gh_store *st, const char *id, int exit_status,
			   const char *exit_signal, int64_t bytes_in, int64_t bytes_out,
			   const char *close_reason)
{
	struct gh_db_val p[] = { DB_INT(gh_now()), DB_INT(exit_status), DB_TEXT(exit_signal),
				 DB_INT(bytes_in), DB_INT(bytes_out), DB_TEXT(close_reason), DB_TEXT(id) };
	return q_change(st, "UPDATE sessions SET ended_at = ?, exit_status = ?, exit_signal = ?,"
			    " bytes_in = ?, bytes_out = ?, close_reason = ? WHERE id = ? AND ended_at = 0",
			p, NP(p));
}

int gh_store_session_get(struct gh_store *st, const char *id, struct gh_session *ret)
{
	struct gh_db_val p[] = { DB_TEXT(id) };
	return get_one(st, "SELECT " SESSION_COLS " FROM sessions WHERE id = ?", p, 1, decode_session,
		       sizeof *ret, ret, FREE_FN(gh_session_free));
}

int gh_store_session_list(struct gh_store *st, bool active_only, int limit,
			  struct gh_session **ret, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(limit > 0 ? limit : 1000000) };
	return list_all(st, active_only
				? "SELECT " SESSION_COLS " FROM sessions WHERE ended_at = 0"
				  " ORDER BY started_at DESC, id LIMIT ?"
				: "SELECT " SESSION_COLS " FROM sessions ORDER BY started_at DESC, id LIMIT ?",
			p, 1, decode_session, sizeof **ret, (void **)ret, ret_n,
			FREE_FN(gh_session_free));
}

int gh_store_session_list_worker(struct gh_store *st, int pid, struct gh_session **ret,
				 size_t *ret_n)
{
	/* a shared store: another node's pids mean nothing here */
	bool shared = gh_store_is_pg(st);
	struct gh_db_val p[] = { DB_INT(pid), DB_TEXT(gh_store_node(st)) };
	return list_all(st,
			shared ? "SELECT " SESSION_COLS " FROM sessions WHERE ended_at = 0 AND"
				 " worker_pid = ? AND (node = ? OR node = '') ORDER BY started_at, id"
			       : "SELECT " SESSION_COLS " FROM sessions WHERE ended_at = 0 AND"
				 " worker_pid = ? ORDER BY started_at, id",
			p, shared ? 2 : 1, decode_session, sizeof **ret, (void **)ret, ret_n,
			FREE_FN(gh_session_free));
}

/* cluster.h */
int gh_store_session_list_node(struct gh_store *st, const char *node, struct gh_session **ret,
			       size_t *ret_n)
{
	struct gh_db_val p[] = { DB_TEXT(node) };
	return list_all(st, "SELECT " SESSION_COLS " FROM sessions WHERE ended_at = 0 AND node = ?"
			    " ORDER BY started_at, id",
			p, 1, decode_session, sizeof **ret, (void **)ret, ret_n,
			FREE_FN(gh_session_free));
}

/* ---- events: the chain's rows (audit/chain.c computes the chain) ----------- */

#define EVENT_COLS                                                                   \
	"id, ts, kind, user_name, source, session_id, asset_name, account, method, result," \
	" reason, detail, prev_hash, hash"

static int decode_event(const struct gh_db_val *c, int n, void *out)
{
	struct gh_event *e = out;
	e->id = col_int(&c[0]);
	e->ts = col_int(&c[1]);
	e->kind = col_str(&c[2]);
	e->user_name = col_str(&c[3]);
	e->source = col_str(&c[4]);
	e->session_id = col_str(&c[5]);
	e->asset_name = col_str(&c[6]);
	e->account = col_str(&c[7]);
	e->method = col_str(&c[8]);
	e->result = col_str(&c[9]);
	e->reason = col_str(&c[10]);
	e->detail = col_str(&c[11]);
	e->prev_hash = col_str(&c[12]);
	e->hash = col_str(&c[13]);
	return e->kind && e->prev_hash && e->hash ? 0 : GH_ENOMEM;
}

static int tip_set(struct gh_store *st, int64_t id, const char *hash);

int gh_store_event_append(struct gh_store *st, const struct gh_event *e, const char *genesis,
			  gh_store_event_hash_fn hash_fn)
{
	char *prev = NULL;
	int64_t last_id = 0;
	char hash[65];
	if (!e || !genesis || !hash_fn)
		return GH_EINVAL;
	int64_t ts = e->ts ? e->ts : gh_now();
	int r = tx_begin(st);
	if (r < 0)
		return r;
	r = q(st, "SELECT hash FROM events ORDER BY id DESC LIMIT 1", NULL, 0, one_str, &prev, NULL,
	      NULL);
	if (r == 0)
		r = q(st, "SELECT COALESCE(MAX(id), 0) FROM events", NULL, 0, one_id, &last_id, NULL, NULL);
	if (r == 0) {
		const char *ph = prev ? prev : genesis;
		int64_t id = last_id + 1;
		const char *hp = hash;
		hash_fn(e, id, ts, ph, hash);
		struct gh_db_val p[] = { DB_INT(id), DB_INT(ts), DB_TEXT(e->kind), DB_TEXT(e->user_name),
					 DB_TEXT(e->source), DB_TEXT(e->session_id),
					 DB_TEXT(e->asset_name), DB_TEXT(e->account), DB_TEXT(e->method),
					 DB_TEXT(e->result), DB_TEXT(e->reason), DB_TEXT(e->detail),
					 DB_TEXT(ph), DB_TEXT(hp) };
		r = q(st, "INSERT INTO events (" EVENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		      p, NP(p), NULL, NULL, NULL, NULL);
		if (r == 0)
			r = tip_set(st, id, hash);
	}
	free(prev);
	return tx_end(st, r);
}

int gh_store_event_list(struct gh_store *st, const char *kind, int limit,
			struct gh_event **ret, size_t *ret_n)
{
	struct gh_db_val p[] = { DB_TEXT(kind), DB_INT(limit > 0 ? limit : 1000000) };
	if (kind)
		return list_all(st, "SELECT " EVENT_COLS " FROM events WHERE kind = ? ORDER BY id DESC LIMIT ?",
				p, 2, decode_event, sizeof **ret, (void **)ret, ret_n,
				FREE_FN(gh_event_free));
	return list_all(st, "SELECT " EVENT_COLS " FROM events ORDER BY id DESC LIMIT ?", p + 1, 1,
			decode_event, sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_event_free));
}

/* ---- audit: chain tip, tailing, queries, digests -------------------------- */

static int tip_set(struct gh_store *st, int64_t id, const char *hash)
{
	char buf[96];
	const char *v = buf;
	int changes = 0;
	snprintf(buf, sizeof buf, "%lld:%s", (long long)id, hash);
	struct gh_db_val p[] = { DB_TEXT(v) };
	int r = q(st, "UPDATE meta SET value = ? WHERE key = 'audit_tip'", p, 1, NULL, NULL, NULL,
		  &changes);
	if (r == 0 && changes == 0)
		r = q(st, "INSERT INTO meta (key, value) VALUES ('audit_tip', ?)", p, 1, NULL, NULL,
		      NULL, NULL);
	return r;
}

int gh_store_event_tip(struct gh_store *st, int64_t *ret_id, char ret_hash[65])
{
	char *v = NULL;
	int r = gh_store_meta_get(st, "audit_tip", &v);
	if (r < 0)
		return r;
	char *colon = strchr(v, ':');
	long long id = 0;
	if (!colon || strlen(colon + 1) != 64 || sscanf(v, "%lld:", &id) != 1 || id < 0) {
		free(v);
		return GH_EINVAL;
	}
	*ret_id = id;
	memcpy(ret_hash, colon + 1, 65);
	free(v);
	return 0;
}

struct each_ctx {
	gh_store_event_fn fn;
	void *ud;
};

static int each_row(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct each_ctx *c = ud;
	struct gh_event e = { 0 };
	int r = decode_event(cols, ncols, &e);
	if (r == 0)
		r = c->fn(c->ud, &e);
	gh_event_free(&e);
	return r;
}

int gh_store_event_each(struct gh_store *st, gh_store_event_fn fn, void *ud)
{
	struct each_ctx c = { fn, ud };
	return q(st, "SELECT " EVENT_COLS " FROM events ORDER BY id", NULL, 0, each_row, &c, NULL,
		 NULL);
}

int gh_store_event_after(struct gh_store *st, int64_t after_id, int limit, struct gh_event **ret,
			 size_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(after_id), DB_INT(limit > 0 ? limit : 1000000000) };
	return list_all(st, "SELECT " EVENT_COLS " FROM events WHERE id > ? ORDER BY id LIMIT ?", p,
			NP(p), decode_event, sizeof **ret, (void **)ret, ret_n, FREE_FN(gh_event_free));
}

int gh_store_event_each_kind(struct gh_store *st, const char *kind, gh_store_event_fn fn, void *ud)
{
	struct each_ctx c = { fn, ud };
	struct gh_db_val p[] = { DB_TEXT(kind) };
	return q(st, "SELECT " EVENT_COLS " FROM events WHERE kind = ? ORDER BY id", p, NP(p),
		 each_row, &c, NULL, NULL);
}

/* One kind (or none): every index is (kind, X, ts) with the id implied
 * last, so "ORDER BY ts DESC, id DESC LIMIT n" reads only the rows returned. */
static int event_query_one(struct gh_store *st, const struct gh_event_filter *f, const char *kind,
			   struct gh_event **ret, size_t *ret_n)
{
	char sql[1024];
	struct gh_db_val p[8];
	int n = 0;
	size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT " EVENT_COLS " FROM events WHERE 1 = 1");
	if (kind) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND kind = ?");
		p[n++] = DB_TEXT(kind);
	}
	if (f->since) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND ts >= ?");
		p[n++] = DB_INT(f->since);
	}
	if (f->until) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND ts < ?");
		p[n++] = DB_INT(f->until);
	}
	if (f->user) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND user_name = ?");
		p[n++] = DB_TEXT(f->user);
	}
	if (f->asset) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND asset_name = ?");
		p[n++] = DB_TEXT(f->asset);
	}
	if (f->session_id) {
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND session_id = ?");
		p[n++] = DB_TEXT(f->session_id);
	}
	snprintf(sql + len, sizeof sql - len, " ORDER BY ts DESC, id DESC LIMIT ?");
	p[n++] = DB_INT(f->limit > 0 ? f->limit : 1000000000);
	return list_all(st, sql, p, n, decode_event, sizeof **ret, (void **)ret, ret_n,
			FREE_FN(gh_event_free));
}

static int cmp_event_newest(const void *x, const void *y)
{
	const struct gh_event *a = x, *b = y;
	if (a->ts != b->ts)
		return a->ts > b->ts ? -1 : 1;
	return a->id > b->id ? -1 : a->id < b->id;
}

int gh_store_event_query(struct gh_store *st, const struct gh_event_filter *f,
			 struct gh_event **ret, size_t *ret_n)
{
	if (f->n_kinds > 8)
		return GH_EINVAL;
	if (f->n_kinds <= 1)
		return event_query_one(st, f, f->n_kinds ? f->kinds[0] : NULL, ret, ret_n);
	/* several kinds: each one's newest LIMIT, merged (an IN list would sort
	 * every row of those kinds) */
	struct gh_event *all = NULL;
	size_t n = 0;
	int r = 0;
	for (size_t k = 0; r == 0 && k < f->n_kinds; k++) {
		struct gh_event *v = NULL;
		size_t m = 0;
		r = event_query_one(st, f, f->kinds[k], &v, &m);
		if (r == 0 && m) {
			struct gh_event *na = realloc(all, (n + m) * sizeof *na);
			if (!na) {
				gh_events_free(v, m);
				r = GH_ENOMEM;
				break;
			}
			all = na;
			memcpy(all + n, v, m * sizeof *v);
			n += m;
			free(v);
		}
	}
	if (r < 0) {
		gh_events_free(all, n);
		return r;
	}
	if (n > 1)
		qsort(all, n, sizeof *all, cmp_event_newest);
	size_t keep = f->limit > 0 && n > (size_t)f->limit ? (size_t)f->limit : n;
	for (size_t i = keep; i < n; i++)
		gh_event_free(&all[i]);
	*ret = all;
	*ret_n = keep;
	return 0;
}

int gh_store_session_set_recording_sha256(struct gh_store *st, const char *id, const char *hex)
{
	struct gh_db_val p[] = { DB_TEXT(hex), DB_TEXT(id) };
	return q_change(st, "UPDATE sessions SET recording_sha256 = ? WHERE id = ?", p, NP(p));
}

int gh_store_session_forget_recording(struct gh_store *st, const char *id)
{
	struct gh_db_val p[] = { DB_TEXT(id) };
	return q_change(st, "UPDATE sessions SET recording_path = NULL WHERE id = ? AND ended_at != 0",
			p, NP(p));
}

struct rec_ctx {
	gh_store_recording_fn fn;
	void *ud;
};

static int rec_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct rec_ctx *x = ud;
	struct gh_recording_row row = { 0 };
	char *id = col_str(&c[0]), *path = col_str(&c[1]), *sha = col_str(&c[2]);
	int r = GH_ENOMEM;
	if (id && (path || c[1].type == GH_DB_NULL) && (sha || c[2].type == GH_DB_NULL)) {
		row.session_id = id;
		row.path = path;
		row.sha256 = sha;
		row.started_at = col_int(&c[3]);
		row.ended_at = col_int(&c[4]);
		row.worker_pid = (int)col_int(&c[5]);
		row.user_name = col_str(&c[6]);
		row.asset_name = col_str(&c[7]);
		r = x->fn(x->ud, &row);
		free(row.user_name);
		free(row.asset_name);
	}
	free(id);
	free(path);
	free(sha);
	return r;
}

int gh_store_recordings_each(struct gh_store *st, int64_t started_before, gh_store_recording_fn fn,
			     void *ud)
{
	struct rec_ctx x = { fn, ud };
	struct gh_db_val p[] = { DB_INT(started_before > 0 ? started_before : INT64_MAX) };
	return q(st, "SELECT id, recording_path, recording_sha256, started_at, ended_at, worker_pid,"
		     " user_name, asset_name FROM sessions WHERE started_at < ?"
		     " ORDER BY started_at, id",
		 p, NP(p), rec_row, &x, NULL, NULL);
}

int gh_store_cursor_get(struct gh_store *st, const char *sink, int64_t *ret_last_id)
{
	int64_t v = -1;
	struct gh_db_val p[] = { DB_TEXT(sink) };
	int r = q(st, "SELECT last_id FROM audit_cursors WHERE sink = ?", p, 1, one_id, &v, NULL,
		  NULL);
	if (r < 0)
		return r;
	if (v < 0)
		return GH_ENOENT;
	*ret_last_id = v;
	return 0;
}

int gh_store_cursor_set(struct gh_store *st, const char *sink, int64_t last_id)
{
	int changes = 0;
	struct gh_db_val p[] = { DB_INT(last_id), DB_INT(gh_now()), DB_TEXT(sink) };
	int r = q(st, "UPDATE audit_cursors SET last_id = ?, updated_at = ? WHERE sink = ?", p, NP(p),
		  NULL, NULL, NULL, &changes);
	if (r == 0 && changes == 0)
		r = q(st, "INSERT INTO audit_cursors (last_id, updated_at, sink) VALUES (?, ?, ?)", p,
		      NP(p), NULL, NULL, NULL, NULL);
	return r;
}

/* ---- user locks (live operations) ------------------------------------------ */

int gh_store_user_lock(struct gh_store *st, int64_t user_id, bool locked)
{
	struct gh_db_val p[] = { DB_INT(user_id), DB_INT(gh_now()) };
	if (locked)
		return q(st, "INSERT INTO user_locks (user_id, locked_at) VALUES (?, ?) ON CONFLICT DO NOTHING", p,
			 2, NULL, NULL, NULL, NULL);
	return q(st, "DELETE FROM user_locks WHERE user_id = ?", p, 1, NULL, NULL, NULL, NULL);
}

int gh_store_user_locked(struct gh_store *st, int64_t user_id)
{
	int64_t count = 0;
	struct gh_db_val p[] = { DB_INT(user_id) };
	int r = q(st, "SELECT COUNT(*) FROM user_locks WHERE user_id = ?", p, 1, one_id, &count,
		  NULL, NULL);
	return r < 0 ? r : count > 0;
}

/* ---- for the store's other files (store/priv.h) ------------------------------ */

int gh_store_q(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n,
	       gh_db_row_fn fn, void *ud, int64_t *ret_id, int *ret_changes)
{
	return q(st, sql, p, n, fn, ud, ret_id, ret_changes);
}

int gh_store_tx_begin(struct gh_store *st)
{
	return tx_begin(st);
}

int gh_store_tx_end(struct gh_store *st, int r)
{
	return tx_end(st, r);
}

char *gh_store_col_str(const struct gh_db_val *c)
{
	return col_str(c);
}

int64_t gh_store_col_int(const struct gh_db_val *c)
{
	return col_int(c);
}

int gh_store_take_int(void *ud, const struct gh_db_val *c, int n)
{
	*(int64_t *)ud = col_int(&c[0]);
	return 0;
}
