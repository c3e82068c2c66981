/* API tokens and web console sessions (see webstore.h). */
#include "store/webstore.h"
#include "core/error.h"
#include "store/priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define TOKEN_COLS                                                                         \
	"SELECT t.id, t.name, t.user_id, u.name, t.created_at, t.expires_at, t.last_used "   \
	"FROM api_tokens t JOIN users u ON u.id = t.user_id "

void gh_api_token_free(struct gh_api_token *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->user_name);
	memset(t, 0, sizeof *t);
}

void gh_api_tokens_free(struct gh_api_token *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_api_token_free(&v[i]);
	free(v);
}

struct token_rows {
	struct gh_api_token *v;
	size_t n;
};

static int token_row(void *ud, const struct gh_db_val *c, int nc)
{
	struct token_rows *tr = ud;
	struct gh_api_token *nv = realloc(tr->v, (tr->n + 1) * sizeof *nv);
	if (!nv)
		return GH_ENOMEM;
	tr->v = nv;
	struct gh_api_token *t = &nv[tr->n++];
	memset(t, 0, sizeof *t);
	t->id = gh_store_col_int(&c[0]);
	t->name = gh_store_col_str(&c[1]);
	t->user_id = gh_store_col_int(&c[2]);
	t->user_name = gh_store_col_str(&c[3]);
	t->created_at = gh_store_col_int(&c[4]);
	t->expires_at = gh_store_col_int(&c[5]);
	t->last_used = gh_store_col_int(&c[6]);
	return t->name && t->user_name ? 0 : GH_ENOMEM;
}

int gh_store_token_add(struct gh_store *st, const char *name, int64_t user_id, const char *hash,
		       int64_t expires_at, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(name), DB_INT(user_id), DB_TEXT(hash),
				 DB_INT(time(NULL)), DB_INT(expires_at) };
	return gh_store_q(st, "INSERT INTO api_tokens (name, user_id, hash, created_at, expires_at,"
			      " last_used) VALUES (?, ?, ?, ?, ?, 0)",
			  p, NP(p), NULL, NULL, ret_id, NULL);
}

int gh_store_token_list(struct gh_store *st, struct gh_api_token **ret, size_t *ret_n)
{
	struct token_rows tr = { 0 };
	int r = gh_store_q(st, TOKEN_COLS "ORDER BY t.name", NULL, 0, token_row, &tr, NULL, NULL);
	if (r < 0) {
		gh_api_tokens_free(tr.v, tr.n);
		return r;
	}
	*ret = tr.v;
	*ret_n = tr.n;
	return 0;
}

static int token_one(struct gh_store *st, const char *where, const char *arg,
		     struct gh_api_token *ret)
{
	struct token_rows tr = { 0 };
	char sql[256];
	struct gh_db_val p[] = { DB_TEXT(arg) };
	snprintf(sql, sizeof sql, TOKEN_COLS "WHERE %s = ?", where);
	int r = gh_store_q(st, sql, p, NP(p), token_row, &tr, NULL, NULL);
	if (r == 0 && tr.n == 0)
		r = GH_ENOENT;
	if (r == 0) {
		*ret = tr.v[0];
		tr.v[0] = (struct gh_api_token){ 0 };
	}
	gh_api_tokens_free(tr.v, tr.n);
	return r;
}

int gh_store_token_by_name(struct gh_store *st, const char *name, struct gh_api_token *ret)
{
	return token_one(st, "t.name", name, ret);
}

int gh_store_token_by_hash(struct gh_store *st, const char *hash, struct gh_api_token *ret)
{
	return token_one(st, "t.hash", hash, ret);
}

int gh_store_token_del(struct gh_store *st, const char *name)
{
	int changes = 0;
	struct gh_db_val p[] = { DB_TEXT(name) };
	int r = gh_store_q(st, "DELETE FROM api_tokens WHERE name = ?", p, NP(p), NULL, NULL, NULL,
			   &changes);
	return r < 0 ? r : changes ? 0 : GH_ENOENT;
}

int gh_store_token_touch(struct gh_store *st, int64_t id, int64_t now)
{
	struct gh_db_val p[] = { DB_INT(now), DB_INT(id) };
	return gh_store_q(st, "UPDATE api_tokens SET last_used = ? WHERE id = ?", p, NP(p), NULL,
			  NULL, NULL, NULL);
}

int gh_store_websession_add(struct gh_store *st, const char *hash, int64_t user_id,
			    const char *csrf, int64_t now)
{
	struct gh_db_val p[] = { DB_TEXT(hash), DB_INT(user_id), DB_TEXT(csrf), DB_INT(now),
				 DB_INT(now) };
	return gh_store_q(st, "INSERT INTO web_sessions (hash, user_id, csrf, created_at, last_seen)"
			      " VALUES (?, ?, ?, ?, ?)",
			  p, NP(p), NULL, NULL, NULL, NULL);
}

