/* The unit tests' one temporary SQLite store: a fresh directory under /tmp
 * and the path of a database in it, for cmocka's setup and teardown (per
 * test, or per group: cmocka hands the group's state to each test).
 *
 *	FIXTURE_STORE_TEST(test_x),	(in the cmocka_unit_test table)
 *	static void test_x(void **state)
 *	{
 *		struct gh_store *st = fixture_store_open(state);
 *		...
 *		gh_store_close(st);
 *	}
 *
 * Every function asserts (the test fails) rather than returning an error. */
#ifndef GH_TESTS_FIXTURE_STORE_H
#define GH_TESTS_FIXTURE_STORE_H

struct gh_store;

/* A cmocka test entry with the store fixture as its setup and teardown. */
#define FIXTURE_STORE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, fixture_store_setup, fixture_store_teardown)

struct fixture_store {
	char dir[64];		/* the temporary directory */
	char dbpath[128];	/* DIR/gh.db, created by the first open */
};

/* *STATE = a new fixture (owned by it: fixture_store_teardown frees). */
int fixture_store_setup(void **state);
/* Removes the directory with everything in it and frees the fixture. */
int fixture_store_teardown(void **state);
/* DIR/gh.db of the fixture in *STATE (borrowed). */
const char *fixture_store_path(void **state);
/* DIR itself, for files a test keeps next to the store (borrowed). */
const char *fixture_store_dir(void **state);
/* The store at DIR/gh.db opened (created and migrated on first use) with a
 * 5 s busy timeout; the caller closes it with gh_store_close. */
struct gh_store *fixture_store_open(void **state);

#endif
