/* Unit tests for the policy module: policies built from in-memory data,
 * checked case by case and against a naive reference on a random world;
 * and the gate built on it (session/authz.h) over a real SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "core/error.h"
#include "policy/policy.h"
#include "session/authz.h"
#include "store/access.h"
#include "store/store.h"
#include "vault/vault.h"

#include "fixture_store.h"

#include <unistd.h>

/* PERM() sets defaults that the arguments may override. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define NELEM(T, ...) (sizeof((T[]){ __VA_ARGS__ }) / sizeof(T))
#define USERS(...) .user_ids = (int64_t[]){ __VA_ARGS__ }, .n_users = NELEM(int64_t, __VA_ARGS__)
#define GROUPS(...) .group_ids = (int64_t[]){ __VA_ARGS__ }, .n_groups = NELEM(int64_t, __VA_ARGS__)
#define ASSETS(...) .asset_ids = (int64_t[]){ __VA_ARGS__ }, .n_assets = NELEM(int64_t, __VA_ARGS__)
#define NODES(...) .node_ids = (int64_t[]){ __VA_ARGS__ }, .n_nodes = NELEM(int64_t, __VA_ARGS__)
#define ACCTS(...) .accounts = (char *[]){ __VA_ARGS__ }, .n_accounts = NELEM(char *, __VA_ARGS__)
#define PERM(ID, NAME, ...) \
	((struct gh_perm){ .id = (ID), .name = (char *)(NAME), .active = true, \
			   .protocols = GH_PROTO_ALL, .actions = GH_ACT_ALL, __VA_ARGS__ })

#define SUBJ(UID, ...) \
	((struct gh_subject){ .user_id = (UID), .group_ids = (const int64_t[]){ __VA_ARGS__ }, \
			      .n_groups = NELEM(int64_t, __VA_ARGS__) })
#define USER(UID) ((struct gh_subject){ .user_id = (UID) })

#define SSH GH_PROTO_SSH
#define CONNECT GH_ACT_CONNECT
#define NOW 1700000000

/* The tree used by most tests. "/Beijing-west" sorts between "/Beijing"
 * and "/Beijing/..." in plain byte order, and the array is deliberately
 * not in path order. */
static const struct gh_node tree[] = {
	{ 5, (char *)"/Beijing/Haidian/Lab" },
	{ 3, (char *)"/Beijingx" },
	{ 1, (char *)"/Beijing" },
	{ 6, (char *)"/Beijing-west" },
	{ 4, (char *)"/Shanghai" },
	{ 2, (char *)"/Beijing/Haidian" },
};
/* asset 10 in /Beijing/Haidian, 11 in /Beijingx, 12 in /Shanghai,
 * 13 in /Beijing/Haidian/Lab and /Shanghai, 15 in /Beijing,
 * 16 in /Beijing-west; asset 14 sits in no node. */
static const int64_t pair_asset[] = { 10, 11, 12, 13, 13, 15, 16 };
static const int64_t pair_node[] = { 2, 3, 4, 5, 4, 1, 6 };
#define NPAIRS (sizeof pair_asset / sizeof *pair_asset)

static struct gh_policy *build(const struct gh_perm *perms, size_t n)
{
	struct gh_policy *p = NULL;
	assert_int_equal(gh_policy_build(perms, n, tree, sizeof tree / sizeof *tree, pair_asset, pair_node,
					 NPAIRS, &p), 0);
	assert_non_null(p);
	return p;
}

static struct gh_decision check(const struct gh_policy *p, struct gh_subject s, int64_t asset,
				const char *account, uint32_t proto, uint32_t action, int64_t now)
{
	struct gh_decision d;
	memset(&d, 0x5a, sizeof d);
	assert_int_equal(gh_policy_check(p, &s, asset, account, proto, action, now, &d), 0);
	assert_non_null(memchr(d.reason, '\0', sizeof d.reason));
	assert_non_null(memchr(d.perm_name, '\0', sizeof d.perm_name));
	if (d.allow) {
		assert_true(d.perm_id != 0);
		assert_non_null(strstr(d.reason, "allowed by permission"));
	} else {
		assert_int_equal(d.perm_id, 0);
		assert_string_equal(d.perm_name, "");
		assert_true(strncmp(d.reason, "denied: ", 8) == 0);
	}
	return d;
}

static bool allowed(const struct gh_policy *p, struct gh_subject s, int64_t asset)
{
	return check(p, s, asset, "root", SSH, CONNECT, NOW).allow;
}

#define assert_reason(d, text) \
	do { \
		if (!strstr((d).reason, (text))) \
			fail_msg("reason '%s' lacks '%s'", (d).reason, (text)); \
	} while (0)

static void assert_assets(const struct gh_policy *p, struct gh_subject s, uint32_t proto, int64_t now,
			  const int64_t *want, size_t n_want)
{
	int64_t *ids = NULL;
	size_t n = 99;
	assert_int_equal(gh_policy_allowed_assets(p, &s, proto, now, &ids, &n), 0);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
	free(ids);
}

/* ---- tests ---- */

static void test_empty_policy_denies(void **state)
{
	struct gh_policy *p = NULL;
	assert_int_equal(gh_policy_build(NULL, 0, NULL, 0, NULL, NULL, 0, &p), 0);
	struct gh_decision d = check(p, SUBJ(1, 100), 10, "root", SSH, CONNECT, NOW);
	assert_false(d.allow);
	assert_reason(d, "no permission names user 1");
	assert_assets(p, SUBJ(1, 100), SSH, NOW, NULL, 0);
	bool all = true;
	char **names = (char **)&all;
	size_t n = 9;
	assert_int_equal(gh_policy_allowed_accounts(p, &SUBJ(1, 100), 10, SSH, NOW, &all, &names, &n), 0);
	assert_false(all);
	assert_null(names);
	assert_int_equal(n, 0);
	assert_int_equal(gh_policy_allowed_actions(p, &SUBJ(1, 100), 10, "root", SSH, NOW), 0);
	p = gh_policy_free(p);
	assert_null(p);
	assert_null(gh_policy_free(NULL));

	/* a tree and assets but no permission: still nothing */
	p = build(NULL, 0);
	assert_false(allowed(p, SUBJ(1, 100), 10));
	assert_assets(p, SUBJ(1, 100), SSH, NOW, NULL, 0);
	gh_policy_free(p);
}

