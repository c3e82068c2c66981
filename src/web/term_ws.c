/* The web terminal's WebSocket side in the web process (libwebsockets, as
 * server.c): the upgrade's checks, then frames between the browser and
 * the terminal process's socket (term.h), both ways with backpressure. */
#include "web/term_ws.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "web/http.h"
#include "web/term.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE_HIGH (256 * 1024)  /* output queued for the browser: stop reading */
#define PENDING_MAX (1024 * 1024) /* input the terminal has not taken: close */
#define CTL_MAX 1024              /* one JSON control message */

struct frame {
	struct frame *next;
	size_t len;
	bool text;
	unsigned char data[];    /* LWS_PRE + len */
};

struct gh_term_ws {
	struct lws *ws, *raw;
	int fd;                  /* the terminal's socket until adopted */
	struct frame *head, *tail;
	size_t queued;
	char *pend;              /* typed input waiting for the terminal */
	size_t pend_len;
	char ctl[CTL_MAX + 1];
	size_t ctl_len;
	bool gone;               /* the terminal process closed its socket */
};

/* ---- the upgrade ---------------------------------------------------------- */

static void refuse(struct gh_web_ctx *ctx, const struct gh_web_req *rq, const char *why)
{
	struct gh_audit_who w = { .user = rq->user[0] ? rq->user : "-", .source = rq->peer };
	gh_audit_login(ctx->st, &w, "web-terminal", false, why);
	char esc[256];
	gh_escape(esc, sizeof esc, why);
	gh_info("web terminal from %s refused: %s", rq->peer, esc);
}

/* A cookie rides along with any page's WebSocket: the page must be ours. */
static bool same_origin(const char *origin, const char *host)
{
	char want[GH_WEB_HDR_MAX + 16];
	if (!origin[0] || !host[0])
		return false;
	if (snprintf(want, sizeof want, "https://%s", host) >= (int)sizeof want)
		return false;
	return !strcmp(origin, want);
}

static int size_of(const struct gh_web_req *rq, const char *key, int dflt, int *ret)
{
	char v[16];
	long long n = dflt;
	int r = gh_web_query(rq, key, v, sizeof v);
	if (r == 0 && (gh_parse_ll(v, &n) < 0 || n < 1 || n > 1000))
		return -1;
	if (r < 0 && r != GH_ENOENT)
		return -1;
	*ret = (int)n;
	return 0;
}

int gh_term_ws_open(struct gh_web_ctx *ctx, struct gh_web_req *rq, const char *origin,
		    const char *host, struct gh_term_ws **slot)
{
	char asset[GH_TERM_NAME_MAX + 1], account[GH_TERM_NAME_MAX + 1];
	struct gh_term_req q = { .peer = rq->peer, .asset = asset, .account = account };
	int fd = -1;
	if (strcmp(rq->path, "/api/v1/terminal") != 0)
		return -1;
	if (gh_web_authenticate(ctx, rq) < 0) {
		refuse(ctx, rq, "authentication required");
		return -1;
	}
	if (rq->session_hash[0] && !same_origin(origin, host)) {
		refuse(ctx, rq, "cross-origin WebSocket");
		return -1;
	}
	if (gh_web_query(rq, "asset", asset, sizeof asset) < 0 || !asset[0] ||
	    gh_web_query(rq, "account", account, sizeof account) < 0 || !account[0] ||
	    size_of(rq, "cols", 80, &q.cols) < 0 || size_of(rq, "rows", 24, &q.rows) < 0) {
		refuse(ctx, rq, "asset, account, cols or rows missing or malformed");
		return -1;
	}
	q.user = rq->user;
	struct gh_term_ws *t = calloc(1, sizeof *t);
	if (!t || gh_term_request(ctx->term_fd, &q, &fd) < 0) {
		free(t);
		refuse(ctx, rq, "cannot start a terminal");
		return -1;
	}
	t->fd = fd;
	*slot = t;
	return 0;
}

/* ---- frames ------------------------------------------------------------------ */

static void queue_frame(struct gh_term_ws *t, const char *msg, size_t n)
{
	struct frame *f = malloc(sizeof *f + LWS_PRE + n - 1);
	if (!f)
		return;
	f->next = NULL;
	f->len = n - 1;
	f->text = msg[0] == 't';
	memcpy(f->data + LWS_PRE, msg + 1, n - 1);
	if (t->tail)
		t->tail->next = f;
	else
		t->head = f;
	t->tail = f;
	t->queued += n;
}

/* Messages of the terminal into the queue: one, or all (its end). */
static int read_terminal(struct gh_term_ws *t, int fd, bool all)
{
	char buf[GH_TERM_FRAME_MAX];
	do {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (buf[0] == 'd' || buf[0] == 't')
			queue_frame(t, buf, (size_t)n);
	} while (all);
	return 0;
}

