/* The MySQL/MariaDB door (door.h): the client's handshake inside TLS, its
 * password obtained with caching_sha2_password's full authentication (or
 * mysql_clear_password), the login to the target with the stored secret,
 * then each command judged and relayed, its response streamed frame by
 * frame. The wire format is src/db/mysql_wire.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/error.h"
#include "core/log.h"
#include "db/door.h"
#include "db/inbuf.h"
#include "db/mysql_wire.h"
#include "db/sqluse.h"
#include "store/model.h"

/* The version in the greeting: the target is not known before the user
 * name arrives, so a MariaDB-style version every client reads as a
 * capable server; the real one reaches the session (gh_db_running) and
 * the client sees it in SELECT VERSION(). */
#define GREETING_VERSION "5.5.5-10.11.0-MariaDB-Gatehouse"
#define MAX_STMTS 1024

struct my {
	struct gh_db *db;
	struct gh_db_io *cli, *tgt;
	struct gh_inbuf cin, tin;
	uint32_t caps;           /* what the client negotiated with us */
	size_t max_msg;          /* one client message: db_max_statement and its header */
	struct gh_my_stmts *stmts;
	struct gh_buf out;       /* bytes to write, reused */
	struct gh_buf msg;       /* one message's payload, reused */
};

/* The next whole message from IO into M->msg; *RET_NEXT its next seq id. */
static int read_msg(struct my *m, struct gh_db_io *io, struct gh_inbuf *in, uint8_t *ret_next)
{
	struct gh_my_msg mm;
	int r = 0;

	for (;;) {
		if ((r = gh_my_msg_scan(gh_inbuf_data(in), in->len, io == m->cli ? m->max_msg : (64u << 20), &mm)) < 0)
			return r;
		if (mm.used)
			break;
		if ((r = gh_inbuf_fill(in, io, -1)) < 0)
			return r;
	}
	gh_buf_reset(&m->msg);
	if ((r = gh_my_msg_payload(gh_inbuf_data(in), &mm, &m->msg)) < 0 ||
	    (r = gh_buf_put(&m->msg, "", 0)) < 0)
		return r;
	gh_inbuf_consume(in, mm.used);
	*ret_next = mm.next_seq;
	return 0;
}

/* The client's first message read exactly (header, then payload), so that
 * nothing after an SSL request is read before TLS starts: those bytes are
 * the TLS handshake's. */
static int read_first(struct my *m, uint8_t *ret_next)
{
	uint8_t h[4];
	size_t len = 0;
	uint8_t seq = 0;
	int r = 0;

	if ((r = gh_db_io_read_full(m->cli, h, 4, -1)) < 0)
		return r;
	gh_my_frame_head(h, 4, &len, &seq);
	if (len >= GH_MY_FRAME_MAX || len > 65536)
		return GH_ELIMIT; /* a handshake answer is small */
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return GH_ENOMEM;
	gh_buf_reset(&m->msg);
	if ((r = gh_db_io_read_full(m->cli, p, len, -1)) == 0 && (r = gh_buf_put(&m->msg, p, len)) == 0)
		*ret_next = (uint8_t)(seq + 1);
	sodium_memzero(p, len);
	free(p);
	return r;
}

static int send_msg(struct my *m, struct gh_db_io *io, uint8_t seq, const void *p, size_t n)
{
	int r = 0;
	gh_buf_reset(&m->out);
	if ((r = gh_my_put_msg(&m->out, seq, p, n, NULL)) < 0)
		return r;
	return gh_db_io_write(io, m->out.p, m->out.len);
}

static int send_err(struct my *m, uint8_t seq, uint16_t code, const char *state, const char *msg)
{
	struct gh_buf e = { 0 };
	int r = gh_my_err_build(code, state, msg, &e);
	if (r == 0)
		r = send_msg(m, m->cli, seq, e.p, e.len);
	gh_buf_free(&e);
	return r;
}

/* ---- the client's login ---------------------------------------------------- */

/* The password from the client: full authentication of caching_sha2 (after
 * a switch to it when the client started with another plugin). */
