/* MySQL/MariaDB password algorithms and the login to a target
 * (src/db/mysql_wire.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "core/error.h"
#include "db/mysql_wire.h"
#include "db/wire_rd.h"

static int digest(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn,
		  uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, a, an) == 1 &&
		 (!b || EVP_DigestUpdate(c, b, bn) == 1) && EVP_DigestFinal_ex(c, out, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : GH_ECRYPTO;
}

int gh_my_native_scramble(const char *password, const uint8_t *scramble, size_t scramble_len,
			  uint8_t ret[20])
{
	uint8_t h1[20], h2[20], h3[20];
	int r = 0;

	if ((r = digest(EVP_sha1(), password, strlen(password), NULL, 0, h1)) < 0 ||
	    (r = digest(EVP_sha1(), h1, 20, NULL, 0, h2)) < 0 ||
	    (r = digest(EVP_sha1(), scramble, scramble_len, h2, 20, h3)) < 0)
		goto out;
	for (int i = 0; i < 20; i++)
		ret[i] = h1[i] ^ h3[i];
out:
	sodium_memzero(h1, sizeof h1);
	sodium_memzero(h2, sizeof h2);
	return r;
}

int gh_my_sha2_scramble(const char *password, const uint8_t *scramble, size_t scramble_len,
			uint8_t ret[32])
{
	uint8_t h1[32], h2[32], h3[32];
	int r = 0;

	if ((r = digest(EVP_sha256(), password, strlen(password), NULL, 0, h1)) < 0 ||
	    (r = digest(EVP_sha256(), h1, 32, NULL, 0, h2)) < 0 ||
	    (r = digest(EVP_sha256(), h2, 32, scramble, scramble_len, h3)) < 0)
		goto out;
	for (int i = 0; i < 32; i++)
		ret[i] = h1[i] ^ h3[i];
out:
	sodium_memzero(h1, sizeof h1);
	sodium_memzero(h2, sizeof h2);
	return r;
}

int gh_my_rsa_password(const char *password, const uint8_t *scramble, size_t scramble_len,
		       const char *pem, size_t pem_len, uint8_t **ret, size_t *ret_len)
{
	size_t pl = strlen(password) + 1, outlen = 0;
	uint8_t *x = NULL, *enc = NULL;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r = GH_ECRYPTO;

	if (scramble_len == 0 || pem_len > 16384 || pl > 1024)
		return GH_EINVAL;
	if (!(x = sodium_malloc(pl)))
		return GH_ENOMEM;
	for (size_t i = 0; i < pl; i++)
		x[i] = (uint8_t)password[i] ^ scramble[i % scramble_len];
	if (!(bio = BIO_new_mem_buf(pem, (int)pem_len)) ||
	    !(key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) ||
	    !(ctx = EVP_PKEY_CTX_new(key, NULL)) || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, NULL, &outlen, x, pl) != 1)
		goto out;
	if (!(enc = malloc(outlen))) {
		r = GH_ENOMEM;
		goto out;
	}
	if (EVP_PKEY_encrypt(ctx, enc, &outlen, x, pl) != 1)
		goto out;
	*ret = enc;
	*ret_len = outlen;
	enc = NULL;
	r = 0;
out:
	free(enc);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	sodium_memzero(x, pl);
	sodium_free(x);
	return r;
}

/* ---- login to the target ------------------------------------------------- */

void gh_my_login_init(struct gh_my_login *l, const struct gh_my_login_opts *o)
{
	*l = (struct gh_my_login){ .o = *o };
}

void gh_my_login_free(struct gh_my_login *l)
{
	if (!l)
		return;
	gh_my_greeting_free(&l->g);
	free(l->plugin);
	sodium_memzero(l->scramble, sizeof l->scramble);
	*l = (struct gh_my_login){ 0 };
}

bool gh_my_caps_relayable(uint32_t client_caps, uint32_t target_caps)
{
	return (client_caps & GH_MY_FORMAT_CAPS & ~target_caps) == 0;
}

static int set_plugin(struct gh_my_login *l, const uint8_t *name, size_t n)
{
	char *c = NULL;
	if (n > 64 || memchr(name, 0, n))
		return GH_EINVAL;
	if (!(c = malloc(n + 1)))
		return GH_ENOMEM;
	memcpy(c, name, n);
	c[n] = 0;
	free(l->plugin);
	l->plugin = c;
	return 0;
}

/* Auth bytes for the current plugin into A (at most 32 bytes, or the
 * cleartext password when allowed): *RET_LEN. */
