/* Files root opens although another user can write near them (see safefile.h). */
#include "core/safefile.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	if (!why || whylen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	if (n < 0)
		why[0] = '\0';
}

static int err_of(int e)
{
	return e == ENOENT ? GH_ENOENT : GH_EIO;
}

static bool uid_trusted(uid_t u)
{
	return u == 0 || u == geteuid();
}

bool gh_safe_dir_trusted(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && uid_trusted(st->st_uid) &&
	       !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static void replace_fd(int *cur, int fd)
{
	if (*cur >= 0)
		close(*cur);
	*cur = fd;
}

/* The walk of an administrator's path: REST (malloc'd, consumed) is what is
 * left to walk from *CUR. */
struct walk {
	int cur;
	char *rest;
	size_t pos;
	int links;
};

static int walk_start(struct walk *w, const char *path)
{
	w->links = 0;
	w->pos = 0;
	w->rest = strdup(path);
	if (!w->rest)
		return GH_ENOMEM;
	w->cur = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return w->cur < 0 ? GH_EIO : 0;
}

/* Follow the symlink FD (found as NAME in w->cur) when only root or the
 * effective uid could have placed it: the rest becomes TARGET/REMAINING. */
static int follow_link(struct walk *w, int fd, const char *name, const char *remaining, char *why,
		       size_t whylen)
{
	struct stat dst, lst;
	char target[PATH_MAX];
	if (fstat(w->cur, &dst) < 0 || fstat(fd, &lst) < 0)
		return GH_EIO;
	/* the link's own owner too: one planted while the directory was
	 * writable by others stays refused */
	if (!gh_safe_dir_trusted(&dst) || !uid_trusted(lst.st_uid)) {
		say(why, whylen, "'%s' is a symlink others could have made", name);
		return GH_EPERM;
	}
	if (++w->links > GH_SAFE_MAX_LINKS) {
		say(why, whylen, "too many symlinks");
		return GH_EPERM;
	}
	ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
	if (n <= 0)
		return GH_EIO;
	target[n] = '\0';
	char *nr = NULL;
	if (asprintf(&nr, "%s/%s", target, remaining) < 0)
		return GH_ENOMEM;
	free(w->rest);
	w->rest = nr;
	w->pos = 0;
	if (target[0] == '/') {
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return GH_EIO;
		replace_fd(&w->cur, root);
	}
	return 0;
}

/* One step into component NAME of the walk. */
static int walk_step(struct walk *w, const char *name, const char *remaining, char *why,
		     size_t whylen)
{
	if (!strcmp(name, "."))
		return 0;
	int fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		say(why, whylen, "'%s': %s", name, strerror(errno));
		return err_of(errno);
	}
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = GH_EIO;
	} else if (S_ISDIR(st.st_mode)) {
		replace_fd(&w->cur, fd);
		return 0;
	} else if (S_ISLNK(st.st_mode)) {
		r = follow_link(w, fd, name, remaining, why, whylen);
	} else {
		say(why, whylen, "'%s' is not a directory", name);
		r = GH_EPERM;
	}
	close(fd);
	return r;
}

/* Walk PATH. With LAST, stop before its last component and return it in
 * *ret_last (malloc'd); else walk it all. *ret_fd: an O_PATH directory fd. */
static int walk_admin(const char *path, char **ret_last, int *ret_fd, char *why, size_t whylen)
{
	struct walk w = { .cur = -1 };
	char *last = NULL;
	int r;

	if (!path || !*path)
		return GH_EINVAL;
	r = walk_start(&w, path);
	while (r == 0) {
		char *s = w.rest + w.pos;
		while (*s == '/')
			s++;
		if (!*s)
			break;
		size_t len = strcspn(s, "/");
		char *after = s + len;
		while (*after == '/')
			after++;
		char *name = strndup(s, len);
		char *remaining = strdup(after);
		if (!name || !remaining) {
			r = GH_ENOMEM;
		} else if (!*after && ret_last) {
			last = name;
			name = NULL;
			w.pos = (size_t)(after - w.rest);
		} else {
			w.pos = (size_t)(after - w.rest);
			r = walk_step(&w, name, remaining, why, whylen);
		}
		free(name);
		free(remaining);
		if (last)
			break;
	}
	free(w.rest);
	if (r == 0 && ret_last && !last) {
		say(why, whylen, "names no file");
		r = GH_EINVAL;
	}
	if (r < 0) {
		free(last);
		if (w.cur >= 0)
			close(w.cur);
		return r;
	}
	if (ret_last)
		*ret_last = last;
	*ret_fd = w.cur;
	return 0;
}

