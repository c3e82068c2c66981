/* Audit export: JSON events to syslog (RFC 5424) and a JSON-lines file,
 * tailing the store (see export.h). */
#include "audit/export.h"
#include "app/app.h"
#include "audit/retention.h"
#include "audit/webhook.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BATCH 200
#define MSG_CAP (256 * 1024)
#define DGRAM_CAP 60000
#define IDLE_POLL_MS 500
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define SEND_TIMEOUT_MS 5000
#define RETENTION_EVERY_MS (3600 * 1000)

const char *gh_export_event_name(const char *kind)
{
	static const char *const map[][2] = {
		{ "login", "login_log" },     { "session", "session_log" }, { "command", "command_log" },
		{ "file", "ftp_log" },	      { "change", "operate_log" },
	};
	if (!kind)
		return "event";
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(kind, map[i][0]))
			return map[i][1];
	return kind;
}

/* Copy S with every byte that is not part of valid UTF-8 replaced by U+FFFD
 * (events keep names as presented, which may be any bytes). */
static char *utf8_clean(const char *s)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out = malloc(3 * n + 1);
	const unsigned char *p = (const unsigned char *)s;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
			   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		bool ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (ok && len == 3) /* overlong, surrogates */
			ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
		if (ok && len == 4) /* overlong, above U+10FFFF */
			ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
		if (!ok) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return (char *)out;
}

static json_t *str_or_null(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (!j) {
		char *c = utf8_clean(s);
		j = c ? json_string(c) : NULL;
		free(c);
	}
	return j;
}

json_t *gh_export_event_json(const struct gh_event *e)
{
	char ts[32];
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "event", json_string(gh_export_event_name(e->kind)));
	json_object_set_new(j, "id", json_integer(e->id));
	json_object_set_new(j, "ts", json_string(gh_format_time(e->ts, ts, sizeof ts)));
	json_object_set_new(j, "kind", str_or_null(e->kind));
	json_object_set_new(j, "user", str_or_null(e->user_name));
	json_object_set_new(j, "source", str_or_null(e->source));
	json_object_set_new(j, "session", str_or_null(e->session_id));
	json_object_set_new(j, "asset", str_or_null(e->asset_name));
	json_object_set_new(j, "account", str_or_null(e->account));
	json_object_set_new(j, "method", str_or_null(e->method));
	json_object_set_new(j, "result", str_or_null(e->result));
	json_object_set_new(j, "reason", str_or_null(e->reason));
	json_object_set_new(j, "detail", str_or_null(e->detail));
	json_object_set_new(j, "hash", str_or_null(e->hash));
	/* a string that is not valid UTF-8 makes jansson refuse it: say so */
	if (json_object_size(j) != 14) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- syslog ------------------------------------------------------------ */

int gh_syslog_facility(const char *name)
{
	static const char *const names[] = { "kern",   "user",	 "mail",   "daemon", "auth",
					     "syslog", "lpr",	 "news",   "uucp",   "cron",
					     "authpriv", "ftp" };
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (!strcmp(name, names[i]))
			return i;
	if (!strncmp(name, "local", 5) && name[5] >= '0' && name[5] <= '7' && !name[6])
		return 16 + (name[5] - '0');
	return -1;
}

int gh_syslog_target_parse(const char *s, struct gh_syslog_target *ret)
{
	memset(ret, 0, sizeof *ret);
	if (!strncmp(s, "unix:", 5)) {
		size_t n = strlen(s + 5);
		if (n == 0 || n >= sizeof ret->path || s[5] != '/')
			return GH_EINVAL;
		ret->proto = GH_SYSLOG_UNIX;
		memcpy(ret->path, s + 5, n + 1);
		return 0;
	}
	if (!strncmp(s, "udp:", 4))
		ret->proto = GH_SYSLOG_UDP;
	else if (!strncmp(s, "tcp:", 4))
		ret->proto = GH_SYSLOG_TCP;
	else
		return GH_EINVAL;
	char *host = NULL;
	int port = 0;
	int r = gh_parse_hostport(s + 4, &host, &port);
	if (r < 0)
		return GH_EINVAL;
	if (strlen(host) >= sizeof ret->host || port <= 0) {
		free(host);
		return GH_EINVAL;
	}
	snprintf(ret->host, sizeof ret->host, "%s", host);
	ret->port = port;
	free(host);
	return 0;
}

