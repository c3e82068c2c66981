/* Command line splitting: a corpus of tricky lines and what a shell runs. */
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

/* One corpus entry: the line and the texts of the simple commands it must
 * yield, in order (NULL-terminated). */
struct split_case {
	const char *line;
	const char *want[8];
};

static const struct split_case cases[] = {
	/* separators */
	{ "ls", { "ls" } },
	{ "ls;rm -rf /x", { "ls", "rm -rf /x" } },
	{ "a && b || c | d", { "a", "b", "c", "d" } },
	{ "a&b", { "a", "b" } },
	{ "a\nb\n\nc", { "a", "b", "c" } },
	{ "a |& b", { "a", "b" } },
	{ "  ls   -l  ", { "ls -l" } },
	/* substitutions: inner commands come first */
	{ "$(echo rm) -rf /", { "echo rm", "$(echo rm) -rf /" } },
	{ "echo \"$(rm -rf /)\"", { "rm -rf /", "echo $(rm -rf /)" } },
	{ "`rm x`", { "rm x", "`rm x`" } },
	{ "echo `echo \\`rm y\\``", { "rm y", "echo `rm y`", "echo `echo \\`rm y\\``" } },
	{ "echo $(echo $(rm z))", { "rm z", "echo $(rm z)", "echo $(echo $(rm z))" } },
	{ "X=$(rm a)", { "rm a" } },
	{ "echo ${X:-$(rm b)}", { "rm b", "echo ${X:-$(rm b)}" } },
	{ "echo $((1 + $(rm c)))", { "rm c", "echo $((1 + $(rm c)))" } },
	{ "diff <(rm d) >(cat)", { "rm d", "cat", "diff <(rm d) >(cat)" } },
	{ "echo '$(rm e)'", { "echo $(rm e)" } },
	{ "echo \\$HOME", { "echo $HOME" } },
	/* subshells and groups */
	{ "(cd /tmp; rm x)", { "cd /tmp", "rm x" } },
	{ "{ rm x; ls; }", { "rm x", "ls" } },
	{ "((i++)) && rm x", { "((i++))", "rm x" } }, /* arithmetic on i: dynamic */
	{ "((1+2)) && rm x", { "rm x" } },
	{ "((echo a); rm x)", { "echo a", "rm x" } },
	/* quoting */
	{ "rm\\ -rf", { "rm -rf" } },
	{ "'r'm x", { "rm x" } },
	{ "\"r\"m x", { "rm x" } },
	{ "r\\m x", { "rm x" } },
	{ "$'\\x72\\x6d' x", { "rm x" } },
	{ "$'\\162m' -rf", { "rm -rf" } },
	{ "echo \"a;b\" 'c|d'", { "echo a;b c|d" } },
	{ "echo \"a\\\"b\"", { "echo a\"b" } },
	{ "r\\\nm x", { "rm x" } },
	/* comments */
	{ "ls # ; rm -rf /", { "ls" } },
	{ "# rm -rf /", { NULL } },
	{ "echo a#b", { "echo a#b" } },
	/* redirections and here-documents */
	{ "ls > /tmp/x 2>&1", { "ls" } },
	{ "cat </etc/passwd >>log", { "cat" } },
	{ "cat <<EOF\nrm -rf /\nEOF", { "cat" } },
	{ "cat <<'EOF'\n$(rm -rf /)\nEOF\nls", { "cat", "ls" } },
	{ "cat <<EOF\n$(rm -rf /)\nEOF", { "cat", "rm -rf /" } },
	{ "cat <<-EOF\n\trm x\n\tEOF\nls", { "cat", "ls" } },
	{ "bash <<EOF\nrm -rf /\nEOF", { "bash", "rm -rf /" } },
	{ "sh <<< 'rm -rf /'", { "sh", "rm -rf /" } },
	{ "ls &>/dev/null", { "ls" } },
	{ "echo x > $(rm g)", { "rm g", "echo x" } },
	/* assignments */
	{ "FOO=1 rm x", { "rm x" } },
	{ "A=1 B=\"2 3\" env", { "env" } },
	{ "arr=(a b $(rm h)); ls", { "rm h", "ls" } },
	/* wrappers */
	{ "bash -c 'rm -rf /'", { "bash -c rm -rf /", "rm -rf /" } },
	{ "sh -xc \"rm a; ls\"", { "sh -xc rm a; ls", "rm a", "ls" } },
	{ "sudo -u root rm x", { "sudo -u root rm x", "rm x" } },
	{ "sudo -E -- rm x", { "sudo -E -- rm x", "rm x" } },
	{ "env -i A=1 rm x", { "env -i A=1 rm x", "rm x" } },
	{ "nohup nice -n 5 rm x", { "nohup nice -n 5 rm x", "nice -n 5 rm x", "rm x" } },
	{ "timeout -s KILL 10 rm x", { "timeout -s KILL 10 rm x", "rm x" } },
	{ "exec command rm x", { "exec command rm x", "command rm x", "rm x" } },
	{ "command -v rm", { "command -v rm" } },
	{ "ls | xargs -0 -n 1 rm -f", { "ls", "xargs -0 -n 1 rm -f", "rm -f" } },
	{ "eval 'rm x'", { "eval rm x", "rm x" } },
	{ "eval rm \"$X\"", { "eval rm $X", "rm $X" } },
	{ "su - root -c 'rm x'", { "su - root -c rm x", "rm x" } },
	{ "find . -name x -exec rm {} \\;", { "find . -name x -exec rm {} ;", "rm {}" } },
	{ "env -S 'rm -rf' /", { "env -S rm -rf /", "rm -rf /" } },
	{ "/usr/bin/sudo /bin/bash -c \"sudo rm x\"",
	  { "/usr/bin/sudo /bin/bash -c sudo rm x", "/bin/bash -c sudo rm x", "sudo rm x", "rm x" } },
	{ "busybox rm x", { "busybox rm x", "rm x" } },
	{ "alias ll='rm -rf'", { "alias ll=rm -rf", "rm -rf" } },
	/* compound commands */
	{ "if rm x; then ls; else pwd; fi", { "rm x", "ls", "pwd" } },
	{ "while true; do rm x; done < f", { "true", "rm x" } },
	{ "for f in $(ls); do rm $f; done", { "ls", "rm $f" } },
	{ "for ((i=0;i<3;i++)); do rm x; done", { "for ((i=0;i<3;i++))", "rm x" } },
	{ "for ((;;)); do rm x; done", { "rm x" } },
	{ "case $x in a|b) rm x;; (c) ls;& *) pwd;; esac", { "rm x", "ls", "pwd" } },
	{ "f() { rm x; }; f", { "rm x", "f" } },
	{ "function g { rm y; }", { "rm y" } },
	{ "[[ $(rm z) == a && -f b ]] && ls", { "rm z", "ls" } },
	{ "! rm x", { "rm x" } },
	{ "time -p rm x", { "rm x" } },
	{ "[ -f x ] && rm x", { "[ -f x ]", "rm x" } },
};

