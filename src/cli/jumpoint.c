/* gatehouse jumpoint: agents inside remote networks (docs/JUMPOINTS.md). */
#include "app/app.h"
#include "cli/cli.h"
#include "cli/jumpoint_run.h"
#include "core/error.h"
#include "core/util.h"
#include "store/jumpoint.h"
#include "store/store.h"
#include "web/http.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse jumpoint add NAME [--clustered] [--comment TEXT]\n"
	"  gatehouse jumpoint token NAME     (an install token for another node)\n"
	"  gatehouse jumpoint list [--json]\n"
	"  gatehouse jumpoint del NAME       (refused while assets are reached through it)\n"
	"  gatehouse jumpoint disable|enable NAME\n"
	"  gatehouse jumpoint run --bastion HOST:PORT --token TOKEN --state DIR\n"
	"  gatehouse jumpoint run --state DIR [--print-unit]   (the agent, in the remote network)\n"
	"\n"
	"A jumpoint is an agent inside a network Gatehouse cannot route to; it dials\n"
	"out to the SSH front door. 'add' and 'token' print an install token (one use,\n"
	"valid 24 hours, only its hash is kept) as 'token: TOKEN' and the command to\n"
	"run in the remote network. A clustered jumpoint has up to 10 nodes, one token\n"
	"each. Assets: 'asset set NAME --jumpoint JUMPOINT' (docs/JUMPOINTS.md).\n";

#define TOKEN_PREFIX "ghj_"

/* A fresh token for a node of JP: the row keeps its hash; printed once. */
static int issue_token(struct gh_app *app, const struct gh_jumpoint *jp)
{
	char tok[80], hash[65];
	int r;
	gh_web_random(TOKEN_PREFIX, tok, sizeof tok);
	gh_web_hash(tok, hash);
	r = gh_store_jumpoint_node_add(app->store, jp->id, jp->clustered, hash,
				       gh_now() + GH_JUMPOINT_TOKEN_TTL, NULL);
	if (r == GH_ELIMIT) {
		gh_cli_error("jumpoint '%s' has all the nodes it may have (%d)%s", jp->name,
			     jp->clustered ? GH_JUMPOINT_MAX_NODES : 1,
			     jp->clustered ? "" : ": add it with --clustered for more");
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot make a token for '%s'", jp->name);
	} else {
		printf("token: %s\n", tok);
		printf("expires: in 24 hours, one use\n");
		printf("run in the remote network, as any user:\n"
		       "  gatehouse jumpoint run --bastion %s --token %s --state ~/.gatehouse-jumpoint\n",
		       app->cfg.ssh_listen ? app->cfg.ssh_listen : "HOST:PORT", tok);
		r = GH_EXIT_OK;
	}
	sodium_memzero(tok, sizeof tok);
	return r;
}

static int jumpoint_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "clustered", no_argument, NULL, 'c' },
		{ "comment", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *comment = "";
	bool clustered = false;
	struct gh_app *app = NULL;
	struct gh_jumpoint jp = { 0 };
	char esc[128];
	int c, r;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'c')
			clustered = true;
		else if (c == 'm')
			comment = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME [--clustered] [--comment TEXT]")))
		return r;
	const char *name = argv[optind];
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad jumpoint name '%s'",
					  gh_escape(esc, sizeof esc, name));
	if (!gh_asset_valid_comment(comment))
		return gh_cli_usage_error(cli, "bad --comment: at most 1024 characters, no control "
					       "characters");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_jumpoint_add(app->store, name, clustered, comment, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("jumpoint '%s' already exists", name);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add jumpoint '%s'", name);
	} else if ((r = gh_store_jumpoint_get(app->store, name, &jp)) < 0) {
		r = gh_cli_fail(app, r, "cannot read jumpoint '%s'", name);
	} else {
		printf("added jumpoint '%s'%s\n", name, clustered ? " (clustered)" : "");
		r = issue_token(app, &jp);
	}
	gh_jumpoint_free(&jp);
	gh_app_close(app);
	return r;
}

/* The jumpoint named by the one positional argument into *JP. */
static bool start_named(struct gh_cli *cli, int argc, char **argv, struct gh_app **app,
			struct gh_jumpoint *jp, int *status)
{
	char esc[128];
	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME", GH_APP_NO_VAULT, app, status))
		return false;
	int r = gh_store_jumpoint_get((*app)->store, argv[optind], jp);
	if (r == 0)
		return true;
	if (r == GH_ENOENT) {
		gh_cli_error("unknown jumpoint '%s'", gh_escape(esc, sizeof esc, argv[optind]));
		*status = GH_EXIT_FAIL;
	} else {
		*status = gh_cli_fail(*app, r, "cannot read jumpoint");
	}
	gh_app_close(*app);
	*app = NULL;
	return false;
}

