/* The MySQL/MariaDB wire (src/db/mysql_wire.h): framing, greeting and
 * handshake response round trips, every truncation of them, the password
 * algorithms against known values, the login state machine, and where a
 * response ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "core/error.h"
#include "db/mysql_wire.h"
#include "db/sqluse.h"

static const uint8_t SCRAMBLE[20] = "abcdefghijklmnopqrst";

static void hex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* ---- framing ------------------------------------------------------------- */

static void test_frame_small(void **st)
{
	struct gh_buf b = { 0 };
	struct gh_my_msg m;
	uint8_t next = 0;

	assert_int_equal(gh_my_put_msg(&b, 3, "\x03SELECT 1", 9, &next), 0);
	assert_int_equal(next, 4);
	assert_int_equal(b.len, 13);
	for (size_t k = 0; k < b.len; k++) { /* every prefix: incomplete, no error */
		assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, k, 1024, &m), 0);
		assert_int_equal(m.used, 0);
	}
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len, 1024, &m), 0);
	assert_int_equal(m.used, 13);
	assert_int_equal(m.len, 9);
	assert_int_equal(m.seq, 3);
	assert_int_equal(m.next_seq, 4);
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len, 8, &m), GH_ELIMIT);
	gh_buf_free(&b);
}

/* A payload of exactly 2^24-1 + 5 bytes spans two frames; a payload of
 * exactly 2^24-1 ends with an empty frame. */
static void test_frame_continuation(void **st)
{
	size_t n = GH_MY_FRAME_MAX + 5;
	uint8_t *p = malloc(n);
	struct gh_buf b = { 0 }, out = { 0 };
	struct gh_my_msg m;
	uint8_t next = 0;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7);
	assert_int_equal(gh_my_put_msg(&b, 0, p, n, &next), 0);
	assert_int_equal(next, 2);
	assert_int_equal(b.len, n + 8);
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len - 1, SIZE_MAX, &m), 0);
	assert_int_equal(m.used, 0);
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len, SIZE_MAX, &m), 0);
	assert_int_equal(m.used, b.len);
	assert_int_equal(m.len, n);
	assert_int_equal(gh_my_msg_payload((uint8_t *)b.p, &m, &out), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.p, p, n);
	/* a continuation frame out of sequence */
	b.p[GH_MY_FRAME_MAX + 4 + 3] = 9;
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len, SIZE_MAX, &m), GH_EINVAL);
	/* the bound is known from the first header */
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, 4, 1 << 20, &m), GH_ELIMIT);
	gh_buf_reset(&b);
	assert_int_equal(gh_my_put_msg(&b, 0, p, GH_MY_FRAME_MAX, &next), 0);
	assert_int_equal(next, 2);
	assert_int_equal(b.len, GH_MY_FRAME_MAX + 8);
	assert_int_equal(gh_my_msg_scan((uint8_t *)b.p, b.len, SIZE_MAX, &m), 0);
	assert_int_equal(m.len, GH_MY_FRAME_MAX);
	gh_buf_free(&b);
	gh_buf_free(&out);
	free(p);
}

static void test_lenenc(void **st)
{
	uint64_t vals[] = { 0, 250, 251, 65535, 65536, 0xffffff, 0x1000000, UINT64_MAX };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		struct gh_buf b = { 0 };
		uint64_t v = 0;
		size_t used = 0;
		assert_int_equal(gh_my_lenenc_put(&b, vals[i]), 0);
		assert_int_equal(gh_my_lenenc_get((uint8_t *)b.p, b.len, &v, &used), 0);
		assert_true(v == vals[i]);
		assert_int_equal(used, b.len);
		for (size_t k = 0; k < b.len; k++)
			assert_int_equal(gh_my_lenenc_get((uint8_t *)b.p, k, &v, &used), GH_EINVAL);
		gh_buf_free(&b);
	}
	uint64_t v = 0;
	size_t used = 0;
	assert_int_equal(gh_my_lenenc_get((const uint8_t *)"\xff", 1, &v, &used), GH_EINVAL);
	assert_int_equal(gh_my_lenenc_get((const uint8_t *)"\xfb", 1, &v, &used), GH_EINVAL);
}

/* ---- greeting ------------------------------------------------------------ */

