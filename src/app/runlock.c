/* The serve lock: DATA/serve.lock, held by a running master (see app.h). */
#include "app/app.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_open(const char *data_dir, int flags)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/serve.lock", data_dir);
	if (n < 0 || (size_t)n >= sizeof path)
		return GH_EINVAL;
	int fd = open(path, flags | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? (errno == ENOENT ? GH_ENOENT : GH_EIO) : fd;
}

int gh_app_serve_lock(const char *data_dir, int *ret_fd)
{
	int fd = lock_open(data_dir, O_CREAT);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return GH_EBUSY;
	}
	*ret_fd = fd;
	return 0;
}

bool gh_app_serve_running(const char *data_dir)
{
	int fd = lock_open(data_dir, 0);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}
