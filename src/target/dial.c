/* Routing to a target's port (see dial.h). */
#include "target/dial.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "ssh/jpnode.h"
#include "target/target.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CTL_LINE 4096

/* The hop helper's control messages, one line each:
 *   helper -> caller  "K FP KEY"   the key the hop presented (then waits)
 *   caller -> helper  "Y" | "N"    accept it or not
 *   helper -> caller  "O"          logged in, channel open, pumping
 *   helper -> caller  "E REASON"   failed (the helper ends) */

static bool ctl_send(int fd, const char *line)
{
	size_t n = strlen(line);
	while (n) {
		ssize_t k = write(fd, line, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		line += k;
		n -= (size_t)k;
	}
	return true;
}

/* One line (without its newline) into BUF within DEADLINE (monotonic ms). */
static int ctl_recv(int fd, char *buf, size_t len, int64_t deadline)
{
	size_t n = 0;
	for (;;) {
		int64_t left = deadline - gh_mono_ms();
		if (left <= 0)
			return GH_ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return pr == 0 ? GH_ETIMEDOUT : GH_EIO;
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return GH_ECONN;
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 >= len)
			return GH_EINVAL;
		buf[n++] = c;
	}
}

/* Close every descriptor of this (forked) process but KEEP's and the log's. */
static void close_others(const int *keep, size_t n)
{
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur
									      : 65536;
	for (int fd = 3; fd < max; fd++) {
		bool k = fd == gh_log_fd();
		for (size_t i = 0; i < n; i++)
			k = k || fd == keep[i];
		if (!k)
			close(fd);
	}
}

/* The helper of hop H: its session over TRANSPORT, the key asked of the
 * caller over CTL, the login, a channel to NEXT_HOST:NEXT_PORT pumped to
 * OUT. Returns the exit status. */
static int hop_run(const struct gh_dial_hop *h, int transport, int out, int ctl,
		   const char *next_host, int next_port, int timeout)
{
	struct gh_target_conn c = { .address = h->address, .port = h->port,
				    .username = h->username, .pinned_host_key = h->pinned_host_key,
				    .timeout = timeout };
	ssh_session s = NULL;
	ssh_channel ch = NULL;
	char err[GH_TARGET_ERRLEN], line[CTL_LINE];
	char *hk = NULL, *fp = NULL;
	int rc = 1;

	if (gh_target_connect_fd(&c, transport, &s, err) < 0)
		goto fail;
	if (gh_target_host_key(s, &hk, &fp) < 0) {
		snprintf(err, sizeof err, "cannot read the host key");
		goto fail;
	}
	if (snprintf(line, sizeof line, "K %s %s\n", fp, hk) >= (int)sizeof line ||
	    !ctl_send(ctl, line) ||
	    ctl_recv(ctl, line, sizeof line, gh_mono_ms() + (int64_t)timeout * 1000) < 0 ||
	    strcmp(line, "Y") != 0)
		goto out; /* the caller said why */
	if (gh_target_auth(s, h->secret_kind, h->secret, err) < 0)
		goto fail;
	ch = ssh_channel_new(s);
	if (!ch || ssh_channel_open_forward(ch, next_host, next_port, "127.0.0.1", 0) != SSH_OK) {
		snprintf(err, sizeof err, "%s:%d refused by the gateway", next_host, next_port);
		goto fail;
	}
	if (!ctl_send(ctl, "O\n"))
		goto out;
	close(ctl);
	ctl = -1;
	rc = 0;
	gh_target_pump(out, s, ch);
	ssh_channel_close(ch);
	goto out;
fail:
	if (snprintf(line, sizeof line, "E %s\n", err) < (int)sizeof line)
		ctl_send(ctl, line);
out:
	if (ch)
		ssh_channel_free(ch);
	gh_target_free(s);
	free(hk);
	free(fp);
	return rc;
}

/* Fork the detached helper of hop H (the caller's process gets its status
 * at once and no zombie is left). KEEP_CLOSED: the caller's end of OUT's
 * pair, which the helper must not hold. */
