/* PostgreSQL driver (libpq). The store's portable SQL is rewritten by
 * pgsql.c ('?' -> $N; migrations' types). Write transactions are
 * serialised across every process and node sharing the database by one
 * transaction-scoped advisory lock (begin_write): the same one-writer
 * rule SQLite's BEGIN IMMEDIATE gives, so read-then-write sequences (the
 * audit chain's tip, counters) stay correct with writers on several
 * nodes. Statements outside a write transaction run on their own. */
#include "store/db.h"
#include "store/pg.h"
#include "store/pgsql.h"
#include "core/error.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_COLS 32
#define MAX_PARAMS 64
/* pg_advisory_xact_lock's key for "the store's writer" ('GHWR'). */
#define WRITE_LOCK_KEY "1195923282"

/* OIDs of pg_type.h */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* "relation already exists, skipping" and the like */
}

static int map_state(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!s)
		return GH_ESTORE;
	if (!strcmp(s, "23505"))
		return GH_EEXIST; /* unique_violation */
	if (!strncmp(s, "23", 2))
		return GH_EINVAL; /* other integrity constraints, as SQLite's */
	if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03"))
		return GH_EBUSY; /* serialization failure, deadlock, lock_not_available */
	if (!strcmp(s, "57014"))
		return GH_EBUSY; /* statement timeout (lock_timeout surfaces as 55P03) */
	return GH_ESTORE;
}

int gh_pg_connect(const char *url, const char *password, int busy_ms, void **ret_conn)
{
	const char *keys[5] = { "dbname", "connect_timeout", "application_name", NULL, NULL };
	const char *vals[5] = { url, "10", "gatehouse", NULL, NULL };
	char set[160];
	PGconn *c = NULL;
	if (password) {
		keys[3] = "password";
		vals[3] = password;
	}
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return GH_ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return GH_ECONN;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	int n = snprintf(set, sizeof set,
			 "SET lock_timeout = %d; SET client_min_messages = warning;"
			 " SET standard_conforming_strings = on",
			 busy_ms);
	PGresult *res = n > 0 && (size_t)n < sizeof set ? PQexec(c, set) : NULL;
	int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		PQfinish(c);
		return GH_ESTORE;
	}
	*ret_conn = c;
	return 0;
}

static int pg_open(const char *dsn, int busy_ms, void **ret_conn)
{
	return gh_pg_connect(dsn, NULL, busy_ms, ret_conn);
}

static void pg_close(void *conn)
{
	PQfinish(conn);
}

/* A connection inherited over fork() shares its socket (and TLS state)
 * with the parent: PQfinish here would send the server a Terminate on the
 * parent's session. The socket is first pointed at /dev/null, so what
 * PQfinish writes goes nowhere and the parent's connection lives on. */
static void pg_forget(void *conn)
{
	int fd = PQsocket(conn);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0 && nul >= 0 && dup2(nul, fd) < 0)
		fd = -1; /* PQfinish then fails to write: nothing reaches the server either */
	if (nul >= 0)
		close(nul);
	PQfinish(conn);
}

struct params {
	const char *vals[MAX_PARAMS];
	Oid types[MAX_PARAMS];
	int lens[MAX_PARAMS];
	int fmts[MAX_PARAMS];
	char ints[MAX_PARAMS][24];
};

