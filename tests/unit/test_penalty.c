/* Per-source penalties (src/ssh/penalty.c): the threshold, the window,
 * the end of a refusal, and the bound on remembered addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ssh/penalty.h"

static void test_threshold_and_expiry(void **state)
{
	struct gh_penalty *p = gh_penalty_new();
	assert_non_null(p);
	assert_int_equal(gh_penalty_check(p, "10.0.0.1", 0, 60), GH_PENALTY_NONE);
	for (int i = 0; i < 4; i++)
		assert_false(gh_penalty_fail(p, "10.0.0.1", i * 1000, 5, 60));
	assert_int_equal(gh_penalty_check(p, "10.0.0.1", 4000, 60), GH_PENALTY_SUSPECT);
	assert_int_equal(gh_penalty_check(p, "10.0.0.2", 4000, 60), GH_PENALTY_NONE);
	assert_true(gh_penalty_fail(p, "10.0.0.1", 5000, 5, 60));
	assert_int_equal(gh_penalty_check(p, "10.0.0.1", 6000, 60), GH_PENALTY_REFUSED);
	assert_int_equal(gh_penalty_check(p, "10.0.0.1", 64999, 60), GH_PENALTY_REFUSED);
	/* the refusal ends, and with no failure for a window the address is forgotten */
	assert_int_equal(gh_penalty_check(p, "10.0.0.1", 65000, 60), GH_PENALTY_NONE);
	assert_int_equal(gh_penalty_count(p), 0);
	p = gh_penalty_free(p);
	assert_null(p);
}

static void test_window_resets(void **state)
{
	struct gh_penalty *p = gh_penalty_new();
	/* 4 failures a minute apart never reach 5 within the window */
	for (int i = 0; i < 20; i++)
		assert_false(gh_penalty_fail(p, "::1", (int64_t)i * 61000, 5, 60));
	/* threshold 0: never refused, still suspect */
	for (int i = 0; i < 100; i++)
		assert_false(gh_penalty_fail(p, "10.9.9.9", i, 0, 60));
	assert_int_equal(gh_penalty_check(p, "10.9.9.9", 200, 60), GH_PENALTY_SUSPECT);
	gh_penalty_free(p);
}

static void test_bounded(void **state)
{
	struct gh_penalty *p = gh_penalty_new();
	char ip[64];
	for (int i = 0; i < GH_PENALTY_SOURCES * 3; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		gh_penalty_fail(p, ip, i, 20, 60);
	}
	assert_int_equal(gh_penalty_count(p), GH_PENALTY_SOURCES);
	/* the newest is remembered */
	assert_int_equal(gh_penalty_check(p, ip, GH_PENALTY_SOURCES * 3, 60), GH_PENALTY_SUSPECT);
	gh_penalty_free(p);
	gh_penalty_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_and_expiry),
		cmocka_unit_test(test_window_resets),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
