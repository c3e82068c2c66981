/* The Redis door (door.h): TLS when the client opens with a TLS record,
 * AUTH user@account@asset password (or HELLO n AUTH ...) over TLS or from
 * loopback, the login to the target with the stored secret, then each
 * command judged and relayed, pipelined, replies streamed in order with
 * the answers Gatehouse gives itself. Wire format: src/db/redis_wire.h. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "core/error.h"
#include "db/door.h"
#include "db/inbuf.h"
#include "db/redis_wire.h"
#include "store/model.h"

#define MAX_PIPE 1024          /* commands in flight */
#define AUDIT_MAX 4096         /* bytes of a command's audit text */
#define LOGIN_REPLY_MAX 65536  /* replies read whole during the login */
#define TLS_RECORD 0x16        /* the first byte of a TLS ClientHello */

struct pending {
	char *reply; /* Gatehouse's own answer (heap), or NULL: the target's */
	size_t len;
};

struct rd {
	struct gh_db *db;
	struct gh_db_io *cli, *tgt;
	struct gh_inbuf cin, tin;
	struct gh_redis_limits lim;
	struct gh_redis_scan scan;
	struct pending q[MAX_PIPE];
	size_t qh, qn;
	struct gh_buf out;
	bool quit;
};

static int reply_err(struct rd *r, const char *msg)
{
	struct gh_buf b = { 0 };
	int e = gh_redis_err_build(msg, &b);
	if (e == 0)
		e = gh_db_io_write(r->cli, b.p, b.len);
	gh_buf_free(&b);
	return e;
}

/* The next whole command from the client into *Q (free with gh_redis_req_free). */
static int read_command(struct rd *r, struct gh_redis_req *q)
{
	int e = 0;
	for (;;) {
		if ((e = gh_redis_req_parse(gh_inbuf_data(&r->cin), r->cin.len, &r->lim, q)) < 0)
			return e;
		if (q->used)
			return 0;
		if ((e = gh_inbuf_fill(&r->cin, r->cli, -1)) < 0)
			return e;
	}
}

/* One whole reply of the target; its bytes into KEEP (bounded) when not NULL. */
static int target_reply(struct rd *r, struct gh_buf *keep)
{
	bool done = false;
	size_t used = 0;
	int e = 0;

	gh_redis_scan_init(&r->scan);
	while (!done) {
		if (r->tin.len == 0 && (e = gh_inbuf_fill(&r->tin, r->tgt, -1)) < 0)
			return e;
		if ((e = gh_redis_scan_feed(&r->scan, gh_inbuf_data(&r->tin), r->tin.len, &used, &done)) < 0)
			return e;
		if (keep && (e = gh_buf_put(keep, gh_inbuf_data(&r->tin), used)) < 0)
			return e;
		gh_inbuf_consume(&r->tin, used);
	}
	return 0;
}

static bool is_loopback(const char *ip)
{
	return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
		      strncmp(ip, "::ffff:127.", 11) == 0);
}

/* TLS when the client's first byte starts a TLS record. */
static int maybe_tls(struct rd *r)
{
	struct pollfd p = { .fd = gh_db_io_fd(r->cli), .events = POLLIN };
	uint8_t c = 0;

	if (poll(&p, 1, 60000) <= 0)
		return GH_ETIMEDOUT;
	if (recv(p.fd, &c, 1, MSG_PEEK) != 1)
		return GH_ECONN;
	return c == TLS_RECORD ? gh_db_io_tls_server(r->db) : 0;
}

/* ---- the login ------------------------------------------------------------- */

static int target_version(struct rd *r, char *version, size_t vlen)
{
	static const char info[] = "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";
	struct gh_buf b = GH_BUF_MAX(LOGIN_REPLY_MAX);
	int e = 0;

	if ((e = gh_db_io_write(r->tgt, info, sizeof info - 1)) < 0 || (e = target_reply(r, &b)) < 0)
		goto out;
	const char *v = b.p ? strstr(b.p, "redis_version:") : NULL;
	if (v) {
		v += strlen("redis_version:");
		snprintf(version, vlen, "%.*s", (int)strcspn(v, "\r\n"), v);
	}
out:
	gh_buf_free(&b);
	return e;
}

