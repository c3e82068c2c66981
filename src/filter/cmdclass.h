/* What the splitter can analyse: the allowlist behind GH_CMD_DYNAMIC.
 * Internal to src/filter (cmdsplit.c); pure predicates, no allocation.
 *
 * Bash evaluates code in places a word-level scanner does not see: an
 * arithmetic context evaluates the value of every variable it names (and
 * a subscript in that value runs its substitutions), some builtins take
 * variable names that may carry a subscript, some variables hold code or
 * name a file of code, prompt strings are expanded when shown. The rules
 * here say what IS analysable — numbers and operators in arithmetic, plain
 * names where a name is expected, the builtins whose operands are data —
 * and everything else is dynamic with a one-line reason. A construct the
 * tables do not know is therefore dynamic, not accepted. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Reasons (static storage), shown to users and written to the audit. */
extern const char GH_WHY_CMDWORD[];   /* command name known only at run time */
extern const char GH_WHY_XARGS[];     /* command or code from xargs input */
extern const char GH_WHY_SHELL_IN[];  /* a shell reading a pipe or a file */
extern const char GH_WHY_SCRIPT[];    /* a shell running a script file */
extern const char GH_WHY_STRING[];    /* a shell string known only at run time */
extern const char GH_WHY_ARITH[];     /* arithmetic naming a variable */
extern const char GH_WHY_SUBSCRIPT[]; /* a subscript that is not a number */
extern const char GH_WHY_NAME[];      /* a variable name that is not plain */
extern const char GH_WHY_HISTORY[];   /* history expansion */
extern const char GH_WHY_PROMPT_ESC[]; /* a prompt escape that decodes to code */
extern const char GH_WHY_CODEVAR[];   /* a variable naming code bash or ld.so runs */

/* Is S (N bytes) an arithmetic expression that names no variable and
 * expands nothing but $# $? $$ $!: numbers (any base), operators, blanks. */
bool gh_arith_safe(const char *s, size_t n);

/* NAME or NAME[SUBSCRIPT] with a safe subscript (a number expression, @ or *). */
bool gh_plain_lvalue(const char *s, size_t n);

/* S is the text right after "${" (up to the end of the input): the reason
 * this parameter expansion is dynamic (indirection, @P, a subscript or a
 * substring offset naming a variable), or NULL. */
const char *gh_braced_why(const char *s, size_t n);

enum gh_var_kind {
	GH_VAR_DATA = 0,  /* an ordinary variable */
	GH_VAR_CODE,      /* its value is a command line run later (PROMPT_COMMAND) */
	GH_VAR_PROMPT,    /* its value is prompt-expanded when shown (PS0..PS4) */
	GH_VAR_LOADER,    /* it names code bash or the dynamic loader runs (BASH_ENV,
			   * LD_PRELOAD, BASH_FUNC_*, BASH_CMDS...): dynamic */
};
enum gh_var_kind gh_var_kind(const char *name, size_t n);

/* The builtin or command AV[0..N) (words after quote removal; DYN[i]: the
 * word holds an expansion) judged on its options and operands: the reason
 * it is dynamic, or NULL. Assignment operands of declare/export/env... are
 * left to the caller (their values may be code to split). */
const char *gh_builtin_why(char *const *av, const bool *dyn, size_t n);

/* declare, typeset, local, export, readonly; env, sudo, doas: commands
 * whose NAME=VALUE operands are assignments. */
bool gh_assigns_operands(const char *cmd);
