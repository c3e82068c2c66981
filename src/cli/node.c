/* gatehouse node: the asset tree. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse node add /PATH     (creates missing parents: /a/b adds /a too)\n"
	"  gatehouse node list [--json]\n"
	"  gatehouse node del /PATH     (refused while it has child nodes or assets)\n"
	"  gatehouse node set /PATH --approvers GROUP|--no-approvers\n"
	"\n"
	"Members of a node's approvers group approve or deny access requests for the\n"
	"assets at or under the node (not their own); admins decide all of them.\n"
	"\n"
	"Each path segment is 1-64 of A-Z a-z 0-9 . _ -. Assets added without --node\n"
	"sit at the top of the tree (listed as \"/\") and belong to no node.\n";

int gh_cli_node_path_check(const char *in, char **ret, char *err, size_t errlen)
{
	char *norm = NULL, *dup = NULL, *save = NULL;
	char esc[128];
	int r = GH_EINVAL;

	if (gh_node_path_normalize(in, &norm) < 0) {
		snprintf(err, errlen, "bad node path '%s': expected /NAME[/NAME...]",
			 gh_escape(esc, sizeof esc, in));
		goto out;
	}
	if (!strcmp(norm, "/")) {
		snprintf(err, errlen, "'/' is the root of the tree; name a node under it, like /prod");
		goto out;
	}
	if (!(dup = strdup(norm))) {
		snprintf(err, errlen, "out of memory");
		r = GH_ENOMEM;
		goto out;
	}
	for (char *s = strtok_r(dup, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (!gh_valid_name(s)) {
			snprintf(err, errlen, "bad node path '%s': segment '%.64s' must be 1-64 of "
					      "A-Z a-z 0-9 . _ - (not starting with -)",
				 gh_escape(esc, sizeof esc, in), s);
			goto out;
		}
	}
	*ret = norm;
	norm = NULL;
	r = 0;
out:
	free(dup);
	free(norm);
	return r;
}

/* Check and normalise a node path given on the command line. */
static int node_path(const struct gh_cli *cli, const char *in, char **ret)
{
	char err[512];
	int r = gh_cli_node_path_check(in, ret, err, sizeof err);
	if (r == GH_EINVAL)
		return gh_cli_usage_error(cli, "%s", err);
	return r < 0 ? GH_EXIT_FAIL : 0;
}

json_t *gh_cli_node_json(struct gh_store *st, const struct gh_node *nd, const int64_t *pn,
			 size_t np)
{
	size_t count = 0;
	char *ap = NULL;
	for (size_t k = 0; k < np; k++)
		count += pn[k] == nd->id;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(nd->id));
	json_object_set_new(o, "path", json_string(nd->path));
	json_object_set_new(o, "assets", json_integer((json_int_t)count));
	if (gh_store_node_approvers(st, nd->path, &ap) == 0)
		json_object_set_new(o, "approvers", gh_cli_json_str(ap));
	free(ap);
	return o;
}

static int node_add(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	char *path = NULL;
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 1, 1, "/PATH")) ||
	    (r = node_path(cli, argv[optind], &path)))
		return r;
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_store_node_add(app->store, path, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("node '%s' already exists", path);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add node '%s'", path);
	} else {
		printf("added node '%s'\n", path);
	}
out:
	free(path);
	gh_app_close(app);
	return r;
}

static int node_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_node *v = NULL;
	int64_t *pa = NULL, *pn = NULL;
	size_t n = 0, np = 0;
	struct gh_table *t = NULL;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_node_list(app->store, &v, &n);
	if (r == 0)
		r = gh_store_asset_node_pairs(app->store, &pa, &pn, &np);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list nodes");
		goto out;
	}
	json_t *a = json_array();
	t = gh_table_new(2, "PATH", "ASSETS");
	for (size_t i = 0; a && i < n; i++) {
		char num[32];
		json_t *o = gh_cli_node_json(app->store, &v[i], pn, np);
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(
							   json_object_get(o, "assets")));
		json_array_append_new(a, o);
		if (t)
			gh_table_add(t, v[i].path, num);
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
	free(pa);
	free(pn);
	gh_nodes_free(v, n);
	gh_app_close(app);
	return r;
}

static int node_del(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	char *path = NULL;
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 1, 1, "/PATH")) ||
	    (r = node_path(cli, argv[optind], &path)))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_store_node_del(app->store, path);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown node '%s'", path);
		r = GH_EXIT_FAIL;
	} else if (r == GH_EBUSY) {
		gh_cli_error("node '%s' is not empty: delete its child nodes and move or delete its "
			     "assets first", path);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot delete node '%s'", path);
	} else {
		printf("deleted node '%s'\n", path);
	}
out:
	free(path);
	gh_app_close(app);
	return r;
}

enum { OPT_APPROVERS = 1000, OPT_NO_APPROVERS };

static int node_set(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "approvers", required_argument, NULL, OPT_APPROVERS },
		{ "no-approvers", no_argument, NULL, OPT_NO_APPROVERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	char *path = NULL;
	const char *group = NULL;
	bool none = false;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_APPROVERS)
			group = optarg;
		else if (c == OPT_NO_APPROVERS)
			none = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "/PATH --approvers GROUP|--no-approvers")))
		return r;
	if (none == (group != NULL))
		return gh_cli_usage_error(cli, "give exactly one of --approvers GROUP or "
					       "--no-approvers");
	if ((r = node_path(cli, argv[optind], &path)))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_store_node_set_approvers(app->store, path, group);
	if (r == GH_ENOENT) {
		gh_cli_error("no node '%s' or no such group", path);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot set node '%s'", path);
	} else {
		printf("node '%s': approvers %s\n", path, group ? group : "none");
	}
out:
	free(path);
	gh_app_close(app);
	return r;
}

int gh_cmd_node(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", node_add }, { "list", node_list }, { "del", node_del },
		{ "set", node_set }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "node", usage, verbs, argc, argv);
}
