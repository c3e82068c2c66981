/* gatehouse recordings: retention of session recordings. */
#include "app/app.h"
#include "audit/retention.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/safefile.h"
#include "core/util.h"
#include "store/store.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse recordings prune [--older-than DAYS] [--yes] [--json]\n"
	"      list (dry run) or, with --yes, remove the recordings of sessions that\n"
	"      ended more than DAYS days ago (default: recording_retention_days).\n"
	"      A session still open is never touched; each removal is audited. Only\n"
	"      regular files beneath recordings_dir are removed (no symlink on the way).\n";

enum { OPT_OLDER = 1000, OPT_YES, OPT_JSON };

struct prune_out {
	bool json, apply;
	json_t *arr;
	struct gh_table *t;
	size_t failed;
};

static void on_item(void *ud, const struct gh_recording_row *row, int err, const char *why)
{
	struct prune_out *o = ud;
	char ended[32], text[GH_SAFE_WHYLEN + 64];
	gh_cli_time_text(row->ended_at, ended, sizeof ended);
	if (err == GH_EPERM)
		snprintf(text, sizeof text, "refused: %s (only files beneath recordings_dir are "
					    "removed)", why);
	else
		snprintf(text, sizeof text, "%s", gh_strerror(err));
	if (err)
		o->failed++;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "session", json_string(row->session_id));
		json_object_set_new(j, "path", gh_cli_json_str(row->path));
		json_object_set_new(j, "ended", gh_cli_json_time(row->ended_at));
		json_object_set_new(j, "removed", json_boolean(o->apply && !err));
		if (err)
			json_object_set_new(j, "error", gh_cli_json_str(text));
		json_array_append_new(o->arr, j);
	} else if (o->t) {
		gh_table_add(o->t, row->session_id, ended, row->asset_name, row->path,
			     err ? text : (o->apply ? "removed" : "would remove"));
	}
}

static int recordings_prune(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prune_out o = { 0 };
	struct gh_app *app = NULL;
	long long days = -1;
	size_t n = 0;
	char actor[96];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_OLDER) {
			if ((r = gh_cli_parse_int(cli, "--older-than", optarg, 0, 36500, &days)))
				return r;
		} else if (c == OPT_YES) {
			o.apply = true;
		} else if (c == OPT_JSON) {
			o.json = true;
		} else if (c == 'h') {
			return gh_cli_help(cli);
		} else {
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--older-than DAYS] [--yes] [--json]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if (days < 0) {
		days = app->cfg.recording_retention_days;
		if (days == 0) {
			gh_app_close(app);
			return gh_cli_usage_error(cli, "recording_retention_days is 0 (keep forever): "
						       "give --older-than DAYS");
		}
	}
	struct passwd *pw = getpwuid(getuid());
	snprintf(actor, sizeof actor, "os:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
	if (o.json)
		o.arr = json_array();
	else
		o.t = gh_table_new(5, "SESSION", "ENDED", "ASSET", "PATH", "STATE");
	r = gh_retention_prune(app->store, app->cfg.recordings_dir, (int)days, o.apply, actor,
			       on_item, &o, &n);
	if (r < 0) {
		json_decref(o.arr);
		gh_table_free(o.t);
		r = gh_cli_fail(app, r, "cannot prune recordings");
		gh_app_close(app);
		return r;
	}
	if (o.json) {
		gh_cli_json_print(o.arr);
	} else {
		if (n || o.failed)
			gh_table_print(o.t, stdout);
		gh_table_free(o.t);
		if (o.apply)
			printf("removed %zu recording%s older than %lld days\n", n, n == 1 ? "" : "s",
			       days);
		else
			printf("would remove %zu recording%s older than %lld days (dry run; add --yes "
			       "to remove)\n",
			       n, n == 1 ? "" : "s", days);
	}
	gh_app_close(app);
	return o.failed ? GH_EXIT_FAIL : GH_EXIT_OK;
}

int gh_cmd_recordings(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "prune", recordings_prune },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "recordings", usage, verbs, argc, argv);
}
