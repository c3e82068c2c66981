/* One-time database tokens (dbtoken.h). */
#include "store/dbtoken.h"
#include "core/error.h"
#include "store/priv.h"

#include <stdlib.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

int gh_store_dbtoken_add(struct gh_store *st, const char *hash, int64_t user_id,
			 const char *asset, const char *account, int64_t now, int64_t expires_at)
{
	struct gh_db_val p[] = { DB_TEXT(hash), DB_INT(user_id), DB_TEXT(asset), DB_TEXT(account),
				 DB_INT(now), DB_INT(expires_at) };
	return gh_store_q(st, "INSERT INTO db_tokens (hash, user_id, asset, account, created_at,"
			      " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
			  p, NP(p), NULL, NULL, NULL, NULL);
}

int gh_store_dbtoken_take(struct gh_store *st, const char *hash, int64_t user_id,
			  const char *asset, const char *account, int64_t now)
{
	struct gh_db_val old[] = { DB_INT(now - 86400) };
	struct gh_db_val p[] = { DB_INT(now), DB_TEXT(hash), DB_INT(user_id), DB_TEXT(asset),
				 DB_TEXT(account), DB_INT(now) };
	int changes = 0;
	gh_store_q(st, "DELETE FROM db_tokens WHERE expires_at < ?", old, NP(old), NULL, NULL, NULL,
		   NULL);
	int r = gh_store_q(st, "UPDATE db_tokens SET used_at = ? WHERE hash = ? AND user_id = ?"
			       " AND asset = ? AND (account = ? OR account = '') AND used_at = 0"
			       " AND expires_at > ?",
			   p, NP(p), NULL, NULL, NULL, &changes);
	return r < 0 ? r : changes == 1 ? 0 : GH_ENOENT;
}

int gh_store_perm_databases_set(struct gh_store *st, int64_t perm_id, const char *databases)
{
	struct gh_db_val p[] = { DB_INT(perm_id), DB_TEXT(databases) };
	return gh_store_q(st, "INSERT INTO perm_databases (perm_id, databases) VALUES (?, ?)"
			      " ON CONFLICT (perm_id) DO UPDATE SET databases = excluded.databases",
			  p, NP(p), NULL, NULL, NULL, NULL);
}

static int one_str(void *ud, const struct gh_db_val *c, int n)
{
	char **out = ud;
	free(*out);
	*out = n > 0 ? gh_store_col_str(&c[0]) : NULL;
	return 0;
}

int gh_store_perm_databases_get(struct gh_store *st, int64_t perm_id, char **ret)
{
	struct gh_db_val p[] = { DB_INT(perm_id) };
	char *v = NULL;
	int r = gh_store_q(st, "SELECT databases FROM perm_databases WHERE perm_id = ?", p, NP(p),
			   one_str, &v, NULL, NULL);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	return 0;
}
