/* SQLite driver: WAL mode, busy timeout, foreign keys on. */
#include "store/db.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- opening the files -------------------------------------------------
 * The database's directory is the workers' user's (DATA/db), and root
 * opens the store too (serve, the CLI). SQLite 3.40 follows a symlink for
 * the main file (unless SQLITE_OPEN_NOFOLLOW) and opens -wal, -shm and
 * -journal with O_NOFOLLOW, but takes a hard link for any of them (and
 * then writes into the linked file). So:
 *  - database_path is resolved as an administrator's path (a symlink is
 *    followed only when root made it where only root could:
 *    gh_safe_resolve), and the result is opened with SQLITE_OPEN_NOFOLLOW
 *    (any symlink in it now is refused);
 *  - every file the unix VFS opens goes through guarded_open (its "open"
 *    system call, replaced through xSetSystemCall): O_NOFOLLOW always, and
 *    a regular file must have a single link (gh_safe_lone_file_check) or
 *    it is closed before SQLite reads or writes it. */

typedef int (*open_fn)(const char *, int, int);
/* SQLite's system-call hook takes a bare function pointer, no context: the
 * original open is kept here, set once when the hook is installed. */
static open_fn real_open;

static int guarded_open(const char *path, int flags, int mode)
{
	char why[GH_SAFE_WHYLEN] = "";
	struct stat st;
	int fd = real_open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == ELOOP)
			gh_error("store: refused %s: is a symlink", path);
		return fd;
	}
	int r = fstat(fd, &st) < 0 ? GH_EIO : 0;
	if (r == 0 && !S_ISDIR(st.st_mode) && !(S_ISCHR(st.st_mode) && !strcmp(path, "/dev/urandom")))
		r = gh_safe_lone_file_check(&st, why, sizeof why);
	if (r < 0) {
		gh_error("store: refused %s: %s", path, why);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* Put guarded_open in the unix VFS (once; inherited by forked workers). */
static int guard_vfs(void)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
	if (real_open)
		return 0;
	if (!vfs || vfs->iVersion < 3 || !vfs->xSetSystemCall || !vfs->xGetSystemCall ||
	    !(real_open = (open_fn)vfs->xGetSystemCall(vfs, "open"))) {
		gh_error("store: the SQLite VFS %s lets no open be checked: refused",
			 vfs ? vfs->zName : "(none)");
		return GH_ESTORE;
	}
	if (vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)guarded_open) != SQLITE_OK) {
		real_open = NULL;
		return GH_ESTORE;
	}
	return 0;
}

/* DSN resolved (caller frees); ":memory:" stays as it is. */
static int resolve_dsn(const char *dsn, char **ret)
{
	char why[GH_SAFE_WHYLEN] = "";
	if (!strcmp(dsn, ":memory:")) {
		*ret = strdup(dsn);
		return *ret ? 0 : GH_ENOMEM;
	}
	int r = gh_safe_resolve(dsn, ret, why, sizeof why);
	if (r == GH_EPERM)
		gh_error("store: refused %s: %s", dsn, why);
	return r;
}

static int sq_open(const char *dsn, int busy_ms, void **ret_conn)
{
	sqlite3 *db = NULL;
	char *path = NULL;
	int r = guard_vfs();
	if (r == 0)
		r = resolve_dsn(dsn, &path);
	if (r < 0)
		return r;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
					 SQLITE_OPEN_NOFOLLOW,
				 NULL);
	if (rc != SQLITE_OK && db && sqlite3_extended_errcode(db) == SQLITE_CANTOPEN_SYMLINK)
		gh_error("store: refused %s: a symlink on the way", path);
	free(path);
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

/* Statements kept prepared per connection (see stmt_take). */
#define STMT_CACHE_MAX 96

static void finalize_all(sqlite3 *db)
{
	sqlite3_stmt *st;
	while ((st = sqlite3_next_stmt(db, NULL)))
		sqlite3_finalize(st);
}

static void sq_close(void *conn)
{
	finalize_all(conn);
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
	finalize_all(conn);
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

/* A prepared statement for SQL: an idle one the connection keeps from an
 * earlier call (SQLite lists a connection's statements; parsing is a good
 * part of a short query's cost), else a new one. *RET_KEEP: give it back
 * with stmt_give rather than finalizing it (the cache has room). */
static int stmt_take(sqlite3 *db, const char *sql, sqlite3_stmt **ret, bool *ret_keep)
{
	size_t n = 0;
	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st), n++) {
		const char *s = sqlite3_sql(st);
		if (!sqlite3_stmt_busy(st) && s && !strcmp(s, sql)) {
			*ret = st;
			*ret_keep = true;
			return SQLITE_OK;
		}
	}
	*ret_keep = n < STMT_CACHE_MAX;
	return sqlite3_prepare_v3(db, sql, -1, *ret_keep ? SQLITE_PREPARE_PERSISTENT : 0, ret, NULL);
}

/* Done with ST: reset (its read snapshot and locks are released now) and
 * kept, or finalized. */
static void stmt_give(sqlite3_stmt *st, bool keep)
{
	if (!keep) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int sq_exec(void *conn, const char *sql, const struct gh_db_val *params, int nparams,
		   gh_db_row_fn fn, void *ud, int64_t *ret_last_id, int *ret_changes)
{
	sqlite3 *db = conn;
	sqlite3_stmt *st = NULL;
	struct gh_db_val cols[32];
	bool keep = false;
	int rc = stmt_take(db, sql, &st, &keep);
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
	stmt_give(st, keep);
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

/* SQLite's online backup API: a few pages a step, so writers in other
 * processes are held only briefly; a write between steps restarts the copy
 * (it stays consistent: the copy is of one point in time). The copy is
 * made a single file (journal_mode DELETE) before it is closed. */
static int sq_backup(void *conn, const char *dest)
{
	sqlite3 *out = NULL;
	int r = GH_EEXIST, fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? GH_EEXIST : GH_EIO;
	close(fd);
	r = GH_ESTORE;
	if (sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK)
		goto out;
	sqlite3_backup *b = sqlite3_backup_init(out, "main", conn, "main");
	if (!b)
		goto out;
	int rc = SQLITE_ERROR;
	for (int tries = 0; tries < 100000; tries++) {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_DONE || (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED))
			break;
		if (rc != SQLITE_OK)
			usleep(5000);
	}
	if (sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE &&
	    sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) == SQLITE_OK)
		r = 0;
out:
	sqlite3_close(out);
	if (r < 0)
		unlink(dest);
	return r;
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
	.backup = sq_backup,
};
