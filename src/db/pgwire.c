/* PostgreSQL protocol parsing and building, bounds-checked (pgwire.h). */
#include "db/pgwire.h"
#include "core/error.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t gh_pg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(struct gh_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	gh_buf_put(b, x, 4);
}

int gh_pg_cstr(const uint8_t *p, size_t len, size_t *off, const char **ret, size_t *ret_len)
{
	if (*off >= len)
		return GH_EINVAL;
	const uint8_t *z = memchr(p + *off, 0, len - *off);
	if (!z)
		return GH_EINVAL;
	*ret = (const char *)p + *off;
	*ret_len = (size_t)(z - (p + *off));
	*off += *ret_len + 1;
	return 0;
}

static int take_name(char *dst, const char *v, size_t n)
{
	if (n > GH_PG_NAME_MAX)
		return GH_EINVAL;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* One "name\0value\0" pair of a startup packet into RET. */
static int startup_param(struct gh_pg_startup *ret, const char *k, size_t kl, const char *v,
			 size_t vl)
{
	if (!strcmp(k, "user"))
		return take_name(ret->user, v, vl);
	if (!strcmp(k, "database"))
		return take_name(ret->database, v, vl);
	if (!strcmp(k, "replication")) {
		ret->replication = vl > 0 && strcmp(v, "false") && strcmp(v, "0") && strcmp(v, "off");
		return 0;
	}
	if (ret->params_len + kl + vl + 2 > sizeof ret->params)
		return GH_EINVAL;
	memcpy(ret->params + ret->params_len, k, kl + 1);
	ret->params_len += kl + 1;
	memcpy(ret->params + ret->params_len, v, vl + 1);
	ret->params_len += vl + 1;
	return 0;
}

int gh_pg_startup_parse(const uint8_t *body, size_t len, struct gh_pg_startup *ret)
{
	size_t off = 4;
	if (len < 4)
		return GH_EINVAL;
	memset(ret, 0, offsetof(struct gh_pg_startup, params));
	ret->params_len = 0;
	ret->code = gh_pg_be32(body);
	if (ret->code != GH_PG_PROTO_3)
		return ret->code == GH_PG_SSL_REQUEST || ret->code == GH_PG_CANCEL_REQUEST ||
			       ret->code == GH_PG_GSSENC_REQUEST
		       ? 0
		       : GH_EINVAL;
	for (;;) {
		const char *k, *v;
		size_t kl, vl;
		if (gh_pg_cstr(body, len, &off, &k, &kl) < 0)
			return GH_EINVAL;
		if (kl == 0)
			break; /* the terminator */
		if (gh_pg_cstr(body, len, &off, &v, &vl) < 0 || startup_param(ret, k, kl, v, vl) < 0)
			return GH_EINVAL;
	}
	return ret->user[0] && off == len ? 0 : GH_EINVAL;
}

int gh_pg_query(const uint8_t *body, size_t len, const char **ret, size_t *ret_len)
{
	size_t off = 0;
	return gh_pg_cstr(body, len, &off, ret, ret_len);
}

int gh_pg_parse(const uint8_t *body, size_t len, const char **ret_name, const char **ret_text,
		size_t *ret_len)
{
	size_t off = 0, nl;
	if (gh_pg_cstr(body, len, &off, ret_name, &nl) < 0 ||
	    gh_pg_cstr(body, len, &off, ret_text, ret_len) < 0 || len - off < 2)
		return GH_EINVAL;
	size_t n = (size_t)body[off] << 8 | body[off + 1];
	return len - off - 2 == n * 4 ? 0 : GH_EINVAL;
}

int gh_pg_error_fields(const uint8_t *body, size_t len, const char **ret_sev,
		       const char **ret_code, const char **ret_msg)
{
	size_t off = 0;
	*ret_sev = *ret_code = *ret_msg = "";
	while (off < len && body[off] != 0) {
		char t = (char)body[off++];
		const char *v;
		size_t vl;
		if (gh_pg_cstr(body, len, &off, &v, &vl) < 0)
			return GH_EINVAL;
		if (t == 'S')
			*ret_sev = v;
		else if (t == 'C')
			*ret_code = v;
		else if (t == 'M')
			*ret_msg = v;
	}
	return off < len ? 0 : GH_EINVAL;
}

int64_t gh_pg_tag_rows(const char *tag)
{
	const char *sp = strrchr(tag, ' ');
	if (!sp || !sp[1])
		return -1;
	int64_t n = 0;
	for (const char *p = sp + 1; *p; p++) {
		if (*p < '0' || *p > '9' || n > INT64_MAX / 10 - 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

int gh_pg_param_status(const uint8_t *body, size_t len, const char **ret_name,
		       const char **ret_value)
{
	size_t off = 0, a, b;
	if (gh_pg_cstr(body, len, &off, ret_name, &a) < 0 ||
	    gh_pg_cstr(body, len, &off, ret_value, &b) < 0)
		return GH_EINVAL;
	return 0;
}

void gh_pg_put_msg(struct gh_buf *b, char type, const void *body, size_t len)
{
	if (len > INT32_MAX - 4) {
		b->err = b->err ? b->err : GH_ELIMIT;
		return;
	}
	gh_buf_putc(b, type);
	put_be32(b, (uint32_t)len + 4);
	gh_buf_put(b, body, len);
}

void gh_pg_put_error(struct gh_buf *b, const char *severity, const char *code, const char *msg)
{
	struct gh_buf f = GH_BUF_MAX(4096);
	gh_buf_putc(&f, 'S');
	gh_buf_put(&f, severity, strlen(severity) + 1);
	gh_buf_putc(&f, 'V');
	gh_buf_put(&f, severity, strlen(severity) + 1);
	gh_buf_putc(&f, 'C');
	gh_buf_put(&f, code, strlen(code) + 1);
	gh_buf_putc(&f, 'M');
	gh_buf_put(&f, msg, strnlen(msg, 2000));
	gh_buf_put(&f, "\0\0", 2);
	if (f.err == 0)
		gh_pg_put_msg(b, 'E', f.p, f.len);
	gh_buf_free(&f);
}

void gh_pg_put_auth(struct gh_buf *b, uint32_t code)
{
	gh_buf_putc(b, 'R');
	put_be32(b, 8);
	put_be32(b, code);
}

void gh_pg_put_ready(struct gh_buf *b, char status)
{
	gh_pg_put_msg(b, 'Z', &status, 1);
}

void gh_pg_put_startup(struct gh_buf *b, const char *user, const char *database,
		       const uint8_t *params, size_t params_len)
{
	size_t ul = strlen(user), dl = database ? strlen(database) : 0;
	size_t len = 4 + 4 + 5 + ul + 1 + (dl ? 9 + dl + 1 : 0) + params_len + 1;
	put_be32(b, (uint32_t)len);
	put_be32(b, GH_PG_PROTO_3);
	gh_buf_put(b, "user", 5);
	gh_buf_put(b, user, ul + 1);
	if (dl) {
		gh_buf_put(b, "database", 9);
		gh_buf_put(b, database, dl + 1);
	}
	gh_buf_put(b, params, params_len);
	gh_buf_putc(b, '\0');
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int md5_of(const void *a, size_t al, const void *b, size_t bl, uint8_t out[16])
{
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(c, a, al) == 1 &&
		 EVP_DigestUpdate(c, b, bl) == 1 && EVP_DigestFinal_ex(c, out, &n) == 1;
	EVP_MD_CTX_free(c);
	return ok && n == 16 ? 0 : GH_ECRYPTO;
}

int gh_pg_md5_password(const char *user, const char *password, const uint8_t salt[4],
		       char ret[36])
{
	uint8_t d[16];
	char h[33];
	int r = md5_of(password, strlen(password), user, strlen(user), d);
	if (r == 0) {
		hex(d, 16, h);
		r = md5_of(h, 32, salt, 4, d);
	}
	if (r == 0) {
		memcpy(ret, "md5", 3);
		hex(d, 16, ret + 3);
	}
	sodium_memzero(h, sizeof h);
	sodium_memzero(d, sizeof d);
	return r;
}

bool gh_pg_sasl_has_scram(const uint8_t *body, size_t len)
{
	size_t off = 0;
	const char *m;
	size_t ml;
	while (gh_pg_cstr(body, len, &off, &m, &ml) == 0 && ml > 0)
		if (!strcmp(m, "SCRAM-SHA-256"))
			return true;
	return false;
}

int gh_pg_scram_first(struct gh_pg_scram *s, struct gh_buf *b)
{
	uint8_t raw[18];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return GH_ECRYPTO;
	EVP_EncodeBlock((unsigned char *)s->nonce, raw, sizeof raw); /* 24 chars */
	snprintf(s->first_bare, sizeof s->first_bare, "n=,r=%s", s->nonce);
	gh_buf_puts(b, "n,,");
	gh_buf_puts(b, s->first_bare);
	return b->err;
}

/* The value of attribute A ("r", "s", "i") in the server-first message. */
static bool scram_attr(const char *msg, char a, const char **ret, size_t *ret_len)
{
	for (const char *p = msg; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l >= 2 && p[0] == a && p[1] == '=') {
			*ret = p + 2;
			*ret_len = l - 2;
			return true;
		}
		p = e ? e + 1 : NULL;
	}
	return false;
}

static int hmac(const uint8_t *key, size_t kl, const void *msg, size_t ml, uint8_t out[32])
{
	unsigned int n = 0;
	return HMAC(EVP_sha256(), key, (int)kl, msg, ml, out, &n) && n == 32 ? 0 : GH_ECRYPTO;
}

/* Parse the server-first message into its nonce, salt and iterations. */
static int scram_server_first(const struct gh_pg_scram *s, const char *sf, const char **nonce,
			      size_t *nl, uint8_t *salt, int *salt_len, long *iter)
{
	const char *sv, *iv;
	size_t sl, il;
	char tmp[16];
	if (!scram_attr(sf, 'r', nonce, nl) || !scram_attr(sf, 's', &sv, &sl) ||
	    !scram_attr(sf, 'i', &iv, &il) || *nl <= strlen(s->nonce) ||
	    memcmp(*nonce, s->nonce, strlen(s->nonce)) || sl == 0 || sl > 172 || sl % 4 || il == 0 ||
	    il >= sizeof tmp)
		return GH_EINVAL;
	int n = EVP_DecodeBlock(salt, (const unsigned char *)sv, (int)sl);
	if (n < 0)
		return GH_EINVAL;
	n -= (sv[sl - 1] == '=') + (sv[sl - 2] == '=');
	*salt_len = n;
	memcpy(tmp, iv, il);
	tmp[il] = '\0';
	char *end = NULL;
	*iter = strtol(tmp, &end, 10);
	if (!end || *end || *iter < 1 || *iter > GH_PG_SCRAM_MAX_ITER)
		return GH_EINVAL;
	return 0;
}

int gh_pg_scram_final(struct gh_pg_scram *s, const char *password, const uint8_t *sf_in,
		      size_t len, struct gh_buf *b)
{
	uint8_t salt[130], salted[32], ck[32], sk[32], stored[32], sig[32], proof[32];
	char *sf = NULL, *auth = NULL, p64[48];
	const char *nonce;
	size_t nl;
	int salt_len = 0, r = GH_EINVAL;
	long iter = 0;
	if (len > 1024 || memchr(sf_in, 0, len) || !(sf = strndup((const char *)sf_in, len)))
		return len > 1024 ? GH_EINVAL : GH_ENOMEM;
	if (scram_server_first(s, sf, &nonce, &nl, salt, &salt_len, &iter) < 0)
		goto out;
	r = GH_ECRYPTO;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, (int)iter,
			      EVP_sha256(), 32, salted) != 1 ||
	    hmac(salted, 32, "Client Key", 10, ck) < 0 || hmac(salted, 32, "Server Key", 10, sk) < 0 ||
	    !SHA256(ck, 32, stored))
		goto out;
	if (asprintf(&auth, "%s,%s,c=biws,r=%.*s", s->first_bare, sf, (int)nl, nonce) < 0) {
		auth = NULL;
		r = GH_ENOMEM;
		goto out;
	}
	if (hmac(stored, 32, auth, strlen(auth), sig) < 0 ||
	    hmac(sk, 32, auth, strlen(auth), s->server_sig) < 0)
		goto out;
	for (int i = 0; i < 32; i++)
		proof[i] = ck[i] ^ sig[i];
	EVP_EncodeBlock((unsigned char *)p64, proof, 32);
	gh_buf_printf(b, "c=biws,r=%.*s,p=%s", (int)nl, nonce, p64);
	r = b->err;
out:
	sodium_memzero(salted, sizeof salted);
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(stored, sizeof stored);
	free(auth);
	free(sf);
	return r;
}

int gh_pg_scram_verify(const struct gh_pg_scram *s, const uint8_t *msg, size_t len)
{
	char want[48];
	EVP_EncodeBlock((unsigned char *)want, s->server_sig, 32);
	size_t wl = strlen(want);
	if (len < 2 + wl || msg[0] != 'v' || msg[1] != '=')
		return GH_EAUTH;
	return sodium_memcmp(msg + 2, want, wl) == 0 && (len == 2 + wl || msg[2 + wl] == ',')
		       ? 0
		       : GH_EAUTH;
}
