/* What the splitter can analyse (cmdclass.h). */
#include "filter/cmdclass.h"

#include <string.h>

const char GH_WHY_CMDWORD[] = "command name known only at run time";
const char GH_WHY_XARGS[] = "command or code taken from xargs input";
const char GH_WHY_SHELL_IN[] = "shell reading its commands from a pipe or a file";
const char GH_WHY_SCRIPT[] = "shell running a script or startup file whose contents are unknown";
const char GH_WHY_STRING[] = "shell string known only at run time";
const char GH_WHY_ARITH[] = "arithmetic on a variable (its value is evaluated and may run code)";
const char GH_WHY_SUBSCRIPT[] = "array subscript evaluated as code";
const char GH_WHY_NAME[] = "variable name evaluated as code";
const char GH_WHY_HISTORY[] = "history expansion re-runs an earlier command";
const char GH_WHY_PROMPT_ESC[] = "prompt escape that decodes to code";
const char GH_WHY_CODEVAR[] = "variable naming code that bash or the loader runs";
static const char WHY_INDIRECT[] = "indirect expansion ${!name}";
static const char WHY_TRANSFORM[] = "prompt expansion ${name@P}";
static const char WHY_SOURCE[] = "source of a file whose contents are unknown";
static const char WHY_LATER[] = "builtin that runs code the line does not show";
static const char WHY_VI[] = "vi editing mode (its v command runs an unseen editor buffer)";
static const char WHY_DECL[] = "declare -i/-n: later assignments evaluate code";

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool gh_arith_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_digit(c)) { /* 42, 0x1f, 2#101, 64#@_ */
			while (i + 1 < n && (name_char(s[i + 1]) || s[i + 1] == '#' || s[i + 1] == '@'))
				i++;
			continue;
		}
		if (c == '$' && i + 1 < n && strchr("#?$!", s[i + 1]) && s[i + 1]) {
			i++;
			continue;
		}
		if (c == '\0' || !strchr(" \t\n+-*/%<>=!&|^~?:,();", c))
			return false;
	}
	return true;
}

/* A subscript bash does not evaluate as code: @, * or a safe expression. */
static bool subscript_safe(const char *s, size_t n)
{
	if (n == 1 && (s[0] == '@' || s[0] == '*'))
		return true;
	return n > 0 && gh_arith_safe(s, n);
}

bool gh_plain_lvalue(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !name_start(s[0]))
		return false;
	while (i < n && name_char(s[i]))
		i++;
	if (i == n)
		return true;
	if (s[i] != '[' || s[n - 1] != ']')
		return false;
	return subscript_safe(s + i + 1, n - i - 2);
}

/* The offset of the '}' closing a ${ at S (nesting of braces followed), N
 * when there is none. */
static size_t brace_end(const char *s, size_t n)
{
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && depth-- == 0)
			return i;
	}
	return n;
}

