/* gatehouse perm: permissions (who may reach what, how and when). */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/dbtoken.h"
#include "store/store.h"
#include "policy/policy.h"
#include "session/authz.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse perm add NAME (--user U | --group G)... (--asset A | --node /P)...\n"
	"                     [--account ACC]... [--actions connect,upload,...|all]\n"
	"                     [--protocols ssh,sftp,...|all] [--from ISO8601] [--until ISO8601]\n"
	"                     [--inactive] [--schedule \"Mon-Fri 09:00-18:00 Europe/Berlin\"]\n"
	"                     [--ports 22,5432] [--databases app,reports]\n"
	"  gatehouse perm set NAME --schedule SPEC | --no-schedule\n"
	"  gatehouse perm list [--json]\n"
	"  gatehouse perm show NAME [--json]\n"
	"  gatehouse perm del NAME | perm enable NAME | perm disable NAME\n"
	"  gatehouse perm check USER ASSET ACCOUNT [--action A] [--protocol P] [--at ISO8601]\n"
	"\n"
	"A permission grants its users and groups the named accounts (all accounts when\n"
	"no --account is given) on its assets and on every asset in its nodes' subtrees.\n"
	"Defaults: actions connect,upload,download,delete,copy,paste (share and forward\n"
	"only when asked), protocols ssh,sftp, no time limit, active. --ports limits the\n"
	"forward action (TCP tunnels) to the listed ports (default: any port).\n"
	"--databases limits the database gateway to the listed databases (default: any).\n"
	"Actions: connect upload download delete copy paste share forward.\n"
	"Protocols: ssh sftp scp telnet rdp vnc mysql postgresql k8s tcp.\n"
	"Dates: 2026-12-01, 2026-12-01T08:00Z, 2026-12-01T08:00+02:00 (UTC when no zone).\n"
	"--schedule: the permission holds only inside these weekly windows (DAYS\n"
	"HH:MM-HH:MM[,...] [ZONE], clauses joined by ';'; see docs/POLICY.md).\n"
	"'perm check' prints allow/deny with the reason; exit 0 allow, 1 deny.\n";

enum { OPT_USER = 1000, OPT_GROUP, OPT_ASSET, OPT_NODE, OPT_ACCOUNT, OPT_ACTIONS, OPT_PROTOCOLS,
       OPT_FROM, OPT_UNTIL, OPT_INACTIVE, OPT_ACTION, OPT_PROTOCOL, OPT_AT, OPT_JSON,
       OPT_SCHEDULE, OPT_PORTS, OPT_DATABASES };

#define DEFAULT_ACTIONS GH_PERM_DEFAULT_ACTIONS

/* Append ID to V (capacity CAP, fixed by the caller) unless present. */
static void push_unique(int64_t *v, size_t *n, int64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == id)
			return;
	v[(*n)++] = id;
}

/* What `perm add` was given: the names by kind (0 users, 1 groups,
 * 2 assets, 3 nodes) and accounts as typed (borrowed from argv), the ids
 * they resolve to, and the permission being built. */
struct add_args {
	struct gh_perm p;
	char *ports;               /* owned: --ports normalized */
	const char *databases;     /* --databases as given (checked), NULL: any */
	const char **names[4];
	size_t counts[4];
	int64_t *ids[4];
	size_t n_ids[4];
	const char **accounts;
	size_t n_accounts;
};

static void add_args_free(struct add_args *a)
{
	for (int k = 0; k < 4; k++) {
		free(a->names[k]);
		free(a->ids[k]);
	}
	free(a->accounts);
	free(a->ports);
}