int gh_safe_open_dir(const char *path, int *ret_fd, char *why, size_t whylen)
{
	int pfd = -1;
	int r = walk_admin(path, NULL, &pfd, why, whylen);
	if (r < 0)
		return r;
	int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (fd < 0)
		return err_of(errno);
	*ret_fd = fd;
	return 0;
}

static bool rel_ok(const char *rel)
{
	if (!*rel)
		return false;
	for (const char *s = rel;;) {
		size_t len = strcspn(s, "/");
		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!s[len])
			return true;
		s += len + 1;
	}
}

static const char *after_prefix(const char *base, const char *path)
{
	size_t bl = strlen(base);
	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	if (bl == 0 || strncmp(path, base, bl) != 0)
		return NULL;
	if (bl == 1 && base[0] == '/')
		return path + 1;
	return path[bl] == '/' ? path + bl + 1 : NULL;
}

int gh_path_beneath(const char *base, const char *path, const char **ret_rel)
{
	if (!base || !path)
		return GH_EINVAL;
	const char *rel = after_prefix(base, path);
	if (!rel && path[0] == '/') {
		char *canon = realpath(base, NULL);
		if (canon)
			rel = after_prefix(canon, path);
		free(canon);
	}
	if (!rel || !rel_ok(rel))
		return GH_EPERM;
	*ret_rel = rel;
	return 0;
}

/* Walk REL (checked by rel_ok) from DIRFD through real directories only;
 * *ret_fd: the directory holding the last component, *ret_name (malloc'd). */
static int walk_beneath(int dirfd, const char *rel, int *ret_fd, char **ret_name, char *why,
			size_t whylen)
{
	int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	int r = cur < 0 ? GH_EIO : 0;
	const char *s = rel;
	while (r == 0 && strchr(s, '/')) {
		size_t len = strcspn(s, "/");
		char *name = strndup(s, len);
		if (!name) {
			r = GH_ENOMEM;
			break;
		}
		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0) {
			r = err_of(errno);
		} else if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			say(why, whylen, "'%s' is not a directory (a symlink?)", name);
			r = GH_EPERM;
			close(fd);
		} else {
			replace_fd(&cur, fd);
		}
		free(name);
		s += len + 1;
	}
	char *last = r == 0 ? strdup(s) : NULL;
	if (r == 0 && !last)
		r = GH_ENOMEM;
	if (r < 0) {
		if (cur >= 0)
			close(cur);
		return r;
	}
	*ret_fd = cur;
	*ret_name = last;
	return 0;
}

/* The directory holding PATH's last component beneath BASE. */
static int parent_beneath(const char *base, const char *path, int *ret_fd, char **ret_name,
			  char *why, size_t whylen)
{
	const char *rel = NULL;
	int bfd = -1;
	if (gh_path_beneath(base, path, &rel) < 0) {
		say(why, whylen, "not a path beneath %s", base);
		return GH_EPERM;
	}
	int r = gh_safe_open_dir(base, &bfd, why, whylen);
	if (r < 0)
		return r;
	r = walk_beneath(bfd, rel, ret_fd, ret_name, why, whylen);
	close(bfd);
	return r;
}

int gh_open_beneath(const char *base, const char *path, int *ret_fd, char *why, size_t whylen)
{
	int dfd = -1;
	char *name = NULL;
	struct stat st;
	int r = parent_beneath(base, path, &dfd, &name, why, whylen);
	if (r < 0)
		return r;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ELOOP ? GH_EPERM : err_of(errno);
		if (errno == ELOOP)
			say(why, whylen, "a symlink");
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		say(why, whylen, "not a regular file");
		r = GH_EPERM;
		close(fd);
	} else {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		*ret_fd = fd;
	}
	close(dfd);
	free(name);
	return r;
}

