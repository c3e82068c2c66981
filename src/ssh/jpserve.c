/* The dial service of the worker holding a jumpoint node (jpserve.h). */
#include "ssh/jpserve.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "relay/fwd.h"
#include "ssh/jpnode.h"
#include "store/jumpoint.h"

#include <errno.h>
#include <libssh/server.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQ_WAIT_MS 2000
#define OPEN_TIMEOUT_S 15

struct gh_jpserve {
	struct gh_store *st;
	ssh_session s;
	ssh_event ev;
	int64_t node;
	int lfd;
	char path[4096];
	struct gh_fwdset *fwds;
	size_t carried;          /* as last written to the node's row */
	char dests[GH_JPNODE_DESTS_MAX];
};

static int on_listen(socket_t fd, int revents, void *ud)
{
	(void)fd, (void)revents, (void)ud;
	return 0; /* accepted after the poll (gh_jpserve_tick) */
}

static void on_end(void *ud, const struct gh_fwd_end *e)
{
	struct gh_jpserve *js = ud;
	gh_info("jumpoint node %lld: connection to %s:%d ended (%s), %llu bytes in, %llu out, "
		"%lld ms", (long long)js->node, e->host, e->port, e->reason,
		(unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
		(long long)e->duration_ms);
}

/* A blocking channel open on the (non-blocking) connection. */
static ssh_channel open_channel(struct gh_jpserve *js, const char *host, int port)
{
	ssh_channel ch = ssh_channel_new(js->s);
	if (!ch)
		return NULL;
	ssh_set_blocking(js->s, 1);
	int r = ssh_channel_open_reverse_forward(ch, host, port, "127.0.0.1", 0);
	ssh_set_blocking(js->s, 0);
	if (r != SSH_OK) {
		ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}

/* Send the destinations: a channel to GH_JPNODE_DESTS_HOST port 0. */
static int push_dests(struct gh_jpserve *js)
{
	ssh_channel ch = open_channel(js, GH_JPNODE_DESTS_HOST, 0);
	int r = GH_ECONN;
	if (!ch)
		return r;
	ssh_set_blocking(js->s, 1);
	size_t n = strlen(js->dests);
	if ((n == 0 || ssh_channel_write(ch, js->dests, (uint32_t)n) == (int)n) &&
	    ssh_channel_send_eof(ch) == SSH_OK)
		r = 0;
	ssh_channel_close(ch);
	ssh_set_blocking(js->s, 0);
	ssh_channel_free(ch);
	return r;
}

void gh_jpserve_refresh(struct gh_jpserve *js)
{
	char *now = malloc(GH_JPNODE_DESTS_MAX);
	if (!now)
		return;
	if (gh_store_jumpoint_node_dests(js->st, js->node, now, GH_JPNODE_DESTS_MAX) == 0 &&
	    strcmp(now, js->dests) != 0) {
		memcpy(js->dests, now, strlen(now) + 1);
		if (push_dests(js) < 0) {
			gh_warn("jumpoint node %lld: cannot send its destinations", (long long)js->node);
			js->dests[0] = '\0'; /* again at the next heartbeat */
		} else
			gh_info("jumpoint node %lld: destinations sent", (long long)js->node);
	}
	free(now);
}

static int listen_at(struct gh_jpserve *js, const char *data_dir)
{
	char run[4096];
	struct sockaddr_un sa;
	int dirfd = -1, r = GH_EIO;
	if (gh_jpnode_sock_path(data_dir, js->node, js->path, sizeof js->path) < 0 ||
	    snprintf(run, sizeof run, "%s/run", data_dir) >= (int)sizeof run)
		return GH_EINVAL;
	if ((r = gh_mkdir_p(run, 0700)) < 0 || (r = gh_jpnode_sock_addr(js->path, &sa, &dirfd)) < 0)
		return r;
	js->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	(void)unlink(js->path); /* a stale one from a crashed worker */
	mode_t um = umask(0177);
	r = js->lfd >= 0 && bind(js->lfd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
			    listen(js->lfd, 16) == 0 ? 0 : GH_EIO;
	umask(um);
	if (dirfd >= 0)
		close(dirfd);
	if (r == 0 && ssh_event_add_fd(js->ev, js->lfd, POLLIN, on_listen, js) != SSH_OK)
		r = GH_ENOMEM;
	return r;
}

int gh_jpserve_open(struct gh_store *st, ssh_session s, ssh_event ev, int64_t node,
		    const char *data_dir, struct gh_jpserve **ret)
{
	struct gh_jpserve *js = calloc(1, sizeof *js);
	struct gh_fwdset_hooks h = { .on_end = on_end };
	long timeout = OPEN_TIMEOUT_S;
	if (!js)
		return GH_ENOMEM;
	*js = (struct gh_jpserve){ .st = st, .s = s, .ev = ev, .node = node, .lfd = -1 };
	h.ud = js;
	js->fwds = gh_fwdset_new(s, ev, &h);
	int r = js->fwds ? listen_at(js, data_dir) : GH_ENOMEM;
	if (r == 0)
		ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	if (r < 0) {
		gh_jpserve_close(js, "cannot listen");
		return r;
	}
	gh_jpserve_refresh(js);
	*ret = js;
	return 0;
}

/* The request line of FD, waited for at most REQ_WAIT_MS. */
static int read_req(int fd, char *line, size_t cap)
{
	size_t n = 0;
	int64_t end = gh_mono_ms() + REQ_WAIT_MS;
	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = end - gh_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return GH_ETIMEDOUT;
		ssize_t k = recv(fd, line + n, 1, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return GH_ECONN;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return GH_EINVAL;
}

static void answer(int fd, const char *text)
{
	(void)!send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* One request on FD (a peer of our uid): checked, a channel, pumped. */
static void serve_one(struct gh_jpserve *js, int fd)
{
	char line[GH_JPNODE_REQ_MAX], host[256];
	int port = 0;
	if (read_req(fd, line, sizeof line) < 0 ||
	    gh_jpnode_req_parse(line, host, sizeof host, &port) < 0) {
		answer(fd, "E bad request\n");
		goto drop;
	}
	gh_jpserve_refresh(js); /* the destinations as they are now */
	if (!gh_jpnode_dest_listed(js->dests, host, port)) {
		gh_warn("jumpoint node %lld: dial to %s:%d refused: not an asset of its jumpoint",
			(long long)js->node, host, port);
		answer(fd, "E not an asset of this jumpoint\n");
		goto drop;
	}
	if (gh_fwdset_count(js->fwds) >= GH_JPNODE_MAX_CHANNELS) {
		answer(fd, "E too many connections through this node\n");
		goto drop;
	}
	ssh_channel ch = open_channel(js, host, port);
	if (!ch) {
		answer(fd, "E the jumpoint could not connect\n");
		goto drop;
	}
	answer(fd, "O\n");
	gh_fwd_add(js->fwds, ch, fd, GH_FWD_TUNNEL, "jumpoint", host, port, 0);
	return;
drop:
	close(fd);
}

void gh_jpserve_tick(struct gh_jpserve *js)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(js->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid()) {
			gh_warn("jumpoint node %lld: dial request from uid %d refused",
				(long long)js->node, len == sizeof cr ? (int)cr.uid : -1);
			close(fd);
			continue;
		}
		serve_one(js, fd);
	}
	gh_fwdset_tick(js->fwds, NULL);
	size_t n = gh_fwdset_count(js->fwds);
	if (n != js->carried &&
	    gh_store_jumpoint_node_sessions(js->st, js->node, getpid(), (int64_t)n) == 0)
		js->carried = n;
}

void gh_jpserve_close(struct gh_jpserve *js, const char *reason)
{
	if (!js)
		return;
	if (js->lfd >= 0) {
		ssh_event_remove_fd(js->ev, js->lfd);
		close(js->lfd);
		(void)unlink(js->path);
	}
	gh_fwdset_free(js->fwds, reason, 2000);
	free(js);
}