static int jumpoint_token(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_jumpoint jp = { 0 };
	int r = 0;
	if (!start_named(cli, argc, argv, &app, &jp, &r))
		return r;
	r = issue_token(app, &jp);
	gh_jumpoint_free(&jp);
	gh_app_close(app);
	return r;
}

static json_t *node_json(const struct gh_jumpoint_node *n)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(n->id));
	json_object_set_new(j, "registered", json_boolean(n->registered));
	json_object_set_new(j, "host", json_string(n->host));
	json_object_set_new(j, "version", json_string(n->version));
	json_object_set_new(j, "connected", json_boolean(n->connected));
	json_object_set_new(j, "connected_since", gh_cli_json_time(n->connected_since));
	json_object_set_new(j, "last_seen", gh_cli_json_time(n->last_seen));
	json_object_set_new(j, "sessions", json_integer(n->sessions));
	if (!n->registered)
		json_object_set_new(j, "token_expires", gh_cli_json_time(n->token_expires));
	return j;
}

static json_t *jumpoint_json(const struct gh_jumpoint *jp)
{
	json_t *j = json_object(), *nodes = json_array();
	for (size_t i = 0; i < jp->n_nodes; i++)
		json_array_append_new(nodes, node_json(&jp->nodes[i]));
	json_object_set_new(j, "name", json_string(jp->name));
	json_object_set_new(j, "clustered", json_boolean(jp->clustered));
	json_object_set_new(j, "enabled", json_boolean(!jp->disabled));
	json_object_set_new(j, "comment", json_string(jp->comment));
	json_object_set_new(j, "created_at", gh_cli_json_time(jp->created_at));
	json_object_set_new(j, "nodes", nodes);
	return j;
}

static void jumpoint_row(struct gh_table *t, const struct gh_jumpoint *jp)
{
	char nodes[32], conn[32];
	size_t up = 0;
	for (size_t i = 0; i < jp->n_nodes; i++)
		up += jp->nodes[i].connected;
	snprintf(nodes, sizeof nodes, "%zu", jp->n_nodes);
	snprintf(conn, sizeof conn, "%zu", up);
	gh_table_add(t, jp->name, jp->clustered ? "yes" : "no", jp->disabled ? "no" : "yes", nodes,
		     conn, jp->comment);
}

static int jumpoint_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_jumpoint *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_jumpoint_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list jumpoints");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, jumpoint_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(6, "NAME", "CLUSTERED", "ENABLED", "NODES", "CONNECTED", "COMMENT");
	for (size_t i = 0; t && i < n; i++)
		jumpoint_row(t, &v[i]);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_jumpoints_free(v, n);
	gh_app_close(app);
	return r;
}

static int jumpoint_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "jumpoint", gh_store_jumpoint_del);
}

static int set_enabled(struct gh_cli *cli, int argc, char **argv, bool enable)
{
	struct gh_app *app = NULL;
	struct gh_jumpoint jp = { 0 };
	int r = 0;
	if (!start_named(cli, argc, argv, &app, &jp, &r))
		return r;
	r = gh_store_jumpoint_set_disabled(app->store, jp.name, !enable);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot change jumpoint '%s'", jp.name);
	} else {
		printf("%s jumpoint '%s'\n", enable ? "enabled" : "disabled", jp.name);
		r = GH_EXIT_OK;
	}
	gh_jumpoint_free(&jp);
	gh_app_close(app);
	return r;
}

static int jumpoint_disable(struct gh_cli *cli, int argc, char **argv)
{
	return set_enabled(cli, argc, argv, false);
}

static int jumpoint_enable(struct gh_cli *cli, int argc, char **argv)
{
	return set_enabled(cli, argc, argv, true);
}

int gh_cli_asset_set_jumpoint(struct gh_app *app, int64_t asset_id, const char *asset,
			      const char *jumpoint)
{
	struct gh_jumpoint jp = { 0 };
	char esc[128];
	int r = 0;
	if (*jumpoint)
		r = gh_store_jumpoint_get(app->store, jumpoint, &jp);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown jumpoint '%s'", gh_escape(esc, sizeof esc, jumpoint));
		return GH_EXIT_FAIL;
	}
	if (r == 0)
		r = gh_store_asset_set_jumpoint(app->store, asset_id, jp.id);
	gh_jumpoint_free(&jp);
	if (r < 0)
		return gh_cli_fail(app, r, "cannot set the jumpoint of '%s'", asset);
	return 0;
}

int gh_cmd_jumpoint(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", jumpoint_add },	 { "token", jumpoint_token },
		{ "list", jumpoint_list },	 { "del", jumpoint_del },
		{ "disable", jumpoint_disable }, { "enable", jumpoint_enable },
		{ "run", gh_cli_jumpoint_run },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "jumpoint", usage, verbs, argc, argv);
}
