/* Command filter: split a shell command line into the simple commands a
 * POSIX shell (bash dialect) would run, and decide what the filters say.
 *
 * Pure logic: no I/O, no store, no logging. The caller resolves which
 * filters apply to a user/asset/account and passes only those.
 *
 * Splitting (gh_cmd_split), in short — docs/COMMAND-FILTER.md has the rules:
 *   - separators ; && || | |& & and newlines; subshells ( ), groups { },
 *     command substitutions $( ) and ` `, process substitutions <( ) >( ),
 *     arithmetic $(( )) (( )), parameter expansions ${ } and the compound
 *     words (if/then/while/for/case/function ...): every command inside
 *     any of them is reported as a simple command of its own;
 *   - quotes ' " $' ' and backslashes are removed from the words; comments
 *     are dropped; redirections (and their targets) are not arguments;
 *     here-document bodies are not commands, but the substitutions inside
 *     an unquoted one are, and a body fed to a shell (sh <<EOF) is split;
 *   - leading assignments are dropped (FOO=1 rm x -> rm x);
 *   - wrappers are unwrapped: sudo, doas, env, nohup, exec, command,
 *     builtin, nice, ionice, timeout, stdbuf, setsid, time, xargs, busybox
 *     and `sh|bash|... -c STR`, `su -c STR`, `eval STR...`, `env -S STR`.
 *     Both the wrapper and the wrapped command are reported (the wrapped
 *     one with GH_CMD_WRAPPED), so a filter on either sees it.
 *
 * Dynamic commands: every construct whose effect the splitter cannot know
 * is reported with GH_CMD_DYNAMIC and a one-line reason (gh_cmd.why).
 * What is analysable is an allowlist (src/filter/cmdclass.h): numbers and
 * operators in arithmetic, plain names where bash takes a variable name,
 * each bash builtin with the rule that makes its operands data, a known
 * command word. So an arithmetic context naming a variable ($((a)), let,
 * [[ a -eq 0 ]], ${x:a}, a[i]=1), a name operand with a subscript
 * (printf -v, read, declare, test -v), ${!x}, ${x@P}, source/., bind, fc,
 * a shell running a script file or a string only known at run time, xargs
 * feeding a wrapper or a shell, a variable naming code (BASH_ENV, LD_*,
 * BASH_FUNC_*) and history expansion (!!) are dynamic. Values assigned to
 * PROMPT_COMMAND are split as commands and PS0..PS4 scanned as prompts
 * (code bash runs later is judged where it is assigned).
 *
 * A command line that cannot be analysed (unbalanced quotes or brackets,
 * limits exceeded) is an error; callers must treat it as "unknown" and the
 * filter decision does (see gh_cmdfilter_check). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits (the splitter refuses bigger input with GH_ELIMIT). */
#define GH_CMD_MAX_INPUT 65536u   /* bytes of one command line */
#define GH_CMD_MAX_DEPTH 16u      /* nesting of ( { $( ` sh -c ... */
#define GH_CMD_MAX_CMDS 1024u     /* simple commands in one line */
#define GH_CMD_MAX_WORK (1u << 20) /* bytes scanned in total, nested strings included */

/* Flags of one simple command. */
enum {
	/* Found by unwrapping a wrapper (sudo rm x -> "rm x" has it). */
	GH_CMD_WRAPPED = 1u << 0,
	/* The command word is not known before run time: it holds an
	 * expansion ($x, $(..), `..`, ${..}), a glob (* ? [) or a brace
	 * expansion, or the command is a shell reading commands from a pipe
	 * or file. The filter treats such a command as not analysable. */
	GH_CMD_DYNAMIC = 1u << 1,
	/* Inside a command/process substitution or backquotes. */
	GH_CMD_SUBST = 1u << 2,
	/* From a string run by a shell: sh -c, eval, su -c, env -S or a
	 * here-document fed to a shell. off/len are those of the outer command. */
	GH_CMD_NESTED = 1u << 3,
	/* A shell that reads its commands from the session's own input (its
	 * stdin not redirected: `bash`, `sudo -s`, `sh -c 'sh'` at the top of
	 * an exec line). Not dynamic by itself: what the shell reads is the
	 * input the session goes on to send, for the caller to check. */
	GH_CMD_SHELL_STDIN = 1u << 4,
};

