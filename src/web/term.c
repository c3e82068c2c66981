/* The web terminal's processes: the spawner and one terminal per
 * WebSocket (see term.h). No libwebsockets here. */
#include "web/term.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "ssh/hostkey.h"
#include "ssh/priv.h"
#include "ssh/worker.h"
#include "session/authz.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQ_MAX 2048
#define ROW_WAIT_MS 3000    /* the row's close after the channel's */
#define SID_POLL_MS 200
#define CHILD_WAIT_MS 5000

static volatile sig_atomic_t term_stop;

/* The process name the master's workers have (gh_worker_alive compares
 * it): the SSH worker of a terminal takes it back. */
struct names {
	char worker[17];
};

static void on_stop(int sig)
{
	(void)sig;
	term_stop = 1;
}

/* ---- the web process's side ------------------------------------------------ */

int gh_term_request(int spawner_fd, const struct gh_term_req *q, int *ret_fd)
{
	int sp[2] = { -1, -1 }, r = GH_EIO;
	char *txt = NULL;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "user", q->user, "asset", q->asset,
			      "account", q->account, "peer", q->peer, "cols", q->cols, "rows",
			      q->rows);
	if (!j || !(txt = json_dumps(j, JSON_COMPACT)) || strlen(txt) >= REQ_MAX) {
		r = GH_ENOMEM;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		goto out;
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = { .iov_base = txt, .iov_len = strlen(txt) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sp[1], sizeof(int));
	if (sendmsg(spawner_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		goto out;
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
	*ret_fd = sp[0];
	sp[0] = -1;
	r = 0;
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	free(txt);
	json_decref(j);
	return r;
}

/* ---- one terminal ------------------------------------------------------------ */

struct term {
	struct gh_app *app;
	struct gh_store *st;
	int wfd;                 /* frames to and from the web process */
	pid_t worker;            /* the inner SSH worker */
	ssh_session s;
	ssh_channel ch;
	char sid[40];            /* the session row, once it exists */
	int64_t sid_next_ms;
	char last[256];          /* the last line said (a refusal before a row) */
	size_t last_len;
};

static int send_frame(struct term *t, char type, const void *data, size_t len)
{
	char buf[GH_TERM_FRAME_MAX];
	if (len > sizeof buf - 1)
		len = sizeof buf - 1;
	buf[0] = type;
	memcpy(buf + 1, data, len);
	return send(t->wfd, buf, len + 1, MSG_NOSIGNAL) < 0 ? GH_EIO : 0;
}

/* Keep the tail of the output's last line (a refusal says why in it). */
static void keep_last(struct term *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			if (t->last_len > 0)
				t->last[t->last_len] = '\0';
			continue;
		}
		if (c == '\r')
			continue;
		if (i > 0 && p[i - 1] == '\n')
			t->last_len = 0;
		if (t->last_len < sizeof t->last - 1)
			t->last[t->last_len++] = c;
	}
	t->last[t->last_len] = '\0';
}

/* The worker's session row, once it has one. */
static void find_sid(struct term *t)
{
	struct gh_session *v = NULL;
	size_t n = 0;
	if (t->sid[0] || gh_mono_ms() < t->sid_next_ms)
		return;
	t->sid_next_ms = gh_mono_ms() + SID_POLL_MS;
	if (gh_store_session_list_worker(t->st, (int)t->worker, &v, &n) == 0 && n > 0)
		snprintf(t->sid, sizeof t->sid, "%s", v[n - 1].id);
	gh_sessions_free(v, n);
}

/* {"type":"closed","reason":...}: the row's close reason; a kill's is the
 * operator's reason ("killed: WHY"). */
static void send_closed(struct term *t, const char *fallback)
{
	struct gh_session row;
	char reason[512];
	bool killed = false;
	snprintf(reason, sizeof reason, "%s", fallback);
	int64_t end = gh_mono_ms() + ROW_WAIT_MS;
	while (t->sid[0]) {
		memset(&row, 0, sizeof row);
		if (gh_store_session_get(t->st, t->sid, &row) < 0)
			break;
		bool done = row.ended_at != 0;
		if (done && row.close_reason) {
			killed = !strncmp(row.close_reason, "killed", 6);
			const char *r = row.close_reason;
			if (!strncmp(r, "killed: ", 8))
				r += 8;
			snprintf(reason, sizeof reason, "%s", r);
		}
		gh_session_free(&row);
		if (done || gh_mono_ms() >= end)
			break;
		usleep(50 * 1000);
	}
	json_t *j = json_pack("{s:s, s:s, s:b, s:s?}", "type", "closed", "reason", reason, "killed",
			      killed, "session", t->sid[0] ? t->sid : NULL);
	char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (txt)
		send_frame(t, 't', txt, strlen(txt));
	free(txt);
	json_decref(j);
}