static void check_case(const struct split_case *c)
{
	struct gh_cmdlist *l = NULL;
	size_t n = 0;
	int r = gh_cmd_split(c->line, strlen(c->line), &l);
	if (r != 0)
		fail_msg("'%s': split failed: %s", c->line, gh_strerror(r));
	while (n < 8 && c->want[n])
		n++;
	for (size_t i = 0; i < l->n && i < n; i++) {
		if (strcmp(l->v[i].text, c->want[i]) != 0)
			fail_msg("'%s': command %zu is '%s', want '%s'", c->line, i, l->v[i].text,
				 c->want[i]);
	}
	if (l->n != n) {
		for (size_t i = 0; i < l->n; i++)
			print_message("  got [%zu] '%s'\n", i, l->v[i].text);
		fail_msg("'%s': %zu commands, want %zu", c->line, l->n, n);
	}
	gh_cmdlist_free(l);
}

static void test_corpus(void **state)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
	assert_true(sizeof cases / sizeof cases[0] >= 40);
}

static int split(const char *line, struct gh_cmdlist **l)
{
	return gh_cmd_split(line, strlen(line), l);
}

static void test_unbalanced(void **state)
{
	static const char *bad[] = {
		"echo 'abc", "echo \"abc", "echo $(rm x", "echo `rm x", "(rm x", "rm x)",
		"echo ${x", "echo \\", "cat <<", "ls >", "echo $'abc", "echo \"$(\"",
		"case x in a) rm;;", "for ((i=0", "echo ;; rm", "[[ -f x", "echo $'\\0'",
		"echo a(b)", "echo \\$(rm f)", "coproc x { rm y; }",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct gh_cmdlist *l = NULL;
		int r = split(bad[i], &l);
		if (r != GH_EINVAL)
			fail_msg("'%s': got %d, want GH_EINVAL", bad[i], r);
		assert_null(l);
	}
}

