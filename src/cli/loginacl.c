/* gatehouse loginacl: login ACL rules (source addresses and times). */
#include "app/app.h"
#include "auth/acl.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse loginacl add NAME (--user U | --group G)... [--source CIDR]...\n"
	"                         [--schedule \"Mon-Fri 09:00-18:00 Europe/Berlin\"]\n"
	"                         --action allow|deny [--priority N]\n"
	"  gatehouse loginacl list [--json]\n"
	"  gatehouse loginacl del NAME\n"
	"\n"
	"A rule applies to the users and groups it names. At login, after the password\n"
	"or key, the rules of the user are tried by priority (1-100, lower first; deny\n"
	"before allow on a tie); the first whose sources hold the client's address and\n"
	"whose schedule holds the current time decides. No matching rule: allowed (the\n"
	"permissions still decide what the user reaches). --cidr is --source; no\n"
	"--source means every address. A refused login is a plain authentication\n"
	"failure for the client; the audit log names the rule.\n"
	"Schedules: DAYS HH:MM-HH:MM[,...] [ZONE], clauses joined by ';' (see\n"
	"docs/POLICY.md).\n";

enum { OPT_USER = 1000, OPT_GROUP, OPT_SOURCE, OPT_SCHEDULE, OPT_ACTION, OPT_PRIORITY };

#define DEFAULT_PRIORITY 50

/* What `login-acl add` was given: the rule being built (its sources and
 * schedule owned, its name borrowed from argv) and the user and group
 * names as typed. */
struct acl_args {
	struct gh_loginacl a;
	const char **users, **groups;
	size_t nu, ng;
	long long prio;
	int action;
};

/* One option of `login-acl add` into X: 0, or an exit code (message
 * printed). */
static int acl_option(struct gh_cli *cli, int c, char **argv, struct acl_args *x)
{
	struct gh_loginacl *a = &x->a;
	char esc[160];
	switch (c) {
	case OPT_USER:
		x->users[x->nu++] = optarg;
		return 0;
	case OPT_GROUP:
		x->groups[x->ng++] = optarg;
		return 0;
	case OPT_SOURCE: {
		int r = gh_cli_loginacl_source(a, optarg);
		if (r == GH_EINVAL)
			return gh_cli_usage_error(cli, "bad --source '%s': expected an IPv4 or IPv6 "
						       "address or network (10.0.0.0/8, 2001:db8::/32)",
						  gh_escape(esc, sizeof esc, optarg));
		return r < 0 ? GH_EXIT_FAIL : 0;
	}
	case OPT_SCHEDULE:
		free(a->schedule);
		return (a->schedule = strdup(optarg)) ? 0 : GH_EXIT_FAIL;
	case OPT_ACTION:
		if (!strcmp(optarg, "allow"))
			x->action = GH_ACL_ALLOW;
		else if (!strcmp(optarg, "deny"))
			x->action = GH_ACL_DENY;
		else
			return gh_cli_usage_error(cli, "bad --action '%s': expected allow or deny",
						  gh_escape(esc, sizeof esc, optarg));
		return 0;
	case OPT_PRIORITY:
		return gh_cli_parse_int(cli, "--priority", optarg, 1, 100, &x->prio);
	case 'h':
		return gh_cli_help(cli);
	default:
		return gh_cli_bad_option(cli, c, argv);
	}
}

/* Parse the options and check the rule as logins will read it. 0 (with
 * X->a.name set), or an exit code (message printed; 0 with no name after
 * --help). */
static int acl_parse(struct gh_cli *cli, int argc, char **argv, struct acl_args *x)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "cidr", required_argument, NULL, OPT_SOURCE },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[320];
	int c, r;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		if ((r = acl_option(cli, c, argv, x)) || c == 'h')
			return r;
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME (--user U | --group G)... --action "
						    "allow|deny [options]")))
		return r;
	x->a.name = argv[optind];
	x->a.action = x->action;
	x->a.priority = (int)x->prio;
	if (gh_cli_loginacl_check(&x->a, x->nu + x->ng, err, sizeof err) < 0) {
		x->a.name = NULL;
		return gh_cli_usage_error(cli, "%s", err);
	}
	return 0;
}

int gh_cli_loginacl_source(struct gh_loginacl *a, const char *text)
{
	struct gh_cidr cidr;
	char buf[64];
	if (gh_cidr_parse(text, &cidr) < 0)
		return GH_EINVAL;
	if (!(a->sources[a->n_sources] = strdup(gh_cidr_format(&cidr, buf, sizeof buf))))
		return GH_ENOMEM;
	a->n_sources++;
	return 0;
}

