#include "audit/audit.h"
#include "audit/chain.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* room for `login="..."` with a login name escaped (4 bytes a byte) */
#define GH_AUDIT_LOGIN_DETAIL 1100

static int add(struct gh_store *st, const struct gh_audit_who *who, const char *kind,
	       const char *asset, const char *account, const char *method, const char *result,
	       const char *reason, const char *detail)
{
	struct gh_event e;
	memset(&e, 0, sizeof e);
	e.kind = (char *)kind;
	if (who) {
		e.user_name = (char *)who->user;
		e.source = (char *)who->source;
		e.session_id = (char *)who->session_id;
	}
	e.asset_name = (char *)asset;
	e.account = (char *)account;
	e.method = (char *)method;
	e.result = (char *)result;
	e.reason = (char *)reason;
	e.detail = (char *)detail;
	int r = gh_chain_append(st, &e);
	if (r < 0)
		gh_error("cannot record %s event: %s (%s)", kind, gh_strerror(r), gh_store_errmsg(st));
	return r;
}

int gh_audit_login(struct gh_store *st, const struct gh_audit_who *who, const char *method,
		   bool success, const char *reason)
{
	return add(st, who, "login", NULL, NULL, method, success ? "success" : "failure", reason,
		   NULL);
}

int gh_audit_login_as(struct gh_store *st, const struct gh_audit_who *who,
		      const struct gh_audit_login_as *as, const char *method, bool success,
		      const char *reason)
{
	char detail[GH_AUDIT_LOGIN_DETAIL];
	const char *d = NULL;
	const char *user = who ? who->user : NULL;
	if (as && as->presented && (!user || strcmp(as->presented, user) != 0) &&
	    snprintf(detail, sizeof detail, "login=\"%s\"", as->presented) < (int)sizeof detail)
		d = detail;
	return add(st, who, "login", as ? as->asset : NULL, as ? as->account : NULL, method,
		   success ? "success" : "failure", reason, d);
}

int gh_audit_session(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *account, const char *result, const char *reason, const char *detail)
{
	return add(st, who, "session", asset, account, NULL, result, reason, detail);
}

int gh_audit_policy(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		    const char *account, bool allow, const char *reason)
{
	return add(st, who, "policy", asset, account, NULL, allow ? "allow" : "deny", reason, NULL);
}

int gh_audit_hostkey(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *result, const char *detail)
{
	return add(st, who, "hostkey", asset, NULL, NULL, result, NULL, detail);
}

/* gh_escape into a new buffer big enough for all of SRC. */
static char *escape_dup(const char *src)
{
	size_t n = strlen(src) * 4 + 1;
	char *d = malloc(n);
	if (d)
		gh_escape(d, n, src);
	return d;
}

int gh_audit_file(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  const char *account, const struct gh_audit_file_op *op)
{
	char *oper = NULL, *path = NULL, *path2 = NULL, *detail = NULL;
	int r = GH_ENOMEM;

	oper = escape_dup(op->operation ? op->operation : "");
	path = escape_dup(op->path ? op->path : "");
	path2 = op->path2 ? escape_dup(op->path2) : NULL;
	if (!oper || !path || (op->path2 && !path2))
		goto out;
	size_t len = strlen(path) + (path2 ? strlen(path2) : 0) +
		     (op->actions ? strlen(op->actions) : 0) + 160;
	detail = malloc(len);
	if (!detail)
		goto out;
	snprintf(detail, len,
		 "path=\"%s\"%s%s%s%s%s bytes_read=%" PRIu64 " bytes_written=%" PRIu64 " status=%d",
		 path, path2 ? " path2=\"" : "", path2 ? path2 : "", path2 ? "\"" : "",
		 op->actions && *op->actions ? " actions=" : "",
		 op->actions && *op->actions ? op->actions : "", op->bytes_read, op->bytes_written,
		 op->status);
	r = add(st, who, "file", asset, account, oper, op->allow ? "allow" : "deny", op->reason,
		detail);
out:
	if (!detail) /* never reached the store */
		gh_error("cannot record file event: %s", gh_strerror(r));
	free(oper);
	free(path);
	free(path2);
	free(detail);
	return r;
}

