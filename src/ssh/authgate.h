/* The password gate: password hashing for suspect connections (a source
 * with recent failed logins, or a connection that already failed once)
 * runs one at a time across all workers, so a failed-login flood gets at
 * most one CPU's worth of Argon2 and legitimate users keep the rest.
 * An flock() on DATA/run/auth.lock: released by the kernel when a worker
 * dies holding it; a wait is bounded by the worker's login_grace_time
 * alarm (EINTR). */
#pragma once

/* Wait for the gate. Returns an fd to give to gh_auth_gate_leave, or -1
 * when the gate cannot be used (the caller goes on without it). */
int gh_auth_gate_enter(const char *data_dir);
void gh_auth_gate_leave(int fd);
