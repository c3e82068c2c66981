/* How an exec line uses its input (inputkind.h). */
#include "filter/inputkind.h"

#include <stdbool.h>
#include <string.h>

static const char *base(const char *w)
{
	const char *s = strrchr(w, '/');
	return s ? s + 1 : w;
}

/* W is NAME, or NAME followed by a version (python3, python3.11, perl5.36). */
static bool named(const char *w, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(w, name, n) != 0)
		return false;
	for (w += n; *w; w++)
		if (!((*w >= '0' && *w <= '9') || *w == '.'))
			return false;
	return true;
}

static bool in_list(const char *w, const char *const *v, bool versioned)
{
	for (size_t i = 0; v[i]; i++)
		if (versioned ? named(w, v[i]) : !strcmp(w, v[i]))
			return true;
	return false;
}

/* A path that may be the input itself, or is not known before run time. */
static bool input_like(const char *p)
{
	return !strcmp(p, "-") || strstr(p, "dev/") || strstr(p, "proc/") || strstr(p, "fd/") ||
	       strpbrk(p, "$`") || strstr(p, "<(");
}

/* An option bundle (-lc, -qc) holding letter L. */
static bool has_short(const struct gh_cmd *c, char l)
{
	for (size_t i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] == '-' && a[1] && a[1] != '-' && strchr(a + 1, l))
			return true;
	}
	return false;
}

static bool has_word(const struct gh_cmd *c, const char *a, const char *b)
{
	for (size_t i = 1; i < c->argc; i++)
		if (!strcmp(c->argv[i], a) || (b && !strncmp(c->argv[i], b, strlen(b))))
			return true;
	return false;
}

/* A shell: reads its input (or a terminal, or a script) unless an option
 * bundle before its first operand holds c. */
static enum gh_input_kind shell(const struct gh_cmd *c)
{
	for (size_t i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (!strcmp(a, "--") || (a[0] != '-' && a[0] != '+') || !a[1])
			break;
		if (!strcmp(a, "--rcfile") || !strcmp(a, "--init-file")) {
			i++;
			continue;
		}
		if (a[1] == '-')
			continue;
		if (a[0] == '-' && strchr(a + 1, 'c'))
			return GH_INPUT_DATA; /* sh -c STRING: split by the splitter */
		char last = a[strlen(a) - 1];
		if (last == 'o' || last == 'O')
			i++; /* -o OPTION */
	}
	return GH_INPUT_SHELL;
}

/* sudo/doas: -s or -i without a command starts a shell. */
static enum gh_input_kind sudo(const struct gh_cmd *c, const char *with_arg)
{
	bool sh = false;
	size_t i = 1;
	for (; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--shell") || !strcmp(a, "--login")) {
			sh = true;
			continue;
		}
		if (a[1] == '-') {
			if (!strchr(a, '=') && (!strcmp(a, "--user") || !strcmp(a, "--group") ||
						!strcmp(a, "--prompt") || !strcmp(a, "--chdir") ||
						!strcmp(a, "--host") || !strcmp(a, "--close-from")))
				i++;
			continue;
		}
		for (size_t k = 1; a[k]; k++) {
			if (a[k] == 's' || a[k] == 'i')
				sh = true;
			if (strchr(with_arg, a[k])) {
				if (!a[k + 1])
					i++;
				break;
			}
		}
	}
	while (i < c->argc && strchr(c->argv[i], '=') && c->argv[i][0] != '=')
		i++; /* VAR=value */
	return sh && i >= c->argc ? GH_INPUT_SHELL : GH_INPUT_DATA;
}

struct interp {
	const char *name;
	const char *inline_opts; /* first arguments giving the program, space separated */
};

static const struct interp interps[] = {
	{ "python", "-c -m" }, { "pypy", "-c -m" }, { "perl", "-e -E" }, { "ruby", "-e" },
	{ "node", "-e -p --eval --print" }, { "nodejs", "-e -p --eval --print" },
	{ "php", "-r -f" }, { "lua", "-e" }, { "luajit", "-e" }, { "tclsh", "" },
	{ "wish", "" }, { "expect", "-c -f" }, { "Rscript", "-e" }, { "julia", "-e -E" },
	{ NULL, NULL },
};

/* Programs that take commands from their input (several with a shell escape). */
static const struct interp repls[] = {
	{ "sqlite3", "" }, { "mysql", "-e --execute" }, { "mariadb", "-e --execute" },
	{ "psql", "-c --command" }, { "irb", "" }, { "jshell", "" }, { "ed", "" }, { "ex", "" },
	{ "dc", "" }, { "gdb", "" }, { NULL, NULL },
};

