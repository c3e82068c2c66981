/* How the commands of an exec line use the session's input: as data, as
 * commands of a shell, or as a program the command filter cannot read.
 *
 * - GH_INPUT_SHELL: a shell run without -c (sh, bash, dash, zsh ... with
 *   no arguments, -s, -i, `-`, a script: it reads its input or a
 *   terminal), `su` without -c, `sudo -s|-i` / `doas -s` without a
 *   command, `script` without -c, `source`/`.` of /dev/stdin.
 * - GH_INPUT_CODE: an interpreter of another language reading its program
 *   from its input: python, pypy, perl, ruby, node, php, lua, tclsh,
 *   expect, Rscript, julia unless the first argument gives the program
 *   (an inline option such as python -c/-m, perl -e, or a script path
 *   that is not /dev/..., /proc/..., `-` or an expansion); programs that
 *   take commands (some with a shell escape) from their input: sqlite3,
 *   mysql, mariadb, psql (unless -e/-c first), irb, jshell, ed, ex, dc, gdb;
 *   awk and sed with `-f` naming the input; `script -c` (its command is
 *   not analysed).
 * - GH_INPUT_DATA: anything else.
 * Pure logic. */
#pragma once
#include "filter/filter.h"

enum gh_input_kind {
	GH_INPUT_DATA = 0,
	GH_INPUT_SHELL = 1,
	GH_INPUT_CODE = 2,
};

/* The most severe kind over the simple commands of L (CODE > SHELL >
 * DATA). *RET_PROGRAM (may be NULL) is the deciding command's word
 * (borrowed from L), NULL for DATA. */
enum gh_input_kind gh_input_kind(const struct gh_cmdlist *l, const char **ret_program);
