/* gatehouse: subcommand dispatch. Each noun lives in src/cli/<noun>.c. */
#include "app/app.h"
#include "cli/cli.h"
#include "cli/buildinfo.h"
#include "cli/clustercli.h"
#include "core/error.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
	"Usage: gatehouse [--data DIR] [--config FILE] COMMAND ...\n"
	"\n"
	"Commands:\n"
	"  user      users, their passwords and SSH keys\n"
	"  group     groups of users\n"
	"  node      the asset tree (/prod/web)\n"
	"  asset     hosts users reach through Gatehouse\n"
	"  account   accounts on assets and their stored secrets\n"
	"  perm      permissions: who may reach what, how and when\n"
	"  session   recorded sessions\n"
	"  event     the audit log and its hash chain\n"
	"  audit     verify the audit trail; query logins, sessions, commands, files, changes\n"
	"  recordings  recording retention (prune)\n"
	"  replay    play a session recording in the terminal\n"
	"  known-hosts  known_hosts lines for ssh -J (the jump host key)\n"
	"  config    check or show the configuration\n"
	"  cmdgroup  command groups (commands or regexes)\n"
	"  cmdfilter command filters: reject, review, warn or accept command groups\n"
	"  request   commands held for review: list, approve, deny\n"
	"  ldap      LDAP / Active Directory: sync users, test the configuration\n"
	"  token     API tokens: add, list, del\n"
	"  access    access requests: list, approve, deny\n"
	"  status    serve, listeners, sessions, store, export lag at a glance\n"
	"  backup    a consistent copy of the store (--with-keys: and the keys, encrypted)\n"
	"  restore   restore a backup into the data directory\n"
	"  logs      print (-f: follow) the log file\n"
	"  cert      install the web console's certificate\n"
	"  migrate   copy a SQLite store into the configured PostgreSQL store\n"
	"  serve     run the SSH front door\n"
	"  version   print the version\n"
	"  help      this text\n"
	"\n"
	"--data DIR and --config FILE may appear anywhere; the data directory\n"
	"defaults to $GATEHOUSE_DATA or ./data. 'gatehouse COMMAND --help' shows a\n"
	"command's options. Exit status: 0 ok, 1 refused or failed, 2 usage error.\n";

static const struct {
	const char *name;
	gh_cmd_fn fn;
} nouns[] = {
	{ "user", gh_cmd_user },       { "group", gh_cmd_group },     { "node", gh_cmd_node },
	{ "asset", gh_cmd_asset },     { "account", gh_cmd_account }, { "perm", gh_cmd_perm },
	{ "session", gh_cmd_session }, { "event", gh_cmd_event },     { "replay", gh_cmd_replay },
	{ "config", gh_cmd_config },   { "audit", gh_cmd_audit },     { "recordings", gh_cmd_recordings },
	{ "known-hosts", gh_cmd_known_hosts },
	{ "ldap", gh_cmd_ldap },
	{ "loginacl", gh_cmd_loginacl },
	{ "cmdgroup", gh_cmd_cmdgroup }, { "cmdfilter", gh_cmd_cmdfilter }, { "request", gh_cmd_request },
	{ "token", gh_cmd_token }, { "access", gh_cmd_access },
	{ "status", gh_cmd_status }, { "backup", gh_cmd_backup }, { "restore", gh_cmd_restore },
	{ "logs", gh_cmd_logs }, { "cert", gh_cmd_cert },
	{ "migrate", gh_cmd_migrate },
	{ "gateway", gh_cmd_gateway }, { "jumpoint", gh_cmd_jumpoint },
};

static int run_serve(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	int r = gh_cli_open(cli, GH_APP_CREATE, &app);
	if (r < 0)
		return GH_EXIT_FAIL;
	r = gh_cmd_serve(app, argc, argv);
	if (r < 0) {
		gh_cli_error("serve: %s", gh_strerror(r));
		r = GH_EXIT_FAIL;
	}
	gh_app_close(app);
	return r;
}

int main(int argc, char **argv)
{
	struct gh_cli cli = { 0 };
	char esc[64];

	/* Everything Gatehouse creates (database, keys, recordings) is private. */
	umask(077);
	if (gh_cli_take_global_options(&cli, &argc, argv) < 0)
		return GH_EXIT_USAGE;
	if (argc < 2) {
		fputs(usage, stderr);
		return GH_EXIT_USAGE;
	}
	const char *noun = argv[1];
	if (!strcmp(noun, "help") || !strcmp(noun, "--help") || !strcmp(noun, "-h")) {
		if (argc > 2 && strcmp(argv[2], "help")) {
			/* gatehouse help NOUN == gatehouse NOUN --help */
			char *hargv[] = { argv[2], (char *)"--help", NULL };
			for (size_t i = 0; i < sizeof nouns / sizeof nouns[0]; i++)
				if (!strcmp(nouns[i].name, argv[2]))
					return nouns[i].fn(&cli, 2, hargv);
		}
		fputs(usage, stdout);
		return GH_EXIT_OK;
	}
	if (!strcmp(noun, "version") || !strcmp(noun, "--version")) {
		printf("gatehouse %s\n", GH_VERSION);
		return GH_EXIT_OK;
	}
	if (!strcmp(noun, "serve"))
		return run_serve(&cli, argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof nouns / sizeof nouns[0]; i++)
		if (!strcmp(nouns[i].name, noun))
			return nouns[i].fn(&cli, argc - 1, argv + 1);
	return gh_cli_usage_error(NULL, "unknown command '%s'", gh_escape(esc, sizeof esc, noun));
}
