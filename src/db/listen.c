/* The database gateway's listeners (db.h). */
#include "db/db.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *listen_of(const struct gh_config *cfg, enum gh_db_door_id id)
{
	switch (id) {
	case GH_DB_DOOR_MYSQL:
		return cfg->mysql_listen;
	case GH_DB_DOOR_POSTGRESQL:
		return cfg->postgresql_listen;
	case GH_DB_DOOR_REDIS:
		return cfg->redis_listen;
	case GH_DB_N_DOORS:
		break;
	}
	return NULL;
}

/* Listen on ADDR for DOOR into RET[*N..CAP). */
static int listen_one(const char *addr, enum gh_db_door_id door, struct gh_db_listener *ret,
		      size_t cap, size_t *n)
{
	char *host = NULL, port_s[16];
	int port = 0, r = GH_EIO;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
	if (gh_parse_hostport(addr, &host, &port) < 0)
		return GH_EINVAL;
	snprintf(port_s, sizeof port_s, "%d", port);
	if (getaddrinfo(host, port_s, &hints, &res) != 0)
		goto out;
	for (struct addrinfo *ai = res; ai && *n < cap; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int one = 1;
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			gh_error("cannot listen on %s: %s", addr, strerror(errno));
			close(fd);
			continue;
		}
		ret[(*n)++] = (struct gh_db_listener){ .fd = fd, .door = door };
		r = 0;
	}
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	return r;
}

int gh_db_listen(const struct gh_app *app, struct gh_db_listener *ret, size_t cap, size_t *ret_n)
{
	size_t n = 0;
	int r = 0;
	for (int id = 0; id < GH_DB_N_DOORS && r == 0; id++) {
		const char *addr = listen_of(&app->cfg, (enum gh_db_door_id)id);
		const struct gh_db_door *door = gh_db_door_get((enum gh_db_door_id)id);
		if (!addr || !addr[0])
			continue;
		if (!door) {
			gh_warn("no %s door in this build: %s not served", id == 0 ? "mysql" : "redis",
				addr);
			continue;
		}
		r = listen_one(addr, (enum gh_db_door_id)id, ret, cap, &n);
		if (r == 0)
			gh_info("listening for %s on %s", door->name, addr);
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			close(ret[i].fd);
		return r;
	}
	*ret_n = n;
	return 0;
}