/* "app,reports": names (gh_valid_name) separated by single commas. */
static bool databases_ok(const char *s)
{
	char name[128];
	for (const char *p = s;;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 0 || l >= sizeof name)
			return false;
		memcpy(name, p, l);
		name[l] = '\0';
		if (!gh_valid_name(name))
			return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

/* One option of `perm add` into A: 0, or an exit code (message printed). */
static int add_option(struct gh_cli *cli, int c, char **argv, struct add_args *a)
{
	struct gh_perm *p = &a->p;
	char esc[128];
	switch (c) {
	case OPT_USER:
	case OPT_GROUP:
	case OPT_ASSET:
	case OPT_NODE:
		a->names[c - OPT_USER][a->counts[c - OPT_USER]++] = optarg;
		return 0;
	case OPT_ACCOUNT:
		if (!gh_valid_name(optarg))
			return gh_cli_usage_error(cli, "bad account name '%s' for --account",
						  gh_escape(esc, sizeof esc, optarg));
		a->accounts[a->n_accounts++] = optarg;
		return 0;
	case OPT_ACTIONS:
		return gh_cli_parse_actions(cli, "--actions", optarg, &p->actions);
	case OPT_PROTOCOLS:
		return gh_cli_parse_protocols(cli, "--protocols", optarg, &p->protocols);
	case OPT_FROM:
		return gh_cli_parse_time(cli, "--from", optarg, &p->valid_from);
	case OPT_UNTIL:
		return gh_cli_parse_time(cli, "--until", optarg, &p->valid_until);
	case OPT_INACTIVE:
		p->active = false;
		return 0;
	case OPT_PORTS:
		free(a->ports);
		a->ports = NULL;
		if (gh_ports_normalize(optarg, &a->ports) < 0)
			return gh_cli_usage_error(cli, "bad value '%s' for --ports: expected ports "
						       "1-65535 separated by commas (at most %d)",
						  gh_escape(esc, sizeof esc, optarg), GH_PORTS_MAX);
		p->forward_ports = a->ports;
		return 0;
	case OPT_DATABASES:
		if (!databases_ok(optarg))
			return gh_cli_usage_error(cli, "bad value '%s' for --databases: expected "
						       "database names separated by commas",
						  gh_escape(esc, sizeof esc, optarg));
		a->databases = optarg;
		return 0;
	case OPT_SCHEDULE: {
		int r = gh_cli_check_schedule(cli, optarg);
		if (!r)
			p->schedule = optarg;
		return r;
	}
	case 'h':
		return gh_cli_help(cli);
	default:
		return gh_cli_bad_option(cli, c, argv);
	}
}

/* Parse `perm add`'s options and check the request as a whole; A's
 * arrays are sized for ARGC. 0, or an exit code (message printed). */
static int add_parse(struct gh_cli *cli, int argc, char **argv, struct add_args *a)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "asset", required_argument, NULL, OPT_ASSET },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "actions", required_argument, NULL, OPT_ACTIONS },
		{ "protocols", required_argument, NULL, OPT_PROTOCOLS },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "inactive", no_argument, NULL, OPT_INACTIVE },
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "databases", required_argument, NULL, OPT_DATABASES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char esc[128], ut[32], ft[32];
	int c, r;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		if ((r = add_option(cli, c, argv, a)) || c == 'h')
			return r ? r : GH_EXIT_OK;
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME (--user U | --group G)... (--asset A | "
						    "--node /P)... [options]")))
		return r;
	const char *name = argv[optind];
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad permission name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, name));
	if (!a->counts[0] && !a->counts[1])
		return gh_cli_usage_error(cli, "say who it is for with --user USER or --group GROUP");
	if (!a->counts[2] && !a->counts[3])
		return gh_cli_usage_error(cli, "say what it grants with --asset ASSET or --node /PATH");
	if (a->p.valid_from && a->p.valid_until && a->p.valid_until <= a->p.valid_from)
		return gh_cli_usage_error(cli, "--until %s is not after --from %s",
					  gh_format_time(a->p.valid_until, ut, sizeof ut),
					  gh_format_time(a->p.valid_from, ft, sizeof ft));
	a->p.name = (char *)name;
	return 0;
}

/* The id of the KIND-th kind's name NM (GROUPS: every group). 0, GH_ENOENT
 * (also for a malformed node path), GH_EINVAL for the root node (kind 3),
 * or a store error. */
