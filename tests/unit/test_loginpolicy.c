/* Login ACL and second factor at login (ssh/loginpolicy.h) over a real
 * SQLite store, the store's access rows (store/access.h) and permission
 * schedules in the policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/acl.h"
#include "auth/totp.h"
#include "core/config.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"
#include "ssh/loginpolicy.h"
#include "store/access.h"
#include "store/store.h"
#include "vault/vault.h"

#include "fixture_store.h"

static int64_t T(const char *iso)
{
	int64_t t = 0;
	if (gh_parse_time(iso, &t) != 0)
		fail_msg("bad time %s", iso);
	return t;
}

/* a new store for each test (the group shares one directory) */
static struct gh_store *open_store(void **state)
{
	unlink(fixture_store_path(state));
	return fixture_store_open(state);
}

static int64_t add_user(struct gh_store *st, const char *name, int role, struct gh_user *ret)
{
	int64_t id = 0;
	assert_int_equal(gh_store_user_add(st, name, role, NULL, &id), 0);
	if (ret)
		assert_int_equal(gh_store_user_get(st, name, ret), 0);
	return id;
}

/* ---- policy: permission schedules ------------------------------------------ */

static void test_policy_schedule(void **state)
{
	int64_t uid = 7, aid = 100;
	struct gh_perm perms[] = {
		{ .id = 1, .name = "office", .actions = GH_ACT_ALL, .protocols = GH_PROTO_ALL,
		  .active = true, .user_ids = &uid, .n_users = 1, .asset_ids = &aid, .n_assets = 1,
		  .schedule = "Mon-Fri 09:00-18:00 Europe/Berlin" },
	};
	struct gh_policy *p = NULL;
	struct gh_subject s = { .user_id = uid };
	struct gh_decision d;
	int64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(gh_policy_build(perms, 1, NULL, 0, NULL, NULL, 0, &p), 0);
	/* Monday 10:00 Berlin (09:00Z in winter) */
	assert_int_equal(gh_policy_check(p, &s, aid, "root", GH_PROTO_SSH, GH_ACT_CONNECT,
					 T("2024-01-15T09:00:00Z"), &d), 0);
	assert_true(d.allow);
	/* Monday 19:00 Berlin, and a Saturday */
	assert_int_equal(gh_policy_check(p, &s, aid, "root", GH_PROTO_SSH, GH_ACT_CONNECT,
					 T("2024-01-15T18:00:00Z"), &d), 0);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "outside its schedule 'Mon-Fri 09:00-18:00 Europe/Berlin'"));
	assert_int_equal(gh_policy_check(p, &s, aid, "root", GH_PROTO_SSH, GH_ACT_CONNECT,
					 T("2024-01-13T10:00:00Z"), &d), 0);
	assert_false(d.allow);
	/* the menu and sftp use the same rule */
	assert_int_equal(gh_policy_allowed_assets(p, &s, GH_PROTO_SSH, T("2024-01-15T09:00:00Z"),
						  &ids, &n), 0);
	assert_int_equal(n, 1);
	free(ids);
	assert_int_equal(gh_policy_allowed_assets(p, &s, GH_PROTO_SSH, T("2024-01-13T09:00:00Z"),
						  &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(gh_policy_allowed_actions(p, &s, aid, "root", GH_PROTO_SFTP,
						   T("2024-01-13T09:00:00Z")), 0);
	p = gh_policy_free(p);

	/* a schedule that does not parse never matches (fail closed) */
	perms[0].schedule = "Mon-Fri 09:00-18:00 Gone/Zone";
	assert_int_equal(gh_policy_build(perms, 1, NULL, 0, NULL, NULL, 0, &p), 0);
	assert_int_equal(gh_policy_check(p, &s, aid, "root", GH_PROTO_SSH, GH_ACT_CONNECT,
					 T("2024-01-15T09:00:00Z"), &d), 0);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "does not parse"));
	gh_policy_free(p);
}

/* ---- store rows ---------------------------------------------------------------- */