static int bind_all(struct params *b, const struct gh_db_val *p, int n)
{
	if (n > MAX_PARAMS)
		return GH_EINVAL;
	for (int i = 0; i < n; i++) {
		b->types[i] = 0; /* the server infers from the context */
		b->lens[i] = 0;
		b->fmts[i] = 0;
		b->vals[i] = NULL;
		switch (p[i].type) {
		case GH_DB_INT:
			snprintf(b->ints[i], sizeof b->ints[i], "%lld", (long long)p[i].i);
			b->vals[i] = b->ints[i];
			b->types[i] = OID_INT8;
			break;
		case GH_DB_TEXT:
			b->vals[i] = p[i].s;
			break;
		case GH_DB_BLOB:
			if (p[i].n > 0x7fffffff)
				return GH_ELIMIT;
			b->vals[i] = p[i].n ? p[i].b : "";
			b->lens[i] = (int)p[i].n;
			b->fmts[i] = 1;
			b->types[i] = OID_BYTEA;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Column J of row I as a value; a bytea is unescaped into *blob
 * (caller frees with PQfreemem). */
static int decode_col(const PGresult *res, int i, int j, struct gh_db_val *v, unsigned char **blob)
{
	memset(v, 0, sizeof *v);
	if (PQgetisnull(res, i, j))
		return 0;
	const char *s = PQgetvalue(res, i, j);
	switch (PQftype(res, j)) {
	case OID_BOOL:
		v->type = GH_DB_INT;
		v->i = s[0] == 't';
		return 0;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		v->type = GH_DB_INT;
		v->i = strtoll(s, NULL, 10);
		return 0;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		v->type = GH_DB_INT; /* sums and averages, as SQLite's column_int64 */
		v->i = (int64_t)strtod(s, NULL);
		return 0;
	case OID_BYTEA: {
		size_t n = 0;
		*blob = PQunescapeBytea((const unsigned char *)s, &n);
		if (!*blob)
			return GH_ENOMEM;
		v->type = GH_DB_BLOB;
		v->b = *blob;
		v->n = n;
		return 0;
	}
	default:
		v->type = GH_DB_TEXT;
		v->s = s;
		v->n = (size_t)PQgetlength(res, i, j);
		return 0;
	}
}

static int deliver(const PGresult *res, gh_db_row_fn fn, void *ud)
{
	struct gh_db_val cols[MAX_COLS];
	unsigned char *blobs[MAX_COLS];
	int nc = PQnfields(res), r = 0;
	if (nc > MAX_COLS)
		nc = MAX_COLS;
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(blobs, 0, sizeof blobs);
		for (int j = 0; r == 0 && j < nc; j++)
			r = decode_col(res, i, j, &cols[j], &blobs[j]);
		if (r == 0)
			r = fn(ud, cols, nc);
		for (int j = 0; j < nc; j++)
			PQfreemem(blobs[j]);
	}
	return r;
}

/* The statement as PostgreSQL takes it: $N parameters, and RETURNING id
 * when the caller wants the new row's id. */
static int prepare_sql(const char *sql, bool want_id, char **ret_sql, int *ret_n)
{
	char *s = NULL;
	int r = gh_pgsql_params(sql, &s, ret_n);
	if (r < 0 || !want_id || !gh_pgsql_is_plain_insert(sql)) {
		*ret_sql = s;
		return r;
	}
	size_t len = strlen(s);
	while (len && (s[len - 1] == ';' || s[len - 1] == ' '))
		s[--len] = '\0';
	char *t = NULL;
	r = asprintf(&t, "%s RETURNING id", s) < 0 ? GH_ENOMEM : 0;
	free(s);
	*ret_sql = t;
	return r;
}

static int pg_exec(void *conn, const char *sql, const struct gh_db_val *params, int nparams,
		   gh_db_row_fn fn, void *ud, int64_t *ret_last_id, int *ret_changes)
{
	struct params b;
	char *text = NULL;
	PGresult *res = NULL;
	int n = 0;
	bool want_id = ret_last_id != NULL;
	int r = prepare_sql(sql, want_id, &text, &n);
	if (r == 0 && n != nparams)
		r = GH_EINVAL;
	if (r == 0)
		r = bind_all(&b, params, nparams);
	if (r < 0)
		goto out;
	res = PQexecParams(conn, text, nparams, b.types, b.vals, b.lens, b.fmts, 0);
	ExecStatusType s = PQresultStatus(res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		r = map_state(res);
		goto out;
	}
	want_id = want_id && gh_pgsql_is_plain_insert(sql);
	if (fn && !want_id)
		r = deliver(res, fn, ud);
	if (r == 0 && ret_last_id)
		*ret_last_id = want_id && PQntuples(res) > 0 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	if (r == 0 && ret_changes)
		*ret_changes = (int)strtol(PQcmdTuples(res), NULL, 10);
out:
	PQclear(res);
	free(text);
	return r;
}

static int pg_exec_script(void *conn, const char *sql)
{
	char *ddl = NULL;
	int r = gh_pgsql_ddl(sql, &ddl);
	if (r < 0)
		return r;
	PGresult *res = PQexec(conn, ddl);
	ExecStatusType s = PQresultStatus(res);
	r = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY ? 0 : map_state(res);
	PQclear(res);
	free(ddl);
	return r;
}

static int pg_begin_write(void *conn)
{
	int r = pg_exec_script(conn, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")");
	if (r < 0)
		pg_exec_script(conn, "ROLLBACK");
	return r;
}

/* COMMIT of a transaction a failed statement aborted answers "ROLLBACK":
 * that is a failure, never a silent loss of the writes. */
static int pg_commit(void *conn)
{
	PGresult *res = PQexec(conn, "COMMIT");
	int r = PQresultStatus(res) != PGRES_COMMAND_OK ? map_state(res)
		: strcmp(PQcmdStatus(res), "COMMIT") ? GH_ESTORE : 0;
	PQclear(res);
	return r;
}

static int pg_rollback(void *conn)
{
	return pg_exec_script(conn, "ROLLBACK");
}

static const char *pg_errmsg(void *conn)
{
	return conn ? PQerrorMessage(conn) : "no connection";
}

const struct gh_db_driver gh_db_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.exec_script = pg_exec_script,
	.begin_write = pg_begin_write,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.errmsg = pg_errmsg,
	.forget = pg_forget,
};
