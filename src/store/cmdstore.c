/* Command groups, command filters and command reviews (see cmdstore.h). */
#include "store/cmdstore.h"
#include "core/error.h"
#include "core/util.h"
#include "store/db.h"
#include "store/priv.h"

#include <stdlib.h>
#include <string.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char *col_str(const struct gh_db_val *c)
{
	return c->type == GH_DB_TEXT ? strndup(c->s, c->n) : NULL;
}

static int64_t col_int(const struct gh_db_val *c)
{
	return c->type == GH_DB_INT ? c->i : 0;
}

/* Append a string to a growable array. */
static int push_str(char ***v, size_t *n, const struct gh_db_val *c)
{
	char **nv = realloc(*v, (*n + 1) * sizeof **v);
	if (!nv)
		return GH_ENOMEM;
	*v = nv;
	nv[*n] = col_str(c);
	if (!nv[*n])
		return GH_ENOMEM;
	(*n)++;
	return 0;
}

/* Grow an array of SIZE-byte elements by one zeroed slot; returns it. */
static void *grow(void **v, size_t *n, size_t size)
{
	char *nv = realloc(*v, (*n + 1) * size);
	if (!nv)
		return NULL;
	*v = nv;
	memset(nv + *n * size, 0, size);
	return nv + (*n)++ * size;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void gh_cmdgroup_row_free(struct gh_cmdgroup_row *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->kind);
	strv_free(g->patterns, g->n);
	free(g->is_regex);
	memset(g, 0, sizeof *g);
}

void gh_cmdgroup_rows_free(struct gh_cmdgroup_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_cmdgroup_row_free(&v[i]);
	free(v);
}

void gh_cmdfilter_row_free(struct gh_cmdfilter_row *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->action);
	for (int k = 0; k < GH_CFREF_COUNT; k++)
		strv_free(f->refs[k], f->n_refs[k]);
	memset(f, 0, sizeof *f);
}

void gh_cmdfilter_rows_free(struct gh_cmdfilter_row *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_cmdfilter_row_free(&v[i]);
	free(v);
}

void gh_review_free(struct gh_review *r)
{
	if (!r)
		return;
	free(r->session_id);
	free(r->user_name);
	free(r->asset_name);
	free(r->account);
	free(r->command);
	free(r->filter_name);
	free(r->state);
	free(r->decided_by);
	memset(r, 0, sizeof *r);
}

void gh_reviews_free(struct gh_review *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_review_free(&v[i]);
	free(v);
}

static int one_id(void *ud, const struct gh_db_val *cols, int ncols)
{
	*(int64_t *)ud = col_int(&cols[0]);
	return 0;
}

/* ---- command groups --------------------------------------------------------- */

int gh_store_cmdgroup_add(struct gh_store *st, const struct gh_cmdgroup_row *g, int64_t *ret_id)
{
	int64_t id = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_TEXT(g->name), DB_INT(g->ignore_case ? 1 : 0), DB_INT(gh_now()),
				 DB_TEXT(g->kind ? g->kind : "shell") };
	r = gh_store_q(st, "INSERT INTO cmd_groups (name, ignore_case, created_at, kind)"
			   " VALUES (?, ?, ?, ?)",
		       p, NP(p), NULL, NULL, &id, NULL);
	for (size_t i = 0; r == 0 && i < g->n; i++) {
		struct gh_db_val e[] = { DB_INT(id), DB_INT(i), DB_INT(g->is_regex[i] ? 1 : 0),
					 DB_TEXT(g->patterns[i]) };
		r = gh_store_q(st, "INSERT INTO cmd_group_entries (group_id, pos, is_regex, pattern) "
				   "VALUES (?, ?, ?, ?)",
			       e, NP(e), NULL, NULL, NULL, NULL);
	}
	r = gh_store_tx_end(st, r);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

struct glist {
	struct gh_cmdgroup_row *v;
	size_t n;
};