/* AUTH with the stored secret, then the version. */
static int target_login(struct rd *r, const struct gh_db_login *lg, char *version, size_t vlen)
{
	struct gh_buf b = { 0 };
	char why[GH_DB_ERRLEN] = "";
	int e = 0;

	if (lg->tls_wanted && (e = gh_db_io_tls_client(r->db, why, sizeof why)) < 0)
		goto out;
	if (lg->secret_len > 0) {
		bool dflt = strcmp(lg->account, "default") == 0;
		const uint8_t *argv[3] = { (const uint8_t *)"AUTH", (const uint8_t *)lg->account,
					   (const uint8_t *)lg->secret };
		size_t argl[3] = { 4, strlen(lg->account), lg->secret_len };
		if (dflt) {
			argv[1] = argv[2];
			argl[1] = argl[2];
		}
		if ((e = gh_redis_put_command(&b, dflt ? 2 : 3, argv, argl)) < 0 ||
		    (e = gh_db_io_write(r->tgt, b.p, b.len)) < 0 || (e = target_reply(r, NULL)) < 0)
			goto out;
		if (r->scan.error) {
			snprintf(why, sizeof why, "%s", r->scan.err);
			e = GH_EAUTH;
			goto out;
		}
	}
	e = target_version(r, version, vlen);
out:
	if (b.p)
		sodium_memzero(b.p, b.len);
	gh_buf_free(&b);
	if (e < 0) {
		char msg[GH_DB_ERRLEN + 40];
		snprintf(msg, sizeof msg, "the target refused the login%s%s", why[0] ? ": " : "", why);
		gh_db_end_reason(r->db, "target login failed");
		reply_err(r, msg);
	}
	return e;
}

static char *dup_secret(const uint8_t *p, size_t n)
{
	char *s = n < 4096 ? sodium_malloc(n + 1) : NULL;
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

/* Answer everything but AUTH/HELLO AUTH until one arrives: 1 with *A set
 * (views into Q), 0 answered, negative to stop. */
static int auth_command(struct rd *r, struct gh_redis_req *q, struct gh_redis_auth *a)
{
	int e = gh_redis_auth_parse(q, a);

	if (e == GH_ENOENT || (e == 0 && !a->pass)) {
		if (gh_redis_arg_is(q, 0, "QUIT")) {
			gh_db_io_write(r->cli, "+OK\r\n", 5);
			return GH_ECONN;
		}
		gh_db_io_write(r->cli, "-NOAUTH Authentication required.\r\n", 34);
		return 0;
	}
	if (e < 0)
		return reply_err(r, "syntax error in AUTH or HELLO") < 0 ? GH_EIO : 0;
	if (!gh_db_io_is_tls(r->cli) && !is_loopback(gh_db_peer_ip(r->db))) {
		gh_db_end_reason(r->db, "client without TLS");
		reply_err(r, "Gatehouse accepts AUTH only over TLS or from loopback");
		return GH_EPERM;
	}
	if (!a->user) {
		gh_db_io_write(r->cli, "-WRONGPASS give user@account@asset as the user name\r\n", 54);
		return 0;
	}
	return 1;
}

static int login(struct rd *r, char *version, size_t vlen)
{
	struct gh_redis_req q = { 0 };
	struct gh_redis_auth a = { 0 };
	struct gh_db_login lg = { 0 };
	struct gh_buf b = { 0 };
	char *user = NULL, *pass = NULL;
	int e = 0;

	if ((e = maybe_tls(r)) < 0)
		goto out;
	for (;;) {
		gh_redis_req_free(&q);
		if ((e = read_command(r, &q)) < 0)
			goto out;
		gh_inbuf_consume(&r->cin, q.used);
		if (q.argc && (e = auth_command(r, &q, &a)) != 0)
			break;
	}
	if (e < 0)
		goto out;
	if (!(user = strndup((const char *)a.user, a.user_len)) || !(pass = dup_secret(a.pass, a.pass_len))) {
		e = GH_ENOMEM;
		goto out;
	}
	sodium_memzero((void *)a.pass, a.pass_len); /* the copy in the input buffer */
	e = gh_db_login(r->db, user, pass, NULL, &lg);
	if (e < 0) {
		char msg[GH_DB_ERRLEN + 16];
		snprintf(msg, sizeof msg, "-%s %s\r\n", e == GH_EAUTH ? "WRONGPASS" : "ERR",
			 lg.err[0] ? lg.err : "access denied");
		gh_db_io_write(r->cli, msg, strlen(msg));
		goto out;
	}
	r->tgt = gh_db_target(r->db);
	if ((e = target_login(r, &lg, version, vlen)) < 0)
		goto out;
	gh_db_login_secret_clear(&lg);
	if (!a.hello) {
		e = gh_db_io_write(r->cli, "+OK\r\n", 5);
		goto out;
	}
	/* HELLO: the target's own answer (its version, the protocol) */
	if ((e = gh_redis_hello_build(&a, &b)) < 0 || (e = gh_db_io_write(r->tgt, b.p, b.len)) < 0)
		goto out;
	gh_buf_reset(&b);
	b.max = LOGIN_REPLY_MAX;
	if ((e = target_reply(r, &b)) == 0)
		e = gh_db_io_write(r->cli, b.p, b.len);
out:
	gh_db_login_secret_clear(&lg);
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		sodium_free(pass);
	}
	free(user);
	gh_buf_free(&b);
	gh_redis_req_free(&q);
	return e;
}

