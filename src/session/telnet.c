/* The session core's telnet target (see telnet.h). */
#include "session/telnet.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "relay/relay.h"
#include "session/authz.h"
#include "store/store.h"
#include "store/telnetstore.h"
#include "target/target.h"
#include "target/telnet.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_CAP (64u * 1024)   /* bytes queued for the socket */
#define PRE_CAP 8192u          /* the login's tail, before the relay exists */
#define READ_CHUNK 16384u

struct gh_sess_telnet {
	int fd;
	struct gh_telnet *tn;
	bool logging_in;          /* sends block (bounded by DEADLINE) */
	int64_t deadline;         /* monotonic ms */
	char out[OUT_CAP];        /* raw bytes for the socket, once relayed */
	size_t out_len;
	char pre[PRE_CAP];        /* output before the relay is attached */
	size_t pre_len;
	struct gh_relay *relay;   /* borrowed */
	ssh_event ev;             /* borrowed; the socket is in it when IN_EVENT */
	bool in_event, paused, closed;
};

bool gh_sess_telnet_asset(const struct gh_asset *a)
{
	return a && (a->protocols & GH_PROTO_TELNET) && !(a->protocols & GH_PROTO_SSH);
}

/* ---- the socket ------------------------------------------------------------ */

/* Write all of DATA before the deadline (the login). */
static int write_all(struct gh_sess_telnet *t, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(t->fd, p, len, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return GH_EIO;
		int64_t left = t->deadline - gh_mono_ms();
		struct pollfd pfd = { .fd = t->fd, .events = POLLOUT };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return GH_ETIMEDOUT;
	}
	return 0;
}

static void flush_out(struct gh_sess_telnet *t)
{
	while (t->out_len > 0 && !t->closed) {
		ssize_t w = send(t->fd, t->out, t->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return; /* EAGAIN: the next tick; an error shows as a read error */
		memmove(t->out, t->out + w, t->out_len - (size_t)w);
		t->out_len -= (size_t)w;
	}
}

/* gh_telnet's SEND: blocking during the login, queued afterwards (the
 * relay's write offers no more than the queue holds room for). */
static int on_send(void *ud, const void *data, size_t len)
{
	struct gh_sess_telnet *t = ud;
	if (t->logging_in)
		return write_all(t, data, len);
	if (len > OUT_CAP - t->out_len)
		return GH_ELIMIT;
	memcpy(t->out + t->out_len, data, len);
	t->out_len += len;
	return 0;
}

/* gh_telnet's OUTPUT: to the relay, or kept until it is attached. */
static void on_output(void *ud, const void *data, size_t len)
{
	struct gh_sess_telnet *t = ud;
	if (t->relay) {
		gh_relay_target_data(t->relay, data, len);
		return;
	}
	size_t n = len < PRE_CAP - t->pre_len ? len : PRE_CAP - t->pre_len;
	memcpy(t->pre + t->pre_len, data, n);
	t->pre_len += n;
}

/* ---- the login ------------------------------------------------------------- */

static const char *phase_wait(enum gh_telnet_phase ph)
{
	switch (ph) {
	case GH_TN_WAIT_LOGIN: return "login prompt";
	case GH_TN_WAIT_PASSWORD: return "password prompt";
	default: return "shell prompt";
	}
}

/* Read and answer until the shell prompt, a failure or the deadline. */
static int login_loop(struct gh_sess_telnet *t, int timeout, char *err)
{
	char buf[4096];
	for (;;) {
		enum gh_telnet_phase ph = gh_telnet_phase(t->tn);
		if (ph == GH_TN_READY)
			return 0;
		if (ph == GH_TN_FAILED) {
			snprintf(err, GH_TARGET_ERRLEN, "telnet %s", gh_telnet_failure(t->tn));
			return GH_EAUTH;
		}
		int64_t left = t->deadline - gh_mono_ms();
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
		int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			snprintf(err, GH_TARGET_ERRLEN, "telnet %s not seen within %d s", phase_wait(ph),
				 timeout);
			return GH_ETIMEDOUT;
		}
		ssize_t n = read(t->fd, buf, sizeof buf);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(err, GH_TARGET_ERRLEN, "telnet target closed the connection during the login");
			return GH_ECONN;
		}
		if (gh_telnet_recv(t->tn, buf, (size_t)n) < 0) {
			snprintf(err, GH_TARGET_ERRLEN, "telnet protocol error during the login");
			return GH_EIO;
		}
	}
}

