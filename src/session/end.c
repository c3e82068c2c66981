/* The end of a session (see end.h). */
#include "session/end.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

int gh_session_end(struct gh_store *st, const struct gh_audit_who *who,
		   const struct gh_session_end *e)
{
	struct gh_audit_who aw = *who;
	const char *sig = e->exit_signal && *e->exit_signal ? e->exit_signal : NULL;
	int r = gh_store_session_close(st, e->id, e->exit_status, sig, e->bytes_in, e->bytes_out,
				       e->reason);
	if (r == GH_ENOENT)
		return r; /* ended already, with its event */
	if (r < 0)
		gh_error("cannot close session %s: %s", e->id, gh_strerror(r));
	aw.session_id = e->id;
	int a = gh_audit_session(st, &aw, e->asset, e->account, "end", e->reason, e->detail);
	if (a < 0)
		gh_error("session %s: cannot write its end event: %s", e->id, gh_strerror(a));
	return r < 0 ? r : a;
}