int gh_cli_loginacl_check(const struct gh_loginacl *a, size_t n_who, char *err, size_t errlen)
{
	struct gh_acl *check = NULL;
	char esc[160], why[256] = "";
	if (!a->name || !gh_valid_name(a->name)) {
		snprintf(err, errlen, "bad rule name '%s': use 1-64 of A-Z a-z 0-9 . _ - (not "
				      "starting with -)", gh_escape(esc, sizeof esc, a->name ? a->name : ""));
		return GH_EINVAL;
	}
	if (!n_who) {
		snprintf(err, errlen, "say who it is for with --user USER or --group GROUP");
		return GH_EINVAL;
	}
	if (a->action != GH_ACL_ALLOW && a->action != GH_ACL_DENY) {
		snprintf(err, errlen, "say what it does with --action allow or --action deny");
		return GH_EINVAL;
	}
	/* the whole rule, checked the way logins will read it */
	struct gh_acl_rule rule = { .name = a->name, .action = (enum gh_acl_action)a->action,
				    .priority = a->priority,
				    .sources = (const char *const *)a->sources,
				    .n_sources = a->n_sources, .schedule = a->schedule };
	if (gh_acl_new(&rule, 1, &check, why, sizeof why) < 0) {
		snprintf(err, errlen, "bad rule: %s", why[0] ? why : "invalid");
		return GH_EINVAL;
	}
	gh_acl_free(check);
	return 0;
}

int gh_cli_loginacl_resolve(struct gh_store *st, const char *const *users, size_t nu,
			    const char *const *groups, size_t ng, struct gh_loginacl *a, char *err,
			    size_t errlen)
{
	char esc[160];
	int r = 0;
	for (size_t i = 0; i < nu + ng; i++) {
		bool user = i < nu;
		const char *nm = user ? users[i] : groups[i - nu];
		int64_t id = 0;
		if (user) {
			struct gh_user u = { 0 };
			r = gh_store_user_get(st, nm, &u);
			id = u.id;
			gh_user_free(&u);
		} else {
			struct gh_group g = { 0 };
			r = gh_store_group_get(st, nm, &g);
			id = g.id;
			gh_group_free(&g);
		}
		if (r == GH_ENOENT)
			snprintf(err, errlen, "unknown %s '%s'", user ? "user" : "group",
				 gh_escape(esc, sizeof esc, nm));
		else if (r < 0)
			snprintf(err, errlen, "cannot read %s", user ? "user" : "group");
		if (r < 0)
			return r;
		if (user)
			a->user_ids[a->n_users++] = id;
		else
			a->group_ids[a->n_groups++] = id;
	}
	return 0;
}

/* The ids of X's user and group names. 0, or an exit code (message
 * printed). */
static int acl_resolve(struct gh_app *app, struct acl_args *x)
{
	char err[320];
	int r = gh_cli_loginacl_resolve(app->store, x->users, x->nu, x->groups, x->ng, &x->a, err,
					sizeof err);
	if (r == GH_ENOENT) {
		gh_cli_error("%s", err);
		return GH_EXIT_FAIL;
	}
	return r < 0 ? gh_cli_fail(app, r, "%s", err) : 0;
}

static int acl_add(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct acl_args x = { .prio = DEFAULT_PRIORITY, .action = -1 };
	struct gh_loginacl *a = &x.a;
	int r = 0;

	x.users = calloc((size_t)argc + 1, sizeof *x.users);
	x.groups = calloc((size_t)argc + 1, sizeof *x.groups);
	a->user_ids = calloc((size_t)argc + 1, sizeof *a->user_ids);
	a->group_ids = calloc((size_t)argc + 1, sizeof *a->group_ids);
	a->sources = calloc((size_t)argc + 1, sizeof *a->sources);
	if (!x.users || !x.groups || !a->user_ids || !a->group_ids || !a->sources) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = acl_parse(cli, argc, argv, &x)) || !a->name)
		goto out;
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = acl_resolve(app, &x)))
		goto out;
	r = gh_store_loginacl_add(app->store, a, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("login ACL rule '%s' already exists", a->name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add login ACL rule '%s'", a->name);
		goto out;
	}
	printf("added login ACL rule '%s' (%s, priority %d)\n", a->name,
	       x.action == GH_ACL_DENY ? "deny" : "allow", a->priority);
	r = GH_EXIT_OK;
out:
	a->name = NULL; /* borrowed from argv */
	gh_loginacl_free(a);
	free(x.users);
	free(x.groups);
	gh_app_close(app);
	return r;
}

