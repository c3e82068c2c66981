/* The PostgreSQL driver's connection with a password (db.h's open takes
 * none: the password never rides in the URL). Private to src/store/. */
#pragma once

/* Connect to URL (a libpq postgresql:// URI) with PASSWORD (may be NULL);
 * lock_timeout is BUSY_MS. *ret_conn: closed by the driver's close. */
int gh_pg_connect(const char *url, const char *password, int busy_ms, void **ret_conn);