static int client_password(struct my *m, const struct gh_my_hsresp *h, const uint8_t *scramble,
			   uint8_t *seq, char **ret)
{
	struct gh_buf b = { 0 };
	int r = 0;

	if (strcmp(h->plugin, GH_MY_PLUGIN_CLEAR) == 0)
		return gh_my_clear_password_parse(h->auth ? h->auth : (const uint8_t *)"", h->auth_len, ret);
	if (strcmp(h->plugin, GH_MY_PLUGIN_SHA2) != 0) {
		if ((r = gh_my_auth_switch_build(GH_MY_PLUGIN_SHA2, scramble, GH_MY_SCRAMBLE_LEN, &b)) < 0 ||
		    (r = send_msg(m, m->cli, *seq, b.p, b.len)) < 0 ||
		    (r = read_msg(m, m->cli, &m->cin, seq)) < 0)
			goto out;
	}
	gh_buf_reset(&b);
	if ((r = gh_my_auth_more_build((const uint8_t *)"\x04", 1, &b)) < 0 ||
	    (r = send_msg(m, m->cli, *seq, b.p, b.len)) < 0 ||
	    (r = read_msg(m, m->cli, &m->cin, seq)) < 0)
		goto out;
	r = gh_my_clear_password_parse((const uint8_t *)m->msg.p, m->msg.len, ret);
	sodium_memzero(m->msg.p, m->msg.len);
out:
	gh_buf_free(&b);
	return r;
}

/* Greeting, TLS, handshake response: *RET filled, *SEQ the next id. */
static int client_hello(struct my *m, const uint8_t *scramble, struct gh_my_hsresp *ret,
			uint8_t *seq)
{
	struct gh_my_greeting g = { .version = (char *)GREETING_VERSION, .conn_id = (uint32_t)getpid(),
				    .scramble_len = GH_MY_SCRAMBLE_LEN, .charset = 45, .status = 2,
				    .caps = GH_MY_SERVER_CAPS |
					    (gh_db_tls_available(m->db) ? GH_MY_CLIENT_SSL : 0),
				    .plugin = (char *)GH_MY_PLUGIN_SHA2 };
	struct gh_buf b = { 0 };
	int r = 0;

	memcpy(g.scramble, scramble, GH_MY_SCRAMBLE_LEN);
	if ((r = gh_my_greeting_build(&g, &b)) < 0 || (r = send_msg(m, m->cli, 0, b.p, b.len)) < 0 ||
	    (r = read_first(m, seq)) < 0 ||
	    (r = gh_my_hsresp_parse((const uint8_t *)m->msg.p, m->msg.len, ret)) < 0)
		goto out;
	if (ret->ssl_request) {
		gh_my_hsresp_free(ret);
		if ((r = gh_db_io_tls_server(m->db)) < 0 || (r = read_msg(m, m->cli, &m->cin, seq)) < 0 ||
		    (r = gh_my_hsresp_parse((const uint8_t *)m->msg.p, m->msg.len, ret)) < 0)
			goto out;
		if (ret->ssl_request) {
			r = GH_EINVAL;
			goto out;
		}
	}
	m->caps = ret->caps & (GH_MY_SERVER_CAPS | GH_MY_CLIENT_SSL);
out:
	gh_buf_free(&b);
	return r;
}

/* ---- the login to the target ----------------------------------------------- */

static int target_login(struct my *m, const struct gh_my_hsresp *h, struct gh_db_login *login,
			uint8_t *cseq, char *version, size_t vlen)
{
	struct gh_my_login_opts o = { .user = login->account, .password = login->secret,
				      /* the client's, as gh_db_login checked it */
				      .database = login->database && login->database[0] ? login->database
					      : (h->database && h->database[0] ? h->database : NULL),
				      .attrs_raw = h->attrs_raw, .attrs_raw_len = h->attrs_raw_len,
				      .client_caps = m->caps & ~GH_MY_CLIENT_SSL, .charset = h->charset,
				      .tls = login->tls_wanted, .allow_key_request = true };
	struct gh_my_login l;
	struct gh_buf b = { 0 };
	char why[GH_DB_ERRLEN] = "";
	uint8_t seq = 0;
	int state = 0, r = 0;

	gh_my_login_init(&l, &o);
	if ((r = read_msg(m, m->tgt, &m->tin, &seq)) < 0)
		goto out;
	for (;;) {
		gh_buf_reset(&b);
		r = gh_my_login_step(&l, (const uint8_t *)m->msg.p, m->msg.len, &b, &state);
		if (r < 0)
			goto out;
		if (l.have_greeting && !version[0])
			snprintf(version, vlen, "%s", l.g.version);
		if (state == GH_MY_LOGIN_DONE)
			break;
		if (state == GH_MY_LOGIN_TLS) {
			if ((r = send_msg(m, m->tgt, seq, b.p, b.len)) < 0 ||
			    (r = gh_db_io_tls_client(m->db, why, sizeof why)) < 0)
				goto out;
			seq++;
			gh_buf_reset(&b);
			if ((r = gh_my_login_step(&l, NULL, 0, &b, &state)) < 0)
				goto out;
		}
		if (state != GH_MY_LOGIN_READ && (r = send_msg(m, m->tgt, seq, b.p, b.len)) < 0)
			goto out;
		if ((r = read_msg(m, m->tgt, &m->tin, &seq)) < 0)
			goto out;
	}
	/* the target's OK goes to the client, in the client's sequence */
	r = send_msg(m, m->cli, *cseq, m->msg.p, m->msg.len);
out:
	if (r < 0) {
		char msg[GH_DB_ERRLEN + 64];
		snprintf(msg, sizeof msg, "the target refused the login%s%s",
			 l.err_msg[0] ? ": " : (why[0] ? ": " : ""), l.err_msg[0] ? l.err_msg : why);
		gh_db_end_reason(m->db, r == GH_EAUTH ? "target login refused" : "target login failed");
		send_err(m, *cseq, 1045, "28000", msg);
	}
	if (b.p)
		sodium_memzero(b.p, b.len);
	gh_buf_free(&b);
	gh_my_login_free(&l);
	return r;
}

