/* gatehouse asset: hosts reached through Gatehouse. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/edit.h"
#include "store/store.h"
#include "store/telnetstore.h"
#include "target/telnet.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse asset add NAME --address HOST [--port N] [--platform linux]\n"
	"                      [--protocols ssh,sftp] [--node /PATH]... [--comment TEXT]\n"
	"                      [--host-key \"TYPE BASE64\"] [TELNET PROMPTS]\n"
	"                      [--gateway NAME | --jumpoint NAME]\n"
	"  gatehouse asset set NAME [--address HOST] [--port N] [--platform P]\n"
	"                      [--protocols LIST] [--node /PATH]... [--comment TEXT]\n"
	"                      [--host-key \"TYPE BASE64\" | --forget-host-key]\n"
	"                      [TELNET PROMPTS]\n"
	"                      [--gateway NAME | --jumpoint NAME]   (\"\": reached directly)\n"
	"  gatehouse asset list [--json]\n"
	"  gatehouse asset show NAME [--json]\n"
	"  gatehouse asset del NAME      (also deletes its accounts)\n"
	"\n"
	"TELNET PROMPTS (PCRE2, matched at the end of what a telnet target printed;\n"
	"\"\" goes back to the platform's default): --login-prompt RE\n"
	"--password-prompt RE --shell-prompt RE. See docs/TELNET.md.\n"
	"Defaults: port 22 (23 with --protocols telnet), platform linux, protocols ssh,sftp. --address may carry the\n"
	"port (host:port, [v6]:port). Without --node the asset sits at the top of the\n"
	"tree (\"/\") in no node: permissions reach it by --asset only. --host-key pins\n"
	"the target's host key; without it the key is pinned on first use.\n"
	"'asset set' changes only what it is given, keeping the accounts: --node\n"
	"replaces the whole node list (--node / for none), --comment \"\" clears the\n"
	"comment, --forget-host-key unpins the key so the next login pins the one the\n"
	"target shows (after a legitimate key change).\n"
	"Platforms: linux unix windows macos network-device mysql postgresql other.\n";

enum { OPT_ADDRESS = 1000, OPT_PORT, OPT_PLATFORM, OPT_PROTOCOLS, OPT_NODE, OPT_COMMENT,
       OPT_HOST_KEY, OPT_FORGET_HOST_KEY, OPT_LOGIN_PROMPT, OPT_PASSWORD_PROMPT,
       OPT_SHELL_PROMPT, OPT_GATEWAY, OPT_JUMPOINT };

/* The options of add and set: one table, one parser (asset_parse). */
static const struct option asset_opts[] = {
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "protocols", required_argument, NULL, OPT_PROTOCOLS },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "comment", required_argument, NULL, OPT_COMMENT },
	{ "host-key", required_argument, NULL, OPT_HOST_KEY },
	{ "forget-host-key", no_argument, NULL, OPT_FORGET_HOST_KEY },
	{ "login-prompt", required_argument, NULL, OPT_LOGIN_PROMPT },
	{ "password-prompt", required_argument, NULL, OPT_PASSWORD_PROMPT },
	{ "shell-prompt", required_argument, NULL, OPT_SHELL_PROMPT },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "jumpoint", required_argument, NULL, OPT_JUMPOINT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What add or set was given, checked. Strings from argv are borrowed;
 * HOST, HOST_KEY and the arrays are owned (asset_args_clear). */
struct asset_args {
	const char *name;
	char *host;               /* from --address, NULL when not given */
	long long port;           /* --port or the one in --address; 0 when neither */
	const char *platform, *comment;
	uint32_t protocols;       /* 0 when not given */
	char *host_key;           /* "TYPE BASE64" */
	bool forget_host_key;
	const char *gateway;      /* --gateway, NULL when not given */
	const char *jumpoint;     /* --jumpoint, NULL when not given */
	const char **nodes;       /* --node values */
	size_t n_nodes;
	int64_t *node_ids;        /* resolved by asset_nodes(); the root adds none */
	size_t n_ids;
	struct gh_asset_telnet prompts; /* borrowed strings; NULL when not given */
	bool set_prompts;
};

static void asset_args_clear(struct asset_args *a)
{
	free(a->host);
	free(a->host_key);
	free(a->nodes);
	free(a->node_ids);
	memset(a, 0, sizeof *a);
}

static const char *const platforms[] = { "linux", "unix", "windows", "macos", "network-device",
					 "mysql", "postgresql", "redis", "other", NULL };

bool gh_asset_platform_known(const char *p)
{
	for (size_t i = 0; platforms[i]; i++)
		if (!strcmp(platforms[i], p))
			return true;
	return false;
}

