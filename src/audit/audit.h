/* Audit: the one door through which every module records what happened.
 *
 * Each helper writes one structured event through gh_chain_append
 * (audit/chain.h hashes and links it; the store keeps the row). Helpers never take secrets: pass names,
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

/* The target a login asked for (borrowed; any may be NULL): the account and
 * asset parts of the login name, and the login name as presented (escaped)
 * when it says more than WHO->user. */
struct gh_audit_login_as {
	const char *account, *asset, *presented;
};

/* kind "login" as gh_audit_login, filed under WHO->user (the user part of
 * the login name) with AS's account and asset in their own fields and
 * DETAIL `login="PRESENTED"` when PRESENTED is set and differs from it. */
int gh_audit_login_as(struct gh_store *st, const struct gh_audit_who *who,
		      const struct gh_audit_login_as *as, const char *method, bool success,
		      const char *reason);

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

/* One file operation of a file-transfer session (sftp). */
struct gh_audit_file_op {
	const char *operation;  /* "open", "close", "remove", "rename", ... */
	const char *path;       /* as the client named it; NULL when none */
	const char *path2;      /* second path (rename target, link, ...) or NULL */
	const char *actions;    /* GH_ACT_* names it needed ("upload"), or NULL */
	uint64_t bytes_read;    /* file contents read through it (downloads) */
	uint64_t bytes_written; /* file contents written through it (uploads) */
	int status;             /* the protocol's status code of the reply; -1: none */
	bool allow;             /* false: refused by Gatehouse */
	const char *reason;     /* why refused, or what went wrong; NULL */
};

/* kind "file": METHOD the operation, RESULT "allow"/"deny", DETAIL
 * `path="..." [path2="..."] [actions=...] bytes_read=N bytes_written=N
 * status=N` with the operation and paths escaped (gh_escape). */
int gh_audit_file(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  const char *account, const struct gh_audit_file_op *op);

/* kind "tunnel": one forwarded connection or forwarding request. METHOD
 * "direct-tcpip" | "tcpip-forward" | "agent" | "x11"; RESULT "allow" |
 * "deny" | "end"; REASON why; DETAIL `host=H port=N bytes_in=N
 * bytes_out=N duration_ms=N` (HOST escaped; NULL host: "-"). */
struct gh_audit_tunnel {
	const char *method, *result, *reason;
	const char *host;
	int port;
	uint64_t bytes_in, bytes_out; /* client -> target, target -> client */
	int64_t duration_ms;
};
int gh_audit_tunnel(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		    const struct gh_audit_tunnel *t);

/* kind "jump": a ProxyJump decision (a direct-tcpip channel to an asset's
 * SSH port), METHOD "direct-tcpip", RESULT "allow"/"deny", DETAIL
 * `host=H port=N`. The inner session is audited as a normal "session". */
int gh_audit_jump(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  bool allow, const char *reason, const char *host, int port);

/* kind "live": an operation on a running session made with the CLI.
 * WHO->user is the acting identity ("os:NAME" or a Gatehouse user);
 * METHOD "watch" | "join" | "kill" | "lock" | "unlock"; RESULT "start" |
 * "end" | "ok" | "error"; REASON the --reason of a kill (or why it failed). */
int gh_audit_live(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		  const char *account, const char *method, const char *result, const char *reason,
		  const char *detail);

/* A session's recording was closed: store its digest SHA256 (hex) in the
 * session row and chain it as kind "recording", method "sha256", result
 * "sealed" (or "error" when ERR, the close status, is not 0), DETAIL
 * `sha256=HEX bytes=N`. */
int gh_audit_recording_closed(struct gh_store *st, const struct gh_audit_who *who,
			      const char *asset, const char *account, uint64_t bytes, int err,
			      const char *sha256);

/* kind "change": an admin change made with the CLI. WHO->user is the acting
 * identity ("os:NAME"), METHOD "<noun> <verb>", RESULT "ok"/"error",
 * DETAIL what changed (names, never secrets). */
int gh_audit_change(struct gh_store *st, const struct gh_audit_who *who, const char *what,
		    bool ok, const char *detail);

/* kind "retention": a pruned recording of SESSION_ID (DETAIL names the file). */
int gh_audit_retention(struct gh_store *st, const struct gh_audit_who *who,
		       const char *session_id, const char *asset, const char *detail);

/* Any KIND (tools, tests, kinds without a helper of their own yet). */
int gh_audit_event(struct gh_store *st, const struct gh_audit_who *who, const char *kind,
		   const char *asset, const char *account, const char *method, const char *result,
		   const char *reason, const char *detail);

/* kind "command": one command line checked by the command filter.
 * METHOD "exec" | "interactive"; RESULT the verdict "accept" | "reject" |
 * "warn" | "review-approved" | "review-denied" | "review-timeout"; RULE the
 * deciding filter's name (NULL when none matched); DETAIL
 * `cmd="..."` (escaped) and ` group=NAME` when a group matched. */
int gh_audit_command(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		     const char *account, const char *method, const char *result,
		     const char *rule, const char *cmd, const char *group);
/* The same for a verdict on a dynamic command (one the filter cannot
 * analyse): DYNAMIC, its one-line reason, is appended to DETAIL as
 * ` dynamic="..."` (NULL: as gh_audit_command). */
int gh_audit_command_dynamic(struct gh_store *st, const struct gh_audit_who *who,
			     const char *asset, const char *account, const char *method,
			     const char *result, const char *rule, const char *cmd,
			     const char *group, const char *dynamic);