static void test_group_membership(void **state)
{
	struct gh_perm perms[] = {
		PERM(7, "ops-web", GROUPS(100), ASSETS(10)),
		PERM(8, "carol-db", USERS(3), ASSETS(12)),
	};
	struct gh_policy *p = build(perms, 2);

	struct gh_decision d = check(p, SUBJ(1, 200, 100), 10, "root", SSH, CONNECT, NOW);
	assert_true(d.allow);
	assert_int_equal(d.perm_id, 7);
	assert_string_equal(d.perm_name, "ops-web");
	assert_string_equal(d.reason, "allowed by permission 'ops-web'");

	assert_false(allowed(p, SUBJ(1, 200), 10));     /* not in the group */
	assert_false(allowed(p, USER(1), 10));           /* no groups at all */
	assert_false(allowed(p, SUBJ(100, 200), 10));    /* user id equal to the group id */
	assert_false(allowed(p, SUBJ(1, 100), 12));      /* group covers another asset only */
	assert_true(allowed(p, USER(3), 12));            /* direct user grant */
	assert_false(allowed(p, SUBJ(2, 3), 12));        /* group id equal to the user id */
	d = check(p, SUBJ(1, 100), 12, "root", SSH, CONNECT, NOW);
	assert_string_equal(d.reason, "denied: no permission covers asset 12 for user 1");
	gh_policy_free(p);
}

/* Denials that speak of ids are reworded with the names the caller knows
 * (they said "no permission names user 1 or any of its 1 groups"). */
static void test_reason_names(void **state)
{
	struct gh_perm perms[] = { PERM(7, "ops-web", GROUPS(100), ASSETS(10), .actions = CONNECT) };
	struct gh_policy *p = build(perms, 1);
	const char *groups[] = { "ops", "d\x1b" "ev" };

	struct gh_decision d = check(p, USER(1), 10, "root", SSH, CONNECT, NOW);
	assert_int_equal(d.deny, GH_DENY_NO_SUBJECT);
	gh_policy_name_reason(&d, &(struct gh_reason_names){ .user = "bob", .asset = "web01" });
	assert_string_equal(d.reason, "denied: no permission names user 'bob' (in no group)");

	d = check(p, SUBJ(1, 100), 12, "root", SSH, CONNECT, NOW);
	assert_int_equal(d.deny, GH_DENY_NOT_COVERED);
	gh_policy_name_reason(&d, &(struct gh_reason_names){ .user = "alice", .asset = "db01",
							    .groups = groups, .n_groups = 2 });
	assert_string_equal(d.reason, "denied: no permission covers asset 'db01' for user 'alice' "
				      "or its groups 'ops', 'd\\x1bev'");

	/* a near miss names its permission already: left alone */
	d = check(p, SUBJ(1, 100), 10, "root", SSH, GH_ACT_SHARE, NOW);
	assert_int_equal(d.deny, GH_DENY_PERM);
	char before[sizeof d.reason];
	memcpy(before, d.reason, sizeof before);
	gh_policy_name_reason(&d, &(struct gh_reason_names){ .user = "alice", .asset = "web01" });
	assert_string_equal(d.reason, before);
	d = check(p, SUBJ(1, 100), 10, "root", SSH, CONNECT, NOW);
	assert_true(d.allow);
	assert_int_equal(d.deny, GH_DENY_NONE);
	gh_policy_name_reason(&d, NULL);
	assert_string_equal(d.reason, "allowed by permission 'ops-web'");
	gh_policy_free(p);
}

static void test_node_subtrees(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "beijing", USERS(1), NODES(1)),
		PERM(2, "haidian", USERS(2), NODES(2)),
		PERM(3, "lab-and-x", USERS(3), NODES(5, 3)),
	};
	struct gh_policy *p = build(perms, 3);

	/* /Beijing covers itself and everything below, at any depth */
	assert_true(allowed(p, USER(1), 15));
	assert_true(allowed(p, USER(1), 10));
	assert_true(allowed(p, USER(1), 13));
	/* ... but not /Beijingx, /Beijing-west or /Shanghai */
	assert_false(allowed(p, USER(1), 11));
	assert_false(allowed(p, USER(1), 16));
	assert_false(allowed(p, USER(1), 12));
	assert_false(allowed(p, USER(1), 14));
	assert_false(allowed(p, USER(1), 999));         /* unknown asset */

	/* /Beijing/Haidian covers its subtree, not its parent */
	assert_true(allowed(p, USER(2), 10));
	assert_true(allowed(p, USER(2), 13));
	assert_false(allowed(p, USER(2), 15));

	/* several node targets; an asset in several nodes matches through any */
	assert_true(allowed(p, USER(3), 13));
	assert_true(allowed(p, USER(3), 11));
	assert_false(allowed(p, USER(3), 10));
	assert_false(allowed(p, USER(3), 12));

	assert_assets(p, USER(1), SSH, NOW, (int64_t[]){ 10, 13, 15 }, 3);
	assert_assets(p, USER(2), SSH, NOW, (int64_t[]){ 10, 13 }, 2);
	assert_assets(p, USER(3), SSH, NOW, (int64_t[]){ 11, 13 }, 2);
	gh_policy_free(p);
}

static void test_root_node_and_unknown_nodes(void **state)
{
	const struct gh_node nodes[] = {
		{ 2, (char *)"/a/b/" },  /* trailing slash is ignored */
		{ 1, (char *)"/" },
		{ 3, (char *)"/ab" },
	};
	const int64_t pa[] = { 20, 21, 22, 23 }, pn[] = { 2, 3, 1, 77 };
	struct gh_perm perms[] = {
		PERM(1, "everything", USERS(1), NODES(1)),
		PERM(2, "a-b", USERS(2), NODES(2)),
		PERM(3, "ghost", USERS(3), NODES(77)),   /* node 77 does not exist */
	};
	struct gh_policy *p = NULL;
	assert_int_equal(gh_policy_build(perms, 3, nodes, 3, pa, pn, 4, &p), 0);
	assert_assets(p, USER(1), SSH, NOW, (int64_t[]){ 20, 21, 22 }, 3);
	assert_assets(p, USER(2), SSH, NOW, (int64_t[]){ 20 }, 1);
	assert_assets(p, USER(3), SSH, NOW, NULL, 0);
	assert_false(allowed(p, USER(3), 23));
	assert_false(allowed(p, USER(1), 23));
	gh_policy_free(p);
}

