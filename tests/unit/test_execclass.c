/* The exec classifier (src/policy/execclass.c): scp, rsync and git execs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "policy/execclass.h"
#include "store/store.h"

static struct gh_exec_class c;

static void expect(const char *cmd, enum gh_exec_kind kind, uint32_t action, const char *path)
{
	memset(&c, 0x55, sizeof c);
	assert_int_equal(gh_exec_classify(cmd, &c), 0);
	assert_int_equal(c.kind, kind);
	assert_int_equal(c.action, action);
	assert_string_equal(c.path, path);
}

static void other(const char *cmd)
{
	expect(cmd, GH_EXEC_OTHER, 0, "");
	assert_null(gh_exec_method(&c));
}

static void test_scp(void **state)
{
	expect("scp -t /tmp/x", GH_EXEC_SCP, GH_ACT_UPLOAD, "/tmp/x");
	assert_string_equal(gh_exec_method(&c), "scp-upload");
	expect("scp -f /tmp/x", GH_EXEC_SCP, GH_ACT_DOWNLOAD, "/tmp/x");
	assert_string_equal(gh_exec_method(&c), "scp-download");
	expect("scp -v -r -p -d -t -- /srv/dir", GH_EXEC_SCP, GH_ACT_UPLOAD, "/srv/dir");
	expect("scp -r -p -f -- -odd", GH_EXEC_SCP, GH_ACT_DOWNLOAD, "-odd");
	expect("scp -pt .", GH_EXEC_SCP, GH_ACT_UPLOAD, ".");
	expect("/usr/bin/scp -f 'my file.txt'", GH_EXEC_SCP, GH_ACT_DOWNLOAD, "my file.txt");
	expect("  scp\t-f   a  b  ", GH_EXEC_SCP, GH_ACT_DOWNLOAD, "a b");
	expect("scp -t 'a;b'", GH_EXEC_SCP, GH_ACT_UPLOAD, "a;b");
	expect("scp -t x'y z'w", GH_EXEC_SCP, GH_ACT_UPLOAD, "xy zw");
	expect("scp -t \xc3\xa9t\xc3\xa9.txt", GH_EXEC_SCP, GH_ACT_UPLOAD, "\xc3\xa9t\xc3\xa9.txt");
}

static void test_scp_not(void **state)
{
	other("scp /tmp/x host:/tmp");   /* a client, not the remote end */
	other("scp -t");                 /* no target */
	other("scp -t --");
	other("scp -t -f x");            /* both directions */
	other("scp -tf x");
	other("scp -x -t y");            /* unknown option */
	other("scp -t ''");              /* empty target */
	other("scpx -t y");
	other("xscp -t y");
	other("usr/bin/scp -t y");
	other("SCP -t y");
}

static void test_rsync(void **state)
{
	expect("rsync --server -logDtpre.iLsfxCIvu . /tmp/dst", GH_EXEC_RSYNC, GH_ACT_UPLOAD,
	       "/tmp/dst");
	assert_string_equal(gh_exec_method(&c), "rsync-upload");
	expect("rsync --server --sender -logDtpre.iLsfxCIvu . /tmp/src", GH_EXEC_RSYNC,
	       GH_ACT_DOWNLOAD, "/tmp/src");
	assert_string_equal(gh_exec_method(&c), "rsync-download");
	expect("rsync --server -vlogDtpre.iLsfxCIvu --partial --log-format=%n . 'x y'",
	       GH_EXEC_RSYNC, GH_ACT_UPLOAD, "x y");
	expect("rsync --server --sender -vre.iLsfxC . a b", GH_EXEC_RSYNC, GH_ACT_DOWNLOAD, "a b");
}

static void test_rsync_not(void **state)
{
	other("rsync --server -logDtpre.iLsfxCIvu .");           /* no path */
	other("rsync --server -logDtpre.iLsfxCIvu /tmp/dst");    /* no "." */
	other("rsync --server --daemon .");                      /* daemon over ssh */
	other("rsync -av . /tmp/x");                             /* a client */
	other("rsync");
	other("rsync --server -e x . /tmp/x");                   /* non-option before "." */
	other("rsync --server . /tmp/x\\ y");                    /* backslash */
}

