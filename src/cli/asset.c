/* gatehouse asset: hosts reached through Gatehouse. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse asset add NAME --address HOST [--port N] [--platform linux]\n"
	"                      [--protocols ssh,sftp] [--node /PATH]... [--comment TEXT]\n"
	"                      [--host-key \"TYPE BASE64\"]\n"
	"  gatehouse asset list [--json]\n"
	"  gatehouse asset show NAME [--json]\n"
	"  gatehouse asset del NAME      (also deletes its accounts)\n"
	"\n"
	"Defaults: port 22, platform linux, protocols ssh,sftp. --address may carry the\n"
	"port (host:port, [v6]:port). Without --node the asset sits at the top of the\n"
	"tree (\"/\") in no node: permissions reach it by --asset only. --host-key pins\n"
	"the target's host key; without it the key is pinned on first use.\n"
	"Platforms: linux unix windows macos network-device mysql postgresql other.\n";

enum { OPT_ADDRESS = 1000, OPT_PORT, OPT_PLATFORM, OPT_PROTOCOLS, OPT_NODE, OPT_COMMENT,
       OPT_HOST_KEY };

static const char *const platforms[] = { "linux", "unix", "windows", "macos", "network-device",
					 "mysql", "postgresql", "other", NULL };

static bool valid_host(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253 || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%'))
			return false;
	}
	return true;
}

static bool valid_comment(const char *s)
{
	if (strlen(s) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int asset_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "protocols", required_argument, NULL, OPT_PROTOCOLS },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "comment", required_argument, NULL, OPT_COMMENT },
		{ "host-key", required_argument, NULL, OPT_HOST_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	const char *address = NULL, *platform = "linux", *comment = NULL, *host_key = NULL;
	const char **nodes = NULL;
	int64_t *node_ids = NULL;
	size_t n_nodes = 0;
	char *host = NULL, *hk = NULL;
	struct gh_pubkey pk = { 0 };
	uint32_t protocols = GH_PROTO_SSH | GH_PROTO_SFTP;
	long long port = 0;
	char esc[128], err[256];
	int c, r = 0;
	int64_t id = 0;

	nodes = calloc((size_t)argc, sizeof *nodes);
	node_ids = calloc((size_t)argc, sizeof *node_ids);
	if (!nodes || !node_ids) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ADDRESS:
			address = optarg;
			break;
		case OPT_PORT:
			if ((r = gh_cli_parse_int(cli, "--port", optarg, 1, 65535, &port)))
				goto out;
			break;
		case OPT_PLATFORM:
			platform = optarg;
			break;
		case OPT_PROTOCOLS:
			if ((r = gh_cli_parse_protocols(cli, "--protocols", optarg, &protocols)))
				goto out;
			break;
		case OPT_NODE:
			nodes[n_nodes++] = optarg;
			break;
		case OPT_COMMENT:
			comment = optarg;
			break;
		case OPT_HOST_KEY:
			host_key = optarg;
			break;
		case 'h':
			r = gh_cli_help(cli);
			goto out;
		default:
			r = gh_cli_bad_option(cli, c, argv);
			goto out;
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --address HOST [options]")))
		goto out;
	const char *name = argv[optind];
	if (!gh_valid_name(name)) {
		r = gh_cli_usage_error(cli, "bad asset name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					    "(not starting with -)",
				       gh_escape(esc, sizeof esc, name));
		goto out;
	}
	if (!address) {
		r = gh_cli_usage_error(cli, "give the asset's address with --address HOST");
		goto out;
	}
	int p = port ? (int)port : 22;
	if (gh_parse_hostport(address, &host, &p) < 0 || !valid_host(host)) {
		r = gh_cli_usage_error(cli, "bad address '%s': expected HOST, HOST:PORT or [IPv6]:PORT "
					    "with a port from 1 to 65535",
				       gh_escape(esc, sizeof esc, address));
		goto out;
	}
	if (port && p != port) {
		r = gh_cli_usage_error(cli, "the port is given twice (--address %s and --port %lld)",
				       gh_escape(esc, sizeof esc, address), port);
		goto out;
	}
	bool known = false;
	for (size_t i = 0; platforms[i]; i++)
		known = known || !strcmp(platforms[i], platform);
	if (!known) {
		r = gh_cli_usage_error(cli, "unknown platform '%s': expected linux, unix, windows, macos, "
					    "network-device, mysql, postgresql or other",
				       gh_escape(esc, sizeof esc, platform));
		goto out;
	}
	if (comment && !valid_comment(comment)) {
		r = gh_cli_usage_error(cli, "bad --comment: at most 1024 characters, no control "
					    "characters");
		goto out;
	}
	if (host_key) {
		if (gh_pubkey_parse_line(host_key, &pk, err, sizeof err) < 0 || pk.comment[0]) {
			r = gh_cli_usage_error(cli, "bad --host-key '%s': %s", gh_escape(esc, sizeof esc, host_key),
					       pk.type ? "expected exactly 'TYPE BASE64'" : err);
			goto out;
		}
		if (asprintf(&hk, "%s %s", pk.type, pk.base64) < 0) {
			hk = NULL;
			r = GH_EXIT_FAIL;
			goto out;
		}
	}
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	size_t n_ids = 0;
	for (size_t i = 0; i < n_nodes; i++) {
		struct gh_node nd = { 0 };
		char *norm = NULL;
		if (gh_node_path_normalize(nodes[i], &norm) < 0) {
			r = gh_cli_usage_error(cli, "bad node path '%s'", gh_escape(esc, sizeof esc, nodes[i]));
			goto out;
		}
		bool root = !strcmp(norm, "/");
		free(norm);
		if (root) /* the top of the tree: no node */
			continue;
		r = gh_store_node_get(app->store, nodes[i], &nd);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown node '%s' (add it with 'gatehouse node add %s')",
				     gh_escape(esc, sizeof esc, nodes[i]), gh_escape(esc, sizeof esc, nodes[i]));
			r = GH_EXIT_FAIL;
			goto out;
		}
		if (r < 0) {
			r = gh_cli_fail(app, r, "cannot read node '%s'", nodes[i]);
			goto out;
		}
		bool dup = false;
		for (size_t k = 0; k < n_ids; k++)
			dup = dup || node_ids[k] == nd.id;
		if (!dup)
			node_ids[n_ids++] = nd.id;
		gh_node_free(&nd);
	}
	a.name = (char *)name;
	a.address = host;
	a.port = p;
	a.platform = (char *)platform;
	a.protocols = protocols;
	a.comment = (char *)comment;
	a.host_key = hk;
	r = gh_store_asset_add(app->store, &a, &id);
	if (r == GH_EEXIST) {
		gh_cli_error("asset '%s' already exists", name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add asset '%s'", name);
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		r = gh_store_asset_node_add(app->store, id, node_ids[i]);
		if (r < 0) {
			gh_store_asset_del(app->store, name); /* all or nothing */
			r = gh_cli_fail(app, r, "cannot place asset '%s' in its nodes", name);
			goto out;
		}
	}
	printf("added asset '%s' (%s port %d)\n", name, host, p);
	r = GH_EXIT_OK;
out:
	gh_pubkey_clear(&pk);
	free(hk);
	free(host);
	free(nodes);
	free(node_ids);
	gh_app_close(app);
	return r;
}

