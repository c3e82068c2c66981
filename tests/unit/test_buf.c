/* Unit tests for the capped buffer (core/buf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"

static void test_append_and_take(void **state)
{
	struct gh_buf b = { 0 };
	size_t len = 99;
	char *s = gh_buf_take(&b, &len); /* nothing appended: "" */
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	assert_int_equal(gh_buf_puts(&b, "ab"), 0);
	assert_int_equal(gh_buf_putc(&b, 'c'), 0);
	assert_int_equal(gh_buf_put(&b, "d\0e", 3), 0);
	assert_int_equal(gh_buf_printf(&b, "-%d-", 42), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.p, "abcd\0e-42-", 11); /* NUL-terminated */
	/* longer than printf's small buffer, and growth past the first doubling */
	char big[1000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(gh_buf_printf(&b, "%s", big), 0);
	assert_int_equal(b.len, 10 + 999);
	assert_true(b.cap > b.len);
	s = gh_buf_take(&b, &len);
	assert_int_equal(len, 1009);
	assert_int_equal(strlen(s + 7), 1002);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(s);
	gh_buf_free(&b);
	gh_buf_free(NULL);
}

/* The cap: an append that would pass it adds nothing and the error
 * sticks until reset; exactly MAX bytes fit. */
static void test_cap_and_sticky_error(void **state)
{
	struct gh_buf b = GH_BUF_MAX(8);
	assert_int_equal(gh_buf_puts(&b, "12345678"), 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(gh_buf_putc(&b, '9'), GH_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.p, "12345678");
	assert_int_equal(gh_buf_put(&b, "", 0), GH_ELIMIT); /* sticky */
	assert_int_equal(b.err, GH_ELIMIT);
	assert_null(gh_buf_take(&b, NULL));
	gh_buf_reset(&b);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	assert_int_equal(gh_buf_puts(&b, "ok"), 0);
	assert_int_equal(gh_buf_printf(&b, "%s", "toolong"), GH_ELIMIT);
	assert_string_equal(b.p, "ok");
	/* a huge N cannot wrap the length check */
	gh_buf_reset(&b);
	assert_int_equal(gh_buf_put(&b, "x", SIZE_MAX), GH_ELIMIT);
	gh_buf_free(&b);
	assert_int_equal(b.max, 8);
	assert_null(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_take),
		cmocka_unit_test(test_cap_and_sticky_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