static void test_named_vs_all_accounts(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "web-deploy", USERS(1), ASSETS(10), ACCTS("deploy", "app")),
		PERM(2, "web-any", USERS(2), ASSETS(10)),
		PERM(3, "web-app", GROUPS(100), NODES(2), ACCTS("app", "www")),
	};
	struct gh_policy *p = build(perms, 3);

	assert_true(check(p, USER(1), 10, "deploy", SSH, CONNECT, NOW).allow);
	assert_true(check(p, USER(1), 10, "app", SSH, CONNECT, NOW).allow);
	struct gh_decision d = check(p, USER(1), 10, "root", SSH, CONNECT, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'web-deploy' does not name account 'root'");
	assert_false(check(p, USER(1), 10, "Deploy", SSH, CONNECT, NOW).allow);
	assert_false(check(p, USER(1), 10, "deplo", SSH, CONNECT, NOW).allow);
	/* the account in a reason is escaped */
	d = check(p, USER(1), 10, "x\"\n", SSH, CONNECT, NOW);
	assert_reason(d, "account 'x\\x22\\x0a'");

	assert_true(check(p, USER(2), 10, "root", SSH, CONNECT, NOW).allow);
	assert_true(check(p, USER(2), 10, "anything-at-all", SSH, CONNECT, NOW).allow);
	/* an empty or missing account is an error and leaves *ret alone */
	struct gh_decision keep = { .allow = true, .perm_id = 42 };
	assert_int_equal(gh_policy_check(p, &USER(2), 10, "", SSH, CONNECT, NOW, &keep), GH_EINVAL);
	assert_int_equal(gh_policy_check(p, &USER(2), 10, NULL, SSH, CONNECT, NOW, &keep), GH_EINVAL);
	assert_int_equal(keep.perm_id, 42);

	/* allowed_accounts: union of named accounts, or all */
	bool all = true;
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(gh_policy_allowed_accounts(p, &SUBJ(1, 100), 10, SSH, NOW, &all, &names, &n), 0);
	assert_false(all);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "app");
	assert_string_equal(names[1], "deploy");
	assert_string_equal(names[2], "www");
	gh_policy_names_free(names, n);

	assert_int_equal(gh_policy_allowed_accounts(p, &USER(1), 10, SSH, NOW, &all, &names, &n), 0);
	assert_false(all);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "app");
	assert_string_equal(names[1], "deploy");
	gh_policy_names_free(names, n);

	assert_int_equal(gh_policy_allowed_accounts(p, &SUBJ(2, 100), 10, SSH, NOW, &all, &names, &n), 0);
	assert_true(all);
	assert_null(names);
	assert_int_equal(n, 0);

	/* asset 13 is under node 2: only the group's named accounts */
	assert_int_equal(gh_policy_allowed_accounts(p, &SUBJ(2, 100), 13, SSH, NOW, &all, &names, &n), 0);
	assert_false(all);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "app");
	assert_string_equal(names[1], "www");
	gh_policy_names_free(names, n);

	/* nothing for an asset nobody covers */
	assert_int_equal(gh_policy_allowed_accounts(p, &SUBJ(1, 100), 12, SSH, NOW, &all, &names, &n), 0);
	assert_false(all);
	assert_int_equal(n, 0);
	assert_null(names);
	gh_policy_names_free(NULL, 0);
	gh_policy_free(p);
}

static void test_validity_windows(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "bounded", USERS(1), ASSETS(10), .valid_from = 1000, .valid_until = 2000),
		PERM(2, "until-only", USERS(2), ASSETS(10), .valid_until = 2000),
		PERM(3, "from-only", USERS(3), ASSETS(10), .valid_from = 1000),
		PERM(4, "open", USERS(4), ASSETS(10)),
	};
	struct gh_policy *p = build(perms, 4);

	struct gh_decision d = check(p, USER(1), 10, "root", SSH, CONNECT, 999);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'bounded' is not valid before 1970-01-01T00:16:40Z");
	assert_true(check(p, USER(1), 10, "root", SSH, CONNECT, 1000).allow);
	assert_true(check(p, USER(1), 10, "root", SSH, CONNECT, 1500).allow);
	assert_true(check(p, USER(1), 10, "root", SSH, CONNECT, 2000).allow);
	d = check(p, USER(1), 10, "root", SSH, CONNECT, 2001);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'bounded' expired at 1970-01-01T00:33:20Z");

	assert_true(check(p, USER(2), 10, "root", SSH, CONNECT, 1).allow);
	assert_true(check(p, USER(2), 10, "root", SSH, CONNECT, 2000).allow);
	assert_false(check(p, USER(2), 10, "root", SSH, CONNECT, 2001).allow);

	assert_false(check(p, USER(3), 10, "root", SSH, CONNECT, 999).allow);
	assert_true(check(p, USER(3), 10, "root", SSH, CONNECT, 1000).allow);
	assert_true(check(p, USER(3), 10, "root", SSH, CONNECT, INT64_C(32503680000)).allow);

	assert_true(check(p, USER(4), 10, "root", SSH, CONNECT, 0).allow);
	assert_true(check(p, USER(4), 10, "root", SSH, CONNECT, INT64_MAX).allow);

	/* the other queries honour windows too */
	assert_assets(p, USER(1), SSH, 1500, (int64_t[]){ 10 }, 1);
	assert_assets(p, USER(1), SSH, 2001, NULL, 0);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", SSH, 999), 0);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", SSH, 1000), GH_ACT_ALL);
	bool all = false;
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(gh_policy_allowed_accounts(p, &USER(1), 10, SSH, 2001, &all, &names, &n), 0);
	assert_false(all);
	assert_int_equal(gh_policy_allowed_accounts(p, &USER(1), 10, SSH, 2000, &all, &names, &n), 0);
	assert_true(all);
	gh_policy_free(p);
}

static void test_inactive(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "paused", USERS(1, 2), ASSETS(10), .active = false),
		PERM(2, "bob-live", USERS(2), ASSETS(10)),
	};
	struct gh_policy *p = build(perms, 2);
	struct gh_decision d = check(p, USER(1), 10, "root", SSH, CONNECT, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'paused' is inactive");
	assert_assets(p, USER(1), SSH, NOW, NULL, 0);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", SSH, NOW), 0);

	d = check(p, USER(2), 10, "root", SSH, CONNECT, NOW);
	assert_true(d.allow);
	assert_int_equal(d.perm_id, 2);
	gh_policy_free(p);
}