/* One message from the web process: typed bytes or a resize. False when
 * the web side is gone. */
static bool from_web(struct term *t)
{
	char buf[GH_TERM_FRAME_MAX + 1];
	ssize_t n = recv(t->wfd, buf, sizeof buf - 1, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (buf[0] == 'd' && n > 1) {
		if (ssh_channel_write(t->ch, buf + 1, (uint32_t)(n - 1)) < 0)
			return false;
	} else if (buf[0] == 'r') {
		long long c = 0, r = 0;
		buf[n] = '\0';
		char *sp = strchr(buf + 1, ' ');
		if (sp) {
			*sp = '\0';
			if (gh_parse_ll(buf + 1, &c) == 0 && gh_parse_ll(sp + 1, &r) == 0 && c > 0 &&
			    r > 0 && c <= 1000 && r <= 1000)
				ssh_channel_change_pty_size(t->ch, (int)c, (int)r);
		}
	}
	return true;
}

/* Target output to the web process. -1: the channel is done; else bytes. */
static int to_web(struct term *t)
{
	char buf[GH_TERM_FRAME_MAX - 1];
	int moved = 0;
	for (int e = 0; e < 2; e++) {
		int n = ssh_channel_read_nonblocking(t->ch, buf, sizeof buf, e);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0) {
			keep_last(t, buf, (size_t)n);
			if (send_frame(t, 'd', buf, (size_t)n) < 0)
				return -1;
			moved += n;
		}
	}
	if (!moved && (ssh_channel_is_eof(t->ch) || ssh_channel_is_closed(t->ch) ||
		       !ssh_is_connected(t->s)))
		return -1;
	return moved;
}

/* {"type":"opened","copy":B,"paste":B}: the gate's answer for the copy and
 * paste actions, which the browser honours (typed and pasted bytes are
 * alike on the wire). */
static void send_opened(struct term *t, const struct gh_term_req *q)
{
	bool ok[2] = { false, false };
	const uint32_t act[2] = { GH_ACT_COPY, GH_ACT_PASTE };
	for (int i = 0; i < 2; i++) {
		struct gh_authz_req rq = { .user = q->user, .source_ip = q->peer, .asset = q->asset,
					   .account = q->account, .protocol = GH_PROTO_SSH,
					   .action = act[i] };
		struct gh_authz d;
		ok[i] = gh_authz_check(t->st, &rq, &d) == 0 && d.allow;
	}
	json_t *j = json_pack("{s:s, s:b, s:b}", "type", "opened", "copy", ok[0], "paste", ok[1]);
	char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (txt)
		send_frame(t, 't', txt, strlen(txt));
	free(txt);
	json_decref(j);
}

/* Relay until the shell ends or the browser goes. */
static void relay(struct term *t)
{
	for (;;) {
		int moved = to_web(t);
		if (moved < 0) {
			send_closed(t, t->last[0] ? t->last : "session ended");
			return;
		}
		find_sid(t);
		struct pollfd p[2] = { { .fd = t->wfd, .events = POLLIN },
				       { .fd = ssh_get_fd(t->s), .events = POLLIN } };
		if (poll(p, 2, moved ? 0 : 200) < 0 && errno != EINTR)
			return;
		if (term_stop)
			return;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !from_web(t))
			return; /* the browser went: the worker ends ("user disconnected") */
	}
}

/* The libssh client's login to the inner worker over FD, and the shell. */
static int open_shell(struct term *t, int fd, const struct gh_term_req *q)
{
	int zero = 0;
	t->s = ssh_new();
	if (!t->s || ssh_options_set(t->s, SSH_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_HOST, "gatehouse") < 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_USER, q->account) < 0 ||
	    ssh_options_set(t->s, SSH_OPTIONS_FD, &fd) < 0)
		return GH_ENOMEM;
	/* the inner worker is our child over a socketpair: its key is not checked */
	if (ssh_connect(t->s) != SSH_OK || ssh_userauth_none(t->s, NULL) != SSH_AUTH_SUCCESS)
		return GH_ECONN;
	t->ch = ssh_channel_new(t->s);
	if (!t->ch || ssh_channel_open_session(t->ch) != SSH_OK ||
	    ssh_channel_request_pty_size(t->ch, "xterm-256color", q->cols, q->rows) != SSH_OK ||
	    ssh_channel_request_shell(t->ch) != SSH_OK)
		return GH_ECONN;
	return 0;
}