static int add_resolve_one(struct gh_store *st, int kind, const char *nm,
			   const struct gh_group *groups, size_t n_groups, int64_t *ret)
{
	int r = GH_ENOENT;
	int64_t id = 0;
	if (kind == 0) {
		struct gh_user u = { 0 };
		r = gh_store_user_get(st, nm, &u);
		id = u.id;
		gh_user_free(&u);
	} else if (kind == 1) {
		for (size_t g = 0; g < n_groups && r; g++)
			if (!strcmp(groups[g].name, nm)) {
				id = groups[g].id;
				r = 0;
			}
	} else if (kind == 2) {
		struct gh_asset a = { 0 };
		r = gh_store_asset_get(st, nm, &a);
		id = a.id;
		gh_asset_free(&a);
	} else {
		struct gh_node nd = { 0 };
		char *norm = NULL;
		bool root = gh_node_path_normalize(nm, &norm) == 0 && !strcmp(norm, "/");
		free(norm);
		if (root)
			return GH_EINVAL;
		r = gh_store_node_get(st, nm, &nd);
		if (r == GH_EINVAL)
			r = GH_ENOENT;
		id = nd.id;
		gh_node_free(&nd);
	}
	if (r == 0)
		*ret = id;
	return r;
}

int gh_perm_resolve_names(struct gh_store *st, const char **const names[4],
			  const size_t counts[4], int64_t *const ids[4], size_t n_ids[4],
			  char *why, size_t whylen)
{
	static const char *const kind[] = { "user", "group", "asset", "node" };
	struct gh_group *groups = NULL;
	size_t n_groups = 0;
	char esc[128];
	int r = 0;

	if (counts[1] && (r = gh_store_group_list(st, &groups, &n_groups)) < 0) {
		snprintf(why, whylen, "cannot list groups");
		return r;
	}
	for (int k = 0; k < 4 && r == 0; k++) {
		for (size_t i = 0; i < counts[k] && r == 0; i++) {
			const char *nm = names[k][i];
			int64_t id = 0;
			r = add_resolve_one(st, k, nm, groups, n_groups, &id);
			if (k == 3 && r == GH_EINVAL)
				snprintf(why, whylen, "'/' is the root of the tree, not a node: "
						      "name nodes under it or assets");
			else if (r == GH_ENOENT)
				snprintf(why, whylen, "unknown %s '%s'", kind[k],
					 gh_escape(esc, sizeof esc, nm));
			else if (r < 0)
				snprintf(why, whylen, "cannot read %s '%s'", kind[k],
					 gh_escape(esc, sizeof esc, nm));
			else
				push_unique(ids[k], &n_ids[k], id);
		}
	}
	gh_groups_free(groups, n_groups);
	return r;
}

/* Resolve every name in A to ids before anything is written, and drop
 * repeated accounts. 0, or an exit code (message printed). */
static int add_resolve(struct gh_cli *cli, struct gh_app *app, struct add_args *a)
{
	char why[256];
	int r = gh_perm_resolve_names(app->store, (const char **const *)a->names, a->counts,
				      a->ids, a->n_ids, why, sizeof why);
	if (r == GH_EINVAL)
		return gh_cli_usage_error(cli, "%s", why);
	if (r == GH_ENOENT) {
		gh_cli_error("%s", why);
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "%s", why);
	size_t na = 0;
	for (size_t i = 0; i < a->n_accounts; i++) {
		bool dup = false;
		for (size_t k = 0; k < na; k++)
			dup = dup || !strcmp(a->accounts[k], a->accounts[i]);
		if (!dup)
			a->accounts[na++] = a->accounts[i];
	}
	a->n_accounts = na;
	return 0;
}