static void test_protocol_and_action_masks(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "files", USERS(1), ASSETS(10), .protocols = GH_PROTO_SSH | GH_PROTO_SFTP,
		     .actions = GH_ACT_CONNECT | GH_ACT_DOWNLOAD),
	};
	struct gh_policy *p = build(perms, 1);

	assert_true(check(p, USER(1), 10, "root", GH_PROTO_SSH, GH_ACT_CONNECT, NOW).allow);
	assert_true(check(p, USER(1), 10, "root", GH_PROTO_SFTP, GH_ACT_DOWNLOAD, NOW).allow);
	struct gh_decision d = check(p, USER(1), 10, "root", GH_PROTO_RDP, GH_ACT_CONNECT, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'files' does not grant protocol rdp");
	d = check(p, USER(1), 10, "root", GH_PROTO_SFTP, GH_ACT_UPLOAD, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'files' does not grant action upload");
	d = check(p, USER(1), 10, "root", GH_PROTO_TCP, GH_ACT_FORWARD, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason,
			    "denied: permission 'files' does not grant protocol tcp, does not grant action forward");

	/* exactly one bit is asked; anything else is an error and leaves *ret alone */
	struct gh_decision keep = { .perm_id = 42 };
	assert_int_equal(gh_policy_check(p, &USER(1), 10, "root", 0, GH_ACT_CONNECT, NOW, &keep), GH_EINVAL);
	assert_int_equal(gh_policy_check(p, &USER(1), 10, "root", GH_PROTO_SSH | GH_PROTO_SFTP,
					 GH_ACT_CONNECT, NOW, &keep), GH_EINVAL);
	assert_int_equal(gh_policy_check(p, &USER(1), 10, "root", GH_PROTO_SSH, 0, NOW, &keep), GH_EINVAL);
	assert_int_equal(gh_policy_check(p, &USER(1), 10, "root", GH_PROTO_SSH, 1u << 12, NOW, &keep),
			 GH_EINVAL);
	assert_int_equal(keep.perm_id, 42);
	int64_t *ids = (int64_t *)&keep;
	size_t n = 7;
	assert_int_equal(gh_policy_allowed_assets(p, &USER(1), 0, NOW, &ids, &n), GH_EINVAL);
	assert_true(ids == (int64_t *)&keep && n == 7);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", 0, NOW), 0);

	/* allowed_assets is about connecting over that protocol */
	assert_assets(p, USER(1), GH_PROTO_SFTP, NOW, (int64_t[]){ 10 }, 1);
	assert_assets(p, USER(1), GH_PROTO_RDP, NOW, NULL, 0);
	gh_policy_free(p);
}

static void test_forward_ports(void **state)
{
	struct gh_perm perms[] = {
		/* no forward at all; then forward limited to 5432 and 22; then a
		 * later permission on another asset with any port */
		PERM(1, "conn", USERS(1), ASSETS(10), .actions = GH_ACT_CONNECT),
		PERM(2, "db", USERS(1), ASSETS(10), ACCTS((char *)"deploy"),
		     .actions = GH_ACT_CONNECT | GH_ACT_FORWARD, .forward_ports = (char *)"5432,22"),
		PERM(3, "any", USERS(1), ASSETS(12), .actions = GH_ACT_FORWARD,
		     .protocols = GH_PROTO_SSH),
	};
	struct gh_policy *p = build(perms, 3);
	struct gh_decision d;

	/* the account list of "db" does not matter for a tunnel */
	assert_int_equal(gh_policy_check_forward(p, &USER(1), 10, NULL, 5432, NOW, &d), 0);
	assert_true(d.allow);
	assert_string_equal(d.perm_name, "db");
	assert_int_equal(gh_policy_check_forward(p, &USER(1), 10, NULL, 80, NOW, &d), 0);
	assert_false(d.allow);
	assert_reason(d, "permission 'db' does not list port 80");
	assert_int_equal(gh_policy_check_forward(p, &USER(1), 12, NULL, 80, NOW, &d), 0);
	assert_true(d.allow);
	assert_int_equal(gh_policy_check_forward(p, &USER(2), 12, NULL, 80, NOW, &d), 0);
	assert_false(d.allow);
	assert_int_equal(gh_policy_check_forward(p, &USER(1), 12, NULL, 0, NOW, &d), GH_EINVAL);
	assert_int_equal(gh_policy_check_forward(p, &USER(1), 12, NULL, 65536, NOW, &d), GH_EINVAL);
	/* ports do not limit anything but forward */
	assert_true(check(p, USER(1), 10, "deploy", SSH, CONNECT, NOW).allow);
	gh_policy_free(p);

	/* a bad port list is refused when the policy is built */
	struct gh_perm bad[] = { PERM(1, "bad", USERS(1), ASSETS(10), .forward_ports = (char *)"80,x") };
	struct gh_policy *q = NULL;
	assert_int_equal(gh_policy_build(bad, 1, tree, sizeof tree / sizeof *tree, pair_asset, pair_node,
					 NPAIRS, &q), GH_EINVAL);
	assert_null(q);
}

static void test_ports_parse(void **state)
{
	char *s = NULL;
	uint16_t *v = NULL;
	size_t n = 0;
	assert_int_equal(gh_ports_normalize("5432,22,5432,65535,1", &s), 0);
	assert_string_equal(s, "1,22,5432,65535");
	free(s);
	assert_int_equal(gh_ports_parse("80", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0], 80);
	free(v);
	static const char *const bad[] = { "", ",", "80,", ",80", "0", "65536", "8o", "80 ,81",
					   "-1", "1234567", "80,,81" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(gh_ports_parse(bad[i], &v, &n), GH_EINVAL);
	char many[64 * 6 + 8] = "";
	for (int i = 1; i <= 65; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s%d", i > 1 ? "," : "", i);
	assert_int_equal(gh_ports_parse(many, &v, &n), GH_EINVAL);
}

static void test_allowed_assets(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "direct", USERS(1), ASSETS(14, 12, 14)),
		PERM(2, "group-node", GROUPS(100), NODES(2)),
		PERM(3, "overlap", USERS(1), GROUPS(100), NODES(1, 2), ASSETS(10)),
		PERM(4, "no-connect", USERS(1), ASSETS(11), .actions = GH_ACT_UPLOAD),
		PERM(5, "expired", USERS(1), ASSETS(16), .valid_until = 10),
		PERM(6, "rdp-only", USERS(1), ASSETS(11), .protocols = GH_PROTO_RDP),
	};
	struct gh_policy *p = build(perms, 6);

	assert_assets(p, SUBJ(1, 100), SSH, NOW, (int64_t[]){ 10, 12, 13, 14, 15 }, 5);
	assert_assets(p, SUBJ(2, 100, 100), SSH, NOW, (int64_t[]){ 10, 13, 15 }, 3);
	assert_assets(p, USER(2), SSH, NOW, NULL, 0);
	assert_assets(p, USER(1), GH_PROTO_RDP, NOW, (int64_t[]){ 10, 11, 12, 13, 14, 15 }, 6);
	assert_assets(p, USER(1), SSH, 5, (int64_t[]){ 10, 12, 13, 14, 15, 16 }, 6);

	/* every listed asset passes gh_policy_check, every other one fails */
	int64_t *ids = NULL;
	size_t n = 0;
	assert_int_equal(gh_policy_allowed_assets(p, &SUBJ(1, 100), SSH, NOW, &ids, &n), 0);
	for (int64_t a = 9; a <= 17; a++) {
		bool listed = false;
		for (size_t i = 0; i < n; i++)
			listed |= ids[i] == a;
		assert_int_equal(allowed(p, SUBJ(1, 100), a), listed);
	}
	free(ids);
	gh_policy_free(p);
}

static void test_allowed_actions(void **state)
{
	struct gh_perm perms[] = {
		PERM(1, "view", USERS(1), ASSETS(10), .actions = GH_ACT_CONNECT | GH_ACT_DOWNLOAD),
		PERM(2, "team-up", GROUPS(100), NODES(1), .actions = GH_ACT_CONNECT | GH_ACT_UPLOAD),
		PERM(3, "deploy-del", USERS(1), ASSETS(10), ACCTS("deploy"), .actions = GH_ACT_DELETE),
		PERM(4, "old-fwd", USERS(1), ASSETS(10), .actions = GH_ACT_FORWARD, .valid_until = 10),
		PERM(5, "sftp-copy", USERS(1), ASSETS(10), .protocols = GH_PROTO_SFTP, .actions = GH_ACT_COPY),
		PERM(6, "off-share", USERS(1), ASSETS(10), .actions = GH_ACT_SHARE, .active = false),
	};
	struct gh_policy *p = build(perms, 6);

	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", SSH, NOW),
			 GH_ACT_CONNECT | GH_ACT_DOWNLOAD);
	assert_int_equal(gh_policy_allowed_actions(p, &SUBJ(1, 100), 10, "root", SSH, NOW),
			 GH_ACT_CONNECT | GH_ACT_DOWNLOAD | GH_ACT_UPLOAD);
	assert_int_equal(gh_policy_allowed_actions(p, &SUBJ(1, 100), 10, "deploy", SSH, NOW),
			 GH_ACT_CONNECT | GH_ACT_DOWNLOAD | GH_ACT_UPLOAD | GH_ACT_DELETE);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", SSH, 5),
			 GH_ACT_CONNECT | GH_ACT_DOWNLOAD | GH_ACT_FORWARD);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(1), 10, "root", GH_PROTO_SFTP, NOW),
			 GH_ACT_CONNECT | GH_ACT_DOWNLOAD | GH_ACT_COPY);
	assert_int_equal(gh_policy_allowed_actions(p, &SUBJ(2, 100), 13, "root", SSH, NOW),
			 GH_ACT_CONNECT | GH_ACT_UPLOAD);
	assert_int_equal(gh_policy_allowed_actions(p, &SUBJ(2, 100), 11, "root", SSH, NOW), 0);
	assert_int_equal(gh_policy_allowed_actions(p, &USER(2), 10, "root", SSH, NOW), 0);

	/* consistent with gh_policy_check, bit by bit */
	for (uint32_t bit = 1; bit & GH_ACT_ALL; bit <<= 1) {
		uint32_t m = gh_policy_allowed_actions(p, &SUBJ(1, 100), 10, "deploy", SSH, NOW);
		assert_int_equal(check(p, SUBJ(1, 100), 10, "deploy", SSH, bit, NOW).allow, !!(m & bit));
	}
	gh_policy_free(p);
}

