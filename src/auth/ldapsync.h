/* The directory's users applied to the store (docs/LDAP.md): created,
 * updated (DN, names, sshPublicKey keys, directory-managed group
 * memberships), disabled when the directory disables them or they are
 * gone from it (never deleted: their history stays). Each change is a
 * chained kind "change" event with actor "ldap". Used by `gatehouse ldap
 * sync`, the periodic sync process of `gatehouse serve` and at each login
 * of a user whose source is ldap (or who is not in the store yet).
 *
 * Local users (source "local") are never touched, even when the directory
 * holds a user of the same name. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

struct gh_app;
struct gh_store;
struct gh_user;

/* Read the bind password into APP->ldap_secret (root, before any worker
 * drops privileges; again on SIGHUP). 0 when LDAP is off. WHY says what
 * is wrong (never the secret). */
int gh_ldap_prepare(struct gh_app *app, char *why, size_t whylen);

/* At login, before the store's user is read: when NAME is an LDAP user or
 * no user yet, look it up in the directory and apply what it says. NULL
 * when the login may go on (the store now says the rest), else the audit
 * reason: "unknown user" (in neither), "directory unavailable", "not in
 * directory". A local user or LDAP off: NULL at once, no directory call. */
const char *gh_ldap_login_refresh(struct gh_app *app, struct gh_store *st, const char *name);

/* The password of U (source ldap): a bind as its DN. 0 or a negative
 * GH_E* with *RET_WHY the audit reason ("bad password", "directory
 * unavailable"). PASSWORD is never stored nor logged. */
int gh_ldap_login_password(struct gh_app *app, struct gh_store *st, const struct gh_user *u,
			   const char *password, const char **ret_why);

/* One full synchronisation: every user the directory lists, then the LDAP
 * users it no longer lists are disabled. DRY_RUN: only say what would
 * change. Lines for a person go to OUT (may be NULL). A directory that
 * fails disables nobody. Returns 0 or a negative GH_E* (ERR says why). */
int gh_ldap_sync(struct gh_app *app, struct gh_store *st, bool dry_run, FILE *out, char *err,
		 size_t errlen);

/* The periodic sync process of `gatehouse serve` (ldap_sync_interval):
 * opens its own store, syncs at once and then every interval until
 * SIGTERM. Returns an exit status. */
bool gh_ldap_sync_wanted(const struct gh_app *app);
int gh_ldap_sync_run(struct gh_app *app);
