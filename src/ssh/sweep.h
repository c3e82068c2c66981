/* Session rows left open by a worker that is gone (killed, or a master
 * that died and restarted): found by worker_pid and closed. */
#pragma once

struct gh_store;

/* Close the open session rows whose worker process is gone (not alive,
 * or that pid now belongs to another program) with close_reason
 * `reason`. Returns the number of rows closed or a negative error. */
int gh_sweep_sessions(struct gh_store *st, const char *reason);
