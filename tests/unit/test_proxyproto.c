/* The PROXY protocol parser (src/core/proxyproto.c): v1 and v2 headers,
 * LOCAL, the incremental "need more" contract, and malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/proxyproto.h"

static const uint8_t SIG[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

/* A v2 header: VERCMD, FAM, BODY (LEN bytes) into OUT; returns its size. */
static size_t v2(uint8_t *out, uint8_t vercmd, uint8_t fam, const uint8_t *body, size_t len)
{
	memcpy(out, SIG, 12);
	out[12] = vercmd;
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (len)
		memcpy(out + 16, body, len);
	return 16 + len;
}

static const uint8_t TCP4_BODY[12] = { 192, 0, 2, 1, 127, 0, 0, 1, 0xc8, 0x32, 0x08, 0xae };

static void test_v2_tcp4(void **state)
{
	uint8_t b[64];
	struct gh_proxy_hdr h;
	size_t n = v2(b, 0x21, 0x11, TCP4_BODY, sizeof TCP4_BODY);
	memcpy(b + n, "SSH-2.0-", 8); /* what follows is not consumed */
	assert_int_equal(gh_proxy_parse(b, n + 8, &h, NULL), 0);
	assert_int_equal(h.len, n);
	assert_false(h.local);
	assert_int_equal(h.version, 2);
	assert_string_equal(h.src_ip, "192.0.2.1");
	assert_int_equal(h.src_port, 51250);
	assert_string_equal(h.dst_ip, "127.0.0.1");
	assert_int_equal(h.dst_port, 2222);
}

static void test_v2_tcp6_and_tlvs(void **state)
{
	uint8_t body[36 + 7] = { 0x20, 0x01, 0x0d, 0xb8 };
	body[15] = 1;     /* 2001:db8::1 */
	body[31] = 1;     /* ::1 */
	body[32] = 0x30;  /* 12345 */
	body[33] = 0x39;
	body[34] = 0x08;
	body[35] = 0xae;
	memcpy(body + 36, "\x05\x00\x04uid1", 7); /* a TLV (unique id): ignored */
	uint8_t b[128];
	struct gh_proxy_hdr h;
	size_t n = v2(b, 0x21, 0x21, body, sizeof body);
	assert_int_equal(gh_proxy_parse(b, n, &h, NULL), 0);
	assert_string_equal(h.src_ip, "2001:db8::1");
	assert_int_equal(h.src_port, 12345);
	assert_int_equal(h.len, n);
	/* an IPv4-mapped client is written as IPv4 */
	memset(body, 0, 16);
	body[10] = body[11] = 0xff;
	body[12] = 10, body[13] = 1, body[14] = 2, body[15] = 3;
	n = v2(b, 0x21, 0x21, body, 36);
	assert_int_equal(gh_proxy_parse(b, n, &h, NULL), 0);
	assert_string_equal(h.src_ip, "10.1.2.3");
}

static void test_v2_local(void **state)
{
	uint8_t b[64];
	struct gh_proxy_hdr h;
	size_t n = v2(b, 0x20, 0x00, NULL, 0);
	assert_int_equal(gh_proxy_parse(b, n, &h, NULL), 0);
	assert_true(h.local);
	assert_int_equal(h.len, 16);
	/* LOCAL with addresses: they are ignored */
	n = v2(b, 0x20, 0x11, TCP4_BODY, sizeof TCP4_BODY);
	assert_int_equal(gh_proxy_parse(b, n, &h, NULL), 0);
	assert_true(h.local);
	assert_string_equal(h.src_ip, "");
}

static void test_v2_malformed(void **state)
{
	uint8_t b[2048];
	size_t n;
	n = v2(b, 0x11, 0x11, TCP4_BODY, 12); /* version 1 in a v2 header */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	n = v2(b, 0x22, 0x11, TCP4_BODY, 12); /* command 2 */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	n = v2(b, 0x21, 0x11, TCP4_BODY, 11); /* too short for TCP4 */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	n = v2(b, 0x21, 0x21, TCP4_BODY, 12); /* too short for TCP6 */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	n = v2(b, 0x21, 0x12, TCP4_BODY, 12); /* UDP */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	n = v2(b, 0x21, 0x00, NULL, 0); /* PROXY with no address */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	uint8_t unixb[216] = { 0 };
	n = v2(b, 0x21, 0x31, unixb, sizeof unixb); /* unix socket */
	assert_int_equal(gh_proxy_parse(b, n, NULL, NULL), GH_EINVAL);
	/* a length past the bound is refused at once, without waiting for it */
	v2(b, 0x21, 0x11, TCP4_BODY, 12);
	b[14] = 0xff, b[15] = 0xff;
	assert_int_equal(gh_proxy_parse(b, 16, NULL, NULL), GH_EINVAL);
	/* a broken signature */
	v2(b, 0x21, 0x11, TCP4_BODY, 12);
	b[7] = 'q';
	assert_int_equal(gh_proxy_parse(b, 28, NULL, NULL), GH_EINVAL);
}