static void reap(pid_t pid)
{
	int64_t end = gh_mono_ms() + CHILD_WAIT_MS;
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (gh_mono_ms() >= end) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			return;
		}
		usleep(20 * 1000);
	}
}

/* The terminal process (already dropped): fork the inner worker, log in
 * to it, relay. Returns an exit status. */
static int term_run(struct gh_app *app, ssh_key key, const struct gh_term_req *q, int wfd,
		    const struct names *nm)
{
	struct term t = { .app = app, .wfd = wfd, .worker = -1 };
	int sp[2], rc = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return 1;
	t.worker = fork();
	if (t.worker == 0) {
		close(sp[0]);
		close(wfd);
		prctl(PR_SET_NAME, nm->worker, 0, 0, 0);
		struct gh_worker_args a = { .fd = sp[1], .peer_ip = q->peer, .status_fd = -1,
					    .jump_key = key, .jump_user = q->user,
					    .jump_asset = q->asset, .door = "web" };
		_exit(gh_ssh_worker_run(app, &a));
	}
	close(sp[1]);
	ssh_key_free(key); /* the worker's copy is the one in use */
	if (t.worker < 0 || gh_store_open(&app->cfg, &t.st) < 0) {
		send_closed(&t, "cannot start the terminal");
		goto out;
	}
	if (open_shell(&t, sp[0], q) < 0) {
		send_closed(&t, "cannot start the terminal");
		goto out;
	}
	send_opened(&t, q);
	relay(&t);
	rc = 0;
out:
	if (t.ch) {
		ssh_channel_close(t.ch);
		ssh_channel_free(t.ch);
	}
	if (t.s) {
		ssh_disconnect(t.s);
		ssh_free(t.s);
	} else {
		close(sp[0]);
	}
	if (t.worker > 0)
		reap(t.worker);
	gh_store_close(t.st);
	close(wfd);
	return rc;
}

/* ---- the spawner ---------------------------------------------------------------- */

/* One request: its JSON into Q's strings (owned by *RET_J) and its fd.
 * 0, 1 (none or malformed: skipped) or GH_EIO (the web process is gone). */
static int recv_request(int zfd, json_t **ret_j, struct gh_term_req *q, int *ret_fd)
{
	char buf[REQ_MAX], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(zfd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n == 0 || (errno != EINTR && errno != EAGAIN) ? GH_EIO : 1;
	int fd = -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	if (fd < 0)
		return 1;
	json_t *j = json_loadb(buf, (size_t)n, 0, NULL);
	if (!j || json_unpack(j, "{s:s, s:s, s:s, s:s, s:i, s:i}", "user", &q->user, "asset",
			      &q->asset, "account", &q->account, "peer", &q->peer, "cols",
			      &q->cols, "rows", &q->rows) < 0) {
		json_decref(j);
		close(fd);
		return 1;
	}
	*ret_j = j;
	*ret_fd = fd;
	return 0;
}

static void spawner_loop(struct gh_app *app, int zfd, ssh_key key, const struct names *nm)
{
	while (!term_stop) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		struct pollfd p = { .fd = zfd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		json_t *j = NULL;
		struct gh_term_req q = { 0 };
		int fd = -1, r = recv_request(zfd, &j, &q, &fd);
		if (r == GH_EIO)
			return; /* the web process is gone */
		if (r != 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			close(zfd);
			prctl(PR_SET_NAME, "gh-terminal", 0, 0, 0);
			prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
			_exit(term_run(app, key, &q, fd, nm));
		}
		if (pid < 0)
			gh_warn("web terminal of %s: cannot start it", q.user);
		close(fd);
		json_decref(j);
	}
}

int gh_term_spawner_start(struct gh_app *app, const struct gh_priv *p, int *ret_fd)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return GH_EIO;
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return GH_EIO;
	}
	if (pid > 0) {
		close(sp[1]);
		fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
		*ret_fd = sp[0];
		return 0;
	}
	close(sp[0]);
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct names nm = { { 0 } };
	prctl(PR_GET_NAME, nm.worker, 0, 0, 0);
	gh_log_set_tag("web-term");
	prctl(PR_SET_NAME, "gh-term", 0, 0, 0);
	/* the jump host key is root's (0600): read once, before the drop,
	 * and kept in memory as every SSH worker keeps it */
	ssh_key key = NULL;
	int rc = 1;
	if (gh_ssh_jump_key_load(app->data_dir, &key) < 0)
		gh_error("web terminal: cannot load the jump host key");
	else if (gh_priv_drop(p) == 0 && prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0)
		rc = 0;
	if (rc == 0)
		spawner_loop(app, sp[1], key, &nm);
	ssh_key_free(key);
	_exit(rc);
}
