/* Line filter: cutting a shell's input into the commands the shell reads
 * (continuation lines, compound commands, here-documents), the bounded
 * buffer, and how exec lines use their input (inputkind.h).
 * A cut too early would let a command be decided in pieces (`r\` then
 * `m -f F`); each "unit" case below is one the shell reads as one command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "filter/inputkind.h"
#include "filter/linefilter.h"

/* Feed IN (at once, or byte by byte) and collect the commands cut, joined
 * with '|' between them, into OUT; the rest held goes after a '#'. */
static void cut(const char *in, bool bytewise, char *out, size_t outlen)
{
	struct gh_linefilter *f = NULL;
	size_t n = strlen(in), o = 0;
	assert_int_equal(gh_linefilter_new(&f), 0);
	out[0] = 0;
	for (size_t i = 0; i < n;) {
		size_t k = bytewise ? 1 : n - i;
		assert_int_equal(gh_linefilter_put(f, in + i, k), k);
		i += k;
		const char *u;
		size_t len;
		while (gh_linefilter_next(f, &u, &len) == GH_LINEFILTER_COMMAND) {
			o += (size_t)snprintf(out + o, outlen - o, "%s%.*s", o ? "|" : "", (int)len, u);
			gh_linefilter_consume(f, len);
		}
	}
	const char *u;
	size_t len;
	gh_linefilter_eof(f);
	if (gh_linefilter_next(f, &u, &len) == GH_LINEFILTER_AT_EOF)
		snprintf(out + o, outlen - o, "#%.*s", (int)len, u);
	gh_linefilter_free(f);
}

struct cut_case {
	const char *in, *want;
};

