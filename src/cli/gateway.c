/* gatehouse gateway: SSH assets through which other assets are reached. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/route.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse gateway add NAME --asset ASSET --account ACCOUNT\n"
	"  gatehouse gateway list [--json]\n"
	"  gatehouse gateway del NAME      (refused while an asset is reached through it)\n"
	"\n"
	"A gateway is an SSH asset inside a network Gatehouse cannot route to: Gatehouse\n"
	"logs into it as ACCOUNT with the stored secret and opens a direct-tcpip channel\n"
	"from there to each asset set with 'asset set NAME --gateway GATEWAY'. The\n"
	"gateway's asset may itself be reached through another gateway (a chain of at\n"
	"most 8, no cycles). Host keys are pinned at every hop (docs/GATEWAYS.md).\n";

enum { OPT_ASSET = 1000, OPT_ACCOUNT };

static int gateway_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "asset", required_argument, NULL, OPT_ASSET },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *asset = NULL, *account = NULL;
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	struct gh_account acct = { 0 };
	char esc[128];
	int c, r;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_ASSET)
			asset = optarg;
		else if (c == OPT_ACCOUNT)
			account = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --asset ASSET --account ACCOUNT")))
		return r;
	const char *name = argv[optind];
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad gateway name '%s'",
					  gh_escape(esc, sizeof esc, name));
	if (!asset || !account)
		return gh_cli_usage_error(cli, "give --asset ASSET and --account ACCOUNT");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_asset_get(app->store, asset, &a);
	if (r == 0)
		r = gh_store_account_get(app->store, a.id, account, &acct);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown asset '%s' or no account '%s' on it",
			     gh_escape(esc, sizeof esc, asset), account);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0)
		r = gh_store_gateway_add(app->store, name, a.id, account, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("gateway '%s' already exists", name);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add gateway '%s'", name);
	} else {
		printf("added gateway '%s' (%s@%s)\n", name, account, a.name);
		r = GH_EXIT_OK;
	}
out:
	gh_account_free(&acct);
	gh_asset_free(&a);
	gh_app_close(app);
	return r;
}

static int gateway_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_gateway *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_gateway_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list gateways");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++) {
			json_t *j = json_object();
			json_object_set_new(j, "name", json_string(v[i].name));
			json_object_set_new(j, "asset", json_string(v[i].asset_name));
			json_object_set_new(j, "account", json_string(v[i].account));
			json_object_set_new(j, "created_at", gh_cli_json_time(v[i].created_at));
			json_array_append_new(a, j);
		}
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(3, "NAME", "ASSET", "ACCOUNT");
	for (size_t i = 0; t && i < n; i++)
		gh_table_add(t, v[i].name, v[i].asset_name, v[i].account);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_gateways_free(v, n);
	gh_app_close(app);
	return r;
}

static int gateway_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "gateway", gh_store_gateway_del);
}

int gh_cli_asset_set_gateway(struct gh_app *app, int64_t asset_id, const char *asset,
			     const char *gateway)
{
	struct gh_gateway g = { 0 };
	char esc[128];
	int r = 0;
	if (*gateway)
		r = gh_store_gateway_get(app->store, gateway, &g);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown gateway '%s'", gh_escape(esc, sizeof esc, gateway));
		return GH_EXIT_FAIL;
	}
	if (r == 0)
		r = gh_store_asset_set_gateway(app->store, asset_id, g.id);
	gh_gateway_free(&g);
	if (r == GH_EINVAL) {
		gh_cli_error("asset '%s' cannot be reached through gateway '%s': that makes a cycle "
			     "or a chain longer than %d", asset, gateway, GH_ROUTE_MAX_HOPS);
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot set the gateway of '%s'", asset);
	return 0;
}

int gh_cmd_gateway(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", gateway_add }, { "list", gateway_list }, { "del", gateway_del },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "gateway", usage, verbs, argc, argv);
}
