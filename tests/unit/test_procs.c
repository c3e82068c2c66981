/* user_procs (store.h): the count behind max_sessions_per_user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "store/store.h"

#include "fixture_store.h"

static bool all_alive(int pid, void *ud)
{
	return true;
}

/* every pid is alive but *(int *)UD */
static bool but_one(int pid, void *ud)
{
	return pid != *(int *)ud;
}

static int claim(struct gh_store *st, int64_t user, int pid, int max_user, int max_total,
		 bool (*alive)(int, void *), void *ud, int64_t *ret_id)
{
	struct gh_proc_claim c = { .user_id = user, .kind = "jump", .pid = pid,
				   .max_user = max_user, .max_total = max_total,
				   .alive = alive, .ud = ud };
	return gh_store_proc_claim(st, &c, ret_id);
}

static void test_limits_bind_release(void **state)
{
	struct gh_store *st = NULL;
	int64_t id[4] = { 0 };
	int n = -1;
	st = fixture_store_open(state);
	assert_int_equal(claim(st, 1, 100, 2, 10, all_alive, NULL, &id[0]), 0);
	assert_int_equal(claim(st, 1, 100, 2, 10, all_alive, NULL, &id[1]), 0);
	assert_int_equal(claim(st, 1, 100, 2, 10, all_alive, NULL, &id[2]), GH_ELIMIT);
	/* another user has room of their own, but not beyond the total */
	assert_int_equal(claim(st, 2, 200, 2, 3, all_alive, NULL, &id[2]), 0);
	assert_int_equal(claim(st, 2, 200, 2, 3, all_alive, NULL, &id[3]), GH_EBUSY);
	assert_int_equal(gh_store_proc_count(st, 1, &n), 0);
	assert_int_equal(n, 2);
	/* the children take their places; one ends */
	assert_int_equal(gh_store_proc_bind(st, id[0], 101), 0);
	assert_int_equal(gh_store_proc_bind(st, id[1], 102), 0);
	assert_int_equal(gh_store_proc_release(st, 101), 0);
	assert_int_equal(claim(st, 1, 100, 2, 10, all_alive, NULL, &id[0]), 0);
	/* a fork that failed gives its place back */
	assert_int_equal(gh_store_proc_drop(st, id[0]), 0);
	assert_int_equal(gh_store_proc_count(st, 1, &n), 0);
	assert_int_equal(n, 1);
	/* a process that is gone without being released: dropped at the next claim */
	int gone = 102;
	assert_int_equal(claim(st, 1, 100, 1, 10, but_one, &gone, &id[0]), 0);
	assert_int_equal(gh_store_proc_count(st, 1, &n), 0);
	assert_int_equal(n, 1);
	gh_store_close(st);
}

/* Processes claiming at once never take more places than there are. */
static void test_concurrent_claims(void **state)
{
	enum { N = 12, MAX = 5 };
	struct gh_store *st = NULL;
	st = fixture_store_open(state);
	gh_store_close(st);
	pid_t kids[N];
	for (int i = 0; i < N; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct gh_store *s = NULL;
			int64_t id = 0;
			if (gh_store_open_sqlite(fixture_store_path(state), 20000, &s) < 0)
				_exit(3);
			int r = claim(s, 7, (int)getpid(), MAX, 1000, all_alive, NULL, &id);
			gh_store_close(s);
			_exit(r == 0 ? 0 : r == GH_ELIMIT ? 1 : 2);
		}
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		int status = 0;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		ok += WEXITSTATUS(status) == 0;
		refused += WEXITSTATUS(status) == 1;
	}
	assert_int_equal(ok, MAX);
	assert_int_equal(refused, N - MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FIXTURE_STORE_TEST(test_limits_bind_release),
		FIXTURE_STORE_TEST(test_concurrent_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
