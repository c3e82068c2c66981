/* The master: accept loop, pre-auth limits, workers, signals (see ssh.h). */
#include "ssh/ssh.h"
#include "app/app.h"
#include "audit/export.h"
#include "auth/ldapsync.h"
#include "web/web.h"
#include "core/error.h"
#include "db/db.h"
#include "core/log.h"
#include "core/notify.h"
#include "core/util.h"
#include "ssh/hostkey.h"
#include "ssh/penalty.h"
#include "web/penalty_ch.h"
#include "ssh/priv.h"
#include "ssh/proclimit.h"
#include "ssh/proxyin.h"
#include "ssh/sweep.h"
#include "ssh/cluster.h"
#include "ssh/worker.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LISTENERS 16
#define KILL_WAIT_MS 3000
#define SWEEP_EVERY_MS 10000 /* rows of workers lost outside our children */
#define SUSPECT_NICE 10      /* CPU priority of workers for a suspect source */

struct child {
	pid_t pid;
	int status_fd;          /* read end; -1 once closed */
	bool authed;
	char ip[INET6_ADDRSTRLEN];
};

struct master {
	struct gh_app *app;
	int listeners[MAX_LISTENERS];
	int door[MAX_LISTENERS];   /* -1: SSH; else the database door (db/db.h) */
	size_t n_listeners;
	struct child *children;
	size_t n_children, cap_children;
	char ed_path[4096], rsa_path[4096];
	int64_t refused_logged_ms; /* rate limit for "limit reached" lines */
	pid_t export_pid;          /* audit export/retention process, 0: none */
	int64_t export_restart_ms; /* monotonic: not before */
	pid_t ldap_pid;            /* LDAP sync process (auth/ldapsync.h), 0: none */
	int64_t ldap_restart_ms;
	pid_t web_pid;             /* HTTPS server process (web/web.h), 0: none */
	int web_ch[GH_WEB_PROC_MAX]; /* master ends of the web processes' penalty channels */
	int n_web_ch;
	int64_t web_restart_ms;
	struct gh_priv priv;       /* what workers drop to */
	struct gh_penalty *penalty; /* failed logins per source */
	uint64_t refused;          /* connections refused since the last summary */
	int64_t refused_since;
	struct gh_proxyq *proxyq;  /* connections whose PROXY header is pending */
	struct gh_proxy_trust *proxy_trust; /* proxy_trusted, parsed */
};

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static int set_signals(void)
{
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return GH_EIO;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static int open_listeners(struct master *m)
{
	char *host = NULL;
	int port = 2222;
	char portstr[16];
	struct addrinfo hints, *res = NULL;

	int r = gh_parse_hostport(m->app->cfg.ssh_listen, &host, &port);
	if (r < 0) {
		gh_error("bad ssh_listen '%s'", m->app->cfg.ssh_listen);
		return r;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%d", port);
	int gr = getaddrinfo(*host ? host : NULL, portstr, &hints, &res);
	if (gr != 0) {
		gh_error("cannot resolve ssh_listen %s: %s", m->app->cfg.ssh_listen, gai_strerror(gr));
		free(host);
		return GH_EINVAL;
	}
	for (struct addrinfo *ai = res; ai && m->n_listeners < MAX_LISTENERS; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
			gh_error("cannot listen on %s: %s", m->app->cfg.ssh_listen, strerror(errno));
			close(fd);
			continue;
		}
		m->door[m->n_listeners] = -1;
		m->listeners[m->n_listeners++] = fd;
	}
	freeaddrinfo(res);
	free(host);
	if (m->n_listeners == 0)
		return GH_EIO;
	gh_info("listening for SSH on %s", m->app->cfg.ssh_listen);
	return 0;
}

/* The database gateway's doors, accepted like SSH (db/db.h). */
static int open_db_listeners(struct master *m)
{
	struct gh_db_listener l[MAX_LISTENERS];
	size_t n = 0;
	int r = gh_db_listen(m->app, l, MAX_LISTENERS - m->n_listeners, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		m->door[m->n_listeners] = (int)l[i].door;
		m->listeners[m->n_listeners++] = l[i].fd;
	}
	return r;
}

static void close_listeners(struct master *m)
{
	for (size_t i = 0; i < m->n_listeners; i++)
		close(m->listeners[i]);
	m->n_listeners = 0;
}

static size_t count_unauth(const struct master *m, const char *ip)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_children; i++)
		if (!m->children[i].authed && (!ip || !strcmp(ip, m->children[i].ip)))
			n++;
	return n;
}

