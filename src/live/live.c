#include "live/live.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/util.h"
#include "live/screen.h"
#include "record/record.h"
#include "relay/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX 512
#define NAME_MAX_ 64
#define DETACH_WAIT_MS 500 /* last output to watchers when the session ends */

enum conn_state { C_HEADER, C_WATCH, C_JOIN, C_CLOSING, C_DEAD };

struct conn {
	int fd;
	enum conn_state state;
	char hdr[HEADER_MAX];
	size_t hlen;
	char name[NAME_MAX_ + 1];
	char *out;               /* queued output: OUT_OFF.. OUT_LEN */
	size_t out_off, out_len, out_cap, out_max;
	bool in_event;
	bool joined;             /* was a joiner: its end is marked in the recording */
	const char *why;         /* why it is dropped, for the log */
};

struct gh_live {
	struct gh_live_opts o;
	char *path;              /* the socket */
	char sid[40];
	int lfd;
	ssh_event ev;
	bool lfd_in_event;
	bool lfd_ready;          /* the poll saw a connection waiting */
	struct gh_screen *screen;
	struct gh_relay *relay;
	struct conn *c[GH_LIVE_MAX_CLIENTS];
	char kill_reason[GH_LIVE_REASON_MAX + 16];
	bool killed;
	char notice[160];
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- socket paths ------------------------------------------------------- */

int gh_live_run_dir(const char *data_dir, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/run", data_dir ? data_dir : ".");
	return n < 0 || (size_t)n >= cap ? GH_EINVAL : 0;
}

static bool valid_sid(const char *sid)
{
	size_t n = strlen(sid);
	if (n == 0 || n > 36)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f') ||
		      (sid[i] >= 'A' && sid[i] <= 'F') || sid[i] == '-'))
			return false;
	return true;
}

/* The address of DIR/SID.sock. A path longer than sun_path goes through
 * the directory opened in *DIRFD (/proc/self/fd/N/SID.sock). */
static int sock_addr(const char *dir, const char *sid, int *dirfd, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s.sock", dir, sid);
	if (n > 0 && (size_t)n < sizeof sa->sun_path)
		return 0;
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return errno == ENOENT ? GH_ENOENT : GH_EIO;
	snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s.sock", *dirfd, sid);
	return 0;
}

int gh_live_owner(const char *worker_user, uid_t *ret_uid)
{
	if (geteuid() != 0 || !worker_user || !*worker_user) {
		*ret_uid = geteuid();
		return 0;
	}
	struct passwd *pw = getpwnam(worker_user);
	if (!pw)
		return GH_ENOENT;
	*ret_uid = pw->pw_uid;
	return 0;
}

int gh_live_connect(const char *run_dir, const char *session_id, uid_t owner, int *ret_fd,
		    char *why, size_t whylen)
{
	char name[64];
	int dfd = -1;
	if (!valid_sid(session_id))
		return GH_ENOENT;
	int n = snprintf(name, sizeof name, "%s.sock", session_id);
	if (n < 0 || (size_t)n >= sizeof name)
		return GH_EINVAL;
	int r = gh_safe_open_dir(run_dir, &dfd, why, whylen);
	if (r == 0) {
		r = gh_safe_connect(dfd, name, owner, ret_fd, why, whylen);
		close(dfd);
	}
	return r;
}

/* ---- clients ---------------------------------------------------------- */

static struct conn *conn_free(struct gh_live *l, struct conn *c)
{
	if (c->in_event && l->ev)
		ssh_event_remove_fd(l->ev, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
	return NULL;
}

static void drop(struct conn *c, const char *why)
{
	if (c->state != C_DEAD) {
		c->state = C_DEAD;
		c->why = why;
	}
}

/* Queue DATA for C; a queue that would pass its bound drops C. */
static void queue(struct conn *c, const void *data, size_t len)
{
	if (c->state == C_DEAD || len == 0)
		return;
	if (c->out_len + len > c->out_max) {
		drop(c, "too slow (output queue full)");
		return;
	}
	if (c->out_off + c->out_len + len > c->out_cap) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len);
			c->out_off = 0;
		}
		if (c->out_len + len > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap : 16384;
			while (cap < c->out_len + len)
				cap *= 2;
			char *p = realloc(c->out, cap);
			if (!p) {
				drop(c, "out of memory");
				return;
			}
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_off + c->out_len, data, len);
	c->out_len += len;
}