static void test_store_rows(void **state)
{
	struct gh_store *st = open_store(state);
	int64_t alice = add_user(st, "alice", GH_ROLE_USER, NULL), gid = 0;
	assert_int_equal(gh_store_group_add(st, "ops", &gid), 0);

	char *src[] = { "10.0.0.0/8", "2001:db8::/32" };
	struct gh_loginacl a = { .name = "b-allow", .action = GH_ACL_ALLOW, .priority = 10,
				 .user_ids = &alice, .n_users = 1, .sources = src, .n_sources = 2,
				 .schedule = "Mon-Fri 09:00-18:00 UTC" };
	assert_int_equal(gh_store_loginacl_add(st, &a, NULL), 0);
	assert_int_equal(gh_store_loginacl_add(st, &a, NULL), GH_EEXIST);
	struct gh_loginacl b = { .name = "a-deny", .action = GH_ACL_DENY, .priority = 10,
				 .group_ids = &gid, .n_groups = 1 };
	assert_int_equal(gh_store_loginacl_add(st, &b, NULL), 0);
	struct gh_loginacl c = { .name = "first", .action = GH_ACL_ALLOW, .priority = 1,
				 .user_ids = &alice, .n_users = 1 };
	assert_int_equal(gh_store_loginacl_add(st, &c, NULL), 0);

	struct gh_loginacl *v = NULL;
	size_t n = 0;
	assert_int_equal(gh_store_loginacl_list(st, &v, &n), 0);
	assert_int_equal(n, 3);
	/* priority, then deny before allow */
	assert_string_equal(v[0].name, "first");
	assert_string_equal(v[1].name, "a-deny");
	assert_string_equal(v[2].name, "b-allow");
	assert_int_equal(v[2].n_sources, 2);
	assert_string_equal(v[2].schedule, "Mon-Fri 09:00-18:00 UTC");
	assert_null(v[1].schedule);
	assert_int_equal(v[1].n_groups, 1);
	assert_int_equal(v[1].group_ids[0], gid);
	gh_loginacls_free(v, n);
	assert_int_equal(gh_store_loginacl_del(st, "first"), 0);
	assert_int_equal(gh_store_loginacl_del(st, "first"), GH_ENOENT);

	/* deleting the user drops it from the rules */
	assert_int_equal(gh_store_user_del(st, "alice"), 0);
	assert_int_equal(gh_store_loginacl_list(st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].n_users, 0);
	gh_loginacls_free(v, n);

	/* permission schedules */
	int64_t bob = add_user(st, "bob", GH_ROLE_USER, NULL), pid = 0;
	struct gh_perm pm = { .name = "p", .actions = GH_ACT_CONNECT, .protocols = GH_PROTO_SSH,
			      .active = true, .user_ids = &bob, .n_users = 1,
			      .schedule = "Sat 10:00-12:00" };
	assert_int_equal(gh_store_perm_add(st, &pm, &pid), 0);
	struct gh_perm got = { 0 };
	assert_int_equal(gh_store_perm_get(st, "p", &got), 0);
	assert_string_equal(got.schedule, "Sat 10:00-12:00");
	gh_perm_free(&got);
	assert_int_equal(gh_store_perm_set_schedule(st, pid, "Sun 10:00-12:00"), 0);
	struct gh_perm *pl = NULL;
	assert_int_equal(gh_store_perm_list(st, &pl, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pl[0].schedule, "Sun 10:00-12:00");
	gh_perms_free(pl, n);
	assert_int_equal(gh_store_perm_set_schedule(st, pid, NULL), 0);
	assert_int_equal(gh_store_perm_get(st, "p", &got), 0);
	assert_null(got.schedule);
	gh_perm_free(&got);

	/* MFA state */
	struct gh_user_mfa m;
	assert_int_equal(gh_store_user_mfa_get(st, bob, &m), 0);
	assert_int_equal(m.mode, GH_MFA_OPTIONAL);
	assert_int_equal(m.last_step, -1);
	assert_int_equal(gh_store_user_mfa_set_mode(st, bob, GH_MFA_REQUIRED), 0);
	assert_int_equal(gh_store_user_mfa_set_mode(st, bob, 9), GH_EINVAL);
	assert_int_equal(gh_store_user_mfa_set_mode(st, 999999, GH_MFA_REQUIRED), GH_ENOENT);
	assert_int_equal(gh_store_user_totp_use(st, bob, 100), 0);
	assert_int_equal(gh_store_user_totp_use(st, bob, 100), GH_EPERM);
	assert_int_equal(gh_store_user_totp_use(st, bob, 99), GH_EPERM);
	assert_int_equal(gh_store_user_totp_use(st, bob, 101), 0);
	assert_int_equal(gh_store_user_mfa_get(st, bob, &m), 0);
	assert_int_equal(m.mode, GH_MFA_REQUIRED);
	assert_int_equal(m.last_step, 101);
	assert_int_equal(gh_mfa_mode_parse("required"), GH_MFA_REQUIRED);
	assert_int_equal(gh_mfa_mode_parse("optional"), GH_MFA_OPTIONAL);
	assert_int_equal(gh_mfa_mode_parse("sometimes"), -1);
	gh_store_close(st);
}

/* ---- the login ACL at login ------------------------------------------------------ */

static void test_login_acl(void **state)
{
	struct gh_store *st = open_store(state);
	struct gh_user alice = { 0 }, bob = { 0 };
	int64_t aid = add_user(st, "alice", GH_ROLE_USER, &alice), gid = 0;
	add_user(st, "bob", GH_ROLE_USER, &bob);
	char reason[256];
	int64_t now = T("2024-01-15T10:00:00Z"); /* a Monday */

	/* no rules: allowed */
	assert_int_equal(gh_login_acl_check(st, &alice, "192.0.2.1", now, reason, sizeof reason), 0);
	assert_string_equal(reason, "");

	char *office[] = { "10.0.0.0/8", "2001:db8::/32" };
	struct gh_loginacl r1 = { .name = "office", .action = GH_ACL_ALLOW, .priority = 10,
				  .user_ids = &aid, .n_users = 1, .sources = office, .n_sources = 2,
				  .schedule = "Mon-Fri 09:00-18:00 UTC" };
	assert_int_equal(gh_store_loginacl_add(st, &r1, NULL), 0);
	assert_int_equal(gh_store_group_add(st, "staff", &gid), 0);
	assert_int_equal(gh_store_group_member_add(st, gid, aid), 0);
	struct gh_loginacl r2 = { .name = "staff-rest", .action = GH_ACL_DENY, .priority = 90,
				  .group_ids = &gid, .n_groups = 1 };
	assert_int_equal(gh_store_loginacl_add(st, &r2, NULL), 0);

	assert_int_equal(gh_login_acl_check(st, &alice, "10.1.2.3", now, reason, sizeof reason), 0);
	assert_int_equal(gh_login_acl_check(st, &alice, "::ffff:10.1.2.3", now, reason, sizeof reason), 0);
	assert_int_equal(gh_login_acl_check(st, &alice, "2001:db8::7", now, reason, sizeof reason), 0);
	assert_int_equal(gh_login_acl_check(st, &alice, "192.0.2.1", now, reason, sizeof reason),
			 GH_EPERM);
	assert_string_equal(reason, "acl deny rule=staff-rest");
	/* out of hours the office rule does not match */
	assert_int_equal(gh_login_acl_check(st, &alice, "10.1.2.3", T("2024-01-15T20:00:00Z"),
					    reason, sizeof reason), GH_EPERM);
	assert_string_equal(reason, "acl deny rule=staff-rest (outside schedule of rule office)");
	/* bob is named by no rule */
	assert_int_equal(gh_login_acl_check(st, &bob, "192.0.2.1", now, reason, sizeof reason), 0);
	/* an unparsable source refuses */
	assert_int_equal(gh_login_acl_check(st, &alice, "not-an-ip", now, reason, sizeof reason),
			 GH_EINVAL);
	assert_non_null(strstr(reason, "acl error"));
	gh_user_free(&alice);
	gh_user_free(&bob);
	gh_store_close(st);
}

/* ---- the second factor ------------------------------------------------------------- */

static void code_at(const struct gh_mfa *m, int64_t t, char *out)
{
	assert_int_equal(gh_totp_code(m->secret, m->secret_len, gh_totp_step(t), 6, out, 8), 0);
}

static void test_mfa_flow(void **state)
{
	struct gh_store *st = open_store(state);
	struct gh_vault *v = NULL;
	uint8_t key[32];
	memset(key, 7, sizeof key);
	assert_int_equal(gh_vault_from_key(key, &v), 0);
	struct gh_config cfg;
	memset(&cfg, 0, sizeof cfg);
	struct gh_user u = { 0 }, admin = { 0 };
	add_user(st, "alice", GH_ROLE_USER, &u);
	add_user(st, "root", GH_ROLE_ADMIN, &admin);
	bool need = true;

	/* who needs a code */
	cfg.mfa = GH_CONFIG_MFA_OFF;
	assert_int_equal(gh_mfa_needed(&cfg, st, &u, &need), 0);
	assert_false(need);
	cfg.mfa = GH_CONFIG_MFA_ADMINS;
	assert_int_equal(gh_mfa_needed(&cfg, st, &u, &need), 0);
	assert_false(need);
	assert_int_equal(gh_mfa_needed(&cfg, st, &admin, &need), 0);
	assert_true(need);
	cfg.mfa = GH_CONFIG_MFA_ALL;
	assert_int_equal(gh_mfa_needed(&cfg, st, &u, &need), 0);
	assert_true(need);
	cfg.mfa = GH_CONFIG_MFA_OFF;
	assert_int_equal(gh_store_user_mfa_set_mode(st, u.id, GH_MFA_REQUIRED), 0);
	assert_int_equal(gh_mfa_needed(&cfg, st, &u, &need), 0);
	assert_true(need);

	/* enrolment */
	struct gh_mfa m = { 0 };
	char *inst = NULL, *prompt = NULL, code[8], b32[64];
	size_t blen = 0;
	const char *why = NULL;
	int64_t now = time(NULL);
	assert_int_equal(gh_mfa_start(&m, v, &u), 0);
	assert_true(m.enrol);
	assert_int_equal(m.secret_len, GH_TOTP_SECRET_LEN);
	assert_int_equal(gh_mfa_challenge(&m, "alice", &inst, &prompt), 0);
	assert_int_equal(gh_base32_encode(m.secret, m.secret_len, b32, sizeof b32, &blen), 0);
	assert_non_null(strstr(inst, b32));
	assert_non_null(strstr(inst, "otpauth://totp/Gatehouse:alice?secret="));
	for (const char *p = inst; *p; p++) /* ASCII only: clients escape the rest */
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(prompt, "\xe2\x96\x88")); /* the QR code's full blocks */
	assert_int_equal(strcmp(prompt + strlen(prompt) - strlen("Verification code: "),
				"Verification code: "), 0);
	gh_mfa_text_free(inst);
	gh_mfa_text_free(prompt);
	assert_int_equal(gh_mfa_check(&m, st, v, "000000x", now, &why), GH_EAUTH);
	assert_string_equal(why, "bad totp code");
	code_at(&m, now, code);
	char spaced[16];
	snprintf(spaced, sizeof spaced, "%.3s %s\n", code, code + 3);
	assert_int_equal(gh_mfa_check(&m, st, v, spaced, now, &why), 0);
	assert_false(m.enrol);
	uint8_t saved[GH_TOTP_MAX_SECRET];
	memcpy(saved, m.secret, m.secret_len);
	gh_mfa_clear(&m);

	/* the seed is sealed in the store, bound to the user */
	gh_user_free(&u);
	assert_int_equal(gh_store_user_get(st, "alice", &u), 0);
	assert_non_null(u.totp_sealed);
	assert_null(memmem(u.totp_sealed, u.totp_sealed_len, saved, GH_TOTP_SECRET_LEN));
	cfg.mfa = GH_CONFIG_MFA_OFF;
	assert_int_equal(gh_store_user_mfa_set_mode(st, u.id, GH_MFA_OPTIONAL), 0);
	assert_int_equal(gh_mfa_needed(&cfg, st, &u, &need), 0);
	assert_true(need); /* enrolled: always asked */

	/* a later login: same seed, no enrolment text, the enrolment code is spent */
	assert_int_equal(gh_mfa_start(&m, v, &u), 0);
	assert_false(m.enrol);
	assert_memory_equal(m.secret, saved, GH_TOTP_SECRET_LEN);
	assert_int_equal(gh_mfa_challenge(&m, "alice", &inst, &prompt), 0);
	assert_string_equal(inst, "");
	assert_string_equal(prompt, "Verification code: ");
	gh_mfa_text_free(inst);
	gh_mfa_text_free(prompt);
	assert_int_equal(gh_mfa_check(&m, st, v, code, now, &why), GH_EPERM);
	assert_string_equal(why, "totp code replayed");
	code_at(&m, now + 30, code); /* next step: inside the +-1 window */
	assert_int_equal(gh_mfa_check(&m, st, v, code, now, &why), 0);
	assert_int_equal(gh_mfa_check(&m, st, v, code, now, &why), GH_EPERM);
	code_at(&m, now + 90, code); /* outside the window */
	assert_int_equal(gh_mfa_check(&m, st, v, code, now, &why), GH_EAUTH);
	gh_mfa_clear(&m);

	/* another user's row cannot open this seed (associated data) */
	struct gh_user other = admin;
	other.totp_sealed = u.totp_sealed;
	other.totp_sealed_len = u.totp_sealed_len;
	assert_int_equal(gh_mfa_start(&m, v, &other), GH_ECRYPTO);
	assert_null(m.secret);

	/* reset: enrol again */
	assert_int_equal(gh_store_user_mfa_reset(st, u.id), 0);
	gh_user_free(&u);
	assert_int_equal(gh_store_user_get(st, "alice", &u), 0);
	assert_null(u.totp_sealed);
	assert_int_equal(gh_mfa_start(&m, v, &u), 0);
	assert_true(m.enrol);
	gh_mfa_clear(&m);

	gh_user_free(&u);
	gh_user_free(&admin);
	gh_vault_free(v);
	gh_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_schedule),
		cmocka_unit_test(test_store_rows),
		cmocka_unit_test(test_login_acl),
		cmocka_unit_test(test_mfa_flow),
	};
	return cmocka_run_group_tests(tests, fixture_store_setup, fixture_store_teardown);
}
