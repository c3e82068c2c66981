/* The SFTP-aware relay core (src/sftp/sftp.c): real SFTP v3 packets built
 * byte by byte, fed in both directions, outputs checked byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "sftp/sftp.h"
#include "store/store.h"

/* ---- packet builder ------------------------------------------------------ */

struct pkt {
	uint8_t *b;
	size_t n, cap, start;
};

static void p_raw(struct pkt *p, const void *x, size_t n)
{
	if (p->n + n > p->cap) {
		p->cap = (p->n + n) * 2 + 64;
		p->b = realloc(p->b, p->cap);
		assert_non_null(p->b);
	}
	if (n)
		memcpy(p->b + p->n, x, n);
	p->n += n;
}

static void p_u8(struct pkt *p, uint8_t v)
{
	p_raw(p, &v, 1);
}

static void p_u32(struct pkt *p, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	p_raw(p, b, 4);
}

static void p_u64(struct pkt *p, uint64_t v)
{
	p_u32(p, (uint32_t)(v >> 32));
	p_u32(p, (uint32_t)v);
}

static void p_strn(struct pkt *p, const void *s, size_t n)
{
	p_u32(p, (uint32_t)n);
	p_raw(p, s, n);
}

static void p_str(struct pkt *p, const char *s)
{
	p_strn(p, s, strlen(s));
}

/* Start a packet: length placeholder, type, and ID unless INIT/VERSION. */
static void p_begin(struct pkt *p, uint8_t type, uint32_t id)
{
	p->start = p->n;
	p_u32(p, 0);
	p_u8(p, type);
	if (type != GH_FXP_INIT && type != GH_FXP_VERSION)
		p_u32(p, id);
}

static void p_end(struct pkt *p)
{
	uint32_t len = (uint32_t)(p->n - p->start - 4);
	uint8_t *b = p->b + p->start;
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
}

static void p_free(struct pkt *p)
{
	free(p->b);
	memset(p, 0, sizeof *p);
}

/* The unconsumed bytes of a non-empty buffer. */
static const uint8_t *bdata(const struct gh_sftp_buf *b)
{
	assert_true(b->len > 0 && b->data);
	return b->data + b->off;
}

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- fixture ------------------------------------------------------------- */

#define MAX_EV 64

struct ev {
	int op;
	char ext[64];
	uint32_t action;
	char path[256];
	char path2[256];
	uint32_t pflags;
	bool denied;
	int status;
	uint64_t rd, wr;
};

struct fx {
	struct gh_sftp *s;
	struct gh_sftp_buf tt, tc; /* to target, to client */
	uint32_t allow;            /* GH_ACT_* granted */
	int asked;                 /* authorize calls */
	struct gh_sftp_op last;    /* last authorize call (strings not kept) */
	uint32_t last_action;
	char last_path[256], last_path2[256];
	struct ev ev[MAX_EV];
	int nev;
};

static int authorize(void *ud, const struct gh_sftp_op *op)
{
	struct fx *f = ud;
	f->asked++;
	f->last = *op;
	snprintf(f->last_path, sizeof f->last_path, "%s", op->path ? op->path : "(null)");
	snprintf(f->last_path2, sizeof f->last_path2, "%s", op->path2 ? op->path2 : "(null)");
	return (op->action & ~f->allow) ? GH_EPERM : 0;
}

static void on_event(void *ud, const struct gh_sftp_event *e)
{
	struct fx *f = ud;
	assert_true(f->nev < MAX_EV);
	struct ev *x = &f->ev[f->nev++];
	x->op = e->op.op;
	snprintf(x->ext, sizeof x->ext, "%s", e->op.ext ? e->op.ext : "");
	x->action = e->op.action;
	snprintf(x->path, sizeof x->path, "%s", e->op.path ? e->op.path : "(null)");
	snprintf(x->path2, sizeof x->path2, "%s", e->op.path2 ? e->op.path2 : "(null)");
	x->pflags = e->op.pflags;
	x->denied = e->denied;
	x->status = e->status;
	x->rd = e->bytes_read;
	x->wr = e->bytes_written;
}

static struct fx *fx_new(uint32_t allow, const struct gh_sftp_limits *lim)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	struct gh_sftp_hooks h = { .authorize = authorize, .event = on_event, .ud = f };
	f->allow = allow;
	assert_int_equal(gh_sftp_new(&h, lim, &f->s), 0);
	gh_sftp_buf_init(&f->tt, 0);
	gh_sftp_buf_init(&f->tc, 0);
	return f;
}

static void fx_free(struct fx *f)
{
	f->s = gh_sftp_free(f->s);
	assert_null(f->s);
	gh_sftp_buf_release(&f->tt);
	gh_sftp_buf_release(&f->tc);
	free(f);
}

static void fx_clear(struct fx *f)
{
	gh_sftp_buf_consume(&f->tt, f->tt.len);
	gh_sftp_buf_consume(&f->tc, f->tc.len);
}

static int cli(struct fx *f, const struct pkt *p)
{
	return gh_sftp_from_client(f->s, p->b, p->n, &f->tt, &f->tc);
}

static int tgt(struct fx *f, const struct pkt *p)
{
	return gh_sftp_from_target(f->s, p->b, p->n, &f->tc);
}

/* OUT holds exactly the bytes of P. */
static void assert_buf_is(const struct gh_sftp_buf *b, const struct pkt *p)
{
	assert_int_equal(gh_sftp_buf_len(b), p->n);
	if (p->n)
		assert_memory_equal(bdata(b), p->b, p->n);
}

/* OUT starts with one STATUS for ID with CODE; consumes it. */
static void take_status(struct gh_sftp_buf *b, uint32_t id, uint32_t code)
{
	const uint8_t *d = bdata(b);
	assert_true(gh_sftp_buf_len(b) >= 17);
	uint32_t len = rd32(d);
	assert_true(len + 4 <= gh_sftp_buf_len(b));
	assert_int_equal(d[4], GH_FXP_STATUS);
	assert_int_equal(rd32(d + 5), id);
	assert_int_equal(rd32(d + 9), code);
	/* message and language strings fill the packet exactly */
	uint32_t mlen = rd32(d + 13);
	assert_int_equal(len, 1 + 4 + 4 + 4 + mlen + 4);
	gh_sftp_buf_consume(b, len + 4);
}

