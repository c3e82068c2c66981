/* Command groups and filter decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "filter/filter.h"

static struct gh_cmdgroup *group(const char *name, enum gh_cmdgroup_type type, bool icase,
				 const char *const *pats, size_t n)
{
	struct gh_cmdgroup *g = NULL;
	char err[256];
	int r = gh_cmdgroup_new(name, type, icase, pats, n, &g, err, sizeof err);
	if (r != 0)
		fail_msg("group %s: %s (%s)", name, gh_strerror(r), err);
	return g;
}

/* Does group G match the first simple command of LINE? */
static int match_line(const struct gh_cmdgroup *g, const char *line, size_t *pat)
{
	struct gh_cmdlist *l = NULL;
	int r;
	assert_int_equal(gh_cmd_split(line, strlen(line), &l), 0);
	assert_true(l->n >= 1);
	r = gh_cmdgroup_match(g, &l->v[0], pat);
	gh_cmdlist_free(l);
	return r;
}

static void test_word_matching(void **state)
{
	const char *pats[] = { "rm", "shutdown -h", "/usr/sbin/reboot", "git push --force" };
	struct gh_cmdgroup *g = group("danger", GH_CMDGROUP_COMMAND, false, pats, 4);
	size_t pat = 99;

	assert_int_equal(match_line(g, "rm -rf x", &pat), 1);
	assert_int_equal(pat, 0);
	assert_int_equal(match_line(g, "/bin/rm x", NULL), 1);
	assert_int_equal(match_line(g, "./rm", NULL), 1);
	assert_int_equal(match_line(g, "'r'm x", NULL), 1);
	assert_int_equal(match_line(g, "rmdir x", NULL), 0);
	assert_int_equal(match_line(g, "xrm x", NULL), 0);
	assert_int_equal(match_line(g, "echo rm", NULL), 0);
	assert_int_equal(match_line(g, "RM x", NULL), 0); /* case matters by default */
	/* multi-word: the words in order at the start */
	assert_int_equal(match_line(g, "shutdown -h now", &pat), 1);
	assert_int_equal(pat, 1);
	assert_int_equal(match_line(g, "/sbin/shutdown -h", NULL), 1);
	assert_int_equal(match_line(g, "shutdown -r now", NULL), 0);
	assert_int_equal(match_line(g, "shutdown now -h", NULL), 0);
	assert_int_equal(match_line(g, "shutdown", NULL), 0);
	assert_int_equal(match_line(g, "git push --force origin", &pat), 1);
	assert_int_equal(pat, 3);
	assert_int_equal(match_line(g, "git push origin", NULL), 0);
	/* a pattern with a path names exactly that path */
	assert_int_equal(match_line(g, "/usr/sbin/reboot", &pat), 1);
	assert_int_equal(pat, 2);
	assert_int_equal(match_line(g, "reboot", NULL), 0);
	assert_int_equal(match_line(g, "/tmp/usr/sbin/reboot", NULL), 0);
	gh_cmdgroup_free(g);

	g = group("ci", GH_CMDGROUP_COMMAND, true, pats, 1);
	assert_int_equal(match_line(g, "RM x", NULL), 1);
	assert_int_equal(match_line(g, "/BIN/Rm x", NULL), 1);
	assert_int_equal(match_line(g, "RMDIR x", NULL), 0);
	gh_cmdgroup_free(g);
}

static void test_regex(void **state)
{
	const char *pats[] = { "^rm\\s+-[a-z]*r[a-z]*f", "\\bdd\\b.*of=/dev/" };
	struct gh_cmdgroup *g = group("re", GH_CMDGROUP_REGEX, false, pats, 2);
	struct gh_cmdgroup *gi = group("re-i", GH_CMDGROUP_REGEX, true, pats, 2);
	size_t pat = 9;

	assert_int_equal(match_line(g, "rm -rf /", &pat), 1);
	assert_int_equal(pat, 0);
	assert_int_equal(match_line(g, "rm  -vrf /", NULL), 1);
	/* regexes see the words after quote removal, joined by one space */
	assert_int_equal(match_line(g, "'r'm \"-rf\" /", NULL), 1);
	assert_int_equal(match_line(g, "RM -RF /", NULL), 0);
	assert_int_equal(match_line(gi, "RM -RF /", NULL), 1);
	assert_int_equal(match_line(g, "dd if=/dev/zero of=/dev/sda", &pat), 1);
	assert_int_equal(pat, 1);
	assert_int_equal(match_line(g, "ls -l", NULL), 0);
	gh_cmdgroup_free(g);
	gh_cmdgroup_free(gi);
}