/* The secret from the gate, the login answered with it, the secret wiped. */
static int reach_login(struct gh_sess *s, const struct gh_sess_reach *o,
		       const struct gh_sess_telnet_opts *to, struct gh_sess_telnet *t, char *err)
{
	struct gh_credential cred = { 0 };
	struct gh_authz dec;
	struct gh_authz_req rq = { .user = gh_sess_who(s).user,
				   .source_ip = gh_sess_source_ip(s),
				   .asset = o->asset->name,
				   .account = o->account,
				   .protocol = o->protocol,
				   .action = GH_ACT_CONNECT };
	int r = gh_authz_credential(o->st, o->vault, &rq, &dec, &cred);
	if (r == GH_EPERM) {
		struct gh_audit_who aw = gh_sess_who(s);
		gh_audit_policy(o->st, &aw, o->asset->name, o->account, false, dec.reason);
		snprintf(err, GH_TARGET_ERRLEN, "not permitted");
	} else if (r < 0) {
		gh_error("cannot unseal the secret of %s@%s: %s", o->account, o->asset->name,
			 gh_strerror(r));
		snprintf(err, GH_TARGET_ERRLEN, "the stored credentials cannot be used");
	} else if (cred.kind != GH_SECRET_PASSWORD) {
		snprintf(err, GH_TARGET_ERRLEN, "telnet needs a password account, not a key");
		r = GH_EINVAL;
	} else {
		gh_telnet_login(t->tn, o->account, cred.secret);
		r = gh_telnet_recv(t->tn, NULL, 0);
		if (r == 0)
			r = login_loop(t, to->login_timeout, err);
		else
			snprintf(err, GH_TARGET_ERRLEN, "telnet target unreachable during the login");
		gh_telnet_forget(t->tn);
	}
	gh_credential_clear(&cred);
	return r;
}

static int telnet_new(const struct gh_sess_reach *o, const struct gh_sess_telnet_opts *to,
		      struct gh_sess_telnet *t, char *err)
{
	struct gh_asset_telnet pr = { 0 };
	int r = gh_store_asset_telnet_get(o->st, o->asset->id, &pr);
	if (r < 0) {
		snprintf(err, GH_TARGET_ERRLEN, "store error");
		return r;
	}
	struct gh_telnet_opts tno = { .platform = o->asset->platform,
				      .prompts = { .login = pr.login_prompt,
						   .password = pr.password_prompt,
						   .shell = pr.shell_prompt },
				      .term = to->term,
				      .width = to->width,
				      .height = to->height,
				      .send = on_send,
				      .output = on_output,
				      .ud = t };
	r = gh_telnet_new(&tno, &t->tn, err, GH_TARGET_ERRLEN);
	gh_asset_telnet_free(&pr);
	return r;
}

int gh_sess_telnet_reach(struct gh_sess *s, const struct gh_sess_reach *o,
			 const struct gh_sess_telnet_opts *to, struct gh_sess_telnet **ret,
			 char *err)
{
	struct gh_sess_telnet *t = calloc(1, sizeof *t);
	int r = GH_ENOMEM;
	if (!t) {
		snprintf(err, GH_TARGET_ERRLEN, "out of memory");
		return r;
	}
	t->fd = -1;
	t->logging_in = true;
	r = telnet_new(o, to, t, err);
	if (r == 0)
		r = gh_sess_dial(s, o, o->asset->port, &t->fd, err);
	if (r == 0) {
		t->deadline = gh_mono_ms() + (int64_t)to->login_timeout * 1000;
		r = reach_login(s, o, to, t, err);
	}
	t->logging_in = false;
	if (r < 0 && r != GH_EPERM && t->fd >= 0) { /* reached, not logged in */
		struct gh_audit_who aw = gh_sess_who(s);
		gh_audit_event(o->st, &aw, "telnet", o->asset->name, o->account, "password", "failure",
			       err, NULL);
		gh_warn("telnet login to %s@%s failed: %s", o->account, o->asset->name, err);
	}
	if (r == 0) {
		*ret = t;
		t = NULL;
	}
	gh_sess_telnet_free(t);
	return r;
}