static void handshake(struct fx *f)
{
	struct pkt p = { 0 };
	p_begin(&p, GH_FXP_INIT, 0);
	p_u32(&p, 3);
	p_end(&p);
	assert_int_equal(cli(f, &p), 0);
	assert_buf_is(&f->tt, &p);
	p_free(&p);
	p_begin(&p, GH_FXP_VERSION, 0);
	p_u32(&p, 3);
	p_str(&p, "posix-rename@openssh.com");
	p_str(&p, "1");
	p_str(&p, "limits@openssh.com");
	p_str(&p, "1");
	p_end(&p);
	assert_int_equal(tgt(f, &p), 0);
	assert_buf_is(&f->tc, &p);
	assert_int_equal(gh_sftp_version(f->s), 3);
	p_free(&p);
	fx_clear(f);
}

static void b_open(struct pkt *p, uint32_t id, const char *path, uint32_t pflags)
{
	p_begin(p, GH_FXP_OPEN, id);
	p_str(p, path);
	p_u32(p, pflags);
	p_u32(p, 0); /* attrs: no fields */
	p_end(p);
}

static void b_status(struct pkt *p, uint32_t id, uint32_t code)
{
	p_begin(p, GH_FXP_STATUS, id);
	p_u32(p, code);
	p_str(p, code ? "Failure" : "Success");
	p_str(p, "");
	p_end(p);
}

static void b_handle(struct pkt *p, uint32_t id, const char *h)
{
	p_begin(p, GH_FXP_HANDLE, id);
	p_str(p, h);
	p_end(p);
}

static void b_path1(struct pkt *p, uint8_t type, uint32_t id, const char *path)
{
	p_begin(p, type, id);
	p_str(p, path);
	if (type == GH_FXP_MKDIR || type == GH_FXP_SETSTAT)
		p_u32(p, 0);
	p_end(p);
}

static void b_read(struct pkt *p, uint32_t id, const char *h, uint64_t off, uint32_t len)
{
	p_begin(p, GH_FXP_READ, id);
	p_str(p, h);
	p_u64(p, off);
	p_u32(p, len);
	p_end(p);
}

static void b_write(struct pkt *p, uint32_t id, const char *h, uint64_t off, size_t len,
		    uint8_t fill)
{
	p_begin(p, GH_FXP_WRITE, id);
	p_str(p, h);
	p_u64(p, off);
	p_u32(p, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		p_u8(p, (uint8_t)(fill + i));
	p_end(p);
}

static void b_data(struct pkt *p, uint32_t id, size_t len)
{
	p_begin(p, GH_FXP_DATA, id);
	p_u32(p, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		p_u8(p, (uint8_t)i);
	p_end(p);
}

static void b_close(struct pkt *p, uint32_t id, const char *h)
{
	p_begin(p, GH_FXP_CLOSE, id);
	p_str(p, h);
	p_end(p);
}

/* The client sends P, which must reach the target unchanged. */
static void pass_c(struct fx *f, const struct pkt *p)
{
	assert_int_equal(cli(f, p), 0);
	assert_buf_is(&f->tt, p);
	assert_int_equal(gh_sftp_buf_len(&f->tc), 0);
	fx_clear(f);
}

/* The target sends P, which must reach the client unchanged. */
static void pass_t(struct fx *f, const struct pkt *p)
{
	assert_int_equal(tgt(f, p), 0);
	assert_buf_is(&f->tc, p);
	fx_clear(f);
}

/* The client sends P; Gatehouse answers ID with CODE; the target gets nothing. */
static void refused(struct fx *f, const struct pkt *p, uint32_t id, uint32_t code)
{
	assert_int_equal(cli(f, p), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tt), 0);
	take_status(&f->tc, id, code);
	assert_int_equal(gh_sftp_buf_len(&f->tc), 0);
}

/* Open PATH with PFLAGS as request ID; the target answers handle H. */
static void open_ok(struct fx *f, uint32_t id, const char *path, uint32_t pflags, const char *h)
{
	struct pkt p = { 0 };
	b_open(&p, id, path, pflags);
	pass_c(f, &p);
	p_free(&p);
	b_handle(&p, id, h);
	pass_t(f, &p);
	p_free(&p);
}

static void ok_reply(struct fx *f, uint32_t id)
{
	struct pkt p = { 0 };
	b_status(&p, id, GH_FX_OK);
	pass_t(f, &p);
	p_free(&p);
}

/* ---- tests ----------------------------------------------------------- */

static void test_init_version(void **state)
{
	struct fx *f = fx_new(GH_ACT_ALL, NULL);
	assert_int_equal(gh_sftp_version(f->s), 0);
	handshake(f);
	assert_string_equal(gh_sftp_error(f->s), "");
	fx_free(f);

	/* a newer client is fine: the target answers 3 */
	f = fx_new(GH_ACT_ALL, NULL);
	struct pkt p = { 0 };
	p_begin(&p, GH_FXP_INIT, 0);
	p_u32(&p, 6);
	p_end(&p);
	pass_c(f, &p);
	p_free(&p);
	/* a target speaking anything but 3 is refused cleanly */
	p_begin(&p, GH_FXP_VERSION, 0);
	p_u32(&p, 6);
	p_end(&p);
	assert_int_equal(tgt(f, &p), GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), "target SFTP version is not 3");
	assert_int_equal(gh_sftp_buf_len(&f->tc), 0);
	/* the stream stays dead */
	assert_int_equal(tgt(f, &p), GH_EINVAL);
	assert_int_equal(cli(f, &p), GH_EINVAL);
	p_free(&p);
	fx_free(f);

	/* clients older than 3 */
	f = fx_new(GH_ACT_ALL, NULL);
	p_begin(&p, GH_FXP_INIT, 0);
	p_u32(&p, 2);
	p_end(&p);
	assert_int_equal(cli(f, &p), GH_EINVAL);
	assert_int_equal(gh_sftp_buf_len(&f->tt), 0);
	p_free(&p);
	fx_free(f);

	/* requests before INIT, replies before VERSION, a second INIT */
	f = fx_new(GH_ACT_ALL, NULL);
	b_path1(&p, GH_FXP_STAT, 1, "/etc");
	assert_int_equal(cli(f, &p), GH_EINVAL);
	p_free(&p);
	fx_free(f);
	f = fx_new(GH_ACT_ALL, NULL);
	p_begin(&p, GH_FXP_INIT, 0);
	p_u32(&p, 3);
	p_end(&p);
	pass_c(f, &p);
	assert_int_equal(cli(f, &p), GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), "second INIT");
	p_free(&p);
	fx_free(f);
	f = fx_new(GH_ACT_ALL, NULL);
	p_begin(&p, GH_FXP_INIT, 0);
	p_u32(&p, 3);
	p_end(&p);
	pass_c(f, &p);
	p_free(&p);
	b_status(&p, 1, 0);
	assert_int_equal(tgt(f, &p), GH_EINVAL);
	p_free(&p);
	fx_free(f);
}

