/* The CLI's side of a cluster (docs/STORE.md): live operations on a
 * session whose worker runs on another node go through a command row that
 * node's master runs; `gatehouse migrate --from-sqlite FILE`. */
#pragma once

struct gh_app;
struct gh_cli;
struct gh_session;

/* Ask the master of S's node to kill S as ACTOR for REASON and wait
 * (bounded) for its answer: 0 when it did, -1 (message printed) when not. */
int gh_cli_kill_remote(struct gh_app *app, const struct gh_session *s, const char *actor,
		       const char *reason);

/* gatehouse migrate --from-sqlite FILE */
int gh_cmd_migrate(struct gh_cli *cli, int argc, char **argv);
