/* Forwarded channels of one connection (see fwd.h). */
#include "relay/fwd.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define FWD_BUF (256 * 1024)        /* per direction */
#define FWD_CLOSE_WAIT_MS 5000      /* for the peer's CLOSE after ours */
#define MAX_PENDING_CHILDREN 1024
#define FWD_SOCKBUF (1024 * 1024)       /* socketpairs to children */

struct fwd {
	struct gh_fwdset *set;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	int fd;
	short events;            /* registered with the event (0: not registered) */
	enum gh_fwd_kind kind;
	char *asset, *host;
	int port;
	pid_t pid;
	uint8_t *to_fd, *to_ch;  /* channel -> fd, fd -> channel */
	size_t to_fd_len, to_ch_len;
	bool held_back;          /* libssh holds channel data we did not take */
	bool in_read;            /* inside ssh_channel_read_nonblocking */
	bool ch_eof, ch_closed;  /* the user sent EOF / CLOSE */
	bool fd_eof, fd_shut;    /* read 0 / shutdown(SHUT_WR) done */
	bool eof_sent, close_sent;
	bool failed;
	const char *reason;
	uint64_t in, out;
	int64_t start_ms, close_ms;
};

struct gh_fwdset {
	ssh_session s;
	ssh_event ev;
	struct gh_fwdset_hooks h;
	struct fwd **v;
	size_t n, cap;
	pid_t pending[MAX_PENDING_CHILDREN]; /* ended jump children to reap */
	size_t n_pending;
};

static int cb_fd(socket_t fd, int revents, void *userdata)
{
	(void)fd;
	(void)revents;
	(void)userdata;
	return 0; /* the tick does the I/O */
}

static int cb_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
		   int is_stderr, void *userdata)
{
	(void)session;
	(void)channel;
	(void)is_stderr;
	struct fwd *f = userdata;
	if (f->failed || f->fd < 0)
		return (int)len; /* nowhere to go: drop */
	if (f->in_read) {
		f->held_back = true;
		return 0;
	}
	size_t done = 0;
	if (f->to_fd_len == 0) {
		/* nothing queued: straight to the fd (one poll round trip less) */
		ssize_t k;
		do
			k = write(f->fd, data, len);
		while (k < 0 && errno == EINTR);
		if (k > 0)
			done = (size_t)k;
	}
	size_t room = FWD_BUF - f->to_fd_len;
	size_t n = len - done < room ? len - done : room;
	memcpy(f->to_fd + f->to_fd_len, (const uint8_t *)data + done, n);
	f->to_fd_len += n;
	f->in += done + n;
	if (done + n < len)
		f->held_back = true;
	return (int)(done + n);
}

static void cb_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	struct fwd *f = userdata;
	f->ch_eof = true;
}

static void cb_close(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	struct fwd *f = userdata;
	f->ch_eof = true;
	f->ch_closed = true;
}

struct gh_fwdset *gh_fwdset_new(ssh_session s, ssh_event ev, const struct gh_fwdset_hooks *h)
{
	struct gh_fwdset *set = calloc(1, sizeof *set);
	if (!set)
		return NULL;
	set->s = s;
	set->ev = ev;
	if (h)
		set->h = *h;
	return set;
}

static void fd_register(struct fwd *f, short want)
{
	if (f->events == want)
		return;
	if (f->events)
		ssh_event_remove_fd(f->set->ev, f->fd);
	f->events = 0;
	if (want && ssh_event_add_fd(f->set->ev, f->fd, want, cb_fd, f) == SSH_OK)
		f->events = want;
}

static void fd_close(struct fwd *f)
{
	if (f->fd < 0)
		return;
	fd_register(f, 0);
	close(f->fd);
	f->fd = -1;
}

static void fwd_free(struct fwd *f)
{
	if (!f)
		return;
	fd_close(f);
	if (f->ch) {
		ssh_remove_channel_callbacks(f->ch, &f->cb);
		ssh_channel_free(f->ch);
	}
	free(f->to_fd);
	free(f->to_ch);
	free(f->asset);
	free(f->host);
	free(f);
}