static void queue_str(struct conn *c, const char *s) { queue(c, s, strlen(s)); }

/* Write what the socket takes now; never blocks. */
static void flush(struct conn *c)
{
	while (c->state != C_DEAD && c->out_len > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop(c, "gone");
			return;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
		if (c->out_len == 0)
			c->out_off = 0;
	}
}

/* Readiness only: the I/O happens in gh_live_tick, outside the poll. */
static int wake(socket_t fd, int revents, void *userdata)
{
	(void)fd;
	(void)revents;
	(void)userdata;
	return 0;
}

/* accept(2) costs a socket and a file even when nothing waits: only after
 * the poll said so. */
static int wake_listen(socket_t fd, int revents, void *userdata)
{
	(void)fd;
	struct gh_live *l = userdata;
	if (revents & (POLLIN | POLLERR | POLLHUP))
		l->lfd_ready = true;
	return 0;
}

/* Printable ASCII only, at most MAX bytes: names and reasons end up in
 * logs, notices and the store. */
static void clean_copy(char *dst, size_t cap, const char *src, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; src[i] && o + 1 < cap && o < max; i++)
		dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[o] = '\0';
}

static void serve_request(struct gh_live *l, struct conn *c)
{
	char *line = c->hdr;
	char *verb = line, *rest = strchr(line, ' ');
	char name[NAME_MAX_ + 1] = "";
	if (rest) {
		*rest++ = '\0';
		char *sp = strchr(rest, ' ');
		if (sp)
			*sp++ = '\0';
		clean_copy(name, sizeof name, rest, NAME_MAX_);
		rest = sp;
	}
	if (!name[0]) {
		queue_str(c, "error malformed request\n");
		c->state = C_CLOSING;
		return;
	}
	memcpy(c->name, name, sizeof name);
	if (!strcmp(verb, "kill")) {
		char why[GH_LIVE_REASON_MAX + 1];
		clean_copy(why, sizeof why, rest ? rest : "", GH_LIVE_REASON_MAX);
		if (!l->killed) {
			if (why[0])
				snprintf(l->kill_reason, sizeof l->kill_reason, "killed: %s", why);
			else
				snprintf(l->kill_reason, sizeof l->kill_reason, "killed");
			l->killed = true;
		}
		gh_info("session %s: killed by %s (%s)", l->sid, name, l->kill_reason);
		queue_str(c, "ok\n");
		c->state = C_CLOSING;
		return;
	}
	bool join = !strcmp(verb, "join");
	if (!join && strcmp(verb, "watch") != 0) {
		queue_str(c, "error unknown request\n");
		c->state = C_CLOSING;
		return;
	}
	if (l->killed) {
		queue_str(c, "error the session is ending\n");
		c->state = C_CLOSING;
		return;
	}
	queue_str(c, "ok\n");
	if (l->screen) {
		char *scr = NULL;
		size_t n = 0;
		if (gh_screen_render(l->screen, &scr, &n) == 0) {
			if (n + GH_LIVE_WATCH_BUFFER > c->out_max)
				c->out_max = n + GH_LIVE_WATCH_BUFFER;
			queue(c, scr, n);
			free(scr);
		}
	}
	c->state = join ? C_JOIN : C_WATCH;
	c->joined = join;
	gh_info("session %s: %s %s", l->sid, name, join ? "joined (read-write)" : "is watching");
	if (join) {
		snprintf(l->notice, sizeof l->notice, "[gatehouse: %s joined the session]", name);
		if (l->o.rec) {
			char m[NAME_MAX_ + 16];
			snprintf(m, sizeof m, "join %s", name);
			(void)gh_rec_marker(l->o.rec, wall_ms(), m);
		}
	} else if (l->o.notify_watch) {
		snprintf(l->notice, sizeof l->notice, "[gatehouse: a watcher joined]");
	}
}

/* Read what C sent: the request line, a joiner's input, or (watchers)
 * nothing of interest. */
