/* notify_webhook: its URL and which events it receives (audit/webhook.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "audit/webhook.h"
#include "core/error.h"
#include "store/store.h"

static void test_url(void **state)
{
	struct gh_webhook_url u;
	assert_int_equal(gh_webhook_url_parse("https://hooks.example.com/a/b?c=1", &u), 0);
	assert_string_equal(u.host, "hooks.example.com");
	assert_string_equal(u.port, "443");
	assert_string_equal(u.path, "/a/b?c=1");
	assert_int_equal(gh_webhook_url_parse("https://127.0.0.1:8443", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8443");
	assert_string_equal(u.path, "/");
	assert_int_equal(gh_webhook_url_parse("https://[::1]:9/x", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9");
	static const char *bad[] = {
		"http://h/x", "https://", "https:///x", "https://h:/x", "https://h:x1/",
		"https://h:123456/", "https://[::1/x", "https://[::1]x/", "https://u@h/",
		"https://h/a b", "https://h/a\r\nX: y", NULL, "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (gh_webhook_url_parse(bad[i], &u) != GH_EINVAL)
			fail_msg("accepted bad URL %zu", i);
}

static void test_wants(void **state)
{
	struct gh_event e = { .kind = "change", .method = "access request" };
	assert_true(gh_webhook_wants(&e));
	e.method = "access approve";
	assert_true(gh_webhook_wants(&e));
	e.method = "access deny";
	assert_true(gh_webhook_wants(&e));
	e.method = "perm add";
	assert_false(gh_webhook_wants(&e));
	e.method = NULL;
	assert_false(gh_webhook_wants(&e));
	e.kind = "login";
	e.method = "access request";
	assert_false(gh_webhook_wants(&e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_wants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
