/* Login ACL rows, permission schedules and per-user TOTP state. */
#include "store/access.h"
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- login ACLs ------------------------------------------------------------ */

void gh_loginacl_free(struct gh_loginacl *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->schedule);
	free(a->user_ids);
	free(a->group_ids);
	for (size_t i = 0; i < a->n_sources; i++)
		free(a->sources[i]);
	free(a->sources);
	memset(a, 0, sizeof *a);
}

void gh_loginacls_free(struct gh_loginacl *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_loginacl_free(&v[i]);
	free(v);
}

int gh_store_loginacl_add(struct gh_store *st, const struct gh_loginacl *a, int64_t *ret_id)
{
	int64_t id = 0;
	if (!st || !a || !a->name)
		return GH_EINVAL;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_TEXT(a->name), DB_INT(a->action), DB_INT(a->priority),
				 DB_TEXT(a->schedule && a->schedule[0] ? a->schedule : NULL),
				 DB_INT(gh_now()) };
	r = gh_store_q(st, "INSERT INTO login_acls (name, action, priority, schedule, created_at)"
			   " VALUES (?, ?, ?, ?, ?)",
		       p, NP(p), NULL, NULL, &id, NULL);
	for (size_t i = 0; i < a->n_users && r == 0; i++) {
		struct gh_db_val c[] = { DB_INT(id), DB_INT(a->user_ids[i]) };
		r = gh_store_q(st, "INSERT INTO login_acl_users (acl_id, user_id) VALUES (?, ?)", c, 2,
			       NULL, NULL, NULL, NULL);
		if (r == GH_EEXIST)
			r = 0;
	}
	for (size_t i = 0; i < a->n_groups && r == 0; i++) {
		struct gh_db_val c[] = { DB_INT(id), DB_INT(a->group_ids[i]) };
		r = gh_store_q(st, "INSERT INTO login_acl_groups (acl_id, group_id) VALUES (?, ?)", c,
			       2, NULL, NULL, NULL, NULL);
		if (r == GH_EEXIST)
			r = 0;
	}
	for (size_t i = 0; i < a->n_sources && r == 0; i++) {
		struct gh_db_val c[] = { DB_INT(id), DB_TEXT(a->sources[i]) };
		r = gh_store_q(st, "INSERT INTO login_acl_sources (acl_id, cidr) VALUES (?, ?)", c, 2,
			       NULL, NULL, NULL, NULL);
		if (r == GH_EEXIST)
			r = 0;
	}
	if (r == GH_EINVAL)
		r = GH_ENOENT;
	r = gh_store_tx_end(st, r);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

struct acl_rows {
	struct gh_loginacl *v;
	size_t n, cap;
	int which; /* 0 rules, 1 users, 2 groups, 3 sources */
};

static struct gh_loginacl *acl_find(struct acl_rows *c, int64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].id == id)
			return &c->v[i];
	return NULL;
}