static int login(struct my *m, char *version, size_t vlen)
{
	uint8_t scramble[GH_MY_SCRAMBLE_LEN], seq = 0;
	struct gh_my_hsresp h = { 0 };
	struct gh_db_login lg = { 0 };
	char *pw = NULL;
	int r = 0;

	gh_my_scramble_new(scramble);
	if ((r = client_hello(m, scramble, &h, &seq)) < 0)
		goto out;
	if (!gh_db_io_is_tls(m->cli)) {
		send_err(m, seq, 1045, "28000", "Gatehouse accepts passwords only over TLS: connect with --ssl");
		r = GH_EPERM;
		gh_db_end_reason(m->db, "client without TLS");
		goto out;
	}
	if ((r = client_password(m, &h, scramble, &seq, &pw)) < 0)
		goto out;
	r = gh_db_login(m->db, h.user, pw, h.database, &lg);
	pw = gh_my_secret_free(pw);
	if (r < 0) {
		bool down = r == GH_ECONN || r == GH_ETIMEDOUT;
		send_err(m, seq, down ? 1105 : 1045, down ? "HY000" : "28000",
			 lg.err[0] ? lg.err : "access denied");
		goto out;
	}
	m->tgt = gh_db_target(m->db);
	r = target_login(m, &h, &lg, &seq, version, vlen);
out:
	gh_db_login_secret_clear(&lg);
	pw = gh_my_secret_free(pw);
	gh_my_hsresp_free(&h);
	return r;
}

/* ---- relaying a response ----------------------------------------------------- */

/* Stream the target's answer to the command just sent, frame by frame, to
 * the client, tracking where it ends. */
static int relay_response(struct my *m, enum gh_my_resp_kind kind, struct gh_my_resp *t)
{
	uint8_t head[4 + GH_MY_HEAD];
	size_t have = 0, need = 4, left = 0, flen = 0;
	uint8_t seq = 0;
	int r = 0;

	gh_my_resp_init(t, kind, m->caps & GH_MY_CLIENT_DEPRECATE_EOF);
	while (!t->done) {
		if (m->tin.len == 0 && (r = gh_inbuf_fill(&m->tin, m->tgt, -1)) < 0)
			return r;
		const uint8_t *p = gh_inbuf_data(&m->tin);
		size_t n = m->tin.len, off = 0;
		gh_buf_reset(&m->out);
		while (off < n && !t->done) {
			if (left) { /* the body of a frame already judged */
				size_t k = n - off < left ? n - off : left;
				gh_buf_put(&m->out, p + off, k);
				off += k;
				left -= k;
				continue;
			}
			size_t k = n - off < need - have ? n - off : need - have;
			memcpy(head + have, p + off, k);
			have += k;
			off += k;
			if (have < need)
				continue;
			if (need == 4) {
				gh_my_frame_head(head, 4, &flen, &seq);
				need = 4 + (flen < GH_MY_HEAD ? flen : GH_MY_HEAD);
				if (have < need)
					continue;
			}
			if ((r = gh_my_resp_frame(t, head + 4, need - 4, flen)) < 0)
				return r;
			gh_buf_put(&m->out, head, have);
			left = flen - (need - 4);
			have = 0;
			need = 4;
		}
		if (m->out.err)
			return m->out.err;
		if (m->out.len && (r = gh_db_io_write(m->cli, m->out.p, m->out.len)) < 0)
			return r;
		gh_inbuf_consume(&m->tin, off);
	}
	return 0;
}

