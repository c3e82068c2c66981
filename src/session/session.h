/* The session core: one recorded, audited session of a user on an asset
 * as an account, whatever front door it came through.
 *
 * A front door (the SSH worker today; the web terminal, telnet and the
 * database gateway later) translates its protocol into these calls and
 * never writes a session row, a recording or a session event itself:
 *
 *   gh_sess_open()       the row exists (kind "menu", "shell", "exec",
 *                        "sftp", ...): state OPEN
 *   gh_sess_authorize()  the gate (session/authz.h), decision audited:
 *                        state AUTHORIZED, or refused
 *   gh_sess_target()     the asset and account it reaches (the row
 *                        follows): state CONNECTING; the door then reaches
 *                        the target through src/target/, with the secret
 *                        only gh_authz_credential() gives
 *   gh_sess_reach()      the target's SSH service through src/target/:
 *                        connect, host key pinned or checked, login with
 *                        the secret the gate gives again (no one else
 *                        sees it)
 *   gh_sess_record()     the recording (none for sftp: it is audited per
 *                        file)
 *   gh_sess_sftp_open()  for sftp: the actions granted, file events queued
 *                        by the engine's hooks, written by gh_sess_tick()
 *   gh_sess_running()    the start event: state RUNNING
 *   gh_sess_end()        the only way out: the recording is sealed (its
 *                        digest chained), the row closed and exactly one
 *                        end event written; state ENDED. Ending twice does
 *                        nothing. gh_sess_free() ends a session not ended.
 *
 *        open -> authorized -> connecting -> running -> ended
 *          \__________\_____________\___________________/
 *                 (any state may end: a refusal, a failed connect)
 *
 * One object per session; several live in one process at once (one SSH
 * connection carries up to max_channels_per_connection of them), all on
 * the caller's one thread. Nothing here blocks longer than a store write.
 * No libssh server headers: the relay and the user's channels stay with
 * the door; the target side uses the libssh client through src/target/.
 * Ownership: the door owns the object (gh_sess_free); strings passed in
 * are copied; gh_sess_rec() is borrowed until gh_sess_end(). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "sftp/sftp.h"
#include "target/target.h" /* the libssh client side only */

struct gh_store;
struct gh_vault;
struct gh_asset;
struct gh_rec;
struct gh_authz;
struct gh_sess;

enum gh_sess_state {
	GH_SESS_OPEN = 0,
	GH_SESS_AUTHORIZED,
	GH_SESS_CONNECTING,
	GH_SESS_RUNNING,
	GH_SESS_ENDED,
};

struct gh_sess_opts {
	struct gh_store *st;     /* borrowed: outlives the session */
	int64_t user_id;
	const char *user;        /* Gatehouse user name */
	const char *source_ip;
	int source_port;
	const char *asset;       /* NULL until known (the menu) */
	const char *account;     /* NULL until known */
	const char *protocol;    /* "ssh", "sftp", ... */
	const char *kind;        /* "menu", "shell", "exec", "sftp", ... */
	/* the terminal, for the recording's header (0: none, 80x24) */
	bool pty;
	const char *term;
	int width, height;
};

/* Open the row (a row that cannot be written is logged: the session goes
 * on without one, as a store failure must not cut a user off). GH_ENOMEM
 * or GH_EINVAL otherwise; *RET is the caller's (gh_sess_free). */
int gh_sess_open(const struct gh_sess_opts *o, struct gh_sess **ret);

enum gh_sess_state gh_sess_state(const struct gh_sess *s);
/* The row's id (32 hex characters), or NULL when it could not be written. */
const char *gh_sess_id(const struct gh_sess *s);
/* Who, from where, and the row: for the door's own events (borrowed
 * strings, valid while S lives). */
struct gh_audit_who gh_sess_who(const struct gh_sess *s);
/* The asset and account the session reaches (NULL while unknown). */
const char *gh_sess_asset(const struct gh_sess *s);
const char *gh_sess_account(const struct gh_sess *s);

/* The gate: may the user, from the source, connect to ASSET as ACCOUNT
 * over PROTOCOL (one GH_PROTO_* bit) now? The decision is audited (kind
 * "policy") and returned in *RET. 0 when allowed (state AUTHORIZED),
 * GH_EPERM when refused (RET->reason says why), GH_EINVAL/store errors
 * (refused, audited as "policy error"). */
int gh_sess_authorize(struct gh_sess *s, const char *asset, const char *account,
		      uint32_t protocol, struct gh_authz *ret);
/* A refusal decided by the door before or besides the gate (no such
 * asset, an scp without its upload action): audited (kind "policy",
 * deny) and logged. The door tells its user. */
