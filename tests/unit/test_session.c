/* The session core (src/session/session.h): one row, exactly one end
 * event whatever the way out, the gate's refusal audited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "policy/policy.h"
#include "session/authz.h"
#include "session/session.h"
#include "store/store.h"

static char dir[64], dbpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ghsessXXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/gh.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Session events of row ID: "start", "end", ... in order, joined by ','. */
static void results(struct gh_store *st, const char *id, char *buf, size_t len)
{
	struct gh_event *ev = NULL;
	size_t n = 0;
	buf[0] = '\0';
	assert_int_equal(gh_store_event_list(st, "session", 1000, &ev, &n), 0);
	for (size_t i = n; i-- > 0;) /* newest first */
		if (ev[i].session_id && !strcmp(ev[i].session_id, id)) {
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, "%s%s", used ? "," : "", ev[i].result);
		}
	gh_events_free(ev, n);
}

static struct gh_sess *open_one(struct gh_store *st, const char *kind)
{
	struct gh_sess *s = NULL;
	struct gh_sess_opts o = { .st = st, .user_id = 1, .user = "alice", .source_ip = "10.0.0.1",
				  .source_port = 4000, .asset = "web01", .account = "deploy",
				  .protocol = "ssh", .kind = kind };
	assert_int_equal(gh_sess_open(&o, &s), 0);
	assert_non_null(gh_sess_id(s));
	assert_int_equal(gh_sess_state(s), GH_SESS_OPEN);
	return s;
}

static void test_one_end_event(void **state)
{
	struct gh_store *st = NULL;
	struct gh_session row;
	char id[33], got[256];
	(void)state;
	assert_int_equal(gh_store_open_sqlite(dbpath, 5000, &st), 0);
	/* ended by the door, then again, then freed: one end event */
	struct gh_sess *s = open_one(st, "exec");
	snprintf(id, sizeof id, "%s", gh_sess_id(s));
	gh_sess_running(s, "echo hi");
	struct gh_sess_result res = { .exit_status = 3, .bytes_in = 5, .bytes_out = 7 };
	assert_int_equal(gh_sess_end(s, &res, "target closed"), 0);
	assert_int_equal(gh_sess_state(s), GH_SESS_ENDED);
	assert_int_equal(gh_sess_end(s, NULL, "again"), 0);
	s = gh_sess_free(s);
	results(st, id, got, sizeof got);
	assert_string_equal(got, "start,end");
	memset(&row, 0, sizeof row);
	assert_int_equal(gh_store_session_get(st, id, &row), 0);
	assert_true(row.ended_at > 0);
	assert_int_equal(row.exit_status, 3);
	assert_string_equal(row.close_reason, "target closed");
	gh_session_free(&row);
	/* freed without an end: ended once, "ended" */
	s = open_one(st, "menu");
	snprintf(id, sizeof id, "%s", gh_sess_id(s));
	s = gh_sess_free(s);
	results(st, id, got, sizeof got);
	assert_string_equal(got, "end");
	memset(&row, 0, sizeof row);
	assert_int_equal(gh_store_session_get(st, id, &row), 0);
	assert_string_equal(row.close_reason, "ended");
	gh_session_free(&row);
	gh_store_close(st);
}

static void test_refused_by_the_gate(void **state)
{
	struct gh_store *st = NULL;
	struct gh_authz dec;
	struct gh_event *ev = NULL;
	size_t n = 0;
	(void)state;
	assert_int_equal(gh_store_open_sqlite(dbpath, 5000, &st), 0);
	struct gh_sess *s = open_one(st, "shell");
	/* no such user in the store: refused, audited as a policy deny */
	assert_int_equal(gh_sess_authorize(s, "web01", "deploy", GH_PROTO_SSH, &dec), GH_EPERM);
	assert_false(dec.allow);
	assert_int_equal(gh_sess_state(s), GH_SESS_OPEN);
	assert_int_equal(gh_store_event_list(st, "policy", 10, &ev, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].result, "deny");
	assert_string_equal(ev[0].session_id, gh_sess_id(s));
	gh_events_free(ev, n);
	assert_int_equal(gh_sess_end(s, NULL, "not permitted"), 0);
	s = gh_sess_free(s);
	gh_store_close(st);
}

static void test_bad_options(void **state)
{
	struct gh_sess *s = NULL;
	struct gh_sess_opts o = { .user = "alice", .protocol = "ssh", .kind = "exec" };
	(void)state;
	assert_int_equal(gh_sess_open(&o, &s), GH_EINVAL);
	assert_null(s);
	assert_null(gh_sess_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_end_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_the_gate, setup, teardown),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
