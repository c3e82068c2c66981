/* Web console authentication: the Gatehouse password plus TOTP where the
 * user needs it (the SSH login's rules: auth/userauth.h, ssh/loginpolicy.h),
 * cookie sessions with idle and absolute lifetimes, API tokens. */
#include "web/http.h"
#include "app/app.h"
#include "audit/audit.h"
#include "auth/userauth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "ssh/loginpolicy.h"
#include "ssh/penalty.h"
#include "store/store.h"
#include "store/webstore.h"
#include "web/penalty_ch.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define COOKIE "gh_session"
#define TOKEN_PREFIX "ghp_"

void gh_web_hash(const char *s, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof h);
}

void gh_web_random(const char *prefix, char *out, size_t outlen)
{
	unsigned char b[32];
	char hex[65];
	randombytes_buf(b, sizeof b);
	sodium_bin2hex(hex, sizeof hex, b, sizeof b);
	snprintf(out, outlen, "%s%s", prefix, hex);
	sodium_memzero(b, sizeof b);
	sodium_memzero(hex, sizeof hex);
}

/* The value of cookie NAME in HDR into OUT; false when absent or too long. */
static bool cookie_value(const char *hdr, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	for (const char *p = hdr; *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		size_t n = strcspn(p, ";");
		if (n > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			if (n - nl - 1 >= outlen)
				return false;
			memcpy(out, p + nl + 1, n - nl - 1);
			out[n - nl - 1] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

/* A user who may log in now (not disabled nor locked) into REQ. */
static int take_user(struct gh_web_ctx *ctx, struct gh_web_req *req, int64_t user_id)
{
	struct gh_user byid = { 0 }, u = { 0 };
	bool found = false;
	int r = gh_store_user_get_by_id(ctx->st, user_id, &byid);
	const char *why = r < 0 ? "unknown user"
				: gh_auth_user_refusal(ctx->st, byid.name, &u, &found);
	gh_user_free(&byid);
	if (!why) {
		req->user_id = u.id;
		req->role = u.role;
		snprintf(req->user, sizeof req->user, "%s", u.name);
	}
	gh_user_free(&u);
	return why ? GH_EAUTH : 0;
}

static int by_cookie(struct gh_web_ctx *ctx, struct gh_web_req *req, const char *id)
{
	struct gh_web_session s;
	char hash[65];
	int64_t now = gh_now();
	const struct gh_config *cfg = &ctx->app->cfg;
	gh_web_hash(id, hash);
	if (gh_store_websession_get(ctx->st, hash, &s) < 0)
		return GH_EAUTH;
	if (now - s.last_seen > cfg->web_session_idle || now - s.created_at > cfg->web_session_max) {
		gh_store_websession_del(ctx->st, hash);
		return GH_EAUTH;
	}
	if (take_user(ctx, req, s.user_id) < 0)
		return GH_EAUTH;
	gh_store_websession_touch(ctx->st, hash, now);
	snprintf(req->session_hash, sizeof req->session_hash, "%s", hash);
	snprintf(req->actor, sizeof req->actor, "web:%s", req->user);
	return 0;
}

/* The source IP's penalty after a failed login (FAIL) or for a new one:
 * the master's table, shared with the SSH front door; this process's own
 * when there is no channel to the master. */
static enum gh_penalty_state source_penalty(struct gh_web_ctx *ctx, const char *ip, bool fail)
{
	const struct gh_config *cfg = &ctx->app->cfg;
	int64_t now = gh_mono_ms();
	int st = gh_pench_ask(&ctx->master_ch, fail ? 'F' : 'C', ip);
	if (st >= 0)
		return (enum gh_penalty_state)st;
	if (fail)
		gh_penalty_fail(ctx->penalty, ip, now, cfg->per_source_penalty_failures,
				cfg->per_source_penalty_time);
	return gh_penalty_check(ctx->penalty, ip, now, cfg->per_source_penalty_time);
}

static void token_refused(struct gh_web_ctx *ctx, struct gh_web_req *req, const char *who,
			  const char *reason)
{
	struct gh_audit_who w = { .user = who, .source = req->peer };
	gh_audit_login(ctx->st, &w, "token", false, reason);
	source_penalty(ctx, req->peer, true);
}

static int by_token(struct gh_web_ctx *ctx, struct gh_web_req *req, const char *tok)
{
	struct gh_api_token t = { 0 };
	char hash[65];
	int64_t now = gh_now();
	int r = GH_EAUTH;
	gh_web_hash(tok, hash);
	if (gh_store_token_by_hash(ctx->st, hash, &t) < 0) {
		token_refused(ctx, req, NULL, "unknown token");
		goto out;
	}
	if (t.expires_at && now >= t.expires_at) {
		token_refused(ctx, req, t.user_name, "token expired");
		goto out;
	}
	if (take_user(ctx, req, t.user_id) < 0) {
		token_refused(ctx, req, t.user_name, "user may not log in");
		goto out;
	}
	if (now - t.last_used >= 60) /* a write per minute at most */
		gh_store_token_touch(ctx->st, t.id, now);
	snprintf(req->actor, sizeof req->actor, "token:%s", t.name);
	r = 0;
out:
	gh_api_token_free(&t);
	return r;
}

int gh_web_authenticate(struct gh_web_ctx *ctx, struct gh_web_req *req)
{
	char id[128];
	if (!strncmp(req->authorization, "Bearer ", 7))
		return by_token(ctx, req, req->authorization + 7);
	if (req->authorization[0]) /* another scheme */
		return GH_EAUTH;
	if (cookie_value(req->cookie, COOKIE, id, sizeof id))
		return by_cookie(ctx, req, id);
	return GH_EAUTH;
}

/* The checks of one login attempt after the password; NULL or the reason. */
static const char *second_steps(struct gh_web_ctx *ctx, const struct gh_web_req *req,
				struct gh_user *u, const char *code, char *reason, size_t len)
{
	struct gh_mfa m = { 0 };
	bool need = false;
	const char *why = NULL;
	if (gh_login_acl_check(ctx->st, u, req->peer, gh_now(), reason, len) < 0)
		return reason;
	if (gh_mfa_needed(&ctx->app->cfg, ctx->st, u, &need) < 0)
		return "store error";
	if (!need)
		return NULL;
	if (gh_mfa_start(&m, ctx->app->vault, u) < 0)
		why = "totp seed unavailable";
	else if (m.enrol) /* the QR code is shown by the SSH login */
		why = "totp not enrolled (log in over SSH once to enrol)";
	else if (!code || !*code)
		why = "totp code required";
	else if (gh_mfa_check(&m, ctx->st, ctx->app->vault, code, gh_now(), &why) == 0)
		why = NULL;
	gh_mfa_clear(&m);
	return why;
}

static int login_ok(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		    const struct gh_user *u)
{
	char id[80], csrf[65], hash[65];
	gh_web_random("", id, sizeof id);
	gh_web_random("", csrf, sizeof csrf);
	gh_web_hash(id, hash);
	int64_t now = gh_now();
	gh_store_websession_prune(ctx->st, now - ctx->app->cfg.web_session_idle,
				  now - ctx->app->cfg.web_session_max);
	int r = gh_store_websession_add(ctx->st, hash, u->id, csrf, now);
	if (r < 0) {
		sodium_memzero(id, sizeof id);
		return gh_web_store_error(resp, r, "session");
	}
	snprintf(resp->set_cookie, sizeof resp->set_cookie,
		 COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%d", id,
		 ctx->app->cfg.web_session_max);
	sodium_memzero(id, sizeof id);
	struct gh_audit_who w = { .user = u->name, .source = req->peer };
	gh_audit_login(ctx->st, &w, "web", true, NULL);
	gh_info("web login of %s from %s", u->name, req->peer);
	json_t *j = json_pack("{s:s, s:s, s:s}", "user", u->name, "role", gh_role_name(u->role),
			      "csrf", csrf);
	return gh_web_json(resp, 200, j);
}

int gh_web_h_login(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_user u = { 0 };
	bool found = false;
	char reason[256], esc[200];
	const char *name, *pw, *code, *why;

	if (source_penalty(ctx, req->peer, false) == GH_PENALTY_REFUSED)
		return gh_web_error(resp, 429, "too many failed logins from this address; try later");
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	name = json_string_value(json_object_get(b, "user"));
	pw = json_string_value(json_object_get(b, "password"));
	code = json_string_value(json_object_get(b, "totp"));
	if (!name || !pw || strlen(name) > 64 || strlen(pw) > 1024) {
		json_decref(b);
		return gh_web_error(resp, 400, "give \"user\" and \"password\" (strings)");
	}
	why = gh_auth_prepare(ctx->app, ctx->st, name, &u, &found);
	const char *bad = gh_auth_password_check(ctx->app, ctx->st, found ? &u : NULL, !why, pw);
	if (!why)
		why = bad;
	if (!why)
		why = second_steps(ctx, req, &u, code, reason, sizeof reason);
	if (why) {
		struct gh_audit_who w = { .user = name, .source = req->peer };
		gh_audit_login(ctx->st, &w, "web", false, why);
		gh_info("web login failure for %s from %s: %s", gh_escape(esc, sizeof esc, name),
			req->peer, why);
		source_penalty(ctx, req->peer, true);
		gh_web_error(resp, 401, "%s", strstr(why, "totp") ? "a valid TOTP code is needed"
								  : "login refused");
	} else {
		login_ok(ctx, req, resp, &u);
	}
	json_decref(b);
	gh_user_free(&u);
	return 0;
}

int gh_web_h_logout(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	if (req->session_hash[0])
		gh_store_websession_del(ctx->st, req->session_hash);
	struct gh_audit_who w = { .user = req->user, .source = req->peer };
	gh_audit_login(ctx->st, &w, req->session_hash[0] ? "web" : "token", true, "logout");
	snprintf(resp->set_cookie, sizeof resp->set_cookie,
		 COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
	return gh_web_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

int gh_web_h_me(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_web_session s = { .user_id = 0 };
	json_t *j = json_pack("{s:s, s:s, s:s}", "user", req->user, "role", gh_role_name(req->role),
			      "actor", req->actor);
	if (req->session_hash[0] && gh_store_websession_get(ctx->st, req->session_hash, &s) == 0)
		json_object_set_new(j, "csrf", json_string(s.csrf));
	return gh_web_json(resp, 200, j);
}
