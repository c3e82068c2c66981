/* Diagnostic logging (not audit: audit events go through audit/).
 *
 * Lines go to stderr (default) or a file, prefixed with time, pid, level
 * and the source location. User-controlled strings must pass through
 * gh_escape() (core/util.h) before logging. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

enum gh_log_level { GH_LOG_ERROR = 0, GH_LOG_WARN, GH_LOG_INFO, GH_LOG_DEBUG };

/* level: "error" | "warn" | "info" | "debug"; returns -1 when unknown. */
int gh_log_level_parse(const char *name);
void gh_log_set_level(int level);
int gh_log_get_level(void);
/* Append log lines to PATH instead of stderr (NULL or "": back to
 * stderr); also the way to reopen it after a rotation. PATH is opened as
 * core/safefile.h's gh_safe_append (mode 0640, no symlink a less
 * privileged user could have planted, a file owned by root or the
 * effective uid) with O_CLOEXEC: forked processes inherit it. On error
 * returns a negative GH_E* with a reason in WHY and keeps the current
 * destination. */
int gh_log_set_file(const char *path, char *why, size_t whylen);
/* Tag put after the pid, e.g. "master" or "worker". Borrowed, must outlive logging. */
void gh_log_set_tag(const char *tag);
/* The descriptor log lines go to (a forked helper that closes the others keeps it). */
int gh_log_fd(void);

void gh_log(int level, const char *file, int line, const char *func,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define gh_error(...) gh_log(GH_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define gh_warn(...) gh_log(GH_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define gh_info(...) gh_log(GH_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define gh_debug(...) gh_log(GH_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

