/* The PostgreSQL door: the client's startup over TLS, its cleartext
 * password, the login to the real server with the stored secret (SCRAM-
 * SHA-256, md5 or cleartext), then the relay (pgrelay.c). See door.h. */
#include "db/pg.h"
#include "db/door.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/model.h"

#include <openssl/rand.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_MSG_MAX 65536u   /* a server message during the login */
#define PASSWORD_MAX 1024u

int gh_pg_send(struct gh_db_io *io, struct gh_buf *b)
{
	int r = b->err ? b->err : gh_db_io_write(io, b->p, b->len);
	gh_buf_reset(b);
	return r;
}

/* An error to the client (FATAL ends the connection). */
static int tell(struct pg *p, const char *sev, const char *code, const char *msg)
{
	struct gh_buf b = GH_BUF_MAX(8192);
	gh_pg_put_error(&b, sev, code, msg);
	int r = gh_pg_send(p->cli, &b);
	gh_buf_free(&b);
	return r;
}

/* One typed message from IO: *RET_TYPE and its body in B (reset). */
static int read_msg(struct gh_db_io *io, char *ret_type, struct gh_buf *b, uint32_t max)
{
	uint8_t h[5];
	int r = gh_db_io_read_full(io, h, 5, -1);
	if (r < 0)
		return r;
	uint32_t len = gh_pg_be32(h + 1);
	if (len < 4 || len - 4 > max)
		return GH_EINVAL;
	gh_buf_reset(b);
	r = gh_buf_put(b, NULL, 0);
	while (r == 0 && b->len < len - 4) {
		uint8_t chunk[4096];
		size_t want = len - 4 - b->len < sizeof chunk ? len - 4 - b->len : sizeof chunk;
		r = gh_db_io_read_full(io, chunk, want, -1);
		if (r == 0)
			r = gh_buf_put(b, chunk, want);
	}
	*ret_type = (char)h[0];
	return r;
}

/* The startup packet, after an SSLRequest answered (TLS when we can). */
static int read_startup(struct pg *p)
{
	for (int round = 0; round < 3; round++) {
		uint8_t h[4], body[GH_PG_STARTUP_MAX];
		int r = gh_db_io_read_full(p->cli, h, 4, -1);
		uint32_t len = r == 0 ? gh_pg_be32(h) : 0;
		if (r < 0)
			return r;
		if (len < 8 || len > GH_PG_STARTUP_MAX)
			return GH_EINVAL;
		if ((r = gh_db_io_read_full(p->cli, body, len - 4, -1)) < 0 ||
		    (r = gh_pg_startup_parse(body, len - 4, &p->su)) < 0)
			return r;
		if (p->su.code == GH_PG_PROTO_3)
			return 0;
		if (p->su.code == GH_PG_CANCEL_REQUEST)
			return GH_EPERM; /* keys are not mapped: the cancel is refused */
		bool tls = p->su.code == GH_PG_SSL_REQUEST && !gh_db_io_is_tls(p->cli) &&
			   gh_db_tls_available(p->db);
		if ((r = gh_db_io_write(p->cli, tls ? "S" : "N", 1)) < 0)
			return r;
		if (tls && (r = gh_db_io_tls_server(p->db)) < 0)
			return r;
	}
	return GH_EINVAL;
}

/* AuthenticationCleartextPassword, inside TLS only: the answer into PW
 * (sodium memory, caller frees). */
static int ask_password(struct pg *p, char **ret)
{
	struct gh_buf b = GH_BUF_MAX(PASSWORD_MAX + 16);
	char type = 0;
	const char *pw;
	size_t pl, off = 0;
	gh_pg_put_auth(&b, 3);
	int r = gh_pg_send(p->cli, &b);
	if (r == 0)
		r = read_msg(p->cli, &type, &b, PASSWORD_MAX);
	if (r == 0 && (type != 'p' || gh_pg_cstr((const uint8_t *)b.p, b.len, &off, &pw, &pl) < 0))
		r = GH_EINVAL;
	if (r == 0) {
		*ret = sodium_malloc(pl + 1);
		if (!*ret)
			r = GH_ENOMEM;
		else
			memcpy(*ret, pw, pl + 1);
	}
	if (b.p)
		sodium_memzero(b.p, b.cap);
	gh_buf_free(&b);
	return r;
}

