/* The driver interface under the store: a backend executes portable SQL
 * with positional '?' parameters and hands rows to a callback. SQLite is
 * the embedded default (sqlite.c); a PostgreSQL driver (libpq) implements
 * the same table, rewriting '?' to $N. Private to src/store/. */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum gh_db_type { GH_DB_NULL = 0, GH_DB_INT, GH_DB_TEXT, GH_DB_BLOB };

struct gh_db_val {
	int type;
	int64_t i;
	const char *s;
	const void *b;
	size_t n;
};

#define DB_NULL ((struct gh_db_val){ .type = GH_DB_NULL })
#define DB_INT(x) ((struct gh_db_val){ .type = GH_DB_INT, .i = (int64_t)(x) })
#define DB_TEXT(x) ((struct gh_db_val){ .type = (x) ? GH_DB_TEXT : GH_DB_NULL, .s = (x) })
#define DB_BLOB(p, len) ((struct gh_db_val){ .type = (p) ? GH_DB_BLOB : GH_DB_NULL, .b = (p), .n = (len) })

/* Called once per result row; columns are borrowed for the call only.
 * Return 0 to go on, negative to stop with that error. */
typedef int (*gh_db_row_fn)(void *ud, const struct gh_db_val *cols, int ncols);

struct gh_db_driver {
	const char *name;
	int (*open)(const char *dsn, int busy_ms, void **ret_conn);
	void (*close)(void *conn);
	/* Run one statement. Errors: GH_EEXIST (unique violation), GH_EBUSY
	 * (lock not obtained in time), GH_ESTORE (anything else). */
	int (*exec)(void *conn, const char *sql, const struct gh_db_val *params, int nparams,
		    gh_db_row_fn fn, void *ud, int64_t *ret_last_id, int *ret_changes);
	/* Run several ';'-separated statements without parameters (migrations). */
	int (*exec_script)(void *conn, const char *sql);
	/* Start a transaction that will write (SQLite: BEGIN IMMEDIATE). */
	int (*begin_write)(void *conn);
	int (*commit)(void *conn);
	int (*rollback)(void *conn);
	const char *(*errmsg)(void *conn);
	/* Close a connection inherited over fork() (see gh_store_forget). */
	void (*forget)(void *conn);
	/* Copy the whole database, consistently and while others write, into
	 * a new file DEST (which must not exist). NULL: not supported. */
	int (*backup)(void *conn, const char *dest);
};

extern const struct gh_db_driver gh_db_sqlite;
extern const struct gh_db_driver gh_db_pg;

