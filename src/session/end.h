/* The end of a session: the one way a session row closes.
 *
 * gh_session_end() closes the row and writes exactly one audit event of
 * kind "session", result "end", with the reason, so that no way out of a
 * session -- a worker's normal or failed end, a tunnel connection's end,
 * the master closing the rows of a worker that died -- can leave a closed
 * row without its event, or an event without its row closed.
 *
 * Nothing here talks to a client; store errors are logged and returned.
 * No libssh. */
#pragma once
#include <stdint.h>

struct gh_store;
struct gh_audit_who;

struct gh_session_end {
	const char *id;          /* the row (who->session_id is not read) */
	const char *asset;       /* for the event; NULL when none */
	const char *account;     /* for the event; NULL when none */
	int exit_status;         /* -1 when there is none */
	const char *exit_signal; /* NULL or "" when none */
	int64_t bytes_in, bytes_out;
	const char *reason;      /* why it ended (row and event) */
	const char *detail;      /* event detail, NULL for none */
};

/* Close E->id's row and write its one end event (WHO names the user and
 * source; its session_id is taken from E->id). A row that has ended
 * already (closed by another process first) gets no second event:
 * GH_ENOENT. Otherwise 0, or the first store error (after a failed close
 * the event is still written: the end is not lost from the audit). */
int gh_session_end(struct gh_store *st, const struct gh_audit_who *who,
		   const struct gh_session_end *e);