bool gh_asset_valid_host(const char *h)
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

bool gh_asset_valid_comment(const char *s)
{
	if (strlen(s) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* --address (with the port it may carry) against --port into A. */
static int check_address(const struct gh_cli *cli, const char *address, struct asset_args *a)
{
	char esc[128];
	enum { NO_PORT = 65536 }; /* kept by gh_parse_hostport when ADDRESS has none */
	int p = a->port ? (int)a->port : NO_PORT;
	if (gh_parse_hostport(address, &a->host, &p) < 0 || !gh_asset_valid_host(a->host))
		return gh_cli_usage_error(cli, "bad address '%s': expected HOST, HOST:PORT or [IPv6]:PORT "
					       "with a port from 1 to 65535",
					  gh_escape(esc, sizeof esc, address));
	if (a->port && p != a->port)
		return gh_cli_usage_error(cli, "the port is given twice (--address %s and --port %lld)",
					  gh_escape(esc, sizeof esc, address), a->port);
	if (p != NO_PORT)
		a->port = p;
	return 0;
}

static int check_host_key(const struct gh_cli *cli, const char *line, struct asset_args *a)
{
	struct gh_pubkey pk = { 0 };
	char esc[128], err[256];
	int r = 0;
	if (gh_pubkey_parse_line(line, &pk, err, sizeof err) < 0 || pk.comment[0]) {
		r = gh_cli_usage_error(cli, "bad --host-key '%s': %s", gh_escape(esc, sizeof esc, line),
				       pk.type ? "expected exactly 'TYPE BASE64'" : err);
	} else if (asprintf(&a->host_key, "%s %s", pk.type, pk.base64) < 0) {
		a->host_key = NULL;
		r = GH_EXIT_FAIL;
	}
	gh_pubkey_clear(&pk);
	return r;
}

/* Everything but the options' own syntax, once argv is read. */
static int check_args(const struct gh_cli *cli, const char *address, const char *host_key,
		      struct asset_args *a)
{
	char esc[128];
	int r;
	if (!gh_valid_name(a->name))
		return gh_cli_usage_error(cli, "bad asset name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, a->name));
	if (address && (r = check_address(cli, address, a)))
		return r;
	if (a->platform && !gh_asset_platform_known(a->platform))
		return gh_cli_usage_error(cli, "unknown platform '%s': expected linux, unix, windows, "
					       "macos, network-device, mysql, postgresql, redis or other",
					  gh_escape(esc, sizeof esc, a->platform));
	if (a->comment && !gh_asset_valid_comment(a->comment))
		return gh_cli_usage_error(cli, "bad --comment: at most 1024 characters, no control "
					       "characters");
	if (host_key && a->forget_host_key)
		return gh_cli_usage_error(cli, "give either --host-key or --forget-host-key, not both");
	if (host_key)
		return check_host_key(cli, host_key, a);
	return 0;
}

/* A telnet prompt option: a pattern PCRE2 compiles, or "" (the default). */
static int prompt_arg(const struct gh_cli *cli, int opt, char *pattern, struct asset_args *a)
{
	char err[200];
	const char *name = opt == OPT_LOGIN_PROMPT ? "--login-prompt"
			   : opt == OPT_PASSWORD_PROMPT ? "--password-prompt" : "--shell-prompt";
	if (pattern[0] && gh_telnet_prompt_check(pattern, err, sizeof err) < 0)
		return gh_cli_usage_error(cli, "bad %s: %s", name, err);
	if (opt == OPT_LOGIN_PROMPT)
		a->prompts.login_prompt = pattern;
	else if (opt == OPT_PASSWORD_PROMPT)
		a->prompts.password_prompt = pattern;
	else
		a->prompts.shell_prompt = pattern;
	a->set_prompts = true;
	return 0;
}

/* Read add's or set's (SET) options and NAME into A. 0, an exit status
 * (message printed), or -1 after --help was printed. */
static int asset_parse(const struct gh_cli *cli, int argc, char **argv, bool set,
		       struct asset_args *a)
{
	const char *address = NULL, *host_key = NULL;
	int c, r;

	a->nodes = calloc((size_t)argc, sizeof *a->nodes);
	a->node_ids = calloc((size_t)argc, sizeof *a->node_ids);
	if (!a->nodes || !a->node_ids)
		return GH_EXIT_FAIL;
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", asset_opts, NULL)) != -1) {
		r = 0;
		if (c == OPT_ADDRESS)
			address = optarg;
		else if (c == OPT_PORT)
			r = gh_cli_parse_int(cli, "--port", optarg, 1, 65535, &a->port);
		else if (c == OPT_PLATFORM)
			a->platform = optarg;
		else if (c == OPT_PROTOCOLS)
			r = gh_cli_parse_protocols(cli, "--protocols", optarg, &a->protocols);
		else if (c == OPT_NODE)
			a->nodes[a->n_nodes++] = optarg;
		else if (c == OPT_COMMENT)
			a->comment = optarg;
		else if (c == OPT_HOST_KEY)
			host_key = optarg;
		else if (c == OPT_GATEWAY)
			a->gateway = optarg;
		else if (c == OPT_JUMPOINT)
			a->jumpoint = optarg;
		else if (c == OPT_FORGET_HOST_KEY && set)
			a->forget_host_key = true;
		else if (c == OPT_LOGIN_PROMPT || c == OPT_PASSWORD_PROMPT || c == OPT_SHELL_PROMPT)
			r = prompt_arg(cli, c, optarg, a);
		else if (c == 'h')
			return gh_cli_help(cli) == GH_EXIT_OK ? -1 : GH_EXIT_FAIL;
		else
			return gh_cli_bad_option(cli, c == OPT_FORGET_HOST_KEY ? '?' : c, argv);
		if (r)
			return r;
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, set ? "NAME [options]"
						       : "NAME --address HOST [options]")))
		return r;
	a->name = argv[optind];
	if (!set && !address)
		return gh_cli_usage_error(cli, "give the asset's address with --address HOST");
	if (set && !address && !a->port && !a->platform && !a->protocols && !a->n_nodes &&
	    !a->comment && !host_key && !a->forget_host_key && !a->set_prompts && !a->gateway &&
	    !a->jumpoint)
		return gh_cli_usage_error(cli, "nothing to set: give at least one of --address, "
					       "--port, --platform, --protocols, --node, --comment, "
					       "--host-key, --forget-host-key, --login-prompt, "
					       "--password-prompt, --shell-prompt, --gateway, --jumpoint");
	if (a->gateway && a->jumpoint && *a->gateway && *a->jumpoint)
		return gh_cli_usage_error(cli, "give either --gateway or --jumpoint, not both");
	return check_args(cli, address, host_key, a);
}

