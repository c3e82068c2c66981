/* gatehouse serve: first-start initialisation, then the SSH front door
 * until SIGTERM (see ssh/ssh.h). */
#include "app/app.h"
#include "auth/ldapsync.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "ssh/ssh.h"
#include "vault/vault.h"
#include "web/web.h"

#include <stdio.h>
#include <string.h>

static const char serve_usage[] =
	"Usage: gatehouse [--data DIR] [--config FILE] serve\n"
	"\n"
	"Run the SSH front door (ssh_listen, default 0.0.0.0:2222). On first start it\n"
	"creates the data directory, the master key, the host keys and the user\n"
	"'admin', whose password it prints once. SIGHUP re-reads the configuration\n"
	"and reopens log_file, SIGTERM stops accepting and lets sessions finish\n"
	"(shutdown_grace).\n";

int gh_cmd_serve(struct gh_app *app, int argc, char **argv)
{
	char *pw = NULL;
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
			fputs(serve_usage, stdout);
			return GH_EXIT_OK;
		}
		fprintf(stderr, "gatehouse: serve: unexpected argument '%s'\n%s", argv[1], serve_usage);
		return GH_EXIT_USAGE;
	}
	int r = gh_app_first_start(app, &pw);
	if (r < 0) {
		gh_error("first start failed: %s", gh_strerror(r));
		return GH_EXIT_FAIL;
	}
	if (pw) {
		printf("Created user 'admin' with password: %s\n"
		       "(also saved to %s/initial-admin-password, mode 0600; change it with "
		       "'gatehouse user passwd admin --password-stdin')\n",
		       pw, app->data_dir);
		fflush(stdout);
		gh_secret_free(pw);
	}
	gh_log_set_tag("master");
	if (gh_app_log_open(app) < 0)
		return GH_EXIT_FAIL;
	char why[256];
	if (gh_ldap_prepare(app, why, sizeof why) < 0) { /* root, before any worker drops */
		gh_error("LDAP: %s", why);
		return GH_EXIT_FAIL;
	}
	gh_info("gatehouse serving from %s", app->data_dir);
	if (gh_web_prepare(app) < 0)
		return GH_EXIT_FAIL;
	r = gh_ssh_serve(app);
	if (r < 0) {
		gh_error("cannot serve: %s", gh_strerror(r));
		return GH_EXIT_FAIL;
	}
	return GH_EXIT_OK;
}
