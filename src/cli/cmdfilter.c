/* gatehouse cmdfilter: command filters (which command groups are rejected,
 * reviewed, warned about or accepted, for whom, where). */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "filter/filter.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse cmdfilter add NAME --cmdgroup G... --action reject|accept|review|warn\n"
	"                          [--priority N] [(--user U | --group G)]...\n"
	"                          [(--asset A | --node /P)]... [--account ACC]...\n"
	"  gatehouse cmdfilter list [--json]\n"
	"  gatehouse cmdfilter del NAME\n"
	"\n"
	"A command filter applies its action to the commands of its command groups\n"
	"run by its users and groups (--usergroup is the same as --group) on its\n"
	"assets and nodes (and their subtrees) as its accounts. An omitted selector\n"
	"means all: no --user/--group applies to every user, no --asset/--node to\n"
	"every asset, no --account to every account. Priority 1-100 (default 50):\n"
	"for each command the matching filter with the lowest number decides; at equal\n"
	"priority reject > review > warn > accept. The verdict of a command line is\n"
	"the most severe of its commands. review holds the command until\n"
	"'gatehouse request approve|deny ID' (or review_timeout); warn lets it run and\n"
	"flags it in the command log.\n";

enum { OPT_CMDGROUP = 1000, OPT_USER, OPT_GROUP, OPT_ASSET, OPT_NODE, OPT_ACCOUNT, OPT_ACTION,
       OPT_PRIORITY };

/* option -> reference kind */
static int ref_kind(int opt)
{
	switch (opt) {
	case OPT_CMDGROUP: return GH_CFREF_CMDGROUP;
	case OPT_USER: return GH_CFREF_USER;
	case OPT_GROUP: return GH_CFREF_UGROUP;
	case OPT_ASSET: return GH_CFREF_ASSET;
	case OPT_NODE: return GH_CFREF_NODE;
	default: return GH_CFREF_ACCOUNT;
	}
}

static const char *const kind_names[GH_CFREF_COUNT] = { "command group", "user", "group",
							 "asset", "node", "account" };

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Does the object named in ref kind K exist? 0, GH_ENOENT or an error. */
static int ref_exists(struct gh_store *st, int k, const char *name)
{
	int r = 0;
	if (k == GH_CFREF_USER) {
		struct gh_user u = { 0 };
		r = gh_store_user_get(st, name, &u);
		gh_user_free(&u);
	} else if (k == GH_CFREF_UGROUP) {
		struct gh_group g = { 0 };
		r = gh_store_group_get(st, name, &g);
		gh_group_free(&g);
	} else if (k == GH_CFREF_ASSET) {
		struct gh_asset a = { 0 };
		r = gh_store_asset_get(st, name, &a);
		gh_asset_free(&a);
	} else if (k == GH_CFREF_NODE) {
		struct gh_node nd = { 0 };
		r = gh_store_node_get(st, name, &nd);
		gh_node_free(&nd);
	}
	return r;
}

int gh_cli_cmdfilter_check(struct gh_store *st, const struct gh_cmdfilter_row *f, char *err,
			   size_t errlen)
{
	enum gh_filter_action action = GH_FILTER_NONE;
	char esc[128];
	if (!f->name || !gh_valid_name(f->name)) {
		snprintf(err, errlen, "bad command filter name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
				      "(not starting with -)",
			 gh_escape(esc, sizeof esc, f->name ? f->name : ""));
		return GH_EINVAL;
	}
	if (!f->n_refs[GH_CFREF_CMDGROUP]) {
		snprintf(err, errlen, "name the command groups with --cmdgroup GROUP");
		return GH_EINVAL;
	}
	if (!f->action || gh_filter_action_parse(f->action, &action) < 0) {
		snprintf(err, errlen, "say what to do with --action reject|accept|review|warn");
		return GH_EINVAL;
	}
	if (f->priority < 1 || f->priority > 100) {
		snprintf(err, errlen, "priority: expected 1-100");
		return GH_EINVAL;
	}
	for (int k = GH_CFREF_USER; st && k < GH_CFREF_ACCOUNT; k++)
		for (size_t i = 0; i < f->n_refs[k]; i++) {
			int r = ref_exists(st, k, f->refs[k][i]);
			if (r == GH_ENOENT)
				snprintf(err, errlen, "unknown %s '%s'", kind_names[k],
					 gh_escape(esc, sizeof esc, f->refs[k][i]));
			else if (r < 0)
				snprintf(err, errlen, "cannot look up %s", kind_names[k]);
			if (r < 0)
				return r;
		}
	return 0;
}

