#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/chain.h"
#include "audit/export.h"
#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#include "fixture_store.h"

static void test_names_and_targets(void **state)
{
	struct gh_syslog_target t;
	assert_string_equal(gh_export_event_name("login"), "login_log");
	assert_string_equal(gh_export_event_name("session"), "session_log");
	assert_string_equal(gh_export_event_name("command"), "command_log");
	assert_string_equal(gh_export_event_name("file"), "ftp_log");
	assert_string_equal(gh_export_event_name("change"), "operate_log");
	assert_string_equal(gh_export_event_name("tunnel"), "tunnel");
	assert_int_equal(gh_syslog_facility("authpriv"), 10);
	assert_int_equal(gh_syslog_facility("local0"), 16);
	assert_int_equal(gh_syslog_facility("local7"), 23);
	assert_int_equal(gh_syslog_facility("local8"), -1);
	assert_int_equal(gh_syslog_target_parse("udp:127.0.0.1:514", &t), 0);
	assert_int_equal(t.proto, GH_SYSLOG_UDP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 514);
	assert_int_equal(gh_syslog_target_parse("tcp:[::1]:601", &t), 0);
	assert_int_equal(t.proto, GH_SYSLOG_TCP);
	assert_string_equal(t.host, "::1");
	assert_int_equal(gh_syslog_target_parse("unix:/dev/log", &t), 0);
	assert_string_equal(t.path, "/dev/log");
	assert_int_equal(gh_syslog_target_parse("unix:dev/log", &t), GH_EINVAL);
	assert_int_equal(gh_syslog_target_parse("tcp:host", &t), GH_EINVAL);
	assert_int_equal(gh_syslog_target_parse("http://x:1", &t), GH_EINVAL);
	assert_int_equal(gh_syslog_target_parse("udp:127.0.0.1:99999", &t), GH_EINVAL);
}

static void test_config_keys(void **state)
{
	static const char *const good[] = { "syslog_target = udp:127.0.0.1:514\n",
					    "syslog_target = tcp:[::1]:601\n",
					    "syslog_target = unix:/dev/log\n", "syslog_target =\n",
					    "syslog_facility = local3\n",
					    "recording_retention_days = 90\n" };
	static const char *const bad[] = { "syslog_target = udp:host\n", "syslog_target = x\n",
					   "syslog_facility = local9\n",
					   "recording_retention_days = -1\n" };
	char err[GH_CONFIG_ERRLEN];
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct gh_config c;
		gh_config_init(&c);
		assert_int_equal(gh_config_parse_buffer(&c, "t", good[i], err), 0);
		gh_config_free(&c);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct gh_config c;
		gh_config_init(&c);
		assert_int_equal(gh_config_parse_buffer(&c, "t", bad[i], err), GH_EINVAL);
		gh_config_free(&c);
	}
	struct gh_config c;
	gh_config_init(&c);
	assert_int_equal(gh_config_fill_defaults(&c, "/tmp/x"), 0);
	assert_string_equal(c.syslog_facility, "authpriv");
	assert_string_equal(c.syslog_target, "");
	assert_int_equal(c.recording_retention_days, 0);
	gh_config_free(&c);
}

static void test_syslog_format(void **state)
{
	struct gh_event e = { 0 };
	char buf[4096];
	e.id = 7;
	e.ts = 1767225600;
	e.kind = (char *)"login";
	e.user_name = (char *)"al\"ice\n";
	e.result = (char *)"failure";
	e.hash = (char *)"ab";
	long n = gh_syslog_format(&e, 10, "host", 42, buf, sizeof buf);
	assert_true(n > 0);
	/* authpriv (10) * 8 + warning (4) */
	const char *head = "<84>1 2026-01-01T00:00:00Z host gatehouse 42 login_log - {";
	assert_memory_equal(buf, head, strlen(head));
	json_error_t err;
	json_t *j = json_loads(strchr(buf, '{'), 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "login_log");
	assert_string_equal(json_string_value(json_object_get(j, "user")), "al\"ice\n");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
	assert_true(json_is_null(json_object_get(j, "asset")));
	json_decref(j);
	assert_int_equal(gh_syslog_format(&e, 10, "host", 42, buf, 40), GH_ELIMIT);
	/* a name presented as arbitrary bytes still exports as valid JSON */
	e.user_name = (char *)"bad\xff\xc0\xed\xa0\x80name\xe2\x82";
	n = gh_syslog_format(&e, 10, "host", 42, buf, sizeof buf);
	assert_true(n > 0);
	j = json_loads(strchr(buf, '{'), 0, &err);
	assert_non_null(j);
	assert_non_null(strstr(json_string_value(json_object_get(j, "user")), "name"));
	json_decref(j);
}

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_chain_tip_catches_a_cut_end(void **state)
{
	struct gh_store *st = NULL;
	struct gh_chain_report rep;
	struct gh_audit_who w = { .user = "u", .source = "cli" };
	st = fixture_store_open(state);
	assert_int_equal(gh_chain_verify(st, &rep), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(gh_audit_change(st, &w, "user add", true, "\"x\""), 0);
	assert_int_equal(gh_chain_verify(st, &rep), 0);
	assert_int_equal(rep.checked, 5);
	assert_int_equal(rep.tip_id, 5);
	gh_store_close(st);
	exec_sql(fixture_store_path(state), "DELETE FROM events WHERE id = 5");
	st = fixture_store_open(state);
	assert_int_equal(gh_chain_verify(st, &rep), GH_ECRYPTO);
	assert_int_equal(rep.bad_id, 5);
	assert_non_null(strstr(rep.problem, "missing"));
	/* the export cursor */
	int64_t c = -1;
	assert_int_equal(gh_store_cursor_get(st, "syslog", &c), GH_ENOENT);
	assert_int_equal(gh_store_cursor_set(st, "syslog", 3), 0);
	assert_int_equal(gh_store_cursor_set(st, "syslog", 4), 0);
	assert_int_equal(gh_store_cursor_get(st, "syslog", &c), 0);
	assert_int_equal(c, 4);
	gh_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_targets),
		cmocka_unit_test(test_syslog_format),
		cmocka_unit_test(test_config_keys),
		FIXTURE_STORE_TEST(test_chain_tip_catches_a_cut_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
