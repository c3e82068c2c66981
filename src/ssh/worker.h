/* One forked worker per SSH connection: key exchange, authentication,
 * target choice (login name or menu), target connection and relay, session
 * rows, recording and audit. Runs in the child; never returns to the
 * accept loop (the caller _exit()s with the returned status). */
#pragma once

struct gh_app;

struct gh_worker_args {
	int fd;                /* accepted socket (owned) */
	const char *peer_ip;
	int peer_port;
	int status_fd;         /* write end of the pipe to the master (owned) */
	const char *ed25519_path, *rsa_path;
	/* A recorded ProxyJump child (see jump.h): the inner SSH server over
	 * one end of a socketpair. jump_key_path non-NULL: serve with that key
	 * only and accept the inner login of jump_user (already authenticated
	 * outside) without a secret, for asset jump_asset. */
	const char *jump_key_path;
	const char *jump_user;
	const char *jump_asset;
	int jump_depth;        /* 0 at the front door */
};

/* Status bytes written to status_fd. */
#define GH_WORKER_AUTHENTICATED 'A'

int gh_ssh_worker_run(struct gh_app *app, const struct gh_worker_args *a);
