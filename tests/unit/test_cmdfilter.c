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
	/* accept-only sets never accept what they cannot read: auto flags it */
	assert_int_equal(gh_cmdfilter_set_new(fl, 1, &s), 0);
	res = check(s, "ls 'x");
	assert_true(res.unanalysable);
	assert_string_equal(res.why, "line cannot be parsed");
	assert_int_equal(res.action, GH_FILTER_WARN);
	res = check(s, "$X");
	assert_int_equal(res.action, GH_FILTER_WARN);
	assert_string_equal(res.why, "command name known only at run time");
	gh_cmdfilter_set_free(s);
	/* cmdfilter_dynamic overrides auto, both ways; a filter matching the
	 * command with a more severe action still wins */
	assert_int_equal(gh_cmdfilter_set_new(fl, 3, &s), 0);
	assert_int_equal(gh_cmdfilter_dynamic_verdict(s), GH_FILTER_REJECT);
	assert_int_equal(gh_cmdfilter_set_dynamic(s, GH_FILTER_WARN), 0);
	res = check(s, "echo $((a))");
	assert_int_equal(res.action, GH_FILTER_WARN);
	assert_true(res.unanalysable);
	assert_non_null(res.why);
	res = check(s, "sudo rm x $((a))");
	assert_int_equal(res.action, GH_FILTER_REJECT);
	assert_int_equal(gh_cmdfilter_set_dynamic(s, GH_FILTER_ACCEPT), 0);
	res = check(s, "source f");
	assert_int_equal(res.action, GH_FILTER_ACCEPT);
	assert_true(res.unanalysable);
	assert_int_equal(gh_cmdfilter_set_dynamic(s, (enum gh_filter_action)9), GH_EINVAL);
	gh_cmdfilter_set_free(s);
	assert_int_equal(gh_cmdfilter_set_new(fl + 2, 1, &s), 0);
	assert_int_equal(gh_cmdfilter_set_dynamic(s, GH_FILTER_REJECT), 0);
	res = check(s, "source f");
	assert_int_equal(res.action, GH_FILTER_REJECT);
	gh_cmdfilter_set_free(s);
	/* an empty set decides nothing */
	assert_int_equal(gh_cmdfilter_set_new(NULL, 0, &s), 0);
	res = check(s, "rm -rf /");
	assert_int_equal(res.action, GH_FILTER_NONE);
	gh_cmdfilter_set_free(s);
}

/* Issue 11 item 3: code bash evaluates that the splitter used to pass as
 * plain data. Each line ran a rejected rm and was accepted before the
 * dynamic classification; each is now refused as dynamic (not analysable)
 * where a reject filter applies. */
static const char *const dynamic_lines[] = {
	"a='z[$(rm -f F)]'; echo $((a))",
	"a='z[$(rm -f F)]'; echo $(( $a ))",
	"a='z[$(rm -f F)]'; echo $[a]",
	"x='$(rm -f F)'; echo \"${x@P}\"",
	"[[ 'z[$(rm -f F)]' -eq 0 ]]",
	"[[ $a -lt 1 ]] && ls",
	"printf 'rm -f F' | xargs -0 bash -c",
	"bash /dev/stdin <<< 'rm -f F'",
	"a='z[$(rm -f F)]'; let a",
	"let 'z[$(rm -f F)]'",
	"declare -i b; b='z[$(rm -f F)]'",
	"typeset -i q=a",
	"printf -v 'z[$(rm -f F)]' x",
	"read 'z[$(rm -f F)]' <<< x",
	"read -a 'z[$(rm -f F)]' <<< x",
	"test -v 'z[$(rm -f F)]'",
	"[ -v 'z[$(rm -f F)]' ]",
	"[[ -v 'a[$(rm -f F)]' ]]",
	"declare 'a[$(rm -f F)]=1'",
	"echo rm -f F | sh -c 'sh'",
	"echo rm -f F | xargs -L1 env",
	"echo rm -f F | xargs sudo",
	"echo 'rm -f F' | xargs -I{} sh -c '{}'",
	"BASH_ENV=<(echo 'rm -f F') bash -c true",
	"env BASH_ENV=/tmp/x bash -c true",
	"source <(echo 'rm -f F')",
	". <(echo 'rm -f F')",
	"source ./f",
	"sh ./s.sh",
	"bash --rcfile f -i",
	"a='z[$(rm -f F)]'; echo ${z[a]}",
	"a='z[$(rm -f F)]'; z[a]=1",
	"a='z[$(rm -f F)]'; z=([a]=1)",
	"a='z[$(rm -f F)]'; echo ${!a}",
	"echo ${x:0:a}",
	"for ((i=a;0;)); do :; done",
	"declare -n r=a; r=1",
	"mapfile -C 'rm -f F' -c 1 x < f",
	"cat <<EOF\n$((a))\nEOF",
	"eval 'echo $((a))'",
	"bind -x '\"\\C-x\": rm -f F'",
	"fc -s",
	"enable -f ./x.so x",
	"complete -C 'rm -f F' ls",
	"echo !!",
	"!rm",
	"env 'BASH_FUNC_ls%%=() { rm -f F; }' bash -c ls",
	"LD_PRELOAD=./x.so ls",
	"BASH_CMDS[ls]=/bin/rm; ls F",
	"BASH_ALIASES[ll]='rm -f F'",
	"PS1='\\044(rm -f F)x$ '",
	"set -o vi",
	/* code variables filled from what the line does not show */
	"x='$(rm -f F)'; PS1=\"$x\"", "PROMPT_COMMAND=\"echo $x\"", "export PS1=\"$x\"",
	"PROMPT_COMMAND=(\"$x\")", "read PROMPT_COMMAND <<< 'rm -f F'", "printf -v PS1 '%s' x",
	"read -a PROMPT_COMMAND <<< x", "mapfile PROMPT_COMMAND < f",
	"for PROMPT_COMMAND in 'rm -f F'; do :; done", ": ${PROMPT_COMMAND:='rm -f F'}",
	/* strings a shell runs, built from expansions made before it runs */
	"eval \"echo $x\"", "trap \"echo $x\" DEBUG", "alias l=\"echo $x\"", "su -c \"echo $x\"",
	"watch \"echo $x\"", "env -S \"echo $x\"",
};

