/* Worker privilege separation (see priv.h). */
#include "ssh/priv.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define USERADD "/usr/sbin/useradd"

/* ---- master: the user and the files ---------------------------------------- */

static int run_useradd(const char *name)
{
	pid_t pid = fork();
	if (pid < 0)
		return GH_EIO;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		execl(USERADD, USERADD, "--system", "--user-group", "--no-create-home", "--home-dir",
		      "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
		      "Gatehouse workers", name, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return GH_EIO;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : GH_EIO;
}

/* A user name useradd accepts on every distribution: [a-z_][a-z0-9_-]*,
 * at most 32 characters. */
static bool valid_user_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

static int lookup_user(const char *name, struct gh_priv *p)
{
	if (!valid_user_name(name)) {
		gh_error("bad worker_user '%s': expected a user name ([a-z_][a-z0-9_-]*), or "
			 "nothing after '=' to keep workers as root", name);
		return GH_EINVAL;
	}
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		gh_info("creating the system user %s for the workers", name);
		if (run_useradd(name) < 0 || !(pw = getpwnam(name))) {
			gh_error("cannot create the worker user %s (%s); create it with useradd "
				 "--system, or set worker_user = \"\" to keep workers as root",
				 name, USERADD);
			return GH_EIO;
		}
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		gh_error("worker_user %s has uid or gid 0: refusing", name);
		return GH_EINVAL;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	snprintf(p->user, sizeof p->user, "%s", name);
	return 0;
}

static const struct gh_priv *walk_priv; /* nftw() has no user pointer */

static int chown_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)flag;
	(void)f;
	if ((sb->st_uid != walk_priv->uid || sb->st_gid != walk_priv->gid) &&
	    lchown(path, walk_priv->uid, walk_priv->gid) < 0)
		gh_warn("cannot chown %s: %s", path, strerror(errno));
	return 0;
}

/* Give the tree at path (when it exists) to the worker user. */
static int give_tree(const char *path, const struct gh_priv *p)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : GH_EIO;
	walk_priv = p;
	int r = nftw(path, chown_entry, 16, FTW_PHYS);
	walk_priv = NULL;
	return r == 0 ? 0 : GH_EIO;
}

static void give_file(const char *path, const struct gh_priv *p)
{
	struct stat sb;
	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_uid != p->uid || sb.st_gid != p->gid) && lchown(path, p->uid, p->gid) < 0)
		gh_warn("cannot chown %s: %s", path, strerror(errno));
}

/* Each ancestor of dir must let the worker user search it; add o+x where
 * it does not (search only: the worker cannot list those directories). */
static int ensure_traversal(const char *dir, const struct gh_priv *p)
{
	char buf[PATH_MAX];
	if (!realpath(dir, buf))
		return GH_EIO;
	for (;;) {
		struct stat sb;
		if (stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			bool ok = (sb.st_uid == p->uid && (sb.st_mode & S_IXUSR)) ||
				  (sb.st_gid == p->gid && (sb.st_mode & S_IXGRP)) ||
				  (sb.st_mode & S_IXOTH);
			if (!ok) {
				if (chmod(buf, (sb.st_mode & 07777) | S_IXOTH) < 0) {
					gh_error("cannot let %s search %s: %s", p->user, buf,
						 strerror(errno));
					return GH_EIO;
				}
				gh_info("granted search permission (o+x) on %s so that workers "
					"running as %s reach the data", buf, p->user);
			}
		}
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			break;
		*slash = 0;
	}
	return 0;
}

/* The data directory: root-owned, group of the worker user, group
 * writable (the worker creates the database's -wal/-shm and the run
 * directory) and sticky (it cannot rename or remove root's files: the
 * master key, the host keys, the configuration). */
