/* Worker privilege separation (see priv.h). */
#include "ssh/priv.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
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

#define GIVE_MAX_DEPTH 16

/* Give the entry NAME of directory DFD to the worker user, never following
 * it. A regular file with other hard links is left alone: it may be a
 * link to a file of root's made in the worker user's own tree. */
static void give_at(int dfd, const char *name, const struct stat *st, const struct gh_priv *p,
		    const char *top)
{
	if (st->st_uid == p->uid && st->st_gid == p->gid)
		return;
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		gh_warn("%s: not giving %s to %s: it has %d hard links", top, name, p->user,
			(int)st->st_nlink);
		return;
	}
	if (fchownat(dfd, name, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0)
		gh_warn("%s: cannot chown %s: %s", top, name, strerror(errno));
}

/* Every entry beneath directory DFD, each directory opened relative to its
 * parent's fd with O_NOFOLLOW: a symlink planted anywhere is chowned
 * itself, never followed. */
static void give_entries(int dfd, const struct gh_priv *p, const char *top, int depth)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		gh_warn("%s: cannot list: %s", top, strerror(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		give_at(dfd, e->d_name, &st, p, top);
		if (!S_ISDIR(st.st_mode))
			continue;
		if (depth >= GIVE_MAX_DEPTH) {
			gh_warn("%s: deeper than %d levels: %s left as it is", top, GIVE_MAX_DEPTH,
				e->d_name);
			continue;
		}
		int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			give_entries(sub, p, top, depth + 1);
			close(sub);
		}
	}
	closedir(d);
}

/* Open the directory at PATH (an administrator's path, core/safefile.h):
 * logged naming PATH on error. */
static int open_dir_logged(const char *path, int *ret_fd)
{
	char why[GH_SAFE_WHYLEN] = "";
	int r = gh_safe_open_dir(path, ret_fd, why, sizeof why);
	if (r < 0)
		gh_error("%s: refused: %s", path, why[0] ? why : gh_strerror(r));
	return r;
}

/* Give the tree at DFD (the directory PATH) to the worker user. */
static void give_tree_fd(int dfd, const char *path, const struct gh_priv *p)
{
	struct stat st;
	if (fstat(dfd, &st) == 0 && (st.st_uid != p->uid || st.st_gid != p->gid) &&
	    fchown(dfd, p->uid, p->gid) < 0)
		gh_warn("cannot chown %s: %s", path, strerror(errno));
	give_entries(dfd, p, path, 0);
}

/* The directory DFD and each of its ancestors (reached by "..", never a
 * symlink) must let the worker user search it; add o+x where it does not
 * (search only: the worker cannot list those directories). */
static int ensure_traversal(int dfd, const char *path, const struct gh_priv *p)
{
	int cur = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	int r = cur < 0 ? GH_EIO : 0;
	for (int i = 0; r == 0 && i < 4096; i++) {
		struct stat sb, up;
		if (fstat(cur, &sb) < 0) {
			r = GH_EIO;
			break;
		}
		bool ok = (sb.st_uid == p->uid && (sb.st_mode & S_IXUSR)) ||
			  (sb.st_gid == p->gid && (sb.st_mode & S_IXGRP)) || (sb.st_mode & S_IXOTH);
		if (!ok) {
			if (fchmod(cur, (sb.st_mode & 07777) | S_IXOTH) < 0) {
				gh_error("cannot let %s search a parent of %s: %s", p->user, path,
					 strerror(errno));
				r = GH_EIO;
				break;
			}
			gh_info("granted search permission (o+x) on a parent of %s (inode %llu) so "
				"that workers running as %s reach the data",
				path, (unsigned long long)sb.st_ino, p->user);
		}
		int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) < 0) {
			if (parent >= 0)
				close(parent);
			r = GH_EIO;
			break;
		}
		close(cur);
		cur = parent;
		if (up.st_ino == sb.st_ino && up.st_dev == sb.st_dev)
			break; /* "/" */
	}
	if (cur >= 0)
		close(cur);
	return r;
}

/* Create (when missing) and give the worker user the directory PATH,
 * reached without a symlink others could have made, and let it reach it. */
