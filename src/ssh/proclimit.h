/* How many processes may work for one user at once.
 *
 * Every process Gatehouse runs for an authenticated user is counted: the
 * connection's worker (claimed at login, before the second factor), each
 * inner ProxyJump worker and each forward helper (claimed by the parent
 * before fork(), so no child exists uncounted). The count lives in the
 * store (user_procs), shared by all the user's connections; a claim counts
 * and adds its row in one write transaction, so two workers claiming at
 * once cannot both take the last place. A row leaves when its process has
 * been reaped (the master for connection workers, the parent worker for
 * its children), when the process ends itself, and whenever a claim finds
 * its process gone (gh_worker_alive): a worker that dies leaves no place
 * taken for ever. Limits: max_sessions_per_user for one user,
 * max_sessions for everyone. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gh_store;
struct gh_config;
struct gh_user;

/* A place for one more process of KIND ("connection", "jump", "forward")
 * working for U; PID is the process counted for now (the caller; see
 * gh_proclimit_bind). 0 and *ret_slot, or GH_ELIMIT (a limit is reached)
 * or another GH_E* (the store failed: refused too), with WHY (LEN bytes)
 * the one-line reason to tell the user and audit. */
int gh_proclimit_claim(struct gh_store *st, const struct gh_config *cfg, const struct gh_user *u,
		       const char *kind, pid_t pid, int64_t *ret_slot, char *why, size_t len);

/* The forked child PID now holds SLOT. PID < 0 (fork failed): the place
 * is given back. */
void gh_proclimit_bind(struct gh_store *st, int64_t slot, pid_t pid);

/* Process PID ended (reaped, or ending itself): its place is given back. */
void gh_proclimit_release(struct gh_store *st, pid_t pid);
