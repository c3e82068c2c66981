/* Live operations on a running session: watch, join, kill.
 *
 * Each relayed session listens on a unix socket RUN_DIR/<session-id>.sock
 * (RUN_DIR = DATA/run, mode 0700; the socket 0600). Only a peer with the
 * server's uid or root (SO_PEERCRED) is served; the CLI, which decides who
 * the acting Gatehouse identity is and whether it may act, is that peer.
 *
 * Protocol: the client sends one request line, the session answers one line
 * ("ok" or "error TEXT"):
 *   watch NAME          then the current screen (pty sessions) and the live
 *                       output follow; anything the client sends is ignored
 *   join NAME           the same, and the client's bytes are the session's
 *                       input (as if the user had typed them)
 *   kill NAME [REASON]  the session ends with close reason "killed: REASON"
 * NAME is the acting identity (for notices and the recording's markers).
 *
 * A watcher never slows the session: output is queued per watcher
 * (bounded, GH_LIVE_WATCH_BUFFER) and written without blocking; a watcher
 * whose queue overflows is dropped.
 *
 * The worker drives it: gh_live_open before the relay starts, the output
 * tap from the relay, gh_live_tick after every ssh_event_dopoll,
 * gh_live_detach when the relay ends, gh_live_close last. */
#pragma once
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define GH_LIVE_WATCH_BUFFER (256u * 1024)
#define GH_LIVE_MAX_CLIENTS 16
#define GH_LIVE_REASON_MAX 200

struct gh_live;
struct gh_relay;
struct gh_rec;

struct gh_live_opts {
	const char *run_dir;    /* DATA/run (created 0700 when missing) */
	const char *session_id;
	bool pty;               /* keep a screen for new watchers */
	int rows, cols;
	bool notify_watch;      /* tell the user when a watcher attaches */
	struct gh_rec *rec;     /* borrowed, may be NULL: join markers */
};

int gh_live_open(const struct gh_live_opts *o, ssh_event ev, struct gh_live **ret);
/* The relay that takes joiners' input (NULL: none). */
void gh_live_set_relay(struct gh_live *l, struct gh_relay *r);
/* struct gh_relay_opts.output_tap; UD is the struct gh_live. */
void gh_live_tap(void *ud, const void *data, size_t len);
void gh_live_resize(struct gh_live *l, int rows, int cols);
/* Serve requests, move joiners' input, write to watchers, drop the stalled. */
void gh_live_tick(struct gh_live *l);
/* True while some watcher has output queued (poll sooner). */
bool gh_live_busy(const struct gh_live *l);
/* "killed: REASON" once a kill was asked for, else NULL. Valid until
 * gh_live_close. */
const char *gh_live_kill_reason(const struct gh_live *l);
/* A one-line notice for the user (a watcher or joiner attached), taken
 * once; false when none. */
bool gh_live_take_notice(struct gh_live *l, char *buf, size_t cap);
/* The session's relay ended: the socket leaves the event (no more
 * requests) and the clients get what is queued (bounded) then EOF. */
void gh_live_detach(struct gh_live *l);
/* Closes everything and removes the socket. Accepts NULL; returns NULL. */
struct gh_live *gh_live_close(struct gh_live *l);

/* "DATA/run" into BUF. */
int gh_live_run_dir(const char *data_dir, char *buf, size_t cap);
/* The uid whose sockets the CLI may connect to in RUN_DIR: the workers'
 * user (WORKER_USER, the setting worker_user) when running as root, root
 * when WORKER_USER is empty, else the effective uid (no drop). GH_ENOENT
 * when the user does not exist. */
int gh_live_owner(const char *worker_user, uid_t *ret_uid);
/* Connect to the socket of SESSION_ID in RUN_DIR (an administrator's path,
 * opened as in core/safefile.h), which must be a socket owned by OWNER,
 * reached without following any link (gh_safe_connect): RUN_DIR is the
 * workers' user's, and the CLI runs as root. *ret_fd: connected, blocking.
 * GH_ENOENT (no live session there), GH_EPERM (refused: WHY, GH_LIVE_WHYLEN,
 * says why), GH_EIO. */
#define GH_LIVE_WHYLEN 160
int gh_live_connect(const char *run_dir, const char *session_id, uid_t owner, int *ret_fd,
		    char *why, size_t whylen);

/* Read the one-line answer to a request on a live socket FD (bounded by
 * CAP and the socket's timeouts): 0 for "ok", else GH_EIO with LINE the
 * worker's "error TEXT" text, or "" when it gave none. */
int gh_live_read_answer(int fd, char *line, size_t cap);
