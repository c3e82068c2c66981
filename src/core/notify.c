/* sd_notify without libsystemd (see notify.h). */
#include "core/notify.h"
#include "core/error.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int gh_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	char msg[256];
	int fd = -1, r = GH_ENOENT;
	size_t n = path ? strlen(path) : 0;

	if (n < 2 || n >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
		goto out;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	int len;
	if (!strncmp(state, "RELOADING=", 10)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		len = snprintf(msg, sizeof msg, "%s\nMONOTONIC_USEC=%llu\n", state,
			       (unsigned long long)ts.tv_sec * 1000000ULL +
				       (unsigned long long)ts.tv_nsec / 1000);
	} else {
		len = snprintf(msg, sizeof msg, "%s\n", state);
	}
	r = GH_EINVAL;
	if (len < 0 || (size_t)len >= sizeof msg)
		goto out;
	r = GH_EIO;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out;
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) != len)
		goto out;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}