/* ---- relaying ---------------------------------------------------------------- */

/* Write the answers of Gatehouse's own that are at the head of the queue. */
static int flush_local(struct rd *r)
{
	while (r->qn && r->q[r->qh].reply) {
		struct pending *p = &r->q[r->qh];
		int e = gh_db_io_write(r->cli, p->reply, p->len);
		free(p->reply);
		*p = (struct pending){ 0 };
		r->qh = (r->qh + 1) % MAX_PIPE;
		r->qn--;
		if (e < 0)
			return e;
	}
	return 0;
}

static int push(struct rd *r, char *reply, size_t len)
{
	struct pending *p = &r->q[(r->qh + r->qn) % MAX_PIPE];
	*p = (struct pending){ .reply = reply, .len = len };
	r->qn++;
	return 0;
}

/* Judge one command: 1 forward, 0 answered by Gatehouse (queued). */
static int admit(struct rd *r, const struct gh_redis_req *q)
{
	struct gh_redis_auth a;
	struct gh_db_judged j = { 0 };
	struct gh_buf text = { 0 }, ans = { 0 };
	int e = 0;

	if (gh_redis_arg_is(q, 0, "AUTH") || (gh_redis_auth_parse(q, &a) == 0 && a.pass)) {
		e = gh_redis_err_build("AUTH is not allowed once logged in through Gatehouse", &ans);
		goto answer;
	}
	if ((e = gh_redis_audit_text(q, AUDIT_MAX, &text)) < 0)
		goto out;
	e = gh_db_statement(r->db, text.p ? text.p : "", text.len, NULL, &j);
	if (e < 0 && e != GH_ELIMIT)
		goto out;
	if (e == GH_ELIMIT || j.verdict == GH_DB_REJECT) {
		e = gh_redis_err_build(j.message[0] ? j.message : "rejected by Gatehouse: command too long", &ans);
		goto answer;
	}
	e = 1;
	goto out;
answer:
	if (e == 0) {
		char *s = gh_buf_take(&ans, NULL);
		e = s ? push(r, s, strlen(s)) : GH_ENOMEM;
	}
out:
	gh_buf_free(&text);
	gh_buf_free(&ans);
	return e;
}

/* The client's complete commands: judged, forwarded in one write. */
static int from_client(struct rd *r)
{
	int e = 0;

	gh_buf_reset(&r->out);
	while (r->qn < MAX_PIPE && !r->quit) {
		struct gh_redis_req q = { 0 };
		if ((e = gh_redis_req_parse(gh_inbuf_data(&r->cin), r->cin.len, &r->lim, &q)) < 0) {
			reply_err(r, e == GH_ELIMIT ? "command too long for Gatehouse" : "protocol error");
			return e;
		}
		if (!q.used)
			break;
		if (q.argc) {
			e = admit(r, &q);
			if (e == 1) {
				gh_buf_put(&r->out, gh_inbuf_data(&r->cin), q.used);
				push(r, NULL, 0);
				r->quit = gh_redis_arg_is(&q, 0, "QUIT");
			}
		}
		gh_inbuf_consume(&r->cin, q.used);
		gh_redis_req_free(&q);
		if (e < 0)
			return e;
	}
	if (r->out.err)
		return r->out.err;
	if (r->out.len && (e = gh_db_io_write(r->tgt, r->out.p, r->out.len)) < 0)
		return e;
	return flush_local(r);
}

