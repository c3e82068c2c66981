/* gatehouse user set / user mfa: per-user second-factor settings. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char mfa_usage[] =
	"Usage:\n"
	"  gatehouse user set NAME --mfa required|optional\n"
	"  gatehouse user mfa reset NAME\n"
	"  gatehouse user mfa show NAME [--json]\n"
	"\n"
	"--mfa required: the user must give a TOTP code after the password or key\n"
	"(enrolled at the next SSH login), whatever the global 'mfa' setting.\n"
	"optional: only when the global setting asks for it, or once enrolled.\n"
	"'mfa reset' forgets the user's TOTP seed: the next login that needs a code\n"
	"enrols a new one.\n";

enum { OPT_MFA = 1000 };

int gh_cli_parse_mfa(const struct gh_cli *cli, const char *s, int *ret)
{
	char esc[80];
	int m = gh_mfa_mode_parse(s);
	if (m < 0)
		return gh_cli_usage_error(cli, "bad --mfa '%s': expected required or optional",
					  gh_escape(esc, sizeof esc, s));
	*ret = m;
	return 0;
}

int gh_cmd_user_set(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mfa", required_argument, NULL, OPT_MFA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	int c, r = 0, mode = -1;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_MFA) {
			if ((r = gh_cli_parse_mfa(cli, optarg, &mode)))
				return r;
		} else if (c == 'h') {
			return gh_cli_help(cli);
		} else {
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --mfa required|optional")))
		return r;
	if (mode < 0)
		return gh_cli_usage_error(cli, "nothing to set: give --mfa required|optional");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_user_mfa_set_mode(app->store, u.id, mode);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot update user '%s'", u.name);
		goto out;
	}
	printf("user '%s': mfa %s\n", u.name, gh_mfa_mode_name(mode));
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int mfa_reset(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME", GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_user_mfa_reset(app->store, u.id);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot reset the second factor of '%s'", u.name);
		goto out;
	}
	printf("user '%s': TOTP seed %s; the next login that needs a code enrols again\n", u.name,
	       u.totp_sealed ? "removed" : "was not set");
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int mfa_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct gh_user_mfa m;
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	if ((r = gh_store_user_mfa_get(app->store, u.id, &m)) < 0) {
		r = gh_cli_fail(app, r, "cannot read the second factor of '%s'", u.name);
		goto out;
	}
	if (json) {
		json_t *j = json_object();
		if (j) {
			json_object_set_new(j, "name", json_string(u.name));
			json_object_set_new(j, "mfa", json_string(gh_mfa_mode_name(m.mode)));
			json_object_set_new(j, "totp", json_boolean(u.totp_sealed != NULL));
			json_object_set_new(j, "enrolled_at",
					    gh_cli_json_time(u.totp_sealed ? m.enrolled_at : 0));
		}
		r = gh_cli_json_print(j) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	gh_cli_field("name:", u.name);
	gh_cli_field("mfa:", gh_mfa_mode_name(m.mode));
	gh_cli_field("totp:", u.totp_sealed ? "enrolled" : "none");
	gh_cli_field("enrolled:", gh_cli_time_text(u.totp_sealed ? m.enrolled_at : 0, tb, sizeof tb));
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

int gh_cmd_user_mfa(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "reset", mfa_reset }, { "show", mfa_show }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "user mfa", mfa_usage, verbs, argc, argv);
}
