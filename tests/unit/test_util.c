#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"

/* gh_strjoin: the menu's node lists (no strcat into a computed buffer). */
static void test_strjoin(void **state)
{
	(void)state;
	const char *v[] = { "/prod/web", "/eu", "" };
	char *s = NULL;
	assert_int_equal(gh_strjoin(v, 2, ",", &s), 0);
	assert_string_equal(s, "/prod/web,/eu");
	free(s);
	assert_int_equal(gh_strjoin(v, 3, ", ", &s), 0);
	assert_string_equal(s, "/prod/web, /eu, ");
	free(s);
	assert_int_equal(gh_strjoin(v, 1, ",", &s), 0);
	assert_string_equal(s, "/prod/web");
	free(s);
	assert_int_equal(gh_strjoin(NULL, 0, ",", &s), 0);
	assert_string_equal(s, "");
	free(s);
	s = NULL;
	const char *bad[] = { "a", NULL };
	assert_int_equal(gh_strjoin(bad, 2, ",", &s), GH_EINVAL);
	assert_null(s);
	assert_int_equal(gh_strjoin(v, 2, NULL, &s), GH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_strjoin) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