static void test_closest_near_miss_and_lowest_id(void **state)
{
	struct gh_perm perms[] = {
		PERM(9, "two-wrong", USERS(1), ASSETS(10), .active = false, .protocols = GH_PROTO_RDP),
		PERM(4, "expired", USERS(1), ASSETS(10), .valid_until = 100),
		PERM(3, "upload-only", USERS(1), ASSETS(10), .actions = GH_ACT_UPLOAD),
		PERM(8, "other-asset", USERS(1), ASSETS(12)),
	};
	struct gh_policy *p = build(perms, 4);
	struct gh_decision d = check(p, USER(1), 10, "root", SSH, CONNECT, NOW);
	assert_false(d.allow);
	assert_string_equal(d.reason, "denied: permission 'upload-only' does not grant action connect "
				      "(closest of 3 covering permissions)");
	gh_policy_free(p);

	struct gh_perm two[] = {
		PERM(20, "b", USERS(1), ASSETS(10)),
		PERM(11, "a", GROUPS(100), NODES(2)),
		PERM(30, "c", USERS(1), GROUPS(100), ASSETS(10)),
	};
	p = build(two, 3);
	d = check(p, SUBJ(1, 100), 10, "root", SSH, CONNECT, NOW);
	assert_true(d.allow);
	assert_int_equal(d.perm_id, 11);
	assert_string_equal(d.perm_name, "a");
	gh_policy_free(p);
}

static void test_bad_input(void **state)
{
	struct gh_policy *p = (struct gh_policy *)&p; /* must stay untouched */
	struct gh_perm bad_perm[] = { PERM(1, "x", .n_users = 2) };
	assert_int_equal(gh_policy_build(NULL, 1, NULL, 0, NULL, NULL, 0, &p), GH_EINVAL);
	assert_int_equal(gh_policy_build(bad_perm, 1, NULL, 0, NULL, NULL, 0, &p), GH_EINVAL);
	const struct gh_node relative[] = { { 1, (char *)"Beijing" } };
	assert_int_equal(gh_policy_build(NULL, 0, relative, 1, NULL, NULL, 0, &p), GH_EINVAL);
	const struct gh_node dup[] = { { 1, (char *)"/a" }, { 1, (char *)"/b" } };
	assert_int_equal(gh_policy_build(NULL, 0, dup, 2, NULL, NULL, 0, &p), GH_EINVAL);
	struct gh_perm null_acct[] = { PERM(1, "x", ACCTS(NULL)) };
	assert_int_equal(gh_policy_build(null_acct, 1, NULL, 0, NULL, NULL, 0, &p), GH_EINVAL);
	assert_int_equal(gh_policy_build(NULL, 0, NULL, 0, (int64_t[]){ 1 }, NULL, 1, &p), GH_EINVAL);
	assert_true(p == (struct gh_policy *)&p);
	assert_int_equal(gh_policy_build(NULL, 0, NULL, 0, NULL, NULL, 0, NULL), GH_EINVAL);
	struct gh_decision d;
	assert_int_equal(gh_policy_check(NULL, &USER(1), 1, "root", SSH, CONNECT, NOW, &d), GH_EINVAL);
}

/* ---- random world against a naive reference ---- */

#define R_NODES 60
#define R_ASSETS 150
#define R_PERMS 120
#define R_USERS 25
#define R_GROUPS 8

