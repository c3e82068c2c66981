/* Session rows left open by a worker that is gone (killed, or a master
 * that died and restarted): found by worker_pid and closed. */
#pragma once
#include <stdbool.h>

struct gh_store;

/* PID is alive and runs the same program as the caller (a zombie, or a
 * recycled pid of another program, is not). */
bool gh_worker_alive(int pid);

/* Close the open session rows of worker PID, which is gone, with REASON,
 * each with the one session end event the worker could not write.
 * Returns the number of rows closed or a negative error. */
int gh_sweep_close_worker(struct gh_store *st, int pid, const char *reason);

/* Close the open session rows whose worker process is gone (not alive,
 * or that pid now belongs to another program) with close_reason
 * `reason`. Returns the number of rows closed or a negative error. */
int gh_sweep_sessions(struct gh_store *st, const char *reason);
