/* The SSH front door: `gatehouse serve`.
 *
 * The master process listens on ssh_listen, forks one worker per
 * connection and never serves a client itself. It enforces the pre-auth
 * limits (max_startups, per_source_max_startups; workers enforce
 * login_grace_time and max_auth_tries), reaps workers and closes the
 * session rows of any that died (gh_sweep_close_worker), reloads
 * the configuration on SIGHUP and, on SIGTERM, stops accepting and gives
 * live sessions shutdown_grace seconds before ending them. */
#pragma once

struct gh_app;

/* Runs until SIGTERM/SIGINT. Returns 0, or a negative GH_E* when it
 * cannot start (host keys, listen address). */
int gh_ssh_serve(struct gh_app *app);