static int session_row(void *ud, const struct gh_db_val *c, int nc)
{
	struct gh_web_session *s = ud;
	s->user_id = gh_store_col_int(&c[0]);
	if (c[1].type != GH_DB_TEXT || c[1].n >= sizeof s->csrf)
		return GH_ESTORE;
	memcpy(s->csrf, c[1].s, c[1].n);
	s->csrf[c[1].n] = '\0';
	s->created_at = gh_store_col_int(&c[2]);
	s->last_seen = gh_store_col_int(&c[3]);
	return 0;
}

int gh_store_websession_get(struct gh_store *st, const char *hash, struct gh_web_session *ret)
{
	struct gh_web_session s = { .user_id = 0 };
	struct gh_db_val p[] = { DB_TEXT(hash) };
	int r = gh_store_q(st, "SELECT user_id, csrf, created_at, last_seen FROM web_sessions"
			       " WHERE hash = ?",
			   p, NP(p), session_row, &s, NULL, NULL);
	if (r == 0 && !s.user_id)
		r = GH_ENOENT;
	if (r == 0)
		*ret = s;
	return r;
}

int gh_store_websession_touch(struct gh_store *st, const char *hash, int64_t now)
{
	struct gh_db_val p[] = { DB_INT(now), DB_TEXT(hash) };
	return gh_store_q(st, "UPDATE web_sessions SET last_seen = ? WHERE hash = ?", p, NP(p),
			  NULL, NULL, NULL, NULL);
}

int gh_store_websession_del(struct gh_store *st, const char *hash)
{
	struct gh_db_val p[] = { DB_TEXT(hash) };
	return gh_store_q(st, "DELETE FROM web_sessions WHERE hash = ?", p, NP(p), NULL, NULL,
			  NULL, NULL);
}

int gh_store_websession_prune(struct gh_store *st, int64_t idle_before, int64_t created_before)
{
	struct gh_db_val p[] = { DB_INT(idle_before), DB_INT(created_before) };
	return gh_store_q(st, "DELETE FROM web_sessions WHERE last_seen < ? OR created_at < ?", p,
			  NP(p), NULL, NULL, NULL, NULL);
}

/* ---- access requests ------------------------------------------------------ */

#define ACCESS_COLS                                                                          \
	"SELECT r.id, r.user_id, u.name, r.asset_id, a.name, r.account, r.reason, r.ticket,"   \
	" r.minutes, r.status, r.created_at, r.decided_at, r.decided_by, r.perm_name"          \
	" FROM access_requests r JOIN users u ON u.id = r.user_id"                            \
	" JOIN assets a ON a.id = r.asset_id "

/* Rows (one per approving membership) of the approvers of the asset whose
 * id follows: the group set on a node at or above a node of the asset. */
#define APPROVER_OF                                                                          \
	"SELECT 1 FROM asset_nodes an JOIN nodes n ON n.id = an.node_id"                        \
	" JOIN nodes p ON (p.path = n.path OR substr(n.path, 1, length(p.path) + 1) ="          \
	" p.path || '/') JOIN node_approvers na ON na.node_id = p.id"                           \
	" JOIN group_members m ON m.group_id = na.group_id WHERE an.asset_id = "

void gh_access_req_free(struct gh_access_req *a)
{
	if (!a)
		return;
	free(a->user_name);
	free(a->asset_name);
	free(a->account);
	free(a->reason);
	free(a->ticket);
	free(a->status);
	free(a->decided_by);
	free(a->perm_name);
	memset(a, 0, sizeof *a);
}

void gh_access_reqs_free(struct gh_access_req *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_access_req_free(&v[i]);
	free(v);
}

struct access_rows {
	struct gh_access_req *v;
	size_t n;
};

static int access_row(void *ud, const struct gh_db_val *c, int nc)
{
	struct access_rows *ar = ud;
	struct gh_access_req *nv = realloc(ar->v, (ar->n + 1) * sizeof *nv);
	if (!nv)
		return GH_ENOMEM;
	ar->v = nv;
	struct gh_access_req *a = &nv[ar->n++];
	memset(a, 0, sizeof *a);
	a->id = gh_store_col_int(&c[0]);
	a->user_id = gh_store_col_int(&c[1]);
	a->user_name = gh_store_col_str(&c[2]);
	a->asset_id = gh_store_col_int(&c[3]);
	a->asset_name = gh_store_col_str(&c[4]);
	a->account = gh_store_col_str(&c[5]);
	a->reason = gh_store_col_str(&c[6]);
	a->ticket = gh_store_col_str(&c[7]);
	a->minutes = (int)gh_store_col_int(&c[8]);
	a->status = gh_store_col_str(&c[9]);
	a->created_at = gh_store_col_int(&c[10]);
	a->decided_at = gh_store_col_int(&c[11]);
	a->decided_by = gh_store_col_str(&c[12]);
	a->perm_name = gh_store_col_str(&c[13]);
	return a->user_name && a->asset_name && a->account && a->reason && a->ticket && a->status
		       ? 0 : GH_ENOMEM;
}

