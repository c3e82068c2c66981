/* gatehouse perm set: change a permission's access schedule. */
#include "app/app.h"
#include "auth/acl.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_SCHEDULE = 1000, OPT_NO_SCHEDULE };

int gh_cli_check_schedule(const struct gh_cli *cli, const char *spec)
{
	struct gh_schedule *s = NULL;
	char err[256] = "", esc[160];
	int r = gh_schedule_parse(spec, &s, err, sizeof err);
	gh_schedule_free(s);
	if (r == GH_ENOENT)
		return gh_cli_usage_error(cli, "bad --schedule '%s': unknown time zone",
					  gh_escape(esc, sizeof esc, spec));
	if (r < 0)
		return gh_cli_usage_error(cli, "bad --schedule '%s': %s (expected e.g. \"Mon-Fri "
					       "09:00-18:00 Europe/Berlin\")",
					  gh_escape(esc, sizeof esc, spec), err[0] ? err : "invalid");
	return 0;
}

int gh_cmd_perm_set(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "no-schedule", no_argument, NULL, OPT_NO_SCHEDULE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_perm p = { 0 };
	const char *spec = NULL;
	bool clear = false;
	char esc[128];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_SCHEDULE) {
			if ((r = gh_cli_check_schedule(cli, optarg)))
				return r;
			spec = optarg;
		} else if (c == OPT_NO_SCHEDULE) {
			clear = true;
		} else if (c == 'h') {
			return gh_cli_help(cli);
		} else {
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --schedule SPEC | --no-schedule")))
		return r;
	if (!!spec == clear)
		return gh_cli_usage_error(cli, "give either --schedule SPEC or --no-schedule");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	const char *name = argv[optind];
	r = gh_store_perm_get(app->store, name, &p);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown permission '%s'", gh_escape(esc, sizeof esc, name));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0)
		r = gh_store_perm_set_schedule(app->store, p.id, spec);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot update permission '%s'", gh_escape(esc, sizeof esc, name));
		goto out;
	}
	printf("permission '%s': %s%s%s\n", p.name, spec ? "schedule '" : "no schedule",
	       spec ? gh_escape(esc, sizeof esc, spec) : "", spec ? "'" : "");
	r = GH_EXIT_OK;
out:
	gh_perm_free(&p);
	gh_app_close(app);
	return r;
}
