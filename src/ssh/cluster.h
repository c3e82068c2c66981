/* The master's part in a cluster of nodes sharing a PostgreSQL store
 * (docs/STORE.md): its heartbeat, closing the sessions of a node that
 * stopped beating ("node lost"), and running the commands other nodes
 * queue for it (session kill). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct gh_app;

/* True when the store is shared (PostgreSQL): the master then ticks. */
bool gh_cluster_on(struct gh_app *app);

/* Called from the master's loop at least once a second; does its work
 * when the monotonic clock reaches *NEXT_MS and moves it on. */
void gh_cluster_tick(struct gh_app *app, int64_t *next_ms);
