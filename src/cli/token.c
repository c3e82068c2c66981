/* gatehouse token: API tokens for automation (web/token.h). */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"
#include "web/token.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse token add NAME --user USER [--expires TIME]\n"
	"  gatehouse token list [--json]\n"
	"  gatehouse token del NAME\n"
	"\n"
	"A token acts for USER on the REST API with USER's role\n"
	"(Authorization: Bearer TOKEN). 'add' prints the token once: only its hash\n"
	"is kept. TIME is ISO 8601 (2027-01-31, 2027-01-31T08:00Z); none: no expiry.\n"
	"See docs/API.md.\n";

enum { OPT_USER = 1000, OPT_EXPIRES };

static int token_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	const char *user = NULL;
	char tok[GH_TOKEN_LEN], esc[160];
	int64_t expires = 0;
	int c, r;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_USER)
			user = optarg;
		else if (c == OPT_EXPIRES && (r = gh_cli_parse_time(cli, "--expires", optarg, &expires)))
			return r;
		else if (c == 'h')
			return gh_cli_help(cli);
		else if (c != OPT_EXPIRES)
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --user USER [--expires TIME]")))
		return r;
	const char *name = argv[optind];
	if (!user)
		return gh_cli_usage_error(cli, "give the user the token acts for with --user");
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad token name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
					  gh_escape(esc, sizeof esc, name));
	if (expires && expires <= gh_now())
		return gh_cli_usage_error(cli, "--expires is in the past");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if (gh_cli_user_get(app, user, &u) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_token_create(app->store, name, u.id, expires, tok);
	if (r == GH_EEXIST) {
		gh_cli_error("token '%s' already exists", name);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add token '%s'", name);
	} else {
		printf("%s\n", tok);
		fprintf(stderr, "token '%s' for %s (role %s); it is shown only now\n", name, u.name,
			gh_role_name(u.role));
		sodium_memzero(tok, sizeof tok);
		r = GH_EXIT_OK;
	}
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int token_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_api_token *v = NULL;
	size_t n = 0;
	bool json = false;
	char t1[32], t2[32], t3[32];
	int r = 0;
	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_token_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list tokens");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, gh_token_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	printf("%-24s %-16s %-20s %-20s %s\n", "NAME", "USER", "CREATED", "EXPIRES", "LAST USED");
	for (size_t i = 0; i < n; i++)
		printf("%-24s %-16s %-20s %-20s %s\n", v[i].name, v[i].user_name,
		       gh_cli_time_text(v[i].created_at, t1, sizeof t1),
		       gh_cli_time_text(v[i].expires_at, t2, sizeof t2),
		       gh_cli_time_text(v[i].last_used, t3, sizeof t3));
	r = GH_EXIT_OK;
out:
	gh_api_tokens_free(v, n);
	gh_app_close(app);
	return r;
}

static int token_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "token", gh_store_token_del);
}

int gh_cmd_token(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = { { "add", token_add },
						    { "list", token_list },
						    { "del", token_del },
						    { NULL, NULL } };
	return gh_cli_dispatch(cli, "token", usage, verbs, argc, argv);
}