int gh_cli_cmdfilter_ref(struct gh_cmdfilter_row *f, int k, char *val, char *err, size_t errlen)
{
	char esc[128], *norm = NULL;
	if (k == GH_CFREF_NODE) {
		if (gh_node_path_normalize(val, &norm) < 0) {
			snprintf(err, errlen, "bad node path '%s'", gh_escape(esc, sizeof esc, val));
			return GH_EINVAL;
		}
		/* keep the normalised path in VAL (it is never longer) */
		if (strlen(norm) <= strlen(val))
			memcpy(val, norm, strlen(norm) + 1);
		free(norm);
	} else if (!gh_valid_name(val)) {
		snprintf(err, errlen, "bad %s name '%s'", kind_names[k], gh_escape(esc, sizeof esc, val));
		return GH_EINVAL;
	}
	f->refs[k][f->n_refs[k]++] = val;
	return 0;
}

json_t *gh_cli_cmdfilter_json(const struct gh_cmdfilter_row *f)
{
	static const char *const json_keys[GH_CFREF_COUNT] = { "cmdgroups", "users", "groups",
								"assets", "nodes", "accounts" };
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(f->name));
	json_object_set_new(j, "priority", json_integer(f->priority));
	json_object_set_new(j, "action", json_string(f->action));
	for (int k = 0; k < GH_CFREF_COUNT; k++)
		json_object_set_new(j, json_keys[k], strv_json(f->refs[k], f->n_refs[k]));
	json_object_set_new(j, "created_at", gh_cli_json_time(f->created_at));
	return j;
}

/* Long (about 130 lines): option loop, reference resolution and the
 * write in one; to be split as perm_add and acl_add were (parse, resolve,
 * write). */
static int filter_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cmdgroup", required_argument, NULL, OPT_CMDGROUP },
		{ "user", required_argument, NULL, OPT_USER },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "usergroup", required_argument, NULL, OPT_GROUP },
		{ "asset", required_argument, NULL, OPT_ASSET },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_cmdfilter_row f = { 0 };
	enum gh_filter_action action = GH_FILTER_NONE;
	char esc[128], err[400];
	long long prio = 50;
	int c, r = 0;

	for (int k = 0; k < GH_CFREF_COUNT; k++)
		if (!(f.refs[k] = calloc((size_t)argc, sizeof *f.refs[k]))) {
			r = GH_EXIT_FAIL;
			goto out;
		}
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CMDGROUP:
		case OPT_USER:
		case OPT_GROUP:
		case OPT_ASSET:
		case OPT_NODE:
		case OPT_ACCOUNT: {
			if (gh_cli_cmdfilter_ref(&f, ref_kind(c), optarg, err, sizeof err) < 0) {
				r = gh_cli_usage_error(cli, "%s", err);
				goto out;
			}
			break;
		}
		case OPT_ACTION:
			if (gh_filter_action_parse(optarg, &action) < 0) {
				r = gh_cli_usage_error(cli, "bad action '%s': use reject, accept, review "
							    "or warn",
						       gh_escape(esc, sizeof esc, optarg));
				goto out;
			}
			break;
		case OPT_PRIORITY:
			if ((r = gh_cli_parse_int(cli, "--priority", optarg, 1, 100, &prio)))
				goto out;
			break;
		case 'h':
			r = gh_cli_help(cli);
			goto out;
		default:
			r = gh_cli_bad_option(cli, c, argv);
			goto out;
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --cmdgroup G... --action A [options]")))
		goto out;
	f.name = argv[optind];
	f.priority = (int)prio;
	f.action = action == GH_FILTER_NONE ? NULL : (char *)gh_filter_action_name(action);
	if (gh_cli_cmdfilter_check(NULL, &f, err, sizeof err) < 0) {
		r = gh_cli_usage_error(cli, "%s", err);
		goto out;
	}
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	/* every name must exist now (deleted later, it simply matches nothing) */
	r = gh_cli_cmdfilter_check(app->store, &f, err, sizeof err);
	if (r == GH_ENOENT) {
		gh_cli_error("%s", err);
		r = GH_EXIT_FAIL;
		goto out;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "%s", err);
		goto out;
	}
	gh_escape(esc, sizeof esc, f.name);
	r = gh_store_cmdfilter_add(app->store, &f, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("command filter '%s' already exists", esc);
		r = GH_EXIT_FAIL;
	} else if (r == GH_ENOENT) {
		gh_cli_error("unknown command group (see 'gatehouse cmdgroup list')");
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add command filter '%s'", esc);
	} else {
		printf("added command filter '%s' (%s, priority %d)\n", esc, f.action, f.priority);
		r = GH_EXIT_OK;
	}