/* ---- commands ------------------------------------------------------------------ */

static void outcome(struct my *m, const struct gh_my_resp *t)
{
	struct gh_db_outcome o = { .rows = -1 };

	if (t->error) {
		o.error = t->err_msg[0] ? t->err_msg : "error";
	} else {
		o.rows = (int64_t)(t->rows ? t->rows : t->affected);
		o.tag = t->rows ? "rows" : "OK";
	}
	gh_db_outcome(m->db, &o);
}

/* Judge TEXT; on REJECT answer the client (seq SEQ). 1: go on, 0: rejected. */
static int judge(struct my *m, const char *text, size_t len, uint8_t seq)
{
	struct gh_db_judged j = { 0 };
	int r = gh_db_statement(m->db, text, len, NULL, &j);

	if (r < 0 && r != GH_ELIMIT)
		return r;
	if (r == GH_ELIMIT || j.verdict == GH_DB_REJECT) {
		r = send_err(m, seq, 1227, "42000", j.message[0] ? j.message : "rejected by Gatehouse: statement too long");
		return r < 0 ? r : 0;
	}
	return 1;
}

/* A database change (COM_INIT_DB, USE): 1 allowed, 0 refused (answered). */
static int database_change(struct my *m, const char *name, uint8_t seq)
{
	char err[GH_DB_ERRLEN] = "";
	int r = gh_db_database(m->db, name, err, sizeof err);

	if (r == 0)
		return 1;
	if (r != GH_EPERM)
		return r;
	r = send_err(m, seq, 1044, "42000", err[0] ? err : "access to this database is not permitted");
	return r < 0 ? r : 0;
}

/* Check the USE statements inside a query text: 1 when all are allowed. */
static int query_uses(struct my *m, const char *text, size_t len, uint8_t seq)
{
	char name[GH_MY_MAX_NAME + 1];
	size_t pos = 0;
	int r = 0;

	while ((r = gh_sql_next_use(text, len, &pos, name, sizeof name)) == 1) {
		if ((r = database_change(m, name, seq)) != 1)
			return r;
	}
	if (r < 0) {
		r = send_err(m, seq, 1049, "42000", "a USE statement names no readable database");
		return r < 0 ? r : 0;
	}
	return 1;
}

static bool command_allowed(uint8_t cmd)
{
	switch (cmd) {
	case GH_MY_COM_QUIT: case GH_MY_COM_INIT_DB: case GH_MY_COM_QUERY:
	case GH_MY_COM_FIELD_LIST: case GH_MY_COM_STATISTICS: case GH_MY_COM_PING:
	case GH_MY_COM_STMT_PREPARE: case GH_MY_COM_STMT_EXECUTE:
	case GH_MY_COM_STMT_SEND_LONG_DATA: case GH_MY_COM_STMT_CLOSE:
	case GH_MY_COM_STMT_RESET: case GH_MY_COM_SET_OPTION: case GH_MY_COM_STMT_FETCH:
	case GH_MY_COM_RESET_CONNECTION:
	case 0x0c: /* COM_PROCESS_KILL */
		return true;
	default:
		return false; /* CHANGE_USER, binlog and replication commands, ... */
	}
}

/* Judge one command (audit, filter, database): 1 forward, 0 answered here. */
static int admit(struct my *m, const struct gh_my_command *c, uint8_t seq, const char **ret_text)
{
	char buf[GH_MY_MAX_NAME + 8];
	const char *text = (const char *)c->text;
	size_t len = c->text_len;
	int r = 0;

	*ret_text = NULL;
	if (!command_allowed(c->cmd)) {
		r = send_err(m, seq, 1047, "08S01", "this command is not supported through Gatehouse");
		return r < 0 ? r : 0;
	}
	switch (c->cmd) {
	case GH_MY_COM_INIT_DB:
		if (len > GH_MY_MAX_NAME || memchr(text, 0, len))
			return send_err(m, seq, 1049, "42000", "bad database name") < 0 ? GH_EIO : 0;
		snprintf(buf, sizeof buf, "USE %.*s", (int)len, text);
		if ((r = judge(m, buf, strlen(buf), seq)) != 1)
			return r;
		return database_change(m, buf + 4, seq);
	case GH_MY_COM_QUERY:
		if ((r = judge(m, text, len, seq)) != 1)
			return r;
		return query_uses(m, text, len, seq);
	case GH_MY_COM_STMT_PREPARE:
		*ret_text = text;
		return judge(m, text, len, seq);
	case GH_MY_COM_STMT_EXECUTE:
		if (!(text = gh_my_stmts_get(m->stmts, c->stmt_id))) {
			r = send_err(m, seq, 1243, "HY000", "unknown prepared statement");
			return r < 0 ? r : 0;
		}
		return judge(m, text, strlen(text), seq);
	default:
		return 1;
	}
}