static size_t count_authed(const struct master *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_children; i++)
		if (m->children[i].authed)
			n++;
	return n;
}

/* One more refused connection; true when its line may be logged
 * (rate-limited: a flood must not flood the log). */
static bool refuse_count(struct master *m)
{
	int64_t now = gh_mono_ms();
	m->refused++;
	if (now - m->refused_logged_ms < 1000)
		return false;
	m->refused_logged_ms = now;
	return true;
}

static void refuse_log(struct master *m, const char *what, const char *ip)
{
	if (refuse_count(m))
		gh_warn("%s reached; refusing connection from %s", what, ip);
}

static void refuse_why(struct master *m, const char *why, const char *ip)
{
	if (refuse_count(m))
		gh_warn("refusing connection from %s: %s", ip, why);
}

/* Every refused connection is counted; the count is logged with the
 * periodic sweep (the per-reason lines above are rate-limited). */
static void refused_summary(struct master *m)
{
	int64_t now = gh_mono_ms();
	if (m->refused)
		gh_info("refused %llu connection%s in the last %lld s", (unsigned long long)m->refused,
			m->refused == 1 ? "" : "s", (long long)((now - m->refused_since + 500) / 1000));
	m->refused = 0;
	m->refused_since = now;
}

/* A client whose network path vanishes (no FIN, no RST) is found dead by
 * TCP keepalives after about two minutes, and its worker ends. */
