/* The database gateway's rows: one-time database tokens (session/dbtoken.h
 * issues them, the gateway takes them), stored as the SHA-256 of the
 * token only; and the databases a permission is limited to. */
#pragma once
#include <stdint.h>

struct gh_store;

/* Store HASH (hex) for USER_ID on ASSET as ACCOUNT ("" : any account),
 * valid until EXPIRES_AT. */
int gh_store_dbtoken_add(struct gh_store *st, const char *hash, int64_t user_id,
			 const char *asset, const char *account, int64_t now, int64_t expires_at);

/* Use HASH once: 0 when it belongs to USER_ID for ASSET and ACCOUNT (or
 * any account), is unexpired at NOW and unused (it is used from now on);
 * GH_ENOENT otherwise. Expired tokens are removed on the way. */
int gh_store_dbtoken_take(struct gh_store *st, const char *hash, int64_t user_id,
			  const char *asset, const char *account, int64_t now);

/* Limit permission PERM_ID to DATABASES ("app,reports"). */
int gh_store_perm_databases_set(struct gh_store *st, int64_t perm_id, const char *databases);
/* The databases of PERM_ID into *RET (caller frees), NULL when it names
 * none (any database). */
int gh_store_perm_databases_get(struct gh_store *st, int64_t perm_id, char **ret);
