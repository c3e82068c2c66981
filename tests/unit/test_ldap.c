/* LDAP: RFC 4515 escaping of filter values, filter templates, the group
 * map and the LDAP part of the configuration (no directory needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ldap.h"
#include "core/config.h"
#include "core/error.h"

static void test_escape_rfc4515(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "alice", "alice" },
		{ "Parens R Us (for all your parenthetical needs)",
		  "Parens R Us \\28for all your parenthetical needs\\29" },
		{ "*", "\\2a" },
		{ "C:\\MyFile", "C:\\5cMyFile" },
		{ "Lu\xc4\x8di\xc4\x87", "Lu\\c4\\8di\\c4\\87" },
		{ "*)(uid=*", "\\2a\\29\\28uid=\\2a" },
		{ "a)(|(objectClass=*", "a\\29\\28|\\28objectClass=\\2a" },
		{ "tab\there", "tab\\09here" },
		{ "", "" },
	};
	char out[256];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(gh_ldap_escape_filter_value(v[i].in, out, sizeof out), 0);
		assert_string_equal(out, v[i].out);
	}
}

static void test_escape_limit(void **state)
{
	char out[4];
	assert_int_equal(gh_ldap_escape_filter_value("abc", out, sizeof out), 0);
	assert_int_equal(gh_ldap_escape_filter_value("abcd", out, sizeof out), GH_ELIMIT);
	assert_string_equal(out, "");
	assert_int_equal(gh_ldap_escape_filter_value("a*", out, sizeof out), GH_ELIMIT);
}

static void test_filter_fill(void **state)
{
	char *f = NULL;
	assert_int_equal(gh_ldap_filter_fill("(&(objectClass=inetOrgPerson)(uid=%s))", "*)(uid=*", &f),
			 0);
	assert_string_equal(f, "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a))");
	free(f);
	assert_int_equal(gh_ldap_filter_fill("(|(uid=%s)(mail=%s))", "bob", &f), 0);
	assert_string_equal(f, "(|(uid=bob)(mail=bob))");
	free(f);
	/* NULL: every user (the sync's listing) */
	assert_int_equal(gh_ldap_filter_fill("(uid=%s)", NULL, &f), 0);
	assert_string_equal(f, "(uid=*)");
	free(f);
	assert_int_equal(gh_ldap_filter_fill("(uid=alice)", "x", &f), GH_EINVAL);
	assert_int_equal(gh_ldap_filter_fill("uid=%s", "x", &f), GH_EINVAL);
}

static void load(struct gh_config *c, const char *text)
{
	char err[GH_CONFIG_ERRLEN];
	gh_config_init(c);
	assert_int_equal(gh_config_parse_buffer(c, "t.conf", text, err), 0);
	assert_int_equal(gh_config_fill_defaults(c, "/data"), 0);
}

static void test_group_map(void **state)
{
	struct gh_config c;
	load(&c, "ldap_url = ldap://127.0.0.1:389\n"
		 "ldap_user_base = ou=people,dc=example,dc=org\n"
		 "ldap_group_map = cn=ops,ou=groups,dc=example,dc=org => ops\n"
		 "ldap_group_map = CN=DBA, OU=Groups,DC=example,DC=org=>dba\n");
	char err[256];
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), 0);
	char *groups[] = { "cn=DBA,ou=groups,dc=example,dc=org", "cn=web,ou=groups,dc=example,dc=org",
			   "cn=ops,ou=groups,dc=example,dc=org" };
	struct gh_ldap_entry e = { .groups = groups, .n_groups = 3 };
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(gh_ldap_map_groups(&c, &e, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "ops");
	assert_string_equal(names[1], "dba");
	gh_ldap_strv_free(names, n);
	assert_true(gh_ldap_group_managed(&c, "ops"));
	assert_false(gh_ldap_group_managed(&c, "web"));
	gh_config_free(&c);

	/* by name: the first RDN's value; every group is the directory's */
	load(&c, "ldap_url = ldaps://h\nldap_user_base = dc=x\nldap_group_by_name = yes\n");
	assert_int_equal(gh_ldap_map_groups(&c, &e, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[1], "web");
	gh_ldap_strv_free(names, n);
	assert_true(gh_ldap_group_managed(&c, "anything"));
	gh_config_free(&c);
}

static void test_check_config(void **state)
{
	struct gh_config c;
	char err[256];
	load(&c, "");
	assert_false(gh_ldap_enabled(&c));
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), 0);
	gh_config_free(&c);
	load(&c, "ldap_url = http://h\nldap_user_base = dc=x\n");
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "ldap://"));
	gh_config_free(&c);
	load(&c, "ldap_url = ldap://h\nldap_user_base = dc=x\nldap_group_map = no arrow\n");
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), GH_EINVAL);
	gh_config_free(&c);
	load(&c, "ldap_url = ldap://h\nldap_user_base = dc=x\nldap_user_filter = (uid=alice)\n");
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), GH_EINVAL);
	gh_config_free(&c);
	load(&c, "ldap_url = ldap://h\n");
	assert_int_equal(gh_ldap_check_config(&c, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "ldap_user_base"));
	gh_config_free(&c);
}

static void test_empty_password_never_binds(void **state)
{
	struct gh_config c;
	char err[256];
	/* refused before any connection: an empty password would be an
	 * unauthenticated bind, which a directory answers with success */
	load(&c, "ldap_url = ldap://127.0.0.1:1\nldap_user_base = dc=x\n");
	assert_int_equal(gh_ldap_check_password(&c, "uid=a,dc=x", "", err, sizeof err), GH_EAUTH);
	assert_int_equal(gh_ldap_check_password(&c, "", "pw", err, sizeof err), GH_EAUTH);
	gh_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_rfc4515),
		cmocka_unit_test(test_escape_limit),
		cmocka_unit_test(test_filter_fill),
		cmocka_unit_test(test_group_map),
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_empty_password_never_binds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