static void test_incremental(void **state)
{
	uint8_t b[64];
	size_t need = 0;
	struct gh_proxy_hdr h;
	size_t n = v2(b, 0x21, 0x11, TCP4_BODY, sizeof TCP4_BODY);
	/* byte by byte as the reader would, never asked to read past the header */
	size_t have = 0;
	int r;
	while ((r = gh_proxy_parse(b, have, &h, &need)) == GH_EBUSY) {
		assert_true(need > have);
		assert_true(need <= n);
		have = need;
	}
	assert_int_equal(r, 0);
	assert_int_equal(have, n);
	/* the same for the shortest v1 header, and a longer one */
	const char *v1s[] = { "PROXY UNKNOWN\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" };
	for (size_t k = 0; k < 2; k++) {
		const uint8_t *t = (const uint8_t *)v1s[k];
		have = 0;
		while ((r = gh_proxy_parse(t, have, &h, &need)) == GH_EBUSY) {
			assert_true(need > have);
			assert_true(need <= strlen(v1s[k]));
			have = need;
		}
		assert_int_equal(r, 0);
		assert_int_equal(have, strlen(v1s[k]));
	}
	/* not a header at all: refused on the first byte */
	assert_int_equal(gh_proxy_parse((const uint8_t *)"S", 1, NULL, &need), GH_EINVAL);
	assert_int_equal(gh_proxy_parse((const uint8_t *)"SSH-2.0-x\r\n", 11, NULL, &need),
			 GH_EINVAL);
	assert_int_equal(gh_proxy_parse(NULL, 0, NULL, &need), GH_EBUSY);
}

static int p1(const char *s, struct gh_proxy_hdr *h)
{
	return gh_proxy_parse((const uint8_t *)s, strlen(s), h, NULL);
}

static void test_v1(void **state)
{
	struct gh_proxy_hdr h;
	assert_int_equal(p1("PROXY TCP4 192.0.2.1 198.51.100.2 51234 2222\r\nSSH", &h), 0);
	assert_int_equal(h.version, 1);
	assert_string_equal(h.src_ip, "192.0.2.1");
	assert_int_equal(h.src_port, 51234);
	assert_int_equal(h.dst_port, 2222);
	assert_int_equal(h.len, strlen("PROXY TCP4 192.0.2.1 198.51.100.2 51234 2222\r\n"));
	assert_int_equal(p1("PROXY TCP6 2001:db8::5 ::1 0 65535\r\n", &h), 0);
	assert_string_equal(h.src_ip, "2001:db8::5");
	assert_int_equal(p1("PROXY UNKNOWN\r\n", &h), 0);
	assert_true(h.local);
	assert_int_equal(p1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &h), 0);
	assert_true(h.local);
}

static void test_v1_malformed(void **state)
{
	const char *bad[] = {
		"PROXY TCP4 192.0.2.1 198.51.100.2 51234\r\n",        /* a port missing */
		"PROXY TCP4 192.0.2.1 198.51.100.2 51234 2222 9\r\n", /* one too many */
		"PROXY TCP4 192.0.2.1  198.51.100.2 51234 2222\r\n",  /* two spaces */
		"PROXY TCP4 192.0.2.1 198.51.100.2 51234 2222 \r\n",  /* trailing space */
		"PROXY TCP4 192.0.2.1 198.51.100.2 65536 2222\r\n",   /* port too big */
		"PROXY TCP4 192.0.2.1 198.51.100.2 -1 2222\r\n",      /* signed port */
		"PROXY TCP4 192.0.2.1 198.51.100.2 0080 2222\r\n",    /* leading zero */
		"PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",        /* v6 in TCP4 */
		"PROXY TCP6 192.0.2.1 ::1 1 2\r\n",                   /* v4 in TCP6 */
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",                   /* short IPv4 */
		"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",                 /* not TCP */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",                   /* bare LF */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",                  /* CR without LF */
		"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",                /* empty protocol */
		"PROXY \r\n",                                         /* nothing */
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",                 /* lower case */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = p1(bad[i], NULL);
		if (r != GH_EINVAL)
			fail_msg("accepted or waiting (%d): %s", r, bad[i]);
	}
	/* a NUL inside a field is not a terminator */
	const char nul[] = "PROXY TCP4 1.2.3.4\0x 5.6.7.8 1 2\r\n";
	assert_int_equal(gh_proxy_parse((const uint8_t *)nul, sizeof nul - 1, NULL, NULL),
			 GH_EINVAL);
	/* 107 bytes without CRLF: refused, not waited for */
	char longl[200];
	memset(longl, 'A', sizeof longl);
	memcpy(longl, "PROXY TCP4 ", 11);
	assert_int_equal(gh_proxy_parse((const uint8_t *)longl, 107, NULL, NULL), GH_EINVAL);
	size_t need = 0;
	assert_int_equal(gh_proxy_parse((const uint8_t *)longl, 106, NULL, &need), GH_EBUSY);
	assert_int_equal(need, 107);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_tcp4),	    cmocka_unit_test(test_v2_tcp6_and_tlvs),
		cmocka_unit_test(test_v2_local),    cmocka_unit_test(test_v2_malformed),
		cmocka_unit_test(test_incremental), cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v1_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