static const struct cut_case cases[] = {
	/* one line, one command */
	{ "ls\n", "ls\n" },
	{ "ls\npwd\n", "ls\n|pwd\n" },
	{ "\n# c\n", "\n|# c\n" },
	{ "echo a # b |\nls\n", "echo a # b |\n|ls\n" },
	{ "ls", "#ls" },
	/* backslash-newline */
	{ "r\\\nm -f F\n", "r\\\nm -f F\n" },
	{ "echo \\\\\nls\n", "echo \\\\\n|ls\n" },
	{ "echo '\\'\nls\n", "echo '\\'\n|ls\n" },
	/* trailing operators */
	{ "ls |\nsh\n", "ls |\nsh\n" },
	{ "ls &&\n\nrm F\n", "ls &&\n\nrm F\n" },
	{ "ls ||\nrm F\n", "ls ||\nrm F\n" },
	{ "ls |&\nsh\n", "ls |&\nsh\n" },
	{ "ls &\nrm F\n", "ls &\n|rm F\n" },
	{ "ls ;\nrm F\n", "ls ;\n|rm F\n" },
	/* quotes */
	{ "echo 'a\nb'\nls\n", "echo 'a\nb'\n|ls\n" },
	{ "echo \"a\n$(ls\n)\"\nls\n", "echo \"a\n$(ls\n)\"\n|ls\n" },
	{ "echo $'a\\n\nb'\nls\n", "echo $'a\\n\nb'\n|ls\n" },
	{ "echo $'a\\'\nb'\nls\n", "#echo $'a\\'\nb'\nls\n" }, /* bash and sh disagree */
	{ "echo `ls\n`\nls\n", "echo `ls\n`\n|ls\n" },
	{ "echo \"$(echo \")\")\"\nls\n", "echo \"$(echo \")\")\"\n|ls\n" },
	/* compound commands */
	{ "if true; then\nrm F\nfi\nls\n", "if true; then\nrm F\nfi\n|ls\n" },
	{ "if true\nthen rm F; elif x; then y\nelse z; fi\n", "if true\nthen rm F; elif x; then y\nelse z; fi\n" },
	{ "while true\ndo rm F\ndone\n", "while true\ndo rm F\ndone\n" },
	{ "for i in a b\ndo\n echo $i\ndone\n", "for i in a b\ndo\n echo $i\ndone\n" },
	{ "for ((i=0;i<2;i++)); do\nls; done\n", "for ((i=0;i<2;i++)); do\nls; done\n" },
	{ "until false; do :; done\nls\n", "until false; do :; done\n|ls\n" },
	{ "select x in a; do\nbreak; done\n", "select x in a; do\nbreak; done\n" },
	{ "case $x in\na|b) ls;;\n(c) rm F ;&\n*) x ;;& \nesac\nls\n",
	  "case $x in\na|b) ls;;\n(c) rm F ;&\n*) x ;;& \nesac\n|ls\n" },
	{ "case x in esac\nls\n", "case x in esac\n|ls\n" },
	{ "{ ls\nrm F; }\nls\n", "{ ls\nrm F; }\n|ls\n" },
	{ "{ ls }\n}\n", "{ ls }\n}\n" },
	{ "(ls\nrm F)\nls\n", "(ls\nrm F)\n|ls\n" },
	{ "echo $(ls\n)\n", "echo $(ls\n)\n" },
	{ "echo $(case x in a) ls;; esac)\nls\n", "echo $(case x in a) ls;; esac)\n|ls\n" },
	{ "echo $((1 +\n2))\nls\n", "echo $((1 +\n2))\n|ls\n" },
	{ "((x = 1 <<\n2))\nls\n", "((x = 1 <<\n2))\n|ls\n" },
	{ "echo ${x:-\n}\nls\n", "echo ${x:-\n}\n|ls\n" },
	{ "[[ -n x &&\n-n y ]]\nls\n", "[[ -n x &&\n-n y ]]\n|ls\n" },
	{ "diff <(ls\n) x\n", "diff <(ls\n) x\n" },
	{ "echo if then fi\nls\n", "echo if then fi\n|ls\n" },
	{ "'if' true\nls\n", "'if' true\n|ls\n" },
	/* functions */
	{ "f()\n{\nrm F\n}\nf\n", "f()\n{\nrm F\n}\n|f\n" },
	{ "f () { rm F; }\nf\n", "f () { rm F; }\n|f\n" },
	{ "function f\n{ ls; }\n", "function f\n{ ls; }\n" },
	{ "function f() ( ls )\nls\n", "function f() ( ls )\n|ls\n" },
	/* here-documents */
	{ "cat <<E\n'$(rm F)'\nE\nls\n", "cat <<E\n'$(rm F)'\nE\n|ls\n" },
	{ "cat <<'E' >x\nrm F\nE\n", "cat <<'E' >x\nrm F\nE\n" },
	{ "cat <<\"E\"; ls\nE x\nE\nls\n", "cat <<\"E\"; ls\nE x\nE\n|ls\n" },
	{ "cat <<-E\n\t\tbody\n\tE\nls\n", "cat <<-E\n\t\tbody\n\tE\n|ls\n" },
	{ "cat <<E\nx\\\nE\nE\n", "cat <<E\nx\\\nE\nE\n" },
	{ "cat <<'E'\nx\\\nE\nls\n", "cat <<'E'\nx\\\nE\n|ls\n" },
	{ "cat <<A <<B\na\nA\nb\nB\nls\n", "cat <<A <<B\na\nA\nb\nB\n|ls\n" },
	{ "cat <<<'x'\nls\n", "cat <<<'x'\n|ls\n" },
	{ "if x; then cat <<E\nfi\nE\nfi\n", "if x; then cat <<E\nfi\nE\nfi\n" },
	{ "bash <<'E'\nrm F\nE\n", "bash <<'E'\nrm F\nE\n" },
	/* an array subscript: bash reads NAME[ on to its ] */
	{ "a[\necho hi\n]=1\nls\n", "a[\necho hi\n]=1\n|ls\n" },
	{ "a=(1) b[$(x\n)]=2 [x\nls\n", "a=(1) b[$(x\n)]=2 [x\n|ls\n" },
	{ "esac[[\n$x\n", "#esac[[\n$x\n" },
	{ "a=(1 # )\n2 \"$(x)\" ')'\n)\nls\n", "a=(1 # )\n2 \"$(x)\" ')'\n)\n|ls\n" },
	{ "a+=(\n1)\n", "a+=(\n1)\n" },
	{ "a=([k]=1 [\n)]=2)\nls\n", "a=([k]=1 [\n)]=2)\n|ls\n" },
	{ "a[<(ls ])]=1\nls\n", "a[<(ls ])]=1\n|ls\n" },
	{ "echo $[1 +\n2]\nls\n", "echo $[1 +\n2]\n|ls\n" },
	/* \r is part of a word: `E\r` is not the delimiter E, `fi\r` not fi */
	{ "cat <<E\r\nE\n'$(rm F)'\nE\r\nls\n", "cat <<E\r\nE\n'$(rm F)'\nE\r\n|ls\n" },
	{ "if x; then\nfi\r\nfi\n", "if x; then\nfi\r\nfi\n" },
	{ "time -p if x; then\nls; fi\n", "time -p if x; then\nls; fi\n" },
	/* what the cutter cannot follow: no further end */
	{ "((ls) )\nls\n", "#((ls) )\nls\n" },
	{ "fi\nls\n", "#fi\nls\n" },
	{ "ls (\nls\n", "#ls (\nls\n" },
	{ "cat <<\nls\n", "#cat <<\nls\n" },
	{ "f() ls\nls\n", "#f() ls\nls\n" },
	{ "ls ;;\nls\n", "#ls ;;\nls\n" },
	{ "cat <<$(x)\nls\n", "#cat <<$(x)\nls\n" },
	{ "if x\n", "#if x\n" },
	{ "cat <<E\nbody\n", "#cat <<E\nbody\n" },
};