static int severity(const struct gh_event *e)
{
	static const char *const bad[] = { "failure", "deny", "reject", "error", "mismatch" };
	for (size_t i = 0; e->result && i < sizeof bad / sizeof bad[0]; i++)
		if (!strcmp(e->result, bad[i]))
			return 4; /* warning */
	return 6;         /* informational */
}

long gh_syslog_format(const struct gh_event *e, int facility, const char *hostname, int pid,
		      char *buf, size_t len)
{
	char ts[32];
	json_t *j = gh_export_event_json(e);
	if (!j)
		return GH_ENOMEM;
	char *body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(j);
	if (!body)
		return GH_ENOMEM;
	/* MSGID: PRINTUSASCII, at most 32 characters */
	char msgid[33];
	snprintf(msgid, sizeof msgid, "%s", gh_export_event_name(e->kind));
	for (char *p = msgid; *p; p++)
		if (*p <= ' ' || *p > '~')
			*p = '_';
	int n = snprintf(buf, len, "<%d>1 %s %s gatehouse %d %s - %s", facility * 8 + severity(e),
			 gh_format_time(e->ts, ts, sizeof ts), hostname && *hostname ? hostname : "-",
			 pid, msgid[0] ? msgid : "-", body);
	free(body);
	if (n < 0)
		return GH_EINVAL;
	if ((size_t)n >= len)
		return GH_ELIMIT;
	return n;
}

/* ---- sinks ----------------------------------------------------------------- */

struct sink {
	const char *name;      /* cursor name: "syslog", "jsonl" */
	bool on;
	int fd;
	int64_t cursor;
	bool have_cursor;
	int64_t retry_at_ms;   /* monotonic; 0: now */
	int backoff_ms;
	bool warned;
	/* syslog */
	struct gh_syslog_target t;
	int facility;
	/* jsonl */
	const char *path;
	char why[GH_SAFE_WHYLEN]; /* why it could not be opened */
	/* webhook (audit/webhook.h): access events only, one POST each */
	bool webhook;
	struct gh_webhook_url url;
	const char *ca;
};

#define N_SINKS 3

static void sink_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_MS / 1000, .tv_usec = 0 };
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect with a bounded wait (a blackholed TCP receiver must not stall). */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t salen)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int r = connect(fd, sa, salen);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t el = sizeof err;
		if (poll(&p, 1, SEND_TIMEOUT_MS) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			errno = err ? err : ETIMEDOUT;
			r = -1;
		} else {
			r = 0;
		}
	}
	fcntl(fd, F_SETFL, fl);
	return r;
}

/* The JSON-lines file was moved away (rotated) or removed: reopen by name. */
static void jsonl_check_rotated(struct sink *s)
{
	struct stat a, b;
	if (s->fd < 0 || !s->path)
		return;
	if (stat(s->path, &a) < 0 || fstat(s->fd, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		sink_close(s);
}

/* A stream receiver that closed its end: anything sent now would be
 * accepted by the kernel and lost, so reconnect before sending. */
static void stream_check_closed(struct sink *s)
{
	if (s->fd < 0 || s->path || s->t.proto == GH_SYSLOG_UDP)
		return;
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) == 1) {
		char b;
		ssize_t n = recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			sink_close(s);
	}
}