static void test_open_read(void **state)
{
	struct pkt p = { 0 };
	/* allowed with download */
	struct fx *f = fx_new(GH_ACT_CONNECT | GH_ACT_DOWNLOAD, NULL);
	handshake(f);
	b_open(&p, 7, "/etc/hosts", GH_FXF_READ);
	pass_c(f, &p);
	assert_int_equal(f->asked, 1);
	assert_int_equal(f->last.op, GH_FXP_OPEN);
	assert_int_equal(f->last.action, GH_ACT_DOWNLOAD);
	assert_string_equal(f->last_path, "/etc/hosts");
	assert_int_equal(f->last.pflags, GH_FXF_READ);
	assert_int_equal(f->nev, 0);
	p_free(&p);
	fx_free(f);

	/* refused without: STATUS 3 with the same id, nothing to the target */
	f = fx_new(GH_ACT_CONNECT | GH_ACT_UPLOAD, NULL);
	handshake(f);
	b_open(&p, 0xdeadbeef, "secret.txt", GH_FXF_READ);
	refused(f, &p, 0xdeadbeef, GH_FX_PERMISSION_DENIED);
	assert_int_equal(f->nev, 1);
	assert_true(f->ev[0].denied);
	assert_int_equal(f->ev[0].op, GH_FXP_OPEN);
	assert_int_equal(f->ev[0].status, GH_FX_PERMISSION_DENIED);
	assert_int_equal(f->ev[0].action, GH_ACT_DOWNLOAD);
	assert_string_equal(f->ev[0].path, "secret.txt");
	/* the id was never outstanding: a target reply to it is malformed */
	p_free(&p);
	b_status(&p, 0xdeadbeef, 0);
	assert_int_equal(tgt(f, &p), GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), "reply to no outstanding request");
	struct gh_sftp_stats st;
	gh_sftp_get_stats(f->s, &st);
	assert_int_equal(st.denied, 1);
	assert_int_equal(st.requests, 0);
	p_free(&p);
	fx_free(f);
}

static void test_open_write(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_DOWNLOAD, NULL);
	handshake(f);
	/* put: write, create, truncate */
	b_open(&p, 1, "/tmp/up", GH_FXF_WRITE | GH_FXF_CREAT | GH_FXF_TRUNC);
	refused(f, &p, 1, GH_FX_PERMISSION_DENIED);
	assert_int_equal(f->last.action, GH_ACT_UPLOAD);
	p_free(&p);
	/* append or create alone modify too */
	b_open(&p, 2, "/tmp/up", GH_FXF_WRITE | GH_FXF_APPEND);
	refused(f, &p, 2, GH_FX_PERMISSION_DENIED);
	p_free(&p);
	b_open(&p, 3, "/tmp/up", GH_FXF_READ | GH_FXF_CREAT);
	refused(f, &p, 3, GH_FX_PERMISSION_DENIED);
	assert_int_equal(f->last.action, GH_ACT_UPLOAD | GH_ACT_DOWNLOAD);
	p_free(&p);
	/* no flags opens read-only on OpenSSH: download */
	b_open(&p, 4, "/tmp/up", 0);
	pass_c(f, &p);
	assert_int_equal(f->last.action, GH_ACT_DOWNLOAD);
	p_free(&p);
	fx_free(f);

	f = fx_new(GH_ACT_UPLOAD, NULL);
	handshake(f);
	b_open(&p, 1, "/tmp/up", GH_FXF_WRITE | GH_FXF_CREAT | GH_FXF_TRUNC);
	pass_c(f, &p);
	assert_int_equal(f->last.action, GH_ACT_UPLOAD);
	p_free(&p);
	/* read-write needs both */
	b_open(&p, 2, "/tmp/up", GH_FXF_READ | GH_FXF_WRITE);
	refused(f, &p, 2, GH_FX_PERMISSION_DENIED);
	assert_int_equal(f->last.action, GH_ACT_UPLOAD | GH_ACT_DOWNLOAD);
	p_free(&p);
	fx_free(f);
}

struct cls {
	uint8_t type;
	const char *ext;   /* for EXTENDED */
	int npaths;
	uint32_t action;
};

static void b_req(struct pkt *p, const struct cls *c, uint32_t id)
{
	p_begin(p, c->type, id);
	if (c->ext)
		p_str(p, c->ext);
	if (c->npaths >= 1)
		p_str(p, "/srv/a");
	if (c->npaths >= 2)
		p_str(p, "/srv/b");
	if (c->type == GH_FXP_MKDIR || c->type == GH_FXP_SETSTAT ||
	    (c->ext && strcmp(c->ext, "lsetstat@openssh.com") == 0))
		p_u32(p, 0);
	p_end(p);
}