static void test_group_errors(void **state)
{
	struct gh_cmdgroup *g = NULL;
	char err[256];
	const char *bad_re[] = { "ok", "(unclosed" };
	const char *blank[] = { "  " };
	const char *one[] = { "rm" };

	assert_int_equal(gh_cmdgroup_new("g", GH_CMDGROUP_REGEX, false, bad_re, 2, &g, err,
					 sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "pattern 1"));
	assert_null(g);
	assert_int_equal(gh_cmdgroup_new("g", GH_CMDGROUP_COMMAND, false, blank, 1, &g, err,
					 sizeof err), GH_EINVAL);
	assert_int_equal(gh_cmdgroup_new("g", GH_CMDGROUP_REGEX, false, blank, 1, &g, NULL, 0),
			 GH_EINVAL);
	assert_int_equal(gh_cmdgroup_new("g", GH_CMDGROUP_COMMAND, false, one, 0, &g, err,
					 sizeof err), GH_EINVAL);
	assert_null(g);
	assert_null(gh_cmdgroup_free(NULL));
	assert_null(gh_cmdfilter_set_free(NULL));
}

struct fixture {
	struct gh_cmdgroup *rm, *ls, *re_sql;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *rm[] = { "rm", "shutdown" };
	const char *ls[] = { "ls", "cat" };
	const char *sql[] = { "drop\\s+table" };
	f->rm = group("rm", GH_CMDGROUP_COMMAND, false, rm, 2);
	f->ls = group("ls", GH_CMDGROUP_COMMAND, false, ls, 2);
	f->re_sql = group("sql", GH_CMDGROUP_REGEX, true, sql, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gh_cmdgroup_free(f->rm);
	gh_cmdgroup_free(f->ls);
	gh_cmdgroup_free(f->re_sql);
	free(f);
	return 0;
}

static struct gh_filter_result check(const struct gh_cmdfilter_set *s, const char *line)
{
	struct gh_filter_result res;
	assert_int_equal(gh_cmdfilter_check(s, line, strlen(line), &res, NULL), 0);
	return res;
}

static void test_priorities_and_ties(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm }, *g_both[] = { f->ls, f->rm };
	struct gh_cmdfilter fl[] = {
		{ "allow-rm", 50, GH_FILTER_ACCEPT, g_rm, 1 },
		{ "block-rm", 10, GH_FILTER_REJECT, g_rm, 1 },
		{ "watch-all", 10, GH_FILTER_WARN, g_both, 2 },
	};
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;

	assert_int_equal(gh_cmdfilter_set_new(fl, 3, &s), 0);
	/* priority 10 beats 50; within 10, reject beats warn */
	res = check(s, "rm -rf /x");
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(res.filter, 1);
	assert_string_equal(res.filter_name, "block-rm");
	assert_string_equal(res.group_name, "rm");
	assert_string_equal(res.pattern_text, "rm");
	assert_int_equal(res.cmd, 0);
	/* ls: only watch-all matches (its group 0, pattern 0) */
	res = check(s, "ls -l");
	assert_int_equal(res.action, GH_FILTER_WARN);
	assert_int_equal(res.filter, 2);
	assert_int_equal(res.group, 0);
	assert_int_equal(res.pattern, 0);
	/* shutdown: group 1 pattern 1 of watch-all loses to block-rm */
	res = check(s, "shutdown now");
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(res.pattern, 1);
	res = check(s, "pwd");
	assert_int_equal(res.action, GH_FILTER_NONE);
	assert_int_equal(res.filter, -1);
	assert_null(res.filter_name);
	assert_false(res.unanalysable);
	gh_cmdfilter_set_free(s);