static int push_i64(int64_t **v, size_t *n, int64_t x)
{
	int64_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return GH_ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

static int acl_row(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct acl_rows *c = ud;
	if (c->which == 0) {
		if (c->n == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 8;
			struct gh_loginacl *nv = realloc(c->v, ncap * sizeof *nv);
			if (!nv)
				return GH_ENOMEM;
			c->v = nv;
			c->cap = ncap;
		}
		struct gh_loginacl *a = &c->v[c->n];
		memset(a, 0, sizeof *a);
		a->id = gh_store_col_int(&cols[0]);
		a->name = gh_store_col_str(&cols[1]);
		a->action = (int)gh_store_col_int(&cols[2]);
		a->priority = (int)gh_store_col_int(&cols[3]);
		a->schedule = gh_store_col_str(&cols[4]);
		a->created_at = gh_store_col_int(&cols[5]);
		c->n++;
		return a->name ? 0 : GH_ENOMEM;
	}
	struct gh_loginacl *a = acl_find(c, gh_store_col_int(&cols[0]));
	if (!a)
		return 0;
	if (c->which == 1)
		return push_i64(&a->user_ids, &a->n_users, gh_store_col_int(&cols[1]));
	if (c->which == 2)
		return push_i64(&a->group_ids, &a->n_groups, gh_store_col_int(&cols[1]));
	char **ns = realloc(a->sources, (a->n_sources + 1) * sizeof *ns);
	if (!ns)
		return GH_ENOMEM;
	a->sources = ns;
	if (!(ns[a->n_sources] = gh_store_col_str(&cols[1])))
		return GH_ENOMEM;
	a->n_sources++;
	return 0;
}

int gh_store_loginacl_list(struct gh_store *st, struct gh_loginacl **ret, size_t *ret_n)
{
	static const char *const sql[] = {
		"SELECT id, name, action, priority, schedule, created_at FROM login_acls"
		" ORDER BY priority, action DESC, id",
		"SELECT acl_id, user_id FROM login_acl_users ORDER BY acl_id, user_id",
		"SELECT acl_id, group_id FROM login_acl_groups ORDER BY acl_id, group_id",
		"SELECT acl_id, cidr FROM login_acl_sources ORDER BY acl_id, cidr",
	};
	struct acl_rows c = { 0 };
	int r = 0;
	if (!st || !ret || !ret_n)
		return GH_EINVAL;
	for (int w = 0; w < 4 && r == 0; w++) {
		c.which = w;
		r = gh_store_q(st, sql[w], NULL, 0, acl_row, &c, NULL, NULL);
	}
	if (r < 0) {
		gh_loginacls_free(c.v, c.n);
		return r;
	}
	*ret = c.v;
	*ret_n = c.n;
	return 0;
}

int gh_store_loginacl_del(struct gh_store *st, const char *name)
{
	int changes = 0;
	struct gh_db_val p[] = { DB_TEXT(name) };
	int r = gh_store_q(st, "DELETE FROM login_acls WHERE name = ?", p, 1, NULL, NULL, NULL,
			   &changes);
	if (r < 0)
		return r;
	return changes > 0 ? 0 : GH_ENOENT;
}

/* ---- permission schedules ------------------------------------------------------ */

int gh_store_perm_set_schedule(struct gh_store *st, int64_t perm_id, const char *spec)
{
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val p[] = { DB_INT(perm_id) };
	r = gh_store_q(st, "DELETE FROM perm_schedules WHERE perm_id = ?", p, 1, NULL, NULL, NULL,
		       NULL);
	if (r == 0 && spec && spec[0]) {
		struct gh_db_val c[] = { DB_INT(perm_id), DB_TEXT(spec) };
		r = gh_store_q(st, "INSERT INTO perm_schedules (perm_id, schedule) VALUES (?, ?)", c,
			       2, NULL, NULL, NULL, NULL);
		if (r == GH_EINVAL)
			r = GH_ENOENT;
	}
	return gh_store_tx_end(st, r);
}

/* ---- per-user MFA ------------------------------------------------------------------ */

const char *gh_mfa_mode_name(int mode)
{
	return mode == GH_MFA_REQUIRED ? "required" : "optional";
}

int gh_mfa_mode_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "required"))
		return GH_MFA_REQUIRED;
	if (!strcmp(s, "optional"))
		return GH_MFA_OPTIONAL;
	return -1;
}

static int mfa_row(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct gh_user_mfa *m = ud;
	m->mode = (int)gh_store_col_int(&cols[0]);
	m->last_step = gh_store_col_int(&cols[1]);
	m->enrolled_at = gh_store_col_int(&cols[2]);
	return 0;
}