out:
	for (int k = 0; k < GH_CFREF_COUNT; k++)
		free(f.refs[k]);
	gh_app_close(app);
	return r;
}

/* "a,b,@g" style cell: the names of kinds K1 and K2 (K2 prefixed), or ALL. */
static char *cell(const struct gh_cmdfilter_row *f, int k1, int k2, const char *pre2,
		  const char *all)
{
	size_t len = 8 + strlen(all);
	for (size_t i = 0; i < f->n_refs[k1]; i++)
		len += strlen(f->refs[k1][i]) + 2;
	for (size_t i = 0; k2 >= 0 && i < f->n_refs[k2]; i++)
		len += strlen(f->refs[k2][i]) + 2 + strlen(pre2);
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < f->n_refs[k1]; i++) {
		if (*s)
			strcat(s, ",");
		strcat(s, f->refs[k1][i]);
	}
	for (size_t i = 0; k2 >= 0 && i < f->n_refs[k2]; i++) {
		if (*s)
			strcat(s, ",");
		strcat(s, pre2);
		strcat(s, f->refs[k2][i]);
	}
	if (!*s)
		strcpy(s, all);
	return s;
}

static int filter_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_cmdfilter_row *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_cmdfilter_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list command filters");
		goto out;
	}
	json_t *arr = json_array();
	t = gh_table_new(7, "PRIO", "NAME", "ACTION", "CMDGROUPS", "WHO", "WHERE", "ACCOUNTS");
	for (size_t i = 0; arr && i < n; i++) {
		json_t *j = gh_cli_cmdfilter_json(&v[i]);
		json_array_append_new(arr, j);
		char prio[16];
		snprintf(prio, sizeof prio, "%d", v[i].priority);
		char *groups = cell(&v[i], GH_CFREF_CMDGROUP, -1, "", "-");
		char *whom = cell(&v[i], GH_CFREF_USER, GH_CFREF_UGROUP, "@", "all");
		char *where = cell(&v[i], GH_CFREF_ASSET, GH_CFREF_NODE, "", "all");
		char *acc = cell(&v[i], GH_CFREF_ACCOUNT, -1, "", "all");
		if (t)
			gh_table_add(t, prio, v[i].name, v[i].action, groups, whom, where, acc);
		free(groups);
		free(whom);
		free(where);
		free(acc);
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
	gh_cmdfilter_rows_free(v, n);
	gh_app_close(app);
	return r;
}

static int filter_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "command filter", gh_store_cmdfilter_del);
}

int gh_cmd_cmdfilter(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", filter_add }, { "list", filter_list }, { "del", filter_del }, { NULL, NULL }
	};
	return gh_cli_dispatch(cli, "cmdfilter", usage, verbs, argc, argv);
}
