/* One-time database tokens (session/dbtoken.h issues them, the database
 * gateway takes them): stored as the SHA-256 of the token only. */
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
