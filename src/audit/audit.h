/* Audit: the one door through which every module records what happened.
 *
 * Each helper writes one structured event through gh_store_event_add (the
 * store chains it by hash). Helpers never take secrets: pass names,
 * addresses, methods and reasons only. Strings are borrowed; any may be
 * NULL. Return 0 or a negative GH_E* (callers usually log and go on: an
 * audit failure must not leak into what the user sees). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct gh_store;

/* Who and from where: shared by every event of one connection. */
struct gh_audit_who {
	const char *user;       /* as presented (may name no real user) */
	const char *source;     /* "ip:port" */
	const char *session_id; /* NULL before a session row exists */
};

/* kind "login": METHOD "password" | "publickey" | ..., result
 * "success"/"failure", REASON e.g. "unknown user", "bad password",
 * "disabled", "key not registered", "too many attempts". */
int gh_audit_login(struct gh_store *st, const struct gh_audit_who *who, const char *method,
		   bool success, const char *reason);

/* kind "session": RESULT "start" | "end" | "error"; DETAIL free text
 * (command, exit status, bytes). */
int gh_audit_session(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *account, const char *result, const char *reason,
		     const char *detail);

/* kind "policy": an access decision on ASSET as ACCOUNT ("allow"/"deny"). */
int gh_audit_policy(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		    const char *account, bool allow, const char *reason);

/* kind "hostkey": RESULT "pinned" (first use) | "mismatch" (refused);
 * DETAIL names the fingerprints. */
int gh_audit_hostkey(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *result, const char *detail);
