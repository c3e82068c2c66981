/* The jumpoint registration password (src/ssh/jpnode.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "ssh/jpnode.h"

static int split(const char *s, char *tok, size_t toklen, const char **b64)
{
	return gh_jpnode_reg_split(s, strlen(s), tok, toklen, b64);
}

static void test_split_ok(void **state)
{
	char tok[128];
	const char *b64 = NULL;
	assert_int_equal(split("ghj_ab ssh-ed25519 AAAAC3", tok, sizeof tok, &b64), 0);
	assert_string_equal(tok, "ghj_ab");
	assert_string_equal(b64, "AAAAC3");
}

static void test_split_refused(void **state)
{
	char tok[8];
	const char *b64 = NULL;
	static const char *bad[] = {
		"", "ghj_ab", " ssh-ed25519 AAAA", "ghj_ab ssh-ed25519 ", "ghj_ab ssh-rsa AAAA",
		"ghj_ab ssh-ed25519", "toolongtoken ssh-ed25519 AAAA", /* 12 >= sizeof tok */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(split(bad[i], tok, sizeof tok, &b64), GH_EINVAL);
	/* a NUL inside the bytes received */
	static const char nul[] = "ab\0 ssh-ed25519 AAAA";
	assert_int_equal(gh_jpnode_reg_split(nul, sizeof nul - 1, tok, sizeof tok, &b64), GH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_ok),
		cmocka_unit_test(test_split_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