static void set_keepalive(int fd)
{
	int one = 1, idle = 60, intvl = 15, cnt = 4;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* A connection accepted, from the client IP:PORT (the PROXY header's when
 * proxy_protocol is on), for DOOR (-1: SSH, else a database door): the
 * pre-auth limits, then its worker. */
static void admit(struct master *m, int fd, const char *ip, int port, int door)
{
	const struct gh_config *cfg = &m->app->cfg;
	if (count_unauth(m, NULL) + gh_proxyq_count(m->proxyq) >= (size_t)cfg->max_startups) {
		refuse_log(m, "max_startups", ip);
		close(fd);
		return;
	}
	if (count_unauth(m, ip) >= (size_t)cfg->per_source_max_startups) {
		refuse_log(m, "per_source_max_startups", ip);
		close(fd);
		return;
	}
	enum gh_penalty_state pen =
		gh_penalty_check(m->penalty, ip, gh_mono_ms(), cfg->per_source_penalty_time);
	if (pen == GH_PENALTY_REFUSED) {
		refuse_log(m, "per-source penalty (failed logins)", ip);
		close(fd);
		return;
	}
	if (count_authed(m) >= (size_t)cfg->max_sessions) {
		refuse_log(m, "max_sessions", ip);
		close(fd);
		return;
	}
	if (m->n_children == m->cap_children) {
		size_t cap = m->cap_children ? m->cap_children * 2 : 16;
		struct child *c = realloc(m->children, cap * sizeof *c);
		if (!c) {
			close(fd);
			return;
		}
		m->children = c;
		m->cap_children = cap;
	}
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0) {
		gh_warn("pipe: %s", strerror(errno));
		close(fd);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		gh_warn("fork: %s", strerror(errno));
		close(fd);
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (pid == 0) {
		/* the worker relays whole SSH packets: send each at once (a small
		 * sftp status reply or keystroke echo must not wait for an ACK) */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* the worker: drop everything of the master's */
		close_listeners(m);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		close(sp[0]);
		/* a source with recent failed logins waits behind the others;
		 * the worker may come back to 0 once authenticated */
		struct rlimit rl = { 20, 20 };
		setrlimit(RLIMIT_NICE, &rl);
		if (pen == GH_PENALTY_SUSPECT)
			setpriority(PRIO_PROCESS, 0, SUSPECT_NICE);
		for (size_t i = 0; i < m->n_children; i++)
			if (m->children[i].status_fd >= 0)
				close(m->children[i].status_fd);
		gh_proxyq_close_fds(m->proxyq);
		for (int i = 0; i < m->n_web_ch; i++) /* the web processes' penalty channels */
			if (m->web_ch[i] >= 0)
				close(m->web_ch[i]);
		if (door >= 0) {
			struct gh_db_worker_args da = { .fd = fd, .door = (enum gh_db_door_id)door,
							.peer_ip = ip, .peer_port = port,
							.status_fd = sp[1], .priv = &m->priv };
			_exit(gh_db_worker_run(m->app, &da));
		}
		struct gh_worker_args a = { .fd = fd,
					    .peer_ip = ip,
					    .peer_port = port,
					    .status_fd = sp[1],
					    .ed25519_path = m->ed_path,
					    .rsa_path = m->rsa_path,
					    .priv = &m->priv,
					    .suspect = pen == GH_PENALTY_SUSPECT };
		_exit(gh_ssh_worker_run(m->app, &a));
	}
	close(fd);
	close(sp[1]);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	struct child *c = &m->children[m->n_children++];
	memset(c, 0, sizeof *c);
	c->pid = pid;
	c->status_fd = sp[0];
	snprintf(c->ip, sizeof c->ip, "%s", ip);
	gh_debug("worker %d for %s:%d", (int)pid, ip, port);
}

/* A connection's PROXY header is settled (ssh/proxyin.h). */
static void proxy_done(void *ctx, int fd, int tag, enum gh_proxy_outcome out, const char *peer,
		       const struct gh_proxy_hdr *hdr)
{
	static const char *const why[] = {
		[GH_PROXY_INVALID] = "invalid PROXY header",
		[GH_PROXY_TIMEOUT] = "no PROXY header in time",
	};
	struct master *m = ctx;
	if (out == GH_PROXY_CLIENT) {
		gh_debug("PROXY v%d from %s: client %s:%d", hdr->version, peer, hdr->src_ip,
			 hdr->src_port);
		admit(m, fd, hdr->src_ip, hdr->src_port, tag); /* tag: the door */
		return;
	}
	if (out == GH_PROXY_LOCAL) /* the balancer's health check: no penalty, no noise */
		gh_debug("PROXY LOCAL from %s (health check)", peer);
	else if (out == GH_PROXY_CLOSED) /* a plain TCP check, or the client left */
		gh_debug("connection from %s closed before its PROXY header", peer);
	else
		refuse_why(m, why[out], peer);
	close(fd);
}

/* proxy_protocol = yes: only a trusted balancer may connect; its
 * connection waits, without blocking the loop, for its header. DOOR: the
 * listener's door, handed back with the header (-1: SSH). */
static void proxy_accept(struct master *m, int fd, const char *peer, int door)
{
	const struct gh_config *cfg = &m->app->cfg;
	if (!gh_proxy_trusted(m->proxy_trust, peer)) {
		refuse_why(m, "proxy_protocol: source not in proxy_trusted", peer);
		close(fd);
		return;
	}
	if (count_unauth(m, NULL) + gh_proxyq_count(m->proxyq) >= (size_t)cfg->max_startups) {
		refuse_log(m, "max_startups", peer);
		close(fd);
		return;
	}
	int64_t deadline = gh_mono_ms() + (int64_t)cfg->proxy_header_timeout * 1000;
	if (gh_proxyq_add(m->proxyq, fd, door, peer, deadline) < 0)
		close(fd);
}

static void accept_one(struct master *m, int lfd, int door)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			gh_warn("accept: %s", strerror(errno));
		return;
	}
	set_keepalive(fd);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
		port = ntohs(sin6->sin6_port);
	}
	if (m->app->cfg.proxy_protocol)
		proxy_accept(m, fd, ip, door);
	else
		admit(m, fd, ip, port, door);
}

/* proxy_protocol's settings, checked and applied at start and on SIGHUP. */
static int proxy_configure(struct master *m, const struct gh_config *cfg)
{
	char err[160] = "";
	struct gh_proxy_trust *t = NULL;
	int r = gh_proxy_trust_parse(cfg->proxy_trusted, &t, err, sizeof err);
	if (r < 0) {
		gh_error("%s", err[0] ? err : gh_strerror(r));
		return r;
	}
	m->proxy_trust = gh_proxy_trust_free(m->proxy_trust);
	m->proxy_trust = t;
	if (cfg->proxy_protocol && !cfg->proxy_trusted[0])
		gh_warn("proxy_protocol = yes with an empty proxy_trusted: every connection is refused");
	return 0;
}

