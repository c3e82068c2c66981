/* See fixture_store.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"
#include "fixture_store.h"

int fixture_store_setup(void **state)
{
	struct fixture_store *f = calloc(1, sizeof *f);
	assert_non_null(f);
	int r = snprintf(f->dir, sizeof f->dir, "/tmp/ghunitXXXXXX");
	assert_true(r > 0 && (size_t)r < sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	r = snprintf(f->dbpath, sizeof f->dbpath, "%s/gh.db", f->dir);
	assert_true(r > 0 && (size_t)r < sizeof f->dbpath);
	*state = f;
	return 0;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int fixture_store_teardown(void **state)
{
	struct fixture_store *f = *state;
	int r = 0;
	if (!f)
		return 0;
	if (nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		r = -1;
	free(f);
	*state = NULL;
	return r;
}

const char *fixture_store_path(void **state)
{
	const struct fixture_store *f = *state;
	assert_non_null(f);
	return f->dbpath;
}

const char *fixture_store_dir(void **state)
{
	const struct fixture_store *f = *state;
	assert_non_null(f);
	return f->dir;
}

struct gh_store *fixture_store_open(void **state)
{
	struct gh_store *st = NULL;
	assert_int_equal(gh_store_open_sqlite(fixture_store_path(state), 5000, &st), 0);
	return st;
}
