/* The data directory's layout (see app.h, docs/ARCHITECTURE.md "Files and
 * their owners"). */
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_NAME "gatehouse.db"

/* The database's files, its main file last: moved in this order, a move
 * cut short is finished by the next start without losing the WAL. */
static const char *const db_files[] = { DB_NAME "-wal", DB_NAME "-shm", DB_NAME "-journal",
					DB_NAME };

static int legacy_check(int dfd, const char *data_dir, char *err)
{
	for (size_t i = 0; i < sizeof db_files / sizeof db_files[0]; i++) {
		struct stat st;
		if (fstatat(dfd, db_files[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (gh_safe_lone_file_check(&st, NULL, 0) < 0) {
			snprintf(err, GH_APP_ERRLEN,
				 "%s/%s is not a regular file: move it away (the database now lives in "
				 "%s/" GH_DB_SUBDIR ")",
				 data_dir, db_files[i], data_dir);
			return GH_EPERM;
		}
	}
	return 0;
}

/* The database's files in DATA/db (the worker user's) must be regular
 * files with one link, not symlinks: root opens them too (serve, the CLI).
 * An early check naming the file; the store checks every file it opens
 * again on its descriptor (src/store/sqlite.c). */
static int db_files_check(int dbfd, const char *data_dir, char *err)
{
	for (size_t i = 0; i < sizeof db_files / sizeof db_files[0]; i++) {
		char why[GH_SAFE_WHYLEN] = "";
		struct stat st;
		if (fstatat(dbfd, db_files[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    gh_safe_lone_file_check(&st, why, sizeof why) < 0) {
			snprintf(err, GH_APP_ERRLEN,
				 "%s/" GH_DB_SUBDIR "/%s %s: refused (not a regular file with one "
				 "link)",
				 data_dir, db_files[i], why);
			return GH_EPERM;
		}
	}
	return 0;
}

/* The database of the previous layout (DATA/gatehouse.db) moves to DATA/db. */
static int migrate_db(int dfd, int dbfd, const char *data_dir, char *err)
{
	struct stat st;
	if (fstatat(dbfd, DB_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0; /* already there (or the store's open says what is wrong) */
	if (fstatat(dfd, DB_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* nothing to move */
	int r = legacy_check(dfd, data_dir, err);
	for (size_t i = 0; r == 0 && i < sizeof db_files / sizeof db_files[0]; i++) {
		if (renameat2(dfd, db_files[i], dbfd, db_files[i], RENAME_NOREPLACE) < 0 &&
		    errno != ENOENT) {
			snprintf(err, GH_APP_ERRLEN, "cannot move %s/%s to %s/" GH_DB_SUBDIR ": %s",
				 data_dir, db_files[i], data_dir, strerror(errno));
			r = GH_EIO;
		}
	}
	if (r == 0)
		gh_info("moved the database %s/" DB_NAME " to %s/" GH_DB_SUBDIR "/", data_dir, data_dir);
	return r;
}

/* DATA/db exists as a real directory; *ret_fd opened without following. */
static int open_db_dir(int dfd, const char *data_dir, int *ret_fd, char *err)
{
	struct stat st;
	if (fstatat(dfd, GH_DB_SUBDIR, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	    mkdirat(dfd, GH_DB_SUBDIR, 0700) < 0 && errno != EEXIST) {
		snprintf(err, GH_APP_ERRLEN, "cannot create %s/" GH_DB_SUBDIR ": %s", data_dir,
			 strerror(errno));
		return GH_EIO;
	}
	int fd = openat(dfd, GH_DB_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, GH_APP_ERRLEN, "%s/" GH_DB_SUBDIR " is not a directory (%s)", data_dir,
			 errno == ELOOP || errno == ENOTDIR ? "a symlink or a file" : strerror(errno));
		return GH_EIO;
	}
	*ret_fd = fd;
	return 0;
}

int gh_app_layout(const struct gh_config *cfg, char *err)
{
	char def[4096], why[GH_SAFE_WHYLEN] = "";
	int dfd = -1, dbfd = -1;
	int n = snprintf(def, sizeof def, "%s/" GH_DB_SUBDIR "/" DB_NAME, cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof def || strcmp(def, cfg->database_path) != 0)
		return 0; /* a database_path of the administrator's: theirs to lay out */
	int r = gh_safe_open_dir(cfg->data_dir, &dfd, why, sizeof why);
	if (r < 0) {
		snprintf(err, GH_APP_ERRLEN, "data directory %s: %s", cfg->data_dir, why);
		return r;
	}
	r = open_db_dir(dfd, cfg->data_dir, &dbfd, err);
	if (r == 0)
		r = migrate_db(dfd, dbfd, cfg->data_dir, err);
	if (r == 0)
		r = db_files_check(dbfd, cfg->data_dir, err);
	if (dbfd >= 0)
		close(dbfd);
	close(dfd);
	return r;
}
