/* The database gateway's core: the services door.h promises. */
#include "db/db.h"
#include "db/door.h"
#include "core/error.h"

#include <stddef.h>

int gh_db_listen(const struct gh_app *app, struct gh_db_listener *ret, size_t cap, size_t *ret_n)
{
	*ret_n = 0;
	return 0;
}

int gh_db_worker_run(struct gh_app *app, const struct gh_db_worker_args *a)
{
	return 1;
}

struct gh_db_io *gh_db_client(struct gh_db *db) { return NULL; }
struct gh_db_io *gh_db_target(struct gh_db *db) { return NULL; }
int gh_db_io_fd(const struct gh_db_io *io) { return -1; }
bool gh_db_io_is_tls(const struct gh_db_io *io) { return false; }
size_t gh_db_io_pending(const struct gh_db_io *io) { return 0; }
int gh_db_io_read(struct gh_db_io *io, void *buf, size_t len, int timeout_ms, size_t *ret_n)
{
	return GH_ECONN;
}
int gh_db_io_read_full(struct gh_db_io *io, void *buf, size_t len, int timeout_ms)
{
	return GH_ECONN;
}
int gh_db_io_write(struct gh_db_io *io, const void *buf, size_t len) { return GH_ECONN; }
int gh_db_io_tls_server(struct gh_db *db) { return GH_EINVAL; }
int gh_db_io_tls_client(struct gh_db *db, char *err, size_t errlen) { return GH_EINVAL; }
int gh_db_login(struct gh_db *db, const char *login, const char *password, const char *database,
		struct gh_db_login *ret)
{
	return GH_EAUTH;
}
void gh_db_login_secret_clear(struct gh_db_login *ret) {}
void gh_db_running(struct gh_db *db, const char *server_version) {}
int gh_db_statement(struct gh_db *db, const char *text, size_t len, const char *database,
		    struct gh_db_judged *ret)
{
	return GH_EINVAL;
}
void gh_db_outcome(struct gh_db *db, const struct gh_db_outcome *o) {}
int gh_db_database(struct gh_db *db, const char *name, char *err, size_t errlen)
{
	return GH_EPERM;
}
void gh_db_end_reason(struct gh_db *db, const char *reason) {}
const char *gh_db_peer_ip(const struct gh_db *db) { return "?"; }
