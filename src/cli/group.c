/* gatehouse group: groups of users and their members. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/edit.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse group add NAME\n"
	"  gatehouse group list [--json]\n"
	"  gatehouse group show NAME [--json]\n"
	"  gatehouse group set NAME [--name NEW_NAME] [--members USER,...]\n"
	"  gatehouse group del NAME\n"
	"  gatehouse group member add GROUP USER\n"
	"  gatehouse group member del GROUP USER\n"
	"\n"
	"'group set' renames the group (its permissions and command filters follow\n"
	"it) and/or makes the listed users its only members (--members \"\" empties\n"
	"it), all or nothing.\n";

enum { OPT_NAME = 1000, OPT_MEMBERS };

static int get_group(struct gh_app *app, const char *name, struct gh_group *ret)
{
	char esc[80];
	int r = gh_store_group_get(app->store, name, ret);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown group '%s'", gh_escape(esc, sizeof esc, name));
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot read group '%s'", gh_escape(esc, sizeof esc, name));
	return 0;
}

static int group_add(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	char esc[80];
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 1, 1, "NAME")))
		return r;
	const char *name = argv[optind];
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad group name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, name));
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_group_add(app->store, name, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("group '%s' already exists", name);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add group '%s'", name);
	} else {
		printf("added group '%s'\n", name);
	}
	gh_app_close(app);
	return r;
}

json_t *gh_cli_group_json(struct gh_store *st, const struct gh_group *g, size_t *ret_n)
{
	struct gh_user *m = NULL;
	size_t n = 0;
	json_t *j = json_object(), *a = json_array();
	if (!j || !a) {
		json_decref(j);
		json_decref(a);
		return NULL;
	}
	if (gh_store_group_members(st, g->id, &m, &n) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_string(m[i].name));
	gh_users_free(m, n);
	json_object_set_new(j, "id", json_integer(g->id));
	json_object_set_new(j, "name", json_string(g->name));
	json_object_set_new(j, "members", a);
	json_object_set_new(j, "created_at", gh_cli_json_time(g->created_at));
	if (ret_n)
		*ret_n = n;
	return j;
}

static int group_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_group *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_group_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list groups");
		goto out;
	}
	json_t *a = json_array();
	t = gh_table_new(2, "NAME", "MEMBERS");
	for (size_t i = 0; a && i < n; i++) {
		size_t nm = 0;
		char num[32];
		json_t *g = gh_cli_group_json(app->store, &v[i], &nm);
		snprintf(num, sizeof num, "%zu", nm);
		if (t)
			gh_table_add(t, v[i].name, num);
		json_array_append_new(a, g);
	}
	if (json) {
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	json_decref(a);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_groups_free(v, n);
	gh_app_close(app);
	return r;
}

static int group_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_group g = { 0 };
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_group(app, argv[optind], &g)))
		goto out;
	json_t *j = gh_cli_group_json(app->store, &g, NULL);
	if (json) {
		r = gh_cli_json_print(j) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	gh_cli_field("name:", g.name);
	gh_cli_field("created:", gh_cli_time_text(g.created_at, tb, sizeof tb));
	json_t *m = json_object_get(j, "members"), *v;
	size_t i;
	printf("%-12s", "members:");
	json_array_foreach(m, i, v)
		printf(" %s", json_string_value(v));
	printf("%s\n", json_array_size(m) ? "" : " -");
	json_decref(j);
	r = GH_EXIT_OK;
out:
	gh_group_free(&g);
	gh_app_close(app);
	return r;
}

/* The users named in LIST ("a,b", "" for none) to ids in *RET (caller
 * frees). 0 or an exit status (message printed). */
static int member_ids(struct gh_app *app, const char *list, int64_t **ret, size_t *ret_n)
{
	char *dup = strdup(list), *save = NULL;
	int64_t *ids = calloc(strlen(list) / 2 + 1, sizeof *ids);
	size_t n = 0;
	int r = 0;

	if (!dup || !ids) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	for (char *w = strtok_r(dup, ",", &save); w && r == 0; w = strtok_r(NULL, ",", &save)) {
		struct gh_user u = { 0 };
		if ((r = gh_cli_user_get(app, w, &u)) == 0)
			ids[n++] = u.id;
		gh_user_free(&u);
	}
	if (r == 0) {
		*ret = ids;
		*ret_n = n;
		ids = NULL;
	}
out:
	free(ids);
	free(dup);
	return r;
}

static int group_set(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "members", required_argument, NULL, OPT_MEMBERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_group g = { 0 };
	const char *new_name = NULL, *members = NULL;
	int64_t *ids = NULL;
	size_t n_ids = 0;
	char esc[80];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_NAME)
			new_name = optarg;
		else if (c == OPT_MEMBERS)
			members = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME [--name NEW_NAME] [--members USER,...]")))
		return r;
	if (!new_name && !members)
		return gh_cli_usage_error(cli, "nothing to set: give --name NEW_NAME and/or "
					       "--members USER,...");
	if (new_name && !gh_valid_name(new_name))
		return gh_cli_usage_error(cli, "bad group name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, new_name));
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = get_group(app, argv[optind], &g)))
		goto out;
	if (members && (r = member_ids(app, members, &ids, &n_ids)))
		goto out;
	r = gh_store_group_update(app->store, g.id, new_name, members != NULL, ids, n_ids);
	if (r == GH_EEXIST) {
		gh_cli_error("group '%s' already exists", gh_escape(esc, sizeof esc, new_name));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot change group '%s'", g.name);
		goto out;
	}
	printf("changed group '%s'%s%s%s\n", g.name, new_name ? " (now '" : "",
	       new_name ? new_name : "", new_name ? "')" : "");
	r = GH_EXIT_OK;
out:
	free(ids);
	gh_group_free(&g);
	gh_app_close(app);
	return r;
}

static int group_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "group", gh_store_group_del);
}

static int member_change(struct gh_cli *cli, int argc, char **argv, bool add)
{
	struct gh_app *app = NULL;
	struct gh_group g = { 0 };
	struct gh_user u = { 0 };
	char esc[80];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 2, 2, "GROUP USER",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_group(app, argv[optind], &g)))
		goto out;
	r = gh_store_user_get(app->store, argv[optind + 1], &u);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown user '%s'", gh_escape(esc, sizeof esc, argv[optind + 1]));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0)
		r = add ? gh_store_group_member_add(app->store, g.id, u.id)
			: gh_store_group_member_del(app->store, g.id, u.id);
	if (r == GH_EEXIST || r == GH_ENOENT) {
		gh_cli_error("user '%s' is %s a member of group '%s'", u.name,
			     add ? "already" : "not", g.name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot change the members of group '%s'", g.name);
		goto out;
	}
	printf("%s user '%s' %s group '%s'\n", add ? "added" : "removed", u.name, add ? "to" : "from",
	       g.name);
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_group_free(&g);
	gh_app_close(app);
	return r;
}

static int member_add(struct gh_cli *cli, int argc, char **argv)
{
	return member_change(cli, argc, argv, true);
}

static int member_del(struct gh_cli *cli, int argc, char **argv)
{
	return member_change(cli, argc, argv, false);
}

static int group_member(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", member_add }, { "del", member_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "group member", usage, verbs, argc, argv);
}

int gh_cmd_group(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", group_add }, { "list", group_list },	  { "show", group_show },
		{ "set", group_set }, { "del", group_del },	  { "member", group_member },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "group", usage, verbs, argc, argv);
}
