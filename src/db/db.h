/* The database gateway as the master sees it (the doors' contract is
 * door.h): its listeners and the worker one accepted connection runs. */
#pragma once
#include <stddef.h>

#include "db/door.h"

struct gh_app;
struct gh_priv;

struct gh_db_listener {
	int fd;
	enum gh_db_door_id door;
};

/* Open the listeners of every door whose *_listen setting is not empty
 * into RET (up to CAP), *RET_N set. A door this build lacks is skipped
 * with a warning. 0, or GH_EIO (logged) when an address cannot be bound. */
int gh_db_listen(const struct gh_app *app, struct gh_db_listener *ret, size_t cap, size_t *ret_n);

struct gh_db_worker_args {
	int fd;                  /* accepted socket (owned) */
	enum gh_db_door_id door;
	const char *peer_ip;
	int peer_port;
	int status_fd;           /* write end of the pipe to the master (owned):
				  * GH_WORKER_AUTHENTICATED / _AUTH_FAILED bytes */
	const struct gh_priv *priv; /* the drop (borrowed; NULL: none) */
};

/* In the forked child: TLS material read, privileges dropped, the door
 * served, the session ended. Returns the exit status. */
int gh_db_worker_run(struct gh_app *app, const struct gh_db_worker_args *a);