struct gh_cmd {
	char **argv;      /* argc words after quote removal, argv[argc] == NULL;
	                   * expansions stay as written ("$HOME", "$(id -u)") */
	size_t argc;      /* >= 1 */
	char *text;       /* argv joined with single spaces (what regexes see) */
	size_t off, len;  /* span in the line given to gh_cmd_split */
	unsigned depth;   /* nesting depth, 0 at the top */
	unsigned flags;   /* GH_CMD_* */
	const char *why;  /* with GH_CMD_DYNAMIC: why, one line (static storage,
	                   * e.g. "arithmetic on a variable (...)"); else NULL */
};

struct gh_cmdlist {
	struct gh_cmd *v; /* in order of appearance (a wrapper before what it wraps,
	                   * an outer command after the substitutions in its words) */
	size_t n;         /* may be 0: empty line, comment, bare assignment */
};

/* Split LINE (LEN bytes, need not be NUL-terminated; a NUL byte is an
 * error). Returns 0 and *ret (caller frees with gh_cmdlist_free);
 * GH_EINVAL when the line cannot be analysed (unbalanced quotes, brackets,
 * bad syntax, a NUL byte); GH_ELIMIT when a limit is exceeded; GH_ENOMEM. */
int gh_cmd_split(const char *line, size_t len, struct gh_cmdlist **ret);

/* Accepts NULL, returns NULL. */
struct gh_cmdlist *gh_cmdlist_free(struct gh_cmdlist *l);

/* ---- command groups and filters ---------------------------------------- */

/* Verdicts, ordered by severity (a larger value is more severe). As the
 * setting cmdfilter_dynamic (gh_cmdfilter_set_dynamic), NONE means "auto". */
enum gh_filter_action {
	GH_FILTER_NONE = 0,   /* no filter matched */
	GH_FILTER_ACCEPT = 1,
	GH_FILTER_WARN = 2,
	GH_FILTER_REVIEW = 3,
	GH_FILTER_REJECT = 4,
};

/* "reject" | "accept" | "review" | "warn"; GH_EINVAL otherwise. */
int gh_filter_action_parse(const char *s, enum gh_filter_action *ret);
/* "none" | "accept" | ... (static storage). */
const char *gh_filter_action_name(enum gh_filter_action a);

enum gh_cmdgroup_type {
	/* Each pattern is one or more words: the first is a command name
	 * (compared with the basename of argv[0] unless it holds a '/', then
	 * with argv[0] itself), the others must equal argv[1], argv[2]...
	 * "rm" matches "rm -rf x" and "/bin/rm x", not "rmdir x";
	 * "rm -rf" matches "rm -rf x", not "rm -r -f x". */
	GH_CMDGROUP_COMMAND = 0,
	/* Each pattern is a PCRE2 regex (UTF-8) searched in gh_cmd.text. */
	GH_CMDGROUP_REGEX = 1,
};

struct gh_cmdgroup;

/* Compile a group. NAME and PATTERNS are copied. IGNORE_CASE applies to
 * both types (ASCII case for command words, PCRE2_CASELESS for regexes).
 * An empty pattern list, an empty/blank pattern or a regex that does not
 * compile is GH_EINVAL, with a message in ERR (ERRLEN bytes, may be NULL)
 * naming the pattern's index. Free with gh_cmdgroup_free. */
int gh_cmdgroup_new(const char *name, enum gh_cmdgroup_type type, bool ignore_case,
		    const char *const *patterns, size_t n_patterns,
		    struct gh_cmdgroup **ret, char *err, size_t errlen);
struct gh_cmdgroup *gh_cmdgroup_free(struct gh_cmdgroup *g);

/* Does group G match command C? On a match *ret_pattern is the index of
 * the first matching pattern. 1 = match, 0 = no match, <0 = error
 * (GH_ELIMIT when a regex hit its backtracking limit, GH_ENOMEM). */
int gh_cmdgroup_match(const struct gh_cmdgroup *g, const struct gh_cmd *c, size_t *ret_pattern);