static void build_greeting(struct gh_buf *b, const char *plugin, uint32_t caps)
{
	struct gh_my_greeting g = { .version = (char *)"10.11.6-MariaDB", .conn_id = 42,
				    .scramble_len = 20, .caps = caps, .charset = 45,
				    .status = 2, .plugin = (char *)plugin };
	memcpy(g.scramble, SCRAMBLE, 20);
	assert_int_equal(gh_my_greeting_build(&g, b), 0);
}

static void test_greeting_roundtrip(void **st)
{
	struct gh_buf b = { 0 };
	struct gh_my_greeting g = { 0 };
	uint32_t caps = GH_MY_SERVER_CAPS | GH_MY_CLIENT_SSL;

	build_greeting(&b, GH_MY_PLUGIN_SHA2, caps);
	assert_int_equal(gh_my_greeting_parse((uint8_t *)b.p, b.len, &g), 0);
	assert_string_equal(g.version, "10.11.6-MariaDB");
	assert_int_equal(g.conn_id, 42);
	assert_int_equal(g.caps, caps);
	assert_int_equal(g.scramble_len, 20);
	assert_memory_equal(g.scramble, SCRAMBLE, 20);
	assert_string_equal(g.plugin, GH_MY_PLUGIN_SHA2);
	gh_my_greeting_free(&g);
	/* every truncation: an error or a parse, never a read past the end */
	for (size_t k = 0; k < b.len; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, b.p, k);
		int r = gh_my_greeting_parse(cut, k, &g);
		assert_true(r == 0 || r == GH_EINVAL);
		if (r == 0)
			gh_my_greeting_free(&g);
		free(cut);
	}
	/* an ERR instead of a greeting (host blocked, too many connections) */
	assert_int_equal(gh_my_greeting_parse((const uint8_t *)"\xff\x10\x04Too many", 11, &g),
			 GH_ECONN);
	/* protocol 9 */
	b.p[0] = 9;
	assert_int_equal(gh_my_greeting_parse((uint8_t *)b.p, b.len, &g), GH_EINVAL);
	gh_buf_free(&b);
}

static void test_scramble_new(void **st)
{
	uint8_t s[20], t[20];
	gh_my_scramble_new(s);
	gh_my_scramble_new(t);
	assert_memory_not_equal(s, t, 20);
	for (int i = 0; i < 20; i++)
		assert_true(s[i] > 0x20 && s[i] < 0x7f && s[i] != '$');
}

/* ---- handshake response --------------------------------------------------- */

static void build_resp(struct gh_buf *b, uint32_t caps)
{
	uint8_t auth[32];
	struct gh_buf attrs = { 0 };
	gh_my_lenenc_put(&attrs, 4);
	gh_buf_puts(&attrs, "_pid");
	gh_my_lenenc_put(&attrs, 3);
	gh_buf_puts(&attrs, "123");
	gh_my_lenenc_put(&attrs, 12);
	gh_buf_puts(&attrs, "_client_name");
	gh_my_lenenc_put(&attrs, 10);
	gh_buf_puts(&attrs, "libmariadb");
	memset(auth, 0xab, sizeof auth);
	struct gh_my_hsresp h = { .caps = caps, .max_packet = 1 << 24, .charset = 45,
				  .user = (char *)"alice@appuser@db01", .auth = auth,
				  .auth_len = 32, .database = (char *)"app",
				  .plugin = (char *)GH_MY_PLUGIN_SHA2,
				  .attrs_raw = (uint8_t *)attrs.p, .attrs_raw_len = attrs.len };
	assert_int_equal(gh_my_hsresp_build(&h, b), 0);
	gh_buf_free(&attrs);
}

static void test_hsresp_roundtrip(void **st)
{
	struct gh_buf b = { 0 };
	struct gh_my_hsresp h = { 0 };

	build_resp(&b, GH_MY_SERVER_CAPS);
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), 0);
	assert_false(h.ssl_request);
	assert_string_equal(h.user, "alice@appuser@db01");
	assert_int_equal(h.auth_len, 32);
	assert_string_equal(h.database, "app");
	assert_string_equal(h.plugin, GH_MY_PLUGIN_SHA2);
	assert_int_equal(h.n_attrs, 2);
	assert_string_equal(h.attrs[1].key, "_client_name");
	assert_string_equal(h.attrs[1].value, "libmariadb");
	assert_non_null(h.attrs_raw);
	gh_my_hsresp_free(&h);
	gh_my_hsresp_free(&h); /* twice: harmless */
	for (size_t k = 0; k < b.len; k++) {
		int r = gh_my_hsresp_parse((uint8_t *)b.p, k, &h);
		/* a cut inside the optional tail may still parse; the name never */
		assert_true(r == 0 || r == GH_EINVAL);
		if (r == 0)
			gh_my_hsresp_free(&h);
	}
	gh_buf_free(&b);
}

