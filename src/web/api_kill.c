/* POST /api/v1/sessions/{id}/kill: end a live session as `gatehouse
 * session kill` does (its worker's live socket, live/live.h), audited the
 * same way with the API's actor. */
#include "web/http.h"
#include "app/app.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "live/live.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_S 5

/* Send "kill ACTOR REASON" to session ID's worker; 0 when it answered ok. */
static int ask_kill(struct gh_web_ctx *ctx, const char *id, const char *actor, const char *reason,
		    char *why, size_t whylen)
{
	char run_dir[4096], req[GH_LIVE_REASON_MAX + 200], line[256];
	struct timeval tv = { .tv_sec = ANSWER_TIMEOUT_S };
	uid_t owner;
	int fd = -1, r;
	if ((r = gh_live_run_dir(ctx->app->data_dir, run_dir, sizeof run_dir)) < 0 ||
	    (r = gh_live_owner(ctx->app->cfg.worker_user, &owner)) < 0)
		return r;
	if ((r = gh_live_connect(run_dir, id, owner, &fd, why, whylen)) < 0)
		return r;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int len = snprintf(req, sizeof req, "kill %s %.*s\n", actor, GH_LIVE_REASON_MAX, reason);
	if (len < 0 || (size_t)len >= sizeof req || write(fd, req, (size_t)len) != len) {
		close(fd);
		return GH_EIO;
	}
	r = gh_live_read_answer(fd, line, sizeof line);
	close(fd);
	if (r < 0) {
		snprintf(why, whylen, "%.100s", line[0] ? line : "no answer");
		return GH_EIO;
	}
	return 0;
}

int gh_web_h_session_kill(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_session s = { 0 };
	char why[GH_LIVE_WHYLEN] = "", reason[GH_LIVE_REASON_MAX + 1] = "killed through the API";
	json_t *b = NULL;
	if (req->body_len) {
		if (gh_web_body(req, resp, &b) < 0)
			return 0;
		const char *rs = json_string_value(json_object_get(b, "reason"));
		if (rs) {
			snprintf(reason, sizeof reason, "%s", rs);
			for (char *p = reason; *p; p++) /* one line */
				if (*p == '\n' || *p == '\r')
					*p = ' ';
		}
		json_decref(b);
	}
	int r = gh_store_session_get(ctx->st, req->params[0], &s);
	if (r < 0)
		return gh_web_store_error(resp, r, "session");
	r = s.ended_at ? GH_ENOENT : ask_kill(ctx, s.id, req->actor, reason, why, sizeof why);
	struct gh_audit_who w = { .user = req->actor, .source = req->peer, .session_id = s.id };
	gh_audit_live(ctx->st, &w, s.asset_name, s.account, "kill", r == 0 ? "ok" : "error", reason,
		      r == 0 ? NULL : "session not reachable");
	if (r == GH_ENOENT)
		gh_web_error(resp, 409, "session is not live (ended, or not relaying yet)");
	else if (r < 0)
		gh_web_error(resp, 502, "session not reachable: %s", why[0] ? why : gh_strerror(r));
	else
		gh_web_json(resp, 200, json_pack("{s:s}", "killed", s.id));
	gh_session_free(&s);
	return 0;
}
