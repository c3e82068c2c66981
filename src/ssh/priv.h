/* Worker privilege separation: the master (root) prepares an unprivileged
 * worker user and the data directory at start; each worker, once its
 * connection is accepted and the host keys are in memory, drops to that
 * user, sets no_new_privs and installs a seccomp filter.
 *
 * What a worker needs after the drop: the open store (DATA/db, the
 * database's directory, owned by the worker user: it creates the -wal and
 * -shm there), the recordings directory (owned by the worker user),
 * DATA/run (owned by the worker user, for unix sockets), outgoing TCP
 * sockets to targets, DNS (/etc/hosts, /etc/resolv.conf, readable by all),
 * fork() for inner workers. The data directory itself is root's (0710,
 * group of the worker user): the configuration, the master key and the
 * host keys stay root-only files the worker can neither create nor
 * replace; a worker holds only the copies the master loaded before fork().
 * The ownership walk opens each directory relative to its parent's fd
 * with O_NOFOLLOW and chowns with AT_SYMLINK_NOFOLLOW: a symlink the worker
 * user planted in its tree is never followed. */
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
 * (useradd --system) and gives it DATA/db, the recordings directory and
 * DATA/run, makes the data directory root:USER 0710 (narrowing the 1770
 * of the previous layout) and adds search permission on the ancestors.
 * Returns 0 or a negative error (logged). */
int gh_priv_prepare(const struct gh_config *cfg, struct gh_priv *ret);

/* Worker, after accept: drop to p's user (when p->drop), then
 * PR_SET_NO_NEW_PRIVS, not dumpable, and a seccomp filter denying
 * syscalls a worker never needs (ptrace, mount, module loading, kexec,
 * bpf, namespaces, keyrings, ...). p may be NULL (no drop). Returns 0 or
 * a negative error; the worker must end on error. */
int gh_priv_drop(const struct gh_priv *p);