static void test_hsresp_malformed(void **st)
{
	struct gh_buf b = { 0 };
	struct gh_my_hsresp h = { 0 };

	/* the SSL request: 32 bytes with CLIENT_SSL */
	struct gh_my_hsresp ssl = { .caps = GH_MY_SERVER_CAPS | GH_MY_CLIENT_SSL,
				    .ssl_request = true };
	assert_int_equal(gh_my_hsresp_build(&ssl, &b), 0);
	assert_int_equal(b.len, 32);
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), 0);
	assert_true(h.ssl_request);
	gh_my_hsresp_free(&h);
	/* 32 bytes without CLIENT_SSL: not an answer */
	b.p[1] = 0;
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), GH_EINVAL);
	/* a pre-4.1 answer */
	gh_buf_reset(&b);
	build_resp(&b, GH_MY_SERVER_CAPS);
	b.p[1] &= (char)~(GH_MY_CLIENT_PROTOCOL_41 >> 8);
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), GH_EINVAL);
	/* a user name without its NUL */
	gh_buf_reset(&b);
	gh_buf_put(&b, "\x0d\xa2\x3f\x00\x00\x00\x00\x01\x2d", 9);
	for (int i = 0; i < 23; i++)
		gh_buf_putc(&b, 0);
	gh_buf_puts(&b, "alice");
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), GH_EINVAL);
	/* an auth length past the end (LENENC client data) */
	gh_buf_putc(&b, 0);
	gh_buf_put(&b, "\xfc\xff\x00", 3);
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), GH_EINVAL);
	/* an attribute block claiming more than there is */
	gh_buf_reset(&b);
	build_resp(&b, GH_MY_SERVER_CAPS);
	size_t at = b.len - (1 + 4 + 1 + 3 + 1 + 12 + 1 + 10) ;
	b.p[at] = 60;
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)b.p, b.len, &h), GH_EINVAL);
	gh_buf_free(&b);
}

/* ---- algorithms ---------------------------------------------------------- */

static void test_scramble_vectors(void **st)
{
	uint8_t got[32], want[32];

	assert_int_equal(gh_my_native_scramble("s3cret", SCRAMBLE, 20, got), 0);
	hex("8510605a5ec0d3d958058636e0a2ebdfcf34be4c", want, 20);
	assert_memory_equal(got, want, 20);
	assert_int_equal(gh_my_sha2_scramble("s3cret", SCRAMBLE, 20, got), 0);
	hex("5661ac17cec0e6001d3747b3aaa0d0c1927fdc43c56deeab05d4c42d73b2b642", want, 32);
	assert_memory_equal(got, want, 32);
}

/* ---- the login to a target ------------------------------------------------ */

static void login_start(struct gh_my_login *l, struct gh_my_login_opts *o, const char *plugin,
			bool tls, struct gh_buf *out, int *state)
{
	struct gh_buf g = { 0 };
	build_greeting(&g, plugin, GH_MY_SERVER_CAPS | GH_MY_CLIENT_SSL);
	*o = (struct gh_my_login_opts){ .user = "appuser", .password = "s3cret",
					.database = "app", .client_caps = GH_MY_SERVER_CAPS,
					.tls = tls };
	gh_my_login_init(l, o);
	assert_int_equal(gh_my_login_step(l, (uint8_t *)g.p, g.len, out, state), 0);
	gh_buf_free(&g);
}