static void read_status(struct master *m, struct child *c)
{
	char buf[64];
	const struct gh_config *cfg = &m->app->cfg;
	ssize_t n = read(c->status_fd, buf, sizeof buf);
	if (n > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == GH_WORKER_AUTHENTICATED)
				c->authed = true;
			else if (buf[i] == GH_WORKER_AUTH_FAILED &&
				 gh_penalty_fail(m->penalty, c->ip, gh_mono_ms(),
						 cfg->per_source_penalty_failures,
						 cfg->per_source_penalty_time))
				gh_warn("%s: %d failed logins: refused for %d s", c->ip,
					cfg->per_source_penalty_failures, cfg->per_source_penalty_time);
		}
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(c->status_fd);
		c->status_fd = -1;
	}
}

static void web_ch_close(struct master *m)
{
	for (int i = 0; i < m->n_web_ch; i++)
		if (m->web_ch[i] >= 0)
			close(m->web_ch[i]);
	m->n_web_ch = 0;
}

/* A web process's penalty request (web/penalty_ch.h). */
static void web_penalty(struct master *m, int i)
{
	const struct gh_config *cfg = &m->app->cfg;
	char ip[GH_PENCH_IP_MAX + 1];
	int r = gh_pench_serve(m->web_ch[i], m->penalty, cfg->per_source_penalty_failures,
			       cfg->per_source_penalty_time, ip);
	if (r == 1)
		gh_warn("%s: %d failed logins: refused for %d s", ip,
			cfg->per_source_penalty_failures, cfg->per_source_penalty_time);
	if (r < 0) {
		close(m->web_ch[i]);
		m->web_ch[i] = -1;
	}
}

static void reap(struct master *m)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		char reason[64];
		if (WIFSIGNALED(st))
			snprintf(reason, sizeof reason, "worker killed by signal %d", WTERMSIG(st));
		else
			snprintf(reason, sizeof reason, "worker exited with status %d",
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		if (pid == m->export_pid) {
			gh_info("export process %d ended (%s)", (int)pid,
				WIFEXITED(st) ? (WEXITSTATUS(st) ? "failed" : "restart")
					      : "killed");
			m->export_pid = 0;
			m->export_restart_ms = gh_mono_ms() + 2000;
			continue;
		}
		if (pid == m->ldap_pid) {
			gh_info("ldap sync process %d ended", (int)pid);
			m->ldap_pid = 0;
			m->ldap_restart_ms = gh_mono_ms() + 2000;
			continue;
		}
		if (pid == m->web_pid) {
			gh_info("web process %d ended (%s)", (int)pid, reason);
			web_ch_close(m);
			m->web_pid = 0;
			m->web_restart_ms = gh_mono_ms() + 2000;
			continue;
		}
		int n = gh_sweep_close_worker(m->app->store, (int)pid, reason);
		gh_proclimit_release(m->app->store, pid);
		if (n > 0 || WIFSIGNALED(st))
			gh_warn("worker %d: %s (%d open session%s closed)", (int)pid, reason, n > 0 ? n : 0,
				n == 1 ? "" : "s");
		for (size_t i = 0; i < m->n_children; i++) {
			if (m->children[i].pid != pid)
				continue;
			if (m->children[i].status_fd >= 0)
				close(m->children[i].status_fd);
			m->children[i] = m->children[--m->n_children];
			break;
		}
	}
}

