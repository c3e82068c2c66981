#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#include <string.h>

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
	int r = gh_store_event_add(st, &e);
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