static int auth_bytes(struct gh_my_login *l, uint8_t *a, size_t cap, size_t *ret_len)
{
	const char *pw = l->o.password ? l->o.password : "";
	int r = 0;

	if (!pw[0]) {
		*ret_len = 0;
		return 0;
	}
	if (strcmp(l->plugin, GH_MY_PLUGIN_NATIVE) == 0) {
		r = gh_my_native_scramble(pw, l->scramble, l->scramble_len, a);
		*ret_len = 20;
	} else if (strcmp(l->plugin, GH_MY_PLUGIN_SHA2) == 0) {
		r = gh_my_sha2_scramble(pw, l->scramble, l->scramble_len, a);
		*ret_len = 32;
	} else if (strcmp(l->plugin, GH_MY_PLUGIN_CLEAR) == 0) {
		if (!l->in_tls)
			return GH_EPERM;
		if (strlen(pw) + 1 > cap)
			return GH_ELIMIT;
		memcpy(a, pw, strlen(pw) + 1);
		*ret_len = strlen(pw) + 1;
	} else {
		return GH_EPERM; /* a plugin we do not speak */
	}
	return r;
}

static int send_response(struct gh_my_login *l, struct gh_buf *out, int *ret_state)
{
	uint8_t a[1100];
	size_t alen = 0;
	struct gh_my_hsresp h = { 0 };
	int r = 0;

	if ((r = auth_bytes(l, a, sizeof a, &alen)) < 0)
		goto out;
	h.caps = l->caps;
	h.max_packet = 1u << 24;
	h.charset = l->o.charset ? l->o.charset : 45; /* utf8mb4_general_ci */
	h.user = (char *)l->o.user;
	h.auth = a;
	h.auth_len = alen;
	h.database = (char *)l->o.database;
	h.plugin = l->plugin;
	h.attrs_raw = (uint8_t *)l->o.attrs_raw;
	h.attrs_raw_len = l->o.attrs_raw_len;
	if ((r = gh_my_hsresp_build(&h, out)) < 0)
		goto out;
	l->sent_response = true;
	*ret_state = GH_MY_LOGIN_SEND;
out:
	sodium_memzero(a, sizeof a);
	return r;
}

static int on_greeting(struct gh_my_login *l, const uint8_t *p, size_t n, struct gh_buf *out,
		       int *ret_state)
{
	uint32_t want = GH_MY_SERVER_CAPS | GH_MY_CLIENT_SSL;
	int r = 0;

	if ((r = gh_my_greeting_parse(p, n, &l->g)) < 0)
		return r;
	l->have_greeting = true;
	if (!(l->g.caps & GH_MY_CLIENT_PROTOCOL_41) || !(l->g.caps & GH_MY_CLIENT_SECURE_CONNECTION))
		return GH_EINVAL;
	if (!gh_my_caps_relayable(l->o.client_caps, l->g.caps)) {
		snprintf(l->err_msg, sizeof l->err_msg, "the target lacks a capability the client uses");
		return GH_EPERM;
	}
	if (l->o.tls && !(l->g.caps & GH_MY_CLIENT_SSL)) {
		snprintf(l->err_msg, sizeof l->err_msg, "the target does not offer TLS");
		return GH_EPERM;
	}
	l->caps = l->o.client_caps & l->g.caps & want & ~GH_MY_CLIENT_SSL;
	l->caps |= GH_MY_CLIENT_PROTOCOL_41 | GH_MY_CLIENT_SECURE_CONNECTION |
		   GH_MY_CLIENT_LONG_PASSWORD;
	l->caps |= l->g.caps & (GH_MY_CLIENT_PLUGIN_AUTH | GH_MY_CLIENT_PLUGIN_AUTH_LENENC);
	l->caps &= ~(GH_MY_CLIENT_CONNECT_WITH_DB | GH_MY_CLIENT_CONNECT_ATTRS);
	if (l->o.database && (l->g.caps & GH_MY_CLIENT_CONNECT_WITH_DB))
		l->caps |= GH_MY_CLIENT_CONNECT_WITH_DB;
	if (l->o.attrs_raw && (l->g.caps & GH_MY_CLIENT_CONNECT_ATTRS))
		l->caps |= GH_MY_CLIENT_CONNECT_ATTRS;
	memcpy(l->scramble, l->g.scramble, l->g.scramble_len);
	l->scramble_len = l->g.scramble_len;
	const char *pl = l->g.plugin[0] ? l->g.plugin : GH_MY_PLUGIN_NATIVE;
	if ((r = set_plugin(l, (const uint8_t *)pl, strlen(pl))) < 0)
		return r;
	if (strcmp(l->plugin, GH_MY_PLUGIN_NATIVE) && strcmp(l->plugin, GH_MY_PLUGIN_SHA2) &&
	    strcmp(l->plugin, GH_MY_PLUGIN_CLEAR)) /* ask for a switch with an empty answer */
		r = set_plugin(l, (const uint8_t *)GH_MY_PLUGIN_NATIVE, strlen(GH_MY_PLUGIN_NATIVE));
	if (r < 0)
		return r;
	if (l->o.tls) {
		struct gh_my_hsresp ssl = { .caps = l->caps | GH_MY_CLIENT_SSL,
					    .max_packet = 1u << 24,
					    .charset = l->o.charset ? l->o.charset : 45,
					    .ssl_request = true };
		l->caps |= GH_MY_CLIENT_SSL;
		*ret_state = GH_MY_LOGIN_TLS;
		return gh_my_hsresp_build(&ssl, out);
	}
	return send_response(l, out, ret_state);
}

