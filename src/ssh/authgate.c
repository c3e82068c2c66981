/* The password gate (see authgate.h). */
#include "ssh/authgate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int gh_auth_gate_enter(const char *data_dir)
{
	char path[4096];
	if (!data_dir || snprintf(path, sizeof path, "%s/run/auth.lock", data_dir) >= (int)sizeof path)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -1; /* interrupted (the grace alarm): go on, the worker ends soon */
	}
	return fd;
}

void gh_auth_gate_leave(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the lock */
}