struct world {
	struct gh_node nodes[R_NODES];
	char paths[R_NODES][64];
	int64_t pa[R_ASSETS * 3], pn[R_ASSETS * 3];
	size_t n_pairs;
	struct gh_perm perms[R_PERMS];
	int64_t ids[R_PERMS][4][4]; /* users, groups, assets, nodes */
	char *accts[R_PERMS][2];
	int64_t user_groups[R_USERS + 1][3];
	size_t n_user_groups[R_USERS + 1];
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *const acct_pool[] = { "root", "deploy", "app" };

static void world_make(struct world *w, uint64_t *seed)
{
	/* segments chosen to collide on prefixes: /a vs /ab vs /a-b vs /a.b */
	static const char *const seg[] = { "a", "ab", "a-b", "a.b", "b" };
	size_t n = 0;
	snprintf(w->paths[n], sizeof w->paths[n], "/");
	w->nodes[n] = (struct gh_node){ 1000, w->paths[n] };
	n++;
	while (n < R_NODES) {
		char buf[64] = "";
		size_t depth = 1 + rnd(seed) % 4, len = 0;
		for (size_t d = 0; d < depth; d++)
			len += (size_t)snprintf(buf + len, sizeof buf - len, "/%s", seg[rnd(seed) % 5]);
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= strcmp(w->paths[i], buf) == 0;
		if (dup)
			continue;
		memcpy(w->paths[n], buf, sizeof buf);
		w->nodes[n] = (struct gh_node){ 1000 + (int64_t)n, w->paths[n] };
		n++;
	}
	w->n_pairs = 0;
	for (int64_t a = 1; a <= R_ASSETS; a++)
		for (size_t k = rnd(seed) % 3; k; k--) {
			w->pa[w->n_pairs] = a;
			/* node 1000 ("/") is rarely used directly, so skip it here */
			w->pn[w->n_pairs++] = 1001 + (int64_t)(rnd(seed) % (R_NODES - 1));
		}
	for (size_t i = 0; i < R_PERMS; i++) {
		struct gh_perm *q = &w->perms[i];
		size_t c[4];
		for (size_t k = 0; k < 4; k++) {
			c[k] = rnd(seed) % 3;
			for (size_t j = 0; j < c[k]; j++)
				w->ids[i][k][j] = k == 0 ? 1 + (int64_t)(rnd(seed) % R_USERS)
					: k == 1 ? 1 + (int64_t)(rnd(seed) % R_GROUPS)
					: k == 2 ? 1 + (int64_t)(rnd(seed) % (R_ASSETS + 5))
					: 1000 + (int64_t)(rnd(seed) % (R_NODES + 2)) + (rnd(seed) % 10 ? 1 : 0);
		}
		size_t na = rnd(seed) % 4 == 0 ? 1 + rnd(seed) % 2 : 0;
		for (size_t j = 0; j < na; j++)
			w->accts[i][j] = (char *)acct_pool[rnd(seed) % 3];
		*q = (struct gh_perm){
			.id = (int64_t)i + 1,
			.name = (char *)"p",
			.actions = (uint32_t)(rnd(seed) & GH_ACT_ALL) | GH_ACT_CONNECT * (rnd(seed) % 2),
			.protocols = (uint32_t)(rnd(seed) & 0x7) | GH_PROTO_SSH * (rnd(seed) % 4 != 0),
			.valid_from = rnd(seed) % 4 == 0 ? (int64_t)(rnd(seed) % 200) : 0,
			.valid_until = rnd(seed) % 4 == 0 ? 100 + (int64_t)(rnd(seed) % 200) : 0,
			.active = rnd(seed) % 8 != 0,
			.user_ids = w->ids[i][0], .n_users = c[0],
			.group_ids = w->ids[i][1], .n_groups = c[1],
			.asset_ids = w->ids[i][2], .n_assets = c[2],
			.node_ids = w->ids[i][3], .n_nodes = c[3],
			.accounts = na ? w->accts[i] : NULL, .n_accounts = na,
		};
	}
	for (size_t u = 1; u <= R_USERS; u++) {
		w->n_user_groups[u] = rnd(seed) % 4;
		for (size_t j = 0; j < w->n_user_groups[u]; j++)
			w->user_groups[u][j] = 1 + (int64_t)(rnd(seed) % R_GROUPS);
	}
}

static const char *node_path(const struct world *w, int64_t id)
{
	for (size_t i = 0; i < R_NODES; i++)
		if (w->nodes[i].id == id)
			return w->nodes[i].path;
	return NULL;
}

static bool ref_under(const char *path, const char *anc)
{
	size_t n = strlen(anc);
	if (strcmp(anc, "/") == 0)
		return true;
	return strncmp(path, anc, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool ref_match(const struct world *w, const struct gh_perm *q, int64_t user, int64_t asset,
		      const char *account, uint32_t proto, uint32_t action, int64_t now)
{
	bool subj = false, target = false, acct = q->n_accounts == 0;
	for (size_t j = 0; j < q->n_users; j++)
		subj |= q->user_ids[j] == user;
	for (size_t j = 0; j < q->n_groups; j++)
		for (size_t g = 0; g < w->n_user_groups[user]; g++)
			subj |= q->group_ids[j] == w->user_groups[user][g];
	for (size_t j = 0; j < q->n_assets; j++)
		target |= q->asset_ids[j] == asset;
	for (size_t j = 0; j < q->n_nodes; j++) {
		const char *anc = node_path(w, q->node_ids[j]);
		for (size_t k = 0; anc && k < w->n_pairs; k++)
			if (w->pa[k] == asset && ref_under(node_path(w, w->pn[k]), anc))
				target = true;
	}
	for (size_t j = 0; account && j < q->n_accounts; j++)
		acct |= strcmp(q->accounts[j], account) == 0;
	return subj && target && acct && q->active && (!q->valid_from || now >= q->valid_from) &&
	       (!q->valid_until || now <= q->valid_until) && (q->protocols & proto) == proto &&
	       (q->actions & action) == action;
}

static void test_random_world_matches_reference(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15u;
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);

	for (int round = 0; round < 5; round++) {
		world_make(w, &seed);
		struct gh_policy *p = NULL;
		assert_int_equal(gh_policy_build(w->perms, R_PERMS, w->nodes, R_NODES, w->pa, w->pn,
						 w->n_pairs, &p), 0);
		size_t n_allow = 0;
		for (int qn = 0; qn < 4000; qn++) {
			int64_t user = 1 + (int64_t)(rnd(&seed) % R_USERS);
			int64_t asset = 1 + (int64_t)(rnd(&seed) % (R_ASSETS + 5));
			const char *account = acct_pool[rnd(&seed) % 3];
			uint32_t proto = 1u << (rnd(&seed) % 3);
			uint32_t action = 1u << (rnd(&seed) % 3);
			int64_t now = (int64_t)(rnd(&seed) % 400);
			struct gh_subject s = { user, w->user_groups[user], w->n_user_groups[user] };

			bool want = false;
			uint32_t want_mask = 0;
			for (size_t i = 0; i < R_PERMS; i++) {
				want |= ref_match(w, &w->perms[i], user, asset, account, proto, action, now);
				if (ref_match(w, &w->perms[i], user, asset, account, proto, 0, now))
					want_mask |= w->perms[i].actions;
			}
			struct gh_decision d;
			assert_int_equal(gh_policy_check(p, &s, asset, account, proto, action, now, &d), 0);
			if (d.allow != want)
				fail_msg("user %lld asset %lld account %s proto %u action %u now %lld: got %d (%s)",
					 (long long)user, (long long)asset, account, proto, action,
					 (long long)now, d.allow, d.reason);
			n_allow += want;
			assert_int_equal(gh_policy_allowed_actions(p, &s, asset, account, proto, now), want_mask);
		}
		/* the reference must see both outcomes, or the comparison proves little */
		assert_true(n_allow > 100 && n_allow < 3900);

		for (int64_t user = 1; user <= R_USERS; user++) {
			struct gh_subject s = { user, w->user_groups[user], w->n_user_groups[user] };
			int64_t *ids = NULL;
			size_t n = 0, k = 0;
			assert_int_equal(gh_policy_allowed_assets(p, &s, SSH, 150, &ids, &n), 0);
			for (int64_t a = 1; a <= R_ASSETS + 5; a++) {
				bool want = false;
				for (size_t i = 0; i < R_PERMS; i++)
					for (size_t j = 0; j < 3; j++)
						want |= ref_match(w, &w->perms[i], user, a, acct_pool[j], SSH,
								  CONNECT, 150);
				if (want) {
					assert_true(k < n);
					assert_int_equal(ids[k], a);
					k++;
				}
			}
			assert_int_equal(k, n);
			free(ids);
		}
		gh_policy_free(p);
	}
	free(w);
}

/* ---- the gate (session/authz.h) over a real store ------------------------------ */

struct gate {
	struct gh_store *st;
	struct gh_vault *v;
	int64_t alice, web01;
};

/* alice may use web01 as deploy only (connect, forward); web01 also has
 * the account ops. Both secrets are sealed as the CLI seals them. */
static void gate_open(struct gate *g, void **state)
{
	char err[256];
	int64_t id = 0;
	g->st = fixture_store_open(state);
	assert_int_equal(gh_vault_open(fixture_store_dir(state), true, &g->v, err), 0);
	assert_int_equal(gh_store_user_add(g->st, "alice", GH_ROLE_USER, NULL, &g->alice), 0);
	struct gh_asset a = { .name = (char *)"web01", .address = (char *)"127.0.0.1", .port = 22,
			      .platform = (char *)"linux", .protocols = GH_PROTO_ALL };
	assert_int_equal(gh_store_asset_add(g->st, &a, &g->web01), 0);
	static const char *const names[] = { "deploy", "ops" };
	for (size_t i = 0; i < 2; i++) {
		char ad[160], pw[32];
		uint8_t *sealed = NULL;
		size_t len = 0;
		snprintf(pw, sizeof pw, "pw-of-%s", names[i]);
		gh_vault_ad_account(ad, sizeof ad, g->web01, names[i]);
		assert_int_equal(gh_vault_seal(g->v, pw, strlen(pw), ad, &sealed, &len), 0);
		struct gh_account acct = { .asset_id = g->web01, .username = (char *)names[i],
					   .secret_kind = GH_SECRET_PASSWORD, .sealed = sealed,
					   .sealed_len = len };
		assert_int_equal(gh_store_account_add(g->st, &acct, &id), 0);
		free(sealed);
	}
	struct gh_perm p = PERM(0, "p-deploy", USERS(g->alice), ASSETS(g->web01),
				ACCTS((char *)"deploy"),
				.actions = GH_ACT_CONNECT | GH_ACT_FORWARD);
	assert_int_equal(gh_store_perm_add(g->st, &p, &id), 0);
}

static void gate_close(struct gate *g)
{
	gh_store_close(g->st);
	gh_vault_free(g->v);
}

static struct gh_authz gate_ask(struct gate *g, const char *src, const char *account,
				uint32_t action, int port)
{
	struct gh_authz_req rq = { .user = "alice", .source_ip = src, .asset = "web01",
				   .account = account, .protocol = SSH, .action = action,
				   .port = port };
	struct gh_authz d;
	assert_int_equal(gh_authz_check(g->st, &rq, &d), 0);
	return d;
}

/* The account is part of every question, forwards included: the hole
 * where a forward "from the asset" logged in with any account. */
static void test_gate_account_in_every_question(void **state)
{
	struct gate g;
	gate_open(&g, state);
	struct gh_authz d = gate_ask(&g, NULL, "deploy", CONNECT, 0);
	assert_true(d.allow);
	assert_string_equal(d.perm_name, "p-deploy");
	assert_int_equal(d.user_id, g.alice);
	assert_int_equal(d.asset_id, g.web01);
	d = gate_ask(&g, NULL, "ops", CONNECT, 0);
	assert_false(d.allow);
	assert_false(d.user_refused);
	assert_non_null(strstr(d.reason, "does not name account 'ops'"));
	/* forward from the asset as an account: that account must be named */
	assert_true(gate_ask(&g, NULL, "deploy", GH_ACT_FORWARD, 8080).allow);
	d = gate_ask(&g, NULL, "ops", GH_ACT_FORWARD, 8080);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "does not name account 'ops'"));
	/* a tunnel to the asset itself logs into nothing: any account */
	assert_true(gate_ask(&g, NULL, NULL, GH_ACT_FORWARD, 8080).allow);
	/* no such account, no such asset */
	d = gate_ask(&g, NULL, "nobody", CONNECT, 0);
	assert_false(d.allow);
	assert_string_equal(d.reason, "no such account");
	struct gh_authz_req rq = { .user = "alice", .asset = "web02", .account = "deploy",
				   .protocol = SSH, .action = CONNECT };
	assert_int_equal(gh_authz_check(g.st, &rq, &d), 0);
	assert_false(d.allow);
	assert_string_equal(d.reason, "no such asset");
	gate_close(&g);
}

