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

static void test_dest_listed(void **state)
{
	(void)state;
	const char *list = "10.0.0.5 22\ndb01 5432\n";
	assert_true(gh_jpnode_dest_listed(list, "10.0.0.5", 22));
	assert_true(gh_jpnode_dest_listed(list, "db01", 5432));
	assert_false(gh_jpnode_dest_listed(list, "10.0.0.5", 2));     /* prefix of a port */
	assert_false(gh_jpnode_dest_listed(list, "10.0.0.5", 222));
	assert_false(gh_jpnode_dest_listed(list, "0.0.5", 22));       /* suffix of a host */
	assert_false(gh_jpnode_dest_listed(list, "db01", 22));
	assert_false(gh_jpnode_dest_listed(list, "db01 5432\n10.0.0.5", 22));
	assert_false(gh_jpnode_dest_listed("", "db01", 5432));
	assert_false(gh_jpnode_dest_listed(NULL, "db01", 5432));
	assert_false(gh_jpnode_dest_listed("db01 5432", "db01", 5432)); /* no newline: cut */
	assert_false(gh_jpnode_host_ok("a b"));
	assert_false(gh_jpnode_host_ok(""));
}

static void test_req_parse(void **state)
{
	(void)state;
	char host[256];
	int port = 0;
	assert_int_equal(gh_jpnode_req_parse("10.1.2.3 5432", host, sizeof host, &port), 0);
	assert_string_equal(host, "10.1.2.3");
	assert_int_equal(port, 5432);
	const char *bad[] = { "", "x", "x ", " 22", "x 0", "x 65536", "x 22x", "x -1",
			      "x  22", "x 123456", "a\tb 22" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(gh_jpnode_req_parse(bad[i], host, sizeof host, &port), GH_EINVAL);
	assert_int_equal(gh_jpnode_req_parse("abcdef 22", host, 4, &port), GH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_ok),
		cmocka_unit_test(test_split_refused),
		cmocka_unit_test(test_dest_listed),
		cmocka_unit_test(test_req_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