static int sink_open(struct sink *s)
{
	if (s->webhook) /* one connection per POST */
		return 0;
	jsonl_check_rotated(s);
	stream_check_closed(s);
	if (s->fd >= 0)
		return 0;
	if (s->path) {
		/* root appends: no symlink others could have planted on the way,
		 * and only a file of root's (core/safefile.h) */
		s->why[0] = '\0';
		int r = gh_safe_append(s->path, 0600, &s->fd, s->why, sizeof s->why);
		if (r < 0)
			s->fd = -1;
		return r;
	}
	if (s->t.proto == GH_SYSLOG_UNIX) {
		struct sockaddr_un su;
		memset(&su, 0, sizeof su);
		su.sun_family = AF_UNIX;
		memcpy(su.sun_path, s->t.path, strlen(s->t.path) + 1);
		int types[] = { SOCK_DGRAM, SOCK_STREAM };
		for (size_t i = 0; i < 2; i++) {
			int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return GH_EIO;
			if (connect(fd, (struct sockaddr *)&su, sizeof su) == 0) {
				set_timeouts(fd);
				s->fd = fd;
				return 0;
			}
			int e = errno;
			close(fd);
			if (e != EPROTOTYPE)
				break;
		}
		return GH_EIO;
	}
	struct addrinfo hints, *ai = NULL;
	char port[16];
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = s->t.proto == GH_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(port, sizeof port, "%d", s->t.port);
	if (getaddrinfo(s->t.host, port, &hints, &ai) != 0 || !ai)
		return GH_EIO;
	int r = GH_EIO;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect_bounded(fd, a->ai_addr, a->ai_addrlen) == 0) {
			set_timeouts(fd);
			s->fd = fd;
			r = 0;
			break;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return GH_EIO;
		}
		if (n == 0)
			return GH_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct deliver_ctx {
	struct sink *s;
	char *buf;
	const char *hostname;
	int pid;
	int64_t last_ok;
	int n;
	int err;
};

/* The webhook's POST of access event E; others are passed over. */
static int webhook_one(struct sink *s, const struct gh_event *e)
{
	char why[256] = "";
	if (!gh_webhook_wants(e))
		return 0;
	json_t *j = gh_export_event_json(e);
	char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!body)
		return GH_ENOMEM;
	int r = gh_webhook_post(&s->url, s->ca, body, SEND_TIMEOUT_MS, why, sizeof why);
	free(body);
	if (r < 0)
		gh_warn("export: notify_webhook: event %lld not delivered (%s); retrying",
			(long long)e->id, why);
	return r;
}

static int deliver_one(void *ud, const struct gh_event *e)
{
	struct deliver_ctx *c = ud;
	struct sink *s = c->s;
	long n;
	int r;
	if (s->webhook) {
		r = webhook_one(s, e);
	} else if (s->path) {
		json_t *j = gh_export_event_json(e);
		char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
			       : NULL;
		json_decref(j);
		if (!line) {
			c->err = GH_ENOMEM;
			return GH_ENOMEM;
		}
		size_t ln = strlen(line);
		char *nl = realloc(line, ln + 2);
		if (!nl) {
			free(line);
			c->err = GH_ENOMEM;
			return GH_ENOMEM;
		}
		nl[ln] = '\n';
		nl[ln + 1] = '\0';
		r = write_all(s->fd, nl, ln + 1);
		free(nl);
	} else {
		/* room for the TCP length prefix */
		/* a datagram must fit in one send */
		size_t cap = s->t.proto == GH_SYSLOG_TCP ? MSG_CAP - 16 : DGRAM_CAP;
		n = gh_syslog_format(e, s->facility, c->hostname, c->pid, c->buf + 16, cap);
		if (n == GH_ELIMIT) {
			/* never stall the queue on one huge event: send it without its detail */
			char note[96];
			struct gh_event cut = *e;
			snprintf(note, sizeof note, "[%zu bytes of detail omitted: too long for syslog]",
				 strlen(e->detail ? e->detail : ""));
			cut.detail = note;
			n = gh_syslog_format(&cut, s->facility, c->hostname, c->pid, c->buf + 16, cap);
		}
		if (n < 0) {
			c->err = (int)n;
			return (int)n;
		}
		if (s->t.proto == GH_SYSLOG_TCP) {
			/* RFC 6587 octet counting: "LEN SP MSG" */
			char pre[16];
			int pl = snprintf(pre, sizeof pre, "%ld ", n);
			memcpy(c->buf + 16 - pl, pre, (size_t)pl);
			r = write_all(s->fd, c->buf + 16 - pl, (size_t)n + (size_t)pl);
		} else {
			ssize_t w = send(s->fd, c->buf + 16, (size_t)n, MSG_NOSIGNAL);
			r = w == n ? 0 : GH_EIO;
		}
	}
	if (r < 0) {
		c->err = r;
		return r;
	}
	c->last_ok = e->id;
	c->n++;
	return 0;
}

