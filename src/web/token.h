/* API tokens: what `gatehouse token` and /api/v1/tokens share. A token is
 * "ghp_" and 64 hex digits (256 random bits), shown once; the store keeps
 * its SHA-256 (store/webstore.h). */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_api_token;

#define GH_TOKEN_LEN 69 /* "ghp_" + 64 hex + NUL */

/* Add token NAME (gh_valid_name) of USER_ID, expiring at EXPIRES_AT (0:
 * never), its text into RET (GH_TOKEN_LEN bytes; the caller wipes it).
 * GH_EINVAL (bad name), GH_EEXIST (name taken) or another GH_E*. */
int gh_token_create(struct gh_store *st, const char *name, int64_t user_id, int64_t expires_at,
		    char ret[GH_TOKEN_LEN]);

/* {"name","user","created_at","expires_at","last_used"} (times RFC 3339 or null). */
json_t *gh_token_json(const struct gh_api_token *t);
