/* The watcher's screen (src/live/screen.c): what a terminal draws. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "live/screen.h"

static char *render(struct gh_screen *s)
{
	char *p = NULL;
	size_t n = 0;
	assert_int_equal(gh_screen_render(s, &p, &n), 0);
	char *z = malloc(n + 1);
	assert_non_null(z);
	memcpy(z, p, n);
	z[n] = '\0';
	free(p);
	return z;
}

static void test_text_and_cursor(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(24, 80, &s), 0);
	const char in[] = "hello\r\nworld$ ";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "\x1b[2J"));
	assert_non_null(strstr(out, "\x1b[1;1H\x1b[0mhello"));
	assert_non_null(strstr(out, "\x1b[2;1H\x1b[0mworld$"));
	/* the cursor ends after the prompt: row 2, column 8 */
	size_t n = strlen(out);
	assert_true(n > 6 && !strcmp(out + n - 6, "\x1b[2;8H"));
	free(out);
	gh_screen_free(s);
}

static void test_overwritten_and_cleared(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(5, 20, &s), 0);
	const char in[] = "gone\x1b[2J\x1b[Hkept\rK";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_null(strstr(out, "gone"));
	assert_non_null(strstr(out, "Kept"));
	free(out);
	gh_screen_free(s);
}

static void test_colours_and_attributes(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(5, 40, &s), 0);
	const char in[] = "\x1b[1;31mred\x1b[0m \x1b[38;5;200mpink\x1b[0m \x1b[7mrev";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "\x1b[0;1;31mred"));
	assert_non_null(strstr(out, "\x1b[0;38;5;200mpink"));
	assert_non_null(strstr(out, "\x1b[0;7mrev"));
	free(out);
	gh_screen_free(s);
}

static void test_utf8_and_resize(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(3, 10, &s), 0);
	const char in[] = "caf\xc3\xa9 \xe4\xb8\xad!";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "caf\xc3\xa9 \xe4\xb8\xad!"));
	free(out);
	gh_screen_resize(s, 50, 200);
	const char more[] = "\x1b[50;190Hfar";
	gh_screen_feed(s, more, sizeof more - 1);
	out = render(s);
	assert_non_null(strstr(out, "\x1b[50;1H"));
	assert_non_null(strstr(out, "far"));
	free(out);
	gh_screen_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_cursor),
		cmocka_unit_test(test_overwritten_and_cleared),
		cmocka_unit_test(test_colours_and_attributes),
		cmocka_unit_test(test_utf8_and_resize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
