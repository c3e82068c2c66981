/* The `request` exec command's parser (session/reqcmd.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "session/reqcmd.h"

static void test_is(void **state)
{
	assert_true(gh_reqcmd_is("request"));
	assert_true(gh_reqcmd_is("request db01"));
	assert_true(gh_reqcmd_is("request\tdb01"));
	assert_false(gh_reqcmd_is("requests db01"));
	assert_false(gh_reqcmd_is(" request db01"));
	assert_false(gh_reqcmd_is("known-hosts"));
	assert_false(gh_reqcmd_is(NULL));
}

static void test_full(void **state)
{
	struct gh_reqcmd q;
	char why[128] = "";
	assert_int_equal(gh_reqcmd_parse("request db01 --account root --minutes 120 --ticket "
					 "CHG-123 --reason \"disk is \\\"full\\\" on /var\"",
					 &q, why, sizeof why),
			 0);
	assert_string_equal(q.asset, "db01");
	assert_string_equal(q.account, "root");
	assert_int_equal(q.minutes, 120);
	assert_string_equal(q.ticket, "CHG-123");
	assert_string_equal(q.reason, "disk is \"full\" on /var");
}

static void test_defaults_and_quotes(void **state)
{
	struct gh_reqcmd q;
	char why[128] = "";
	assert_int_equal(gh_reqcmd_parse("request  'db 01'   --account   r'oo't  ", &q, why,
					 sizeof why),
			 0);
	assert_string_equal(q.asset, "db 01");
	assert_string_equal(q.account, "root");
	assert_int_equal(q.minutes, 60);
	assert_string_equal(q.ticket, "");
	assert_string_equal(q.reason, "");
	/* nothing is expanded; a single quote keeps backslashes */
	assert_int_equal(gh_reqcmd_parse("request db --account a --reason '$(rm -rf /) \\\"'", &q,
					 why, sizeof why),
			 0);
	assert_string_equal(q.reason, "$(rm -rf /) \\\"");
	assert_int_equal(gh_reqcmd_parse("request db --account a --reason \"\"", &q, why,
					 sizeof why),
			 0);
	assert_string_equal(q.reason, "");
}

static void test_bad(void **state)
{
	static const char *bad[] = {
		"request",
		"request --account root",
		"request db01",
		"request db01 --account",
		"request db01 --account root --minutes",
		"request db01 --account root --minutes 0",
		"request db01 --account root --minutes -5",
		"request db01 --account root --minutes 12x",
		"request db01 --account root --minutes 99999999999999999999",
		"request db01 --account root --bogus 1",
		"request db01 --account root extra",
		"request db01 --account 'root",
		"request db01 --account root --reason \"open \\\"",
		"request a b c d e f g h i j k l m n o p q r",
		"requests db01 --account root",
	};
	struct gh_reqcmd q;
	char why[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		assert_int_equal(gh_reqcmd_parse(bad[i], &q, why, sizeof why), GH_EINVAL);
		assert_true(why[0] != '\0');
	}
}

static void test_long(void **state)
{
	struct gh_reqcmd q;
	char why[128];
	size_t n = GH_REQCMD_LINE_MAX + 10;
	char *line = malloc(n + 1);
	assert_non_null(line);
	memset(line, 'x', n);
	memcpy(line, "request db --account a --reason ", 32);
	line[n] = '\0';
	assert_int_equal(gh_reqcmd_parse(line, &q, why, sizeof why), GH_EINVAL);
	line[GH_REQCMD_LINE_MAX] = '\0'; /* at the limit: parsed, every byte kept */
	assert_int_equal(gh_reqcmd_parse(line, &q, why, sizeof why), 0);
	assert_int_equal(strlen(q.reason), GH_REQCMD_LINE_MAX - 32);
	free(line);
	/* a tiny WHY buffer is enough */
	assert_int_equal(gh_reqcmd_parse("request", &q, why, 1), GH_EINVAL);
	assert_int_equal(why[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults_and_quotes),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