static int give_dir(const char *path, const struct gh_priv *p)
{
	int dfd = -1;
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		gh_error("cannot create %s: %s", path, strerror(errno));
		return GH_EIO;
	}
	int r = open_dir_logged(path, &dfd);
	if (r < 0)
		return r;
	give_tree_fd(dfd, path, p);
	r = ensure_traversal(dfd, path, p);
	close(dfd);
	return r;
}

/* The data directory: root's, of the worker user's group, mode 0710 (the
 * workers may only pass through it to their directories: the database's,
 * recordings_dir, DATA/run). Nothing in it is theirs to create, rename
 * or remove: the configuration, the master key, the host keys. A data
 * directory of the previous layout (1770) is narrowed here. */
static int prepare_data_dir(int dfd, const char *dir, const struct gh_priv *p)
{
	struct stat sb;
	if (fstat(dfd, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		gh_error("data directory %s: %s", dir, strerror(errno));
		return GH_EIO;
	}
	if ((sb.st_uid != 0 || sb.st_gid != p->gid) && fchown(dfd, 0, p->gid) < 0) {
		gh_error("cannot chown %s: %s", dir, strerror(errno));
		return GH_EIO;
	}
	mode_t want = S_IRWXU | S_IXGRP;
	if ((sb.st_mode & 07777) != want) {
		if (fchmod(dfd, want) < 0) {
			gh_error("cannot chmod %s: %s", dir, strerror(errno));
			return GH_EIO;
		}
		if (sb.st_mode & (S_IWGRP | S_IWOTH))
			gh_info("data directory %s: mode %04o -> %04o (no longer writable by %s)", dir,
				(unsigned)(sb.st_mode & 07777), (unsigned)want, p->user);
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

/* The database's directory. DATA/db (the default) is the worker user's
 * whole; a database_path of the administrator's elsewhere gets only its
 * files given, and never in the data directory itself. */
static int give_db(const struct gh_config *cfg, const struct gh_priv *p)
{
	char *db_dir = dir_of(cfg->database_path);
	char def[PATH_MAX];
	struct stat a, b;
	int dfd = -1, r = 0;
	if (!db_dir)
		return GH_ENOMEM;
	snprintf(def, sizeof def, "%s/" GH_DB_SUBDIR, cfg->data_dir);
	if (!strcmp(db_dir, def)) {
		r = give_dir(db_dir, p);
		goto out;
	}
	if ((r = open_dir_logged(db_dir, &dfd)) < 0)
		goto out;
	if (stat(cfg->data_dir, &a) == 0 && fstat(dfd, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		gh_error("database_path %s is in the data directory itself: workers would need to "
			 "write there; use the default %s/gatehouse.db", cfg->database_path, def);
		r = GH_EINVAL;
		goto out;
	}
	const char *base = strrchr(cfg->database_path, '/');
	base = base ? base + 1 : cfg->database_path;
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char name[NAME_MAX + 16];
		struct stat st;
		snprintf(name, sizeof name, "%s%s", base, suffixes[i]);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			give_at(dfd, name, &st, p, db_dir);
	}
	if (fstat(dfd, &b) == 0 && b.st_uid != p->uid && !(b.st_gid == p->gid && (b.st_mode & S_IWGRP)))
		gh_warn("the database directory %s is not writable by %s: give it to that user (the "
			"worker writes the database journal there)", db_dir, p->user);
	r = ensure_traversal(dfd, db_dir, p);
out:
	if (dfd >= 0)
		close(dfd);
	free(db_dir);
	return r;
}

int gh_priv_prepare(const struct gh_config *cfg, struct gh_priv *ret)
{
	struct gh_priv p;
	char path[PATH_MAX];
	int r, dfd = -1;

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

	r = open_dir_logged(cfg->data_dir, &dfd);
	if (r == 0)
		r = prepare_data_dir(dfd, cfg->data_dir, &p);
	if (r == 0)
		r = ensure_traversal(dfd, cfg->data_dir, &p);
	if (dfd >= 0)
		close(dfd);
	if (r == 0)
		r = give_db(cfg, &p);
	if (r == 0)
		r = give_dir(cfg->recordings_dir, &p);
	if (r == 0)
		r = give_dir(path, &p);
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