static bool word_in(const char *w, const char *list)
{
	size_t n = strlen(w);
	for (const char *p = list; n && (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* perl -ne, -lane, ruby -pe: a bundle of flags ending in e. */
static bool perl_bundle(const char *a)
{
	size_t n = strlen(a);
	if (n < 3 || a[0] != '-' || (a[n - 1] != 'e' && a[n - 1] != 'E'))
		return false;
	for (size_t k = 1; k + 1 < n; k++)
		if (!strchr("lnpaswWT", a[k]))
			return false;
	return true;
}

static enum gh_input_kind interpreter(const struct gh_cmd *c, const struct interp *ip, bool repl)
{
	const char *a = c->argc > 1 ? c->argv[1] : NULL;
	if (a && word_in(a, ip->inline_opts))
		return GH_INPUT_DATA;
	if (a && (!strncmp(ip->name, "perl", 4) || !strcmp(ip->name, "ruby")) && perl_bundle(a))
		return GH_INPUT_DATA;
	if (a && !repl && a[0] != '-' && !input_like(a))
		return GH_INPUT_DATA; /* a script file */
	return GH_INPUT_CODE;
}

/* awk/sed -f FILE: the program from the input when FILE is. */
static enum gh_input_kind program_file(const struct gh_cmd *c)
{
	for (size_t i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		const char *f = NULL;
		if (!strcmp(a, "-f") || !strcmp(a, "--file"))
			f = i + 1 < c->argc ? c->argv[i + 1] : "-";
		else if (!strncmp(a, "--file=", 7))
			f = a + 7;
		else if (!strncmp(a, "-f", 2))
			f = a + 2;
		if (f && input_like(f))
			return GH_INPUT_CODE;
	}
	return GH_INPUT_DATA;
}

static enum gh_input_kind one(const struct gh_cmd *c)
{
	/* shells whose input the filter reads (bash's grammar, or a POSIX
	 * sh's where it agrees), and shells with a grammar of their own */
	static const char *const shells[] = { "sh", "bash", "rbash", "dash", "ash", "ksh",
					      "ksh93", "mksh", "pdksh", "oksh", "yash", "posh",
					      NULL };
	static const char *const others[] = { "zsh", "fish", "csh", "tcsh", NULL };
	static const char *const awks[] = { "awk", "gawk", "mawk", "nawk", "sed", "gsed", NULL };
	const char *w = base(c->argv[0]);
	if (in_list(w, shells, false))
		return shell(c);
	if (in_list(w, others, false))
		return shell(c) == GH_INPUT_SHELL ? GH_INPUT_CODE : GH_INPUT_DATA;
	if (!strcmp(w, "su")) /* su -c STRING is split; a bundled c is not */
		return has_word(c, "-c", "--command") ? GH_INPUT_DATA
		       : has_short(c, 'c')	     ? GH_INPUT_CODE
						     : GH_INPUT_SHELL;
	if (!strcmp(w, "sudo"))
		return sudo(c, "ugCDhprtTUR");
	if (!strcmp(w, "doas"))
		return sudo(c, "uC");
	if (!strcmp(w, "script"))
		return has_word(c, "-c", "--command") || has_short(c, 'c') ? GH_INPUT_CODE
									     : GH_INPUT_SHELL;
	if (!strcmp(w, "source") || !strcmp(w, "."))
		return c->argc > 1 && input_like(c->argv[1]) ? GH_INPUT_SHELL : GH_INPUT_DATA;
	if (in_list(w, awks, false))
		return program_file(c);
	for (size_t i = 0; interps[i].name; i++)
		if (named(w, interps[i].name))
			return interpreter(c, &interps[i], false);
	for (size_t i = 0; repls[i].name; i++)
		if (named(w, repls[i].name))
			return interpreter(c, &repls[i], true);
	return GH_INPUT_DATA;
}

enum gh_input_kind gh_input_kind(const struct gh_cmdlist *l, const char **ret_program)
{
	enum gh_input_kind k = GH_INPUT_DATA;
	const char *prog = NULL;
	for (size_t i = 0; l && i < l->n; i++) {
		enum gh_input_kind x = one(&l->v[i]);
		if (x > k) {
			k = x;
			prog = l->v[i].argv[0];
		}
	}
	if (ret_program)
		*ret_program = prog;
	return k;
}
