/* Files root opens although another user (the worker user) can write
 * near them.
 *
 * Two kinds of path reach root:
 *  - an administrator's path (the data directory, recordings_dir,
 *    jsonl_file, log_file): walked from "/" (or the working directory)
 *    one component at a time with O_NOFOLLOW; a symlink is followed only
 *    when it is owned by root or the effective uid and lies in a directory
 *    they own and nobody else can write (a link only the administrator
 *    could have made), at most GH_SAFE_MAX_LINKS times;
 *  - a path read from the store (sessions.recording_path), which the
 *    worker user can write: it must name a regular file strictly beneath
 *    a base directory, with no empty, "." or ".." component, and it is
 *    walked from the base's fd with O_NOFOLLOW at every step (no symlink
 *    at all).
 *  - a unix socket in a directory of the worker user's (DATA/run): root
 *    connects only to a socket inode owned by the expected user, opened
 *    O_PATH|O_NOFOLLOW in the directory's fd and connected through
 *    /proc/self/fd/N (a symlink or someone else's socket is refused).
 *  - a file root opens by name in a directory the worker user can write
 *    (the database's files in DATA/db): a regular file with a single link
 *    (no symlink, no hard link to a file elsewhere), checked on the open fd.
 * Files root trusts (configuration, keys) must be regular files opened
 * with O_NOFOLLOW, owned by root or the effective uid, and not writable
 * by group or others.
 *
 * Every function returns 0 or a negative GH_E*: GH_EPERM when the path
 * breaks one of these rules (with *why, when given, a short reason),
 * GH_ENOENT when a component is missing, GH_EIO otherwise. Returned fds
 * are O_CLOEXEC and owned by the caller. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define GH_SAFE_MAX_LINKS 32
#define GH_SAFE_WHYLEN 160

/* True when ST (a directory) can only be changed by root or the
 * effective uid: only they could have placed a symlink in it. */
bool gh_safe_dir_trusted(const struct stat *st);

/* Open the directory at PATH (an administrator's path, walked as above).
 * *ret_fd is an O_RDONLY|O_DIRECTORY fd. */
int gh_safe_open_dir(const char *path, int *ret_fd, char *why, size_t whylen);

/* PATH relative to BASE: *ret_rel points into PATH after BASE and its
 * slash. BASE matches textually (trailing slashes ignored) or, for an
 * absolute PATH, as its canonical form. GH_EPERM when PATH is not
 * strictly beneath BASE or has an empty, "." or ".." component. */
int gh_path_beneath(const char *base, const char *path, const char **ret_rel);

/* Open the regular file at PATH beneath directory BASE for reading (walk
 * without any symlink). GH_EPERM for anything but a regular file. */
int gh_open_beneath(const char *base, const char *path, int *ret_fd, char *why, size_t whylen);

/* Remove the regular file at PATH beneath BASE: unlinkat() relative to
 * the fd of its directory, reached without any symlink. GH_ENOENT when it
 * is already gone, GH_EPERM when it is not a regular file beneath BASE. */
int gh_unlink_beneath(const char *base, const char *path, char *why, size_t whylen);

/* Open PATH (an administrator's path) for appending: O_WRONLY|O_APPEND|
 * O_CREAT|O_NOFOLLOW with MODE for a new file. GH_EPERM when the last
 * component is not a regular file owned by root or the effective uid. */
int gh_safe_append(const char *path, int mode, int *ret_fd, char *why, size_t whylen);

/* Read a whole file root trusts (at most MAX bytes, NUL-terminated,
 * caller frees): opened O_NOFOLLOW, a regular file owned by root or the
 * effective uid, not writable by group or others (NOT_READABLE_BY_OTHERS:
 * nor readable by them). GH_EPERM with WHY naming what is wrong;
 * GH_ENOENT when it does not exist. */
int gh_trusted_read(const char *path, size_t max, bool not_readable_by_others, char **ret_buf,
		    size_t *ret_len, char *why, size_t whylen);

/* The checks of gh_trusted_read on an open fd (ST: its fstat). */
int gh_trusted_check(const struct stat *st, bool not_readable_by_others, char *why,
		     size_t whylen);

/* Connect a stream socket to the unix socket NAME (one component) in the
 * directory DIRFD without following any link: NAME must be a socket (not a
 * symlink) owned by OWNER, and the connection goes to that very inode.
 * *ret_fd: the connected fd (blocking, O_CLOEXEC). GH_ENOENT when NAME is
 * missing or nobody listens on it, GH_EPERM (WHY says why) when it breaks
 * a rule. */
int gh_safe_connect(int dirfd, const char *name, uid_t owner, int *ret_fd, char *why,
		    size_t whylen);

/* The canonical form of an administrator's PATH (caller frees): its
 * directories walked as above, and its last component followed as well
 * when it is a symlink the walk may follow. The file itself need not
 * exist. The result names no symlink at the time of the call. */
int gh_safe_resolve(const char *path, char **ret_path, char *why, size_t whylen);

/* ST (fstat of an open fd, or fstatat with AT_SYMLINK_NOFOLLOW) is a
 * file root may use in a directory others can write: a regular file with
 * one link. GH_EPERM with WHY otherwise. */
int gh_safe_lone_file_check(const struct stat *st, char *why, size_t whylen);