static int hop_spawn(const struct gh_dial_hop *h, int transport, int out, int ctl_child,
		     int not_ours, const char *next_host, int next_port, int timeout)
{
	pid_t pid = fork();
	if (pid < 0)
		return GH_EIO;
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		int keep[3] = { transport, out, ctl_child };
		close(not_ours);
		close_others(keep, 3);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		alarm(0);
		gh_log_set_tag("gateway");
		_exit(hop_run(h, transport, out, ctl_child, next_host, next_port, timeout));
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* The caller's side of hop I's control exchange. */
static int hop_talk(const struct gh_route *route, size_t i, int ctl, int timeout, char *err)
{
	char line[CTL_LINE];
	int64_t deadline = gh_mono_ms() + (int64_t)timeout * 2000;
	const char *name = route->hops[i].name;
	for (;;) {
		int r = ctl_recv(ctl, line, sizeof line, deadline);
		if (r < 0) {
			snprintf(err, GH_TARGET_ERRLEN, "gateway %.64s: %.160s", name,
				 r == GH_ETIMEDOUT ? "timed out" : "connection lost");
			return r == GH_ETIMEDOUT ? r : GH_ECONN;
		}
		if (!strcmp(line, "O"))
			return 0;
		if (!strncmp(line, "E ", 2)) {
			snprintf(err, GH_TARGET_ERRLEN, "gateway %.64s: %.160s", name, line + 2);
			return GH_ECONN;
		}
		char *key = line[0] == 'K' && line[1] == ' ' ? strchr(line + 2, ' ') : NULL;
		if (!key) {
			snprintf(err, GH_TARGET_ERRLEN, "gateway %s: internal error", name);
			return GH_EIO;
		}
		*key++ = '\0';
		char why[GH_TARGET_ERRLEN] = "";
		r = route->host_key ? route->host_key(route->ud, i, key, line + 2, why) : GH_EHOSTKEY;
		ctl_send(ctl, r == 0 ? "Y\n" : "N\n");
		if (r < 0) {
			snprintf(err, GH_TARGET_ERRLEN, "gateway %.64s: %.160s", name,
				 why[0] ? why : "host key refused");
			return GH_ECONN; /* GH_EHOSTKEY is the target's own key */
		}
	}
}

/* A socketpair with CLOEXEC on both ends. */
static int pair(int sp[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ? GH_EIO : 0;
}

static int dial_chain(const struct gh_route *route, const char *host, int port, int timeout,
		      int *ret_fd, char *err)
{
	const struct gh_dial_hop *h0 = &route->hops[0];
	int fd = -1, r = gh_target_tcp_connect(h0->address, h0->port, timeout, &fd, err);
	if (r < 0) {
		char inner[GH_TARGET_ERRLEN];
		snprintf(inner, sizeof inner, "%s", err);
		snprintf(err, GH_TARGET_ERRLEN, "gateway %.64s: %.160s", h0->name, inner);
		return r;
	}
	for (size_t i = 0; i < route->n_hops; i++) {
		bool last = i + 1 == route->n_hops;
		const char *nh = last ? host : route->hops[i + 1].address;
		int np = last ? port : route->hops[i + 1].port;
		int sp[2] = { -1, -1 }, ctl[2] = { -1, -1 };
		if (pair(sp) < 0 || pair(ctl) < 0) {
			snprintf(err, GH_TARGET_ERRLEN, "cannot make a socket pair");
			r = GH_EIO;
		} else {
			r = hop_spawn(&route->hops[i], fd, sp[1], ctl[1], sp[0], nh, np, timeout);
			if (r < 0)
				snprintf(err, GH_TARGET_ERRLEN, "cannot start the gateway helper");
		}
		close(fd);
		if (sp[1] >= 0)
			close(sp[1]);
		if (ctl[1] >= 0)
			close(ctl[1]);
		fd = sp[0];
		if (r == 0)
			r = hop_talk(route, i, ctl[0], timeout, err);
		if (ctl[0] >= 0)
			close(ctl[0]);
		if (r < 0) {
			if (fd >= 0)
				close(fd);
			return r;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*ret_fd = fd;
	return 0;
}

/* One node: its socket, the request, the answer ("O" or "E REASON"). */
static int dial_node(const char *path, const char *host, int port, int timeout, int *ret_fd,
		     pid_t *ret_pid, char *why)
{
	char line[CTL_LINE];
	int fd = -1, r = gh_jpnode_sock_connect(path, &fd);
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (r < 0) {
		snprintf(why, GH_TARGET_ERRLEN, "node not reachable");
		return r;
	}
	if (snprintf(line, sizeof line, "%s %d\n", host, port) >= (int)sizeof line ||
	    !ctl_send(fd, line)) {
		r = GH_EIO;
		snprintf(why, GH_TARGET_ERRLEN, "node not reachable");
	} else if ((r = ctl_recv(fd, line, sizeof line, gh_mono_ms() + (int64_t)timeout * 3000)) < 0) {
		snprintf(why, GH_TARGET_ERRLEN, "%s", r == GH_ETIMEDOUT ? "timed out" : "node lost");
	} else if (strcmp(line, "O") != 0) {
		r = GH_ECONN;
		gh_escape(why, GH_TARGET_ERRLEN, strncmp(line, "E ", 2) ? "bad answer" : line + 2);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 ? cr.pid : 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*ret_fd = fd;
	return 0;
}

/* Through a connected node of the jumpoint, tried from a random one. A
 * refusal by the node (not an asset, too many connections) is final. */
static int dial_jumpoint(const struct gh_route *route, const char *host, int port, int timeout,
			 int *ret_fd, char *err)
{
	char why[GH_TARGET_ERRLEN] = "no jumpoint node connected";
	size_t n = route->n_jp, start = n ? randombytes_uniform((uint32_t)n) : 0;
	int r = GH_ECONN;
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		pid_t pid = 0;
		r = dial_node(route->jp_socks[i], host, port, timeout, ret_fd, &pid, why);
		if (r == 0) {
			if (route->used_node)
				*route->used_node = route->jp_nodes[i];
			if (route->used_pid)
				*route->used_pid = pid;
			return 0;
		}
		if (r == GH_ECONN)
			break;
	}
	snprintf(err, GH_TARGET_ERRLEN, "jumpoint %.64s: %.160s", route->jumpoint, why);
	return GH_ECONN;
}

int gh_target_dial(const struct gh_route *route, const char *host, int port, int timeout,
		   int *ret_fd, char *err)
{
	err[0] = '\0';
	if (!host || port < 1 || port > 65535)
		return GH_EINVAL;
	if (route && route->jumpoint)
		return dial_jumpoint(route, host, port, timeout > 0 ? timeout : 10, ret_fd, err);
	if (!route || route->n_hops == 0)
		return gh_target_tcp_connect(host, port, timeout, ret_fd, err);
	return dial_chain(route, host, port, timeout > 0 ? timeout : 10, ret_fd, err);
}
