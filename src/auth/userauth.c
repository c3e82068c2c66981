/* First-factor rules shared by the SSH worker and the web console (see
 * userauth.h). */
#include "auth/userauth.h"
#include "app/app.h"
#include "auth/ldapsync.h"
#include "core/error.h"
#include "store/store.h"
#include "vault/vault.h"

const char *gh_auth_user_refusal(struct gh_store *st, const char *name, struct gh_user *u,
				 bool *found)
{
	*found = false;
	int r = gh_store_user_get(st, name, u);
	if (r == GH_ENOENT)
		return "unknown user";
	if (r < 0)
		return "store error";
	*found = true;
	if (u->disabled)
		return "disabled";
	if (gh_store_user_locked(st, u->id) != 0)
		return "locked";
	return NULL;
}

bool gh_auth_password_matches(const char *own_hash, int strength, const char *password)
{
	const char *hash = own_hash ? own_hash : gh_password_dummy_hash(strength);
	return gh_password_verify(hash, password) == 0 && own_hash;
}

const char *gh_auth_prepare(struct gh_app *app, struct gh_store *st, const char *name,
			    struct gh_user *u, bool *found)
{
	*found = false;
	const char *dir = gh_ldap_login_refresh(app, st, name);
	return dir ? dir : gh_auth_user_refusal(st, name, u, found);
}

const char *gh_auth_password_check(struct gh_app *app, struct gh_store *st,
				   const struct gh_user *u, bool may_try, const char *password)
{
	bool own_ok = gh_auth_password_matches(u ? u->password_hash : NULL,
					       app->cfg.password_hash_strength, password);
	if (!u || !may_try)
		return "bad password";
	if (u->ldap) {
		const char *dir = NULL;
		if (gh_ldap_login_password(app, st, u, password, &dir) == 0)
			return NULL;
		return dir ? dir : "bad password";
	}
	if (!u->password_hash)
		return "no password set";
	return own_ok ? NULL : "bad password";
}