static void test_classification(void **state)
{
	static const struct cls cases[] = {
		{ GH_FXP_REMOVE, NULL, 1, GH_ACT_DELETE },
		{ GH_FXP_RMDIR, NULL, 1, GH_ACT_DELETE },
		{ GH_FXP_MKDIR, NULL, 1, GH_ACT_UPLOAD },
		{ GH_FXP_SETSTAT, NULL, 1, GH_ACT_UPLOAD },
		{ GH_FXP_RENAME, NULL, 2, GH_ACT_UPLOAD | GH_ACT_DELETE },
		{ GH_FXP_SYMLINK, NULL, 2, GH_ACT_UPLOAD },
		{ GH_FXP_STAT, NULL, 1, 0 },
		{ GH_FXP_LSTAT, NULL, 1, 0 },
		{ GH_FXP_REALPATH, NULL, 1, 0 },
		{ GH_FXP_READLINK, NULL, 1, 0 },
		{ GH_FXP_OPENDIR, NULL, 1, 0 },
		{ GH_FXP_EXTENDED, "posix-rename@openssh.com", 2, GH_ACT_UPLOAD | GH_ACT_DELETE },
		{ GH_FXP_EXTENDED, "hardlink@openssh.com", 2, GH_ACT_UPLOAD },
		{ GH_FXP_EXTENDED, "lsetstat@openssh.com", 1, GH_ACT_UPLOAD },
		{ GH_FXP_EXTENDED, "statvfs@openssh.com", 1, 0 },
		{ GH_FXP_EXTENDED, "expand-path@openssh.com", 1, 0 },
		{ GH_FXP_EXTENDED, "x-unknown@example.com", 2,
		  GH_ACT_UPLOAD | GH_ACT_DOWNLOAD | GH_ACT_DELETE },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct cls *c = &cases[i];
		struct pkt p = { 0 };
		/* with exactly the needed bits: passes, and its reply makes an event
		 * when it needs any */
		struct fx *f = fx_new(c->action, NULL);
		handshake(f);
		b_req(&p, c, 10);
		pass_c(f, &p);
		assert_int_equal(f->asked, 1);
		assert_int_equal(f->last.action, c->action);
		assert_int_equal(f->last.op, c->type);
		if (c->ext)
			assert_string_equal(f->last.ext, c->ext);
		p_free(&p);
		b_status(&p, 10, GH_FX_OK);
		pass_t(f, &p);
		p_free(&p);
		if (c->action) {
			assert_int_equal(f->nev, 1);
			assert_int_equal(f->ev[0].op, c->type);
			assert_false(f->ev[0].denied);
			assert_int_equal(f->ev[0].status, GH_FX_OK);
			assert_int_equal(f->ev[0].action, c->action);
			if (c->ext && strstr(c->ext, "unknown")) {
				/* unknown payloads carry no known path */
				assert_string_equal(f->ev[0].path, "(null)");
			} else if (c->type == GH_FXP_SYMLINK) {
				/* OpenSSH order: target text first, new link second */
				assert_string_equal(f->ev[0].path, "/srv/b");
				assert_string_equal(f->ev[0].path2, "/srv/a");
			} else {
				assert_string_equal(f->ev[0].path, "/srv/a");
				assert_string_equal(f->ev[0].path2,
						    c->npaths == 2 ? "/srv/b" : "(null)");
			}
			if (c->ext)
				assert_string_equal(f->ev[0].ext, c->ext);
		} else {
			assert_int_equal(f->nev, 0);
		}
		fx_free(f);

		/* missing any one needed bit: refused */
		for (uint32_t bit = 1; bit <= GH_ACT_FORWARD; bit <<= 1) {
			if (!(c->action & bit))
				continue;
			f = fx_new(GH_ACT_ALL & ~bit, NULL);
			handshake(f);
			b_req(&p, c, 11);
			refused(f, &p, 11, GH_FX_PERMISSION_DENIED);
			assert_int_equal(f->nev, 1);
			assert_true(f->ev[0].denied);
			p_free(&p);
			fx_free(f);
		}
	}
}

static void test_no_authorize_for_pathless(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(0, NULL);
	handshake(f);
	/* limits, home-directory need nothing and do not ask */
	p_begin(&p, GH_FXP_EXTENDED, 1);
	p_str(&p, "limits@openssh.com");
	p_end(&p);
	pass_c(f, &p);
	p_free(&p);
	p_begin(&p, GH_FXP_EXTENDED, 2);
	p_str(&p, "home-directory");
	p_str(&p, "deploy");
	p_end(&p);
	pass_c(f, &p);
	assert_int_equal(f->asked, 0);
	p_free(&p);
	fx_free(f);
}

static void test_download_events(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_DOWNLOAD, NULL);
	handshake(f);
	open_ok(f, 1, "/var/log/syslog", GH_FXF_READ, "h1");
	uint32_t sizes[3] = { 32768, 32768, 1000 };
	for (uint32_t i = 0; i < 4; i++) {
		b_read(&p, 2 + i, "h1", i * 32768ull, 32768);
		pass_c(f, &p);
		p_free(&p);
	}
	for (uint32_t i = 0; i < 3; i++) {
		b_data(&p, 2 + i, sizes[i]);
		pass_t(f, &p);
		p_free(&p);
	}
	b_status(&p, 5, GH_FX_EOF);
	pass_t(f, &p);
	p_free(&p);
	assert_int_equal(f->nev, 0);
	b_close(&p, 6, "h1");
	pass_c(f, &p);
	p_free(&p);
	ok_reply(f, 6);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].op, GH_FXP_CLOSE);
	assert_string_equal(f->ev[0].path, "/var/log/syslog");
	assert_int_equal(f->ev[0].rd, 32768 + 32768 + 1000);
	assert_int_equal(f->ev[0].wr, 0);
	assert_int_equal(f->ev[0].status, GH_FX_OK);
	assert_int_equal(f->ev[0].action, GH_ACT_DOWNLOAD);
	assert_int_equal(f->ev[0].pflags, GH_FXF_READ);
	/* the handle is gone: reads on it are answered locally */
	b_read(&p, 7, "h1", 0, 10);
	refused(f, &p, 7, GH_FX_FAILURE);
	p_free(&p);
	struct gh_sftp_stats st;
	gh_sftp_get_stats(f->s, &st);
	assert_int_equal(st.bytes_read, 66536);
	assert_int_equal(st.files, 1);
	fx_free(f);
}