int gh_fwd_add(struct gh_fwdset *set, ssh_channel ch, int fd, enum gh_fwd_kind kind,
	       const char *asset, const char *host, int port, pid_t pid)
{
	struct fwd *f = calloc(1, sizeof *f);
	if (!f) {
		close(fd);
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return GH_ENOMEM;
	}
	f->set = set;
	f->ch = ch;
	f->fd = fd;
	f->kind = kind;
	f->port = port;
	f->pid = pid;
	f->start_ms = gh_mono_ms();
	f->asset = strdup(asset ? asset : "");
	f->host = strdup(host ? host : "");
	f->to_fd = malloc(FWD_BUF);
	f->to_ch = malloc(FWD_BUF);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct fwd **v = realloc(set->v, cap * sizeof *v);
		if (v) {
			set->v = v;
			set->cap = cap;
		}
	}
	if (!f->asset || !f->host || !f->to_fd || !f->to_ch || set->n == set->cap) {
		ssh_channel_close(ch);
		fwd_free(f);
		return GH_ENOMEM;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	f->cb.userdata = f;
	f->cb.channel_data_function = cb_data;
	f->cb.channel_eof_function = cb_eof;
	f->cb.channel_close_function = cb_close;
	ssh_callbacks_init(&f->cb);
	ssh_set_channel_callbacks(ch, &f->cb);
	/* data that came before the callbacks waits in libssh: pull it */
	f->held_back = true;
	set->v[set->n++] = f;
	fd_register(f, POLLIN);
	return 0;
}

size_t gh_fwdset_count(const struct gh_fwdset *set)
{
	return set ? set->n : 0;
}

static void fail(struct fwd *f, const char *reason)
{
	if (!f->failed) {
		f->failed = true;
		if (!f->reason)
			f->reason = reason;
	}
	fd_close(f);
}

/* channel -> fd */
static void pump_to_fd(struct fwd *f)
{
	for (int round = 0; round < 2 && f->fd >= 0 && !f->failed; round++) {
		size_t off = 0;
		while (off < f->to_fd_len) {
			ssize_t k = write(f->fd, f->to_fd + off, f->to_fd_len - off);
			if (k > 0) {
				off += (size_t)k;
				continue;
			}
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			fail(f, f->kind == GH_FWD_JUMP ? "jump session ended" : "target closed");
			return;
		}
		if (off) {
			memmove(f->to_fd, f->to_fd + off, f->to_fd_len - off);
			f->to_fd_len -= off;
		}
		/* pull what libssh held back while the buffer was full */
		if (!f->held_back || f->ch_closed || f->to_fd_len == FWD_BUF)
			break;
		f->held_back = false;
		f->in_read = true;
		int n = ssh_channel_read_nonblocking(f->ch, f->to_fd + f->to_fd_len,
						     (uint32_t)(FWD_BUF - f->to_fd_len), 0);
		f->in_read = false;
		if (n <= 0)
			break;
		f->to_fd_len += (size_t)n;
		f->in += (uint64_t)n;
		f->held_back = true; /* maybe more: look again next time */
	}
	/* an EOF that came before the callbacks (a channel accepted while its
	 * other side was being opened) called no cb_eof */
	if (!f->ch_eof && !f->held_back && f->to_fd_len == 0 && ssh_channel_is_eof(f->ch) == 1)
		f->ch_eof = true;
	if (f->ch_eof && !f->held_back && f->to_fd_len == 0 && !f->fd_shut && f->fd >= 0) {
		shutdown(f->fd, SHUT_WR);
		f->fd_shut = true;
	}
}