	/* same priority, accept vs review: review wins; lower number wins first */
	{
		struct gh_cmdfilter f2[] = {
			{ "ok", 5, GH_FILTER_ACCEPT, g_rm, 1 },
			{ "ask", 5, GH_FILTER_REVIEW, g_rm, 1 },
			{ "no", 6, GH_FILTER_REJECT, g_rm, 1 },
		};
		assert_int_equal(gh_cmdfilter_set_new(f2, 3, &s), 0);
		res = check(s, "rm x");
		assert_int_equal(res.action, GH_FILTER_REVIEW);
		assert_string_equal(res.filter_name, "ask");
		gh_cmdfilter_set_free(s);
		f2[0].priority = 4;
		assert_int_equal(gh_cmdfilter_set_new(f2, 3, &s), 0);
		res = check(s, "rm x");
		assert_int_equal(res.action, GH_FILTER_ACCEPT);
		assert_string_equal(res.filter_name, "ok");
		gh_cmdfilter_set_free(s);
	}
}

static void test_multi_command_lines(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm }, *g_ls[] = { f->ls };
	struct gh_cmdfilter fl[] = {
		{ "no-rm", 20, GH_FILTER_REJECT, g_rm, 1 },
		{ "ls-ok", 10, GH_FILTER_ACCEPT, g_ls, 1 },
	};
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;
	struct gh_cmdlist *cmds = NULL;
	const char *line = "ls; cat x && rm -rf /x";

	assert_int_equal(gh_cmdfilter_set_new(fl, 2, &s), 0);
	assert_int_equal(gh_cmdfilter_check(s, line, strlen(line), &res, &cmds), 0);
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(res.cmd, 2);
	assert_memory_equal(line + res.cmd_off, "rm -rf /x", res.cmd_len);
	assert_non_null(cmds);
	assert_int_equal(cmds->n, 3);
	gh_cmdlist_free(cmds);

	/* the classic bypasses, all caught on exec lines */
	static const char *bypass[] = {
		"ls;rm -rf /x", "ls && rm x", "ls || rm x", "ls | rm x", "ls & rm x",
		"ls\nrm x", "echo \"$(rm -rf /)\"", "`rm x`", "bash -c 'rm -rf /'",
		"sudo -u root rm x", "FOO=1 rm x", "'r'm x", "\\rm x", "/bin/rm x",
		"env rm x", "nohup rm x &", "timeout 5 rm x", "ls | xargs rm",
		"eval 'rm x'", "(rm x)", "{ rm x; }", "if true; then rm x; fi",
		"cat <<EOF | sh\nrm x\nEOF", "sh <<EOF\nrm x\nEOF", "$(echo rm) -rf /",
		"echo rm x | sh", "find / -exec rm {} +", "$'\\x72m' x", "r\"\"m x",
		"c=rm; $c x", "\"$CMD\" x", "doas rm x", "su -c 'rm x'", "/bin/r? x", "{rm,x}",
		"./rm x", "bash <<< 'rm x'", "cat f | sudo -s", "f() { rm x; }; f",
		"for i in 1; do rm x; done", "case a in a) rm x;; esac", "cat <<EOF\n$(rm x)\nEOF",
		"alias ll='rm -rf'", "ls 'x", "sh -xc \"rm x\"", "`echo rm` x", "ls & rm x",
		"nice -n 5 rm x", "exec rm x", "command rm x", "busybox rm x", "watch rm x",
		"ls > $(rm x)", "echo ${a:-$(rm x)}", "(( $(rm x) ))", "[[ -n $(rm x) ]]",
	};
	for (size_t i = 0; i < sizeof bypass / sizeof bypass[0]; i++) {
		res = check(s, bypass[i]);
		if (res.action != GH_FILTER_REJECT)
			fail_msg("'%s' not rejected: %s", bypass[i], gh_filter_action_name(res.action));
	}
	/* harmless lines stay accepted */
	res = check(s, "ls -l; cat /etc/hostname | ls");
	assert_int_equal(res.action, GH_FILTER_ACCEPT);
	res = check(s, "ls rm");
	assert_int_equal(res.action, GH_FILTER_ACCEPT);
	res = check(s, "rmdir x");
	assert_int_equal(res.action, GH_FILTER_NONE);
	res = check(s, "");
	assert_int_equal(res.action, GH_FILTER_NONE);
	gh_cmdfilter_set_free(s);
}

