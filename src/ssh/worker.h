/* One forked worker per SSH connection: key exchange, authentication,
 * target choice (login name or menu), target connection and relay, session
 * rows, recording and audit. Runs in the child; never returns to the
 * accept loop (the caller _exit()s with the returned status). */
#pragma once

struct gh_app;
struct ssh_key_struct;
struct gh_priv;

struct gh_worker_args {
	int fd;                /* accepted socket (owned) */
	const char *peer_ip;
	int peer_port;
	int status_fd;         /* write end of the pipe to the master (owned) */
	const char *ed25519_path, *rsa_path;
	const struct gh_priv *priv; /* the drop after accept (borrowed; NULL: none) */
	int suspect;           /* the source has recent failed logins */
	/* A recorded ProxyJump child (see jump.h): the inner SSH server over
	 * one end of a socketpair. jump_user non-NULL: serve with jump_key
	 * only (the parent's copy in memory: the key file is root-only once
	 * privileges are dropped; the bind takes it) and accept the inner
	 * login of jump_user (already authenticated outside) without a secret,
	 * for asset jump_asset. */
	struct ssh_key_struct *jump_key;
	const char *jump_user;
	const char *jump_asset;
	int jump_depth;        /* 0 at the front door */
	/* The front door the inner login came through when not a jump: "web"
	 * for the web terminal (web/term.h); the session rows' protocol. */
	const char *door;
};

/* Status bytes written to status_fd. */
#define GH_WORKER_AUTHENTICATED 'A'
#define GH_WORKER_AUTH_FAILED 'F'   /* one failed login attempt */

int gh_ssh_worker_run(struct gh_app *app, const struct gh_worker_args *a);
