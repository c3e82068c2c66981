/* The application context handed down to every command and worker:
 * effective configuration, the open store and the vault. No globals:
 * pass struct gh_app * down. */
#pragma once
#include "core/config.h"

struct gh_store;
struct gh_vault;

struct gh_app {
	struct gh_config cfg;     /* owned */
	char *data_dir;           /* owned */
	char *config_path;        /* owned: --config, or NULL (DATA/gatehouse.conf when present) */
	struct gh_store *store;   /* owned */
	struct gh_vault *vault;   /* owned */
	char *ldap_secret;        /* owned, sodium memory: the LDAP bind password (auth/ldapsync.h) */
};

enum {
	GH_APP_CREATE = 1 << 0,   /* create the data dir and master key when absent */
	GH_APP_NO_VAULT = 1 << 1, /* do not load the master key */
};

#define GH_APP_ERRLEN 512

/* DATA_DIR: --data (NULL: $GATEHOUSE_DATA or ./data). CONFIG: --config or
 * NULL (DATA/gatehouse.conf when present). On error writes a message a
 * person can act on into ERR. */
int gh_app_open(const char *data_dir, const char *config, int flags,
		struct gh_app **ret, char *err);
struct gh_app *gh_app_close(struct gh_app *app);

/* The data directory's layout (docs/ARCHITECTURE.md, "Files and their
 * owners"): with the default database_path, DATA/db exists (a directory,
 * not a symlink) and a database of the previous layout (DATA/gatehouse.db
 * and its -wal/-shm) is moved into it. Called by gh_app_open before the
 * store opens. On error writes a message into ERR (GH_APP_ERRLEN). */
int gh_app_layout(const struct gh_config *cfg, char *err);

/* Send diagnostic lines to cfg.log_file (stderr when empty), opening it
 * anew: at serve start and on SIGHUP (after a rotation). Processes forked
 * afterwards inherit it. On error logs why (to the old destination) and
 * returns a negative GH_E*; the old destination stays. */
int gh_app_log_open(struct gh_app *app);

/* The first steps of a helper process forked by the master of `gatehouse
 * serve` (the audit export, the LDAP sync, the web server): ON_TERM
 * handles SIGTERM and SIGINT, SIGHUP and SIGCHLD are back to their
 * defaults, SIGPIPE is ignored, log lines are tagged TAG and the master's
 * store handle is let go of. */
void gh_app_helper_begin(struct gh_app *app, const char *tag, void (*on_term)(int));

/* gh_app_helper_begin, then the helper's own store opened into *RET_ST
 * (the caller closes it). */
int gh_app_helper_start(struct gh_app *app, const char *tag, void (*on_term)(int),
			struct gh_store **ret_st);

/* The serve lock, DATA/serve.lock (root's, 0600): the master of `gatehouse
 * serve` holds it (flock) while it runs, its workers with it, so that
 * commands that must not run beside it (`gatehouse restore`) can tell.
 * gh_app_serve_lock: 0 and *RET_FD (kept open for the process's life),
 * GH_EBUSY when another process holds it, or GH_E*. */
int gh_app_serve_lock(const char *data_dir, int *ret_fd);
/* Whether a master (or one of its workers) holds the serve lock. */
bool gh_app_serve_running(const char *data_dir);

/* First start: when no user exists, create "admin" (role admin) with a
 * random password, save it to DATA/initial-admin-password (0600) and
 * return it in *ret_password (sodium memory, gh_secret_free). Returns 0
 * with *ret_password NULL when users already exist. */
int gh_app_first_start(struct gh_app *app, char **ret_password);