/* Deliver up to BATCH events after the sink's cursor, then persist the
 * cursor. Returns the number delivered, or a negative GH_E*. */
static int sink_step(struct gh_store *st, struct sink *s, char *buf, const char *hostname)
{
	int r;
	if (!s->have_cursor) {
		r = gh_store_cursor_get(st, s->name, &s->cursor);
		if (r == GH_ENOENT) {
			s->cursor = 0;
			r = 0;
		}
		if (r < 0)
			return r;
		s->have_cursor = true;
	}
	if ((r = sink_open(s)) < 0)
		return r;
	struct deliver_ctx c = { .s = s, .buf = buf, .hostname = hostname, .pid = (int)getpid(),
				 .last_ok = s->cursor };
	/* copy the batch first: no read transaction stays open while sending */
	struct gh_event *v = NULL;
	size_t nv = 0;
	r = gh_store_event_after(st, s->cursor, BATCH, &v, &nv);
	for (size_t i = 0; r == 0 && i < nv; i++)
		r = deliver_one(&c, &v[i]);
	gh_events_free(v, nv);
	if (c.n > 0 && s->path)
		fdatasync(s->fd);
	if (c.last_ok > s->cursor) {
		int w = gh_store_cursor_set(st, s->name, c.last_ok);
		if (w < 0)
			return w;
		s->cursor = c.last_ok;
	}
	if (c.err < 0) {
		sink_close(s);
		return c.err;
	}
	if (r < 0)
		return r;
	return c.n;
}

static int setup_sinks(struct gh_app *app, struct sink *s)
{
	struct sink *sl = &s[0], *jl = &s[1], *wh = &s[2];
	memset(s, 0, N_SINKS * sizeof *s);
	sl->fd = jl->fd = wh->fd = -1;
	sl->name = "syslog";
	jl->name = "jsonl";
	wh->name = "webhook";
	if (app->cfg.notify_webhook && *app->cfg.notify_webhook) {
		if (gh_webhook_url_parse(app->cfg.notify_webhook, &wh->url) < 0)
			gh_error("notify_webhook: expected https://HOST[:PORT]/PATH; it is off");
		else
			wh->on = wh->webhook = true;
		wh->ca = app->cfg.notify_webhook_ca;
	}
	if (app->cfg.syslog_target && *app->cfg.syslog_target) {
		if (gh_syslog_target_parse(app->cfg.syslog_target, &sl->t) < 0) {
			gh_error("syslog_target '%s': expected udp:HOST:PORT, tcp:HOST:PORT or "
				 "unix:/PATH; syslog export is off",
				 app->cfg.syslog_target);
		} else {
			sl->on = true;
			sl->facility = gh_syslog_facility(app->cfg.syslog_facility);
			if (sl->facility < 0)
				sl->facility = 10;
		}
	}
	if (app->cfg.jsonl_file && *app->cfg.jsonl_file) {
		jl->on = true;
		jl->path = app->cfg.jsonl_file;
	}
	return 0;
}

bool gh_export_wanted(const struct gh_app *app)
{
	return (app->cfg.syslog_target && *app->cfg.syslog_target) ||
	       (app->cfg.notify_webhook && *app->cfg.notify_webhook) ||
	       (app->cfg.jsonl_file && *app->cfg.jsonl_file) || app->cfg.recording_retention_days > 0;
}

