/* The web processes' listening sockets (listen.h). */
#include "web/listen.h"
#include "core/error.h"
#include "core/util.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int gh_web_listen_socket(const char *hostport, int *ret_fd)
{
	struct addrinfo hints, *res = NULL;
	char *host = NULL, portstr[16];
	int port = 0, fd = -1, r = GH_EINVAL;
	if (gh_parse_hostport(hostport, &host, &port) < 0)
		goto out;
	bool any = !strcmp(host, "0.0.0.0") || !strcmp(host, "*");
	memset(&hints, 0, sizeof hints);
	hints.ai_family = any ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int n = snprintf(portstr, sizeof portstr, "%d", port);
	if (n < 0 || (size_t)n >= sizeof portstr ||
	    getaddrinfo(any ? NULL : host, portstr, &hints, &res) != 0)
		goto out;
	r = GH_EIO;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0) {
		*ret_fd = fd;
		r = 0;
	}
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	return r;
}