static void test_nul_and_limits(void **state)
{
	struct gh_cmdlist *l = NULL;
	char *big = NULL;
	size_t n;

	assert_int_equal(gh_cmd_split("ls\0rm", 5, &l), GH_EINVAL);
	/* too long */
	big = malloc(GH_CMD_MAX_INPUT + 2);
	assert_non_null(big);
	memset(big, 'a', GH_CMD_MAX_INPUT + 1);
	assert_int_equal(gh_cmd_split(big, GH_CMD_MAX_INPUT + 1, &l), GH_ELIMIT);
	/* too deep */
	n = 0;
	for (int i = 0; i < 40; i++) {
		big[n++] = '(';
		big[n++] = ' ';
	}
	big[n++] = 'x';
	for (int i = 0; i < 40; i++)
		big[n++] = ')';
	assert_int_equal(gh_cmd_split(big, n, &l), GH_ELIMIT);
	/* exactly the depth limit is fine */
	n = 0;
	for (unsigned i = 0; i < GH_CMD_MAX_DEPTH; i++) {
		big[n++] = '(';
		big[n++] = ' ';
	}
	big[n++] = 'x';
	for (unsigned i = 0; i < GH_CMD_MAX_DEPTH; i++)
		big[n++] = ')';
	assert_int_equal(gh_cmd_split(big, n, &l), 0);
	assert_int_equal(l->n, 1);
	assert_int_equal(l->v[0].depth, GH_CMD_MAX_DEPTH);
	l = gh_cmdlist_free(l);
	/* too many commands */
	n = 0;
	for (unsigned i = 0; i <= GH_CMD_MAX_CMDS; i++) {
		big[n++] = 'a';
		big[n++] = ';';
	}
	assert_int_equal(gh_cmd_split(big, n, &l), GH_ELIMIT);
	/* nested arithmetic that falls back again and again stays bounded */
	n = 0;
	while (n + 3 < 60000) {
		big[n++] = '$';
		big[n++] = '(';
		big[n++] = '(';
	}
	assert_true(gh_cmd_split(big, n, &l) < 0);
	free(big);
	assert_null(l);
}