static void test_login_sha2_tls(void **st)
{
	struct gh_my_login l;
	struct gh_my_login_opts o;
	struct gh_buf out = { 0 };
	struct gh_my_hsresp h = { 0 };
	int state = 0;
	uint8_t want[32];

	login_start(&l, &o, GH_MY_PLUGIN_SHA2, true, &out, &state);
	assert_int_equal(state, GH_MY_LOGIN_TLS);
	assert_int_equal(out.len, 32);
	gh_buf_reset(&out);
	assert_int_equal(gh_my_login_step(&l, NULL, 0, &out, &state), 0);
	assert_int_equal(state, GH_MY_LOGIN_SEND);
	assert_int_equal(gh_my_hsresp_parse((uint8_t *)out.p, out.len, &h), 0);
	assert_string_equal(h.user, "appuser");
	assert_string_equal(h.database, "app");
	assert_string_equal(h.plugin, GH_MY_PLUGIN_SHA2);
	assert_int_equal(gh_my_sha2_scramble("s3cret", SCRAMBLE, 20, want), 0);
	assert_int_equal(h.auth_len, 32);
	assert_memory_equal(h.auth, want, 32);
	gh_my_hsresp_free(&h);
	/* full authentication over TLS: the password in clear */
	gh_buf_reset(&out);
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\x01\x04", 2, &out, &state), 0);
	assert_int_equal(state, GH_MY_LOGIN_SEND);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.p, "s3cret", 7);
	gh_buf_reset(&out);
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\x00\x00\x00\x02\x00\x00\x00", 7,
					  &out, &state), 0);
	assert_int_equal(state, GH_MY_LOGIN_DONE);
	gh_my_login_free(&l);
	gh_buf_free(&out);
}

static void test_login_switch_and_refusal(void **st)
{
	struct gh_my_login l;
	struct gh_my_login_opts o;
	struct gh_buf out = { 0 }, sw = { 0 };
	int state = 0;
	uint8_t want[20];

	login_start(&l, &o, GH_MY_PLUGIN_SHA2, false, &out, &state);
	assert_int_equal(state, GH_MY_LOGIN_SEND);
	/* the fast path succeeded: read on */
	gh_buf_reset(&out);
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\x01\x03", 2, &out, &state), 0);
	assert_int_equal(state, GH_MY_LOGIN_READ);
	assert_int_equal(out.len, 0);
	/* full authentication without TLS, key or permission to ask: refused */
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\x01\x04", 2, &out, &state),
			 GH_EPERM);
	/* a switch to mysql_native_password */
	assert_int_equal(gh_my_auth_switch_build(GH_MY_PLUGIN_NATIVE, (const uint8_t *)"ABCDEFGHIJKLMNOPQRST", 20, &sw), 0);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)sw.p, sw.len, &out, &state), 0);
	assert_int_equal(gh_my_native_scramble("s3cret", (const uint8_t *)"ABCDEFGHIJKLMNOPQRST", 20, want), 0);
	assert_int_equal(out.len, 20);
	assert_memory_equal(out.p, want, 20);
	/* a switch to cleartext without TLS: refused, nothing sent */
	gh_buf_reset(&sw);
	gh_buf_reset(&out);
	assert_int_equal(gh_my_auth_switch_build(GH_MY_PLUGIN_CLEAR, NULL, 0, &sw), 0);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)sw.p, sw.len, &out, &state), GH_EPERM);
	assert_int_equal(out.len, 0);
	/* the old-password switch (a lone 0xFE) */
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\xfe", 1, &out, &state), GH_EINVAL);
	/* the target refuses */
	gh_buf_reset(&sw);
	assert_int_equal(gh_my_err_build(1045, "28000", "Access denied for user 'appuser'", &sw), 0);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)sw.p, sw.len, &out, &state), GH_EAUTH);
	assert_int_equal(l.err_code, 1045);
	assert_string_equal(l.err_msg, "Access denied for user 'appuser'");
	gh_my_login_free(&l);
	gh_buf_free(&out);
	gh_buf_free(&sw);
}

static void test_login_tls_missing(void **st)
{
	struct gh_my_login l;
	struct gh_my_login_opts o = { .user = "u", .password = "p", .tls = true,
				      .client_caps = GH_MY_SERVER_CAPS };
	struct gh_buf g = { 0 }, out = { 0 };
	int state = 0;

	build_greeting(&g, GH_MY_PLUGIN_NATIVE, GH_MY_SERVER_CAPS);
	gh_my_login_init(&l, &o);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)g.p, g.len, &out, &state), GH_EPERM);
	gh_my_login_free(&l);
	/* a target without DEPRECATE_EOF for a client that uses it */
	gh_buf_reset(&g);
	build_greeting(&g, GH_MY_PLUGIN_NATIVE, GH_MY_SERVER_CAPS & ~GH_MY_CLIENT_DEPRECATE_EOF);
	o.tls = false;
	gh_my_login_init(&l, &o);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)g.p, g.len, &out, &state), GH_EPERM);
	gh_my_login_free(&l);
	gh_buf_free(&g);
	gh_buf_free(&out);
}