void gh_sess_refuse(struct gh_sess *s, const char *asset, const char *account, const char *why);

/* The target is chosen: the row names ASSET (ASSET_ID) and ACCOUNT, and
 * KIND when not NULL. State CONNECTING. */
void gh_sess_target(struct gh_sess *s, int64_t asset_id, const char *asset, const char *account,
		    const char *kind);

/* The row's protocol from now on ("telnet": a shell reached over telnet). */
void gh_sess_set_protocol(struct gh_sess *s, const char *protocol);

/* The session's source address (borrowed). */
const char *gh_sess_source_ip(const struct gh_sess *s);

struct gh_sess_reach {
	struct gh_store *st;
	struct gh_vault *vault;
	const struct gh_asset *asset;
	const char *account;
	uint32_t protocol;       /* GH_PROTO_* the gate is asked for */
	int timeout;             /* seconds, each blocking step */
	const char *data_dir;    /* its run/ holds the jumpoint nodes' dial sockets */
};
/* Connect to O->asset's SSH service (src/target/), pin its host key on
 * first use or refuse a changed one (audited either way), and log in as
 * O->account with the secret gh_authz_credential gives (the gate decides
 * again; a refusal is audited). Blocks, each step bounded by O->timeout.
 * On success *RET is the caller's (gh_target_free). Otherwise GH_E*
 * (GH_EHOSTKEY: the key changed) and ERR (GH_TARGET_ERRLEN) the reason,
 * fit for the user and the row ("connection refused", "not permitted",
 * "host key changed"), never a secret. */
int gh_sess_reach(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session *ret, char *err);
/* A byte stream to PORT of O->asset (telnet, the database doors): through
 * the asset's route (direct or its gateways, target/dial.h; the path
 * audited as for SSH), each step bounded by O->timeout. On success *RET_FD
 * is the caller's to close; otherwise GH_E* and ERR (GH_TARGET_ERRLEN). */
int gh_sess_dial(struct gh_sess *s, const struct gh_sess_reach *o, int port, int *ret_fd,
		 char *err);

struct gh_sess_rec_opts {
	const char *recordings_dir;
	bool record_input;
	bool binary;             /* a stream, not a screen (no terminal) */
};
/* Open the session's recording (the row gets its path). For kind "sftp"
 * there is none: 0 and gh_sess_rec() stays NULL. */
int gh_sess_record(struct gh_sess *s, const struct gh_sess_rec_opts *o);
/* The recording (borrowed, NULL when none). */
struct gh_rec *gh_sess_rec(const struct gh_sess *s);

/* The target answered and bytes flow: the start event (DETAIL: the
 * command or the kind). State RUNNING. */
void gh_sess_running(struct gh_sess *s, const char *detail);

/* An sftp session: ALLOWED, the GH_ACT_* bits granted on protocol sftp,
 * decides every file operation; each is queued as a file event. GH_ENOMEM. */
int gh_sess_sftp_open(struct gh_sess *s, uint32_t allowed);
/* The sftp engine's hooks (src/sftp/sftp.h) for this session: they run
 * inside libssh callbacks and do not block. */
struct gh_sftp_hooks gh_sess_sftp_hooks(struct gh_sess *s);
/* After every poll, outside libssh callbacks: finish the recording's
 * gzip member when due, write the queued file events. (Events lost to a
 * full queue are named in the end event.) Cheap when nothing is due. */
void gh_sess_tick(struct gh_sess *s);

struct gh_sess_result {
	int exit_status;         /* -1 when none */
	const char *exit_signal; /* NULL or "" when none */
	int64_t bytes_in, bytes_out;
};

/* The only way out: seal the recording, close the row, one end event with
 * REASON (and, once RUNNING, RES's exit status and bytes as its detail;
 * RES may be NULL). Nothing on the second call. Returns 0 or the store's
 * error (logged). */
int gh_sess_end(struct gh_sess *s, const struct gh_sess_result *res, const char *reason);
/* The session's target is carried by jumpoint node NODE, whose connection
 * the worker PID holds: when that connection is gone at the end, the
 * session ends with reason "jumpoint node lost" (whatever the relay saw:
 * the target's stream closed under it). */
#define GH_SESS_JP_LOST "jumpoint node lost"
void gh_sess_set_jumpoint(struct gh_sess *s, int64_t node, int64_t pid);

/* Ends S ("ended") when not ended, then frees it. NULL ok; returns NULL. */
struct gh_sess *gh_sess_free(struct gh_sess *s);
