/* The session core's gate: the one answer to "may user U use account C on
 * asset A over protocol P for action X (at port N) now?", and the only way
 * to a target account's secret in clear.
 *
 * Every door asks here -- the SSH menu and direct logins (shell, exec,
 * sftp), a ProxyJump's inner login, TCP tunnels, forwards opened from the
 * asset, remote forwards (-R) -- and so will the web terminal, telnet and
 * database doors: a front door translates its protocol into a request
 * and never decides itself. A door reaches a target only with the secret
 * gh_authz_credential() returns, and that function decides again, on the
 * store as it is now, before it unseals anything: a door that forgets to
 * ask has no other way to log in (tests/unit/gate_check.sh fails the build's
 * tests when any other file unseals an account secret).
 *
 * A decision re-reads everything, nothing is cached from the login:
 *   1. the user: exists, enabled, not locked, and, when the request names
 *      a source address, the login ACL (sources and schedules) for it now;
 *   2. the asset, and the account on it (when the request names one);
 *   3. the permissions (policy/policy.h): validity, schedule, protocol,
 *      action, account, and the listed ports of a forward.
 * Deny by default; a store or policy error refuses (fail closed).
 *
 * Nothing here talks to a client, logs above debug or writes audit events:
 * the caller does, with the reason returned. No libssh. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_vault;
struct gh_user;

struct gh_authz_req {
	const char *user;        /* Gatehouse user name */
	const char *source_ip;   /* the user's address (login ACL); NULL: not checked */
	const char *asset;       /* asset name */
	/* the account on the asset. NULL only for GH_ACT_FORWARD to the asset
	 * itself (a TCP tunnel that logs into nothing): any account then */
	const char *account;
	uint32_t protocol;       /* exactly one GH_PROTO_* bit */
	uint32_t action;         /* exactly one GH_ACT_* bit */
	/* GH_ACT_FORWARD: the port (1..65535), checked against the
	 * permission's ports over protocol ssh; 0 (with an account): any port,
	 * over PROTOCOL (`perm check`). Other actions: 0 */
	int port;
	int64_t now;             /* 0: the current time */
};

struct gh_authz {
	bool allow;
	bool user_refused;       /* refused at step 1 (the user, not a permission) */
	int64_t user_id, asset_id;
	int64_t perm_id;         /* the permission that allowed it, 0 when denied */
	char perm_name[128];
	/* Why, for the audit and admins, never for the end user. User
	 * refusals: "unknown user", "disabled", "locked", "acl deny rule=NAME"
	 * (gh_login_acl_check), "store error". Otherwise "no such asset", "no
	 * such account" or the policy's reason ("allowed by permission 'P'",
	 * "denied: permission 'P' does not name account 'ops'", ...). */
	char reason[300];
};

/* Step 1 alone: may user NAME act now from SOURCE_IP (NULL: no ACL test)?
 * 0 when yes, GH_EPERM with REASON (as above) when not, another GH_E* on
 * a store error (REASON "store error": refuse). When RET_USER is not NULL
 * and the user exists, it is filled (caller frees with gh_user_free) even
 * on GH_EPERM; *RET_FOUND says whether it was. */
int gh_authz_user(struct gh_store *st, const char *name, const char *source_ip, int64_t now,
		  struct gh_user *ret_user, bool *ret_found, char *reason, size_t reasonlen);

/* Decide RQ. Returns 0 with *RET filled (allowed or not), GH_EINVAL on a
 * malformed request (no user or asset, not exactly one bit, a port out
 * of range or on another action, no account where one is needed). */
int gh_authz_check(struct gh_store *st, const struct gh_authz_req *rq, struct gh_authz *ret);

struct gh_decision;
/* Reword a policy denial that speaks of ids ("no permission covers asset
 * 12 for user 3") with the names of user U, its groups (read from ST) and
 * ASSET, for callers that ask a policy snapshot directly. Best effort: the
 * reason stays as it was when the names cannot be read. */
void gh_authz_name_reason(struct gh_store *st, const struct gh_user *u, const char *asset,
			  struct gh_decision *dec);

/* A target account's credential in clear. */
struct gh_credential {
	int kind;                /* GH_SECRET_* */
	char *secret;            /* sodium memory, NUL-terminated */
	size_t len;
};

/* The only way to an account's secret: decide RQ (which must name an
 * account) with gh_authz_check and, only when allowed, unseal the secret
 * of RQ->account on RQ->asset into *RET (wipe with gh_credential_clear as
 * soon as the target has it). *RET_DEC gets the decision either way.
 * Returns 0, GH_EPERM when refused, GH_EINVAL (no account), GH_ECRYPTO /
 * GH_EKEY when the secret cannot be unsealed, other GH_E* on store errors. */
int gh_authz_credential(struct gh_store *st, struct gh_vault *v, const struct gh_authz_req *rq,
			struct gh_authz *ret_dec, struct gh_credential *ret);

/* The secret of the account of gateway GATEWAY_ID (store/route.h), for
 * reaching RQ->asset through it: decided as gh_authz_credential (RQ must
 * be allowed; RQ->account may be NULL for a forward), and unsealed only
 * when that gateway is on the asset's route. Same returns. */
int gh_authz_gateway_credential(struct gh_store *st, struct gh_vault *v,
				const struct gh_authz_req *rq, int64_t gateway_id,
				struct gh_authz *ret_dec, struct gh_credential *ret);

/* Wipe and free; C may be zeroed or already cleared. */
void gh_credential_clear(struct gh_credential *c);