/* SASL with SCRAM-SHA-256, from the mechanisms list in B. */
static int scram(struct pg *p, const char *secret, struct gh_buf *b)
{
	struct gh_pg_scram s;
	struct gh_buf m = GH_BUF_MAX(4096), out = GH_BUF_MAX(8192);
	char type = 0;
	uint8_t l[4];
	int r = gh_pg_sasl_has_scram((const uint8_t *)b->p, b->len) ? 0 : GH_EAUTH;
	if (r == 0)
		r = gh_pg_scram_first(&s, &m);
	if (r == 0) {
		uint32_t n = (uint32_t)m.len;
		l[0] = (uint8_t)(n >> 24), l[1] = (uint8_t)(n >> 16), l[2] = (uint8_t)(n >> 8),
		l[3] = (uint8_t)n;
		struct gh_buf body = GH_BUF_MAX(8192);
		gh_buf_put(&body, "SCRAM-SHA-256", 14);
		gh_buf_put(&body, l, 4);
		gh_buf_put(&body, m.p, m.len);
		gh_pg_put_msg(&out, 'p', body.p, body.len);
		gh_buf_free(&body);
		r = gh_pg_send(p->srv, &out);
	}
	if (r == 0)
		r = read_msg(p->srv, &type, b, AUTH_MSG_MAX);
	if (r == 0 && (type != 'R' || b->len < 4 || gh_pg_be32((const uint8_t *)b->p) != 11))
		r = type == 'E' ? GH_EAUTH : GH_EINVAL;
	gh_buf_reset(&m);
	if (r == 0)
		r = gh_pg_scram_final(&s, secret, (const uint8_t *)b->p + 4, b->len - 4, &m);
	if (r == 0) {
		gh_pg_put_msg(&out, 'p', m.p, m.len);
		r = gh_pg_send(p->srv, &out);
	}
	if (r == 0)
		r = read_msg(p->srv, &type, b, AUTH_MSG_MAX);
	if (r == 0 && (type != 'R' || b->len < 4 || gh_pg_be32((const uint8_t *)b->p) != 12 ||
		       gh_pg_scram_verify(&s, (const uint8_t *)b->p + 4, b->len - 4) < 0))
		r = GH_EAUTH;
	if (r == 0)
		r = read_msg(p->srv, &type, b, AUTH_MSG_MAX);
	if (r == 0 && (type != 'R' || b->len < 4 || gh_pg_be32((const uint8_t *)b->p) != 0))
		r = GH_EAUTH;
	gh_buf_free(&m);
	gh_buf_free(&out);
	sodium_memzero(&s, sizeof s);
	return r;
}

/* One authentication request of the server (code in B) answered. 1 when
 * the server said AuthenticationOk. */
static int answer_auth(struct pg *p, const struct gh_db_login *lg, struct gh_buf *b)
{
	struct gh_buf out = GH_BUF_MAX(4096);
	uint32_t code = b->len >= 4 ? gh_pg_be32((const uint8_t *)b->p) : 99;
	char md5[36];
	int r = 0;
	if (code == 0)
		return 1;
	if (code == 3) {
		gh_pg_put_msg(&out, 'p', lg->secret, lg->secret_len + 1);
	} else if (code == 5 && b->len == 8) {
		r = gh_pg_md5_password(lg->account, lg->secret, (const uint8_t *)b->p + 4, md5);
		if (r == 0)
			gh_pg_put_msg(&out, 'p', md5, sizeof md5);
		sodium_memzero(md5, sizeof md5);
	} else if (code == 10) {
		gh_buf_free(&out);
		struct gh_buf tail = GH_BUF_MAX(AUTH_MSG_MAX);
		gh_buf_put(&tail, b->p + 4, b->len - 4);
		r = tail.err ? tail.err : scram(p, lg->secret, &tail);
		gh_buf_free(&tail);
		return r < 0 ? r : 1;
	} else {
		r = GH_EAUTH; /* Kerberos, GSS, SSPI: not for stored passwords */
	}
	if (r == 0)
		r = gh_pg_send(p->srv, &out);
	if (out.p)
		sodium_memzero(out.p, out.cap);
	gh_buf_free(&out);
	return r;
}

/* The server's side of the login up to AuthenticationOk. ERR gets the
 * server's reason when it refused. */
