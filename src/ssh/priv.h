/* Worker privilege separation: the master (root) prepares an unprivileged
 * worker user and the data directory at start; each worker, once its
 * connection is accepted and the host keys are in memory, drops to that
 * user, sets no_new_privs and installs a seccomp filter.
 *
 * What a worker needs after the drop: the open store (the database file
 * and its -wal/-shm, owned by the worker user), the recordings directory
 * (owned by the worker user), DATA/run (owned by the worker user, for unix
 * sockets), outgoing TCP sockets to targets, DNS (/etc/hosts,
 * /etc/resolv.conf, readable by all), fork() for inner workers. The
 * master key and the host keys stay root-only files: a worker holds only
 * the copies the master loaded before fork(). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct gh_config;

struct gh_priv {
	bool drop;        /* false: workers keep the master's identity */
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* Master, at serve start. Fills *ret: drop is set when running as root
 * and cfg->worker_user is not empty. Creates the system user when missing
 * (useradd --system) and gives it the database, the recordings directory
 * and DATA/run, group write on the data directory (sticky, so it cannot
 * remove the root-owned keys) and search permission on the ancestors.
 * Returns 0 or a negative error (logged). */
int gh_priv_prepare(const struct gh_config *cfg, struct gh_priv *ret);

/* Worker, after accept: drop to p's user (when p->drop), then
 * PR_SET_NO_NEW_PRIVS, not dumpable, and a seccomp filter denying
 * syscalls a worker never needs (ptrace, mount, module loading, kexec,
 * bpf, namespaces, keyrings, ...). p may be NULL (no drop). Returns 0 or
 * a negative error; the worker must end on error. */
int gh_priv_drop(const struct gh_priv *p);