/* "alice,@ops" from the rule's user and group ids. */
static json_t *who_json(const struct gh_loginacl *a, const struct gh_user *u, size_t nu,
			const struct gh_group *g, size_t ng, const char *which)
{
	json_t *arr = json_array();
	bool users = !strcmp(which, "users");
	size_t n = users ? a->n_users : a->n_groups;
	for (size_t i = 0; arr && i < n; i++) {
		int64_t id = users ? a->user_ids[i] : a->group_ids[i];
		const char *name = NULL;
		for (size_t k = 0; users && k < nu && !name; k++)
			if (u[k].id == id)
				name = u[k].name;
		for (size_t k = 0; !users && k < ng && !name; k++)
			if (g[k].id == id)
				name = g[k].name;
		if (name)
			json_array_append_new(arr, json_string(name));
	}
	return arr;
}

json_t *gh_cli_loginacl_json(const struct gh_loginacl *a, const struct gh_user *u, size_t nu,
			     const struct gh_group *g, size_t ng)
{
	json_t *j = json_object(), *src = json_array();
	for (size_t k = 0; src && k < a->n_sources; k++)
		json_array_append_new(src, json_string(a->sources[k]));
	json_object_set_new(j, "name", json_string(a->name));
	json_object_set_new(j, "priority", json_integer(a->priority));
	json_object_set_new(j, "action", json_string(a->action == GH_ACL_DENY ? "deny" : "allow"));
	json_object_set_new(j, "users", who_json(a, u, nu, g, ng, "users"));
	json_object_set_new(j, "groups", who_json(a, u, nu, g, ng, "groups"));
	json_object_set_new(j, "sources", src);
	json_object_set_new(j, "schedule", gh_cli_json_str(a->schedule));
	json_object_set_new(j, "created_at", gh_cli_json_time(a->created_at));
	return j;
}

static char *join(json_t *arr, const char *prefix, char *buf, size_t len, size_t pos)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		int k = snprintf(buf + pos, len - pos, "%s%s%s", pos ? "," : "", prefix,
				 json_string_value(v));
		if (k < 0 || (size_t)k >= len - pos)
			break;
		pos += (size_t)k;
	}
	return buf;
}

static int acl_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_loginacl *v = NULL;
	struct gh_user *u = NULL;
	struct gh_group *g = NULL;
	struct gh_table *t = NULL;
	size_t n = 0, nu = 0, ng = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_store_loginacl_list(app->store, &v, &n)) < 0 ||
	    (r = gh_store_user_list(app->store, &u, &nu)) < 0 ||
	    (r = gh_store_group_list(app->store, &g, &ng)) < 0) {
		r = gh_cli_fail(app, r, "cannot list login ACL rules");
		goto out;
	}
	json_t *all = json_array();
	if (!json)
		t = gh_table_new(6, "NAME", "PRIORITY", "ACTION", "WHO", "SOURCES", "SCHEDULE");
	for (size_t i = 0; all && i < n; i++) {
		json_t *j = gh_cli_loginacl_json(&v[i], u, nu, g, ng);
		if (t && j) {
			char who[512] = "", srcs[512] = "", prio[16];
			join(json_object_get(j, "users"), "", who, sizeof who, 0);
			join(json_object_get(j, "groups"), "@", who, sizeof who, strlen(who));
			join(json_object_get(j, "sources"), "", srcs, sizeof srcs, 0);
			snprintf(prio, sizeof prio, "%d", v[i].priority);
			gh_table_add(t, v[i].name, prio, v[i].action == GH_ACL_DENY ? "deny" : "allow",
				     who, srcs[0] ? srcs : "any", v[i].schedule ? v[i].schedule : "always");
		}
		json_array_append_new(all, j);
	}
	if (json) {
		r = gh_cli_json_print(all) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	json_decref(all);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_loginacls_free(v, n);
	gh_users_free(u, nu);
	gh_groups_free(g, ng);
	gh_app_close(app);
	return r;
}

static int acl_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "login ACL rule", gh_store_loginacl_del);
}

int gh_cmd_loginacl(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", acl_add }, { "list", acl_list }, { "del", acl_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "loginacl", usage, verbs, argc, argv);
}