/* RSA: request the key, encrypt; the private key gives back the password. */
static void test_login_rsa(void **st)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	struct gh_my_login l;
	struct gh_my_login_opts o;
	struct gh_buf out = { 0 }, more = { 0 };
	int state = 0;
	uint8_t plain[512];
	size_t plen = sizeof plain;

	assert_non_null(key);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	long pn = BIO_get_mem_data(bio, &pem);
	login_start(&l, &o, GH_MY_PLUGIN_SHA2, false, &out, &state);
	o.allow_key_request = true;
	l.o.allow_key_request = true;
	gh_buf_reset(&out);
	assert_int_equal(gh_my_login_step(&l, (const uint8_t *)"\x01\x04", 2, &out, &state), 0);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.p[0], 2);
	gh_buf_reset(&out);
	assert_int_equal(gh_my_auth_more_build((uint8_t *)pem, (size_t)pn, &more), 0);
	assert_int_equal(gh_my_login_step(&l, (uint8_t *)more.p, more.len, &out, &state), 0);
	assert_int_equal(out.len, 256);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_decrypt(ctx, plain, &plen, (uint8_t *)out.p, out.len), 1);
	assert_int_equal(plen, 7);
	for (size_t i = 0; i < plen; i++)
		plain[i] ^= SCRAMBLE[i % 20];
	assert_memory_equal(plain, "s3cret", 7);
	/* a key that is not PEM */
	uint8_t *enc = NULL;
	size_t elen = 0;
	assert_int_equal(gh_my_rsa_password("x", SCRAMBLE, 20, "-----BEGIN junk", 15, &enc, &elen),
			 GH_ECRYPTO);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	gh_my_login_free(&l);
	gh_buf_free(&out);
	gh_buf_free(&more);
}

/* ---- OK / ERR / commands -------------------------------------------------- */

static void test_err_ok(void **st)
{
	struct gh_buf b = { 0 };
	uint16_t code = 0, status = 0;
	uint64_t aff = 0;
	char msg[64];

	assert_int_equal(gh_my_err_rejected("no-drop", &b), 0);
	assert_int_equal(gh_my_err_parse((uint8_t *)b.p, b.len, &code, msg, sizeof msg), 0);
	assert_int_equal(code, 1227);
	assert_memory_equal(b.p + 3, "#42000", 6);
	assert_string_equal(msg, "rejected by Gatehouse: rule no-drop");
	gh_buf_reset(&b);
	/* control bytes never reach the client's screen */
	assert_int_equal(gh_my_err_build(1045, "28000", "a\nb\x1b[2J", &b), 0);
	assert_null(memchr(b.p, '\n', b.len));
	assert_null(memchr(b.p, 0x1b, b.len));
	assert_int_equal(gh_my_err_build(1045, "2800", "x", &b), GH_EINVAL);
	assert_int_equal(gh_my_err_parse((const uint8_t *)"\xff\x01", 2, &code, msg, sizeof msg),
			 GH_EINVAL);
	/* OK: affected rows 3, insert id 0, status 2 */
	assert_int_equal(gh_my_ok_parse((const uint8_t *)"\x00\x03\x00\x02\x00\x00\x00", 7, &aff,
					&status), 0);
	assert_int_equal(aff, 3);
	assert_int_equal(status, 2);
	assert_int_equal(gh_my_ok_parse((const uint8_t *)"\x00\xfe", 2, &aff, &status), GH_EINVAL);
	gh_buf_free(&b);
}

static void test_commands(void **st)
{
	struct gh_my_command c;

	assert_int_equal(gh_my_command_parse((const uint8_t *)"\x03SELECT 1", 9, &c), 0);
	assert_int_equal(c.cmd, GH_MY_COM_QUERY);
	assert_int_equal(c.text_len, 8);
	assert_memory_equal(c.text, "SELECT 1", 8);
	assert_int_equal(gh_my_command_parse((const uint8_t *)"\x02" "app", 4, &c), 0);
	assert_int_equal(c.cmd, GH_MY_COM_INIT_DB);
	assert_int_equal(gh_my_command_parse((const uint8_t *)"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00", 10, &c), 0);
	assert_int_equal(c.stmt_id, 1);
	assert_int_equal(gh_my_command_parse((const uint8_t *)"\x17\x01\x00", 3, &c), GH_EINVAL);
	assert_int_equal(gh_my_command_parse(NULL, 0, &c), GH_EINVAL);
	assert_int_equal(gh_my_resp_kind_of(GH_MY_COM_STMT_CLOSE), GH_MY_RESP_NONE);
	assert_int_equal(gh_my_resp_kind_of(GH_MY_COM_PING), GH_MY_RESP_SIMPLE);
}

