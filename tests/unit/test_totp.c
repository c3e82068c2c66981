/* TOTP (RFC 6238 vectors), base32 (RFC 4648 vectors), URI and QR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/totp.h"
#include "core/error.h"

static const uint8_t rfc_key[] = "12345678901234567890"; /* 20 bytes + NUL */

static void test_rfc6238_vectors(void **state)
{
	static const struct { int64_t t; const char *code; } v[] = {
		{ 59, "94287082" }, { 1111111109, "07081804" }, { 1111111111, "14050471" },
		{ 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000, "65353130" },
	};
	char out[16];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int64_t step = -1;
		assert_int_equal(gh_totp_code(rfc_key, 20, gh_totp_step(v[i].t), 8, out, sizeof out), 0);
		assert_string_equal(out, v[i].code);
		/* and the same code verifies at that time */
		assert_int_equal(gh_totp_verify(rfc_key, 20, v[i].code, 8, v[i].t, 1, -1, &step), 0);
		assert_int_equal(step, v[i].t / 30);
		/* 6 digits are the low 6 of the 8 */
		assert_int_equal(gh_totp_code(rfc_key, 20, gh_totp_step(v[i].t), 6, out, sizeof out), 0);
		assert_string_equal(out, v[i].code + 2);
	}
}

static void test_rfc4226_six_digits(void **state)
{
	static const char *hotp[] = { "755224", "287082", "359152", "969429", "338314",
				      "254676", "287922", "162583", "399871", "520489" };
	char out[8];
	for (int64_t c = 0; c < 10; c++) {
		assert_int_equal(gh_totp_code(rfc_key, 20, c, 6, out, sizeof out), 0);
		assert_string_equal(out, hotp[c]);
	}
	assert_int_equal(gh_totp_code(rfc_key, 20, 0, 6, out, 6), GH_EINVAL);
	assert_int_equal(gh_totp_code(rfc_key, 20, 0, 5, out, sizeof out), GH_EINVAL);
	assert_int_equal(gh_totp_code(rfc_key, 0, 0, 6, out, sizeof out), GH_EINVAL);
	assert_int_equal(gh_totp_step(29), 0);
	assert_int_equal(gh_totp_step(30), 1);
	assert_int_equal(gh_totp_step(-1), -1);
}

static void test_window_and_replay(void **state)
{
	const int64_t now = 1111111111, base = now / 30;
	char c_prev[8], c_now[8], c_next[8], c_far[8];
	int64_t step = 0;

	assert_int_equal(gh_totp_code(rfc_key, 20, base - 1, 6, c_prev, sizeof c_prev), 0);
	assert_int_equal(gh_totp_code(rfc_key, 20, base, 6, c_now, sizeof c_now), 0);
	assert_int_equal(gh_totp_code(rfc_key, 20, base + 1, 6, c_next, sizeof c_next), 0);
	assert_int_equal(gh_totp_code(rfc_key, 20, base + 2, 6, c_far, sizeof c_far), 0);

	assert_int_equal(gh_totp_verify(rfc_key, 20, c_now, 6, now, 1, -1, &step), 0);
	assert_int_equal(step, base);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_prev, 6, now, 1, -1, &step), 0);
	assert_int_equal(step, base - 1);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_next, 6, now, 1, -1, &step), 0);
	assert_int_equal(step, base + 1);
	step = 42;
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_far, 6, now, 1, -1, &step), GH_EAUTH);
	assert_int_equal(step, 42); /* untouched on failure */
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_far, 6, now, 0, -1, &step), GH_EAUTH);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_prev, 6, now, 0, -1, &step), GH_EAUTH);
	assert_int_equal(gh_totp_verify(rfc_key, 20, "000000", 6, now, 1, -1, &step), GH_EAUTH);

	/* replay: a code whose step is <= the last used one is refused */
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_now, 6, now, 1, base, &step), GH_EPERM);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_prev, 6, now, 1, base, &step), GH_EPERM);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_now, 6, now, 1, base - 1, &step), 0);
	assert_int_equal(step, base);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_next, 6, now, 1, base, &step), 0);
	assert_int_equal(step, base + 1);

	/* malformed codes */
	assert_int_equal(gh_totp_verify(rfc_key, 20, "12345", 6, now, 1, -1, &step), GH_EINVAL);
	assert_int_equal(gh_totp_verify(rfc_key, 20, "1234567", 6, now, 1, -1, &step), GH_EINVAL);
	assert_int_equal(gh_totp_verify(rfc_key, 20, "12345a", 6, now, 1, -1, &step), GH_EINVAL);
	assert_int_equal(gh_totp_verify(rfc_key, 20, " 12345", 6, now, 1, -1, &step), GH_EINVAL);
	assert_int_equal(gh_totp_verify(rfc_key, 20, c_now, 6, now, 11, -1, &step), GH_EINVAL);
}