static int group_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct glist *l = ud;
	struct gh_cmdgroup_row *g = grow((void **)&l->v, &l->n, sizeof *g);
	if (!g)
		return GH_ENOMEM;
	g->id = col_int(&c[0]);
	g->name = col_str(&c[1]);
	g->ignore_case = col_int(&c[2]) != 0;
	g->created_at = col_int(&c[3]);
	g->kind = col_str(&c[4]);
	return g->name && g->kind ? 0 : GH_ENOMEM;
}

static int entry_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct glist *l = ud;
	int64_t gid = col_int(&c[0]);
	for (size_t i = 0; i < l->n; i++) {
		struct gh_cmdgroup_row *g = &l->v[i];
		if (g->id != gid)
			continue;
		bool *nr = realloc(g->is_regex, (g->n + 1) * sizeof *nr);
		if (!nr)
			return GH_ENOMEM;
		g->is_regex = nr;
		nr[g->n] = col_int(&c[1]) != 0;
		return push_str(&g->patterns, &g->n, &c[2]);
	}
	return 0;
}

int gh_store_cmdgroup_list(struct gh_store *st, struct gh_cmdgroup_row **ret, size_t *ret_n)
{
	struct glist l = { 0 };
	int r = gh_store_q(st, "SELECT id, name, ignore_case, created_at, kind FROM cmd_groups"
			   " ORDER BY name",
			   NULL, 0, group_row, &l, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "SELECT group_id, is_regex, pattern FROM cmd_group_entries "
				   "ORDER BY group_id, pos",
			       NULL, 0, entry_row, &l, NULL, NULL);
	if (r < 0) {
		gh_cmdgroup_rows_free(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int gh_store_cmdgroup_del(struct gh_store *st, const char *name)
{
	int64_t used = 0;
	int changes = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_INT(GH_CFREF_CMDGROUP), DB_TEXT(name) };
	r = gh_store_q(st, "SELECT COUNT(*) FROM cmd_filter_refs WHERE kind = ? AND value = ?", p,
		       NP(p), one_id, &used, NULL, NULL);
	if (r == 0 && used > 0)
		r = GH_EBUSY;
	struct gh_db_val pn[] = { DB_TEXT(name) };
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM cmd_group_entries WHERE group_id IN "
				   "(SELECT id FROM cmd_groups WHERE name = ?)",
			       pn, NP(pn), NULL, NULL, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM cmd_groups WHERE name = ?", pn, NP(pn), NULL, NULL,
			       NULL, &changes);
	if (r == 0 && changes == 0)
		r = GH_ENOENT;
	return gh_store_tx_end(st, r);
}

/* ---- command filters -------------------------------------------------------- */

int gh_store_cmdfilter_add(struct gh_store *st, const struct gh_cmdfilter_row *f, int64_t *ret_id)
{
	int64_t id = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < f->n_refs[GH_CFREF_CMDGROUP]; i++) {
		int64_t gid = 0;
		struct gh_db_val p[] = { DB_TEXT(f->refs[GH_CFREF_CMDGROUP][i]) };
		r = gh_store_q(st, "SELECT id FROM cmd_groups WHERE name = ?", p, NP(p), one_id, &gid,
			       NULL, NULL);
		if (r == 0 && gid == 0)
			r = GH_ENOENT;
	}
	struct gh_db_val p[] = { DB_TEXT(f->name), DB_INT(f->priority), DB_TEXT(f->action),
				 DB_INT(gh_now()) };
	if (r == 0)
		r = gh_store_q(st, "INSERT INTO cmd_filters (name, priority, action, created_at) "
				   "VALUES (?, ?, ?, ?)",
			       p, NP(p), NULL, NULL, &id, NULL);
	for (int k = 0; r == 0 && k < GH_CFREF_COUNT; k++)
		for (size_t i = 0; r == 0 && i < f->n_refs[k]; i++) {
			struct gh_db_val e[] = { DB_INT(id), DB_INT(k), DB_TEXT(f->refs[k][i]) };
			r = gh_store_q(st, "INSERT INTO cmd_filter_refs (filter_id, kind, value) "
					   "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				       e, NP(e), NULL, NULL, NULL, NULL);
		}
	r = gh_store_tx_end(st, r);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

struct flist {
	struct gh_cmdfilter_row *v;
	size_t n;
};

static int filter_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct flist *l = ud;
	struct gh_cmdfilter_row *f = grow((void **)&l->v, &l->n, sizeof *f);
	if (!f)
		return GH_ENOMEM;
	f->id = col_int(&c[0]);
	f->name = col_str(&c[1]);
	f->priority = (int)col_int(&c[2]);
	f->action = col_str(&c[3]);
	f->created_at = col_int(&c[4]);
	return f->name && f->action ? 0 : GH_ENOMEM;
}

static int ref_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct flist *l = ud;
	int64_t fid = col_int(&c[0]), kind = col_int(&c[1]);
	if (kind < 0 || kind >= GH_CFREF_COUNT)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == fid)
			return push_str(&l->v[i].refs[kind], &l->v[i].n_refs[kind], &c[2]);
	return 0;
}

