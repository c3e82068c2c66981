/* The web process: libwebsockets glue between sockets and gh_web_dispatch
 * (the only file of src/web/ that knows libwebsockets; see web.h). */
#include "web/web.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/util.h"
#include "ssh/penalty.h"
#include "ssh/priv.h"
#include "store/store.h"
#include "web/http.h"
#include "web/listen.h"
#include "web/term.h"
#include "web/term_ws.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX (64 * 1024)
#define CHUNK 16384
#define ACCEPT_BURST 16 /* connections taken per wake-up, then the others get a turn */
#define LISTEN_PROTOCOL "gh-listen"

static volatile sig_atomic_t stop_flag;

/* The mark (opaque user data) of a connection accepted on metrics_listen:
 * lws may move an adopted HTTP connection to another vhost by its Host
 * header, so the vhost does not say which socket it came from. */
static const char plain_door[] = "metrics";

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The web process's state (lws_context_user). */
struct server {
	struct gh_web_ctx ctx;
	int conns;               /* accepted connections open */
	int web_fd, metrics_fd;  /* the listening sockets (listen.h), -1 when none */
	bool adopting_listener;  /* its WSI_CREATE (lws gives it to protocols[0]) is no client */
};

/* One connection's transaction (lws per-session data, zeroed by lws). */
struct pss {
	struct gh_term_ws *term; /* a web terminal's WebSocket (term_ws.h) */
	struct gh_web_req *req;  /* the request being read, NULL between */
	char *body;
	size_t body_len;
	bool too_big;
	bool dispatched;         /* the answer is made: later body callbacks are late */
	struct gh_web_resp resp;
	size_t sent;
	bool close_after;
};

static void pss_reset(struct pss *ps)
{
	if (!ps) /* a connection that never got to HTTP */
		return;
	if (ps->req)
		sodium_memzero(ps->req, sizeof *ps->req); /* cookies, tokens */
	free(ps->req);
	if (ps->body)
		sodium_memzero(ps->body, ps->body_len);
	free(ps->body);
	if (ps->resp.body)
		sodium_memzero(ps->resp.body, ps->resp.len); /* a token shown once */
	free(ps->resp.body);
	memset(ps, 0, sizeof *ps);
}

static int method_of(struct lws *wsi)
{
	static const struct { enum lws_token_indexes tok; int m; } map[] = {
		{ WSI_TOKEN_GET_URI, GH_GET },	     { WSI_TOKEN_POST_URI, GH_POST },
		{ WSI_TOKEN_PUT_URI, GH_PUT },	     { WSI_TOKEN_PATCH_URI, GH_PATCH },
		{ WSI_TOKEN_DELETE_URI, GH_DELETE },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (lws_hdr_total_length(wsi, map[i].tok) > 0)
			return map[i].m;
	return 0;
}

/* Header H into OUT; too long (or absent): empty. */
static void hdr(struct lws *wsi, enum lws_token_indexes h, char *out, int len)
{
	if (lws_hdr_copy(wsi, out, len, h) < 0)
		out[0] = '\0';
}

/* The query's fragments joined with '&' (lws keeps them apart, decoded). */
static void query_of(struct lws *wsi, char *out, size_t len)
{
	char frag[GH_WEB_PATH_MAX];
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
	     i++) {
		int n = snprintf(out + o, len - o, "%s%s", o ? "&" : "", frag);
		if (n < 0 || (size_t)n >= len - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)n;
	}
}

