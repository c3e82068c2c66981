/* gatehouse request: commands held by a "review" command filter, waiting
 * for an approver. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse request list [--all] [--json]\n"
	"  gatehouse request approve ID [--json]\n"
	"  gatehouse request deny ID [--json]\n"
	"\n"
	"A command held by a command filter with action review waits (the user's\n"
	"client too) until it is approved or denied here, or review_timeout passes.\n"
	"'list' shows pending requests (--all: every request, newest first).\n"
	"The decision is recorded with the acting identity (os:<login>).\n";

json_t *gh_cli_review_json(const struct gh_review *rv)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(rv->id));
	json_object_set_new(j, "state", json_string(rv->state));
	json_object_set_new(j, "user", gh_cli_json_str(rv->user_name));
	json_object_set_new(j, "asset", gh_cli_json_str(rv->asset_name));
	json_object_set_new(j, "account", gh_cli_json_str(rv->account));
	json_object_set_new(j, "command", gh_cli_json_str(rv->command));
	json_object_set_new(j, "filter", gh_cli_json_str(rv->filter_name));
	json_object_set_new(j, "session", gh_cli_json_str(rv->session_id));
	json_object_set_new(j, "decided_by", gh_cli_json_str(rv->decided_by));
	json_object_set_new(j, "created_at", gh_cli_json_time(rv->created_at));
	json_object_set_new(j, "decided_at", gh_cli_json_time(rv->decided_at));
	json_object_set_new(j, "expires_at", gh_cli_json_time(rv->expires_at));
	return j;
}

static int request_list(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct gh_app *app = NULL;
	struct gh_review *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false, all = false;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'j')
			json = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--all] [--json]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_review_list(app->store, !all, 0, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list requests");
		goto out;
	}
	json_t *arr = json_array();
	t = gh_table_new(8, "ID", "STATE", "USER", "TARGET", "FILTER", "CREATED", "DECIDED-BY",
			 "COMMAND");
	for (size_t i = 0; arr && i < n; i++) {
		json_array_append_new(arr, gh_cli_review_json(&v[i]));
		char id[24], target[300], created[32];
		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		snprintf(target, sizeof target, "%s@%s", v[i].account ? v[i].account : "-",
			 v[i].asset_name ? v[i].asset_name : "-");
		gh_cli_time_text(v[i].created_at, created, sizeof created);
		if (t)
			gh_table_add(t, id, v[i].state, v[i].user_name, target, v[i].filter_name,
				     created, v[i].decided_by, v[i].command);
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
	gh_reviews_free(v, n);
	gh_app_close(app);
	return r;
}

int gh_cli_review_decide(struct gh_store *st, int64_t id, const char *state, const char *by,
			 char *err, size_t errlen)
{
	struct gh_review rv = { 0 };
	int r = gh_store_review_decide(st, id, state, by);
	if (r == GH_ENOENT)
		snprintf(err, errlen, "no request %lld", (long long)id);
	if (r == GH_EBUSY || r == GH_ETIMEDOUT) {
		if (gh_store_review_get(st, id, &rv) == 0)
			snprintf(err, errlen, "request %lld is %s, not pending", (long long)id, rv.state);
		else
			snprintf(err, errlen, "request %lld is not pending", (long long)id);
		r = GH_EBUSY;
	}
	gh_review_free(&rv);
	return r;
}

static int decide(struct gh_cli *cli, int argc, char **argv, const char *state)
{
	struct gh_app *app = NULL;
	struct gh_review rv = { 0 };
	bool json = false;
	long long id = 0;
	char by[80], err[160];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "ID [--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_parse_int(cli, "ID", argv[optind], 1, INT64_MAX, &id)))
		goto out;
	struct passwd *pw = getpwuid(getuid());
	snprintf(by, sizeof by, "os:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
	r = gh_cli_review_decide(app->store, id, state, by, err, sizeof err);
	if (r == GH_ENOENT || r == GH_EBUSY) {
		gh_cli_error("%s", err);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot decide request %lld", id);
		goto out;
	}
	if (json) {
		if (gh_store_review_get(app->store, id, &rv) < 0) {
			r = gh_cli_fail(app, GH_ESTORE, "cannot read request %lld", id);
			goto out;
		}
		r = gh_cli_json_print(gh_cli_review_json(&rv)) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	printf("request %lld %s\n", id, state);
	r = GH_EXIT_OK;
out:
	gh_review_free(&rv);
	gh_app_close(app);
	return r;
}

static int request_approve(struct gh_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, "approved");
}

static int request_deny(struct gh_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, "denied");
}

int gh_cmd_request(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = { { "list", request_list },
						    { "approve", request_approve },
						    { "deny", request_deny },
						    { NULL, NULL } };
	return gh_cli_dispatch(cli, "request", usage, verbs, argc, argv);
}