static void test_unanalysable(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm }, *g_ls[] = { f->ls }, *g_sql[] = { f->re_sql };
	struct gh_cmdfilter fl[] = {
		{ "ls-ok", 10, GH_FILTER_ACCEPT, g_ls, 1 },
		{ "no-rm", 20, GH_FILTER_REJECT, g_rm, 1 },
		{ "sql", 30, GH_FILTER_REVIEW, g_sql, 1 },
	};
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;

	assert_int_equal(gh_cmdfilter_set_new(fl, 3, &s), 0);
	res = check(s, "ls 'unbalanced");
	assert_true(res.unanalysable);
	assert_int_equal(res.split_error, GH_EINVAL);
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(res.filter, -1);
	/* a command word only known at run time */
	res = check(s, "ls; $CMD x");
	assert_true(res.unanalysable);
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(res.cmd, 1);
	/* regex, case-insensitive, on the normalised command */
	res = check(s, "psql -c 'DROP   TABLE users'");
	assert_int_equal(res.action, GH_FILTER_REVIEW);
	assert_string_equal(res.group_name, "sql");
	gh_cmdfilter_set_free(s);

	/* without a reject filter the fallback is the most severe other action */
	assert_int_equal(gh_cmdfilter_set_new(fl + 2, 1, &s), 0);
	res = check(s, "echo 'x");
	assert_true(res.unanalysable);
	assert_int_equal(res.action, GH_FILTER_REVIEW);
	gh_cmdfilter_set_free(s);
	/* accept-only sets never accept what they cannot read */
	assert_int_equal(gh_cmdfilter_set_new(fl, 1, &s), 0);
	res = check(s, "ls 'x");
	assert_true(res.unanalysable);
	assert_int_equal(res.action, GH_FILTER_NONE);
	res = check(s, "$X");
	assert_int_equal(res.action, GH_FILTER_NONE);
	gh_cmdfilter_set_free(s);
	/* an empty set decides nothing */
	assert_int_equal(gh_cmdfilter_set_new(NULL, 0, &s), 0);
	res = check(s, "rm -rf /");
	assert_int_equal(res.action, GH_FILTER_NONE);
	gh_cmdfilter_set_free(s);
}

static void test_set_errors(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm }, *g_null[] = { NULL };
	struct gh_cmdfilter fl = { "x", 0, GH_FILTER_REJECT, g_rm, 1 };
	struct gh_cmdfilter_set *s = NULL;
	enum gh_filter_action a;

	assert_int_equal(gh_cmdfilter_set_new(&fl, 1, &s), GH_EINVAL);
	fl.priority = 101;
	assert_int_equal(gh_cmdfilter_set_new(&fl, 1, &s), GH_EINVAL);
	fl.priority = 100;
	fl.action = GH_FILTER_NONE;
	assert_int_equal(gh_cmdfilter_set_new(&fl, 1, &s), GH_EINVAL);
	fl.action = GH_FILTER_WARN;
	fl.groups = g_null;
	assert_int_equal(gh_cmdfilter_set_new(&fl, 1, &s), GH_EINVAL);
	assert_null(s);
	fl.groups = g_rm;
	assert_int_equal(gh_cmdfilter_set_new(&fl, 1, &s), 0);
	gh_cmdfilter_set_free(s);

	assert_int_equal(gh_filter_action_parse("review", &a), 0);
	assert_int_equal(a, GH_FILTER_REVIEW);
	assert_int_equal(gh_filter_action_parse("Reject", &a), GH_EINVAL);
	assert_string_equal(gh_filter_action_name(GH_FILTER_WARN), "warn");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word_matching),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_group_errors),
		cmocka_unit_test_setup_teardown(test_priorities_and_ties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_command_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanalysable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