static int prepare_data_dir(const char *dir, const struct gh_priv *p)
{
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		gh_error("data directory %s: %s", dir, strerror(errno));
		return GH_EIO;
	}
	if (sb.st_uid != 0 || sb.st_gid != p->gid) {
		if (chown(dir, 0, p->gid) < 0) {
			gh_error("cannot chown %s: %s", dir, strerror(errno));
			return GH_EIO;
		}
	}
	mode_t want = (sb.st_mode & 0700) | S_IRWXU | S_IRWXG | S_ISVTX;
	if ((sb.st_mode & 07777) != want && chmod(dir, want) < 0) {
		gh_error("cannot chmod %s: %s", dir, strerror(errno));
		return GH_EIO;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return NULL;
	char *slash = strrchr(d, '/');
	if (slash == d)
		d[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(d, strlen(d) + 1, ".");
	return d;
}

int gh_priv_prepare(const struct gh_config *cfg, struct gh_priv *ret)
{
	struct gh_priv p;
	char path[PATH_MAX];
	int r;

	memset(&p, 0, sizeof p);
	/* DATA/run: the workers' sockets and locks (authgate.h) */
	snprintf(path, sizeof path, "%s/run", cfg->data_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		gh_error("cannot create %s: %s", path, strerror(errno));
		return GH_EIO;
	}
	if (geteuid() != 0 || !cfg->worker_user || !*cfg->worker_user) {
		if (geteuid() == 0)
			gh_warn("worker_user is empty: workers run as root");
		*ret = p;
		return 0;
	}
	r = lookup_user(cfg->worker_user, &p);
	if (r < 0)
		return r;
	p.drop = true;

	r = prepare_data_dir(cfg->data_dir, &p);
	if (r < 0)
		return r;
	const char *db_suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof db_suffixes / sizeof db_suffixes[0]; i++) {
		snprintf(path, sizeof path, "%s%s", cfg->database_path, db_suffixes[i]);
		give_file(path, &p);
	}
	char *db_dir = dir_of(cfg->database_path);
	if (!db_dir)
		return GH_ENOMEM;
	char rdb[PATH_MAX], rdata[PATH_MAX];
	if (realpath(db_dir, rdb) && realpath(cfg->data_dir, rdata) && strcmp(rdb, rdata) != 0 &&
	    access(db_dir, W_OK) == 0) {
		struct stat sb;
		if (stat(db_dir, &sb) == 0 && sb.st_uid != p.uid &&
		    !(sb.st_gid == p.gid && (sb.st_mode & S_IWGRP)))
			gh_warn("the database directory %s is not writable by %s: give it to "
				"that user (the worker writes the database journal there)",
				db_dir, p.user);
	}
	r = ensure_traversal(db_dir, &p);
	free(db_dir);
	if (r < 0)
		return r;

	if (mkdir(cfg->recordings_dir, 0700) < 0 && errno != EEXIST) {
		gh_error("cannot create %s: %s", cfg->recordings_dir, strerror(errno));
		return GH_EIO;
	}
	r = give_tree(cfg->recordings_dir, &p);
	if (r == 0)
		r = ensure_traversal(cfg->recordings_dir, &p);
	if (r < 0) {
		gh_error("cannot give %s to %s", cfg->recordings_dir, p.user);
		return r;
	}
	snprintf(path, sizeof path, "%s/run", cfg->data_dir);
	r = give_tree(path, &p);
	if (r == 0)
		r = ensure_traversal(cfg->data_dir, &p);
	if (r < 0)
		return r;
	gh_info("workers run as %s (uid %d)", p.user, (int)p.uid);
	*ret = p;
	return 0;
}

/* ---- worker: the drop and the filter --------------------------------------------- */

/* Syscalls a worker never makes; denied with EPERM. A deny list rather
 * than an allow list: the worker runs libssh, SQLite, the resolver, and
 * forks inner workers, whose exact syscall set varies with the libc and
 * the kernel. Other architectures' syscalls kill the process (libseccomp's
 * default for a foreign architecture). */
static const char *const denied_syscalls[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree",
	"fsopen", "fsconfig", "fsmount", "fspick", "open_by_handle_at", "name_to_handle_at",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "unshare", "setns", "keyctl", "add_key", "request_key",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup", "iopl", "ioperm",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
	"setdomainname", "lookup_dcookie", "fanotify_init", "personality", "uselib", "sysfs",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid", "capset",
};

static int install_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;
	if (!ctx)
		return GH_ENOMEM;
	for (size_t i = 0; i < sizeof denied_syscalls / sizeof denied_syscalls[0]; i++) {
		int nr = seccomp_syscall_resolve_name(denied_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? GH_EIO : 0;
}

int gh_priv_drop(const struct gh_priv *p)
{
	if (p && p->drop) {
		if (setgroups(1, &p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
		    setresuid(p->uid, p->uid, p->uid) < 0) {
			gh_error("cannot drop privileges to %s: %s", p->user, strerror(errno));
			return GH_EIO;
		}
		/* no way back */
		if (setuid(0) == 0 || geteuid() != p->uid || getegid() != p->gid) {
			gh_error("privilege drop to %s did not hold", p->user);
			return GH_EIO;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		gh_error("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return GH_EIO;
	}
	/* no core dumps, no ptrace by other processes of the same user: the
	 * worker holds the master key and the target secrets in memory */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (install_seccomp() < 0) {
		gh_error("cannot install the seccomp filter");
		return GH_EIO;
	}
	return 0;
}