int gh_store_access_add(struct gh_store *st, const struct gh_access_req *a, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_INT(a->user_id), DB_INT(a->asset_id), DB_TEXT(a->account),
				 DB_TEXT(a->reason), DB_TEXT(a->ticket), DB_INT(a->minutes),
				 DB_INT(time(NULL)) };
	return gh_store_q(st, "INSERT INTO access_requests (user_id, asset_id, account, reason,"
			      " ticket, minutes, status, created_at) VALUES (?, ?, ?, ?, ?, ?,"
			      " 'pending', ?)",
			  p, NP(p), NULL, NULL, ret_id, NULL);
}

int gh_store_access_get(struct gh_store *st, int64_t id, struct gh_access_req *ret)
{
	struct access_rows ar = { 0 };
	struct gh_db_val p[] = { DB_INT(id) };
	int r = gh_store_q(st, ACCESS_COLS "WHERE r.id = ?", p, NP(p), access_row, &ar, NULL,
			   NULL);
	if (r == 0 && ar.n == 0)
		r = GH_ENOENT;
	if (r == 0) {
		*ret = ar.v[0];
		memset(&ar.v[0], 0, sizeof ar.v[0]);
	}
	gh_access_reqs_free(ar.v, ar.n);
	return r;
}

int gh_store_access_list(struct gh_store *st, int64_t user_id, struct gh_access_req **ret,
			 size_t *ret_n)
{
	struct access_rows ar = { 0 };
	struct gh_db_val p[] = { DB_INT(user_id), DB_INT(user_id), DB_INT(user_id) };
	int r = gh_store_q(st, ACCESS_COLS "WHERE ? = 0 OR r.user_id = ? OR EXISTS ("
			   APPROVER_OF "r.asset_id AND m.user_id = ?) ORDER BY r.id DESC", p,
			   NP(p), access_row, &ar, NULL, NULL);
	if (r < 0) {
		gh_access_reqs_free(ar.v, ar.n);
		return r;
	}
	*ret = ar.v;
	*ret_n = ar.n;
	return 0;
}

int gh_store_access_decide(struct gh_store *st, int64_t id, const char *status, const char *by,
			   const char *perm_name, int64_t now)
{
	int changes = 0;
	struct gh_db_val p[] = { DB_TEXT(status), DB_TEXT(by), DB_TEXT(perm_name), DB_INT(now),
				 DB_INT(id) };
	int r = gh_store_q(st, "UPDATE access_requests SET status = ?, decided_by = ?,"
			       " perm_name = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
			   p, NP(p), NULL, NULL, NULL, &changes);
	if (r < 0 || changes)
		return r;
	struct gh_access_req a = { 0 };
	r = gh_store_access_get(st, id, &a);
	gh_access_req_free(&a);
	return r < 0 ? r : GH_EBUSY;
}

int gh_store_node_set_approvers(struct gh_store *st, const char *path, const char *group)
{
	int changes = 0;
	struct gh_db_val p[] = { DB_TEXT(path), DB_TEXT(group) };
	if (!group)
		return gh_store_q(st, "DELETE FROM node_approvers WHERE node_id = (SELECT id FROM nodes"
				      " WHERE path = ?)", p, 1, NULL, NULL, NULL, NULL);
	int r = gh_store_q(st, "INSERT INTO node_approvers (node_id, group_id) SELECT n.id, g.id"
			       " FROM nodes n, user_groups g WHERE n.path = ? AND g.name = ?"
			       " ON CONFLICT (node_id) DO UPDATE SET group_id = excluded.group_id",
			   p, NP(p), NULL, NULL, NULL, &changes);
	return r < 0 ? r : changes ? 0 : GH_ENOENT;
}

static int text_col(void *ud, const struct gh_db_val *c, int ncols)
{
	char **out = ud;
	if (*out || c[0].type != GH_DB_TEXT)
		return 0;
	*out = strdup(c[0].s);
	return *out ? 0 : GH_ENOMEM;
}

int gh_store_node_approvers(struct gh_store *st, const char *path, char **ret_group)
{
	char *g = NULL;
	struct gh_db_val p[] = { DB_TEXT(path) };
	int r = gh_store_q(st, "SELECT g.name FROM node_approvers na JOIN nodes n ON n.id = na.node_id"
			       " JOIN user_groups g ON g.id = na.group_id WHERE n.path = ?",
			   p, NP(p), text_col, &g, NULL, NULL);
	if (r < 0) {
		free(g);
		return r;
	}
	*ret_group = g;
	return 0;
}

static int seen_row(void *ud, const struct gh_db_val *c, int ncols)
{
	*(bool *)ud = true;
	return 0;
}

int gh_store_access_approver(struct gh_store *st, int64_t id, int64_t user_id, bool *ret)
{
	bool seen = false;
	struct gh_db_val p[] = { DB_INT(id), DB_INT(user_id) };
	int r = gh_store_q(st, APPROVER_OF "(SELECT asset_id FROM access_requests WHERE id = ?)"
			       " AND m.user_id = ? LIMIT 1",
			   p, NP(p), seen_row, &seen, NULL, NULL);
	if (r == 0)
		*ret = seen;
	return r;
}