const char *gh_braced_why(const char *s, size_t n)
{
	size_t i = 0, name, end = brace_end(s, n);
	bool indirect = false, all = false;

	if (i < end && s[i] == '!') {
		indirect = true;
		i++;
	} else if (i < end && s[i] == '#' && i + 1 < end) {
		i++; /* ${#name}: a length */
	}
	name = i;
	if (i < end && name_start(s[i])) {
		while (i < end && name_char(s[i]))
			i++;
	} else if (i < end && is_digit(s[i])) {
		while (i < end && is_digit(s[i]))
			i++;
	} else if (i < end && strchr("@*#?$!-", s[i])) {
		i++;
	}
	if (i == name)
		return indirect && i == end ? NULL : indirect ? WHY_INDIRECT : NULL;
	if (i < end && s[i] == '[') {
		const char *close = memchr(s + i, ']', end - i);
		if (!close)
			return GH_WHY_SUBSCRIPT;
		if (!subscript_safe(s + i + 1, (size_t)(close - s) - i - 1))
			return GH_WHY_SUBSCRIPT;
		all = (size_t)(close - s) == i + 2 && (s[i + 1] == '@' || s[i + 1] == '*');
		i = (size_t)(close - s) + 1;
	}
	if (indirect) {
		/* ${!prefix*} ${!prefix@}: names; ${!arr[@]}: keys */
		if (i + 1 == end && (s[i] == '*' || s[i] == '@'))
			return NULL;
		if (all && i == end)
			return NULL;
		return WHY_INDIRECT;
	}
	/* ${PS1:=word}: assigns the variable when unset or empty */
	if (((i + 1 < end && s[i] == ':' && s[i + 1] == '=') || (i < end && s[i] == '=')) &&
	    gh_var_kind(s + name, i - name) != GH_VAR_DATA)
		return GH_WHY_CODEVAR;
	if (i + 1 < end && s[i] == '@')
		return i + 2 == end && strchr("QEAaKkULu", s[i + 1]) ? NULL : WHY_TRANSFORM;
	if (i < end && s[i] == '@')
		return WHY_TRANSFORM;
	if (i < end && s[i] == ':' && i + 1 < end && !strchr("-=+?", s[i + 1]))
		return gh_arith_safe(s + i + 1, end - i - 1) ? NULL : GH_WHY_ARITH;
	return NULL;
}

static bool name_is(const char *name, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && memcmp(list[i], name, n) == 0)
			return true;
	return false;
}

enum gh_var_kind gh_var_kind(const char *name, size_t n)
{
	static const char *const code[] = { "PROMPT_COMMAND", NULL };
	static const char *const prompt[] = { "PS0", "PS1", "PS2", "PS3", "PS4", NULL };
	/* bash reads a file of code (BASH_ENV, ENV), a shell's options
	 * (SHELLOPTS: xtrace with PS4...), its command hash or aliases, key
	 * bindings or loadable builtins; the loader preloads code (LD_*) */
	static const char *const loader[] = { "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS",
		"BASH_CMDS", "BASH_ALIASES", "INPUTRC", "BASH_LOADABLES_PATH", NULL };
	if (name_is(name, n, code))
		return GH_VAR_CODE;
	if (name_is(name, n, prompt))
		return GH_VAR_PROMPT;
	if (name_is(name, n, loader) || (n >= 3 && memcmp(name, "LD_", 3) == 0) ||
	    (n >= 10 && memcmp(name, "BASH_FUNC_", 10) == 0))
		return GH_VAR_LOADER;
	return GH_VAR_DATA;
}

/* ---- builtins ------------------------------------------------------------ */

/* A variable a builtin assigns from data the line does not show (read,
 * printf -v, mapfile...): a plain name, not one whose value is code. */
static const char *lvalue_why(const char *s, bool dyn)
{
	size_t n = 0;
	if (dyn || !gh_plain_lvalue(s, strlen(s)))
		return GH_WHY_NAME;
	while (name_char(s[n]))
		n++;
	return gh_var_kind(s, n) != GH_VAR_DATA ? GH_WHY_CODEVAR : NULL;
}

/* Every operand after the options (from K) is an lvalue (read, unset...). */
static const char *names_why(char *const *av, const bool *dyn, size_t n, size_t k)
{
	for (; k < n; k++) {
		const char *why = lvalue_why(av[k], dyn[k]);
		if (why)
			return why;
	}
	return NULL;
}

/* Options from av[1]: those in WITH_ARG take an argument; an argument of
 * option NAME_OPT is an lvalue. Returns the first operand's index, or N
 * with *why set when a name option is not plain. */