static void test_failed_open_event(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_UPLOAD, NULL);
	handshake(f);
	b_open(&p, 1, "/root/x", GH_FXF_WRITE | GH_FXF_CREAT);
	pass_c(f, &p);
	p_free(&p);
	b_status(&p, 1, GH_FX_PERMISSION_DENIED);
	pass_t(f, &p);
	p_free(&p);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].op, GH_FXP_OPEN);
	assert_false(f->ev[0].denied);
	assert_int_equal(f->ev[0].status, GH_FX_PERMISSION_DENIED);
	assert_string_equal(f->ev[0].path, "/root/x");
	fx_free(f);
}

/* 64 pipelined 32 KiB writes in one chunk, acknowledged out of order. */
static void test_pipelined_upload(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_UPLOAD, NULL);
	handshake(f);
	open_ok(f, 1, "big.iso", GH_FXF_WRITE | GH_FXF_CREAT | GH_FXF_TRUNC, "\x01\x02\x03\x04");
	for (uint32_t i = 0; i < 64; i++)
		b_write(&p, 100 + i, "\x01\x02\x03\x04", i * 32768ull, 32768, (uint8_t)i);
	pass_c(f, &p);
	p_free(&p);
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t id = 100 + (i * 37) % 64;
		b_status(&p, id, id == 163 ? GH_FX_FAILURE : GH_FX_OK);
	}
	pass_t(f, &p);
	p_free(&p);
	b_close(&p, 2, "\x01\x02\x03\x04");
	pass_c(f, &p);
	p_free(&p);
	ok_reply(f, 2);
	assert_int_equal(f->nev, 1);
	assert_string_equal(f->ev[0].path, "big.iso");
	assert_int_equal(f->ev[0].wr, 63 * 32768);
	assert_int_equal(f->ev[0].action, GH_ACT_UPLOAD);
	fx_free(f);
}

/* The same session fed with every step split in two at every byte, and
 * byte by byte, gives the same output and events as fed whole. A step is
 * what one side sends before it waits for the other. */
#define NSTEPS 8

static void feed_step(struct fx *f, int step, const struct pkt *p, size_t k)
{
	size_t cut = k == 0 || k > p->n ? p->n : k;
	for (size_t off = 0; off < p->n;) {
		size_t n = k == 1 ? 1 : (off == 0 ? cut : p->n - off);
		if (step % 2 == 0)
			assert_int_equal(gh_sftp_from_client(f->s, p->b + off, n, &f->tt, &f->tc), 0);
		else
			assert_int_equal(gh_sftp_from_target(f->s, p->b + off, n, &f->tc), 0);
		off += n;
	}
}

static struct fx *run_split(const struct pkt *steps, size_t k, struct pkt *out_tt,
			    struct pkt *out_tc)
{
	struct fx *f = fx_new(GH_ACT_DOWNLOAD | GH_ACT_UPLOAD, NULL);
	for (int i = 0; i < NSTEPS; i++)
		feed_step(f, i, &steps[i], k);
	if (f->tt.len)
		p_raw(out_tt, bdata(&f->tt), f->tt.len);
	if (f->tc.len)
		p_raw(out_tc, bdata(&f->tc), f->tc.len);
	return f;
}

/* Even steps come from the client, odd ones from the target. */
static void session(struct pkt *st)
{
	p_begin(&st[0], GH_FXP_INIT, 0);
	p_u32(&st[0], 3);
	p_end(&st[0]);
	p_begin(&st[1], GH_FXP_VERSION, 0);
	p_u32(&st[1], 3);
	p_str(&st[1], "fsync@openssh.com");
	p_str(&st[1], "1");
	p_end(&st[1]);
	b_open(&st[2], 1, "/data/in.bin", GH_FXF_READ);
	b_open(&st[2], 2, "/data/out.bin", GH_FXF_WRITE | GH_FXF_CREAT);
	b_path1(&st[2], GH_FXP_REMOVE, 3, "/data/gone"); /* refused: no delete */
	b_handle(&st[3], 1, "H-read");
	b_handle(&st[3], 2, "H-write");
	b_read(&st[4], 4, "H-read", 0, 300);
	b_write(&st[4], 5, "H-write", 0, 200, 7);
	b_read(&st[4], 6, "H-read", 300, 300);
	b_data(&st[5], 4, 300);
	b_status(&st[5], 5, GH_FX_OK);
	b_status(&st[5], 6, GH_FX_EOF);
	b_close(&st[6], 7, "H-read");
	b_close(&st[6], 8, "H-write");
	b_status(&st[7], 7, GH_FX_OK);
	b_status(&st[7], 8, GH_FX_OK);
}

static void test_split_everywhere(void **state)
{
	struct pkt st[NSTEPS] = { 0 }, ref_tt = { 0 }, ref_tc = { 0 };
	size_t cn = 0, tn = 0, max = 0;
	session(st);
	for (int i = 0; i < NSTEPS; i++) {
		*(i % 2 ? &tn : &cn) += st[i].n;
		max = st[i].n > max ? st[i].n : max;
	}
	struct fx *ref = run_split(st, 0, &ref_tt, &ref_tc);
	assert_int_equal(ref->nev, 3);
	/* the target got everything but the REMOVE; the client got the
	 * target's replies and the refusal */
	assert_int_equal(ref_tt.n, cn - (4 + 1 + 4 + 4 + strlen("/data/gone")));
	assert_int_equal(ref_tc.n, tn + 4 + 1 + 4 + 4 + 4 + strlen("Permission denied") + 4);
	assert_true(ref->ev[0].denied);
	assert_string_equal(ref->ev[0].path, "/data/gone");
	assert_string_equal(ref->ev[1].path, "/data/in.bin");
	assert_int_equal(ref->ev[1].rd, 300);
	assert_string_equal(ref->ev[2].path, "/data/out.bin");
	assert_int_equal(ref->ev[2].wr, 200);

	for (size_t k = 1; k <= max; k++) {
		struct pkt tt = { 0 }, tc = { 0 };
		struct fx *f = run_split(st, k, &tt, &tc);
		assert_int_equal(tt.n, ref_tt.n);
		assert_memory_equal(tt.b, ref_tt.b, tt.n);
		assert_int_equal(tc.n, ref_tc.n);
		assert_memory_equal(tc.b, ref_tc.b, tc.n);
		assert_int_equal(f->nev, ref->nev);
		assert_memory_equal(f->ev, ref->ev, sizeof f->ev[0] * (size_t)f->nev);
		p_free(&tt);
		p_free(&tc);
		fx_free(f);
	}
	p_free(&ref_tt);
	p_free(&ref_tc);
	fx_free(ref);
	for (int i = 0; i < NSTEPS; i++)
		p_free(&st[i]);
}

