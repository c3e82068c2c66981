/* TOTP, base32, otpauth URI and QR rendering (totp.h). */
#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/totp.h"
#include "core/error.h"

#define GH_QR_QUIET 2
#define GH_QR_MAX_COLS 80
#define GH_URI_MAX_ACCOUNT 256

int64_t gh_totp_step(int64_t t)
{
	int64_t q = t / GH_TOTP_STEP;
	return (t % GH_TOTP_STEP != 0 && t < 0) ? q - 1 : q;
}

int gh_totp_code(const uint8_t *secret, size_t len, int64_t step, unsigned digits,
		 char *out, size_t outlen)
{
	char buf[16];
	int r = 0;

	if (!secret || len == 0 || len > GH_TOTP_MAX_SECRET || step < 0 || digits < 6 ||
	    digits > 8 || !out || outlen < digits + 1)
		return GH_EINVAL;
	/* liboath's initialisation is idempotent and process-wide */
	if (oath_init() != OATH_OK)
		return GH_ECRYPTO;
	if (oath_hotp_generate((const char *)secret, len, (uint64_t)step, digits, false,
			       OATH_HOTP_DYNAMIC_TRUNCATION, buf) != OATH_OK) {
		r = GH_ECRYPTO;
		goto out;
	}
	memcpy(out, buf, digits + 1);
out:
	sodium_memzero(buf, sizeof buf);
	return r;
}

int gh_totp_verify(const uint8_t *secret, size_t len, const char *code, unsigned digits,
		   int64_t now, unsigned window, int64_t last_step, int64_t *ret_step)
{
	char want[16];
	int64_t base, found = -1;
	int r = 0;

	if (!secret || !code || !ret_step || digits < 6 || digits > 8 || window > 10 ||
	    strlen(code) != digits || strspn(code, "0123456789") != digits || now < 0)
		return GH_EINVAL;
	base = gh_totp_step(now);
	/* all candidates, no early exit: the timing does not tell which matched */
	for (int64_t s = base - (int64_t)window; s <= base + (int64_t)window; s++) {
		if (s < 0)
			continue;
		if ((r = gh_totp_code(secret, len, s, digits, want, sizeof want)) < 0)
			goto out;
		if (sodium_memcmp(want, code, digits) == 0 && found < 0)
			found = s;
	}
	if (found < 0)
		r = GH_EAUTH;
	else if (found <= last_step)
		r = GH_EPERM;
	else
		*ret_step = found;
out:
	sodium_memzero(want, sizeof want);
	return r;
}

int gh_totp_secret_generate(uint8_t *buf, size_t len)
{
	if (!buf || len == 0 || len > GH_TOTP_MAX_SECRET)
		return GH_EINVAL;
	if (sodium_init() < 0)
		return GH_ECRYPTO;
	randombytes_buf(buf, len);
	return 0;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int gh_base32_encode(const uint8_t *in, size_t n, char *out, size_t outlen, size_t *ret_len)
{
	size_t need, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if ((!in && n > 0) || !out || n > SIZE_MAX / 8 - 4)
		return GH_EINVAL;
	need = (n * 8 + 4) / 5;
	if (outlen < need + 1)
		return GH_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	if (ret_len)
		*ret_len = o;
	return 0;
}

static int b32_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int gh_base32_decode(const char *in, uint8_t *out, size_t outlen, size_t *ret_len)
{
	size_t chars = 0, pad = 0, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	unsigned rem;
	int r = 0;

	if (!in || !out || !ret_len)
		return GH_EINVAL;
	for (const char *p = in; *p; p++) {
		int v;
		if (*p == ' ' || *p == '-') {
			if (pad)
				return GH_EINVAL;
			continue;
		}
		if (*p == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b32_val(*p)) < 0)
			return GH_EINVAL; /* data after padding, or a stray character */
		chars++;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outlen) {
				r = GH_ELIMIT;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= (1u << bits) - 1;
	}
	/* a final group of 8 may hold 2, 4, 5 or 7 characters, never 1, 3 or 6;
	 * padding, when present, fills exactly that group */
	rem = (unsigned)(chars % 8);
	if (chars == 0 || rem == 1 || rem == 3 || rem == 6 || acc != 0 ||
	    (pad && (rem == 0 || pad != 8 - rem))) {
		r = GH_EINVAL;
		goto out;
	}
	*ret_len = o;
out:
	if (r < 0)
		sodium_memzero(out, outlen);
	return r;
}

