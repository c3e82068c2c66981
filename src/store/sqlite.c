/* SQLite driver: WAL mode, busy timeout, foreign keys on. */
#include "store/db.h"
#include "core/error.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int map_rc(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return GH_EBUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return GH_EEXIST;
		return GH_EINVAL;
	case SQLITE_NOMEM:
		return GH_ENOMEM;
	default:
		(void)db;
		return GH_ESTORE;
	}
}

static int sq_open(const char *dsn, int busy_ms, void **ret_conn)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(dsn, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return GH_ESTORE;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, busy_ms);
	/* journal_mode needs a lock; retry while another process creates the file. */
	for (int i = 0; i < 200; i++) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		usleep(10000);
	}
	if (rc != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
		    SQLITE_OK) {
		sqlite3_close(db);
		return GH_ESTORE;
	}
	*ret_conn = db;
	return 0;
}

static void sq_close(void *conn)
{
	sqlite3_close_v2(conn);
}

/* A connection inherited over fork() carries SQLite's per-process lock
 * bookkeeping (unix VFS inode and shared-memory records) with it: a new
 * connection this process opens to the same file shares those records,
 * believes the parent's locks are its own and takes none from the
 * kernel. When the parent then exits, nothing shows that this process
 * still uses the database: the next connection that closes as the last
 * one checkpoints and deletes the -wal and -shm files, and every later
 * write of this process goes to the unlinked WAL, lost. Closing the
 * inherited connection first drops those records; it must not
 * checkpoint on close (that needs locks this process does not hold). */
static void sq_forget(void *conn)
{
	sqlite3_db_config(conn, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	sqlite3_close_v2(conn);
}

static int bind_all(sqlite3_stmt *st, const struct gh_db_val *p, int n)
{
	for (int i = 0; i < n; i++) {
		int rc;
		switch (p[i].type) {
		case GH_DB_INT:
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
			break;
		case GH_DB_TEXT:
			rc = sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_STATIC);
			break;
		case GH_DB_BLOB:
			rc = sqlite3_bind_blob64(st, i + 1, p[i].b, p[i].n, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static int sq_exec(void *conn, const char *sql, const struct gh_db_val *params, int nparams,
		   gh_db_row_fn fn, void *ud, int64_t *ret_last_id, int *ret_changes)
{
	sqlite3 *db = conn;
	sqlite3_stmt *st = NULL;
	struct gh_db_val cols[32];
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	int r = 0;

	if (rc != SQLITE_OK)
		return map_rc(db, rc);
	rc = bind_all(st, params, nparams);
	if (rc != SQLITE_OK) {
		r = map_rc(db, rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = map_rc(db, rc);
			goto out;
		}
		if (!fn)
			continue;
		int nc = sqlite3_column_count(st);
		if (nc > 32)
			nc = 32;
		for (int i = 0; i < nc; i++) {
			memset(&cols[i], 0, sizeof cols[i]);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
			case SQLITE_FLOAT:
				cols[i].type = GH_DB_INT;
				cols[i].i = sqlite3_column_int64(st, i);
				break;
			case SQLITE_TEXT:
				cols[i].type = GH_DB_TEXT;
				cols[i].s = (const char *)sqlite3_column_text(st, i);
				cols[i].n = (size_t)sqlite3_column_bytes(st, i);
				break;
			case SQLITE_BLOB:
				cols[i].type = GH_DB_BLOB;
				cols[i].b = sqlite3_column_blob(st, i);
				cols[i].n = (size_t)sqlite3_column_bytes(st, i);
				break;
			default:
				cols[i].type = GH_DB_NULL;
			}
		}
		r = fn(ud, cols, nc);
		if (r < 0)
			goto out;
	}
	if (ret_last_id)
		*ret_last_id = sqlite3_last_insert_rowid(db);
	if (ret_changes)
		*ret_changes = sqlite3_changes(db);
out:
	sqlite3_finalize(st);
	return r;
}

static int sq_exec_script(void *conn, const char *sql)
{
	return map_rc(conn, sqlite3_exec(conn, sql, NULL, NULL, NULL));
}

static int sq_begin_write(void *conn)
{
	return sq_exec_script(conn, "BEGIN IMMEDIATE");
}

static int sq_commit(void *conn)
{
	return sq_exec_script(conn, "COMMIT");
}

static int sq_rollback(void *conn)
{
	return sq_exec_script(conn, "ROLLBACK");
}

static const char *sq_errmsg(void *conn)
{
	return sqlite3_errmsg(conn);
}

const struct gh_db_driver gh_db_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.exec_script = sq_exec_script,
	.begin_write = sq_begin_write,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.errmsg = sq_errmsg,
	.forget = sq_forget,
};
