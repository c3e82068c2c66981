/* Policy: who may use which account on which asset, over which protocol,
 * for which actions, and when.
 *
 * A struct gh_policy is an immutable snapshot of the permissions and the
 * asset tree, built once (from the store or from in-memory data) and then
 * queried many times. Queries never allocate except where they return
 * arrays, never touch the store and never log, so a snapshot may be shared
 * by concurrent readers. Rebuild it to see changes.
 *
 * A permission matches a query when all of these hold:
 *   - it is active;
 *   - NOW lies in [valid_from, valid_until] (0 = unbounded on that side);
 *   - NOW lies in its access schedule, when it has one (auth/acl.h; a
 *     schedule that does not parse never matches: fail closed);
 *   - its subjects name the user or one of the user's groups;
 *   - its targets name the asset, or a node whose subtree holds one of the
 *     asset's nodes (path prefix on '/' boundaries: /Beijing covers
 *     /Beijing/Haidian but not /Beijingx; "/" covers every node);
 *   - its account list is empty (all accounts) or names the account;
 *   - its protocol and action masks hold the asked bits.
 * Anything no permission matches is denied.
 *
 * The policy knows only permissions and node placement: whether the asset
 * exists, speaks the protocol or has the account is the caller's business.
 *
 * Ownership: inputs are borrowed and copied as needed; arrays returned
 * through ret_* are allocated here and freed by the caller as stated. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"

struct gh_policy;
struct gh_store;

/* Build from in-memory data (tests, bench). Copies what it needs; inputs
 * are borrowed. pair_asset[i] sits in node pair_node[i]. Node ids named by
 * permissions or pairs but absent from NODES cover nothing. GH_EINVAL on
 * inconsistent input (NULL arrays with a non-zero count, NULL or relative
 * node paths, duplicate node ids); GH_ENOMEM. Free *ret with gh_policy_free. */
int gh_policy_build(const struct gh_perm *perms, size_t n_perms,
		    const struct gh_node *nodes, size_t n_nodes,
		    const int64_t *pair_asset, const int64_t *pair_node, size_t n_pairs,
		    struct gh_policy **ret);

/* Load everything from the store (gh_store_perm_list, gh_store_node_list,
 * gh_store_asset_node_pairs) and build. ST is borrowed. */
int gh_policy_load(struct gh_store *st, struct gh_policy **ret);

/* Accepts NULL, returns NULL. */
struct gh_policy *gh_policy_free(struct gh_policy *p);

/* The one asking. group_ids is borrowed (any order, duplicates allowed). */
struct gh_subject {
	int64_t user_id;
	const int64_t *group_ids;
	size_t n_groups;
};

/* A user's policy as the gate sees it: the snapshot and the subject (the
 * user and the groups it is in now). The one loader every caller uses (the
 * gate, ProxyJump, known_hosts, the CLI), so none can judge a user by other
 * groups or another snapshot than the gate does. Owns P and GROUPS;
 * subj.group_ids points into GROUPS. */
struct gh_policy_subject {
	struct gh_policy *p;
	struct gh_subject subj;
	int64_t *groups;
};

/* Load the policy (gh_policy_load) and USER_ID's groups from ST (borrowed)
 * into *RET. GH_EINVAL on NULL arguments; store errors as they come;
 * GH_ENOMEM. *RET is zeroed on failure, so gh_policy_subject_free may be
 * called either way. */
int gh_policy_subject_load(struct gh_store *st, int64_t user_id, struct gh_policy_subject *ret);

/* Frees what PS owns and zeroes it. Accepts NULL and a zeroed struct. */
void gh_policy_subject_free(struct gh_policy_subject *ps);

/* What a denial is about: the policy speaks of ids, so callers that know
 * the names reword the first two kinds with gh_policy_name_reason. */
enum gh_deny {
	GH_DENY_NONE = 0,        /* allowed */
	GH_DENY_NO_SUBJECT,      /* no permission names the user or its groups */
	GH_DENY_NOT_COVERED,     /* some do, none covers the asset */
	GH_DENY_PERM,            /* a covering permission does not grant it */
};

