/* Processes working for users: the rows behind max_sessions_per_user
 * (see store.h). */
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"
#include "store/store.h"

#include <stdlib.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct proc_rows {
	int64_t *id;
	int *pid;
	size_t n, cap;
};

static int take_row(void *ud, const struct gh_db_val *c, int n)
{
	struct proc_rows *pr = ud;
	if (pr->n == pr->cap) {
		size_t cap = pr->cap ? pr->cap * 2 : 64;
		int64_t *id = realloc(pr->id, cap * sizeof *id);
		if (id)
			pr->id = id;
		int *pid = id ? realloc(pr->pid, cap * sizeof *pid) : NULL;
		if (!pid)
			return GH_ENOMEM;
		pr->pid = pid;
		pr->cap = cap;
	}
	pr->id[pr->n] = gh_store_col_int(&c[0]);
	pr->pid[pr->n] = (int)gh_store_col_int(&c[1]);
	pr->n++;
	return 0;
}

static int take_count(void *ud, const struct gh_db_val *c, int n)
{
	*(int64_t *)ud = gh_store_col_int(&c[0]);
	return 0;
}

/* Drop the rows whose process is gone. */
static int drop_gone(struct gh_store *st, const struct gh_proc_claim *c)
{
	struct proc_rows pr = { 0 };
	int r = gh_store_q(st, "SELECT id, pid FROM user_procs", NULL, 0, take_row, &pr, NULL,
			   NULL);
	for (size_t i = 0; r == 0 && i < pr.n; i++) {
		if (c->alive(pr.pid[i], c->ud))
			continue;
		struct gh_db_val p[] = { DB_INT(pr.id[i]) };
		r = gh_store_q(st, "DELETE FROM user_procs WHERE id = ?", p, 1, NULL, NULL, NULL,
			       NULL);
	}
	free(pr.id);
	free(pr.pid);
	return r;
}

static int count(struct gh_store *st, int64_t user_id, int64_t *ret_n)
{
	struct gh_db_val p[] = { DB_INT(user_id) };
	return user_id ? gh_store_q(st, "SELECT COUNT(*) FROM user_procs WHERE user_id = ?", p, 1,
				    take_count, ret_n, NULL, NULL)
		       : gh_store_q(st, "SELECT COUNT(*) FROM user_procs", NULL, 0, take_count,
				    ret_n, NULL, NULL);
}

int gh_store_proc_claim(struct gh_store *st, const struct gh_proc_claim *c, int64_t *ret_id)
{
	int64_t mine = 0, all = 0, id = 0;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = drop_gone(st, c);
	if (r == 0)
		r = count(st, c->user_id, &mine);
	if (r == 0)
		r = count(st, 0, &all);
	if (r == 0 && mine >= c->max_user)
		r = GH_ELIMIT;
	else if (r == 0 && all >= c->max_total)
		r = GH_EBUSY;
	if (r == 0) {
		struct gh_db_val p[] = { DB_INT(c->user_id), DB_TEXT(c->kind), DB_INT(c->pid),
					 DB_INT(gh_now()) };
		r = gh_store_q(st, "INSERT INTO user_procs (user_id, kind, pid, started_at)"
				   " VALUES (?, ?, ?, ?)",
			       p, NP(p), NULL, NULL, &id, NULL);
	}
	r = gh_store_tx_end(st, r);
	if (r == 0)
		*ret_id = id;
	return r;
}

int gh_store_proc_bind(struct gh_store *st, int64_t id, int pid)
{
	struct gh_db_val p[] = { DB_INT(pid), DB_INT(id) };
	return gh_store_q(st, "UPDATE user_procs SET pid = ? WHERE id = ?", p, NP(p), NULL, NULL,
			  NULL, NULL);
}

int gh_store_proc_drop(struct gh_store *st, int64_t id)
{
	struct gh_db_val p[] = { DB_INT(id) };
	return gh_store_q(st, "DELETE FROM user_procs WHERE id = ?", p, 1, NULL, NULL, NULL, NULL);
}

int gh_store_proc_release(struct gh_store *st, int pid)
{
	struct gh_db_val p[] = { DB_INT(pid) };
	return gh_store_q(st, "DELETE FROM user_procs WHERE pid = ?", p, 1, NULL, NULL, NULL,
			  NULL);
}

int gh_store_proc_count(struct gh_store *st, int64_t user_id, int *ret_n)
{
	int64_t n = 0;
	int r = count(st, user_id, &n);
	if (r == 0)
		*ret_n = (int)n;
	return r;
}