int gh_totp_uri(const char *account, const uint8_t *secret, size_t len, char **ret)
{
	char sec[GH_TOTP_MAX_SECRET * 8 / 5 + 2], acct[GH_URI_MAX_ACCOUNT * 3 + 1];
	char *uri = NULL;
	size_t alen, o = 0, ulen;
	int r = 0, n;

	if (!account || !secret || !ret || len == 0 || len > GH_TOTP_MAX_SECRET)
		return GH_EINVAL;
	alen = strlen(account);
	if (alen == 0 || alen > GH_URI_MAX_ACCOUNT)
		return GH_EINVAL;
	for (size_t i = 0; i < alen; i++) {
		unsigned char c = (unsigned char)account[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			acct[o++] = (char)c;
		} else {
			acct[o++] = '%';
			acct[o++] = "0123456789ABCDEF"[c >> 4];
			acct[o++] = "0123456789ABCDEF"[c & 15];
		}
	}
	acct[o] = '\0';
	if ((r = gh_base32_encode(secret, len, sec, sizeof sec, NULL)) < 0)
		goto out;
	ulen = sizeof "otpauth://totp/:?secret=&issuer=&algorithm=SHA1&digits=6&period=30" +
	       2 * sizeof GH_TOTP_ISSUER + o + strlen(sec) + 8;
	uri = malloc(ulen);
	if (!uri) {
		r = GH_ENOMEM;
		goto out;
	}
	n = snprintf(uri, ulen, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
		     "&digits=%d&period=%d", GH_TOTP_ISSUER, acct, sec, GH_TOTP_ISSUER,
		     GH_TOTP_DIGITS, GH_TOTP_STEP);
	if (n < 0 || (size_t)n >= ulen) {
		r = GH_EINVAL;
		goto out;
	}
	*ret = uri;
	uri = NULL;
out:
	sodium_memzero(sec, sizeof sec);
	if (uri) {
		sodium_memzero(uri, ulen);
		free(uri);
	}
	return r;
}

int gh_totp_qr_render(const char *text, bool dark_on_light, char **ret, size_t *ret_cols,
		      size_t *ret_lines)
{
	static const char *const cell[4] = { " ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88" };
	QRcode *qr = NULL;
	char *buf = NULL;
	size_t w, side, lines, cap = 0, o = 0;
	int r = 0;

	if (!text || !ret || !*text)
		return GH_EINVAL;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr) {
		r = GH_ELIMIT; /* too long for any QR version (or no memory) */
		goto out;
	}
	w = (size_t)qr->width;
	side = w + 2 * GH_QR_QUIET;
	if (side > GH_QR_MAX_COLS) {
		r = GH_ELIMIT;
		goto out;
	}
	lines = (side + 1) / 2;
	cap = lines * (side * 3 + 1) + 1;
	buf = malloc(cap);
	if (!buf) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t y = 0; y < side; y += 2) {
		for (size_t x = 0; x < side; x++) {
			unsigned k = 0;
			for (unsigned half = 0; half < 2; half++) {
				size_t yy = y + half;
				bool dark = false, drawn;
				if (yy >= side) {
					drawn = false; /* below the last row: background */
				} else {
					if (x >= GH_QR_QUIET && x < GH_QR_QUIET + w &&
					    yy >= GH_QR_QUIET && yy < GH_QR_QUIET + w)
						dark = qr->data[(yy - GH_QR_QUIET) * w +
								(x - GH_QR_QUIET)] & 1;
					drawn = dark_on_light ? dark : !dark;
				}
				if (drawn)
					k |= half == 0 ? 2u : 1u;
			}
			memcpy(buf + o, cell[k], strlen(cell[k]));
			o += strlen(cell[k]);
		}
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*ret = buf;
	buf = NULL;
	if (ret_cols)
		*ret_cols = side;
	if (ret_lines)
		*ret_lines = lines;
out:
	if (buf) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	if (qr) {
		sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	return r;
}