static void test_stmts(void **st)
{
	struct gh_my_stmts *s = NULL;

	assert_int_equal(gh_my_stmts_new(2, &s), 0);
	assert_int_equal(gh_my_stmts_put(s, 7, (const uint8_t *)"SELECT ?", 8), 0);
	assert_int_equal(gh_my_stmts_put(s, 9, (const uint8_t *)"DELETE FROM t", 13), 0);
	assert_string_equal(gh_my_stmts_get(s, 7), "SELECT ?");
	assert_string_equal(gh_my_stmts_get(s, 0xffffffffu), "DELETE FROM t");
	assert_int_equal(gh_my_stmts_put(s, 10, (const uint8_t *)"x", 1), GH_ELIMIT);
	gh_my_stmts_drop(s, 9);
	assert_null(gh_my_stmts_get(s, 9));
	assert_null(gh_my_stmts_get(s, 0xffffffffu));
	assert_int_equal(gh_my_stmts_put(s, 10, (const uint8_t *)"x", 1), 0);
	assert_string_equal(gh_my_stmts_get(s, 10), "x");
	gh_my_stmts_drop(s, 12345);
	s = gh_my_stmts_free(s);
	assert_null(gh_my_stmts_free(NULL));
}

/* ---- where a response ends ------------------------------------------------ */

static int feed(struct gh_my_resp *r, const char *p, size_t n)
{
	return gh_my_resp_frame(r, (const uint8_t *)p, n, n);
}

#define COLDEF "\x03" "def\x03" "app\x01t\x01t\x01" "a\x01" "a\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00"
#define EOF_PKT(status) "\xfe\x00\x00" status
#define ROW "\x01" "1"

static void test_resp_text_eof(void **st)
{
	struct gh_my_resp r;

	gh_my_resp_init(&r, GH_MY_RESP_RESULT, false);
	assert_int_equal(feed(&r, "\x02", 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, EOF_PKT("\x02\x00"), 5), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(feed(&r, ROW ROW, 4), 0);
	assert_false(r.done);
	assert_int_equal(feed(&r, EOF_PKT("\x02\x00"), 5), 0);
	assert_true(r.done);
	assert_int_equal(r.rows, 3);
	assert_false(r.error);
	assert_int_equal(feed(&r, ROW, 2), GH_EINVAL); /* nothing after the end */
}

static void test_resp_deprecate_multi(void **st)
{
	struct gh_my_resp r;

	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	/* OK with 5 affected, more results follow */
	assert_int_equal(feed(&r, "\x00\x05\x00\x08\x00\x00\x00", 7), 0);
	assert_false(r.done);
	assert_int_equal(feed(&r, "\x01", 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, ROW, 2), 0);
	/* a row longer than a frame: its continuation may start with anything */
	uint8_t head[GH_MY_HEAD] = { 0xfe, 0, 0, 0, 1 };
	assert_int_equal(gh_my_resp_frame(&r, head, sizeof head, GH_MY_FRAME_MAX), 0);
	assert_int_equal(feed(&r, "\xfe\x00\x00\x02\x00", 5), 0);
	assert_false(r.done);
	assert_int_equal(feed(&r, "\xfe\x00\x00\x02\x00\x00\x00", 7), 0);
	assert_true(r.done);
	assert_int_equal(r.rows, 2);
	assert_int_equal(r.affected, 5);
	/* an error in the middle of rows */
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(feed(&r, "\x01", 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, ROW, 2), 0);
	assert_int_equal(feed(&r, "\xff\x26\x05#70100Query execution was interrupted", 40), 0);
	assert_true(r.done);
	assert_true(r.error);
	assert_int_equal(r.err_code, 1318);
}

static void test_resp_malformed(void **st)
{
	struct gh_my_resp r;

	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(feed(&r, "\xfb/etc/passwd", 12), GH_EINVAL); /* LOCAL INFILE */
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(feed(&r, "\xfc\x01", 2), GH_EINVAL); /* cut column count */
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(feed(&r, "", 0), GH_EINVAL);
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, false);
	assert_int_equal(feed(&r, "\x01", 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, ROW, 2), GH_EINVAL); /* the EOF is missing */
	/* a head shorter than the rule asks */
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(gh_my_resp_frame(&r, (const uint8_t *)"\x01", 1, 100), GH_EINVAL);
}