struct gh_decision {
	bool allow;
	int deny;                 /* enum gh_deny */
	int64_t perm_id;          /* the permission that allowed it, 0 when denied */
	char perm_name[128];      /* its name, "" when denied */
	/* Why, for logs and admins (never for the end user). Allowed:
	 * "allowed by permission 'ops-web'". Denied: the closest near miss,
	 * e.g. "denied: permission 'ops' expired at 2026-01-01T00:00:00Z",
	 * "denied: permission 'ops' does not grant action upload", or
	 * "denied: no permission covers asset 12 for user 3" (ids: see
	 * gh_policy_name_reason). The names in it are escaped (gh_escape). */
	char reason[256];
};

/* The names a reason should speak of instead of ids. All borrowed; GROUPS
 * are the user's groups (any order, shown as given). */
struct gh_reason_names {
	const char *user;
	const char *asset;
	const char *const *groups;
	size_t n_groups;
};

/* Reword D's reason with names when it is a GH_DENY_NO_SUBJECT or
 * GH_DENY_NOT_COVERED denial: "denied: no permission names user 'bob' (in
 * no group)", "denied: no permission names user 'bob' or its groups 'dev',
 * 'ops'", "denied: no permission covers asset 'db01' for user 'alice' or
 * its groups 'ops'". Other decisions, or N NULL, are left alone. */
void gh_policy_name_reason(struct gh_decision *d, const struct gh_reason_names *n);

/* May S use ACCOUNT on ASSET_ID over PROTOCOL (exactly one GH_PROTO_* bit)
 * for ACTION (exactly one GH_ACT_* bit) at time NOW? Deny by default.
 * When several permissions allow, the one with the lowest id is reported.
 * Returns 0 with *ret filled (allowed or not), GH_EINVAL on bad arguments
 * (NULL, empty account, not exactly one bit). */
int gh_policy_check(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
		    const char *account, uint32_t protocol, uint32_t action, int64_t now,
		    struct gh_decision *ret);

/* May S forward to PORT on ASSET_ID at NOW: action forward over protocol
 * ssh, PORT listed by the permission when it limits its ports
 * (gh_perm.forward_ports), and ACCOUNT named by it -- the account a
 * forward logs in as (from the asset, or -R through a session on it).
 * ACCOUNT NULL: any account (a TCP tunnel to the asset, which logs into
 * nothing). Doors ask session/authz.h, which calls this. */
int gh_policy_check_forward(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
			    const char *account, int port, int64_t now, struct gh_decision *ret);

/* Assets S may CONNECT to (with some account) over PROTOCOL (one bit) at
 * NOW: sorted unique ids, malloc'd, caller frees *ret_ids (NULL when
 * *ret_n is 0). */
int gh_policy_allowed_assets(const struct gh_policy *p, const struct gh_subject *s, uint32_t protocol,
			     int64_t now, int64_t **ret_ids, size_t *ret_n);

/* Accounts S may CONNECT as on ASSET_ID over PROTOCOL (one bit) at NOW.
 * *ret_all is true when some permission allows every account (then no
 * names are returned); otherwise *ret_names is the union of the accounts
 * named by the matching permissions: sorted, unique, a malloc'd array of
 * malloc'd strings (NULL when *ret_n is 0) that the caller frees with
 * gh_policy_names_free. Nothing matching: false, NULL, 0. */
int gh_policy_allowed_accounts(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
			       uint32_t protocol, int64_t now, bool *ret_all, char ***ret_names,
			       size_t *ret_n);
/* Accepts NULL. */
void gh_policy_names_free(char **names, size_t n);

/* Actions (GH_ACT_* mask) granted to S for ACCOUNT on ASSET_ID over
 * PROTOCOL (one bit) at NOW: the union over matching permissions. 0 when
 * nothing matches or the arguments are bad. */
uint32_t gh_policy_allowed_actions(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
				   const char *account, uint32_t protocol, int64_t now);

/* Sizes of the snapshot (for logs and the benchmark). */
struct gh_policy_stats {
	size_t n_perms, n_nodes, n_assets, n_accounts;
};
void gh_policy_stats(const struct gh_policy *p, struct gh_policy_stats *ret);