const char *gh_cmdgroup_name(const struct gh_cmdgroup *g);
/* The pattern at index I as given (borrowed), NULL when out of range. */
const char *gh_cmdgroup_pattern(const struct gh_cmdgroup *g, size_t i);

/* A filter as the caller resolved it for this user/asset/account. */
struct gh_cmdfilter {
	const char *name;                    /* copied */
	int priority;                        /* 1..100, lower first */
	enum gh_filter_action action;        /* not NONE */
	const struct gh_cmdgroup *const *groups; /* borrowed: must outlive the set */
	size_t n_groups;
};

struct gh_cmdfilter_set;

/* Build a set from N filters (the array and names are copied, the groups
 * are borrowed). GH_EINVAL on a priority outside 1..100, a bad action or a
 * NULL group. N may be 0. Free with gh_cmdfilter_set_free. */
int gh_cmdfilter_set_new(const struct gh_cmdfilter *filters, size_t n,
			 struct gh_cmdfilter_set **ret);
struct gh_cmdfilter_set *gh_cmdfilter_set_free(struct gh_cmdfilter_set *s);

/* The verdict for what cannot be analysed (a dynamic command, a line that
 * does not split, a regex that gave up): the setting cmdfilter_dynamic.
 * A (GH_FILTER_NONE: "auto", the default) is: reject when any reject filter
 * is in the set; else the most severe of review/warn in it; else (only
 * accept filters) warn. An empty set decides nothing (NONE) whatever A is.
 * GH_EINVAL on a value outside NONE..REJECT. */
int gh_cmdfilter_set_dynamic(struct gh_cmdfilter_set *s, enum gh_filter_action a);
/* The verdict S gives what cannot be analysed (as described above). */
enum gh_filter_action gh_cmdfilter_dynamic_verdict(const struct gh_cmdfilter_set *s);

struct gh_filter_result {
	enum gh_filter_action action; /* the line's verdict */
	/* The line (or the deciding command) could not be analysed (it is
	 * dynamic); action is then gh_cmdfilter_dynamic_verdict() unless a
	 * matching filter was more severe. */
	bool unanalysable;
	/* With unanalysable: why, one line (static storage): the deciding
	 * command's gh_cmd.why, or "line cannot be parsed", "line exceeds the
	 * splitter's limits", "regex gave up (backtracking limit)". */
	const char *why;
	int split_error;              /* gh_cmd_split's error, 0 when it split */
	/* The deciding match, all -1/NULL when action came from no filter
	 * (NONE, or the unanalysable fallback). Names and pattern are borrowed
	 * from the set/groups. */
	long filter;                  /* index in the array given to _set_new */
	const char *filter_name;
	long group;                   /* index in that filter's groups */
	const char *group_name;
	long pattern;                 /* index in that group's patterns */
	const char *pattern_text;
	long cmd;                     /* index of the deciding simple command, -1 */
	size_t cmd_off, cmd_len;      /* its span in LINE (0, 0 when none) */
};

/* Decide LINE (LEN bytes). For each simple command, the first matching
 * filter (lowest priority number; ties: reject > review > warn > accept,
 * then array order) gives that command's action; the line's verdict is the
 * most severe over its commands (the first command reaching it is the one
 * reported). A line that does not split, and a GH_CMD_DYNAMIC command, get
 * gh_cmdfilter_dynamic_verdict() (a filter matching the command with a
 * more severe action still wins). An empty line is NONE.
 * Returns 0 with *ret filled; GH_ENOMEM; GH_EINVAL on NULL arguments.
 * When RET_CMDS is not NULL and the line split, the split list is handed
 * over (caller frees); otherwise *ret_cmds is left untouched. */
int gh_cmdfilter_check(const struct gh_cmdfilter_set *s, const char *line, size_t len,
		       struct gh_filter_result *ret, struct gh_cmdlist **ret_cmds);

/* The verdict of S on commands already split (SQL statements, a Redis
 * command: filter/sqlsplit.h), by the rules of gh_cmdfilter_check. 0 with
 * *RET filled, GH_ENOMEM, GH_EINVAL on NULL arguments. */
int gh_cmdfilter_judge(const struct gh_cmdfilter_set *s, const struct gh_cmdlist *cmds,
		       struct gh_filter_result *ret);
