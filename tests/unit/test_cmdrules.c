/* Command filter rules: stored rows -> the filters applying to one
 * user/asset/account, and the verdict they give (priority resolution). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "filter/rules.h"

static char *pat_danger[] = { "rm", "^shutdown\\b" };
static bool rx_danger[] = { false, true };
static char *pat_ro[] = { "ls", "cat", "id" };
static bool rx_ro[] = { false, false, false };
static char *pat_sys[] = { "systemctl" };
static bool rx_sys[] = { false };

static struct gh_cmdgroup_row groups[] = {
	{ .name = "danger", .ignore_case = true, .patterns = pat_danger, .is_regex = rx_danger, .n = 2 },
	{ .name = "readonly", .patterns = pat_ro, .is_regex = rx_ro, .n = 3 },
	{ .name = "sys", .patterns = pat_sys, .is_regex = rx_sys, .n = 1 },
};

static char *g_danger[] = { "danger" }, *g_ro[] = { "readonly" }, *g_sys[] = { "sys" };
static char *u_alice[] = { "alice" }, *ug_ops[] = { "ops" };
static char *a_web[] = { "web01" }, *n_prod[] = { "/prod" }, *acc_root[] = { "root" };

#define REFS(k, v) .refs[k] = v, .n_refs[k] = sizeof v / sizeof v[0]

static struct gh_cmdfilter_row filters[] = {
	/* everybody everywhere: danger rejected at 50 */
	{ .name = "no-danger", .priority = 50, .action = "reject", REFS(GH_CFREF_CMDGROUP, g_danger) },
	/* ops on /prod: danger reviewed first (priority 10) */
	{ .name = "ops-review", .priority = 10, .action = "review", REFS(GH_CFREF_CMDGROUP, g_danger),
	  REFS(GH_CFREF_UGROUP, ug_ops), REFS(GH_CFREF_NODE, n_prod) },
	/* alice on web01 as root: read-only commands accepted */
	{ .name = "alice-ro", .priority = 20, .action = "accept", REFS(GH_CFREF_CMDGROUP, g_ro),
	  REFS(GH_CFREF_USER, u_alice), REFS(GH_CFREF_ASSET, a_web), REFS(GH_CFREF_ACCOUNT, acc_root) },
	/* sys: same priority, warn and accept: warn wins the tie */
	{ .name = "sys-accept", .priority = 30, .action = "accept", REFS(GH_CFREF_CMDGROUP, g_sys) },
	{ .name = "sys-warn", .priority = 30, .action = "warn", REFS(GH_CFREF_CMDGROUP, g_sys) },
};

static struct gh_cmdrules *rules(void)
{
	struct gh_cmdrules *r = NULL;
	char err[256];
	int rc = gh_cmdrules_new(groups, 3, filters, sizeof filters / sizeof filters[0], &r, err,
				 sizeof err);
	if (rc)
		fail_msg("rules: %s (%s)", gh_strerror(rc), err);
	return r;
}

static enum gh_filter_action verdict(const struct gh_cmdrules *r, const struct gh_cmdsubject *s,
				     const char *line, const char **rule)
{
	struct gh_cmdfilter_set *set = NULL;
	struct gh_filter_result res;
	assert_int_equal(gh_cmdrules_resolve(r, s, &set, NULL), 0);
	assert_int_equal(gh_cmdfilter_check(set, line, strlen(line), &res, NULL), 0);
	static char name[64];
	snprintf(name, sizeof name, "%s", res.filter_name ? res.filter_name : "");
	if (rule)
		*rule = name; /* res borrows from the set, freed here */
	gh_cmdfilter_set_free(set);
	return res.action;
}