static void test_cut_corpus(void **state)
{
	(void)state;
	char got[1024];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			cut(cases[i].in, bytewise, got, sizeof got);
			if (strcmp(got, cases[i].want))
				fail_msg("case %zu (%s): got [%s] want [%s]", i,
					 bytewise ? "byte by byte" : "at once", got, cases[i].want);
		}
	}
}

/* The buffer is bounded: a command with no end fills it and is handed out
 * as too long; after it, cutting starts afresh. Partial consumption keeps
 * the rest of the unit at the head. */
static void test_bounds(void **state)
{
	(void)state;
	struct gh_linefilter *f = NULL;
	const char *u;
	size_t len;
	char *big = malloc(GH_LINEFILTER_MAX + 10);
	assert_non_null(big);
	memset(big, 'a', GH_LINEFILTER_MAX + 10);
	big[0] = '\'';
	assert_int_equal(gh_linefilter_new(&f), 0);
	assert_int_equal(gh_linefilter_room(f), GH_LINEFILTER_MAX);
	assert_int_equal(gh_linefilter_put(f, big, GH_LINEFILTER_MAX + 10), GH_LINEFILTER_MAX);
	assert_int_equal(gh_linefilter_room(f), 0);
	assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_TOO_LONG);
	assert_int_equal(len, GH_LINEFILTER_MAX);
	gh_linefilter_consume(f, len);
	assert_int_equal(gh_linefilter_held(f), 0);
	assert_int_equal(gh_linefilter_put(f, "ls\nrm x\n", 8), 8);
	assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_COMMAND);
	assert_int_equal(len, 3);
	gh_linefilter_consume(f, 1); /* partly passed on */
	assert_int_equal(gh_linefilter_held(f), 7);
	gh_linefilter_consume(f, 2);
	assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_COMMAND);
	assert_memory_equal(u, "rm x\n", 5);
	gh_linefilter_consume(f, len);
	assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_NONE);
	gh_linefilter_eof(f);
	assert_int_equal(gh_linefilter_room(f), 0);
	assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_NONE);
	/* held bytes move to the front when the end of the buffer is reached */
	gh_linefilter_free(f);
	assert_int_equal(gh_linefilter_new(&f), 0);
	for (size_t round = 0; round < 3 * GH_LINEFILTER_MAX / 6; round++) {
		assert_int_equal(gh_linefilter_put(f, "echo ", 5), 5);
		assert_int_equal(gh_linefilter_put(f, "x\n", 2), 2);
		assert_int_equal(gh_linefilter_next(f, &u, &len), GH_LINEFILTER_COMMAND);
		assert_int_equal(len, 7);
		assert_memory_equal(u, "echo x\n", 7);
		gh_linefilter_consume(f, len);
	}
	free(big);
	assert_null(gh_linefilter_free(f));
	assert_null(gh_linefilter_free(NULL));
}

struct kind_case {
	const char *line;
	enum gh_input_kind want;
};

