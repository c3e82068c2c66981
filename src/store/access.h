/* The store's side of login ACLs, permission schedules and second-factor
 * (TOTP) state: rows only, no evaluation (that is auth/acl.h and
 * policy/policy.h). Same conventions as store.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

/* A login ACL rule: applies to the users and groups it names. */
struct gh_loginacl {
	int64_t id;
	char *name;
	int action;              /* GH_ACL_ALLOW / GH_ACL_DENY (auth/acl.h) */
	int priority;            /* 1..100, lower first */
	char *schedule;          /* NULL = always */
	int64_t created_at;
	int64_t *user_ids; size_t n_users;
	int64_t *group_ids; size_t n_groups;
	char **sources; size_t n_sources;   /* CIDRs as given; none = every source */
};

void gh_loginacl_free(struct gh_loginacl *a);
void gh_loginacls_free(struct gh_loginacl *v, size_t n);

/* Add A (id and created_at ignored). GH_EEXIST on a duplicate name,
 * GH_ENOENT when a named user or group vanished meanwhile. */
int gh_store_loginacl_add(struct gh_store *st, const struct gh_loginacl *a, int64_t *ret_id);
/* Every rule with its subjects and sources, ordered by priority, deny
 * before allow, then id (the order gh_acl_check decides in). */
int gh_store_loginacl_list(struct gh_store *st, struct gh_loginacl **ret, size_t *ret_n);
int gh_store_loginacl_del(struct gh_store *st, const char *name);

/* Set (SPEC not NULL nor "") or clear the access schedule of a permission. */
int gh_store_perm_set_schedule(struct gh_store *st, int64_t perm_id, const char *spec);

/* Per-user second factor. MODE: whether TOTP is required of this user
 * regardless of the global "mfa" setting. */
enum gh_mfa_mode { GH_MFA_OPTIONAL = 0, GH_MFA_REQUIRED = 1 };
const char *gh_mfa_mode_name(int mode);
int gh_mfa_mode_parse(const char *s); /* -1 when unknown */

struct gh_user_mfa {
	int mode;               /* GH_MFA_* */
	int64_t last_step;      /* last TOTP time step accepted, -1: none */
	int64_t enrolled_at;    /* 0: not enrolled */
};

/* Defaults (optional, -1, 0) when the user has no row yet. */
int gh_store_user_mfa_get(struct gh_store *st, int64_t user_id, struct gh_user_mfa *ret);
int gh_store_user_mfa_set_mode(struct gh_store *st, int64_t user_id, int mode);
/* Enrolment: store the sealed seed and STEP (the confirming code's time
 * step) as the last used one, in one transaction. */
int gh_store_user_totp_enrol(struct gh_store *st, int64_t user_id, const uint8_t *sealed,
			     size_t len, int64_t step);
/* Record that the code of time step STEP was used: atomically, only when
 * STEP is later than the last used step. GH_EPERM when it is not (a
 * replay, possibly racing another login). */
int gh_store_user_totp_use(struct gh_store *st, int64_t user_id, int64_t step);
/* Forget the seed and the last step (the next login enrols again). */
int gh_store_user_mfa_reset(struct gh_store *st, int64_t user_id);