static void conn_read(struct gh_live *l, struct conn *c)
{
	char buf[4096];
	for (int rounds = 0; rounds < 16 && c->state != C_DEAD; rounds++) {
		size_t want = sizeof buf;
		if (c->state == C_HEADER)
			want = sizeof c->hdr - 1 - c->hlen;
		ssize_t n = recv(c->fd, c->state == C_HEADER ? c->hdr + c->hlen : buf, want,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* a client that closes after its request still gets its answer */
			if (c->state == C_CLOSING)
				return;
			drop(c, n == 0 ? "detached" : "read error");
			return;
		}
		if (c->state == C_HEADER) {
			c->hlen += (size_t)n;
			c->hdr[c->hlen] = '\0';
			char *nl = strchr(c->hdr, '\n');
			if (nl) {
				*nl = '\0';
				serve_request(l, c);
				return; /* bytes after the line: read as input next time */
			}
			if (c->hlen >= sizeof c->hdr - 1)
				drop(c, "request too long");
		} else if (c->state == C_JOIN) {
			size_t put = l->relay ? gh_relay_inject_input(l->relay, buf, (size_t)n) : 0;
			if (put < (size_t)n)
				gh_warn("session %s: %zu bytes of %s's input dropped (input closed or full)",
					l->sid, (size_t)n - put, c->name);
		}
		/* watchers' bytes and anything after a request are ignored */
	}
}

static int accept_one(struct gh_live *l)
{
	int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    (cr.uid != 0 && cr.uid != getuid())) {
		static const char no[] = "error not permitted (root or the server's user only)\n";
		gh_warn("session %s: live request from uid %d refused", l->sid,
			len == sizeof cr ? (int)cr.uid : -1);
		(void)!send(fd, no, sizeof no - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return 0;
	}
	size_t slot = 0;
	while (slot < GH_LIVE_MAX_CLIENTS && l->c[slot])
		slot++;
	if (slot == GH_LIVE_MAX_CLIENTS) {
		static const char busy[] = "error too many live clients\n";
		(void)!send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return 0;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return 0;
	}
	c->fd = fd;
	c->out_max = GH_LIVE_WATCH_BUFFER;
	c->in_event = ssh_event_add_fd(l->ev, fd, POLLIN, wake, l) == SSH_OK;
	l->c[slot] = c;
	return 0;
}

static void conn_end(struct gh_live *l, size_t i)
{
	struct conn *c = l->c[i];
	if (c->joined && l->o.rec) {
		char m[NAME_MAX_ + 16];
		snprintf(m, sizeof m, "join-end %s", c->name);
		(void)gh_rec_marker(l->o.rec, wall_ms(), m);
	}
	if (c->state == C_DEAD && c->why && strcmp(c->why, "detached") != 0 &&
	    strcmp(c->why, "done") != 0)
		gh_warn("session %s: live client %s dropped: %s", l->sid, c->name[0] ? c->name : "-",
			c->why);
	l->c[i] = conn_free(l, c);
}

/* ---- the session side ------------------------------------------------- */

int gh_live_open(const struct gh_live_opts *o, ssh_event ev, struct gh_live **ret)
{
	struct sockaddr_un sa;
	int dirfd = -1, r;
	if (!o->run_dir || !o->session_id || !valid_sid(o->session_id))
		return GH_EINVAL;
	struct gh_live *l = calloc(1, sizeof *l);
	if (!l)
		return GH_ENOMEM;
	l->o = *o;
	l->o.run_dir = NULL; /* not kept */
	l->ev = ev;
	l->lfd = -1;
	snprintf(l->sid, sizeof l->sid, "%s", o->session_id);
	r = gh_mkdir_p(o->run_dir, 0700);
	if (r < 0)
		goto fail;
	if (asprintf(&l->path, "%s/%s.sock", o->run_dir, o->session_id) < 0) {
		l->path = NULL;
		r = GH_ENOMEM;
		goto fail;
	}
	if ((r = sock_addr(o->run_dir, o->session_id, &dirfd, &sa)) < 0)
		goto fail;
	l->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->lfd < 0) {
		r = GH_EIO;
		goto fail;
	}
	(void)unlink(l->path); /* a stale one from a crashed worker */
	mode_t um = umask(0177);
	int b = bind(l->lfd, (struct sockaddr *)&sa, sizeof sa);
	umask(um);
	if (b < 0 || listen(l->lfd, 8) < 0) {
		r = GH_EIO;
		goto fail;
	}
	if (dirfd >= 0)
		close(dirfd);
	dirfd = -1;
	(void)chmod(l->path, 0600);
	if (ssh_event_add_fd(ev, l->lfd, POLLIN, wake_listen, l) != SSH_OK) {
		r = GH_ENOMEM;
		goto fail;
	}
	l->lfd_in_event = true;
	if (o->pty && (r = gh_screen_new(o->rows, o->cols, &l->screen)) < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	if (dirfd >= 0)
		close(dirfd);
	gh_live_close(l);
	return r;
}

