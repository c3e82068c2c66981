/* One forked worker per SSH connection: key exchange, authentication,
 * target choice (login name or menu), target connection and relay, session
 * rows, recording and audit. Runs in the child; never returns to the
 * accept loop (the caller _exit()s with the returned status). */
#pragma once

struct gh_app;
struct gh_priv;

struct gh_worker_args {
	int fd;                /* accepted socket (owned) */
	const char *peer_ip;
	int peer_port;
	int status_fd;         /* write end of the pipe to the master (owned) */
	const char *ed25519_path, *rsa_path;
	const struct gh_priv *priv; /* the drop after accept (borrowed; NULL: none) */
	int suspect;           /* the source has recent failed logins */
};

/* Status bytes written to status_fd. */
#define GH_WORKER_AUTHENTICATED 'A'
#define GH_WORKER_AUTH_FAILED 'F'   /* one failed login attempt */

int gh_ssh_worker_run(struct gh_app *app, const struct gh_worker_args *a);
