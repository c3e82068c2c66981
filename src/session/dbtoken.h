/* One-time database tokens: `db-token ASSET [--account ACCOUNT]`, an exec
 * command a user sends to Gatehouse itself on a plain SSH login (also the
 * web console later). The token stands for the user's password at one
 * database gateway login to ASSET (as ACCOUNT when given) within
 * db_token_ttl seconds; it is the way in for users who need a second
 * factor. Only its SHA-256 is stored (store/dbtoken.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

#define GH_DBTOKEN_PREFIX "ghdb-"
#define GH_DBTOKEN_LEN (5 + 48)

/* Is LINE the `db-token` command (its first word)? */
bool gh_dbtoken_cmd_is(const char *line);

/* Serve LINE for USER_ID named USER from SOURCE: a token valid TTL seconds
 * for an asset that exists and serves a database protocol, written into
 * OUT with how to use it; audited (kind "token"). Exit status: 0, 2 bad
 * arguments, 1 other failures (OUT says why). */
int gh_dbtoken_run(struct gh_store *st, int ttl, int64_t user_id, const char *user,
		   const char *source, const char *line, char *out, size_t outlen);

/* Does PASSWORD look like a db token (so the password check is not run)? */
bool gh_dbtoken_looks(const char *password);

/* Use TOKEN once for USER_ID on ASSET as ACCOUNT: 0, or GH_ENOENT (unknown,
 * expired, used, or for something else). */
int gh_dbtoken_take(struct gh_store *st, const char *token, int64_t user_id, const char *asset,
		    const char *account);