static int perm_add(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct add_args a = { .p = { .actions = DEFAULT_ACTIONS,
				     .protocols = GH_PROTO_SSH | GH_PROTO_SFTP,
				     .active = true } };
	int r;

	for (int k = 0; k < 4; k++) {
		a.names[k] = calloc((size_t)argc, sizeof *a.names[k]);
		a.ids[k] = calloc((size_t)argc, sizeof *a.ids[k]);
	}
	a.accounts = calloc((size_t)argc, sizeof *a.accounts);
	if (!a.names[0] || !a.names[1] || !a.names[2] || !a.names[3] || !a.ids[0] || !a.ids[1] ||
	    !a.ids[2] || !a.ids[3] || !a.accounts) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = add_parse(cli, argc, argv, &a)) || !a.p.name)
		goto out;
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = add_resolve(cli, app, &a)))
		goto out;
	struct gh_perm *p = &a.p;
	p->user_ids = a.ids[0], p->n_users = a.n_ids[0];
	p->group_ids = a.ids[1], p->n_groups = a.n_ids[1];
	p->asset_ids = a.ids[2], p->n_assets = a.n_ids[2];
	p->node_ids = a.ids[3], p->n_nodes = a.n_ids[3];
	p->accounts = (char **)a.accounts, p->n_accounts = a.n_accounts;
	int64_t perm_id = 0;
	r = gh_store_perm_add(app->store, p, &perm_id);
	if (r == 0 && a.databases &&
	    (r = gh_store_perm_databases_set(app->store, perm_id, a.databases)) < 0)
		gh_store_perm_del(app->store, p->name); /* never broader than asked */
	if (r == GH_EEXIST) {
		gh_cli_error("permission '%s' already exists", p->name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add permission '%s'", p->name);
		goto out;
	}
	printf("added permission '%s'%s\n", p->name, p->active ? "" : " (inactive)");
	r = GH_EXIT_OK;
out:
	add_args_free(&a);
	gh_app_close(app);
	return r;
}

/* Id -> name tables for printing permissions. */
struct names {
	struct gh_user *users;
	size_t n_users;
	struct gh_group *groups;
	size_t n_groups;
	struct gh_asset *assets;
	size_t n_assets;
	struct gh_node *nodes;
	size_t n_nodes;
};

static void names_free(struct names *nm)
{
	gh_users_free(nm->users, nm->n_users);
	gh_groups_free(nm->groups, nm->n_groups);
	gh_assets_free(nm->assets, nm->n_assets);
	gh_nodes_free(nm->nodes, nm->n_nodes);
	memset(nm, 0, sizeof *nm);
}

static int names_load_st(struct gh_store *st, struct names *nm)
{
	int r = gh_store_user_list(st, &nm->users, &nm->n_users);
	if (r == 0)
		r = gh_store_group_list(st, &nm->groups, &nm->n_groups);
	if (r == 0)
		r = gh_store_asset_list(st, &nm->assets, &nm->n_assets);
	if (r == 0)
		r = gh_store_node_list(st, &nm->nodes, &nm->n_nodes);
	return r;
}

static int names_load(struct gh_app *app, struct names *nm)
{
	return names_load_st(app->store, nm);
}

static const char *name_of(const struct names *nm, int kind, int64_t id)
{
	switch (kind) {
	case 0:
		for (size_t i = 0; i < nm->n_users; i++)
			if (nm->users[i].id == id)
				return nm->users[i].name;
		break;
	case 1:
		for (size_t i = 0; i < nm->n_groups; i++)
			if (nm->groups[i].id == id)
				return nm->groups[i].name;
		break;
	case 2:
		for (size_t i = 0; i < nm->n_assets; i++)
			if (nm->assets[i].id == id)
				return nm->assets[i].name;
		break;
	default:
		for (size_t i = 0; i < nm->n_nodes; i++)
			if (nm->nodes[i].id == id)
				return nm->nodes[i].path;
	}
	return "?";
}

static json_t *ids_json(const struct names *nm, int kind, const int64_t *ids, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(name_of(nm, kind, ids[i])));
	return a;
}

