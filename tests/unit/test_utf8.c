/* Unit tests for the UTF-8 encoder (core/utf8.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/utf8.h"

static void enc(uint32_t cp, const char *want, size_t n)
{
	char out[GH_UTF8_MAX] = { 0 };
	assert_int_equal(gh_utf8_encode(cp, out), n);
	assert_memory_equal(out, want, n);
}

static void test_each_length_and_boundary(void **state)
{
	enc(0, "\0", 1);
	enc('A', "A", 1);
	enc(0x7f, "\x7f", 1);
	enc(0x80, "\xc2\x80", 2);
	enc(0xe9, "\xc3\xa9", 2);       /* é */
	enc(0x7ff, "\xdf\xbf", 2);
	enc(0x800, "\xe0\xa0\x80", 3);
	enc(0x20ac, "\xe2\x82\xac", 3); /* € */
	enc(0xd7ff, "\xed\x9f\xbf", 3);
	enc(0xe000, "\xee\x80\x80", 3);
	enc(0xffff, "\xef\xbf\xbf", 3);
	enc(0x10000, "\xf0\x90\x80\x80", 4);
	enc(0x1f600, "\xf0\x9f\x98\x80", 4); /* 😀 */
	enc(0x10ffff, "\xf4\x8f\xbf\xbf", 4);
}

/* Not scalar values: surrogates and anything past U+10FFFF write nothing. */
static void test_not_scalar_values(void **state)
{
	const uint32_t bad[] = { 0xd800, 0xdbff, 0xdc00, 0xdfff, 0x110000, 0x7fffffff, 0xffffffff };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[GH_UTF8_MAX] = { 'k', 'k', 'k', 'k' };
		assert_int_equal(gh_utf8_encode(bad[i], out), 0);
		assert_memory_equal(out, "kkkk", 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_length_and_boundary),
		cmocka_unit_test(test_not_scalar_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
