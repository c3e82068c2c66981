/* Copying a SQLite store into an empty PostgreSQL one (store.h,
 * gh_store_copy_sqlite). Tables go in the order SQLite created them (so a
 * row's references are there before it), all in one write transaction;
 * the identity sequences are moved past the copied ids. */
#include "core/error.h"
#include "store/priv.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strs {
	char **v;
	size_t n;
};

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Only plain lower-case names are ever put into SQL text. */
static bool plain_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int add_str(void *ud, const struct gh_db_val *c, int n)
{
	struct strs *s = ud;
	char **v = realloc(s->v, (s->n + 1) * sizeof *v);
	if (!v)
		return GH_ENOMEM;
	s->v = v;
	if (!(v[s->n] = gh_store_col_str(&c[0])))
		return GH_ENOMEM;
	if (!plain_name(v[s->n])) {
		free(v[s->n]);
		return GH_EINVAL;
	}
	s->n++;
	return 0;
}

struct row_copy {
	struct gh_store *dst;
	const char *insert;
	size_t rows;
};

static int copy_row(void *ud, const struct gh_db_val *cols, int n)
{
	struct row_copy *rc = ud;
	rc->rows++;
	return gh_store_q(rc->dst, rc->insert, cols, n, NULL, NULL, NULL, NULL);
}

/* "SELECT a, b FROM t" and "INSERT INTO t (a, b) VALUES (?, ?)". */
static int table_sql(const char *t, const struct strs *cols, char **ret_sel, char **ret_ins)
{
	size_t cap = 64 + strlen(t);
	for (size_t i = 0; i < cols->n; i++)
		cap += strlen(cols->v[i]) + 5;
	char *list = calloc(1, cap), *marks = calloc(1, cols->n * 3 + 1);
	int r = list && marks ? 0 : GH_ENOMEM;
	for (size_t i = 0, o = 0, m = 0; r == 0 && i < cols->n; i++) {
		o += (size_t)snprintf(list + o, cap - o, "%s%s", i ? ", " : "", cols->v[i]);
		m += (size_t)snprintf(marks + m, cols->n * 3 + 1 - m, "%s?", i ? ", " : "");
	}
	if (r == 0 && (asprintf(ret_sel, "SELECT %s FROM %s", list, t) < 0 ||
		       asprintf(ret_ins, "INSERT INTO %s (%s) VALUES (%s)", t, list, marks) < 0))
		r = GH_ENOMEM;
	free(list);
	free(marks);
	return r;
}

static int copy_table(struct gh_store *dst, struct gh_store *src, const char *t, size_t *rows)
{
	struct strs cols = { 0 };
	char *sel = NULL, *ins = NULL, *seq = NULL;
	struct gh_db_val p[] = { DB_TEXT(t) };
	int r = gh_store_q(src, "SELECT name FROM pragma_table_info(?) ORDER BY cid", p, 1, add_str,
			   &cols, NULL, NULL);
	if (r == 0 && cols.n > 32)
		r = GH_ELIMIT; /* the drivers hand at most 32 columns to a row */
	if (r == 0)
		r = table_sql(t, &cols, &sel, &ins);
	struct row_copy rc = { .dst = dst, .insert = ins };
	if (r == 0)
		r = gh_store_q(src, sel, NULL, 0, copy_row, &rc, NULL, NULL);
	int64_t identity = 0;
	if (r == 0)
		r = gh_store_q(dst, "SELECT COUNT(*) FROM information_schema.columns WHERE"
				    " table_schema = current_schema() AND table_name = ? AND"
				    " column_name = 'id' AND is_identity = 'YES'",
			       p, 1, gh_store_one_int, &identity, NULL, NULL);
	if (r == 0 && identity &&
	    asprintf(&seq, "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
			   " (SELECT COALESCE(MAX(id), 0) + 1 FROM %s), false)",
		     t, t) < 0)
		r = GH_ENOMEM;
	if (r == 0 && seq)
		r = gh_store_q(dst, seq, NULL, 0, NULL, NULL, NULL, NULL);
	*rows += rc.rows;
	free(sel);
	free(ins);
	free(seq);
	strs_free(&cols);
	return r;
}

int gh_store_copy_sqlite(struct gh_store *dst, struct gh_store *src, size_t *ret_rows,
			 char *why, size_t whylen)
{
	struct strs tables = { 0 };
	int64_t used = 0;
	size_t rows = 0;
	int r = gh_store_q(dst, "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM events)"
				    " + (SELECT COUNT(*) FROM sessions)",
			       NULL, 0, gh_store_one_int, &used, NULL, NULL);
	if (r == 0 && used) {
		snprintf(why, whylen, "the destination store is not empty");
		return GH_EEXIST;
	}
	if (r == 0)
		r = gh_store_q(src, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT"
				    " LIKE 'sqlite_%' AND name <> 'schema_version' ORDER BY rowid",
			       NULL, 0, add_str, &tables, NULL, NULL);
	if (r == 0)
		r = gh_store_tx_begin(dst);
	if (r < 0) {
		snprintf(why, whylen, "cannot read the stores: %s", gh_strerror(r));
		strs_free(&tables);
		return r;
	}
	r = gh_store_q(dst, "DELETE FROM meta", NULL, 0, NULL, NULL, NULL, NULL);
	for (size_t i = 0; r == 0 && i < tables.n; i++) {
		r = copy_table(dst, src, tables.v[i], &rows);
		if (r < 0)
			snprintf(why, whylen, "table %s: %s: %s", tables.v[i], gh_strerror(r),
				 gh_store_errmsg(dst));
	}
	r = gh_store_tx_end(dst, r);
	if (r < 0 && !why[0])
		snprintf(why, whylen, "commit: %s", gh_strerror(r));
	strs_free(&tables);
	if (r == 0)
		*ret_rows = rows;
	return r;
}