static void test_spans_and_argv(void **state)
{
	struct gh_cmdlist *l = NULL;
	const char *line = "ls -l;  'r'm  -rf \"/a b\" 2>/dev/null && echo $(id)";
	assert_int_equal(split(line, &l), 0);
	assert_int_equal(l->n, 4);
	assert_string_equal(l->v[0].text, "ls -l");
	assert_int_equal(l->v[0].off, 0);
	assert_int_equal(l->v[0].len, 5);
	assert_int_equal(l->v[1].argc, 3);
	assert_string_equal(l->v[1].argv[0], "rm");
	assert_string_equal(l->v[1].argv[2], "/a b");
	assert_null(l->v[1].argv[3]);
	assert_memory_equal(line + l->v[1].off, "'r'm  -rf \"/a b\" 2>/dev/null", l->v[1].len);
	assert_string_equal(l->v[2].text, "id");
	assert_true(l->v[2].flags & GH_CMD_SUBST);
	assert_int_equal(l->v[2].depth, 1);
	assert_memory_equal(line + l->v[2].off, "id", l->v[2].len);
	assert_string_equal(l->v[3].text, "echo $(id)");
	assert_false(l->v[3].flags & GH_CMD_SUBST);
	l = gh_cmdlist_free(l);

	/* nested strings report the span of the outer command */
	line = "ls; bash -c 'rm x'";
	assert_int_equal(split(line, &l), 0);
	assert_int_equal(l->n, 3);
	assert_true(l->v[2].flags & GH_CMD_NESTED);
	assert_memory_equal(line + l->v[2].off, "bash -c 'rm x'", l->v[2].len);
	gh_cmdlist_free(l);
}

