/* The session row of a connection's forwards: a connection that carries
 * TCP tunnels (-L, -W to a port that is not a jump, forwards from the
 * asset) or remote forwards (-R) is listed as an open session of kind
 * "tunnel" from its first allowed forward until it ends, with a live
 * socket (live/live.h) so that `gatehouse session kill` and `user lock`
 * / `user disable` reach it even when it has no session channel
 * (`ssh -N -L`). A kill ends the whole connection. Session channels on
 * the same connection keep their own rows. */
#pragma once
#include <libssh/libssh.h>

struct gh_store;
struct gh_user;
struct gh_tunrow;

struct gh_tunrow_opts {
	struct gh_store *st;
	const struct gh_user *user;  /* borrowed */
	const char *peer_ip;
	int peer_port;
	const char *asset, *account; /* the login's, NULL when none */
	const char *data_dir;        /* for DATA/run */
	ssh_event ev;                /* the worker's event (the live socket joins it) */
};

/* Open the row and its live socket. NULL when the row cannot be written
 * (logged); a missing live socket is logged and the row kept. */
struct gh_tunrow *gh_tunrow_open(const struct gh_tunrow_opts *o);

/* The row's id (32 hex chars). */
const char *gh_tunrow_id(const struct gh_tunrow *t);

/* Serve live requests (after each poll). "killed: REASON" once a kill was
 * asked for, else NULL. Accepts NULL. */
const char *gh_tunrow_tick(struct gh_tunrow *t);

/* Close the row with REASON (the kill's when killed) and the socket.
 * Accepts NULL; returns NULL. */
struct gh_tunrow *gh_tunrow_close(struct gh_tunrow *t, const char *reason);