/* The user is read again at every question: lock, disable, login ACL. */
static void test_gate_rereads_the_user(void **state)
{
	struct gate g;
	gate_open(&g, state);
	assert_int_equal(gh_store_user_lock(g.st, g.alice, true), 0);
	struct gh_authz d = gate_ask(&g, NULL, "deploy", CONNECT, 0);
	assert_false(d.allow);
	assert_true(d.user_refused);
	assert_string_equal(d.reason, "locked");
	d = gate_ask(&g, NULL, NULL, GH_ACT_FORWARD, 80);
	assert_false(d.allow);
	assert_string_equal(d.reason, "locked");
	assert_int_equal(gh_store_user_lock(g.st, g.alice, false), 0);
	assert_int_equal(gh_store_user_set_disabled(g.st, g.alice, true), 0);
	d = gate_ask(&g, NULL, "deploy", CONNECT, 0);
	assert_false(d.allow);
	assert_string_equal(d.reason, "disabled");
	assert_int_equal(gh_store_user_set_disabled(g.st, g.alice, false), 0);
	/* a login ACL refusing 10.0.0.0/8 */
	char *src[] = { (char *)"10.0.0.0/8" };
	struct gh_loginacl acl = { .name = (char *)"no-ten", .action = GH_ACL_DENY, .priority = 5,
				   .user_ids = &g.alice, .n_users = 1, .sources = src,
				   .n_sources = 1 };
	assert_int_equal(gh_store_loginacl_add(g.st, &acl, NULL), 0);
	d = gate_ask(&g, "10.1.2.3", "deploy", CONNECT, 0);
	assert_false(d.allow);
	assert_true(d.user_refused);
	assert_string_equal(d.reason, "acl deny rule=no-ten");
	assert_true(gate_ask(&g, "192.0.2.7", "deploy", CONNECT, 0).allow);
	assert_true(gate_ask(&g, NULL, "deploy", CONNECT, 0).allow); /* no source: not asked */
	/* unknown user */
	struct gh_authz_req rq = { .user = "mallory", .asset = "web01", .account = "deploy",
				   .protocol = SSH, .action = CONNECT };
	assert_int_equal(gh_authz_check(g.st, &rq, &d), 0);
	assert_false(d.allow);
	assert_true(d.user_refused);
	assert_string_equal(d.reason, "unknown user");
	gate_close(&g);
}