static int one_command(struct my *m)
{
	struct gh_my_command c;
	struct gh_my_resp t;
	const char *prep = NULL;
	size_t prep_len = 0;
	uint8_t seq = 0;
	int r = 0;

	if ((r = read_msg(m, m->cli, &m->cin, &seq)) < 0) {
		if (r == GH_ELIMIT) {
			gh_db_end_reason(m->db, "statement too long");
			send_err(m, 1, 1153, "08S01", "statement longer than Gatehouse's db_max_statement");
		}
		return r;
	}
	if ((r = gh_my_command_parse((const uint8_t *)m->msg.p, m->msg.len, &c)) < 0)
		return r;
	if ((r = admit(m, &c, seq, &prep)) != 1)
		return r < 0 ? r : 1; /* answered here: the session goes on */
	prep_len = c.text_len;
	/* forward the command as it came (one message, its own frames) */
	gh_buf_reset(&m->out);
	if ((r = gh_my_put_msg(&m->out, 0, m->msg.p, m->msg.len, NULL)) < 0 ||
	    (r = gh_db_io_write(m->tgt, m->out.p, m->out.len)) < 0)
		return r;
	if (c.cmd == GH_MY_COM_QUIT)
		return GH_ECONN;
	if (c.cmd == GH_MY_COM_STMT_CLOSE)
		gh_my_stmts_drop(m->stmts, c.stmt_id);
	enum gh_my_resp_kind kind = gh_my_resp_kind_of(c.cmd);
	if (kind == GH_MY_RESP_NONE)
		return 1;
	/* copy the prepared text before the response reuses buffers */
	char *keep = NULL;
	if (prep && !(keep = strndup(prep, prep_len)))
		return GH_ENOMEM;
	r = relay_response(m, kind, &t);
	if (r == 0 && keep && !t.error)
		r = gh_my_stmts_put(m->stmts, t.stmt_id, (const uint8_t *)keep, prep_len);
	free(keep);
	if (r < 0)
		return r;
	if (c.cmd == GH_MY_COM_RESET_CONNECTION) {
		gh_my_stmts_free(m->stmts);
		m->stmts = NULL;
		if ((r = gh_my_stmts_new(MAX_STMTS, &m->stmts)) < 0)
			return r;
	}
	if (c.cmd == GH_MY_COM_QUERY || c.cmd == GH_MY_COM_STMT_EXECUTE ||
	    c.cmd == GH_MY_COM_STMT_PREPARE || c.cmd == GH_MY_COM_INIT_DB)
		outcome(m, &t);
	return 1;
}

static int mysql_serve(struct gh_db *db)
{
	size_t max_msg = gh_db_max_statement(db) + 1024;
	struct my m = { .db = db, .cli = gh_db_client(db), .max_msg = max_msg,
			.cin = { .max = max_msg + 4096 }, .tin = { .max = (64u << 20) + 4096 } };
	char version[128] = "";
	int r = 0;

	if ((r = gh_my_stmts_new(MAX_STMTS, &m.stmts)) < 0)
		goto out;
	if ((r = login(&m, version, sizeof version)) < 0)
		goto out;
	gh_db_running(db, version[0] ? version : NULL);
	while ((r = one_command(&m)) == 1)
		;
	if (r == GH_ECONN)
		r = 0; /* the client or the target closed */
out:
	gh_inbuf_free(&m.cin);
	gh_inbuf_free(&m.tin);
	gh_buf_free(&m.out);
	if (m.msg.p)
		sodium_memzero(m.msg.p, m.msg.len);
	gh_buf_free(&m.msg);
	m.stmts = gh_my_stmts_free(m.stmts);
	return r;
}

const struct gh_db_door gh_db_door_mysql = {
	.id = GH_DB_DOOR_MYSQL,
	.name = "mysql",
	.protocol = GH_PROTO_MYSQL,
	.filter_kind = "sql",
	.default_port = 3306,
	.serve = mysql_serve,
};