int gh_export_once(struct gh_app *app)
{
	struct sink s[N_SINKS];
	char host[256] = "-";
	char *buf = malloc(MSG_CAP);
	int total = 0, r = 0;
	if (!buf)
		return GH_ENOMEM;
	gethostname(host, sizeof host - 1);
	setup_sinks(app, s);
	for (int i = 0; i < N_SINKS && r >= 0; i++) {
		if (!s[i].on)
			continue;
		do {
			r = sink_step(app->store, &s[i], buf, host);
			if (r > 0)
				total += r;
		} while (r == BATCH);
		sink_close(&s[i]);
	}
	free(buf);
	return r < 0 ? r : total;
}

/* A recording retention refused to remove (a row naming a path outside
 * recordings_dir, or a symlink on the way): logged at each pass. */
static void on_pruned(void *ud, const struct gh_recording_row *row, int err, const char *why)
{
	char esc[256];
	(void)ud;
	if (err == GH_EPERM)
		gh_warn("retention: refused to remove the recording of session %s, %s: %s",
			row->session_id, gh_escape(esc, sizeof esc, row->path ? row->path : "-"), why);
	else if (err)
		gh_warn("retention: cannot remove the recording of session %s: %s", row->session_id,
			gh_strerror(err));
}

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int gh_export_run(struct gh_app *app)
{
	struct gh_store *st = NULL;
	struct sink s[N_SINKS];
	char host[256] = "-";
	char *buf = NULL;
	int64_t next_retention = 0;

	int r = gh_app_helper_start(app, "export", on_term, &st);
	if (r < 0)
		return 1;
	buf = malloc(MSG_CAP);
	if (!buf) {
		gh_store_close(st);
		return 1;
	}
	gethostname(host, sizeof host - 1);
	setup_sinks(app, s);
	gh_info("export: %s%s%s%s%s%s", s[0].on ? "syslog " : "",
		s[0].on ? app->cfg.syslog_target : "", s[1].on ? " jsonl " : "",
		s[1].on ? app->cfg.jsonl_file : "", s[2].on ? " webhook " : "",
		s[2].on ? s[2].url.host : "");
	while (!stop_flag) {
		int64_t now = gh_mono_ms();
		bool busy = false;
		for (int i = 0; i < N_SINKS && !stop_flag; i++) {
			struct sink *k = &s[i];
			if (!k->on || now < k->retry_at_ms)
				continue;
			r = sink_step(st, k, buf, host);
			if (r < 0) {
				k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : BACKOFF_MIN_MS;
				if (k->backoff_ms > BACKOFF_MAX_MS)
					k->backoff_ms = BACKOFF_MAX_MS;
				k->retry_at_ms = now + k->backoff_ms;
				if (!k->warned && k->path && k->why[0])
					gh_warn("export: jsonl_file %s: %s; events wait in the store, "
						"retrying", k->path, k->why);
				else if (!k->warned)
					gh_warn("export: %s sink unavailable (%s); events wait in the "
						"store, retrying",
						k->name, gh_strerror(r));
				k->warned = true;
				continue;
			}
			if (k->warned)
				gh_info("export: %s sink back; delivering from event %lld", k->name,
					(long long)k->cursor + 1);
			k->warned = false;
			k->backoff_ms = 0;
			k->retry_at_ms = 0;
			if (r == BATCH)
				busy = true;
		}
		if (app->cfg.recording_retention_days > 0 && now >= next_retention) {
			size_t n = 0;
			gh_retention_prune(st, app->cfg.recordings_dir, app->cfg.recording_retention_days,
					   true, "system:retention", on_pruned, NULL, &n);
			if (n)
				gh_info("retention: removed %zu recording%s", n, n == 1 ? "" : "s");
			next_retention = now + RETENTION_EVERY_MS;
		}
		if (!busy)
			sleep_ms(IDLE_POLL_MS);
	}
	for (int i = 0; i < N_SINKS; i++)
		sink_close(&s[i]);
	free(buf);
	gh_store_close(st);
	return 0;
}