int gh_unlink_beneath(const char *base, const char *path, char *why, size_t whylen)
{
	int dfd = -1;
	char *name = NULL;
	struct stat st;
	int r = parent_beneath(base, path, &dfd, &name, why, whylen);
	if (r < 0)
		return r;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = err_of(errno);
	} else if (!S_ISREG(st.st_mode)) {
		say(why, whylen, "not a regular file");
		r = GH_EPERM;
	} else if (unlinkat(dfd, name, 0) < 0) {
		r = err_of(errno);
	}
	close(dfd);
	free(name);
	return r;
}

int gh_safe_append(const char *path, int mode, int *ret_fd, char *why, size_t whylen)
{
	int dfd = -1;
	char *name = NULL;
	struct stat st;
	int r = walk_admin(path, &name, &dfd, why, whylen);
	if (r < 0)
		return r;
	int fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
					   O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		r = errno == ELOOP ? GH_EPERM : err_of(errno);
		say(why, whylen, "%s", errno == ELOOP ? "a symlink" : strerror(errno));
	} else if (fstat(fd, &st) < 0) {
		r = err_of(errno);
		say(why, whylen, "%s", strerror(errno));
		close(fd);
	} else if (!S_ISREG(st.st_mode) || !uid_trusted(st.st_uid)) {
		say(why, whylen, "not a regular file owned by root (owner uid %d)", (int)st.st_uid);
		r = GH_EPERM;
		close(fd);
	} else {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		*ret_fd = fd;
	}
	close(dfd);
	free(name);
	return r;
}

int gh_trusted_check(const struct stat *st, bool not_readable_by_others, char *why,
		     size_t whylen)
{
	if (!S_ISREG(st->st_mode)) {
		say(why, whylen, "is not a regular file");
		return GH_EPERM;
	}
	if (!uid_trusted(st->st_uid)) {
		say(why, whylen, "is owned by uid %d, not root", (int)st->st_uid);
		return GH_EPERM;
	}
	mode_t bad = not_readable_by_others ? 077 : (S_IWGRP | S_IWOTH);
	if (st->st_mode & bad) {
		say(why, whylen, "is %s by group or others (mode %04o)",
		    (st->st_mode & (S_IWGRP | S_IWOTH)) ? "writable" : "readable",
		    (unsigned)(st->st_mode & 07777));
		return GH_EPERM;
	}
	return 0;
}

static int read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	char *buf = malloc(max + 1);
	size_t len = 0;
	if (!buf)
		return GH_ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && len + (size_t)n > max)) {
			free(buf);
			return n < 0 ? GH_EIO : GH_ELIMIT;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int gh_trusted_read(const char *path, size_t max, bool not_readable_by_others, char **ret_buf,
		    size_t *ret_len, char *why, size_t whylen)
{
	int dfd = -1, fd = -1;
	char *name = NULL;
	struct stat st;
	int r = walk_admin(path, &name, &dfd, why, whylen);
	if (r < 0)
		return r;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ELOOP ? GH_EPERM : err_of(errno);
		say(why, whylen, "%s", errno == ELOOP ? "is a symlink" : strerror(errno));
	} else if (fstat(fd, &st) < 0) {
		r = GH_EIO;
	} else {
		r = gh_trusted_check(&st, not_readable_by_others, why, whylen);
	}
	if (r == 0)
		r = read_fd(fd, max, ret_buf, ret_len);
	if (fd >= 0)
		close(fd);
	close(dfd);
	free(name);
	return r;
}

/* The socket inode PFD (an O_PATH fd of NAME) is what root may connect to. */
static int socket_check(int pfd, uid_t owner, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(pfd, &st) < 0)
		return GH_EIO;
	if (S_ISLNK(st.st_mode)) {
		say(why, whylen, "is a symlink");
		return GH_EPERM;
	}
	if (!S_ISSOCK(st.st_mode)) {
		say(why, whylen, "is not a socket");
		return GH_EPERM;
	}
	if (st.st_uid != owner) {
		say(why, whylen, "is owned by uid %d, not by uid %d", (int)st.st_uid, (int)owner);
		return GH_EPERM;
	}
	return 0;
}