static json_t *perm_json(const struct names *nm, const struct gh_perm *p)
{
	json_t *j = json_object(), *acc = json_array();
	if (!j || !acc) {
		json_decref(j);
		json_decref(acc);
		return NULL;
	}
	for (size_t i = 0; i < p->n_accounts; i++)
		json_array_append_new(acc, json_string(p->accounts[i]));
	json_object_set_new(j, "id", json_integer(p->id));
	json_object_set_new(j, "name", json_string(p->name));
	json_object_set_new(j, "active", json_boolean(p->active));
	json_object_set_new(j, "users", ids_json(nm, 0, p->user_ids, p->n_users));
	json_object_set_new(j, "groups", ids_json(nm, 1, p->group_ids, p->n_groups));
	json_object_set_new(j, "assets", ids_json(nm, 2, p->asset_ids, p->n_assets));
	json_object_set_new(j, "nodes", ids_json(nm, 3, p->node_ids, p->n_nodes));
	json_object_set_new(j, "accounts", acc);
	json_object_set_new(j, "actions", gh_cli_json_actions(p->actions));
	json_object_set_new(j, "protocols", gh_cli_json_protocols(p->protocols));
	json_object_set_new(j, "forward_ports", p->forward_ports ? json_string(p->forward_ports)
								  : json_null());
	json_object_set_new(j, "valid_from", gh_cli_json_time(p->valid_from));
	json_object_set_new(j, "valid_until", gh_cli_json_time(p->valid_until));
	json_object_set_new(j, "schedule", gh_cli_json_str(p->schedule));
	json_object_set_new(j, "created_at", gh_cli_json_time(p->created_at));
	return j;
}

int gh_cli_perms_json(struct gh_store *st, const struct gh_perm *v, size_t n, json_t **ret)
{
	struct names nm = { 0 };
	int r = names_load_st(st, &nm);
	json_t *a = r == 0 ? json_array() : NULL;
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, perm_json(&nm, &v[i]));
	names_free(&nm);
	if (r == 0 && !a)
		r = GH_ENOMEM;
	if (r == 0)
		*ret = a;
	return r;
}

/* Join a JSON array of strings with PREFIX before each; "" when empty.
 * Caller frees. */
static char *join(json_t *a, const char *prefix, const char *sep)
{
	char *out = NULL;
	size_t len = 0, i;
	json_t *v;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	json_array_foreach(a, i, v)
		fprintf(f, "%s%s%s", i ? sep : "", prefix, json_string_value(v));
	fclose(f);
	return out;
}

static char *subjects_text(json_t *j, const char *k1, const char *p1, const char *k2,
			   const char *p2)
{
	char *a = join(json_object_get(j, k1), p1, ","), *b = join(json_object_get(j, k2), p2, ",");
	char *out = NULL;
	if (a && b && asprintf(&out, "%s%s%s", a, *a && *b ? "," : "", b) < 0)
		out = NULL;
	free(a);
	free(b);
	return out;
}

static int perm_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_perm *v = NULL;
	struct names nm = { 0 };
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_perm_list(app->store, &v, &n);
	if (r == 0)
		r = names_load(app, &nm);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list permissions");
		goto out;
	}
	json_t *arr = json_array();
	t = gh_table_new(7, "NAME", "STATE", "WHO", "WHAT", "ACCOUNTS", "ACTIONS", "VALID");
	for (size_t i = 0; arr && i < n; i++) {
		json_t *j = perm_json(&nm, &v[i]);
		if (t && j) {
			char *who = subjects_text(j, "users", "", "groups", "@");
			char *what = subjects_text(j, "assets", "", "nodes", "");
			char *acc = join(json_object_get(j, "accounts"), "", ",");
			char acts[128], f[32], u[32], valid[256];
			snprintf(valid, sizeof valid, "%s..%s",
				 v[i].valid_from ? gh_format_time(v[i].valid_from, f, sizeof f) : "",
				 v[i].valid_until ? gh_format_time(v[i].valid_until, u, sizeof u) : "");
			if (v[i].schedule) /* "..2027-01-01T00:00:00Z Mon-Fri 09:00-18:00 UTC" */
				snprintf(valid + (v[i].valid_from || v[i].valid_until ? strlen(valid) : 0),
					 sizeof valid - (v[i].valid_from || v[i].valid_until ? strlen(valid) : 0),
					 "%s%s", v[i].valid_from || v[i].valid_until ? " " : "", v[i].schedule);
			gh_table_add(t, v[i].name, v[i].active ? "active" : "inactive", who, what,
				     acc && *acc ? acc : "all",
				     v[i].actions == GH_ACT_ALL
					     ? "all"
					     : gh_actions_format(v[i].actions, acts, sizeof acts),
				     v[i].valid_from || v[i].valid_until || v[i].schedule ? valid : "always");
			free(who);
			free(what);
			free(acc);
		}
		json_array_append_new(arr, j);
	}
	if (json) {
		r = gh_cli_json_print(arr) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	json_decref(arr);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	names_free(&nm);
	gh_perms_free(v, n);
	gh_app_close(app);
	return r;
}

