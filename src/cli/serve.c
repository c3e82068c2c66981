/* gatehouse serve: first-start initialisation, then serve until SIGTERM. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "vault/vault.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int gh_cmd_serve(struct gh_app *app, int argc, char **argv)
{
	char *pw = NULL;
	int r = gh_app_first_start(app, &pw);
	if (r < 0) {
		gh_error("first start failed: %s", gh_strerror(r));
		return 1;
	}
	if (pw) {
		printf("Created user 'admin' with password: %s\n"
		       "(also saved to %s/initial-admin-password, mode 0600; change it with "
		       "'gatehouse user passwd admin --password-stdin')\n",
		       pw, app->data_dir);
		fflush(stdout);
		gh_secret_free(pw);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	gh_info("gatehouse serving from %s", app->data_dir);
	while (!stop_requested)
		pause();
	gh_info("stopping");
	return 0;
}
