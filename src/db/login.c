/* The database gateway's login: who the client is, the gate, the target
 * and the secret for the door (see door.h, gh_db_login). */
#include "db/dbpriv.h"
#include "app/app.h"
#include "audit/audit.h"
#include "auth/userauth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "filter/cmdguard.h"
#include "session/authz.h"
#include "session/dbtoken.h"
#include "session/session.h"
#include "ssh/login.h"
#include "ssh/loginpolicy.h"
#include "ssh/proclimit.h"
#include "ssh/worker.h"
#include "store/dbtoken.h"
#include "store/store.h"
#include "target/target.h"
#include "vault/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAILED "password authentication failed"
#define NOT_PERMITTED "not permitted"

static void status_byte(struct gh_db *db, char c)
{
	if (db->status_fd >= 0 && write(db->status_fd, &c, 1) < 0)
		gh_debug("status pipe: closed");
}

static struct gh_audit_who who_of(const struct gh_db *db, const char *user)
{
	struct gh_audit_who w = { .user = user, .source = db->source };
	return w;
}

/* A refused login: audited, counted for the source's penalty. */
static int login_fail(struct gh_db *db, const struct gh_login *l, const char *reason,
		      struct gh_db_login *ret)
{
	struct gh_audit_who w = who_of(db, l->user);
	struct gh_audit_login_as as = { .account = l->account, .asset = l->asset };
	gh_audit_login_as(db->st, &w, &as, db->door->name, false, reason);
	status_byte(db, GH_WORKER_AUTH_FAILED);
	gh_info("%s login of %s from %s refused: %s", db->door->name, l->user, db->peer_ip, reason);
	snprintf(ret->err, sizeof ret->err, "%s for user \"%s\"", FAILED, l->user);
	return GH_EAUTH;
}

/* The user and the password (or one-time token). */
static int login_user(struct gh_db *db, const struct gh_login *l, const char *password,
		      struct gh_db_login *ret)
{
	bool found = false, mfa = false;
	const char *why = gh_auth_prepare(db->app, db->st, l->user, &db->user, &found);
	db->have_user = found;
	if (gh_dbtoken_looks(password)) {
		if (why)
			return login_fail(db, l, why, ret);
		if (gh_dbtoken_take(db->st, password, db->user.id, l->asset, l->account) < 0)
			return login_fail(db, l, "db token unknown, expired or used", ret);
		return 0;
	}
	const char *bad = gh_auth_password_check(db->app, db->st, found ? &db->user : NULL,
						 why == NULL, password);
	if (why)
		return login_fail(db, l, why, ret);
	if (bad)
		return login_fail(db, l, bad, ret);
	if (gh_mfa_needed(&db->app->cfg, db->st, &db->user, &mfa) < 0 || mfa)
		return login_fail(db, l, "second factor needed: a db token is required", ret);
	return 0;
}

static int open_session(struct gh_db *db, const struct gh_login *l)
{
	struct gh_sess_opts o = { .st = db->st,
				  .user_id = db->user.id,
				  .user = db->user.name,
				  .source_ip = db->peer_ip,
				  .source_port = db->peer_port,
				  .asset = l->asset,
				  .account = l->account,
				  .protocol = db->door->name,
				  .kind = db->door->name };
	return gh_sess_open(&o, &db->sess);
}

/* The asset, the gate, the filters: 0 or GH_EPERM (audited). */
static int login_gate(struct gh_db *db, const struct gh_login *l, struct gh_db_login *ret)
{
	struct gh_authz az;
	char err[256] = "";
	int r = gh_store_asset_get(db->st, l->asset, &db->asset);
	if (r < 0) {
		gh_sess_refuse(db->sess, l->asset, l->account,
			       r == GH_ENOENT ? "no such asset" : "store error");
		goto refused;
	}
	db->have_asset = true;
	if (!(db->asset.protocols & db->door->protocol)) {
		gh_sess_refuse(db->sess, l->asset, l->account, "asset does not serve this protocol");
		goto refused;
	}
	r = gh_sess_authorize(db->sess, l->asset, l->account, db->door->protocol, &az);
	if (r < 0)
		goto refused;
	if (gh_store_perm_databases_get(db->st, az.perm_id, &db->databases) < 0) {
		gh_sess_refuse(db->sess, l->asset, l->account, "store error");
		goto refused;
	}
	r = gh_cmdguard_open_kind(db->st, &db->user, &db->asset, l->account, db->door->filter_kind,
				  &db->guard, err, sizeof err);
	if (r < 0) {
		gh_sess_refuse(db->sess, l->asset, l->account, "command filters do not load");
		goto refused;
	}
	gh_cmdguard_set_dynamic(db->guard, db->app->cfg.cmdfilter_dynamic);
	return 0;
refused:
	snprintf(ret->err, sizeof ret->err, "%s", NOT_PERMITTED);
	gh_db_end_reason(db, "refused");
	return GH_EPERM;
}

