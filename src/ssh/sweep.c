/* Closing session rows of vanished workers (see sweep.h). */
#include "ssh/sweep.h"
#include "audit/audit.h"
#include "core/log.h"
#include "session/end.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

/* A worker is alive when its pid exists and runs the same program as we
 * do (a recycled pid of another program does not keep a row open). */
bool gh_worker_alive(int pid)
{
	char self[64], other[64], path[64];
	if (pid <= 0 || pid == (int)getpid())
		return pid == (int)getpid();
	if (kill(pid, 0) < 0 && errno != EPERM)
		return false;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_line(path, other, sizeof other)) {
		const char *paren = strrchr(other, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			return false; /* a zombie nobody reaped yet */
	}
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if (!read_line("/proc/self/comm", self, sizeof self) ||
	    !read_line(path, other, sizeof other))
		return true; /* no /proc: trust kill() */
	return strcmp(self, other) == 0;
}

int gh_sweep_close_worker(struct gh_store *st, int pid, const char *reason)
{
	struct gh_session *s = NULL;
	size_t n = 0;
	int closed = 0;
	int r = gh_store_session_list_worker(st, pid, &s, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char source[128];
		snprintf(source, sizeof source, "%s:%d", s[i].source_addr ? s[i].source_addr : "-",
			 s[i].source_port);
		struct gh_audit_who who = { .user = s[i].user_name, .source = source };
		struct gh_session_end e = { .id = s[i].id, .asset = s[i].asset_name,
					    .account = s[i].account, .exit_status = -1,
					    .reason = reason };
		if (gh_session_end(st, &who, &e) == 0)
			closed++;
	}
	for (size_t i = 0; i < n; i++)
		gh_session_free(&s[i]);
	free(s);
	return r < 0 ? r : closed;
}

int gh_sweep_sessions(struct gh_store *st, const char *reason)
{
	struct gh_session *s = NULL;
	size_t n = 0;
	int closed = 0;
	int r = gh_store_session_list(st, true, 0, &s, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		int pid = s[i].worker_pid;
		if (gh_store_is_pg(st) && s[i].node && *s[i].node &&
		    strcmp(s[i].node, gh_store_node(st)) != 0)
			continue; /* another node's worker: its pid means nothing here */
		if (gh_worker_alive(pid))
			continue;
		r = gh_sweep_close_worker(st, pid, reason);
		if (r > 0) {
			closed += r;
			gh_warn("session %s: worker %d is gone; closed (%s)", s[i].id, pid, reason);
		}
	}
	for (size_t i = 0; i < n; i++)
		gh_session_free(&s[i]);
	free(s);
	return closed;
}