int gh_store_cmdfilter_list(struct gh_store *st, struct gh_cmdfilter_row **ret, size_t *ret_n)
{
	struct flist l = { 0 };
	int r = gh_store_q(st, "SELECT id, name, priority, action, created_at FROM cmd_filters "
			       "ORDER BY priority, name",
			   NULL, 0, filter_row, &l, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "SELECT filter_id, kind, value FROM cmd_filter_refs "
				   "ORDER BY filter_id, kind, value",
			       NULL, 0, ref_row, &l, NULL, NULL);
	if (r < 0) {
		gh_cmdfilter_rows_free(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

/* Inside the caller's transaction: drop the references of kind KIND
 * (GH_CFREF_USER or GH_CFREF_UGROUP) to NAME, which is being deleted, so a
 * user or group created later under that name inherits no filter. A filter
 * left naming no user and no group is deleted: it applied to no one left,
 * and with no names it would apply to everyone (its references go with it:
 * ON DELETE CASCADE). */
int gh_store_cmdfilter_forget(struct gh_store *st, int kind, const char *name)
{
	struct gh_db_val p[] = { DB_INT(kind), DB_TEXT(name), DB_INT(GH_CFREF_USER),
				 DB_INT(GH_CFREF_UGROUP), DB_INT(kind), DB_TEXT(name) };
	int r = gh_store_q(st, "DELETE FROM cmd_filters WHERE id IN (SELECT filter_id FROM "
			       "cmd_filter_refs WHERE kind = ? AND value = ?) AND NOT EXISTS ("
			       "SELECT 1 FROM cmd_filter_refs r WHERE r.filter_id = cmd_filters.id "
			       "AND r.kind IN (?, ?) AND NOT (r.kind = ? AND r.value = ?))",
			   p, NP(p), NULL, NULL, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM cmd_filter_refs WHERE kind = ? AND value = ?", p, 2,
			       NULL, NULL, NULL, NULL);
	return r;
}

int gh_store_cmdfilter_del(struct gh_store *st, const char *name)
{
	int changes = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_TEXT(name) };
	r = gh_store_q(st, "DELETE FROM cmd_filter_refs WHERE filter_id IN "
			   "(SELECT id FROM cmd_filters WHERE name = ?)",
		       p, NP(p), NULL, NULL, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "DELETE FROM cmd_filters WHERE name = ?", p, NP(p), NULL, NULL, NULL,
			       &changes);
	if (r == 0 && changes == 0)
		r = GH_ENOENT;
	return gh_store_tx_end(st, r);
}

/* ---- reviews ------------------------------------------------------------------ */

#define REVIEW_COLS                                                                    \
	"id, session_id, user_name, asset_name, account, command, filter_name, state, " \
	"decided_by, created_at, decided_at, expires_at"

int gh_store_review_add(struct gh_store *st, const struct gh_review *rv, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(rv->session_id), DB_TEXT(rv->user_name),
				 DB_TEXT(rv->asset_name), DB_TEXT(rv->account),
				 DB_TEXT(rv->command),    DB_TEXT(rv->filter_name),
				 DB_INT(rv->created_at ? rv->created_at : gh_now()),
				 DB_INT(rv->expires_at) };
	return gh_store_q(st, "INSERT INTO cmd_reviews (session_id, user_name, asset_name, account, "
			      "command, filter_name, state, created_at, expires_at) "
			      "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
			  p, NP(p), NULL, NULL, ret_id, NULL);
}

struct rlist {
	struct gh_review *v;
	size_t n;
};

static int review_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct rlist *l = ud;
	struct gh_review *rv = grow((void **)&l->v, &l->n, sizeof *rv);
	if (!rv)
		return GH_ENOMEM;
	rv->id = col_int(&c[0]);
	rv->session_id = col_str(&c[1]);
	rv->user_name = col_str(&c[2]);
	rv->asset_name = col_str(&c[3]);
	rv->account = col_str(&c[4]);
	rv->command = col_str(&c[5]);
	rv->filter_name = col_str(&c[6]);
	rv->state = col_str(&c[7]);
	rv->decided_by = col_str(&c[8]);
	rv->created_at = col_int(&c[9]);
	rv->decided_at = col_int(&c[10]);
	rv->expires_at = col_int(&c[11]);
	return rv->user_name && rv->command && rv->state ? 0 : GH_ENOMEM;
}