static void test_resp_prepare(void **st)
{
	struct gh_my_resp r;

	gh_my_resp_init(&r, GH_MY_RESP_PREPARE, false);
	/* id 7, 1 column, 2 parameters */
	assert_int_equal(feed(&r, "\x00\x07\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00", 12), 0);
	assert_int_equal(r.stmt_id, 7);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, EOF_PKT("\x02\x00"), 5), 0);
	assert_false(r.done);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, EOF_PKT("\x02\x00"), 5), 0);
	assert_true(r.done);
	assert_int_equal(r.rows, 0);
	/* no columns, no parameters: the OK is all */
	gh_my_resp_init(&r, GH_MY_RESP_PREPARE, true);
	assert_int_equal(feed(&r, "\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12), 0);
	assert_true(r.done);
	assert_int_equal(r.stmt_id, 8);
	/* binary rows of EXECUTE start with 0x00 */
	gh_my_resp_init(&r, GH_MY_RESP_RESULT, true);
	assert_int_equal(feed(&r, "\x01", 1), 0);
	assert_int_equal(feed(&r, COLDEF, sizeof COLDEF - 1), 0);
	assert_int_equal(feed(&r, "\x00\x00\x01\x00\x00\x00", 6), 0);
	assert_int_equal(feed(&r, "\xfe\x00\x00\x02\x00\x00\x00", 7), 0);
	assert_true(r.done);
	assert_int_equal(r.rows, 1);
}


/* ---- USE statements inside a query (the per-database check) -------------- */

static void uses_are(const char *text, const char *const *want, size_t n_want, int last)
{
	char name[64];
	size_t pos = 0, i = 0;
	int r = 0;

	while ((r = gh_sql_next_use(text, strlen(text), &pos, name, sizeof name)) == 1) {
		assert_true(i < n_want);
		assert_string_equal(name, want[i]);
		i++;
	}
	assert_int_equal(i, n_want);
	assert_int_equal(r, last);
}

/* A USE hidden after another statement, behind comments, in backquotes or
 * in lower case is found; a "use" inside a string or a comment is not. */
static void test_sql_use(void **st)
{
	uses_are("USE app", (const char *const[]){ "app" }, 1, 0);
	uses_are("SELECT 1; use `rep``orts`;", (const char *const[]){ "rep`orts" }, 1, 0);
	uses_are("/* x */ -- y\n#z\n  USE\tother; USE app", (const char *const[]){ "other", "app" }, 2, 0);
	uses_are("SELECT 'a;USE x'; SELECT \"USE y\"", NULL, 0, 0);
	uses_are("SELECT 1 /* ; USE x */", NULL, 0, 0);
	uses_are("USER(); USED", NULL, 0, 0);
	uses_are("USE ;", NULL, 0, GH_EINVAL);
	uses_are("USE `unterminated", NULL, 0, GH_EINVAL);
	uses_are("USE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, 0,
		 GH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_small),
		cmocka_unit_test(test_frame_continuation),
		cmocka_unit_test(test_lenenc),
		cmocka_unit_test(test_greeting_roundtrip),
		cmocka_unit_test(test_scramble_new),
		cmocka_unit_test(test_hsresp_roundtrip),
		cmocka_unit_test(test_hsresp_malformed),
		cmocka_unit_test(test_scramble_vectors),
		cmocka_unit_test(test_login_sha2_tls),
		cmocka_unit_test(test_login_switch_and_refusal),
		cmocka_unit_test(test_login_tls_missing),
		cmocka_unit_test(test_login_rsa),
		cmocka_unit_test(test_err_ok),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_stmts),
		cmocka_unit_test(test_resp_text_eof),
		cmocka_unit_test(test_resp_deprecate_multi),
		cmocka_unit_test(test_resp_malformed),
		cmocka_unit_test(test_resp_prepare),
		cmocka_unit_test(test_sql_use),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
