/* First-factor rules shared by the SSH worker and the web console (see
 * userauth.h). */
#include "auth/userauth.h"
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
