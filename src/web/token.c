/* API tokens (see token.h). */
#include "web/token.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/webstore.h"
#include "web/http.h"

#include <sodium.h>
#include <string.h>

int gh_token_create(struct gh_store *st, const char *name, int64_t user_id, int64_t expires_at,
		    char ret[GH_TOKEN_LEN])
{
	char tok[GH_TOKEN_LEN], hash[65];
	if (!gh_valid_name(name))
		return GH_EINVAL;
	gh_web_random("ghp_", tok, sizeof tok);
	gh_web_hash(tok, hash);
	int r = gh_store_token_add(st, name, user_id, hash, expires_at, NULL);
	if (r == 0)
		memcpy(ret, tok, sizeof tok);
	sodium_memzero(tok, sizeof tok);
	return r;
}

json_t *gh_token_json(const struct gh_api_token *t)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", t->name, "user", t->user_name,
			 "created_at", gh_cli_json_time(t->created_at), "expires_at",
			 gh_cli_json_time(t->expires_at), "last_used",
			 gh_cli_json_time(t->last_used));
}