static void b32(const char *in, const char *want)
{
	char out[64];
	uint8_t back[64];
	size_t n = 99, m = 0;
	assert_int_equal(gh_base32_encode((const uint8_t *)in, strlen(in), out, sizeof out, &n), 0);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	if (strlen(in) > 0) {
		assert_int_equal(gh_base32_decode(want, back, sizeof back, &m), 0);
		assert_int_equal(m, strlen(in));
		assert_memory_equal(back, in, m);
	}
}

static void test_base32(void **state)
{
	uint8_t out[64];
	size_t n = 0;
	char enc[64];

	/* RFC 4648 section 10, without padding */
	b32("", "");
	b32("f", "MY");
	b32("fo", "MZXQ");
	b32("foo", "MZXW6");
	b32("foob", "MZXW6YQ");
	b32("fooba", "MZXW6YTB");
	b32("foobar", "MZXW6YTBOI");
	/* padding, lower case, grouping */
	assert_int_equal(gh_base32_decode("MY======", out, sizeof out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(gh_base32_decode("mzxw6yq=", out, sizeof out, &n), 0);
	assert_memory_equal(out, "foob", 4);
	assert_int_equal(gh_base32_decode("MZXW 6YTB-OI", out, sizeof out, &n), 0);
	assert_memory_equal(out, "foobar", 6);
	/* refused */
	static const char *bad[] = { "", "M", "MZX", "MZXW6Y", "MZ", "MY=", "MY======X",
				     "M1", "MY=====", "MZXW6YTB========", "MZXW6YTBOI====", "MY== ====", "M Y!" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (gh_base32_decode(bad[i], out, sizeof out, &n) != GH_EINVAL)
			fail_msg("'%s' decoded", bad[i]);
	assert_int_equal(gh_base32_decode("MZXW6YTBOI", out, 5, &n), GH_ELIMIT);
	assert_int_equal(gh_base32_encode((const uint8_t *)"foobar", 6, enc, 10, &n), GH_ELIMIT);
	/* the RFC 6238 key */
	assert_int_equal(gh_base32_encode(rfc_key, 20, enc, sizeof enc, &n), 0);
	assert_string_equal(enc, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static void test_secret_generate(void **state)
{
	uint8_t a[GH_TOTP_SECRET_LEN], b[GH_TOTP_SECRET_LEN], back[GH_TOTP_SECRET_LEN];
	char enc[64];
	size_t n = 0;
	assert_int_equal(gh_totp_secret_generate(a, sizeof a), 0);
	assert_int_equal(gh_totp_secret_generate(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
	assert_int_equal(gh_base32_encode(a, sizeof a, enc, sizeof enc, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(gh_base32_decode(enc, back, sizeof back, &n), 0);
	assert_int_equal(n, sizeof a);
	assert_memory_equal(a, back, sizeof a);
	assert_int_equal(gh_totp_secret_generate(a, 0), GH_EINVAL);
	assert_int_equal(gh_totp_secret_generate(a, GH_TOTP_MAX_SECRET + 1), GH_EINVAL);
}

static void test_uri(void **state)
{
	char *uri = NULL;
	assert_int_equal(gh_totp_uri("alice", rfc_key, 20, &uri), 0);
	assert_string_equal(uri, "otpauth://totp/Gatehouse:alice?secret="
			    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse&algorithm=SHA1"
			    "&digits=6&period=30");
	free(uri);
	uri = NULL;
	assert_int_equal(gh_totp_uri("a b:c@d/é&x=1?", rfc_key, 20, &uri), 0);
	assert_non_null(strstr(uri, "totp/Gatehouse:a%20b%3Ac%40d%2F%C3%A9%26x%3D1%3F?secret="));
	free(uri);
	uri = NULL;
	assert_int_equal(gh_totp_uri("", rfc_key, 20, &uri), GH_EINVAL);
	assert_int_equal(gh_totp_uri("x", rfc_key, 0, &uri), GH_EINVAL);
	assert_null(uri);
}

/* Count the UTF-8 characters of one line (up to '\n'). */
static size_t line_cells(const char *s, const char **next)
{
	size_t n = 0;
	while (*s && *s != '\n') {
		unsigned char c = (unsigned char)*s;
		s += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		n++;
	}
	*next = *s ? s + 1 : s;
	return n;
}

static void test_qr(void **state)
{
	char *uri = NULL, *q1 = NULL, *q2 = NULL, *q3 = NULL, *inv = NULL;
	const char *p, *next;
	size_t cols = 0, lines = 0, n = 0;

	assert_int_equal(gh_totp_uri("alice@example.com", rfc_key, 20, &uri), 0);
	assert_int_equal(gh_totp_qr_render(uri, false, &q1, &cols, &lines), 0);
	assert_int_equal(gh_totp_qr_render(uri, false, &q2, NULL, NULL), 0);
	assert_string_equal(q1, q2); /* deterministic */
	/* a square of side 21+4k modules plus a quiet zone of 2 on each side */
	assert_true(cols <= 80);
	assert_int_equal((cols - 4 - 21) % 4, 0);
	assert_int_equal(lines, (cols + 1) / 2);
	for (p = q1; *p; p = next) {
		assert_int_equal(line_cells(p, &next), cols);
		n++;
	}
	assert_int_equal(n, lines);
	/* only the four cell characters */
	for (p = q1; *p;) {
		if (*p == ' ' || *p == '\n') {
			p++;
		} else {
			assert_true(strncmp(p, "\xe2\x96\x88", 3) == 0 || strncmp(p, "\xe2\x96\x80", 3) == 0 ||
				    strncmp(p, "\xe2\x96\x84", 3) == 0);
			p += 3;
		}
	}
	/* first line: quiet zone, all light (drawn); second line: the top of
	 * the finder pattern (row 2 dark from x=2 to 8, row 3 dark only at 2 and 8) */
	assert_int_equal(strncmp(q1, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88", 9), 0);
	p = strchr(q1, '\n') + 1;
	assert_int_equal(strncmp(p, "\xe2\x96\x88\xe2\x96\x88 \xe2\x96\x84\xe2\x96\x84\xe2\x96\x84"
				 "\xe2\x96\x84\xe2\x96\x84 ", 23), 0);
	/* dark-on-light is the complement: first line blank */
	assert_int_equal(gh_totp_qr_render(uri, true, &inv, NULL, NULL), 0);
	assert_int_equal(line_cells(inv, &next), cols);
	assert_int_equal(strspn(inv, " "), cols);
	/* another secret, another drawing */
	uri[strlen(uri) - 20] ^= 1;
	assert_int_equal(gh_totp_qr_render(uri, false, &q3, NULL, NULL), 0);
	assert_string_not_equal(q1, q3);
	free(q1);
	free(q2);
	free(q3);
	free(inv);
	free(uri);
}

static void test_qr_limits(void **state)
{
	char *big = malloc(1200), *q = NULL;
	assert_non_null(big);
	memset(big, 'x', 1199);
	big[1199] = '\0';
	assert_int_equal(gh_totp_qr_render(big, false, &q, NULL, NULL), GH_ELIMIT);
	assert_null(q);
	assert_int_equal(gh_totp_qr_render("", false, &q, NULL, NULL), GH_EINVAL);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_rfc4226_six_digits),
		cmocka_unit_test(test_window_and_replay),
		cmocka_unit_test(test_base32),
		cmocka_unit_test(test_secret_generate),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_qr),
		cmocka_unit_test(test_qr_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