static void outcome(struct rd *r)
{
	const struct gh_redis_scan *s = &r->scan;
	struct gh_db_outcome o = { .rows = -1 };

	if (s->error)
		o.error = s->err[0] ? s->err : "error";
	else if (strchr(":*%~", s->type))
		o.rows = s->count;
	gh_db_outcome(r->db, &o);
}

/* The target's bytes: streamed to the client, each reply's end matched
 * with the oldest command in flight. */
static int from_target(struct rd *r)
{
	size_t off = 0, used = 0;
	bool done = false;
	int e = 0;

	while (off < r->tin.len) {
		if ((e = gh_redis_scan_feed(&r->scan, gh_inbuf_data(&r->tin) + off, r->tin.len - off,
					    &used, &done)) < 0)
			return e;
		off += used;
		if (done && !r->scan.push && r->qn && !r->q[r->qh].reply) {
			r->qh = (r->qh + 1) % MAX_PIPE;
			r->qn--;
			outcome(r);
		}
		if (done) {
			/* the bytes so far, then the local answers that were waiting */
			if ((e = gh_db_io_write(r->cli, gh_inbuf_data(&r->tin), off)) < 0)
				return e;
			gh_inbuf_consume(&r->tin, off);
			off = 0;
			if ((e = flush_local(r)) < 0)
				return e;
		}
	}
	if (off && (e = gh_db_io_write(r->cli, gh_inbuf_data(&r->tin), off)) < 0)
		return e;
	gh_inbuf_consume(&r->tin, off);
	if (r->quit && r->qn == 0)
		return GH_ECONN;
	return 0;
}

static int relay(struct rd *r)
{
	int e = 0;

	gh_redis_scan_init(&r->scan);
	if (r->cin.len && (e = from_client(r)) < 0)
		return e;
	for (;;) {
		struct pollfd p[2] = { { .fd = gh_db_io_fd(r->cli), .events = POLLIN },
				       { .fd = gh_db_io_fd(r->tgt), .events = POLLIN } };
		bool cli_ready = gh_db_io_pending(r->cli) > 0, tgt_ready = gh_db_io_pending(r->tgt) > 0;
		if (r->qn >= MAX_PIPE || r->quit)
			p[0].fd = -1;
		int k = cli_ready || tgt_ready ? 1 : poll(p, 2, gh_db_idle_ms(r->db));
		if (k == 0) {
			gh_db_end_reason(r->db, "idle timeout");
			return GH_ETIMEDOUT;
		}
		if (k < 0)
			continue;
		if (tgt_ready || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			e = gh_inbuf_fill(&r->tin, r->tgt, 0);
			if (e == 0)
				e = from_target(r);
			if (e < 0 && e != GH_ETIMEDOUT) {
				if (e == GH_ECONN && !r->quit)
					gh_db_end_reason(r->db, "target closed");
				return e;
			}
		}
		if ((cli_ready || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) && p[0].fd >= 0) {
			e = gh_inbuf_fill(&r->cin, r->cli, 0);
			if (e == 0)
				e = from_client(r);
			if (e < 0 && e != GH_ETIMEDOUT)
				return e;
		}
	}
}

static int redis_serve(struct gh_db *db)
{
	struct rd *r = calloc(1, sizeof *r);
	char version[64] = "";
	int e = 0;

	if (!r)
		return GH_ENOMEM;
	struct gh_redis_limits lim = GH_REDIS_LIMITS_DEFAULT;
	lim.max_total = gh_db_max_statement(db);
	*r = (struct rd){ .db = db, .cli = gh_db_client(db), .lim = lim,
			  .cin = { .max = lim.max_total + 65536 }, .tin = { .max = 1u << 20 } };
	if ((e = login(r, version, sizeof version)) < 0)
		goto out;
	gh_db_running(db, version[0] ? version : NULL);
	e = relay(r);
	if (e == GH_ECONN)
		e = 0;
out:
	for (size_t i = 0; i < MAX_PIPE; i++)
		free(r->q[i].reply);
	gh_inbuf_free(&r->cin);
	gh_inbuf_free(&r->tin);
	gh_buf_free(&r->out);
	free(r);
	return e;
}

const struct gh_db_door gh_db_door_redis = {
	.id = GH_DB_DOOR_REDIS,
	.name = "redis",
	.protocol = GH_PROTO_REDIS,
	.filter_kind = "redis",
	.default_port = 6379,
	.serve = redis_serve,
};