static int add(struct lws *wsi, const char *name, const char *value, unsigned char **p,
	       unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Status line and headers of PS's response, then ask to write the body. */
static int respond(struct lws *wsi, struct pss *ps)
{
	unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start,
					   *end = buf + sizeof buf - 1;
	struct gh_web_resp *rs = &ps->resp;
	if (lws_add_http_common_headers(wsi, (unsigned)rs->status, rs->ctype, rs->len, &p, end) ||
	    add(wsi, "strict-transport-security:", "max-age=31536000", &p, end) ||
	    add(wsi, "content-security-policy:",
		"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
		"style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
		"frame-ancestors 'none'", &p, end) ||
	    add(wsi, "x-frame-options:", "DENY", &p, end) ||
	    add(wsi, "x-content-type-options:", "nosniff", &p, end) ||
	    add(wsi, "referrer-policy:", "no-referrer", &p, end) ||
	    add(wsi, "cache-control:", "no-store", &p, end) ||
	    (rs->set_cookie[0] && add(wsi, "set-cookie:", rs->set_cookie, &p, end)) ||
	    (rs->encoding && add(wsi, "content-encoding:", rs->encoding, &p, end)) ||
	    (ps->close_after && add(wsi, "connection:", "close", &p, end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int write_some(struct lws *wsi, struct pss *ps)
{
	unsigned char buf[LWS_PRE + CHUNK];
	size_t n = ps->resp.len - ps->sent;
	if (n > CHUNK)
		n = CHUNK;
	bool last = ps->sent + n == ps->resp.len;
	memcpy(buf + LWS_PRE, ps->resp.body + ps->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	ps->sent += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	bool close_after = ps->close_after;
	pss_reset(ps);
	if (close_after || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int finish(struct lws *wsi, struct server *sv, struct pss *ps)
{
	if (ps->dispatched)
		return 0;
	ps->dispatched = true;
	if (ps->too_big) {
		ps->close_after = true;
		gh_web_error(&ps->resp, 413, "request body larger than web_max_body_kib");
	} else {
		ps->req->body = ps->body;
		ps->req->body_len = ps->body_len;
		gh_web_dispatch(&sv->ctx, ps->req, &ps->resp);
	}
	return respond(wsi, ps);
}

/* The request line and headers are in: read them into a fresh request. */
static int on_http(struct lws *wsi, struct server *sv, struct pss *ps, const char *uri)
{
	const struct gh_config *cfg = &sv->ctx.app->cfg;
	char clen[32];
	pss_reset(ps);
	ps->req = calloc(1, sizeof *ps->req);
	if (!ps->req)
		return -1;
	struct gh_web_req *rq = ps->req;
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, cfg->web_request_timeout);
	rq->method = method_of(wsi);
	if (snprintf(rq->path, sizeof rq->path, "%s", uri) >= (int)sizeof rq->path)
		rq->path[0] = '\0';
	query_of(wsi, rq->query, sizeof rq->query);
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, rq->cookie, sizeof rq->cookie);
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, rq->authorization, sizeof rq->authorization);
	if (lws_hdr_custom_copy(wsi, rq->csrf, sizeof rq->csrf, "x-csrf-token:", 13) < 0)
		rq->csrf[0] = '\0';
	lws_get_peer_simple(wsi, rq->peer, sizeof rq->peer);
	rq->plain = lws_get_opaque_user_data(wsi) == plain_door;
	char ae[256];
	hdr(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, ae, sizeof ae);
	rq->accept_gzip = strstr(ae, "gzip") != NULL;
	hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, clen, sizeof clen);
	long long n = 0;
	if (clen[0] && (gh_parse_ll(clen, &n) < 0 || n < 0 ||
			n > (long long)cfg->web_max_body_kib * 1024)) {
		ps->too_big = true;
		return finish(wsi, sv, ps);
	}
	if (n > 0) /* the body comes in LWS_CALLBACK_HTTP_BODY (whatever the method) */
		return 0;
	return finish(wsi, sv, ps);
}

/* A WebSocket upgrade: the request as on_http reads it, then the terminal's checks. */
static int on_upgrade(struct lws *wsi, struct server *sv, struct pss *ps)
{
	char origin[GH_WEB_HDR_MAX], host[GH_WEB_HDR_MAX];
	struct gh_web_req *rq = NULL;
	int r = -1;
	if (lws_get_opaque_user_data(wsi) == plain_door) /* /metrics only there */
		return -1;
	if (!(rq = calloc(1, sizeof *rq)))
		return -1;
	rq->method = GH_GET;
	hdr(wsi, WSI_TOKEN_GET_URI, rq->path, sizeof rq->path);
	query_of(wsi, rq->query, sizeof rq->query);
	hdr(wsi, WSI_TOKEN_HTTP_COOKIE, rq->cookie, sizeof rq->cookie);
	hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, rq->authorization, sizeof rq->authorization);
	hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
	hdr(wsi, WSI_TOKEN_HOST, host, sizeof host);
	lws_get_peer_simple(wsi, rq->peer, sizeof rq->peer);
	r = gh_term_ws_open(&sv->ctx, rq, origin, host, &ps->term);
	sodium_memzero(rq, sizeof *rq);
	free(rq);
	return r;
}

static int on_body(struct pss *ps, size_t max, const void *in, size_t len)
{
	if (!ps->req || ps->too_big || ps->dispatched)
		return 0;
	if (ps->body_len + len > max) {
		ps->too_big = true;
		return 0;
	}
	char *nb = realloc(ps->body, ps->body_len + len + 1);
	if (!nb)
		return -1;
	ps->body = nb;
	memcpy(ps->body + ps->body_len, in, len);
	ps->body_len += len;
	ps->body[ps->body_len] = '\0';
	return 0;
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct server *sv = lws_context_user(lws_get_context(wsi));
	struct pss *ps = user;
	switch (reason) {
	case LWS_CALLBACK_WSI_CREATE:
		if (!sv->adopting_listener)
			sv->conns++;
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		sv->conns--;
		break;
	case LWS_CALLBACK_HTTP:
		return ps ? on_http(wsi, sv, ps, in) : -1;
	case LWS_CALLBACK_HTTP_BODY:
		return !ps ? -1 : on_body(ps, (size_t)sv->ctx.app->cfg.web_max_body_kib * 1024, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return ps && ps->req ? finish(wsi, sv, ps) : -1;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return ps && ps->resp.body ? write_some(wsi, ps) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		pss_reset(ps);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return ps ? on_upgrade(wsi, sv, ps) : -1;
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		return ps ? gh_term_ws(wsi, reason, &ps->term, in, len) : -1;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void lws_log(int level, const char *line)
{
	char esc[512], copy[400];
	size_t n = strcspn(line, "\n"); /* lws ends its lines with one */
	snprintf(copy, sizeof copy, "%.*s", (int)(n < sizeof copy ? n : sizeof copy - 1), line);
	gh_escape(esc, sizeof esc, copy);
	if (level & LLL_ERR)
		gh_warn("web: %s", esc);
	else
		gh_debug("web: %s", esc);
}

/* A listening socket is readable: accept what is waiting (the siblings
 * race for it; EAGAIN is the usual end) and hand each connection to this
 * process's own context, beyond web_max_connections closed at once. */
static int cb_listen(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	struct server *sv = lws_context_user(lws_get_context(wsi));
	struct lws_vhost *vh = lws_get_vhost(wsi);
	bool plain = !strcmp(lws_get_vhost_name(vh), "metrics");
	lws_adoption_type type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
	if (!plain)
		type |= LWS_ADOPT_ALLOW_SSL;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(lws_get_socket_fd(wsi), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			break;
		if (sv->conns >= sv->ctx.app->cfg.web_max_connections) {
			close(fd);
			continue;
		}
		int one = 1; /* as lws's own listener: small answers leave at once */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		lws_sock_file_fd_type d = { .sockfd = fd };
		struct lws *c = lws_adopt_descriptor_vhost(vh, type, d, NULL, NULL);
		if (c && plain) /* (lws closed FD when it failed) */
			lws_set_opaque_user_data(c, (void *)plain_door);
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "http", cb_http, sizeof(struct pss), 0, 0, NULL, 0 },
	{ LISTEN_PROTOCOL, cb_listen, 0, 0, 0, NULL, 0 },
	{ GH_TERM_RAW_PROTOCOL, gh_term_raw_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Root, before the drop: the pair into memory (the key never touches a
 * file the worker user can read). */
static int load_pair(struct gh_app *app, char **cert, size_t *cert_len, char **key,
		     size_t *key_len)
{
	char cp[4096], kp[4096], why[256];
	int r = gh_web_cert_paths(app, cp, kp);
	if (r == 0 && (r = gh_trusted_read(cp, PEM_MAX, false, cert, cert_len, why, sizeof why)) < 0)
		gh_error("web: certificate %s: %s", cp, why);
	if (r == 0 && (r = gh_trusted_read(kp, PEM_MAX, true, key, key_len, why, sizeof why)) < 0)
		gh_error("web: key %s: %s", kp, why);
	return r;
}

/* The listening socket *FD as a raw descriptor of VH's listener protocol
 * (cb_listen); lws owns it afterwards, even on failure. */
static int listen_adopt(struct server *sv, struct lws_vhost *vh, int *fd)
{
	lws_adopt_desc_t d = { .vh = vh, .type = LWS_ADOPT_RAW_FILE_DESC, .fd.filefd = *fd,
			       .vh_prot_name = LISTEN_PROTOCOL };
	*fd = -1;
	sv->adopting_listener = true;
	struct lws *wsi = lws_adopt_descriptor_vhost_via_info(&d);
	sv->adopting_listener = false;
	return wsi ? 0 : GH_EIO;
}

static struct lws_context *listen_on(struct server *sv, const char *cert, size_t cert_len,
				     const char *key, size_t key_len)
{
	const struct gh_config *cfg = &sv->ctx.app->cfg;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* sv->web_fd, adopted by listen_adopt */
	info.protocols = protocols;
	info.user = sv;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.server_ssl_cert_mem = cert;
	info.server_ssl_cert_mem_len = (unsigned)cert_len;
	info.server_ssl_private_key_mem = key;
	info.server_ssl_private_key_mem_len = (unsigned)key_len;
	info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	info.alpn = "http/1.1";
	info.max_http_header_data = (unsigned short)cfg->web_max_header_bytes;
	info.timeout_secs = (unsigned)cfg->web_request_timeout;
	info.keepalive_timeout = 10;
	info.fd_limit_per_thread = (unsigned)cfg->web_max_connections + 64;
	info.server_string = "gatehouse";
	struct lws_context *c = lws_create_context(&info);
	if (c && listen_adopt(sv, lws_get_vhost_by_name(c, "default"), &sv->web_fd) < 0) {
		lws_context_destroy(c);
		c = NULL;
	}
	return c;
}

/* metrics_listen: a plain-HTTP vhost of C that answers GET /metrics only,
 * without authentication (gh_web_dispatch: req->plain). */
static int metrics_vhost(struct server *sv, struct lws_context *c)
{
	const struct gh_config *cfg = &sv->ctx.app->cfg;
	struct lws_context_creation_info info;
	if (sv->metrics_fd < 0)
		return 0;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* sv->metrics_fd */
	info.protocols = protocols;
	info.vhost_name = "metrics";
	info.max_http_header_data = (unsigned short)cfg->web_max_header_bytes;
	info.timeout_secs = (unsigned)cfg->web_request_timeout;
	info.keepalive_timeout = 10;
	info.server_string = "gatehouse";
	struct lws_vhost *vh = lws_create_vhost(c, &info);
	return vh ? listen_adopt(sv, vh, &sv->metrics_fd) : GH_EIO;
}

/* Root: bind web_listen and metrics_listen (when set) for all the web
 * processes. */
static int open_sockets(struct server *sv)
{
	const struct gh_config *cfg = &sv->ctx.app->cfg;
	if (gh_web_listen_socket(cfg->web_listen, &sv->web_fd) < 0) {
		gh_error("web: cannot listen on %s", cfg->web_listen);
		return GH_EIO;
	}
	if (cfg->metrics_listen && cfg->metrics_listen[0] &&
	    gh_web_listen_socket(cfg->metrics_listen, &sv->metrics_fd) < 0) {
		gh_error("web: cannot listen on metrics_listen %s", cfg->metrics_listen);
		return GH_EIO;
	}
	return 0;
}

/* web_processes: the first web process (the master's child) forks the
 * others once it holds the listening sockets, before it drops and before
 * any libwebsockets context exists; each polls those sockets and accepts
 * what it can (a connection is served by the process that accepted it).
 * They end with the first one (parent-death signal), which the master
 * restarts. Returns the process to watch for health: the master for the
 * first, the first for the others. */
static int fork_siblings(const struct gh_app *app, int *chans, int n, int *ret_ch)
{
	int master = (int)getppid(), me = 0;
	if (app->cfg.web_processes > 1) { /* they are reaped by the kernel */
		struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT };
		sigaction(SIGCHLD, &sa, NULL);
	}
	for (int i = 1; i < app->cfg.web_processes && i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			master = (int)getppid();
			me = i;
			break;
		}
		if (pid < 0)
			gh_warn("web: fork: %s", strerror(errno));
	}
	for (int i = 0; i < n; i++) /* each keeps its own channel */
		if (i != me && chans[i] >= 0)
			close(chans[i]);
	*ret_ch = n > 0 ? chans[me] : -1;
	return master;
}

int gh_web_run(struct gh_app *app, const struct gh_priv *p, int *chans, int n)
{
	struct server sv = { .ctx = { .app = app, .master_pid = (int)getppid(),
				      .master_ch = -1, .term_fd = -1 },
			   .web_fd = -1, .metrics_fd = -1 };
	struct lws_context *lc = NULL;
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int rc = 1;

	/* its store is opened after the drop, below */
	gh_app_helper_begin(app, "web", on_term);
	/* before the TLS key is read (the spawner never holds it) and the
	 * rename (its SSH workers keep the master's name: sweep.h) */
	if (gh_term_spawner_start(app, p, &sv.ctx.term_fd) < 0)
		gh_warn("web: no web terminals (cannot start their spawner)");
	prctl(PR_SET_NAME, "gh-web", 0, 0, 0); /* ps, tests: not a worker */
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	bool ready = load_pair(app, &cert, &cert_len, &key, &key_len) == 0 &&
		     open_sockets(&sv) == 0;
	/* each process its own context (listen.h says why) */
	sv.ctx.master_pid = fork_siblings(app, chans, ready ? n : 0, &sv.ctx.master_ch);
	if (!ready) {
		for (int i = 0; i < n; i++)
			close(chans[i]);
		goto out;
	}
	lc = listen_on(&sv, cert, cert_len, key, key_len);
	sodium_memzero(key, key_len); /* lws holds it in its TLS context now */
	if (!lc || metrics_vhost(&sv, lc) < 0) {
		gh_error("web: cannot serve %s", app->cfg.web_listen);
		goto out;
	}
	if (gh_priv_drop(p) < 0)
		goto out;
	/* end with the master (after the drop: a credential change clears it) */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != sv.ctx.master_pid)
		goto out;
	if (gh_store_open(&app->cfg, &sv.ctx.st) < 0 || !(sv.ctx.penalty = gh_penalty_new())) {
		gh_error("web: cannot open the store");
		goto out;
	}
	gh_info("web: serving https://%s/", app->cfg.web_listen);
	while (!stop_flag)
		if (lws_service(lc, 0) < 0)
			break;
	rc = 0;
out:
	if (lc)
		lws_context_destroy(lc);
	gh_penalty_free(sv.ctx.penalty);
	if (sv.ctx.master_ch >= 0)
		close(sv.ctx.master_ch);
	gh_store_close(sv.ctx.st);
	if (sv.ctx.term_fd >= 0)
		close(sv.ctx.term_fd);
	if (sv.web_fd >= 0)
		close(sv.web_fd);
	if (sv.metrics_fd >= 0)
		close(sv.metrics_fd);
	free(cert);
	free(key);
	return rc;
}

bool gh_web_wanted(const struct gh_app *app)
{
	return app->cfg.web_listen && app->cfg.web_listen[0];
}

/* The URL to give people: the host name when LISTEN is a wildcard. */
static void web_url(const char *listen, char *url, size_t len)
{
	char *host = NULL, name[256] = "localhost";
	int port = 0;
	if (gh_parse_hostport(listen, &host, &port) < 0) {
		snprintf(url, len, "https://%s/", listen);
		return;
	}
	bool any = !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "*");
	if (any && gethostname(name, sizeof name - 1) < 0)
		snprintf(name, sizeof name, "localhost");
	bool v6 = !any && strchr(host, ':');
	snprintf(url, len, "https://%s%s%s:%d/", v6 ? "[" : "", any ? name : host, v6 ? "]" : "",
		 port);
	free(host);
}

int gh_web_prepare(struct gh_app *app)
{
	char cp[4096], kp[4096], fp[96], why[256];
	char *pem = NULL;
	size_t len = 0;
	if (!gh_web_wanted(app))
		return 0;
	int r = gh_web_cert_paths(app, cp, kp);
	bool own = app->cfg.web_cert[0] || app->cfg.web_key[0];
	if (r == 0 && !own && access(cp, F_OK) != 0) {
		if ((r = gh_web_cert_create(cp, kp)) < 0)
			gh_error("web: cannot create %s: %s", cp, gh_strerror(r));
		else
			gh_info("web: created a self-signed certificate %s", cp);
	}
	if (r == 0 && (r = gh_trusted_read(cp, PEM_MAX, false, &pem, &len, why, sizeof why)) < 0)
		gh_error("web: certificate %s: %s", cp, why);
	if (r == 0 && (r = gh_web_cert_fingerprint(pem, len, fp)) < 0)
		gh_error("web: %s holds no PEM certificate", cp);
	if (r == 0) {
		char url[400];
		web_url(app->cfg.web_listen, url, sizeof url);
		printf("Web console: %s (certificate SHA-256 %s)\n", url, fp);
		fflush(stdout);
		gh_info("web console %s certificate SHA-256 %s", url, fp);
	}
	free(pem);
	return r;
}