#define CHANGED_INT(f)                                                                \
	do {                                                                          \
		if (old->f != nw->f)                                                  \
			gh_info("config: " #f " %d -> %d", old->f, nw->f);            \
	} while (0)

static void reload(struct master *m)
{
	struct gh_config nc;
	char err[GH_CONFIG_ERRLEN];
	memset(&nc, 0, sizeof nc);
	int r = gh_config_load(&nc, m->app->data_dir, m->app->config_path, err);
	if (r < 0) {
		gh_error("SIGHUP: configuration not reloaded, keeping the old one: %s", err);
		gh_config_free(&nc);
		return;
	}
	if (proxy_configure(m, &nc) < 0) {
		gh_error("SIGHUP: configuration not reloaded, keeping the old one");
		gh_config_free(&nc);
		return;
	}
	const struct gh_config *old = &m->app->cfg, *nw = &nc;
	CHANGED_INT(proxy_protocol);
	CHANGED_INT(max_startups);
	CHANGED_INT(per_source_max_startups);
	CHANGED_INT(login_grace_time);
	CHANGED_INT(max_auth_tries);
	CHANGED_INT(auth_failure_delay_ms);
	CHANGED_INT(max_sessions);
	CHANGED_INT(per_source_penalty_failures);
	CHANGED_INT(per_source_penalty_time);
	CHANGED_INT(shutdown_grace);
	CHANGED_INT(idle_timeout);
	CHANGED_INT(target_connect_timeout);
	CHANGED_INT(record_input);
	CHANGED_INT(relay_buffer_kib);
	if (strcmp(old->log_level, nw->log_level))
		gh_info("config: log_level %s -> %s", old->log_level, nw->log_level);
	if (strcmp(old->ssh_listen, nw->ssh_listen))
		gh_warn("config: ssh_listen %s -> %s takes effect at the next start", old->ssh_listen,
			nw->ssh_listen);
	if (strcmp(old->database_path, nw->database_path))
		gh_warn("config: database_path change takes effect at the next start");
	/* keep what only a restart can change */
	char *keep_listen = nc.ssh_listen, *keep_db = nc.database_path;
	nc.ssh_listen = m->app->cfg.ssh_listen;
	nc.database_path = m->app->cfg.database_path;
	m->app->cfg.ssh_listen = keep_listen;
	m->app->cfg.database_path = keep_db;
	gh_config_free(&m->app->cfg);
	m->app->cfg = nc;
	int lvl = gh_log_level_parse(nc.log_level);
	if (lvl >= 0)
		gh_log_set_level(lvl);
	char why[256];
	if (gh_ldap_prepare(m->app, why, sizeof why) < 0)
		gh_error("SIGHUP: LDAP: %s", why);
	gh_info("configuration reloaded");
}

/* In a helper process just forked: close what only the master uses. */
static void helper_child_setup(struct master *m)
{
	web_ch_close(m);
	close_listeners(m);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	for (size_t i = 0; i < m->n_children; i++)
		if (m->children[i].status_fd >= 0)
			close(m->children[i].status_fd);
	gh_proxyq_close_fds(m->proxyq);
}

/* A helper process started by the master (the audit export, the LDAP
 * sync), restarted 2 s after it ends while WANTED. */
static void helper_spawn(struct master *m, pid_t *pid_p, int64_t *restart_p, bool wanted,
			 int (*run)(struct gh_app *))
{
	if (*pid_p > 0 || !wanted || gh_mono_ms() < *restart_p)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		gh_warn("fork: %s", strerror(errno));
		*restart_p = gh_mono_ms() + 2000;
		return;
	}
	if (pid == 0) {
		helper_child_setup(m);
		_exit(run(m->app));
	}
	*pid_p = pid;
}

/* The HTTPS server (web/web.h): root until it has its key and socket. */
static void web_spawn(struct master *m)
{
	int theirs[GH_WEB_PROC_MAX], n = 0, sp[2];
	if (m->web_pid > 0 || !gh_web_wanted(m->app) || gh_mono_ms() < m->web_restart_ms)
		return;
	web_ch_close(m);
	for (; n < m->app->cfg.web_processes && n < GH_WEB_PROC_MAX; n++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			break;
		m->web_ch[n] = sp[0];
		theirs[n] = sp[1];
		m->n_web_ch = n + 1;
	}
	pid_t pid = n == m->app->cfg.web_processes ? fork() : -1;
	if (pid < 0) {
		gh_warn("web process: %s", strerror(errno));
		m->web_restart_ms = gh_mono_ms() + 2000;
	}
	if (pid == 0) {
		int mine[GH_WEB_PROC_MAX];
		memcpy(mine, theirs, sizeof mine);
		helper_child_setup(m);
		_exit(gh_web_run(m->app, &m->priv, mine, n));
	}
	for (int i = 0; i < n; i++)
		close(theirs[i]);
	if (pid < 0)
		web_ch_close(m);
	else
		m->web_pid = pid;
}

/* The audit export/retention process (audit/export.h), when configured;
 * the LDAP sync process (ldap_sync_interval). */