static void test_selectors(void **state)
{
	const char *ops[] = { "ops" }, *prod[] = { "/prod/eu" }, *dev[] = { "/dev" };
	struct gh_cmdsubject bob = { .user = "bob", .asset = "db1", .account = "deploy" };
	struct gh_cmdsubject bob_ops_prod = { .user = "bob", .groups = ops, .n_groups = 1,
					      .asset = "db1", .nodes = prod, .n_nodes = 1,
					      .account = "deploy" };
	struct gh_cmdsubject bob_ops_dev = bob_ops_prod;
	bob_ops_dev.nodes = dev;
	struct gh_cmdsubject alice_web_root = { .user = "alice", .asset = "web01", .account = "root" };
	struct gh_cmdsubject alice_web_app = { .user = "alice", .asset = "web01", .account = "app" };

	assert_true(gh_cmdfilter_row_applies(&filters[0], &bob));
	assert_false(gh_cmdfilter_row_applies(&filters[1], &bob));
	assert_true(gh_cmdfilter_row_applies(&filters[1], &bob_ops_prod)); /* node subtree */
	assert_false(gh_cmdfilter_row_applies(&filters[1], &bob_ops_dev));
	assert_true(gh_cmdfilter_row_applies(&filters[2], &alice_web_root));
	assert_false(gh_cmdfilter_row_applies(&filters[2], &alice_web_app)); /* account */
	/* a node path is a prefix by components, not by characters */
	const char *prodx[] = { "/production" };
	struct gh_cmdsubject px = bob_ops_prod;
	px.nodes = prodx;
	assert_false(gh_cmdfilter_row_applies(&filters[1], &px));
}

static void test_priority_resolution(void **state)
{
	struct gh_cmdrules *r = rules();
	const char *ops[] = { "ops" }, *prod[] = { "/prod" };
	struct gh_cmdsubject bob = { .user = "bob", .asset = "db1", .account = "deploy" };
	struct gh_cmdsubject ops_prod = { .user = "carol", .groups = ops, .n_groups = 1, .asset = "db1",
					  .nodes = prod, .n_nodes = 1, .account = "deploy" };
	const char *rule = NULL;

	assert_int_equal(verdict(r, &bob, "rm -rf /x", &rule), GH_FILTER_REJECT);
	assert_string_equal(rule, "no-danger");
	assert_int_equal(verdict(r, &bob, "SHUTDOWN -h now", &rule), GH_FILTER_REJECT); /* ignore case */
	assert_int_equal(verdict(r, &bob, "rmdir x", &rule), GH_FILTER_NONE);
	/* priority 10 (review) decides before 50 (reject) */
	assert_int_equal(verdict(r, &ops_prod, "rm x", &rule), GH_FILTER_REVIEW);
	assert_string_equal(rule, "ops-review");
	/* the line's verdict is the most severe of its commands */
	assert_int_equal(verdict(r, &bob, "ls; systemctl restart x", &rule), GH_FILTER_WARN);
	assert_string_equal(rule, "sys-warn"); /* tie at 30: warn beats accept */
	assert_int_equal(verdict(r, &bob, "ls && rm x", &rule), GH_FILTER_REJECT);
	/* not analysable: the fallback is the most severe applicable action */
	assert_int_equal(verdict(r, &bob, "$(echo rm) x", &rule), GH_FILTER_REJECT);
	gh_cmdrules_free(r);
}

static void test_errors(void **state)
{
	struct gh_cmdrules *r = NULL;
	char err[256];
	char *badpat[] = { "(" };
	bool badrx[] = { true };
	struct gh_cmdgroup_row bad = { .name = "bad", .patterns = badpat, .is_regex = badrx, .n = 1 };
	assert_int_equal(gh_cmdgroup_row_check(&bad, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "bad"));
	assert_int_equal(gh_cmdgroup_row_check(&groups[0], err, sizeof err), 0);
	/* a filter naming a group that does not exist */
	char *g_none[] = { "nope" };
	struct gh_cmdfilter_row f = { .name = "f", .priority = 1, .action = "reject",
				      REFS(GH_CFREF_CMDGROUP, g_none) };
	assert_int_equal(gh_cmdrules_new(groups, 3, &f, 1, &r, err, sizeof err), GH_EINVAL);
	assert_null(r);
	f.refs[GH_CFREF_CMDGROUP] = g_sys;
	f.action = "maybe";
	assert_int_equal(gh_cmdrules_new(groups, 3, &f, 1, &r, err, sizeof err), GH_EINVAL);
	/* no filters: an empty set decides nothing */
	assert_int_equal(gh_cmdrules_new(groups, 3, NULL, 0, &r, err, sizeof err), 0);
	struct gh_cmdsubject s = { .user = "u", .asset = "a", .account = "x" };
	assert_int_equal(verdict(r, &s, "rm x", NULL), GH_FILTER_NONE);
	gh_cmdrules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_priority_resolution),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