void gh_live_set_relay(struct gh_live *l, struct gh_relay *r) { l->relay = r; }

void gh_live_tap(void *ud, const void *data, size_t len)
{
	struct gh_live *l = ud;
	if (l->screen)
		gh_screen_feed(l->screen, data, len);
	for (size_t i = 0; i < GH_LIVE_MAX_CLIENTS; i++) {
		struct conn *c = l->c[i];
		if (c && (c->state == C_WATCH || c->state == C_JOIN))
			queue(c, data, len);
	}
}

void gh_live_resize(struct gh_live *l, int rows, int cols)
{
	if (l && l->screen)
		gh_screen_resize(l->screen, rows, cols);
}

void gh_live_tick(struct gh_live *l)
{
	if (!l)
		return;
	if (l->lfd >= 0 && (l->lfd_ready || !l->lfd_in_event)) {
		l->lfd_ready = false;
		for (int i = 0; i < GH_LIVE_MAX_CLIENTS; i++)
			if (accept_one(l) < 0)
				break;
	}
	for (size_t i = 0; i < GH_LIVE_MAX_CLIENTS; i++) {
		struct conn *c = l->c[i];
		if (!c)
			continue;
		conn_read(l, c);
		flush(c);
		if (c->state == C_CLOSING && c->out_len == 0)
			drop(c, "done");
		if (c->state == C_DEAD)
			conn_end(l, i);
	}
}

bool gh_live_busy(const struct gh_live *l)
{
	for (size_t i = 0; l && i < GH_LIVE_MAX_CLIENTS; i++)
		if (l->c[i] && l->c[i]->out_len > 0)
			return true;
	return false;
}

const char *gh_live_kill_reason(const struct gh_live *l)
{
	return l && l->killed ? l->kill_reason : NULL;
}

bool gh_live_take_notice(struct gh_live *l, char *buf, size_t cap)
{
	if (!l || !l->notice[0])
		return false;
	snprintf(buf, cap, "%s", l->notice);
	l->notice[0] = '\0';
	return true;
}

void gh_live_detach(struct gh_live *l)
{
	if (!l)
		return;
	l->relay = NULL;
	if (l->lfd_in_event)
		ssh_event_remove_fd(l->ev, l->lfd);
	l->lfd_in_event = false;
	if (l->lfd >= 0)
		close(l->lfd);
	l->lfd = -1;
	if (l->path)
		(void)unlink(l->path);
	/* the last output, as far as the clients take it at once */
	int64_t end = gh_mono_ms() + DETACH_WAIT_MS;
	for (;;) {
		struct pollfd p[GH_LIVE_MAX_CLIENTS];
		nfds_t n = 0;
		for (size_t i = 0; i < GH_LIVE_MAX_CLIENTS; i++) {
			struct conn *c = l->c[i];
			if (!c)
				continue;
			flush(c);
			if (c->state != C_DEAD && c->out_len > 0)
				p[n++] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		}
		int64_t left = end - gh_mono_ms();
		if (n == 0 || left <= 0)
			break;
		(void)poll(p, n, (int)(left < 50 ? left : 50));
	}
	for (size_t i = 0; i < GH_LIVE_MAX_CLIENTS; i++) {
		if (l->c[i]) {
			drop(l->c[i], "detached");
			conn_end(l, i);
		}
	}
}

struct gh_live *gh_live_close(struct gh_live *l)
{
	if (!l)
		return NULL;
	gh_live_detach(l);
	gh_screen_free(l->screen);
	free(l->path);
	free(l);
	return NULL;
}

int gh_live_read_answer(int fd, char *line, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		char ch;
		ssize_t k = read(fd, &ch, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || ch == '\n')
			break;
		line[n++] = ch;
	}
	line[n] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	if (!strncmp(line, "error ", 6))
		memmove(line, line + 6, n - 6 + 1);
	else
		line[0] = '\0';
	return GH_EIO;
}