/* fd -> channel */
static void pump_to_ch(struct fwd *f)
{
	while (f->fd >= 0 && !f->fd_eof && f->to_ch_len < FWD_BUF) {
		ssize_t k = read(f->fd, f->to_ch + f->to_ch_len, FWD_BUF - f->to_ch_len);
		if (k > 0) {
			f->to_ch_len += (size_t)k;
			continue;
		}
		if (k == 0) {
			f->fd_eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			fail(f, f->kind == GH_FWD_JUMP ? "jump session ended" : "target reset");
		break;
	}
	if (f->to_ch_len && !f->close_sent && !f->ch_closed) {
		uint32_t win = ssh_channel_window_size(f->ch);
		size_t n = f->to_ch_len < win ? f->to_ch_len : win;
		if (n) {
			int k = ssh_channel_write(f->ch, f->to_ch, (uint32_t)n);
			if (k < 0) {
				fail(f, "channel error");
			} else if (k > 0) {
				memmove(f->to_ch, f->to_ch + k, f->to_ch_len - (size_t)k);
				f->to_ch_len -= (size_t)k;
				f->out += (uint64_t)k;
			}
		}
	}
	if (f->fd_eof && f->to_ch_len == 0 && !f->eof_sent && !f->ch_closed && !f->close_sent) {
		ssh_channel_send_eof(f->ch);
		f->eof_sent = true;
	}
}

/* True when F is finished and may be freed. */
static bool fwd_step(struct fwd *f, const char *abort_reason, int64_t now)
{
	if (abort_reason) {
		if (!f->reason)
			f->reason = abort_reason;
		fd_close(f);
		if (!f->close_sent && !f->ch_closed && ssh_is_connected(f->set->s))
			ssh_channel_close(f->ch);
		return true;
	}
	if (!f->close_sent) {
		pump_to_fd(f);
		pump_to_ch(f);
	}
	bool both_done = f->fd_shut && f->eof_sent;
	if (!f->close_sent && (both_done || f->failed || f->ch_closed)) {
		if (!f->reason)
			f->reason = f->ch_closed && !both_done ? "closed by the user" : "closed";
		/* the user's CLOSE: what is buffered for the fd still goes out */
		if (f->ch_closed && f->fd >= 0 && f->to_fd_len) {
			int fl = fcntl(f->fd, F_GETFL);
			fcntl(f->fd, F_SETFL, fl & ~O_NONBLOCK);
			struct pollfd p = { .fd = f->fd, .events = POLLOUT };
			if (poll(&p, 1, 1000) > 0)
				(void)!write(f->fd, f->to_fd, f->to_fd_len);
		}
		fd_close(f);
		ssh_channel_close(f->ch);
		f->close_sent = true;
		f->close_ms = now;
	}
	if (f->close_sent)
		return f->ch_closed || now - f->close_ms > FWD_CLOSE_WAIT_MS ||
		       !ssh_is_connected(f->set->s);
	short want = 0;
	if (f->fd >= 0 && !f->fd_eof && f->to_ch_len < FWD_BUF)
		want |= POLLIN;
	if (f->fd >= 0 && f->to_fd_len)
		want |= POLLOUT;
	if (f->fd >= 0)
		fd_register(f, want);
	return false;
}

static void reap(struct gh_fwdset *set)
{
	size_t o = 0;
	for (size_t i = 0; i < set->n_pending; i++) {
		int st = 0;
		pid_t p = waitpid(set->pending[i], &st, WNOHANG);
		if (p == set->pending[i] || (p < 0 && errno == ECHILD)) {
			if (p > 0 && set->h.on_child)
				set->h.on_child(set->h.ud, p, st);
			continue;
		}
		set->pending[o++] = set->pending[i];
	}
	set->n_pending = o;
}

static void finish(struct gh_fwdset *set, struct fwd *f, int64_t now)
{
	struct gh_fwd_end e = { .kind = f->kind,
				.asset = f->asset,
				.host = f->host,
				.port = f->port,
				.pid = f->pid,
				.bytes_in = f->in,
				.bytes_out = f->out,
				.duration_ms = now - f->start_ms,
				.reason = f->reason ? f->reason : "closed" };
	if (set->h.on_end)
		set->h.on_end(set->h.ud, &e);
	if (f->pid > 0 && set->n_pending < MAX_PENDING_CHILDREN)
		set->pending[set->n_pending++] = f->pid;
	fwd_free(f);
}

void gh_fwdset_tick(struct gh_fwdset *set, const char *abort_reason)
{
	if (!set)
		return;
	int64_t now = gh_mono_ms();
	/* A step may re-enter libssh (ssh_channel_read_nonblocking), which
	 * may deliver a new direct-tcpip open: gh_fwd_add then appends at
	 * set->n and may move set->v. So index through set->v every time and
	 * keep what was appended meanwhile. */
	size_t n0 = set->n, o = 0;
	for (size_t i = 0; i < n0; i++) {
		struct fwd *f = set->v[i];
		if (fwd_step(f, abort_reason, now))
			finish(set, f, now);
		else
			set->v[o++] = f;
	}
	for (size_t i = n0; i < set->n; i++)
		set->v[o++] = set->v[i];
	set->n = o;
	if (set->n_pending)
		reap(set);
}

pid_t gh_fwd_fork(struct gh_fwdset *set, int close_a, int close_b, int *ret_fd)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	int bufsz = FWD_SOCKBUF;
	for (int i = 0; i < 2; i++) {
		setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
		setsockopt(sp[i], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		/* nothing of the parent's connection may be used here */
		close(sp[0]);
		gh_fwdset_close_fds(set);
		if (close_a >= 0)
			close(close_a);
		if (close_b >= 0)
			close(close_b);
		*ret_fd = sp[1];
		return 0;
	}
	close(sp[1]);
	*ret_fd = sp[0];
	return pid;
}

void gh_fwdset_signal(struct gh_fwdset *set, int sig)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->v[i]->pid > 0)
			kill(set->v[i]->pid, sig);
}

void gh_fwdset_close_fds(struct gh_fwdset *set)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->v[i]->fd >= 0)
			close(set->v[i]->fd);
}

struct gh_fwdset *gh_fwdset_free(struct gh_fwdset *set, const char *reason, int wait_ms)
{
	if (!set)
		return NULL;
	gh_fwdset_tick(set, reason ? reason : "connection ended");
	int64_t end = gh_mono_ms() + wait_ms;
	while (set->n_pending && gh_mono_ms() < end) {
		reap(set);
		if (set->n_pending)
			usleep(20000);
	}
	free(set->v);
	free(set);
	return NULL;
}