/* A refusal while a target DATA packet is half through waits for its end. */
static void test_refusal_between_packets(void **state)
{
	struct pkt p = { 0 }, d = { 0 };
	struct fx *f = fx_new(GH_ACT_DOWNLOAD, NULL);
	handshake(f);
	open_ok(f, 1, "f", GH_FXF_READ, "h");
	b_read(&p, 2, "h", 0, 1000);
	pass_c(f, &p);
	p_free(&p);
	b_data(&d, 2, 1000);
	assert_int_equal(gh_sftp_from_target(f->s, d.b, 500, &f->tc), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tc), 500);
	b_path1(&p, GH_FXP_REMOVE, 3, "f");
	assert_int_equal(cli(f, &p), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tt), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tc), 500); /* held back */
	assert_int_equal(gh_sftp_from_target(f->s, d.b + 500, d.n - 500, &f->tc), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tc), d.n + 4 + 13 + 17 + 4);
	assert_memory_equal(bdata(&f->tc), d.b, d.n);
	gh_sftp_buf_consume(&f->tc, d.n);
	take_status(&f->tc, 3, GH_FX_PERMISSION_DENIED);
	p_free(&p);
	p_free(&d);
	fx_free(f);
}

static void test_unknown_handles(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_ALL, NULL);
	handshake(f);
	/* a write on a handle the target never gave is answered locally and its
	 * payload dropped; the stream goes on */
	b_write(&p, 1, "nope", 0, 5000, 0);
	b_path1(&p, GH_FXP_STAT, 2, "/");
	assert_int_equal(cli(f, &p), 0);
	take_status(&f->tc, 1, GH_FX_FAILURE);
	assert_int_equal(gh_sftp_buf_len(&f->tt), 4 + 1 + 4 + 4 + 1);
	assert_int_equal(f->tt.data[f->tt.off + 4], GH_FXP_STAT);
	fx_clear(f);
	p_free(&p);
	/* the same, split inside the payload */
	b_write(&p, 3, "nope", 0, 5000, 0);
	assert_int_equal(gh_sftp_from_client(f->s, p.b, 100, &f->tt, &f->tc), 0);
	assert_int_equal(gh_sftp_from_client(f->s, p.b + 100, p.n - 100, &f->tt, &f->tc), 0);
	take_status(&f->tc, 3, GH_FX_FAILURE);
	assert_int_equal(gh_sftp_buf_len(&f->tt), 0);
	p_free(&p);
	/* CLOSE, FSTAT, READDIR, fsync on unknown handles */
	b_close(&p, 4, "zz");
	refused(f, &p, 4, GH_FX_FAILURE);
	p_free(&p);
	/* a closing handle takes no new requests */
	open_ok(f, 5, "x", GH_FXF_READ, "hh");
	b_close(&p, 6, "hh");
	pass_c(f, &p);
	p_free(&p);
	b_read(&p, 7, "hh", 0, 10);
	refused(f, &p, 7, GH_FX_FAILURE);
	p_free(&p);
	fx_free(f);
}

static void test_fsetstat_needs_upload(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_DOWNLOAD, NULL);
	handshake(f);
	open_ok(f, 1, "/etc/motd", GH_FXF_READ, "h");
	p_begin(&p, GH_FXP_FSETSTAT, 2);
	p_str(&p, "h");
	p_u32(&p, 4); /* permissions */
	p_u32(&p, 0777);
	p_end(&p);
	refused(f, &p, 2, GH_FX_PERMISSION_DENIED);
	assert_string_equal(f->last_path, "/etc/motd");
	assert_int_equal(f->last.action, GH_ACT_UPLOAD);
	p_free(&p);
	fx_free(f);
}

static void test_too_many_handles(void **state)
{
	struct pkt p = { 0 };
	struct gh_sftp_limits lim = { .max_handles = 2 };
	struct fx *f = fx_new(GH_ACT_ALL, &lim);
	handshake(f);
	open_ok(f, 1, "a", GH_FXF_READ, "h1");
	b_open(&p, 2, "b", GH_FXF_READ); /* outstanding, counts */
	pass_c(f, &p);
	p_free(&p);
	b_open(&p, 3, "c", GH_FXF_READ);
	refused(f, &p, 3, GH_FX_FAILURE);
	p_free(&p);
	b_status(&p, 2, GH_FX_NO_SUCH_FILE);
	pass_t(f, &p);
	p_free(&p);
	b_open(&p, 4, "c", GH_FXF_READ);
	pass_c(f, &p);
	p_free(&p);
	fx_free(f);
}

static void test_bad_paths(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_ALL, NULL);
	handshake(f);
	p_begin(&p, GH_FXP_REMOVE, 1);
	p_strn(&p, "ok\0/etc/shadow", 14);
	p_end(&p);
	refused(f, &p, 1, GH_FX_BAD_MESSAGE);
	p_free(&p);
	char *lng = malloc(5000);
	assert_non_null(lng);
	memset(lng, 'a', 4999);
	lng[4999] = '\0';
	b_path1(&p, GH_FXP_STAT, 2, lng);
	refused(f, &p, 2, GH_FX_FAILURE);
	free(lng);
	p_free(&p);
	assert_int_equal(f->asked, 0);
	fx_free(f);
}