static const struct kind_case kinds[] = {
	{ "ls -l", GH_INPUT_DATA },
	{ "cat > f", GH_INPUT_DATA },
	{ "scp -t /tmp", GH_INPUT_DATA },
	{ "bash", GH_INPUT_SHELL },
	{ "/bin/sh", GH_INPUT_SHELL },
	{ "bash -i", GH_INPUT_SHELL },
	{ "sh -s a b", GH_INPUT_SHELL },
	{ "sh -", GH_INPUT_SHELL },
	{ "bash -o errexit", GH_INPUT_SHELL },
	{ "bash --rcfile x", GH_INPUT_SHELL },
	{ "bash ./script.sh", GH_INPUT_SHELL },
	{ "bash /dev/stdin", GH_INPUT_SHELL },
	{ "exec bash", GH_INPUT_SHELL },
	{ "env FOO=1 ksh", GH_INPUT_SHELL },
	{ "zsh", GH_INPUT_CODE },
	{ "fish -c ls", GH_INPUT_DATA },
	{ "tcsh -i", GH_INPUT_CODE },
	{ "bash -c 'cat'", GH_INPUT_DATA },
	{ "sh -ec 'cat'", GH_INPUT_DATA },
	{ "su", GH_INPUT_SHELL },
	{ "su - root", GH_INPUT_SHELL },
	{ "su -c id", GH_INPUT_DATA },
	{ "su -lc id", GH_INPUT_CODE },
	{ "sudo -s", GH_INPUT_SHELL },
	{ "sudo -u root -i", GH_INPUT_SHELL },
	{ "sudo -i id", GH_INPUT_DATA },
	{ "sudo id", GH_INPUT_DATA },
	{ "doas -s", GH_INPUT_SHELL },
	{ "script -q /dev/null", GH_INPUT_SHELL },
	{ "script -c id", GH_INPUT_CODE },
	{ "script -qc id /dev/null", GH_INPUT_CODE },
	{ "source /dev/stdin", GH_INPUT_SHELL },
	{ ". ./env.sh", GH_INPUT_DATA },
	{ "python3", GH_INPUT_CODE },
	{ "python3 -", GH_INPUT_CODE },
	{ "python3.11 -u x.py", GH_INPUT_CODE },
	{ "/usr/bin/python3 /dev/stdin", GH_INPUT_CODE },
	{ "python3 x.py", GH_INPUT_DATA },
	{ "python3 -c 'print(1)'", GH_INPUT_DATA },
	{ "python3 -m json.tool", GH_INPUT_DATA },
	{ "python3 $F", GH_INPUT_CODE },
	{ "perl", GH_INPUT_CODE },
	{ "perl -ne 'print'", GH_INPUT_DATA },
	{ "perl -lane 'print'", GH_INPUT_DATA },
	{ "perl -x", GH_INPUT_CODE },
	{ "ruby -e 1", GH_INPUT_DATA },
	{ "node", GH_INPUT_CODE },
	{ "node --eval 1", GH_INPUT_DATA },
	{ "php -r 1", GH_INPUT_DATA },
	{ "lua5.4", GH_INPUT_CODE },
	{ "sqlite3 x.db", GH_INPUT_CODE },
	{ "mysql -e 'select 1'", GH_INPUT_DATA },
	{ "mysql -u x db", GH_INPUT_CODE },
	{ "psql -c 'select 1'", GH_INPUT_DATA },
	{ "ed f", GH_INPUT_CODE },
	{ "awk '{print}'", GH_INPUT_DATA },
	{ "awk -f -", GH_INPUT_CODE },
	{ "sed -f /dev/stdin f", GH_INPUT_CODE },
	{ "gawk --file=/proc/self/fd/0", GH_INPUT_CODE },
	{ "/bin/sh -c '/usr/bin/python3 && sleep 0'", GH_INPUT_CODE },
	{ "/bin/sh -c 'echo ~ && sleep 0'", GH_INPUT_DATA },
	{ "/bin/sh -c '/usr/bin/python3 /h/.ansible/tmp/x/AnsiballZ_ping.py && sleep 0'",
	  GH_INPUT_DATA },
	{ "bash; python3", GH_INPUT_CODE },
	{ "bash | cat", GH_INPUT_SHELL },
	{ "edit x", GH_INPUT_DATA },
	{ "pythonic", GH_INPUT_DATA },
};

static void test_input_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct gh_cmdlist *l = NULL;
		const char *prog = NULL;
		assert_int_equal(gh_cmd_split(kinds[i].line, strlen(kinds[i].line), &l), 0);
		enum gh_input_kind k = gh_input_kind(l, &prog);
		if (k != kinds[i].want)
			fail_msg("%s: kind %d, want %d", kinds[i].line, k, kinds[i].want);
		assert_true((k == GH_INPUT_DATA) == (prog == NULL));
		gh_cmdlist_free(l);
	}
	assert_int_equal(gh_input_kind(NULL, NULL), GH_INPUT_DATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_corpus),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_input_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