int gh_audit_tunnel(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		    const struct gh_audit_tunnel *t)
{
	char host[1024], detail[1200];
	gh_escape(host, sizeof host, t->host ? t->host : "-");
	snprintf(detail, sizeof detail,
		 "host=%s port=%d bytes_in=%" PRIu64 " bytes_out=%" PRIu64 " duration_ms=%" PRId64,
		 host, t->port, t->bytes_in, t->bytes_out, t->duration_ms);
	return add(st, who, "tunnel", asset, NULL, t->method, t->result, t->reason, detail);
}

int gh_audit_jump(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  bool allow, const char *reason, const char *host, int port)
{
	char esc[1024], detail[1100];
	gh_escape(esc, sizeof esc, host ? host : "-");
	snprintf(detail, sizeof detail, "host=%s port=%d", esc, port);
	return add(st, who, "jump", asset, NULL, "direct-tcpip", allow ? "allow" : "deny", reason,
		   detail);
}

int gh_audit_live(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  const char *account, const char *method, const char *result, const char *reason,
		  const char *detail)
{
	return add(st, who, "live", asset, account, method, result, reason, detail);
}

int gh_audit_recording_closed(struct gh_store *st, const struct gh_audit_who *who,
			      const char *asset, const char *account, uint64_t bytes, int err,
			      const char *sha256)
{
	char detail[128];
	if (who && who->session_id) {
		int r = gh_store_session_set_recording_sha256(st, who->session_id, sha256);
		if (r < 0)
			gh_error("cannot store the recording digest of session %s: %s",
				 who->session_id, gh_strerror(r));
	}
	snprintf(detail, sizeof detail, "sha256=%s bytes=%" PRIu64, sha256, bytes);
	return add(st, who, "recording", asset, account, "sha256", err ? "error" : "sealed",
		   err ? gh_strerror(err) : NULL, detail);
}

int gh_audit_change(struct gh_store *st, const struct gh_audit_who *who, const char *what,
		    bool ok, const char *detail)
{
	return add(st, who, "change", NULL, NULL, what, ok ? "ok" : "error", NULL, detail);
}

int gh_audit_retention(struct gh_store *st, const struct gh_audit_who *who,
		       const char *session_id, const char *asset, const char *detail)
{
	struct gh_audit_who w = { who ? who->user : NULL, who ? who->source : NULL, session_id };
	return add(st, &w, "retention", asset, NULL, "prune", "removed", NULL, detail);
}

int gh_audit_event(struct gh_store *st, const struct gh_audit_who *who, const char *kind,
		   const char *asset, const char *account, const char *method, const char *result,
		   const char *reason, const char *detail)
{
	return add(st, who, kind, asset, account, method, result, reason, detail);
}

int gh_audit_command(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *account, const char *method, const char *result,
		     const char *rule, const char *cmd, const char *group)
{
	return gh_audit_command_dynamic(st, who, asset, account, method, result, rule, cmd, group,
					NULL);
}

int gh_audit_command_dynamic(struct gh_store *st, const struct gh_audit_who *who,
			     const char *asset, const char *account, const char *method,
			     const char *result, const char *rule, const char *cmd,
			     const char *group, const char *dynamic)
{
	char *c = escape_dup(cmd ? cmd : "");
	char *g = group ? escape_dup(group) : NULL;
	char *d = dynamic ? escape_dup(dynamic) : NULL;
	char *detail = NULL;
	int r = GH_ENOMEM;
	if (c && (!group || g) && (!dynamic || d) &&
	    asprintf(&detail, "cmd=\"%s\"%s%s%s%s%s", c, g ? " group=" : "", g ? g : "",
		     d ? " dynamic=\"" : "", d ? d : "", d ? "\"" : "") >= 0)
		r = add(st, who, "command", asset, account, method, result, rule, detail);
	else
		detail = NULL;
	if (r == GH_ENOMEM)
		gh_error("cannot record command event: %s", gh_strerror(r));
	free(c);
	free(g);
	free(d);
	free(detail);
	return r;
}
