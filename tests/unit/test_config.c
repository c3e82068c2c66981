#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/util.h"

static void test_defaults(void **state)
{
	struct gh_config c;
	char err[GH_CONFIG_ERRLEN];
	gh_config_init(&c);
	assert_int_equal(gh_config_parse_buffer(&c, "x.conf", "", err), 0);
	assert_int_equal(gh_config_fill_defaults(&c, "/srv/gh"), 0);
	assert_string_equal(c.ssh_listen, "0.0.0.0:2222");
	assert_string_equal(c.database_path, "/srv/gh/db/gatehouse.db");
	assert_string_equal(c.recordings_dir, "/srv/gh/recordings");
	assert_int_equal(c.max_auth_tries, 6);
	assert_int_equal(c.record_input, 0);
	gh_config_free(&c);
}

static void test_values_and_comments(void **state)
{
	struct gh_config c;
	char err[GH_CONFIG_ERRLEN];
	gh_config_init(&c);
	assert_int_equal(gh_config_parse_buffer(&c, "x.conf",
		"# comment\n\n  ssh_listen = 127.0.0.1:2022  \nrecord_input=yes\nmax_auth_tries = 3\n"
		"recordings_dir = /var/rec\npassword_hash_strength = moderate\n", err), 0);
	assert_int_equal(gh_config_fill_defaults(&c, "/d"), 0);
	assert_string_equal(c.ssh_listen, "127.0.0.1:2022");
	assert_int_equal(c.record_input, 1);
	assert_int_equal(c.max_auth_tries, 3);
	assert_int_equal(c.password_hash_strength, 1);
	assert_string_equal(c.recordings_dir, "/var/rec");
	assert_int_equal(c.login_grace_time, 60); /* untouched -> default */
	gh_config_free(&c);
}

static void expect_error(const char *text, const char *want)
{
	struct gh_config c;
	char err[GH_CONFIG_ERRLEN];
	gh_config_init(&c);
	assert_int_equal(gh_config_parse_buffer(&c, "/etc/gh.conf", text, err), GH_EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
	gh_config_free(&c);
}

static void test_errors_name_file_and_line(void **state)
{
	expect_error("ssh_listen = 1.2.3.4:22\nbogus_key = 1\n", "/etc/gh.conf:2: unknown key 'bogus_key'");
	expect_error("\n\nmax_auth_tries = lots\n", "/etc/gh.conf:3: bad value 'lots' for max_auth_tries");
	expect_error("max_auth_tries = 0\n", "/etc/gh.conf:1:");
	expect_error("max_auth_tries = 99999999999999999999\n", "/etc/gh.conf:1:");
	expect_error("record_input = maybe\n", "/etc/gh.conf:1: bad value 'maybe' for record_input");
	expect_error("ssh_listen = 127.0.0.1:99999\n", "/etc/gh.conf:1: bad value");
	expect_error("ssh_listen = :22\n", "/etc/gh.conf:1: bad value");
	expect_error("just words\n", "/etc/gh.conf:1: expected 'key = value'");
	expect_error("log_level = loud\n", "/etc/gh.conf:1: bad value 'loud' for log_level");
	expect_error("bad\x01key = 1\n", "unknown key 'bad\\x01key'");
}

static void test_file_errors(void **state)
{
	struct gh_config c;
	char err[GH_CONFIG_ERRLEN];
	char path[] = "/tmp/ghcfgXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "max_sessions = 5\nnope\n", 22), 22);
	close(fd);
	gh_config_init(&c);
	assert_int_equal(gh_config_parse_file(&c, path, err), GH_EINVAL);
	char want[600];
	snprintf(want, sizeof want, "%s:2:", path);
	assert_non_null(strstr(err, want));
	gh_config_free(&c);
	unlink(path);

	gh_config_init(&c);
	assert_true(gh_config_parse_file(&c, "/nonexistent/gh.conf", err) < 0);
	assert_non_null(strstr(err, "/nonexistent/gh.conf"));
	gh_config_free(&c);
}

static void test_util_time(void **state)
{
	int64_t t;
	assert_int_equal(gh_parse_time("2026-01-02", &t), 0);
	assert_int_equal(t, 1767312000);
	assert_int_equal(gh_parse_time("2026-01-02T03:04:05Z", &t), 0);
	assert_int_equal(t, 1767312000 + 3 * 3600 + 4 * 60 + 5);
	assert_int_equal(gh_parse_time("2026-01-02T03:04+01:00", &t), 0);
	assert_int_equal(t, 1767312000 + 2 * 3600 + 4 * 60);
	assert_int_equal(gh_parse_time("2026-02-30", &t), GH_EINVAL);
	assert_int_equal(gh_parse_time("2026-13-01", &t), GH_EINVAL);
	assert_int_equal(gh_parse_time("tomorrow", &t), GH_EINVAL);
	assert_int_equal(gh_parse_time("2026-01-02T03", &t), GH_EINVAL);
	char buf[32];
	assert_string_equal(gh_format_time(1767312000, buf, sizeof buf), "2026-01-02T00:00:00Z");
}

static void test_util_hostport(void **state)
{
	char *h = NULL;
	int port = 0;
	assert_int_equal(gh_parse_hostport("10.0.0.1:22", &h, &port), 0);
	assert_string_equal(h, "10.0.0.1");
	assert_int_equal(port, 22);
	free(h);
	port = 0;
	assert_int_equal(gh_parse_hostport("[::1]:2222", &h, &port), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 2222);
	free(h);
	port = 22;
	assert_int_equal(gh_parse_hostport("web01", &h, &port), 0);
	assert_int_equal(port, 22);
	free(h);
	port = 0;
	assert_int_equal(gh_parse_hostport("web01:0", &h, &port), GH_EINVAL);
	assert_int_equal(gh_parse_hostport("web01:x", &h, &port), GH_EINVAL);
	assert_true(gh_valid_name("web-01.prod_a"));
	assert_false(gh_valid_name("-web"));
	assert_false(gh_valid_name("a b"));
	assert_false(gh_valid_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_comments),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_util_time),
		cmocka_unit_test(test_util_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