static json_t *asset_json(const struct gh_asset *a)
{
	json_t *j = json_object(), *nodes = json_array();
	if (!j || !nodes) {
		json_decref(j);
		json_decref(nodes);
		return NULL;
	}
	for (size_t i = 0; i < a->n_nodes; i++)
		json_array_append_new(nodes, json_string(a->nodes[i]));
	json_object_set_new(j, "id", json_integer(a->id));
	json_object_set_new(j, "name", json_string(a->name));
	json_object_set_new(j, "address", json_string(a->address));
	json_object_set_new(j, "port", json_integer(a->port));
	json_object_set_new(j, "platform", json_string(a->platform));
	json_object_set_new(j, "protocols", gh_cli_json_protocols(a->protocols));
	json_object_set_new(j, "nodes", nodes);
	json_object_set_new(j, "comment", gh_cli_json_str(a->comment));
	json_object_set_new(j, "host_key", gh_cli_json_str(a->host_key));
	json_object_set_new(j, "created_at", gh_cli_json_time(a->created_at));
	return j;
}

/* "/a,/b" or "/" when the asset sits in no node. Caller frees. */
static char *nodes_text(const struct gh_asset *a)
{
	size_t len = 2;
	for (size_t i = 0; i < a->n_nodes; i++)
		len += strlen(a->nodes[i]) + 1;
	char *s = malloc(len);
	size_t o = 0;
	if (!s)
		return NULL;
	snprintf(s, len, "%s", a->n_nodes ? "" : "/");
	for (size_t i = 0; i < a->n_nodes; i++) {
		o = strlen(s);
		snprintf(s + o, len - o, "%s%s", i ? "," : "", a->nodes[i]);
	}
	return s;
}

