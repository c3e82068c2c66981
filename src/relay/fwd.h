/* Forwarded channels of one connection.
 *
 * Each forward pumps bytes between a direct-tcpip channel of the user's
 * connection and a file descriptor: a TCP socket to the target of a tunnel
 * (`ssh -L`, `-W` to a non-SSH port), or one end of the socketpair whose
 * other end is served by a ProxyJump child (see jump.h). Several forwards
 * live next to (or without) the session channel, all in the worker's one
 * ssh_event.
 *
 * The pump is manual (as the relay's): the channel's data callback copies
 * into a bounded buffer and takes less when it is full (libssh keeps the
 * rest and stops growing the window), gh_fwdset_tick(), called after every
 * ssh_event_dopoll, writes to the fd, reads from it up to the channel's
 * window, passes EOF both ways (EOF from the user: shutdown(SHUT_WR); EOF
 * from the fd: channel EOF), closes the channel when both directions are
 * done or either side fails, and waits (bounded) for the peer's CLOSE.
 * The fd is polled only for what the pump can take, so a full buffer or a
 * closed window never spins the loop.
 *
 * Ownership: gh_fwd_add takes the channel and the fd. Strings are copied. */
#pragma once
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum gh_fwd_kind { GH_FWD_TUNNEL = 0, GH_FWD_JUMP = 1, GH_FWD_AGENT = 2, GH_FWD_RFWD = 3,
		   GH_FWD_X11 = 4 };

/* What the end callback learns about a finished forward (borrowed). */
struct gh_fwd_end {
	enum gh_fwd_kind kind;
	const char *asset;      /* asset name */
	const char *host;       /* as the user asked for it */
	int port;
	pid_t pid;              /* GH_FWD_JUMP: the child serving it */
	uint64_t bytes_in;      /* user -> fd */
	uint64_t bytes_out;     /* fd -> user */
	int64_t duration_ms;
	const char *reason;     /* static text: "closed", "user disconnected", ... */
};

struct gh_fwdset_hooks {
	/* A forward ended (called from gh_fwdset_tick / _free, outside libssh
	 * callbacks: it may write to the store). */
	void (*on_end)(void *ud, const struct gh_fwd_end *e);
	/* A ProxyJump child was reaped; STATUS as from waitpid. */
	void (*on_child)(void *ud, pid_t pid, int status);
	void *ud;
};

struct gh_fwdset;

/* S and EV are borrowed and must outlive the set. NULL on ENOMEM. */
struct gh_fwdset *gh_fwdset_new(ssh_session s, ssh_event ev, const struct gh_fwdset_hooks *h);

/* Start pumping CH (an accepted direct-tcpip channel) <-> FD (made
 * non-blocking here). Takes both, also on failure (GH_ENOMEM). PID: the
 * child serving FD (GH_FWD_JUMP) or 0. */
int gh_fwd_add(struct gh_fwdset *set, ssh_channel ch, int fd, enum gh_fwd_kind kind,
	       const char *asset, const char *host, int port, pid_t pid);

/* Forwards still open (of any kind). */
size_t gh_fwdset_count(const struct gh_fwdset *set);

/* Move data after a poll; finish forwards that are done; reap children.
 * ABORT_REASON non-NULL ends every forward now (connection gone, server
 * shutdown) with that reason. */
void gh_fwdset_tick(struct gh_fwdset *set, const char *abort_reason);

/* fork() a child that serves one end of a new socketpair (CLOEXEC, 1 MiB
 * buffers: a channel window in flight). In the child (returns 0) the set's
 * fds and CLOSE_A / CLOSE_B (when >= 0: the parent's connection socket and
 * status pipe) are closed and *ret_fd is the child's end; in the parent
 * (returns the pid) *ret_fd is the parent's end. -1 on failure. */
pid_t gh_fwd_fork(struct gh_fwdset *set, int close_a, int close_b, int *ret_fd);

/* In a freshly forked child: close every inherited fd of the set without
 * touching libssh state (the child must not use the parent's channels). */
void gh_fwdset_close_fds(struct gh_fwdset *set);

/* Send SIG to every child serving a forward (server shutdown: the inner
 * sessions end themselves and say why). */
void gh_fwdset_signal(struct gh_fwdset *set, int sig);

/* End every forward (reason REASON), wait up to WAIT_MS for the children
 * to exit, free. Accepts NULL; returns NULL. */
struct gh_fwdset *gh_fwdset_free(struct gh_fwdset *set, const char *reason, int wait_ms);