static void test_dynamic_refused(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm };
	struct gh_cmdfilter fl[] = { { "no-rm", 20, GH_FILTER_REJECT, g_rm, 1 } };
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;

	assert_int_equal(gh_cmdfilter_set_new(fl, 1, &s), 0);
	for (size_t i = 0; i < sizeof dynamic_lines / sizeof dynamic_lines[0]; i++) {
		res = check(s, dynamic_lines[i]);
		if (res.action != GH_FILTER_REJECT)
			fail_msg("'%s' not rejected: %s", dynamic_lines[i],
				 gh_filter_action_name(res.action));
	}
	gh_cmdfilter_set_free(s);
}

/* Code run later, analysed where it is assigned (issue 11 item 4): a
 * rejected command inside the value rejects the assignment. */
static void test_code_assignments(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm };
	struct gh_cmdfilter fl[] = { { "no-rm", 20, GH_FILTER_REJECT, g_rm, 1 } };
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;
	static const char *const lines[] = {
		"PROMPT_COMMAND='rm -f F'", "PS1='$(rm -f F)x$ '", "PS0='`rm -f F`'",
		"PS2='$(rm -f F)'", "PS4='$(rm -f F)'", "trap 'rm -f F' DEBUG",
		"trap -- 'rm -f F' EXIT", "export PROMPT_COMMAND='rm -f F'",
		"declare PS1='$(rm -f F)'", "PROMPT_COMMAND=('ls' 'rm -f F')",
		"PROMPT_COMMAND+=('rm -f F')", "env PROMPT_COMMAND='rm -f F' bash -i",
		"readonly PS4='$(rm -f F)'", "local PS1='$(rm -f F)'",
	};

	assert_int_equal(gh_cmdfilter_set_new(fl, 1, &s), 0);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		res = check(s, lines[i]);
		if (res.action != GH_FILTER_REJECT || !res.filter_name)
			fail_msg("'%s' not rejected by the filter: %s", lines[i],
				 gh_filter_action_name(res.action));
	}
	gh_cmdfilter_set_free(s);
}

/* What stays analysable: ordinary uses of the same builtins and
 * expansions are not dynamic. */
static void test_not_dynamic(void **state)
{
	struct fixture *f = *state;
	const struct gh_cmdgroup *g_rm[] = { f->rm };
	struct gh_cmdfilter fl[] = { { "no-rm", 20, GH_FILTER_REJECT, g_rm, 1 } };
	struct gh_cmdfilter_set *s = NULL;
	struct gh_filter_result res;
	static const char *const lines[] = {
		"echo $((1 + 2 * 0x1f - 2#101))", "x=1; echo $x", "[[ -f x && $y == z ]]",
		"[[ 3 -eq 3 ]]", "declare x=1 y", "read -r line", "read -r -a words",
		"printf -v name %s x", "test -v name", "[ -f x ]", "echo ${x:1:2}",
		"echo ${#x} ${x#a} ${x%%b} ${x/a/b} ${x:-d}", "echo ${!pre*} ${!arr[@]}",
		"echo \"${x@Q}\"", "a[0]=1; echo ${a[1]} ${a[@]}", "export PATH=/usr/bin:$PATH",
		"echo 'hi!'", "echo \"hi!\"", "[ ! -f x ]", "ls | xargs -0 ls",
		"unset x", "local -r y=2", "history", "PS1='\\u@\\h:\\w\\$ '",
		"echo $# $? $$", "(( 1 + 2 ))", "echo a != b", "sh -c 'ls'",
		"PS1='$x \\w$ '", "PROMPT_COMMAND='history -a'", "eval 'echo hi'",
		"trap 'echo bye' EXIT", "for f in *; do echo \"$f\"; done", ": ${x:=1}",
	};

	assert_int_equal(gh_cmdfilter_set_new(fl, 1, &s), 0);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		res = check(s, lines[i]);
		if (res.action != GH_FILTER_NONE || res.unanalysable)
			fail_msg("'%s' refused: %s", lines[i], gh_filter_action_name(res.action));
	}
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
		cmocka_unit_test_setup_teardown(test_dynamic_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_assignments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_dynamic, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