static void export_spawn(struct master *m)
{
	helper_spawn(m, &m->export_pid, &m->export_restart_ms, gh_export_wanted(m->app),
		     gh_export_run);
	helper_spawn(m, &m->ldap_pid, &m->ldap_restart_ms, gh_ldap_sync_wanted(m->app),
		     gh_ldap_sync_run);
}

static void helper_stop(pid_t *pid_p)
{
	if (*pid_p <= 0)
		return;
	kill(*pid_p, SIGTERM);
	for (int i = 0; i < 60; i++) {
		if (waitpid(*pid_p, NULL, WNOHANG) == *pid_p) {
			*pid_p = 0;
			return;
		}
		usleep(50000);
	}
	kill(*pid_p, SIGKILL);
	waitpid(*pid_p, NULL, 0);
	*pid_p = 0;
}

static void export_stop(struct master *m)
{
	helper_stop(&m->export_pid);
	helper_stop(&m->ldap_pid);
}

static void signal_children(struct master *m, int sig)
{
	for (size_t i = 0; i < m->n_children; i++)
		kill(m->children[i].pid, sig);
}

/* The master: start (host keys, privilege plan, sweep of rows left open,
 * signals, listeners), then its one poll loop (accept, reap, sweep,
 * SIGHUP, the staged shutdown). Long (about 130 lines) because the
 * shutdown stages (deadline, kill stage) are the loop's own state. */