/* ---- the relay's target ---------------------------------------------------- */

static void close_target(struct gh_sess_telnet *t, int exit_status)
{
	if (t->closed)
		return;
	t->closed = true;
	shutdown(t->fd, SHUT_RDWR);
	gh_relay_target_closed(t->relay, exit_status);
}

/* The socket is readable: as much as the relay takes now. */
static int on_readable(socket_t fd, int revents, void *ud)
{
	struct gh_sess_telnet *t = ud;
	char buf[READ_CHUNK];
	(void)fd;
	(void)revents;
	if (t->closed)
		return 0;
	size_t room = gh_relay_target_room(t->relay);
	if (room == 0) {
		t->paused = true; /* out of the event at the next tick */
		return 0;
	}
	/* decoding never makes more bytes than it reads */
	ssize_t n = read(t->fd, buf, room < sizeof buf ? room : sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || gh_telnet_recv(t->tn, buf, (size_t)n) < 0)
		close_target(t, n == 0 ? 0 : -1);
	flush_out(t);
	return 0;
}

static size_t stream_write(void *ud, const void *data, size_t len)
{
	struct gh_sess_telnet *t = ud;
	if (t->closed)
		return len; /* dropped: the relay ends */
	/* CR becomes CR NUL, IAC is doubled: at most twice the bytes */
	size_t room = (OUT_CAP - t->out_len) / 2;
	size_t n = len < room ? len : room;
	if (n > 0 && gh_telnet_send(t->tn, data, n) < 0)
		close_target(t, -1);
	flush_out(t);
	return n;
}

static void stream_eof(void *ud)
{
	(void)ud; /* a terminal's end of input is a byte (^D), not a half close */
}

static void stream_close(void *ud)
{
	struct gh_sess_telnet *t = ud;
	flush_out(t);
	close_target(t, -1);
}

static void stream_window(void *ud, int width, int height)
{
	struct gh_sess_telnet *t = ud;
	if (!t->closed && gh_telnet_resize(t->tn, width, height) < 0)
		close_target(t, -1);
	flush_out(t);
}

int gh_sess_telnet_attach(struct gh_sess_telnet *t, struct gh_relay *r, ssh_event ev)
{
	struct gh_relay_stream st = { .write = stream_write,
				      .eof = stream_eof,
				      .close = stream_close,
				      .window = stream_window,
				      .ud = t };
	t->relay = r;
	t->ev = ev;
	gh_relay_set_stream(r, &st);
	if (t->pre_len > 0)
		gh_relay_target_data(r, t->pre, t->pre_len);
	t->pre_len = 0;
	if (ssh_event_add_fd(ev, t->fd, POLLIN, on_readable, t) != SSH_OK)
		return GH_ENOMEM;
	t->in_event = true;
	return 0;
}

void gh_sess_telnet_tick(struct gh_sess_telnet *t)
{
	if (!t || !t->ev)
		return;
	flush_out(t);
	bool want = !t->closed && !(t->paused && gh_relay_target_room(t->relay) == 0);
	if (t->in_event && !want) {
		ssh_event_remove_fd(t->ev, t->fd);
		t->in_event = false;
	} else if (!t->in_event && want && ssh_event_add_fd(t->ev, t->fd, POLLIN, on_readable, t) == SSH_OK) {
		t->in_event = true;
		t->paused = false;
	}
}

struct gh_sess_telnet *gh_sess_telnet_free(struct gh_sess_telnet *t)
{
	if (!t)
		return NULL;
	if (t->in_event)
		ssh_event_remove_fd(t->ev, t->fd);
	if (t->fd >= 0)
		close(t->fd);
	t->tn = gh_telnet_free(t->tn);
	free(t);
	return NULL;
}