static int get_perm(struct gh_app *app, const char *name, struct gh_perm *ret)
{
	char esc[80];
	int r = gh_store_perm_get(app->store, name, ret);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown permission '%s'", gh_escape(esc, sizeof esc, name));
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot read permission '%s'", gh_escape(esc, sizeof esc, name));
	return 0;
}

static int perm_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_perm p = { 0 };
	struct names nm = { 0 };
	json_t *j = NULL;
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_perm(app, argv[optind], &p)))
		goto out;
	if ((r = names_load(app, &nm)) < 0) {
		r = gh_cli_fail(app, r, "cannot read permission '%s'", p.name);
		goto out;
	}
	j = perm_json(&nm, &p);
	if (json) {
		r = gh_cli_json_print(j) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		j = NULL;
		goto out;
	}
	static const char *const lists[] = { "users", "groups", "assets", "nodes" };
	char acts[128], protos[128];
	gh_cli_field("name:", p.name);
	gh_cli_field("state:", p.active ? "active" : "inactive");
	for (int k = 0; k < 4; k++) {
		char key[16];
		char *s = join(json_object_get(j, lists[k]), "", " ");
		snprintf(key, sizeof key, "%s:", lists[k]);
		gh_cli_field(key, s);
		free(s);
	}
	char *acc = join(json_object_get(j, "accounts"), "", " ");
	gh_cli_field("accounts:", acc && *acc ? acc : "all");
	free(acc);
	gh_cli_field("actions:", gh_actions_format(p.actions, acts, sizeof acts));
	gh_cli_field("protocols:", gh_protocols_format(p.protocols, protos, sizeof protos));
	if (p.forward_ports)
		gh_cli_field("forward ports:", p.forward_ports);
	gh_cli_field("from:", gh_cli_time_text(p.valid_from, tb, sizeof tb));
	gh_cli_field("until:", gh_cli_time_text(p.valid_until, tb, sizeof tb));
	gh_cli_field("schedule:", p.schedule ? p.schedule : "always");
	gh_cli_field("created:", gh_cli_time_text(p.created_at, tb, sizeof tb));
	r = GH_EXIT_OK;
out:
	json_decref(j);
	names_free(&nm);
	gh_perm_free(&p);
	gh_app_close(app);
	return r;
}

static int perm_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "permission", gh_store_perm_del);
}

static int set_active(struct gh_cli *cli, int argc, char **argv, bool active)
{
	struct gh_app *app = NULL;
	struct gh_perm p = { 0 };
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_perm(app, argv[optind], &p)))
		goto out;
	r = gh_store_perm_set_active(app->store, p.id, active);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot update permission '%s'", p.name);
		goto out;
	}
	printf("permission '%s' %s\n", p.name, active ? "enabled" : "disabled");
	r = GH_EXIT_OK;
out:
	gh_perm_free(&p);
	gh_app_close(app);
	return r;
}

static int perm_enable(struct gh_cli *cli, int argc, char **argv)
{
	return set_active(cli, argc, argv, true);
}

static int perm_disable(struct gh_cli *cli, int argc, char **argv)
{
	return set_active(cli, argc, argv, false);
}

