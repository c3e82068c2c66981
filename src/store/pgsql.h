/* The SQL dialect the PostgreSQL driver speaks, derived from the store's
 * portable SQL. Pure string work (no libpq), so it is unit-tested alone
 * (tests/unit/test_pgsql.c). Private to src/store/. */
#pragma once
#include <stdbool.h>

/* SQL with each '?' outside string literals, quoted identifiers and
 * comments replaced by $1, $2, ... in order; SQLite's numbered "?N" by
 * "$N" (*ret_n counts the highest). *ret_sql: caller frees;
 * *ret_n: the number of parameters. GH_EINVAL for an unterminated
 * literal, identifier or comment. */
int gh_pgsql_params(const char *sql, char **ret_sql, int *ret_n);

/* A migration script in PostgreSQL's types: outside literals, the word
 * INTEGER becomes BIGINT (SQLite's integers are 64-bit), BLOB becomes
 * BYTEA, and "id INTEGER PRIMARY KEY" (SQLite's rowid alias) becomes an
 * identity column. *ret_sql: caller frees. */
int gh_pgsql_ddl(const char *sql, char **ret_sql);

/* True when SQL is an INSERT without a RETURNING clause (the driver adds
 * "RETURNING id" when the caller asks for the new row's id). */
bool gh_pgsql_is_plain_insert(const char *sql);