int gh_safe_connect(int dirfd, const char *name, uid_t owner, int *ret_fd, char *why,
		    size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1;
	if (!name || !*name || strchr(name, '/'))
		return GH_EINVAL;
	int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return err_of(errno);
	int r = socket_check(pfd, owner, why, whylen);
	if (r == 0) {
		/* the O_PATH fd pins the inode checked: a rename cannot swap it */
		int n = snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d", pfd);
		fd = n > 0 && (size_t)n < sizeof sa.sun_path
			     ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)
			     : -1;
		r = fd < 0 ? GH_EIO : 0;
	}
	if (r == 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		r = errno == ECONNREFUSED || errno == ENOENT ? GH_ENOENT : GH_EIO;
		close(fd);
	} else if (r == 0) {
		*ret_fd = fd;
	}
	close(pfd);
	return r;
}

int gh_safe_lone_file_check(const struct stat *st, char *why, size_t whylen)
{
	if (S_ISLNK(st->st_mode)) {
		say(why, whylen, "is a symlink");
		return GH_EPERM;
	}
	if (!S_ISREG(st->st_mode)) {
		say(why, whylen, "is not a regular file");
		return GH_EPERM;
	}
	if (st->st_nlink != 1) {
		say(why, whylen, "has %lu links (a hard link to a file elsewhere?)",
		    (unsigned long)st->st_nlink);
		return GH_EPERM;
	}
	return 0;
}

/* The path of directory fd DFD joined with NAME (malloc'd). */
static int fd_path_join(int dfd, const char *name, char **ret)
{
	char proc[64], dir[PATH_MAX];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", dfd);
	ssize_t n = readlink(proc, dir, sizeof dir - 1);
	if (n <= 0)
		return GH_EIO;
	dir[n] = '\0';
	if (asprintf(ret, "%s/%s", strcmp(dir, "/") ? dir : "", name) < 0)
		return GH_ENOMEM;
	return 0;
}

/* One step of gh_safe_resolve: *CUR (malloc'd) becomes what its last
 * component links to, or, when that is not a symlink, the result (*DONE). */
static int resolve_step(char **cur, bool *done, char *why, size_t whylen)
{
	int dfd = -1;
	char *name = NULL, *dir = NULL, *next = NULL;
	char target[PATH_MAX];
	struct stat dst, lst;
	int r = walk_admin(*cur, &name, &dfd, why, whylen);
	if (r < 0)
		return r;
	if (fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(lst.st_mode)) {
		*done = true;
		r = fd_path_join(dfd, name, &next);
	} else if (fstat(dfd, &dst) < 0) {
		r = GH_EIO;
	} else if (!gh_safe_dir_trusted(&dst) || !uid_trusted(lst.st_uid)) {
		say(why, whylen, "'%s' is a symlink others could have made", name);
		r = GH_EPERM;
	} else {
		ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
		r = n <= 0 ? GH_EIO : 0;
		if (r == 0) {
			target[n] = '\0';
			if (target[0] == '/')
				next = strdup(target);
			else if ((r = fd_path_join(dfd, "", &dir)) == 0 &&
				 asprintf(&next, "%s%s", dir, target) < 0)
				next = NULL;
			if (r == 0 && !next)
				r = GH_ENOMEM;
		}
	}
	if (r == 0) {
		free(*cur);
		*cur = next;
	}
	free(dir);
	free(name);
	close(dfd);
	return r;
}

int gh_safe_resolve(const char *path, char **ret_path, char *why, size_t whylen)
{
	bool done = false;
	char *cur = path ? strdup(path) : NULL;
	int r = cur ? 0 : GH_EINVAL;
	for (int i = 0; r == 0 && !done; i++) {
		if (i > GH_SAFE_MAX_LINKS) {
			say(why, whylen, "too many symlinks");
			r = GH_EPERM;
			break;
		}
		r = resolve_step(&cur, &done, why, whylen);
	}
	if (r < 0) {
		free(cur);
		return r;
	}
	*ret_path = cur;
	return 0;
}
