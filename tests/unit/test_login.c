/* The SSH login name parser (src/ssh/login.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "ssh/login.h"

static int parse(const char *s, struct gh_login *l)
{
	return gh_login_parse(s, strlen(s), l);
}

static void test_plain_user(void **state)
{
	struct gh_login l;
	assert_int_equal(parse("alice", &l), 0);
	assert_string_equal(l.user, "alice");
	assert_string_equal(l.account, "");
	assert_string_equal(l.asset, "");
}

static void test_full_at(void **state)
{
	struct gh_login l;
	assert_int_equal(parse("alice@deploy@web01", &l), 0);
	assert_string_equal(l.user, "alice");
	assert_string_equal(l.account, "deploy");
	assert_string_equal(l.asset, "web01");
}

static void test_full_hash(void **state)
{
	struct gh_login l;
	assert_int_equal(parse("alice#deploy#web01.prod", &l), 0);
	assert_string_equal(l.user, "alice");
	assert_string_equal(l.account, "deploy");
	assert_string_equal(l.asset, "web01.prod");
	/* with '#' as separator, '@' is an ordinary (invalid) character */
	assert_int_equal(parse("alice#de@ploy#web01", &l), GH_EINVAL);
}

static void test_user_asset(void **state)
{
	struct gh_login l;
	assert_int_equal(parse("alice@web01", &l), 0);
	assert_string_equal(l.user, "alice");
	assert_string_equal(l.account, "");
	assert_string_equal(l.asset, "web01");
	assert_int_equal(parse("alice#web01", &l), 0);
	assert_string_equal(l.asset, "web01");
}

static void test_account_dollar(void **state)
{
	struct gh_login l;
	assert_int_equal(parse("bob@svc$@win01", &l), 0);
	assert_string_equal(l.account, "svc$");
	assert_int_equal(parse("bob$@web01", &l), GH_EINVAL);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"", "@", "@@", "alice@", "@web01", "alice@@web01", "alice@deploy@", "a@b@c@d",
		"alice web01", "-alice", "alice@-x@web01", "al\xc3\xa9", "alice\n", "al/ice",
		"alice#deploy#", "##", "alice@deploy@web01@",
	};
	struct gh_login l;
	memset(&l, 0x55, sizeof l);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i], &l), GH_EINVAL);
		assert_int_equal((unsigned char)l.user[0], 0x55); /* untouched */
	}
}

static void test_lengths(void **state)
{
	char buf[300];
	struct gh_login l;
	memset(buf, 'a', 64);
	buf[64] = '\0';
	assert_int_equal(parse(buf, &l), 0);
	assert_int_equal(strlen(l.user), 64);
	memset(buf, 'a', 65);
	buf[65] = '\0';
	assert_int_equal(parse(buf, &l), GH_EINVAL);
	/* an embedded NUL is refused, and LEN is honoured (no read past it) */
	assert_int_equal(gh_login_parse("alice\0x", 7, &l), GH_EINVAL);
	assert_int_equal(gh_login_parse("alice@web01XXXX", 11, &l), 0);
	assert_string_equal(l.asset, "web01");
	assert_int_equal(gh_login_parse(NULL, 0, &l), GH_EINVAL);
	memset(buf, 'a', sizeof buf);
	assert_int_equal(gh_login_parse(buf, sizeof buf, &l), GH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_user),  cmocka_unit_test(test_full_at),
		cmocka_unit_test(test_full_hash),   cmocka_unit_test(test_user_asset),
		cmocka_unit_test(test_account_dollar), cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
