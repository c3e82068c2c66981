/* Target connector: an SSH client session to an asset.
 *
 * Three steps so the secret lives only for the moment of authentication:
 *   gh_target_connect()  TCP (own non-blocking socket, timeout) + key exchange
 *   gh_target_host_key() the key the target presented, for pinning
 *   gh_target_auth()     password (then keyboard-interactive) or private key
 *   gh_target_open()     session channel + pty/env/shell|exec|subsystem, one
 *                        request at a time
 * All calls block (bounded by TIMEOUT seconds); the worker calls them before
 * the target joins its relay event, then gh_target_open leaves the session
 * non-blocking. Errors come back as GH_E* with a one-line reason fit for
 * the user in ERR ("connection refused", "timed out"), never a secret. */
#pragma once
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>

#define GH_TARGET_ERRLEN 256

struct gh_route;

struct gh_target_conn {
	/* How to reach ADDRESS:PORT (target/dial.h); NULL: directly. */
	const struct gh_route *route;
	const char *address;
	int port;
	const char *username;
	/* Pinned key "TYPE BASE64" or NULL: its type is asked for first. */
	const char *pinned_host_key;
	int timeout;            /* seconds, connect and each blocking step */
};

/* A plain TCP connection to HOST:PORT (non-blocking socket, CLOEXEC,
 * TCP_NODELAY) within TIMEOUT seconds: the target side of a TCP tunnel.
 * On success *ret_fd is the caller's to close. */
int gh_target_tcp_connect(const char *host, int port, int timeout, int *ret_fd, char *err);

/* On success *ret is a connected session (caller frees with
 * gh_target_free). The stream comes from gh_target_dial (C->route). */
int gh_target_connect(const struct gh_target_conn *c, ssh_session *ret, char *err);

/* The same over FD, a connected stream (C->route unused): FD is consumed,
 * on failure as well. */
int gh_target_connect_fd(const struct gh_target_conn *c, int fd, ssh_session *ret, char *err);

/* Pump FD <-> channel CH of TS until both directions are done or either
 * side fails (blocking; for helper processes). */
void gh_target_pump(int fd, ssh_session ts, ssh_channel ch);

/* The target's host key as "TYPE BASE64" (*ret) and "SHA256:..."
 * (*ret_fp); caller frees both. */
int gh_target_host_key(ssh_session s, char **ret, char **ret_fp);

/* True when KEY_A and KEY_B ("TYPE BASE64 [comment]") name the same key. */
bool gh_target_host_key_equal(const char *key_a, const char *key_b);

/* KIND is GH_SECRET_PASSWORD or GH_SECRET_KEY; SECRET is borrowed (the
 * caller wipes it right after). GH_EAUTH when refused. */
int gh_target_auth(ssh_session s, int kind, const char *secret, char *err);

struct gh_target_env {
	const char *name, *value;
};

struct gh_target_req {
	bool pty;
	const char *term;
	int width, height;
	const struct gh_target_env *env;
	size_t n_env;
	const char *command;    /* exec when not NULL */
	const char *subsystem;  /* subsystem when not NULL (and no command) */
	bool agent;             /* ask for agent forwarding (no reply awaited) */
	/* ask for X11 forwarding with the user's (fake) cookie when not NULL;
	 * a refusal does not fail the open */
	const char *x11_protocol, *x11_cookie;
	int x11_screen;
	bool x11_single;
	/* Called right after the channel is created, before any request, so
	 * the caller can install its callbacks (nothing is missed). */
	void (*on_channel)(ssh_channel ch, void *userdata);
	void *userdata;
};

/* Open a session channel and issue the requests in order. */
int gh_target_open(ssh_session s, const struct gh_target_req *req, ssh_channel *ret, char *err);

/* Disconnect and free (NULL ok). Returns NULL. */
ssh_session gh_target_free(ssh_session s);