/* The --node paths of A to node ids (the root "/" adds none). 0 or an
 * exit status (message printed). */
static int asset_nodes(const struct gh_cli *cli, struct gh_app *app, struct asset_args *a)
{
	char esc[128], esc2[128];
	int r = 0;
	for (size_t i = 0; i < a->n_nodes; i++) {
		struct gh_node nd = { 0 };
		char *norm = NULL;
		if (gh_node_path_normalize(a->nodes[i], &norm) < 0)
			return gh_cli_usage_error(cli, "bad node path '%s'",
						  gh_escape(esc, sizeof esc, a->nodes[i]));
		bool root = !strcmp(norm, "/");
		free(norm);
		if (root) /* the top of the tree: no node */
			continue;
		r = gh_store_node_get(app->store, a->nodes[i], &nd);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown node '%s' (add it with 'gatehouse node add %s')",
				     gh_escape(esc, sizeof esc, a->nodes[i]),
				     gh_escape(esc2, sizeof esc2, a->nodes[i]));
			return GH_EXIT_FAIL;
		}
		if (r < 0)
			return gh_cli_fail(app, r, "cannot read node '%s'",
					   gh_escape(esc, sizeof esc, a->nodes[i]));
		bool dup = false;
		for (size_t k = 0; k < a->n_ids; k++)
			dup = dup || a->node_ids[k] == nd.id;
		if (!dup)
			a->node_ids[a->n_ids++] = nd.id;
		gh_node_free(&nd);
	}
	return 0;
}

static int asset_add(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct asset_args aa = { 0 };
	int64_t id = 0;
	int r = asset_parse(cli, argc, argv, false, &aa);

	if (r)
		goto out;
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = asset_nodes(cli, app, &aa)))
		goto out;
	struct gh_asset a = { .name = (char *)aa.name, .address = aa.host,
			      .port = aa.port ? (int)aa.port : aa.protocols == GH_PROTO_TELNET ? 23 : 22,
			      .platform = (char *)(aa.platform ? aa.platform : "linux"),
			      .protocols = aa.protocols ? aa.protocols : GH_PROTO_SSH | GH_PROTO_SFTP,
			      .comment = (char *)aa.comment, .host_key = aa.host_key };
	r = gh_store_asset_add(app->store, &a, &id);
	if (r == GH_EEXIST) {
		gh_cli_error("asset '%s' already exists", aa.name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add asset '%s'", aa.name);
		goto out;
	}
	for (size_t i = 0; i < aa.n_ids || (i == aa.n_ids && aa.set_prompts); i++) {
		r = i < aa.n_ids ? gh_store_asset_node_add(app->store, id, aa.node_ids[i])
				 : gh_store_asset_telnet_set(app->store, id, &aa.prompts);
		if (r < 0) {
			gh_store_asset_del(app->store, aa.name); /* all or nothing */
			r = gh_cli_fail(app, r, "cannot place asset '%s' in its nodes", aa.name);
			goto out;
		}
	}
	if ((aa.gateway && (r = gh_cli_asset_set_gateway(app, id, aa.name, aa.gateway))) ||
	    (aa.jumpoint && (r = gh_cli_asset_set_jumpoint(app, id, aa.name, aa.jumpoint)))) {
		gh_store_asset_del(app->store, aa.name);
		goto out;
	}
	printf("added asset '%s' (%s port %d)\n", aa.name, a.address, a.port);
	r = GH_EXIT_OK;
out:
	asset_args_clear(&aa);
	gh_app_close(app);
	return r < 0 ? GH_EXIT_OK : r;
}