static size_t opts_why(char *const *av, const bool *dyn, size_t n, const char *with_arg,
		       const char *name_opt, const char *bad_opt, const char **why)
{
	size_t k = 1;
	while (k < n && av[k][0] == '-' && av[k][1] && strcmp(av[k], "--") != 0) {
		for (const char *c = av[k] + 1; *c; c++) {
			if (bad_opt && strchr(bad_opt, *c)) {
				*why = WHY_LATER;
				return n;
			}
			if (!strchr(with_arg, *c))
				continue;
			const char *arg = c[1] ? c + 1 : k + 1 < n ? av[k + 1] : "";
			bool adyn = c[1] ? dyn[k] : k + 1 < n && dyn[k + 1];
			if (name_opt && strchr(name_opt, *c) && (*why = lvalue_why(arg, adyn)))
				return n;
			if (!c[1])
				k++;
			break;
		}
		k++;
	}
	if (k < n && strcmp(av[k], "--") == 0)
		k++;
	return k;
}

/* test / [: -v and -R take a variable name (a subscript in it is evaluated);
 * -eq and the like do not evaluate arithmetic in test (they do in [[ ]]). */
static const char *test_why(char *const *av, const bool *dyn, size_t n)
{
	for (size_t k = 1; k + 1 < n; k++)
		if ((!strcmp(av[k], "-v") || !strcmp(av[k], "-R")) &&
		    (dyn[k + 1] || !gh_plain_lvalue(av[k + 1], strlen(av[k + 1]))))
			return GH_WHY_NAME;
	return NULL;
}

/* declare and friends: -i and -n make later assignments evaluate code;
 * operands that are not assignments are lvalues. */
static const char *decl_why(char *const *av, const bool *dyn, size_t n, bool is_export)
{
	size_t k = 1;
	for (; k < n && (av[k][0] == '-' || av[k][0] == '+') && av[k][1]; k++) {
		if (!strcmp(av[k], "--")) {
			k++;
			break;
		}
		if (strchr(av[k] + 1, 'i') || (!is_export && strchr(av[k] + 1, 'n')))
			return WHY_DECL;
	}
	for (; k < n; k++) {
		const char *eq = strchr(av[k], '=');
		size_t len = eq ? (size_t)(eq - av[k]) : strlen(av[k]);
		if (eq && len > 0 && av[k][len - 1] == '+')
			len--;
		/* expansions stay as written: one in the name makes it not plain */
		if (!gh_plain_lvalue(av[k], len))
			return GH_WHY_NAME;
	}
	return NULL;
}

enum rule {
	R_DATA,    /* operands are data */
	R_WRAP,    /* a wrapper: what it runs is split (cmdsplit.c) */
	R_DYNAMIC, /* runs code the line does not show */
	R_TEST, R_DECL, R_EXPORT, R_LET, R_READ, R_MAPFILE, R_PRINTF, R_WAIT, R_UNSET,
	R_GETOPTS, R_HASH, R_SET,
};

/* Every builtin of bash 5.2 (`enable -a`) with the rule that makes it
 * analysable. A builtin loaded with `enable -f` is not here: enable is
 * dynamic. A name not in this table is a program (matched by the filters
 * by name; what it does inside is its own business). */