/* Typed input (and what waits) to the terminal. */
static int flush_input(struct gh_term_ws *t)
{
	if (!t->pend_len || !t->raw)
		return 0;
	int fd = lws_get_socket_fd(t->raw);
	size_t off = 0;
	while (off < t->pend_len) {
		size_t n = t->pend_len - off;
		char buf[GH_TERM_FRAME_MAX];
		if (n > sizeof buf - 1)
			n = sizeof buf - 1;
		buf[0] = 'd';
		memcpy(buf + 1, t->pend + off, n);
		if (send(fd, buf, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN)
				return -1;
			break;
		}
		off += n;
	}
	memmove(t->pend, t->pend + off, t->pend_len - off);
	t->pend_len -= off;
	lws_rx_flow_control(t->ws, t->pend_len == 0);
	if (t->pend_len)
		lws_callback_on_writable(t->raw);
	return 0;
}

static int typed(struct gh_term_ws *t, const void *in, size_t len)
{
	if (t->pend_len + len > PENDING_MAX)
		return -1;
	char *p = realloc(t->pend, t->pend_len + len);
	if (!p)
		return -1;
	t->pend = p;
	memcpy(p + t->pend_len, in, len);
	t->pend_len += len;
	return flush_input(t);
}

/* {"type":"resize","cols":C,"rows":R}; other types are ignored. */
static void control(struct gh_term_ws *t)
{
	char err[128], msg[32];
	json_t *j = NULL;
	json_int_t c = 0, r = 0;
	const char *type = NULL;
	if (gh_web_json_decode(t->ctl, t->ctl_len, &j, err, sizeof err) < 0)
		return;
	if (json_unpack(j, "{s:s, s:I, s:I}", "type", &type, "cols", &c, "rows", &r) == 0 &&
	    !strcmp(type, "resize") && c > 0 && r > 0 && c <= 1000 && r <= 1000 && t->raw) {
		int n = snprintf(msg, sizeof msg, "r%d %d", (int)c, (int)r);
		(void)!send(lws_get_socket_fd(t->raw), msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	json_decref(j);
}

static int receive(struct lws *wsi, struct gh_term_ws *t, const void *in, size_t len)
{
	if (lws_frame_is_binary(wsi))
		return typed(t, in, len);
	if (t->ctl_len + len > CTL_MAX)
		return -1;
	memcpy(t->ctl + t->ctl_len, in, len);
	t->ctl_len += len;
	if (lws_is_final_fragment(wsi)) {
		control(t);
		t->ctl_len = 0;
	}
	return 0;
}

static int writeable(struct lws *wsi, struct gh_term_ws *t)
{
	struct frame *f = t->head;
	if (f) {
		int k = lws_write(wsi, f->data + LWS_PRE, f->len,
				  f->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
		if (k < (int)f->len)
			return -1;
		t->head = f->next;
		if (!t->head)
			t->tail = NULL;
		t->queued -= f->len + 1;
		free(f);
		if (t->raw && t->queued < QUEUE_HIGH)
			lws_rx_flow_control(t->raw, 1);
		if (t->head || t->gone)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (t->gone) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"closed", 6);
		return -1;
	}
	return 0;
}

static void ws_free(struct gh_term_ws **slot)
{
	struct gh_term_ws *t = *slot;
	if (!t)
		return;
	if (t->raw) {
		lws_set_opaque_user_data(t->raw, NULL);
		lws_set_timeout(t->raw, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
	} else if (t->fd >= 0) {
		close(t->fd);
	}
	while (t->head) {
		struct frame *f = t->head;
		t->head = f->next;
		free(f);
	}
	free(t->pend);
	free(t);
	*slot = NULL;
}

int gh_term_ws(struct lws *wsi, int reason, struct gh_term_ws **slot, void *in, size_t len)
{
	struct gh_term_ws *t = *slot;
	if (reason == LWS_CALLBACK_CLOSED) {
		ws_free(slot);
		return 0;
	}
	if (!t)
		return -1;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		lws_adopt_desc_t d = { .vh = lws_get_vhost(wsi), .type = LWS_ADOPT_RAW_FILE_DESC,
				       .fd.filefd = t->fd, .vh_prot_name = GH_TERM_RAW_PROTOCOL,
				       .opaque = t };
		t->ws = wsi;
		t->raw = lws_adopt_descriptor_vhost_via_info(&d);
		t->fd = -1; /* lws's now (closed by it on failure too) */
		return t->raw ? 0 : -1;
	}
	case LWS_CALLBACK_RECEIVE:
		return receive(wsi, t, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(wsi, t);
	default:
		return 0;
	}
}

int gh_term_raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct gh_term_ws *t = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (!t)
			return -1;
		if (read_terminal(t, lws_get_socket_fd(wsi), false) < 0)
			return -1;
		if (t->queued >= QUEUE_HIGH)
			lws_rx_flow_control(wsi, 0);
		lws_callback_on_writable(t->ws);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		return t ? flush_input(t) : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (!t)
			return 0;
		read_terminal(t, lws_get_socket_fd(wsi), true); /* its last words */
		t->raw = NULL;
		t->gone = true;
		lws_callback_on_writable(t->ws);
		return 0;
	default:
		return 0;
	}
}