/* The target's socket: 0, or the reason for the client. */
static int login_connect(struct gh_db *db, struct gh_db_login *ret)
{
	char err[GH_TARGET_ERRLEN] = "";
	int fd = -1, port = db->asset.port > 0 ? db->asset.port : db->door->default_port;
	gh_sess_target(db->sess, db->asset.id, db->asset.name, db->account, NULL);
	struct gh_sess_reach o = { .st = db->st,
				   .vault = db->app->vault,
				   .asset = &db->asset,
				   .account = db->account,
				   .protocol = db->door->protocol,
				   .timeout = db->app->cfg.target_connect_timeout,
				   .data_dir = db->app->data_dir };
	int r = gh_sess_dial(db->sess, &o, port, &fd, err);
	if (r < 0) {
		snprintf(ret->err, sizeof ret->err, "database %.64s unavailable: %.150s", db->asset.name,
			 err);
		char why[GH_TARGET_ERRLEN + 32];
		snprintf(why, sizeof why, "connect failed: %s", err);
		gh_db_end_reason(db, why);
		return r;
	}
	gh_db_io_init(&db->target, fd, db->client.idle_ms);
	return 0;
}

/* The account's secret, through the gate again. */
static int login_secret(struct gh_db *db, struct gh_db_login *ret)
{
	struct gh_authz_req rq = { .user = db->user.name,
				   .source_ip = db->peer_ip,
				   .asset = db->asset.name,
				   .account = db->account,
				   .protocol = db->door->protocol,
				   .action = GH_ACT_CONNECT };
	struct gh_authz dec;
	struct gh_credential cred = { 0 };
	int r = gh_authz_credential(db->st, db->app->vault, &rq, &dec, &cred);
	if (r == 0) {
		ret->secret = sodium_malloc(cred.len + 1);
		if (!ret->secret) {
			r = GH_ENOMEM;
		} else {
			memcpy(ret->secret, cred.secret, cred.len + 1);
			ret->secret_len = cred.len;
		}
	}
	gh_credential_clear(&cred);
	if (r < 0) {
		gh_error("cannot use the secret of %s@%s: %s", db->account, db->asset.name,
			 gh_strerror(r));
		snprintf(ret->err, sizeof ret->err, "the stored credentials cannot be used");
		gh_db_end_reason(db, "no credentials");
	}
	return r;
}

static int login_record(struct gh_db *db)
{
	struct gh_sess_rec_opts o = { .recordings_dir = db->app->cfg.recordings_dir,
				      .record_input = false,
				      .binary = false };
	return gh_sess_record(db->sess, &o);
}

int gh_db_login(struct gh_db *db, const char *login, const char *password, const char *database,
		struct gh_db_login *ret)
{
	struct gh_login l;
	char why[256] = "";
	int64_t slot = 0;
	memset(ret, 0, sizeof *ret);
	if (db->sess || !login || !password)
		return GH_EINVAL;
	if (gh_login_parse(login, strlen(login), &l) < 0 || !l.account[0] || !l.asset[0]) {
		snprintf(ret->err, sizeof ret->err,
			 "user name must be user@account@asset (or user#account#asset)");
		return GH_EAUTH;
	}
	int r = login_user(db, &l, password, ret);
	if (r < 0)
		return r;
	struct gh_audit_who w = who_of(db, l.user);
	struct gh_audit_login_as as = { .account = l.account, .asset = l.asset };
	gh_audit_login_as(db->st, &w, &as, db->door->name, true, NULL);
	status_byte(db, GH_WORKER_AUTHENTICATED);
	alarm(0);
	if (gh_proclimit_claim(db->st, &db->app->cfg, &db->user, "connection", getpid(), &slot, why,
			       sizeof why) < 0) {
		snprintf(ret->err, sizeof ret->err, "%s", why);
		return GH_ELIMIT;
	}
	snprintf(db->account, sizeof db->account, "%s", l.account);
	snprintf(db->database, sizeof db->database, "%s", database ? database : "");
	if (open_session(db, &l) < 0)
		return GH_ENOMEM;
	r = login_gate(db, &l, ret);
	if (r == 0)
		r = gh_db_database(db, db->database, ret->err, sizeof ret->err);
	if (r == 0)
		r = login_connect(db, ret);
	if (r == 0)
		r = login_record(db) < 0 ? GH_EIO : 0;
	if (r == 0)
		r = login_secret(db, ret);
	if (r < 0)
		return r;
	ret->account = db->account;
	ret->asset = db->asset.name;
	ret->database = db->database;
	ret->tls_wanted = db->target_ca[0] != '\0';
	return 0;
}

void gh_db_login_secret_clear(struct gh_db_login *ret)
{
	if (ret && ret->secret) {
		sodium_free(ret->secret); /* wipes */
		ret->secret = NULL;
		ret->secret_len = 0;
	}
}