static const struct {
	const char *name;
	enum rule rule;
} builtins[] = {
	{ ".", R_DYNAMIC }, { ":", R_DATA }, { "[", R_TEST }, { "alias", R_WRAP },
	{ "bg", R_DATA }, { "bind", R_DYNAMIC }, { "break", R_DATA }, { "builtin", R_WRAP },
	{ "caller", R_DATA }, { "cd", R_DATA }, { "command", R_WRAP },
	{ "compgen", R_DYNAMIC }, { "complete", R_DYNAMIC }, { "compopt", R_DYNAMIC },
	{ "continue", R_DATA }, { "declare", R_DECL }, { "dirs", R_DATA },
	{ "disown", R_DATA }, { "echo", R_DATA }, { "enable", R_DYNAMIC }, { "eval", R_WRAP },
	{ "exec", R_WRAP }, { "exit", R_DATA }, { "export", R_EXPORT }, { "false", R_DATA },
	{ "fc", R_DYNAMIC }, { "fg", R_DATA }, { "getopts", R_GETOPTS }, { "hash", R_HASH },
	{ "help", R_DATA }, { "history", R_DATA }, { "jobs", R_DATA }, { "kill", R_DATA },
	{ "let", R_LET }, { "local", R_DECL }, { "logout", R_DATA }, { "mapfile", R_MAPFILE },
	{ "popd", R_DATA }, { "printf", R_PRINTF }, { "pushd", R_DATA }, { "pwd", R_DATA },
	{ "read", R_READ }, { "readarray", R_MAPFILE }, { "readonly", R_DECL },
	{ "return", R_DATA }, { "set", R_SET }, { "shift", R_DATA }, { "shopt", R_DATA },
	{ "source", R_DYNAMIC }, { "suspend", R_DATA }, { "test", R_TEST }, { "times", R_DATA },
	{ "trap", R_WRAP }, { "true", R_DATA }, { "type", R_DATA }, { "typeset", R_DECL },
	{ "ulimit", R_DATA }, { "umask", R_DATA }, { "unalias", R_DATA }, { "unset", R_UNSET },
	{ "wait", R_WAIT },
};

static const char *rule_why(enum rule rule, char *const *av, const bool *dyn, size_t n)
{
	const char *why = NULL;
	size_t k;

	switch (rule) {
	case R_DATA:
	case R_WRAP:
		return NULL;
	case R_DYNAMIC:
		return !strcmp(av[0], ".") || !strcmp(av[0], "source") ? WHY_SOURCE : WHY_LATER;
	case R_TEST:
		return test_why(av, dyn, n);
	case R_DECL:
	case R_EXPORT:
		return decl_why(av, dyn, n, rule == R_EXPORT);
	case R_LET:
		for (k = 1; k < n; k++)
			if (!gh_arith_safe(av[k], strlen(av[k])))
				return GH_WHY_ARITH;
		return NULL;
	case R_READ:
		k = opts_why(av, dyn, n, "adinNptu", "a", NULL, &why);
		return why ? why : names_why(av, dyn, n, k);
	case R_MAPFILE:
		k = opts_why(av, dyn, n, "dnOsuc", NULL, "C", &why);
		return why ? why : names_why(av, dyn, n, k);
	case R_PRINTF:
		opts_why(av, dyn, n, "v", "v", NULL, &why);
		return why;
	case R_WAIT:
		opts_why(av, dyn, n, "p", "p", NULL, &why);
		return why;
	case R_UNSET:
		k = opts_why(av, dyn, n, "", NULL, NULL, &why);
		return why ? why : names_why(av, dyn, n, k);
	case R_GETOPTS:
		return n > 2 ? names_why(av, dyn, 3, 2) : NULL;
	case R_HASH:
		opts_why(av, dyn, n, "pd", NULL, "p", &why);
		return why;
	case R_SET:
		/* vi editing mode: its `v` runs an editor and then the buffer */
		for (k = 1; k + 1 < n; k++)
			if (!strcmp(av[k], "-o") && !strcmp(av[k + 1], "vi"))
				return WHY_VI;
		return NULL;
	}
	return WHY_LATER;
}

const char *gh_builtin_why(char *const *av, const bool *dyn, size_t n)
{
	/* a builtin is named without a path; a path is a program */
	if (n == 0 || strchr(av[0], '/'))
		return NULL;
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
		if (!strcmp(builtins[i].name, av[0]))
			return rule_why(builtins[i].rule, av, dyn, n);
	return NULL;
}

bool gh_assigns_operands(const char *cmd)
{
	static const char *const list[] = { "declare", "typeset", "local", "export", "readonly",
		"env", "sudo", "doas", NULL };
	const char *slash = strrchr(cmd, '/'), *name = slash ? slash + 1 : cmd;
	return name_is(name, strlen(name), list);
}