static int on_switch(struct gh_my_login *l, const uint8_t *p, size_t n, struct gh_buf *out,
		     int *ret_state)
{
	struct gh_rd rd = GH_RD(p + 1, n - 1);
	const uint8_t *name = NULL;
	size_t nl = 0, dl = 0;
	uint8_t a[1100];
	size_t alen = 0;
	int r = 0;

	if (gh_rd_cstr(&rd, &name, &nl) < 0)
		return GH_EINVAL; /* the pre-4.1 "old password" switch: refused */
	if ((r = set_plugin(l, name, nl)) < 0)
		return r;
	dl = gh_rd_left(&rd);
	if (dl && p[n - 1] == 0)
		dl--;
	if (dl > GH_MY_SCRAMBLE_LEN)
		dl = GH_MY_SCRAMBLE_LEN;
	memcpy(l->scramble, p + 1 + rd.off, dl);
	l->scramble_len = dl;
	if ((strcmp(l->plugin, GH_MY_PLUGIN_NATIVE) == 0 || strcmp(l->plugin, GH_MY_PLUGIN_SHA2) == 0) &&
	    dl == 0)
		return GH_EINVAL;
	if ((r = auth_bytes(l, a, sizeof a, &alen)) == 0)
		r = gh_buf_put(out, a, alen);
	sodium_memzero(a, sizeof a);
	*ret_state = GH_MY_LOGIN_SEND;
	return r;
}

/* caching_sha2_password's AuthMoreData: 3 fast path done, 4 full
 * authentication, or (after our request) the server's public key. */
static int on_more(struct gh_my_login *l, const uint8_t *p, size_t n, struct gh_buf *out,
		   int *ret_state)
{
	const char *pw = l->o.password ? l->o.password : "";
	uint8_t *enc = NULL;
	size_t elen = 0;
	int r = 0;

	if (strcmp(l->plugin, GH_MY_PLUGIN_SHA2) != 0 || n < 2)
		return GH_EINVAL;
	if (l->key_requested || (n > 2 && p[1] == '-')) {
		if (!l->key_requested)
			return GH_EINVAL;
		l->key_requested = false;
		r = gh_my_rsa_password(pw, l->scramble, l->scramble_len, (const char *)p + 1, n - 1,
				       &enc, &elen);
	} else if (n == 2 && p[1] == 3) {
		*ret_state = GH_MY_LOGIN_READ;
		return 0;
	} else if (n == 2 && p[1] == 4) {
		if (l->in_tls) {
			*ret_state = GH_MY_LOGIN_SEND;
			return gh_buf_put(out, pw, strlen(pw) + 1);
		}
		if (l->o.rsa_pem) {
			r = gh_my_rsa_password(pw, l->scramble, l->scramble_len, l->o.rsa_pem,
					       strlen(l->o.rsa_pem), &enc, &elen);
		} else if (l->o.allow_key_request) {
			l->key_requested = true;
			*ret_state = GH_MY_LOGIN_SEND;
			return gh_buf_putc(out, 2);
		} else {
			snprintf(l->err_msg, sizeof l->err_msg,
				 "the target wants the password and the link has no TLS nor pinned key");
			return GH_EPERM;
		}
	} else {
		return GH_EINVAL;
	}
	if (r == 0)
		r = gh_buf_put(out, enc, elen);
	free(enc);
	*ret_state = GH_MY_LOGIN_SEND;
	return r;
}

int gh_my_login_step(struct gh_my_login *l, const uint8_t *p, size_t n, struct gh_buf *out,
		     int *ret_state)
{
	if (!l->have_greeting)
		return on_greeting(l, p, n, out, ret_state);
	if (!l->sent_response) {
		if (!l->o.tls || l->in_tls || n != 0)
			return GH_EINVAL;
		l->in_tls = true;
		return send_response(l, out, ret_state);
	}
	if (n == 0)
		return GH_EINVAL;
	switch (p[0]) {
	case 0x00:
		*ret_state = GH_MY_LOGIN_DONE;
		return 0;
	case 0xff:
		if (gh_my_err_parse(p, n, &l->err_code, l->err_msg, sizeof l->err_msg) < 0)
			return GH_EINVAL;
		return GH_EAUTH;
	case 0xfe:
		return on_switch(l, p, n, out, ret_state);
	case 0x01:
		return on_more(l, p, n, out, ret_state);
	default:
		return GH_EINVAL;
	}
}