static void test_git(void **state)
{
	expect("git-upload-pack '/srv/repo.git'", GH_EXEC_GIT, GH_ACT_DOWNLOAD, "/srv/repo.git");
	assert_string_equal(gh_exec_method(&c), "git-fetch");
	expect("git-receive-pack '/srv/repo.git'", GH_EXEC_GIT, GH_ACT_UPLOAD, "/srv/repo.git");
	assert_string_equal(gh_exec_method(&c), "git-push");
	expect("git upload-pack 'repo'", GH_EXEC_GIT, GH_ACT_DOWNLOAD, "repo");
	expect("git receive-pack repo.git", GH_EXEC_GIT, GH_ACT_UPLOAD, "repo.git");
	expect("/usr/bin/git-receive-pack 'a'", GH_EXEC_GIT, GH_ACT_UPLOAD, "a");
	/* git quotes a ' in the path as '\'': a backslash, so not simple */
	other("git-upload-pack 'it'\\''s'");
}

static void test_git_not(void **state)
{
	other("git-upload-pack");
	other("git-upload-pack a b");
	other("git-upload-pack --strict a");
	other("git upload-pack");
	other("git log");
	other("git-upload-archive 'repo'");
	other("git");
}

static void test_metacharacters(void **state)
{
	other("scp -t x; rm -rf /");
	other("scp -t x;rm -rf /");
	other("scp -t x && rm -rf /");
	other("scp -t x | tee y");
	other("scp -t x > y");
	other("scp -t x < y");
	other("scp -t $(id)");
	other("scp -t `id`");
	other("scp -t ${HOME}");
	other("scp -t \"x\"");
	other("scp -t x\\ y");
	other("scp -t *");
	other("scp -f x?");
	other("scp -f [ab]");
	other("scp -f ~/x");
	other("scp -f x #c");
	other("scp -f x\ny");
	other("scp -f x\ry");
	other("scp -f (x)");
	other("scp -f {a,b}");
	other("scp -f !x");
	other("scp -t 'unterminated");
	other("git-receive-pack 'r' & rm -rf /");
	other("rsync --server . x; id");
	other("X=1 scp -t x");
	other("");
	other("   ");
	other("ls -l /tmp");
}

static void test_bounds(void **state)
{
	/* a path of exactly GH_EXEC_PATH_MAX is kept, one more is not */
	size_t n = GH_EXEC_PATH_MAX;
	char *cmd = malloc(n + 32);
	assert_non_null(cmd);
	strcpy(cmd, "scp -t ");
	memset(cmd + 7, 'a', n);
	cmd[7 + n] = '\0';
	memset(&c, 0, sizeof c);
	assert_int_equal(gh_exec_classify(cmd, &c), 0);
	assert_int_equal(c.kind, GH_EXEC_SCP);
	assert_int_equal(strlen(c.path), n);
	strcpy(cmd + 7 + n, "a");
	other(cmd);
	/* joined operands past the bound */
	memset(cmd + 7, 'a', n);
	cmd[7 + n / 2] = ' ';
	cmd[7 + n] = 'b';
	cmd[8 + n] = '\0';
	other(cmd);
	free(cmd);

	/* a command past GH_EXEC_CMD_MAX */
	size_t big = GH_EXEC_CMD_MAX * 4;
	cmd = malloc(big + 1);
	assert_non_null(cmd);
	memcpy(cmd, "scp -t ", 7);
	memset(cmd + 7, 'x', big - 7);
	cmd[big] = '\0';
	other(cmd);
	/* as many words as the bound allows, then one more */
	size_t len = 0;
	len += (size_t)sprintf(cmd, "scp");
	for (int i = 0; i < GH_EXEC_WORDS_MAX - 3; i++)
		len += (size_t)sprintf(cmd + len, " -r");
	sprintf(cmd + len, " -t x");
	expect(cmd, GH_EXEC_SCP, GH_ACT_UPLOAD, "x");
	sprintf(cmd + len, " -r -t x");
	other(cmd);
	/* many quotes, long quoted runs, lone quotes */
	len = (size_t)sprintf(cmd, "scp -t ");
	for (int i = 0; i < 1000; i++)
		len += (size_t)sprintf(cmd + len, "''");
	cmd[len] = '\0';
	other(cmd); /* empty target */
	strcpy(cmd + len, "'");
	other(cmd);
	free(cmd);
}

static void test_null(void **state)
{
	assert_int_equal(gh_exec_classify(NULL, &c), GH_EINVAL);
	assert_int_equal(gh_exec_classify("scp -t x", NULL), GH_EINVAL);
	assert_null(gh_exec_method(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scp),          cmocka_unit_test(test_scp_not),
		cmocka_unit_test(test_rsync),        cmocka_unit_test(test_rsync_not),
		cmocka_unit_test(test_git),          cmocka_unit_test(test_git_not),
		cmocka_unit_test(test_metacharacters), cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
