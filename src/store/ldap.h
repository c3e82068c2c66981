/* What the directory said of a user whose source is "ldap" (docs/LDAP.md):
 * its DN (what it binds as), names and whether the directory disabled it.
 * Written by the LDAP synchronisation (auth/ldapsync.h) only. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct gh_store;

struct gh_ldap_row {
	char *dn;            /* owned */
	char *display_name;  /* owned, may be NULL */
	char *email;         /* owned, may be NULL */
	bool dir_disabled;   /* the directory (not an administrator) disabled the user */
	int64_t synced_at;
};

/* The row of USER_ID into *RET (free with gh_ldap_row_clear); GH_ENOENT
 * when the user never came from the directory. */
int gh_store_ldap_get(struct gh_store *st, int64_t user_id, struct gh_ldap_row *ret);
/* Write R for USER_ID (inserted or replaced) and mark the user's source
 * "ldap". */
int gh_store_ldap_set(struct gh_store *st, int64_t user_id, const struct gh_ldap_row *r);
void gh_ldap_row_clear(struct gh_ldap_row *r);
