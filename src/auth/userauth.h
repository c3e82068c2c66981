/* The first-factor rules every front door shares (SSH worker, web
 * console): who may try, and the one password verification per attempt.
 * No I/O besides the store, no audit: callers record the reasons. */
#pragma once
#include <stdbool.h>

struct gh_app;
struct gh_store;
struct gh_user;

/* Who may try, for every door: the directory asked first when NAME is an
 * LDAP user or unknown (auth/ldapsync.h), then gh_auth_user_refusal. */
const char *gh_auth_prepare(struct gh_app *app, struct gh_store *st, const char *name,
			    struct gh_user *u, bool *found);

/* The password step of a login, for every door. One Argon2id verification
 * always runs (U's own hash, else the dummy: see below), also for an LDAP
 * user, who then binds as itself: the time taken does not tell a directory
 * user from a local, unknown or refused one. U: the user looked up, NULL
 * when none; MAY_TRY: false when the user was refused already (no
 * directory call then). NULL when the password is right, else the audit
 * reason ("bad password", "no password set", "directory unavailable"). */
const char *gh_auth_password_check(struct gh_app *app, struct gh_store *st,
				   const struct gh_user *u, bool may_try, const char *password);

/* Look NAME up into *U (*FOUND: it exists; free U with gh_user_free when
 * set). NULL when the user may try to log in, else the audit reason:
 * "unknown user", "store error", "disabled", "locked". */
const char *gh_auth_user_refusal(struct gh_store *st, const char *name, struct gh_user *u,
				 bool *found);

/* Exactly one Argon2id verification for every password attempt, whoever
 * it names: OWN_HASH when there is one (also when the user may not log
 * in), else a dummy of STRENGTH (password_hash_strength), so that the
 * answer takes as long for a key-only, unknown, disabled or locked user as
 * for a wrong password. True only when OWN_HASH matched. */
bool gh_auth_password_matches(const char *own_hash, int strength, const char *password);