static int server_login(struct pg *p, const struct gh_db_login *lg, char *err, size_t errlen)
{
	struct gh_buf b = GH_BUF_MAX(AUTH_MSG_MAX);
	char type = 0;
	int r = 0;
	if (lg->tls_wanted) {
		char yes = 0;
		const uint8_t req[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
		r = gh_db_io_write(p->srv, req, sizeof req);
		if (r == 0)
			r = gh_db_io_read_full(p->srv, &yes, 1, -1);
		if (r == 0 && yes != 'S')
			r = GH_ECRYPTO;
		if (r == 0)
			r = gh_db_io_tls_client(p->db, err, errlen);
	}
	if (r == 0) {
		gh_pg_put_startup(&b, lg->account, p->su.database, p->su.params, p->su.params_len);
		r = gh_pg_send(p->srv, &b);
	}
	while (r == 0) {
		r = read_msg(p->srv, &type, &b, AUTH_MSG_MAX);
		if (r == 0 && type == 'E') {
			const char *sev, *code, *msg;
			if (gh_pg_error_fields((const uint8_t *)b.p, b.len, &sev, &code, &msg) == 0)
				snprintf(err, errlen, "%s", msg);
			r = GH_EAUTH;
		} else if (r == 0 && type == 'R') {
			r = answer_auth(p, lg, &b);
			if (r == 1)
				break;
		} else if (r == 0 && type != 'N') {
			r = GH_EINVAL;
		}
	}
	gh_buf_free(&b);
	return r < 0 ? r : 0;
}

/* After AuthenticationOk: the server's parameters, its key (replaced: a
 * cancel does not pass) and ReadyForQuery, to the client after our own
 * AuthenticationOk. *VERSION gets server_version. */
static int server_ready(struct pg *p, char *version, size_t vlen)
{
	struct gh_buf b = GH_BUF_MAX(AUTH_MSG_MAX), out = GH_BUF_MAX(4 * AUTH_MSG_MAX);
	char type = 0;
	int r = 0;
	gh_pg_put_auth(&out, 0);
	while (r == 0 && type != 'Z') {
		r = read_msg(p->srv, &type, &b, AUTH_MSG_MAX);
		if (r < 0)
			break;
		if (type == 'K') {
			uint8_t key[8];
			RAND_bytes(key, sizeof key);
			gh_pg_put_msg(&out, 'K', key, sizeof key);
			continue;
		}
		const char *name, *value;
		if (type == 'S' && gh_pg_param_status((const uint8_t *)b.p, b.len, &name, &value) == 0 &&
		    !strcmp(name, "server_version"))
			snprintf(version, vlen, "%s", value);
		if (type == 'Z' && b.len == 1)
			p->txstatus = b.p[0];
		if (type == 'E')
			r = GH_EAUTH;
		gh_pg_put_msg(&out, type, b.p, b.len);
	}
	if (r == 0 || r == GH_EAUTH) {
		int w = gh_pg_send(p->cli, &out);
		r = r ? r : w;
	}
	gh_buf_free(&b);
	gh_buf_free(&out);
	return r;
}

static const char *login_sqlstate(int r)
{
	switch (r) {
	case GH_EAUTH:
		return "28P01";
	case GH_EPERM:
	case GH_ELIMIT:
		return "28000";
	case GH_ECONN:
	case GH_ETIMEDOUT:
		return "08001";
	default:
		return "08006";
	}
}

/* The client's login through to the server's ReadyForQuery. */
static int pg_login(struct pg *p)
{
	struct gh_db_login lg;
	char *pw = NULL, err[GH_DB_ERRLEN] = "", version[128] = "";
	int r = ask_password(p, &pw);
	if (r < 0)
		return r;
	r = gh_db_login(p->db, p->su.user, pw, p->su.database, &lg);
	sodium_free(pw);
	if (r < 0) {
		tell(p, "FATAL", login_sqlstate(r), lg.err);
		return r;
	}
	p->srv = gh_db_target(p->db);
	r = server_login(p, &lg, err, sizeof err);
	gh_db_login_secret_clear(&lg);
	if (r == 0)
		r = server_ready(p, version, sizeof version);
	if (r < 0) {
		char msg[GH_DB_ERRLEN + 64];
		snprintf(msg, sizeof msg, "Gatehouse could not log in to the database%s%s",
			 err[0] ? ": " : "", err);
		gh_db_end_reason(p->db, err[0] ? err : "database login failed");
		gh_warn("%s: database login failed: %s", lg.asset ? lg.asset : "?",
			err[0] ? err : gh_strerror(r));
		if (r != GH_EAUTH || !err[0])
			tell(p, "FATAL", "08006", msg);
		else
			tell(p, "FATAL", "28000", msg);
		return r;
	}
	gh_db_running(p->db, version[0] ? version : NULL);
	return 0;
}

static int pg_serve(struct gh_db *db)
{
	struct pg *p = calloc(1, sizeof *p);
	int r = GH_ENOMEM;
	if (!p)
		return r;
	p->db = db;
	p->cli = gh_db_client(db);
	p->txstatus = 'I';
	r = read_startup(p);
	if (r == GH_EPERM) {
		gh_db_end_reason(db, "cancel request refused");
	} else if (r < 0) {
		gh_debug("startup: %s", gh_strerror(r));
	} else if (!gh_db_io_is_tls(p->cli)) {
		tell(p, "FATAL", "28000", "Gatehouse accepts passwords only over TLS: connect with sslmode=require");
		r = GH_EPERM;
	} else if (p->su.replication) {
		tell(p, "FATAL", "28000", "replication connections do not pass Gatehouse");
		r = GH_EPERM;
	} else if ((r = pg_login(p)) == 0) {
		r = gh_pg_relay(p);
	}
	gh_buf_free(&p->cmsg);
	gh_buf_free(&p->smsg);
	gh_buf_free(&p->pending);
	gh_buf_free(&p->out_srv);
	gh_buf_free(&p->out_cli);
	free(p);
	return r;
}

const struct gh_db_door gh_db_door_postgresql = {
	.id = GH_DB_DOOR_POSTGRESQL,
	.name = "postgresql",
	.protocol = GH_PROTO_POSTGRESQL,
	.filter_kind = "sql",
	.default_port = 5432,
	.serve = pg_serve,
};
