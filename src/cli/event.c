/* gatehouse event: the audit log and its hash chain. */
#include "app/app.h"
#include "cli/cli.h"
#include "audit/chain.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse event list [--kind K] [--limit N] [--json]   (newest first, default 100)\n"
	"  gatehouse event verify      (recompute the hash chain; exit 1 when broken;\n"
	"                               'gatehouse audit verify' also checks the recordings)\n";

enum { OPT_KIND = 1000, OPT_JSON, OPT_LIMIT };

static json_t *event_json(const struct gh_event *e)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "id", json_integer(e->id));
	json_object_set_new(j, "ts", gh_cli_json_time(e->ts));
	json_object_set_new(j, "kind", gh_cli_json_str(e->kind));
	json_object_set_new(j, "user", gh_cli_json_str(e->user_name));
	json_object_set_new(j, "source", gh_cli_json_str(e->source));
	json_object_set_new(j, "session", gh_cli_json_str(e->session_id));
	json_object_set_new(j, "asset", gh_cli_json_str(e->asset_name));
	json_object_set_new(j, "account", gh_cli_json_str(e->account));
	json_object_set_new(j, "method", gh_cli_json_str(e->method));
	json_object_set_new(j, "result", gh_cli_json_str(e->result));
	json_object_set_new(j, "reason", gh_cli_json_str(e->reason));
	json_object_set_new(j, "detail", gh_cli_json_str(e->detail));
	json_object_set_new(j, "hash", gh_cli_json_str(e->hash));
	return j;
}

static int event_list(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_event *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	const char *kind = NULL;
	bool json = false;
	long long limit = 100;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_KIND)
			kind = optarg;
		else if (c == OPT_JSON)
			json = true;
		else if (c == OPT_LIMIT) {
			if ((r = gh_cli_parse_int(cli, "--limit", optarg, 1, 1000000, &limit)))
				return r;
		} else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--kind K] [--limit N] [--json]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_event_list(app->store, kind, (int)limit, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list events");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, event_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(8, "ID", "TIME", "KIND", "USER", "SOURCE", "ASSET", "RESULT", "REASON");
	for (size_t i = 0; t && i < n; i++) {
		char id[32], ts[32];
		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		gh_table_add(t, id, gh_cli_time_text(v[i].ts, ts, sizeof ts), v[i].kind, v[i].user_name,
			     v[i].source, v[i].asset_name, v[i].result, v[i].reason);
	}
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_events_free(v, n);
	gh_app_close(app);
	return r;
}

static int event_verify(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_chain_report rep;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 0, 0, "",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_chain_verify(app->store, &rep);
	if (r == GH_ECRYPTO) {
		gh_cli_error("event chain broken at event %lld: %s", (long long)rep.bad_id,
			     rep.problem);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot verify the event chain");
	} else {
		printf("event chain intact\n");
		r = GH_EXIT_OK;
	}
	gh_app_close(app);
	return r;
}

int gh_cmd_event(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "list", event_list }, { "verify", event_verify }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "event", usage, verbs, argc, argv);
}