int gh_store_user_mfa_get(struct gh_store *st, int64_t user_id, struct gh_user_mfa *ret)
{
	struct gh_user_mfa m = { GH_MFA_OPTIONAL, -1, 0 };
	struct gh_db_val p[] = { DB_INT(user_id) };
	if (!st || !ret)
		return GH_EINVAL;
	int r = gh_store_q(st, "SELECT mode, last_step, enrolled_at FROM user_mfa WHERE user_id = ?",
			   p, 1, mfa_row, &m, NULL, NULL);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

static int mfa_row_seen(void *ud, const struct gh_db_val *cols, int ncols)
{
	*(int64_t *)ud = 1;
	return 0;
}

/* The user's row exists afterwards (inside a transaction). */
static int mfa_row_ensure(struct gh_store *st, int64_t user_id)
{
	int64_t found = 0;
	struct gh_db_val p[] = { DB_INT(user_id) };
	int r = gh_store_q(st, "SELECT user_id FROM user_mfa WHERE user_id = ?", p, 1, mfa_row_seen,
			   &found, NULL, NULL);
	if (r < 0 || found)
		return r;
	r = gh_store_q(st, "INSERT INTO user_mfa (user_id) VALUES (?)", p, 1, NULL, NULL, NULL,
		       NULL);
	return r == GH_EINVAL ? GH_ENOENT : r;
}

int gh_store_user_mfa_set_mode(struct gh_store *st, int64_t user_id, int mode)
{
	if (mode != GH_MFA_OPTIONAL && mode != GH_MFA_REQUIRED)
		return GH_EINVAL;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = mfa_row_ensure(st, user_id);
	if (r == 0) {
		struct gh_db_val p[] = { DB_INT(mode), DB_INT(user_id) };
		r = gh_store_q(st, "UPDATE user_mfa SET mode = ? WHERE user_id = ?", p, 2, NULL, NULL,
			       NULL, NULL);
	}
	return gh_store_tx_end(st, r);
}

int gh_store_user_totp_enrol(struct gh_store *st, int64_t user_id, const uint8_t *sealed,
			     size_t len, int64_t step)
{
	if (!sealed || !len)
		return GH_EINVAL;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = mfa_row_ensure(st, user_id);
	if (r == 0) {
		int changes = 0;
		struct gh_db_val p[] = { DB_BLOB(sealed, len), DB_INT(user_id) };
		r = gh_store_q(st, "UPDATE users SET totp_sealed = ? WHERE id = ?", p, 2, NULL, NULL,
			       NULL, &changes);
		if (r == 0 && changes == 0)
			r = GH_ENOENT;
	}
	if (r == 0) {
		struct gh_db_val p[] = { DB_INT(step), DB_INT(gh_now()), DB_INT(user_id) };
		r = gh_store_q(st, "UPDATE user_mfa SET last_step = ?, enrolled_at = ? WHERE user_id = ?",
			       p, 3, NULL, NULL, NULL, NULL);
	}
	return gh_store_tx_end(st, r);
}

int gh_store_user_totp_use(struct gh_store *st, int64_t user_id, int64_t step)
{
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = mfa_row_ensure(st, user_id);
	if (r == 0) {
		int changes = 0;
		struct gh_db_val p[] = { DB_INT(step), DB_INT(user_id), DB_INT(step) };
		r = gh_store_q(st, "UPDATE user_mfa SET last_step = ? WHERE user_id = ? AND last_step < ?",
			       p, 3, NULL, NULL, NULL, &changes);
		if (r == 0 && changes == 0)
			r = GH_EPERM;
	}
	return gh_store_tx_end(st, r);
}

int gh_store_user_mfa_reset(struct gh_store *st, int64_t user_id)
{
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	int changes = 0;
	struct gh_db_val p[] = { DB_INT(user_id) };
	r = gh_store_q(st, "UPDATE users SET totp_sealed = NULL WHERE id = ?", p, 1, NULL, NULL, NULL,
		       &changes);
	if (r == 0 && changes == 0)
		r = GH_ENOENT;
	if (r == 0)
		r = gh_store_q(st, "UPDATE user_mfa SET last_step = -1, enrolled_at = 0 WHERE user_id = ?",
			       p, 1, NULL, NULL, NULL, NULL);
	return gh_store_tx_end(st, r);
}