int gh_store_review_get(struct gh_store *st, int64_t id, struct gh_review *ret)
{
	struct rlist l = { 0 };
	struct gh_db_val p[] = { DB_INT(id) };
	int r = gh_store_q(st, "SELECT " REVIEW_COLS " FROM cmd_reviews WHERE id = ?", p, NP(p),
			   review_row, &l, NULL, NULL);
	if (r == 0 && l.n == 0)
		r = GH_ENOENT;
	if (r == 0) {
		*ret = l.v[0];
		l.n = 0;
	}
	gh_reviews_free(l.v, l.n);
	return r;
}

int gh_store_review_list(struct gh_store *st, bool pending_only, int limit,
			 struct gh_review **ret, size_t *ret_n)
{
	struct rlist l = { 0 };
	struct gh_db_val p[] = { DB_INT(limit > 0 ? limit : 1000000) };
	int r = gh_store_q(st,
			   pending_only ? "SELECT " REVIEW_COLS " FROM cmd_reviews WHERE state = "
					  "'pending' ORDER BY id DESC LIMIT ?"
					: "SELECT " REVIEW_COLS " FROM cmd_reviews ORDER BY id DESC LIMIT ?",
			   p, NP(p), review_row, &l, NULL, NULL);
	if (r < 0) {
		gh_reviews_free(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

static int state_row(void *ud, const struct gh_db_val *c, int ncols)
{
	struct gh_review *rv = ud;
	free(rv->state);
	rv->state = col_str(&c[0]);
	rv->expires_at = col_int(&c[1]);
	return rv->state ? 0 : GH_ENOMEM;
}

int gh_store_review_decide(struct gh_store *st, int64_t id, const char *state, const char *by)
{
	struct gh_review cur = { 0 };
	int64_t now = gh_now();
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_INT(id) };
	r = gh_store_q(st, "SELECT state, expires_at FROM cmd_reviews WHERE id = ?", p, NP(p),
		       state_row, &cur, NULL, NULL);
	if (r == 0 && !cur.state)
		r = GH_ENOENT;
	if (r == 0 && strcmp(cur.state, "pending"))
		r = GH_EBUSY;
	bool late = r == 0 && strcmp(state, "expired") && cur.expires_at && now > cur.expires_at;
	if (r == 0) {
		struct gh_db_val u[] = { DB_TEXT(late ? "expired" : state), DB_TEXT(late ? NULL : by),
					 DB_INT(now), DB_INT(id) };
		r = gh_store_q(st, "UPDATE cmd_reviews SET state = ?, decided_by = ?, decided_at = ? "
				   "WHERE id = ? AND state = 'pending'",
			       u, NP(u), NULL, NULL, NULL, NULL);
	}
	free(cur.state);
	r = gh_store_tx_end(st, r);
	return r == 0 && late ? GH_ETIMEDOUT : r;
}