static void test_home_and_limits(void **state)
{
	struct pkt p = { 0 };
	struct gh_sftp_limits lim = { .max_packet = 65536, .max_handles = 100 };
	struct fx *f = fx_new(GH_ACT_ALL, &lim);
	handshake(f);
	b_path1(&p, GH_FXP_REALPATH, 1, ".");
	pass_c(f, &p);
	p_free(&p);
	p_begin(&p, GH_FXP_NAME, 1);
	p_u32(&p, 1);
	p_str(&p, "/home/deploy");
	p_str(&p, "/home/deploy");
	p_u32(&p, 0);
	p_end(&p);
	pass_t(f, &p);
	p_free(&p);
	assert_string_equal(gh_sftp_home(f->s), "/home/deploy");
	/* a later REALPATH "." does not replace it */
	b_path1(&p, GH_FXP_REALPATH, 3, ".");
	pass_c(f, &p);
	p_free(&p);
	p_begin(&p, GH_FXP_NAME, 3);
	p_u32(&p, 1);
	p_str(&p, "/elsewhere");
	p_str(&p, "/elsewhere");
	p_u32(&p, 0);
	p_end(&p);
	pass_t(f, &p);
	p_free(&p);
	assert_string_equal(gh_sftp_home(f->s), "/home/deploy");

	p_begin(&p, GH_FXP_EXTENDED, 2);
	p_str(&p, "limits@openssh.com");
	p_end(&p);
	pass_c(f, &p);
	p_free(&p);
	p_begin(&p, GH_FXP_EXTENDED_REPLY, 2);
	p_u64(&p, 256 * 1024);
	p_u64(&p, 255 * 1024);
	p_u64(&p, 1000);
	p_u64(&p, 0);
	p_end(&p);
	assert_int_equal(tgt(f, &p), 0);
	assert_int_equal(gh_sftp_buf_len(&f->tc), p.n);
	const uint8_t *d = bdata(&f->tc);
	assert_int_equal(rd32(d + 9 + 4), 65536);      /* clamped */
	assert_int_equal(rd32(d + 17 + 4), 65536 - 1024);
	assert_int_equal(rd32(d + 25 + 4), 1000);      /* already below */
	assert_int_equal(rd32(d + 33 + 4), 0);         /* 0 stays 0 */
	p_free(&p);
	fx_free(f);
}

static void test_finish_reports_open_files(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_UPLOAD, NULL);
	handshake(f);
	open_ok(f, 1, "part.bin", GH_FXF_WRITE | GH_FXF_CREAT, "h");
	b_write(&p, 2, "h", 0, 4096, 1);
	pass_c(f, &p);
	p_free(&p);
	ok_reply(f, 2);
	b_write(&p, 3, "h", 4096, 4096, 1); /* never acknowledged */
	pass_c(f, &p);
	p_free(&p);
	gh_sftp_finish(f->s);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].op, GH_FXP_CLOSE);
	assert_int_equal(f->ev[0].status, -1);
	assert_int_equal(f->ev[0].wr, 4096);
	gh_sftp_finish(f->s);
	assert_int_equal(f->nev, 1);
	fx_free(f);
}

/* Every malformed input: GH_EINVAL with a reason, nothing forwarded. */
static void expect_bad_client(const struct gh_sftp_limits *lim, const struct pkt *p,
			      const char *why)
{
	struct fx *f = fx_new(GH_ACT_ALL, lim);
	handshake(f);
	assert_int_equal(cli(f, p), GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), why);
	/* byte by byte too */
	fx_free(f);
	f = fx_new(GH_ACT_ALL, lim);
	handshake(f);
	int r = 0;
	for (size_t i = 0; i < p->n && r == 0; i++)
		r = gh_sftp_from_client(f->s, p->b + i, 1, &f->tt, &f->tc);
	assert_int_equal(r, GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), why);
	fx_free(f);
}

static void test_malformed_client(void **state)
{
	struct pkt p = { 0 };
	char h257[258];
	memset(h257, 'h', 257);
	h257[257] = '\0';

	p_u32(&p, 0);
	p_u8(&p, GH_FXP_STAT);
	expect_bad_client(NULL, &p, "packet length below 5");
	p_free(&p);
	p_u32(&p, 4);
	p_u8(&p, GH_FXP_STAT);
	p_u32(&p, 1);
	expect_bad_client(NULL, &p, "packet length below 5");
	p_free(&p);
	p_u32(&p, 256 * 1024 + 1);
	p_u8(&p, GH_FXP_WRITE);
	expect_bad_client(NULL, &p, "packet longer than max_packet");
	p_free(&p);
	p_u32(&p, 0xffffffff);
	expect_bad_client(NULL, &p, "packet longer than max_packet");
	p_free(&p);
	/* a string running past the packet's end */
	p_begin(&p, GH_FXP_OPEN, 1);
	p_u32(&p, 100);
	p_raw(&p, "abc", 3);
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	p_begin(&p, GH_FXP_RENAME, 1);
	p_str(&p, "a");
	p_u32(&p, 0xffffffff);
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	/* OPEN without pflags, READ without length, no id at all */
	p_begin(&p, GH_FXP_OPEN, 1);
	p_str(&p, "a");
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	p_begin(&p, GH_FXP_READ, 1);
	p_str(&p, "h");
	p_u64(&p, 0);
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	p_u32(&p, 3);
	p_u8(&p, GH_FXP_STAT);
	p_u8(&p, 0);
	p_u8(&p, 0);
	expect_bad_client(NULL, &p, "packet length below 5");
	p_free(&p);
	p_u32(&p, 5);
	p_u8(&p, GH_FXP_STAT);
	p_u32(&p, 9);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	/* handles longer than 256 bytes */
	b_read(&p, 1, h257, 0, 10);
	expect_bad_client(NULL, &p, "handle longer than 256 bytes");
	p_free(&p);
	b_write(&p, 1, h257, 0, 10, 0);
	expect_bad_client(NULL, &p, "handle longer than 256 bytes");
	p_free(&p);
	/* WRITE whose data string overflows, or whose header is cut */
	p_begin(&p, GH_FXP_WRITE, 1);
	p_str(&p, "h");
	p_u64(&p, 0);
	p_u32(&p, 11);
	p_raw(&p, "0123456789", 10);
	p_end(&p);
	expect_bad_client(NULL, &p, "string overflows packet");
	p_free(&p);
	p_begin(&p, GH_FXP_WRITE, 1);
	p_str(&p, "h");
	p_u64(&p, 0);
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	p_begin(&p, GH_FXP_WRITE, 1);
	p_end(&p);
	expect_bad_client(NULL, &p, "truncated request");
	p_free(&p);
	/* unknown types, reply types from the client */
	p_begin(&p, 99, 1);
	p_end(&p);
	expect_bad_client(NULL, &p, "unknown request type");
	p_free(&p);
	b_status(&p, 1, 0);
	expect_bad_client(NULL, &p, "unknown request type");
	p_free(&p);
	/* outstanding requests beyond the cap, duplicate ids */
	struct gh_sftp_limits lim = { .max_requests = 4 };
	for (uint32_t i = 0; i < 5; i++)
		b_path1(&p, GH_FXP_STAT, i, "/");
	expect_bad_client(&lim, &p, "too many outstanding requests");
	p_free(&p);
	b_path1(&p, GH_FXP_STAT, 1, "/");
	b_path1(&p, GH_FXP_LSTAT, 1, "/");
	expect_bad_client(NULL, &p, "duplicate outstanding request id");
	p_free(&p);
}