static int asset_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_asset *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_asset_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list assets");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, asset_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(6, "NAME", "ADDRESS", "PORT", "PLATFORM", "PROTOCOLS", "NODES");
	for (size_t i = 0; t && i < n; i++) {
		char port[16], protos[128];
		char *nt = nodes_text(&v[i]);
		snprintf(port, sizeof port, "%d", v[i].port);
		gh_table_add(t, v[i].name, v[i].address, port, v[i].platform,
			     gh_protocols_format(v[i].protocols, protos, sizeof protos), nt);
		free(nt);
	}
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_assets_free(v, n);
	gh_app_close(app);
	return r;
}

static int asset_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	struct gh_account *acc = NULL;
	size_t nacc = 0;
	bool json = false;
	char esc[128], tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_asset_get(app->store, argv[optind], &a);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown asset '%s'", gh_escape(esc, sizeof esc, argv[optind]));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0)
		r = gh_store_account_list(app->store, a.id, &acc, &nacc);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot read asset '%s'", argv[optind]);
		goto out;
	}
	if (json) {
		json_t *j = asset_json(&a), *accounts = json_array();
		for (size_t i = 0; accounts && i < nacc; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "username", json_string(acc[i].username));
			json_object_set_new(o, "secret", json_string(acc[i].secret_kind == GH_SECRET_KEY
									  ? "key" : "password"));
			json_array_append_new(accounts, o);
		}
		if (j)
			json_object_set_new(j, "accounts", accounts);
		else
			json_decref(accounts);
		r = gh_cli_json_print(j) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	char port[16], protos[128];
	char *nt = nodes_text(&a);
	snprintf(port, sizeof port, "%d", a.port);
	gh_cli_field("name:", a.name);
	gh_cli_field("address:", a.address);
	gh_cli_field("port:", port);
	gh_cli_field("platform:", a.platform);
	gh_cli_field("protocols:", gh_protocols_format(a.protocols, protos, sizeof protos));
	gh_cli_field("nodes:", nt);
	gh_cli_field("comment:", a.comment);
	gh_cli_field("host key:", a.host_key ? a.host_key : "not pinned yet");
	gh_cli_field("created:", gh_cli_time_text(a.created_at, tb, sizeof tb));
	free(nt);
	printf("accounts:%s\n", nacc ? "" : "    -");
	for (size_t i = 0; i < nacc; i++)
		printf("  %s (secret: %s)\n", acc[i].username,
		       acc[i].secret_kind == GH_SECRET_KEY ? "key" : "password");
	r = GH_EXIT_OK;
out:
	gh_accounts_free(acc, nacc);
	gh_asset_free(&a);
	gh_app_close(app);
	return r;
}

static int asset_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "asset", gh_store_asset_del);
}

int gh_cmd_asset(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", asset_add }, { "list", asset_list }, { "show", asset_show },
		{ "del", asset_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "asset", usage, verbs, argc, argv);
}
