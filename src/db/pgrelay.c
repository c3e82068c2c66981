/* The PostgreSQL door's relay: client messages framed (Query, Parse and
 * FunctionCall judged before they pass; everything else streamed), the
 * server's bytes passed as they come while a scanner follows its message
 * boundaries for outcomes. Nothing holds more than one statement. */
#include "db/pg.h"
#include "core/error.h"
#include "core/log.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#define CHUNK 65536u
#define SERVER_KEEP 8192u    /* bytes kept of a CommandComplete / ErrorResponse */

/* A rejected statement: our error before the server's next ReadyForQuery. */
static void reject(struct pg *p, const char *msg, bool sync_now)
{
	gh_pg_put_error(&p->pending, "ERROR", "42501", msg);
	if (sync_now)
		gh_pg_put_msg(&p->out_srv, 'S', NULL, 0); /* the server answers ReadyForQuery */
	else
		p->skip_to_sync = true;
}

/* A kept client message (TYPE, body in p->cmsg) judged and passed or refused. */
static int client_statement(struct pg *p, char type, uint32_t body_len)
{
	const uint8_t *b = (const uint8_t *)p->cmsg.p;
	size_t n = p->cmsg.len;
	const char *text = NULL, *name = NULL;
	size_t tl = 0;
	char fc[64];
	struct gh_db_judged j;
	if (n > p->max_stmt) { /* cut at the limit: judged as too long */
		text = (const char *)b;
		tl = n;
	} else if (type == 'Q' && gh_pg_query(b, n, &text, &tl) < 0) {
		return GH_EINVAL;
	} else if (type == 'P' && gh_pg_parse(b, n, &name, &text, &tl) < 0) {
		return GH_EINVAL;
	} else if (type == 'F') {
		if (n < 4)
			return GH_EINVAL;
		snprintf(fc, sizeof fc, "-- function call oid %u", gh_pg_be32(b));
		text = fc;
		tl = strlen(fc);
	}
	gh_db_statement(p->db, text, tl, NULL, &j);
	if (j.verdict == GH_DB_REJECT) {
		reject(p, j.message, type != 'P');
		return 0;
	}
	gh_pg_put_msg(&p->out_srv, type, b, body_len);
	return p->out_srv.err;
}

/* The header of a client message is complete: how its body goes. */
static int client_header(struct pg *p)
{
	char type = (char)p->chdr[0];
	uint32_t len = gh_pg_be32(p->chdr + 1);
	if (len < 4)
		return GH_EINVAL;
	p->cleft = len - 4;
	gh_buf_reset(&p->cmsg);
	if (type == 'X')
		p->terminate = true;
	if (p->skip_to_sync && type != 'S') {
		p->cmode = C_DISCARD;
	} else if (type == 'Q' || type == 'P' || type == 'F') {
		p->cmode = C_KEEP;
	} else {
		if (type == 'S')
			p->skip_to_sync = false;
		p->cmode = C_FORWARD;
		gh_buf_put(&p->out_srv, p->chdr, 5);
	}
	return 0;
}

/* The message's body is complete. */
static int client_done(struct pg *p)
{
	p->chdr_got = 0;
	if (p->cmode != C_KEEP)
		return 0;
	return client_statement(p, (char)p->chdr[0], gh_pg_be32(p->chdr + 1) - 4);
}

static int client_bytes(struct pg *p, const uint8_t *buf, size_t n)
{
	size_t i = 0;
	int r = 0;
	while (i < n && r == 0) {
		if (p->chdr_got < 5) {
			p->chdr[p->chdr_got++] = buf[i++];
			if (p->chdr_got == 5 && (r = client_header(p)) == 0 && p->cleft == 0)
				r = client_done(p);
			continue;
		}
		size_t take = n - i < p->cleft ? n - i : p->cleft;
		if (p->cmode == C_FORWARD) {
			gh_buf_put(&p->out_srv, buf + i, take);
		} else if (p->cmode == C_KEEP && p->cmsg.len <= p->max_stmt) {
			size_t room = p->max_stmt + 1 - p->cmsg.len;
			gh_buf_put(&p->cmsg, buf + i, take < room ? take : room);
		}
		i += take;
		p->cleft -= (uint32_t)take;
		if (p->cleft == 0)
			r = client_done(p);
		if (r == 0 && p->out_srv.len >= CHUNK)
			r = gh_pg_send(p->srv, &p->out_srv);
	}
	if (r == 0)
		r = p->out_srv.err ? p->out_srv.err : gh_pg_send(p->srv, &p->out_srv);
	return r;
}

