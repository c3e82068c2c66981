/* SQL and Redis statements as the command filter sees them: a query text
 * cut into its statements, each as words (struct gh_cmd, filter.h), so
 * that command groups judge SQL as they judge shell lines.
 *
 * SQL (gh_sql_split): statements end at ';' outside quotes and comments.
 * Comments (-- to the end of the line, block comments, nested in the
 * PostgreSQL dialect, '#' lines in MySQL's) are word separators; MySQL's
 * executable comments (slash-star-bang, with an optional version) are
 * code, as the server runs them. Quoted strings, quoted identifiers
 * ("x", `x` in MySQL) and dollar-quoted strings ($tag$...$tag$ in
 * PostgreSQL) are one word each, kept as written with their quotes.
 * Unquoted words are upper-cased (keywords match whatever their case),
 * any run of whitespace and comments is one space, and every other
 * character ( ) , = * ... is a word of its own. gh_cmd.text is the words
 * joined by single spaces ("DELETE FROM t WHERE a = 1"), which regexes
 * see. Backslashes escape inside '...' only in the MySQL dialect and in
 * PostgreSQL E'...' strings.
 *
 * Redis (gh_redis_words): the command and its arguments as given, the
 * command word upper-cased.
 *
 * Bounds: at most GH_CMD_MAX_CMDS statements (GH_ELIMIT beyond) and
 * GH_SQL_MAX_WORDS words in argv (the text keeps them all). Pure logic. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "filter/filter.h"

#define GH_SQL_MAX_WORDS 64u

enum gh_sql_dialect {
	GH_SQL_POSTGRESQL = 0,
	GH_SQL_MYSQL = 1,
};

/* Split TEXT (LEN bytes; a NUL byte ends nothing and is a word char). 0
 * and *RET (caller frees with gh_cmdlist_free; n may be 0), GH_ELIMIT,
 * GH_ENOMEM. */
int gh_sql_split(const char *text, size_t len, enum gh_sql_dialect d, struct gh_cmdlist **ret);

/* One Redis command from its N arguments ARGV (LENS bytes each): a list of
 * one command. */
int gh_redis_words(const char *const *argv, const size_t *lens, size_t n,
		   struct gh_cmdlist **ret);