int gh_ssh_serve(struct gh_app *app)
{
	struct master m;
	int r;
	bool stopping = false;
	int64_t deadline = 0;
	int kill_stage = 0;

	memset(&m, 0, sizeof m);
	m.app = app;
	r = gh_ssh_hostkeys_ensure(app->data_dir);
	if (r < 0)
		return r;
	snprintf(m.ed_path, sizeof m.ed_path, "%s/%s", app->data_dir, GH_HOSTKEY_ED25519);
	snprintf(m.rsa_path, sizeof m.rsa_path, "%s/%s", app->data_dir, GH_HOSTKEY_RSA);
	m.penalty = gh_penalty_new();
	m.proxyq = gh_proxyq_new();
	if (!m.penalty || !m.proxyq)
		return GH_ENOMEM;
	r = proxy_configure(&m, &app->cfg);
	if (r < 0)
		return r;
	m.refused_since = gh_mono_ms();
	r = gh_priv_prepare(&app->cfg, &m.priv);
	if (r < 0)
		return r;
	/* rows left open by workers of a previous run that are gone */
	r = gh_sweep_sessions(app->store, "server restart");
	if (r > 0)
		gh_info("closed %d session%s left open by a previous run", r, r == 1 ? "" : "s");
	int64_t next_sweep = gh_mono_ms() + SWEEP_EVERY_MS, next_beat = 0;
	r = set_signals();
	if (r < 0)
		return r;
	r = open_listeners(&m);
	if (r == 0)
		r = open_db_listeners(&m);
	if (r < 0)
		return r;
	int lock_fd = -1; /* held until exit (restore refuses meanwhile) */
	if (gh_app_serve_lock(app->data_dir, &lock_fd) == GH_EBUSY)
		gh_warn("another gatehouse serve holds %s/serve.lock", app->data_dir);
	gh_notify("READY=1"); /* Type=notify: the listeners are up */

	struct pollfd *pfds = NULL;
	size_t cap_pfds = 0;
	for (;;) {
		if (stopping && m.n_children == 0)
			break;
		if (!stopping) {
			export_spawn(&m);
			web_spawn(&m);
		}
		size_t need = 1 + m.n_listeners + m.n_children + (size_t)m.n_web_ch +
			      gh_proxyq_count(m.proxyq);
		if (need > cap_pfds) {
			struct pollfd *p = realloc(pfds, need * 2 * sizeof *p);
			if (p) {
				pfds = p;
				cap_pfds = need * 2;
			} else if (!pfds) {
				sleep(1);
				continue;
			}
		}
		size_t np = 0;
		pfds[np++] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		for (size_t i = 0; i < m.n_listeners && np < cap_pfds; i++)
			pfds[np++] = (struct pollfd){ .fd = m.listeners[i], .events = POLLIN };
		size_t first_child = np;
		for (size_t i = 0; i < m.n_children && np < cap_pfds; i++)
			pfds[np++] = (struct pollfd){ .fd = m.children[i].status_fd, .events = POLLIN };
		size_t first_web = np;
		for (int i = 0; i < m.n_web_ch && np < cap_pfds; i++)
			pfds[np++] = (struct pollfd){ .fd = m.web_ch[i], .events = POLLIN };
		size_t first_proxy = np;
		np += gh_proxyq_pollfds(m.proxyq, pfds + np, cap_pfds - np);
		int timeout = gh_proxyq_timeout(m.proxyq, gh_mono_ms(), stopping ? 200 : gh_cluster_on(app) ? 1000 : 5000);
		int pr = poll(pfds, np, timeout);
		if (pr < 0 && errno != EINTR) {
			gh_error("poll: %s", strerror(errno));
			sleep(1);
			continue;
		}
		if (pr > 0 && (pfds[0].revents & POLLIN)) {
			unsigned char sigs[64];
			ssize_t k = read(sig_pipe[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < k; i++) {
				if (sigs[i] == SIGCHLD)
					reap(&m);
				else if (sigs[i] == SIGHUP && !stopping) {
					gh_notify("RELOADING=1");
					reload(&m);
					gh_app_log_open(m.app); /* after a rotation */
					if (m.export_pid > 0) /* restarted with the new settings */
						kill(m.export_pid, SIGTERM);
					if (m.ldap_pid > 0)
						kill(m.ldap_pid, SIGTERM);
					if (m.web_pid > 0)
						kill(m.web_pid, SIGTERM);
					gh_notify("READY=1");
				}
				else if ((sigs[i] == SIGTERM || sigs[i] == SIGINT) && !stopping) {
					stopping = true;
					gh_notify("STOPPING=1");
					helper_stop(&m.web_pid); /* health says "up" while the listener is */
					close_listeners(&m);
					m.proxyq = gh_proxyq_free(m.proxyq);
					deadline = gh_mono_ms() + (int64_t)app->cfg.shutdown_grace * 1000;
					gh_info("stopping: %zu worker%s, waiting up to %d s", m.n_children,
						m.n_children == 1 ? "" : "s", app->cfg.shutdown_grace);
				}
			}
		}
		if (pr > 0) {
			for (size_t i = first_web; i < first_proxy; i++)
				if (pfds[i].revents && pfds[i].fd >= 0)
					web_penalty(&m, (int)(i - first_web));
			for (size_t i = first_child; i < first_web; i++)
				if (pfds[i].revents && pfds[i].fd >= 0)
					for (size_t j = 0; j < m.n_children; j++)
						if (m.children[j].status_fd == pfds[i].fd) {
							read_status(&m, &m.children[j]);
							break;
						}
			for (size_t i = 1; i < first_child; i++)
				if (pfds[i].revents & POLLIN)
					accept_one(&m, pfds[i].fd, m.door[i - 1]);
		}
		gh_proxyq_run(m.proxyq, pfds + first_proxy, pr > 0 ? np - first_proxy : 0,
			      gh_mono_ms(), proxy_done, &m);
		reap(&m);
		if (!stopping)
			gh_cluster_tick(app, &next_beat);
		if (!stopping && gh_mono_ms() >= next_sweep) {
			gh_sweep_sessions(app->store, "worker lost");
			refused_summary(&m);
			next_sweep = gh_mono_ms() + SWEEP_EVERY_MS;
		}
		if (stopping && m.n_children > 0) {
			int64_t now = gh_mono_ms();
			if (kill_stage == 0 && now >= deadline) {
				gh_info("shutdown grace over: ending %zu session%s", m.n_children,
					m.n_children == 1 ? "" : "s");
				signal_children(&m, SIGTERM);
				kill_stage = 1;
				deadline = now + KILL_WAIT_MS;
			} else if (kill_stage == 1 && now >= deadline) {
				signal_children(&m, SIGKILL);
				kill_stage = 2;
				deadline = now + KILL_WAIT_MS;
			}
		}
	}
	export_stop(&m);
	helper_stop(&m.web_pid);
	refused_summary(&m);
	free(pfds);
	free(m.children);
	gh_penalty_free(m.penalty);
	gh_proxyq_free(m.proxyq);
	gh_proxy_trust_free(m.proxy_trust);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	gh_info("stopped");
	return 0;
}