static void expect_bad_target(const struct pkt *req, const struct pkt *p, const char *why)
{
	struct fx *f = fx_new(GH_ACT_ALL, NULL);
	handshake(f);
	if (req)
		pass_c(f, req);
	assert_int_equal(tgt(f, p), GH_EINVAL);
	assert_string_equal(gh_sftp_error(f->s), why);
	fx_free(f);
}

static void test_malformed_target(void **state)
{
	struct pkt q = { 0 }, p = { 0 };
	b_path1(&q, GH_FXP_STAT, 1, "/");
	b_handle(&p, 1, "h");
	expect_bad_target(&q, &p, "HANDLE reply to a request that opens nothing");
	p_free(&p);
	b_status(&p, 2, 0);
	expect_bad_target(&q, &p, "reply to no outstanding request");
	p_free(&p);
	p_begin(&p, 150, 1);
	p_end(&p);
	expect_bad_target(&q, &p, "unknown reply type");
	p_free(&p);
	p_begin(&p, GH_FXP_STATUS, 1);
	p_end(&p);
	expect_bad_target(&q, &p, "truncated reply");
	p_free(&p);
	p_begin(&p, GH_FXP_DATA, 1);
	p_u32(&p, 1000);
	p_end(&p);
	expect_bad_target(&q, &p, "string overflows packet");
	p_free(&p);
	p_begin(&p, GH_FXP_VERSION, 0);
	p_u32(&p, 3);
	p_end(&p);
	expect_bad_target(&q, &p, "unexpected VERSION");
	p_free(&p);
	p_free(&q);
	/* handles: empty, too long, reused while open */
	b_open(&q, 1, "f", GH_FXF_READ);
	b_handle(&p, 1, "");
	expect_bad_target(&q, &p, "bad handle length");
	p_free(&p);
	char h257[258];
	memset(h257, 'h', 257);
	h257[257] = '\0';
	b_handle(&p, 1, h257);
	expect_bad_target(&q, &p, "bad handle length");
	p_free(&p);
	b_open(&q, 2, "g", GH_FXF_READ);
	b_handle(&p, 1, "same");
	b_handle(&p, 2, "same");
	expect_bad_target(&q, &p, "target reused an open handle");
	p_free(&p);
	p_free(&q);
}

static void test_output_caps(void **state)
{
	struct pkt p = { 0 };
	struct fx *f = fx_new(GH_ACT_ALL, NULL);
	handshake(f);
	f->tt.cap = 10;
	b_path1(&p, GH_FXP_STAT, 1, "/some/path");
	assert_int_equal(cli(f, &p), GH_ELIMIT);
	assert_string_equal(gh_sftp_error(f->s), "output buffer full");
	assert_int_equal(cli(f, &p), GH_ELIMIT);
	p_free(&p);
	fx_free(f);
}

static void test_limits_validated(void **state)
{
	struct gh_sftp *s = NULL;
	struct gh_sftp_limits lim = { .max_packet = 1000 };
	assert_int_equal(gh_sftp_new(NULL, &lim, &s), GH_EINVAL);
	assert_null(s);
	lim.max_packet = 64 * 1024 * 1024;
	assert_int_equal(gh_sftp_new(NULL, &lim, &s), GH_EINVAL);
	assert_int_equal(gh_sftp_new(NULL, NULL, &s), 0);
	assert_null(gh_sftp_free(s));
	assert_null(gh_sftp_free(NULL));
}

static void test_buf(void **state)
{
	struct gh_sftp_buf b;
	gh_sftp_buf_init(&b, 10000);
	uint8_t x[6000];
	for (size_t i = 0; i < sizeof x; i++)
		x[i] = (uint8_t)i;
	assert_int_equal(gh_sftp_buf_append(&b, x, 6000), 0);
	assert_int_equal(gh_sftp_buf_append(&b, x, 6000), GH_ELIMIT);
	assert_int_equal(gh_sftp_buf_len(&b), 6000);
	gh_sftp_buf_consume(&b, 5000);
	assert_int_equal(gh_sftp_buf_append(&b, x, 6000), 0);
	assert_int_equal(gh_sftp_buf_len(&b), 7000);
	assert_memory_equal(bdata(&b), x + 5000, 1000);
	assert_memory_equal(bdata(&b) + 1000, x, 6000);
	gh_sftp_buf_consume(&b, 99999);
	assert_int_equal(gh_sftp_buf_len(&b), 0);
	gh_sftp_buf_release(&b);
	gh_sftp_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_version),
		cmocka_unit_test(test_open_read),
		cmocka_unit_test(test_open_write),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_no_authorize_for_pathless),
		cmocka_unit_test(test_download_events),
		cmocka_unit_test(test_failed_open_event),
		cmocka_unit_test(test_pipelined_upload),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_refusal_between_packets),
		cmocka_unit_test(test_unknown_handles),
		cmocka_unit_test(test_fsetstat_needs_upload),
		cmocka_unit_test(test_too_many_handles),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_home_and_limits),
		cmocka_unit_test(test_finish_reports_open_files),
		cmocka_unit_test(test_malformed_client),
		cmocka_unit_test(test_malformed_target),
		cmocka_unit_test(test_output_caps),
		cmocka_unit_test(test_limits_validated),
		cmocka_unit_test(test_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
