/* gatehouse session: recorded sessions. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse session list [--active|--open] [--json] [--limit N]   (newest first, default 100)\n"
	"  gatehouse session show ID [--json]\n"
	"  gatehouse session watch ID [--as USER]     follow a running session (read-only)\n"
	"  gatehouse session join ID [--as USER]      type into a running session too\n"
	"  gatehouse session kill ID [--reason TEXT] [--as USER]\n"
	"\n"
	"watch/join: Ctrl-] or ~. (after a newline) detaches. See docs/LIVE.md.\n";

enum { OPT_ACTIVE = 1000, OPT_JSON, OPT_LIMIT };

json_t *gh_cli_session_json(const struct gh_session *s)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "id", json_string(s->id));
	json_object_set_new(j, "user", gh_cli_json_str(s->user_name));
	json_object_set_new(j, "source_addr", gh_cli_json_str(s->source_addr));
	json_object_set_new(j, "source_port", json_integer(s->source_port));
	json_object_set_new(j, "asset", gh_cli_json_str(s->asset_name));
	json_object_set_new(j, "account", gh_cli_json_str(s->account));
	json_object_set_new(j, "protocol", gh_cli_json_str(s->protocol));
	json_object_set_new(j, "kind", gh_cli_json_str(s->kind));
	json_object_set_new(j, "active", json_boolean(s->ended_at == 0));
	json_object_set_new(j, "started_at", gh_cli_json_time(s->started_at));
	json_object_set_new(j, "ended_at", gh_cli_json_time(s->ended_at));
	/* short names scripts use (same values; "end" is null while open) */
	json_object_set_new(j, "start", gh_cli_json_time(s->started_at));
	json_object_set_new(j, "end", gh_cli_json_time(s->ended_at));
	json_object_set_new(j, "exit_status", s->exit_status >= 0 ? json_integer(s->exit_status)
								   : json_null());
	json_object_set_new(j, "exit_signal", gh_cli_json_str(s->exit_signal));
	json_object_set_new(j, "bytes_in", json_integer(s->bytes_in));
	json_object_set_new(j, "bytes_out", json_integer(s->bytes_out));
	json_object_set_new(j, "recording", gh_cli_json_str(s->recording_path));
	json_object_set_new(j, "close_reason", gh_cli_json_str(s->close_reason));
	json_object_set_new(j, "worker_pid", json_integer(s->worker_pid));
	json_object_set_new(j, "node", gh_cli_json_str(s->node));
	return j;
}

static int session_list(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "active", no_argument, NULL, OPT_ACTIVE },
		{ "open", no_argument, NULL, OPT_ACTIVE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_session *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false, active = false;
	long long limit = 100;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_ACTIVE)
			active = true;
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
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--active|--open] [--json] [--limit N]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_session_list(app->store, active, (int)limit, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list sessions");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, gh_cli_session_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(10, "ID", "USER", "SOURCE", "ASSET", "ACCOUNT", "PROTO", "KIND", "STARTED",
			 "ENDED", "NODE");
	for (size_t i = 0; t && i < n; i++) {
		char st[32], en[32];
		gh_table_add(t, v[i].id, v[i].user_name, v[i].source_addr, v[i].asset_name, v[i].account,
			     v[i].protocol, v[i].kind, gh_cli_time_text(v[i].started_at, st, sizeof st),
			     v[i].ended_at ? gh_cli_time_text(v[i].ended_at, en, sizeof en) : "active",
			     v[i].node);
	}
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_sessions_free(v, n);
	gh_app_close(app);
	return r;
}

static int session_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_session s = { 0 };
	bool json = false;
	char esc[80], buf[64];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "ID [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_session_get(app->store, argv[optind], &s);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown session '%s' (see 'gatehouse session list')",
			     gh_escape(esc, sizeof esc, argv[optind]));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot read session");
		goto out;
	}
	if (json) {
		r = gh_cli_json_print(gh_cli_session_json(&s)) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	gh_cli_field("id:", s.id);
	gh_cli_field("user:", s.user_name);
	snprintf(buf, sizeof buf, "%s:%d", s.source_addr ? s.source_addr : "-", s.source_port);
	gh_cli_field("source:", buf);
	gh_cli_field("asset:", s.asset_name);
	gh_cli_field("account:", s.account);
	gh_cli_field("protocol:", s.protocol);
	gh_cli_field("kind:", s.kind);
	gh_cli_field("started:", gh_cli_time_text(s.started_at, buf, sizeof buf));
	gh_cli_field("ended:", s.ended_at ? gh_cli_time_text(s.ended_at, buf, sizeof buf) : "active");
	if (s.exit_status >= 0)
		snprintf(buf, sizeof buf, "%d", s.exit_status);
	else
		snprintf(buf, sizeof buf, "-");
	gh_cli_field("exit status:", buf);
	gh_cli_field("exit signal:", s.exit_signal);
	snprintf(buf, sizeof buf, "%lld in, %lld out", (long long)s.bytes_in, (long long)s.bytes_out);
	gh_cli_field("bytes:", buf);
	gh_cli_field("recording:", s.recording_path);
	gh_cli_field("closed by:", s.close_reason);
	gh_cli_field("node:", s.node);
	r = GH_EXIT_OK;
out:
	gh_session_free(&s);
	gh_app_close(app);
	return r;
}

int gh_cmd_session(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "list", session_list },	  { "show", session_show },
		{ "watch", gh_cli_session_watch }, { "join", gh_cli_session_join },
		{ "kill", gh_cli_session_kill },	  { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "session", usage, verbs, argc, argv);
}
