#include "core/log.h"
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The process's one log sink (as syslog's is): every layer logs without a
 * context pointer, so the level and descriptor are this file's, set at
 * start (gh_log_set_level, gh_log_set_file). Kept file-scope on purpose;
 * with record.c's table and store/sqlite.c's hook, the only mutable
 * file-scope state besides signal flags (docs/CODING_STYLE.md). */
static int log_level = GH_LOG_INFO;
static int log_fd = STDERR_FILENO;
static const char *log_tag = "gatehouse";

int gh_log_level_parse(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void gh_log_set_level(int level) { log_level = level; }
int gh_log_get_level(void) { return log_level; }
int gh_log_fd(void)
{
	return log_fd;
}

void gh_log_set_tag(const char *tag) { log_tag = tag; }

int gh_log_set_file(const char *path, char *why, size_t whylen)
{
	int fd = STDERR_FILENO;
	if (path && *path) {
		/* root opens it; workers inherit the fd across fork() and write
		 * without being able to open the file themselves */
		mode_t old = umask(027); /* a new file is 0640 whatever the umask */
		int r = gh_safe_append(path, 0640, &fd, why, whylen);
		umask(old);
		if (r < 0)
			return r; /* the old file stays in use */
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void gh_log(int level, const char *file, int line, const char *func, const char *fmt, ...)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
	char buf[2048];
	struct timeval tv;
	struct tm tm;
	int saved = errno;

	if (level > log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long)(tv.tv_usec / 1000), log_tag, (int)getpid(), lv[level]);
	if (level == GH_LOG_DEBUG && n > 0 && (size_t)n < sizeof buf)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s:%d %s: ", base, line, func);
	if (n > 0 && (size_t)n < sizeof buf) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof buf - 1)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	ssize_t w = write(log_fd, buf, (size_t)n);
	(void)w;
	errno = saved;
}

