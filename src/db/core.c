/* The database gateway's worker: one accepted connection, its door served
 * after the privilege drop, its session ended once (see door.h, db.h). */
#include "db/db.h"
#include "db/dbpriv.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "filter/cmdguard.h"
#include "session/session.h"
#include "ssh/priv.h"
#include "ssh/worker.h"
#include "store/store.h"
#include "web/web.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
	_exit(1); /* login_grace_time passed: nothing to save before a login */
}

static void db_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

/* Root's part: the store, the TLS certificate; then the drop. */
static int db_prepare(struct gh_db *db, const struct gh_db_worker_args *a)
{
	struct gh_app *app = db->app;
	char cert[4096], key[4096];
	app->store = gh_store_forget(app->store);
	int r = gh_store_open(&app->cfg, &db->st);
	if (r < 0) {
		gh_error("cannot open the store: %s", gh_strerror(r));
		return r;
	}
	app->store = db->st;
	if (gh_web_cert_paths(app, cert, key) == 0 &&
	    gh_db_tls_server_ctx(cert, key, &db->tls_server) < 0)
		gh_warn("%s: no TLS certificate (%s): cleartext passwords refused", db->door->name,
			cert);
	return gh_priv_drop(a->priv) < 0 ? GH_EPERM : 0;
}

void gh_db_end_reason(struct gh_db *db, const char *reason)
{
	if (db && reason && !db->end_reason[0])
		snprintf(db->end_reason, sizeof db->end_reason, "%s", reason);
}

const char *gh_db_peer_ip(const struct gh_db *db)
{
	return db->peer_ip;
}

struct gh_db_io *gh_db_client(struct gh_db *db)
{
	return &db->client;
}

struct gh_db_io *gh_db_target(struct gh_db *db)
{
	return db->target.fd >= 0 ? &db->target : NULL;
}

static void db_finish(struct gh_db *db, int status)
{
	if (db->sess) {
		struct gh_sess_result res = { .exit_status = -1 };
		const char *why = db->end_reason[0] ? db->end_reason
				  : status == 0      ? "client closed"
						     : "connection error";
		gh_sess_end(db->sess, &res, why);
		db->sess = gh_sess_free(db->sess);
	}
	db->guard = gh_cmdguard_free(db->guard);
	gh_db_io_close(&db->target);
	gh_db_io_close(&db->client);
	SSL_CTX_free(db->tls_server);
	if (db->have_user)
		gh_user_free(&db->user);
	if (db->have_asset)
		gh_asset_free(&db->asset);
	free(db->databases);
}

int gh_db_worker_run(struct gh_app *app, const struct gh_db_worker_args *a)
{
	struct gh_db *db = calloc(1, sizeof *db);
	const struct gh_db_door *door = gh_db_door_get(a->door);
	int r = GH_ENOMEM;
	if (!db || !door) {
		close(a->fd);
		free(db);
		return 1;
	}
	gh_log_set_tag(door->name);
	db_signals();
	db->app = app;
	db->door = door;
	db->status_fd = a->status_fd;
	db->target.fd = -1;
	snprintf(db->peer_ip, sizeof db->peer_ip, "%s", a->peer_ip);
	db->peer_port = a->peer_port;
	snprintf(db->source, sizeof db->source, "%s:%d", a->peer_ip, a->peer_port);
	int idle = app->cfg.idle_timeout > 0 ? app->cfg.idle_timeout * 1000 : -1;
	gh_db_io_init(&db->client, a->fd, idle);
	alarm((unsigned)app->cfg.login_grace_time);
	r = db_prepare(db, a);
	if (r == 0)
		r = door->serve(db);
	alarm(0);
	db_finish(db, r);
	if (a->status_fd >= 0)
		close(a->status_fd);
	free(db);
	return r == 0 ? 0 : 1;
}
