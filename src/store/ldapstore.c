/* The user_ldap rows (store/ldap.h). */
#include "store/ldap.h"
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

void gh_ldap_row_clear(struct gh_ldap_row *r)
{
	if (!r)
		return;
	free(r->dn);
	free(r->display_name);
	free(r->email);
	memset(r, 0, sizeof *r);
}

static int decode_row(void *ud, const struct gh_db_val *c, int n)
{
	struct gh_ldap_row *r = ud;
	if (n < 5 || r->dn)
		return n < 5 ? GH_EIO : 0;
	r->dn = gh_store_col_str(&c[0]);
	r->display_name = gh_store_col_str(&c[1]);
	r->email = gh_store_col_str(&c[2]);
	r->dir_disabled = gh_store_col_int(&c[3]) != 0;
	r->synced_at = gh_store_col_int(&c[4]);
	return r->dn ? 0 : GH_ENOMEM;
}

int gh_store_ldap_get(struct gh_store *st, int64_t user_id, struct gh_ldap_row *ret)
{
	struct gh_ldap_row r = { 0 };
	struct gh_db_val p[] = { DB_INT(user_id) };
	int rc = gh_store_q(st, "SELECT dn, display_name, email, dir_disabled, synced_at"
				" FROM user_ldap WHERE user_id = ?",
			    p, 1, decode_row, &r, NULL, NULL);
	if (rc == 0 && !r.dn)
		rc = GH_ENOENT;
	if (rc < 0) {
		gh_ldap_row_clear(&r);
		return rc;
	}
	*ret = r;
	return 0;
}

int gh_store_ldap_set(struct gh_store *st, int64_t user_id, const struct gh_ldap_row *r)
{
	if (!r || !r->dn)
		return GH_EINVAL;
	struct gh_db_val p[] = { DB_INT(user_id), DB_TEXT(r->dn), DB_TEXT(r->display_name),
				 DB_TEXT(r->email), DB_INT(r->dir_disabled ? 1 : 0),
				 DB_INT(gh_now()) };
	int rc = gh_store_q(st, "INSERT INTO user_ldap (user_id, dn, display_name, email, dir_disabled,"
				" synced_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE"
				" SET dn = excluded.dn, display_name = excluded.display_name,"
				" email = excluded.email, dir_disabled = excluded.dir_disabled,"
				" synced_at = excluded.synced_at",
			    p, 6, NULL, NULL, NULL, NULL);
	struct gh_db_val q[] = { DB_INT(user_id) };
	if (rc == 0)
		rc = gh_store_q(st, "UPDATE users SET source = 'ldap' WHERE id = ?", q, 1, NULL, NULL,
				NULL, NULL);
	return rc;
}
