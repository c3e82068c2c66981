/* gatehouse access: access requests (session/access.h). */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"
#include "session/access.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse access list [--json]\n"
	"  gatehouse access approve ID\n"
	"  gatehouse access deny ID\n"
	"\n"
	"Users ask for an account on an asset for some minutes through the REST API\n"
	"(POST /api/v1/access-requests, docs/API.md) or over SSH (`ssh alice@gh\n"
	"request ASSET --account ACCOUNT ...`, docs/SSH.md). Approving one makes the\n"
	"permission access-ID for that user, asset and account, valid from now for\n"
	"the minutes asked; denying makes none.\n";

static int access_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_access_req *v = NULL;
	size_t n = 0;
	bool json = false;
	char tb[32];
	int r = 0;
	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_store_access_list(app->store, 0, &v, &n)) < 0) {
		r = gh_cli_fail(app, r, "cannot list access requests");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, gh_access_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	printf("%-6s %-9s %-14s %-14s %-12s %-7s %-12s %s\n", "ID", "STATUS", "USER", "ASSET",
	       "ACCOUNT", "MINUTES", "TICKET", "CREATED");
	for (size_t i = 0; i < n; i++)
		printf("%-6lld %-9s %-14s %-14s %-12s %-7d %-12s %s\n", (long long)v[i].id,
		       v[i].status, v[i].user_name, v[i].asset_name, v[i].account, v[i].minutes,
		       v[i].ticket[0] ? v[i].ticket : "-",
		       gh_cli_time_text(v[i].created_at, tb, sizeof tb));
	r = GH_EXIT_OK;
out:
	gh_access_reqs_free(v, n);
	gh_app_close(app);
	return r;
}

static int decide(struct gh_cli *cli, int argc, char **argv, bool approve)
{
	struct gh_app *app = NULL;
	char by[96], esc[80];
	long long id = 0;
	int r = 0;
	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "ID", GH_APP_NO_VAULT, &app, &r))
		return r;
	if (gh_parse_ll(argv[optind], &id) < 0 || id < 1) {
		r = gh_cli_usage_error(cli, "bad request ID '%s'",
				       gh_escape(esc, sizeof esc, argv[optind]));
		goto out;
	}
	struct passwd *pw = getpwuid(getuid());
	snprintf(by, sizeof by, "os:%s", pw ? pw->pw_name : "?");
	r = gh_access_decide(app->store, id, approve, by, 0, GH_ROLE_ADMIN); /* root's CLI */
	if (r == GH_ENOENT || r == GH_EBUSY) {
		gh_cli_error("access request %lld %s", id,
			     r == GH_ENOENT ? "does not exist" : "is already decided");
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot decide access request %lld", id);
	} else {
		if (approve)
			printf("approved access request %lld (permission access-%lld)\n", id, id);
		else
			printf("denied access request %lld\n", id);
		r = GH_EXIT_OK;
	}
out:
	gh_app_close(app);
	return r;
}

static int access_approve(struct gh_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, true);
}

static int access_deny(struct gh_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, false);
}

int gh_cmd_access(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = { { "list", access_list },
						    { "approve", access_approve },
						    { "deny", access_deny },
						    { NULL, NULL } };
	return gh_cli_dispatch(cli, "access", usage, verbs, argc, argv);
}