/* The secret comes only with an allowing decision. */
static void test_gate_credential_only_when_allowed(void **state)
{
	struct gate g;
	gate_open(&g, state);
	struct gh_credential c = { 0 };
	struct gh_authz d;
	struct gh_authz_req rq = { .user = "alice", .asset = "web01", .account = "deploy",
				   .protocol = SSH, .action = CONNECT };
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), 0);
	assert_true(d.allow);
	assert_int_equal(c.kind, GH_SECRET_PASSWORD);
	assert_string_equal(c.secret, "pw-of-deploy");
	gh_credential_clear(&c);
	assert_null(c.secret);
	gh_credential_clear(&c); /* twice is fine */
	rq.account = "ops";
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), GH_EPERM);
	assert_false(d.allow);
	assert_null(c.secret);
	rq.account = "ops";
	rq.action = GH_ACT_FORWARD;
	rq.port = 80;
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), GH_EPERM);
	assert_null(c.secret);
	rq.account = "deploy";
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), 0);
	assert_string_equal(c.secret, "pw-of-deploy");
	gh_credential_clear(&c);
	assert_int_equal(gh_store_user_lock(g.st, g.alice, true), 0);
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), GH_EPERM);
	assert_string_equal(d.reason, "locked");
	assert_null(c.secret);
	/* a credential always names its account */
	rq.account = NULL;
	assert_int_equal(gh_authz_credential(g.st, g.v, &rq, &d, &c), GH_EINVAL);
	gate_close(&g);
}

static void test_gate_bad_requests(void **state)
{
	struct gate g;
	gate_open(&g, state);
	struct gh_authz d;
	struct gh_authz_req ok = { .user = "alice", .asset = "web01", .account = "deploy",
				   .protocol = SSH, .action = CONNECT };
	struct gh_authz_req rq = ok;
	rq.account = NULL; /* connect needs an account */
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.account = "";
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.action = CONNECT | GH_ACT_UPLOAD;
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.protocol = 0;
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.port = 22; /* a port on connect */
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.action = GH_ACT_FORWARD;
	rq.port = 65536;
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq.account = NULL;
	rq.port = 0; /* a forward without port nor account */
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	rq = ok;
	rq.user = NULL;
	assert_int_equal(gh_authz_check(g.st, &rq, &d), GH_EINVAL);
	assert_int_equal(gh_authz_check(g.st, NULL, &d), GH_EINVAL);
	gate_close(&g);
}

/* The one subject loader (gh_policy_subject_load) over a real store: the
 * user's groups as they are now, the snapshot, and the same answer as the
 * gate's for the same question, before and after a membership change. */
static void test_subject_loader_matches_gate(void **state)
{
	struct gate g;
	struct gh_policy_subject ps;
	struct gh_decision dec;
	int64_t ops = 0;
	gate_open(&g, state);
	assert_int_equal(gh_store_group_add(g.st, "ops", &ops), 0);
	struct gh_perm p = PERM(0, "p-ops", GROUPS(ops), ASSETS(g.web01), ACCTS((char *)"ops"),
				.actions = GH_ACT_CONNECT);
	assert_int_equal(gh_store_perm_add(g.st, &p, NULL), 0);

	assert_int_equal(gh_policy_subject_load(g.st, g.alice, &ps), 0);
	assert_non_null(ps.p);
	assert_int_equal(ps.subj.user_id, g.alice);
	assert_int_equal(ps.subj.n_groups, 0);
	assert_int_equal(gh_policy_check(ps.p, &ps.subj, g.web01, "ops", SSH, CONNECT, NOW, &dec), 0);
	assert_false(dec.allow);
	assert_false(gate_ask(&g, NULL, "ops", CONNECT, 0).allow);
	gh_policy_subject_free(&ps);
	assert_null(ps.p);
	assert_null(ps.groups);

	assert_int_equal(gh_store_group_member_add(g.st, ops, g.alice), 0);
	assert_int_equal(gh_policy_subject_load(g.st, g.alice, &ps), 0);
	assert_int_equal(ps.subj.n_groups, 1);
	assert_ptr_equal(ps.subj.group_ids, ps.groups);
	assert_int_equal(ps.groups[0], ops);
	assert_int_equal(gh_policy_check(ps.p, &ps.subj, g.web01, "ops", SSH, CONNECT, NOW, &dec), 0);
	assert_true(dec.allow);
	assert_string_equal(dec.perm_name, "p-ops");
	struct gh_authz d = gate_ask(&g, NULL, "ops", CONNECT, 0);
	assert_true(d.allow);
	assert_string_equal(d.perm_name, dec.perm_name);
	/* the user's own permission still counts */
	assert_int_equal(gh_policy_check(ps.p, &ps.subj, g.web01, "deploy", SSH, CONNECT, NOW, &dec), 0);
	assert_true(dec.allow);
	gh_policy_subject_free(&ps);

	/* bad arguments: GH_EINVAL, the output zeroed; frees accept NULL and zero */
	memset(&ps, 0xa5, sizeof ps);
	assert_int_equal(gh_policy_subject_load(NULL, g.alice, &ps), GH_EINVAL);
	assert_null(ps.p);
	assert_null(ps.groups);
	assert_int_equal(gh_policy_subject_load(g.st, g.alice, NULL), GH_EINVAL);
	gh_policy_subject_free(&ps);
	gh_policy_subject_free(NULL);
	gate_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy_denies),
		cmocka_unit_test(test_forward_ports),
		cmocka_unit_test(test_ports_parse),
		cmocka_unit_test(test_group_membership),
		cmocka_unit_test(test_node_subtrees),
		cmocka_unit_test(test_root_node_and_unknown_nodes),
		cmocka_unit_test(test_named_vs_all_accounts),
		cmocka_unit_test(test_validity_windows),
		cmocka_unit_test(test_inactive),
		cmocka_unit_test(test_protocol_and_action_masks),
		cmocka_unit_test(test_allowed_assets),
		cmocka_unit_test(test_allowed_actions),
		cmocka_unit_test(test_closest_near_miss_and_lowest_id),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_random_world_matches_reference),
		FIXTURE_STORE_TEST(test_gate_account_in_every_question),
		FIXTURE_STORE_TEST(test_gate_rereads_the_user),
		FIXTURE_STORE_TEST(test_gate_credential_only_when_allowed),
		FIXTURE_STORE_TEST(test_gate_bad_requests),
		cmocka_unit_test(test_reason_names),
		FIXTURE_STORE_TEST(test_subject_loader_matches_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