/* One action / protocol bit from a single word. */
static int one_bit(const struct gh_cli *cli, const char *opt, const char *s, bool action,
		   uint32_t *ret)
{
	uint32_t m = 0;
	char esc[64];
	int r = action ? gh_cli_parse_actions(cli, opt, s, &m) : gh_cli_parse_protocols(cli, opt, s, &m);
	if (r)
		return r;
	if (m & (m - 1))
		return gh_cli_usage_error(cli, "%s takes one %s, not '%s'", opt,
					  action ? "action" : "protocol", gh_escape(esc, sizeof esc, s));
	*ret = m;
	return 0;
}

static int perm_check(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "protocol", required_argument, NULL, OPT_PROTOCOL },
		{ "at", required_argument, NULL, OPT_AT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct gh_asset a = { 0 };
	struct gh_account acc = { 0 };
	uint32_t action = GH_ACT_CONNECT, proto = GH_PROTO_SSH;
	int64_t at = 0;
	bool json = false;
	char esc[80];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ACTION:
			if ((r = one_bit(cli, "--action", optarg, true, &action)))
				return r;
			break;
		case OPT_PROTOCOL:
			if ((r = one_bit(cli, "--protocol", optarg, false, &proto)))
				return r;
			break;
		case OPT_AT:
			if ((r = gh_cli_parse_time(cli, "--at", optarg, &at)))
				return r;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			return gh_cli_help(cli);
		default:
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 3, 3, "USER ASSET ACCOUNT [options]")))
		return r;
	const char *user = argv[optind], *asset = argv[optind + 1], *account = argv[optind + 2];
	if (!at)
		at = gh_now();
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_user_get(app->store, user, &u);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown user '%s'", gh_escape(esc, sizeof esc, user));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0) {
		r = gh_store_asset_get(app->store, asset, &a);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown asset '%s'", gh_escape(esc, sizeof esc, asset));
			r = GH_EXIT_FAIL;
			goto out;
		}
	}
	if (r == 0) {
		r = gh_store_account_get(app->store, a.id, account, &acc);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown account '%s' on asset '%s'", gh_escape(esc, sizeof esc, account),
				     a.name);
			r = GH_EXIT_FAIL;
			goto out;
		}
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot read the model");
		goto out;
	}
	/* the gate's own decision (session/authz.h), so this answer cannot
	 * drift from what the doors enforce; no source address: login ACLs
	 * are not asked */
	struct gh_authz_req rq = { .user = u.name, .asset = a.name, .account = account,
				   .protocol = proto, .action = action, .now = at };
	struct gh_authz d = { 0 };
	r = gh_authz_check(app->store, &rq, &d);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot check the permission");
		goto out;
	}
	char reason[sizeof d.reason + 160];
	if (d.user_refused)
		snprintf(reason, sizeof reason, "user '%s' is %s", u.name, d.reason);
	else
		snprintf(reason, sizeof reason, "%s", d.reason);
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "allow", json_boolean(d.allow));
		json_object_set_new(j, "permission", d.allow && d.perm_name[0]
							     ? json_string(d.perm_name) : json_null());
		json_object_set_new(j, "reason", json_string(reason));
		gh_cli_json_print(j);
	} else {
		const char *why = reason;
		if (!strncmp(why, "denied: ", 8)) /* "deny: denied: ..." says it twice */
			why += 8;
		printf("%s: %s\n", d.allow ? "allow" : "deny", why);
	}
	r = d.allow ? GH_EXIT_OK : GH_EXIT_FAIL;
out:
	gh_account_free(&acc);
	gh_asset_free(&a);
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

int gh_cmd_perm(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", perm_add },	   { "list", perm_list },	{ "show", perm_show },
		{ "del", perm_del },	   { "enable", perm_enable },	{ "disable", perm_disable },
		{ "check", perm_check },   { "set", gh_cmd_perm_set },	{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "perm", usage, verbs, argc, argv);
}