static void test_flags(void **state)
{
	static const struct { const char *line; size_t idx; unsigned set, clear; } t[] = {
		{ "$(echo rm) -rf /", 1, GH_CMD_DYNAMIC, 0 },
		{ "$cmd -rf /", 0, GH_CMD_DYNAMIC, 0 },
		{ "\"$cmd\" x", 0, GH_CMD_DYNAMIC, 0 },
		{ "/bin/r? x", 0, GH_CMD_DYNAMIC, 0 },
		{ "/bin/r[m] x", 0, GH_CMD_DYNAMIC, 0 },
		{ "{rm,-rf,/x}", 0, GH_CMD_DYNAMIC, 0 },
		{ "rm $x", 0, 0, GH_CMD_DYNAMIC },
		{ "[ -f x ]", 0, 0, GH_CMD_DYNAMIC },
		{ "'*' x", 0, 0, GH_CMD_DYNAMIC },
		{ "echo rm | sh", 0, 0, GH_CMD_DYNAMIC },
		{ "echo rm | sh", 1, GH_CMD_DYNAMIC, 0 },
		{ "echo rm | sudo bash -s", 2, GH_CMD_DYNAMIC | GH_CMD_WRAPPED, 0 },
		{ "sh < script", 0, GH_CMD_DYNAMIC, 0 },
		{ "sh script", 0, GH_CMD_DYNAMIC, 0 },
		{ "bash", 0, GH_CMD_SHELL_STDIN, GH_CMD_DYNAMIC },
		{ "sudo -s", 0, GH_CMD_SHELL_STDIN, GH_CMD_DYNAMIC },
		{ "sh -c 'bash'", 1, GH_CMD_SHELL_STDIN | GH_CMD_NESTED, GH_CMD_DYNAMIC },
		{ "echo x | sh -c 'sh'", 2, GH_CMD_DYNAMIC | GH_CMD_NESTED, 0 },
		/* a newline after | continues the pipeline (it used to reset it) */
		{ "echo rm x |\nsh", 1, GH_CMD_DYNAMIC, 0 },
		{ "echo rm x |\n\n  # c\n sh", 1, GH_CMD_DYNAMIC, 0 },
		{ "echo rm x\nsh", 1, GH_CMD_SHELL_STDIN, GH_CMD_DYNAMIC },
		{ "ls", 0, 0, GH_CMD_SHELL_STDIN },
		{ "echo rm x | sudo -s", 1, GH_CMD_DYNAMIC, 0 },
		{ "echo rm x | sudo -u root -i", 1, GH_CMD_DYNAMIC, 0 },
		{ "echo rm x | su -", 1, GH_CMD_DYNAMIC, 0 },
		{ "sudo -u root -i", 0, 0, GH_CMD_DYNAMIC },
		{ "sudo -u sam ls", 0, 0, GH_CMD_DYNAMIC },
		{ "sudo rm x", 1, GH_CMD_WRAPPED, GH_CMD_DYNAMIC },
		{ "sudo $X", 1, GH_CMD_WRAPPED | GH_CMD_DYNAMIC, 0 },
		{ "bash -c \"$X\"", 1, GH_CMD_NESTED | GH_CMD_DYNAMIC, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct gh_cmdlist *l = NULL;
		if (split(t[i].line, &l) != 0)
			fail_msg("'%s' does not split", t[i].line);
		if (t[i].idx >= l->n)
			fail_msg("'%s': only %zu commands", t[i].line, l->n);
		if ((l->v[t[i].idx].flags & t[i].set) != t[i].set ||
		    (l->v[t[i].idx].flags & t[i].clear) != 0)
			fail_msg("'%s' [%zu]: flags %#x", t[i].line, t[i].idx, l->v[t[i].idx].flags);
		gh_cmdlist_free(l);
	}
}

/* Every dynamic command says why, in one line (shown to the user and
 * written to the audit); an analysable one has no reason. */
static void test_dynamic_reasons(void **state)
{
	static const struct { const char *line; size_t idx; const char *why; } t[] = {
		{ "echo $((a))", 0, "arithmetic on a variable" },
		{ "echo $[a]", 0, "arithmetic on a variable" },
		{ "[[ $a -eq 1 ]]", 0, "arithmetic on a variable" },
		{ "z[i]=1", 0, "array subscript" },
		/* bash reads a subscript on across the newline to its ] */
		{ "a[\n'$(rm x)']=1", 0, "array subscript" },
		{ "printf -v 'a[$(id)]' x", 0, "variable name" },
		{ "echo ${!x}", 0, "indirect expansion" },
		{ "echo ${x@P}", 0, "prompt expansion" },
		{ "source f", 0, "source of a file" },
		{ "bind -x 'x: y'", 0, "builtin that runs code" },
		{ "sh f.sh", 0, "shell running a script" },
		{ "echo x | sh", 1, "shell reading its commands from a pipe" },
		{ "echo x | xargs env", 3, "xargs input" },
		{ "$c x", 0, "command name known only at run time" },
		{ "LD_PRELOAD=x ls", 0, "variable naming code" },
		{ "echo !!", 0, "history expansion" },
		{ "PS1='\\044(id)'", 0, "prompt escape" },
		{ "eval \"$x\"", 0, "shell string known only at run time" },
		{ "declare -i x", 0, "declare -i/-n" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct gh_cmdlist *l = NULL;
		const struct gh_cmd *c;
		if (split(t[i].line, &l) != 0)
			fail_msg("'%s' does not split", t[i].line);
		if (t[i].idx >= l->n)
			fail_msg("'%s': only %zu commands", t[i].line, l->n);
		c = &l->v[t[i].idx];
		if (!(c->flags & GH_CMD_DYNAMIC) || !c->why || !strstr(c->why, t[i].why))
			fail_msg("'%s' [%zu]: flags %#x why '%s', want '%s'", t[i].line, t[i].idx,
				 c->flags, c->why ? c->why : "(null)", t[i].why);
		gh_cmdlist_free(l);
	}
	{
		struct gh_cmdlist *l = NULL;
		assert_int_equal(split("ls -l; echo $((1+2)) ${x:-y}", &l), 0);
		for (size_t i = 0; i < l->n; i++) {
			assert_null(l->v[i].why);
			assert_false(l->v[i].flags & GH_CMD_DYNAMIC);
		}
		gh_cmdlist_free(l);
	}
}

static void test_empty(void **state)
{
	static const char *empty[] = { "", "   ", "\n\n", "# only a comment", "A=1 B=2", ";" };
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		struct gh_cmdlist *l = NULL;
		assert_int_equal(split(empty[i], &l), 0);
		assert_int_equal(l->n, 0);
		gh_cmdlist_free(l);
	}
	assert_null(gh_cmdlist_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_dynamic_reasons),
		cmocka_unit_test(test_unbalanced),
		cmocka_unit_test(test_nul_and_limits),
		cmocka_unit_test(test_spans_and_argv),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