/* A server message kept whole (up to SERVER_KEEP) is complete. */
static void server_done(struct pg *p)
{
	char type = (char)p->shdr[0];
	const uint8_t *b = (const uint8_t *)p->smsg.p;
	size_t n = p->smsg.len;
	p->shdr_got = 0;
	if (type == 'Z' && n >= 1) {
		p->txstatus = (char)b[0];
	} else if (type == 'C' && n > 0 && memchr(b, 0, n)) {
		struct gh_db_outcome o = { .rows = gh_pg_tag_rows((const char *)b),
					   .tag = (const char *)b };
		gh_db_outcome(p->db, &o);
	} else if (type == 'E') {
		const char *sev, *code, *msg;
		if (gh_pg_error_fields(b, n, &sev, &code, &msg) == 0) {
			struct gh_db_outcome o = { .rows = -1, .error = msg };
			gh_db_outcome(p->db, &o);
			if (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC"))
				gh_db_end_reason(p->db, "database ended the session");
		}
	}
}

static void server_header(struct pg *p)
{
	char t = (char)p->shdr[0];
	uint32_t len = gh_pg_be32(p->shdr + 1);
	p->sleft = len >= 4 ? len - 4 : 0;
	p->skeep = t == 'Z' || t == 'C' || t == 'E';
	gh_buf_reset(&p->smsg);
	gh_buf_put(&p->smsg, NULL, 0);
	if (p->sleft == 0)
		server_done(p);
}

static int server_bytes(struct pg *p, const uint8_t *buf, size_t n)
{
	size_t i = 0, from = 0;
	while (i < n) {
		if (p->shdr_got == 0 && buf[i] == 'Z' && p->pending.len) {
			gh_buf_put(&p->out_cli, buf + from, i - from);
			gh_buf_put(&p->out_cli, p->pending.p, p->pending.len);
			gh_buf_reset(&p->pending);
			from = i;
		}
		if (p->shdr_got < 5) {
			p->shdr[p->shdr_got++] = buf[i++];
			if (p->shdr_got == 5)
				server_header(p);
			continue;
		}
		size_t take = n - i < p->sleft ? n - i : p->sleft;
		if (p->skeep && p->smsg.len < SERVER_KEEP)
			gh_buf_put(&p->smsg, buf + i,
				   take < SERVER_KEEP - p->smsg.len ? take : SERVER_KEEP - p->smsg.len);
		i += take;
		p->sleft -= (uint32_t)take;
		if (p->sleft == 0)
			server_done(p);
	}
	gh_buf_put(&p->out_cli, buf + from, n - from);
	return gh_pg_send(p->cli, &p->out_cli);
}

/* Read what IO has now and hand it to FN. GH_ECONN when it closed. */
static int pump(struct pg *p, struct gh_db_io *io, uint8_t *buf,
		int (*fn)(struct pg *, const uint8_t *, size_t))
{
	size_t n = 0;
	int r = gh_db_io_read(io, buf, CHUNK, 0, &n);
	if (r == GH_ETIMEDOUT)
		return 0;
	return r < 0 ? r : fn(p, buf, n);
}

int gh_pg_relay(struct pg *p)
{
	static uint8_t buf[CHUNK]; /* one connection per process */
	int idle = gh_db_idle_ms(p->db);
	int r = 0;
	p->max_stmt = gh_db_max_statement(p->db);
	for (;;) {
		struct pollfd f[2] = { { .fd = gh_db_io_fd(p->cli), .events = POLLIN },
				       { .fd = gh_db_io_fd(p->srv), .events = POLLIN } };
		bool ready = gh_db_io_pending(p->cli) || gh_db_io_pending(p->srv);
		int k = poll(f, 2, ready ? 0 : idle);
		if (k == 0 && !ready) {
			gh_db_end_reason(p->db, "idle timeout");
			return 0;
		}
		if (k < 0)
			continue;
		if (f[0].revents || gh_db_io_pending(p->cli)) {
			r = pump(p, p->cli, buf, client_bytes);
			if (r < 0 || p->terminate)
				break;
		}
		if (f[1].revents || gh_db_io_pending(p->srv)) {
			r = pump(p, p->srv, buf, server_bytes);
			if (r < 0) {
				gh_db_end_reason(p->db, "database closed the connection");
				break;
			}
		}
	}
	if (p->terminate)
		return 0;
	if (r == GH_EINVAL)
		gh_db_end_reason(p->db, "protocol error");
	return r == GH_ECONN ? 0 : r;
}
