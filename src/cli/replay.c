/* gatehouse replay: play a session recording in the terminal. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/safefile.h"
#include "core/util.h"
#include "store/store.h"
#include "record/record.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse replay SESSION_ID [--speed N] [--max-idle SECONDS]\n"
	"\n"
	"--speed multiplies the playback rate (default 1, e.g. 2 or 0.5); --max-idle caps\n"
	"pauses at SECONDS (default 2; 0 keeps the original pauses).\n";

enum { OPT_SPEED = 1000, OPT_MAX_IDLE };

static int parse_speed(const struct gh_cli *cli, const char *s, double *ret)
{
	char *end = NULL;
	char esc[64];
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= 0.01 && v <= 1000))
		return gh_cli_usage_error(cli, "bad value '%s' for --speed: expected a number from 0.01 "
					       "to 1000", gh_escape(esc, sizeof esc, s));
	*ret = v;
	return 0;
}

int gh_cmd_replay(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "max-idle", required_argument, NULL, OPT_MAX_IDLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_session s = { 0 };
	double speed = 1.0;
	long long max_idle = 2;
	char esc[80], why[GH_SAFE_WHYLEN];
	int c, r = 0, fd = -1;

	cli->usage = usage;
	snprintf(cli->cmd, sizeof cli->cmd, "replay");
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_SPEED) {
			if ((r = parse_speed(cli, optarg, &speed)))
				return r;
		} else if (c == OPT_MAX_IDLE) {
			if ((r = gh_cli_parse_int(cli, "--max-idle", optarg, 0, 86400, &max_idle)))
				return r;
		} else if (c == 'h') {
			return gh_cli_help(cli);
		} else {
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "SESSION_ID [--speed N] [--max-idle SECONDS]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
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
	if (!s.recording_path || !*s.recording_path) {
		gh_cli_error("session %s has no recording", s.id);
		r = GH_EXIT_FAIL;
		goto out;
	}
	/* the path comes from the store: read only a file beneath recordings_dir */
	r = gh_open_beneath(app->cfg.recordings_dir, s.recording_path, &fd, why, sizeof why);
	if (r == GH_EPERM) {
		gh_cli_error("refused to read %s: %s (not a file beneath recordings_dir %s)",
			     gh_escape(esc, sizeof esc, s.recording_path), why,
			     app->cfg.recordings_dir);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r == 0)
		r = gh_replay_fd(fd, speed, (int)(max_idle * 1000), STDOUT_FILENO);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot replay %s", s.recording_path);
		goto out;
	}
	r = GH_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	gh_session_free(&s);
	gh_app_close(app);
	return r;
}