/* Change what set was given, in one store transaction; the accounts stay. */
static int asset_set(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct asset_args aa = { 0 };
	struct gh_asset a = { 0 };
	char esc[128];
	int r = asset_parse(cli, argc, argv, true, &aa);

	if (r)
		goto out;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_store_asset_get(app->store, aa.name, &a);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown asset '%s'", gh_escape(esc, sizeof esc, aa.name));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0 || (r = asset_nodes(cli, app, &aa))) {
		r = r < 0 ? gh_cli_fail(app, r, "cannot read asset '%s'", aa.name) : r;
		goto out;
	}
	struct gh_asset_edit e = { .address = aa.host, .port = (int)aa.port,
				   .platform = aa.platform, .protocols = aa.protocols,
				   .comment = aa.comment,
				   .set_host_key = aa.host_key || aa.forget_host_key,
				   .host_key = aa.host_key, .set_nodes = aa.n_nodes > 0,
				   .node_ids = aa.node_ids, .n_nodes = aa.n_ids };
	r = gh_store_asset_update(app->store, a.id, &e);
	if (r == 0 && aa.set_prompts)
		r = gh_store_asset_telnet_set(app->store, a.id, &aa.prompts);
	if (r == 0 && aa.gateway && (r = gh_cli_asset_set_gateway(app, a.id, aa.name, aa.gateway)))
		goto out;
	if (r == 0 && aa.jumpoint &&
	    (r = gh_cli_asset_set_jumpoint(app, a.id, aa.name, aa.jumpoint)))
		goto out;
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot change asset '%s'", aa.name);
		goto out;
	}
	printf("changed asset '%s'%s\n", aa.name,
	       aa.forget_host_key ? ": host key forgotten, the next login pins the one it is shown"
				  : "");
	r = GH_EXIT_OK;
out:
	gh_asset_free(&a);
	asset_args_clear(&aa);
	gh_app_close(app);
	return r < 0 ? GH_EXIT_OK : r;
}

json_t *gh_cli_asset_json(const struct gh_asset *a)
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
			json_array_append_new(a, gh_cli_asset_json(&v[i]));
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

/* A telnet asset's own prompt patterns: JSON "telnet_prompts" into J, or
 * lines (NULL J); "default" / null for the platform's. */
static int show_prompts(struct gh_app *app, const struct gh_asset *a, json_t *j)
{
	struct gh_asset_telnet t = { 0 };
	if (!(a->protocols & GH_PROTO_TELNET))
		return 0;
	int r = gh_store_asset_telnet_get(app->store, a->id, &t);
	if (r < 0)
		return r;
	const char *k[3] = { "login", "password", "shell" };
	const char *v[3] = { t.login_prompt, t.password_prompt, t.shell_prompt };
	json_t *o = j ? json_object() : NULL;
	for (int i = 0; i < 3; i++) {
		char label[32];
		if (o)
			json_object_set_new(o, k[i], v[i] ? json_string(v[i]) : json_null());
		else if (snprintf(label, sizeof label, "%s prompt:", k[i]) > 0)
			gh_cli_field(label, v[i] ? v[i] : "default");
	}
	if (o)
		json_object_set_new(j, "telnet_prompts", o);
	gh_asset_telnet_free(&t);
	return 0;
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
		json_t *j = gh_cli_asset_json(&a), *accounts = json_array();
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
		if (j)
			show_prompts(app, &a, j);
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
	show_prompts(app, &a, NULL);
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
		{ "add", asset_add }, { "set", asset_set },   { "list", asset_list },
		{ "show", asset_show }, { "del", asset_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "asset", usage, verbs, argc, argv);
}
