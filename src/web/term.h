/* The web terminal (GET /api/v1/terminal, docs/WEB.md): processes and frames.
 *
 * The web process is one non-blocking event loop; a terminal must not
 * block it, and it never holds a target's secret. So a terminal is served
 * by processes of its own, as an SSH login is:
 *
 *   gh-web (lws loop)  --request + fd-->  gh-term spawner  --fork-->  terminal
 *        ^  frames over a SOCK_SEQPACKET socketpair                      |
 *        '---------------------------------------------------------------'
 *   terminal = a libssh client over a socketpair to its own child, an SSH
 *   worker in inner-login mode (ssh/worker.h: jump_user, door "web"): the
 *   session core, the gate, credential injection, recording, the command
 *   filter, live watch, kill, idle timeout and audit are the SSH worker's.
 *
 * The spawner is forked by the web process at its start, as root and
 * before the TLS key is read: it loads the jump host key (the inner
 * server's key), drops privileges (same drop and seccomp filter as the
 * workers) and forks one terminal per request. It never sees a cookie,
 * a token or the TLS key.
 *
 * Frames on a terminal's socket, one message each (first byte the type):
 *   web -> terminal  'd' + bytes typed     'r' + "COLS ROWS"
 *   terminal -> web  'd' + terminal output 't' + a JSON text frame
 *                    ({"type":"closed","reason":...} last) */
#pragma once
#include <stddef.h>

struct gh_app;
struct gh_priv;

#define GH_TERM_FRAME_MAX 32768     /* one message, type byte included */
#define GH_TERM_NAME_MAX 255        /* asset and account names */

struct gh_term_req {
	const char *user;            /* authenticated Gatehouse user */
	const char *asset, *account;
	const char *peer;            /* the browser's address */
	int cols, rows;
};

/* The web process, still root, before it reads its TLS key: fork the
 * spawner (dropped to P). *RET_FD: the web process's end of its channel
 * (close-on-exec). 0 or a negative GH_E*. */
int gh_term_spawner_start(struct gh_app *app, const struct gh_priv *p, int *ret_fd);

/* Ask the spawner at SPAWNER_FD for a terminal; *RET_FD is the web
 * process's end of the new terminal's frames socket (non-blocking). */
int gh_term_request(int spawner_fd, const struct gh_term_req *q, int *ret_fd);
