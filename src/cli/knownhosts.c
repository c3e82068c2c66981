/* gatehouse known-hosts: known_hosts lines for recorded ProxyJump. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "ssh/hostkey.h"
#include "ssh/knownhosts.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse known-hosts [--user USER]\n"
	"\n"
	"Print one known_hosts line per asset (its name, plain and as [name]:port, and\n"
	"its address as [addr]:port; plain when the port is 22) with the Gatehouse jump\n"
	"host key, ready to append to ~/.ssh/known_hosts for `ssh -J`. With --user,\n"
	"only the assets USER may reach over ssh now (what `ssh USER@gatehouse\n"
	"known-hosts` prints); without, every asset with the ssh protocol.\n";

enum { OPT_USER = 1000 };

int gh_cmd_known_hosts(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	bool have_user = false;
	const char *user = NULL;
	char *text = NULL, *key = NULL;
	char esc[200];
	int c, r = 0;

	cli->usage = usage;
	snprintf(cli->cmd, sizeof cli->cmd, "known-hosts");
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_USER)
			user = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--user USER]")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if (user) {
		r = gh_store_user_get(app->store, user, &u);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown user '%s'", gh_escape(esc, sizeof esc, user));
			r = GH_EXIT_FAIL;
			goto out;
		}
		if (r < 0) {
			r = gh_cli_fail(app, r, "cannot read user");
			goto out;
		}
		have_user = true;
	}
	r = gh_ssh_jump_pubkey(app->data_dir, &key);
	if (r < 0) {
		gh_cli_error("cannot read the jump host key in the data directory (it is created by "
			     "'gatehouse serve' at first start)");
		r = GH_EXIT_FAIL;
		goto out;
	}
	r = gh_known_hosts_text(app->store, key, have_user ? &u : NULL, &text);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list the known hosts");
		goto out;
	}
	fputs(text, stdout);
	r = GH_EXIT_OK;
out:
	free(text);
	free(key);
	if (have_user)
		gh_user_free(&u);
	gh_app_close(app);
	return r;
}
