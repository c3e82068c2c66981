/* gatehouse ldap: synchronise users from the directory, or show what the
 * configuration finds (docs/LDAP.md). */
#include "app/app.h"
#include "auth/ldap.h"
#include "auth/ldapsync.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/util.h"
#include "store/ldap.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse ldap sync [--dry-run]\n"
	"  gatehouse ldap test [USER]\n"
	"\n"
	"sync: create and update the directory's users (DN, names, sshPublicKey keys,\n"
	"group memberships under ldap_group_map / ldap_group_by_name) and disable\n"
	"the LDAP users it no longer lists; each change is a \"change\" event with\n"
	"actor ldap. --dry-run says what would change and changes nothing.\n"
	"test: connect and bind as ldap_bind_dn and say how it went; with USER,\n"
	"show the entry the configuration finds for USER, its keys and groups, the\n"
	"Gatehouse groups they map to and whether it may log in.\n";

/* Open the application with the bind password read (as root, here). */
static int open_ldap_app(struct gh_cli *cli, struct gh_app **ret)
{
	char why[256];
	struct gh_app *app = NULL;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if (!gh_ldap_enabled(&app->cfg)) {
		gh_cli_error("LDAP is not configured (ldap_url is empty)");
		gh_app_close(app);
		return GH_EXIT_FAIL;
	}
	if (gh_ldap_prepare(app, why, sizeof why) < 0) {
		gh_cli_error("%s", why);
		gh_app_close(app);
		return GH_EXIT_FAIL;
	}
	*ret = app;
	return 0;
}

static int ldap_sync(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	bool dry = false;
	char err[GH_LDAP_ERRLEN] = "", esc[GH_LDAP_ERRLEN * 4];
	int c, r;
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":hn", opts, NULL)) != -1) {
		if (c == 'n')
			dry = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "[--dry-run]")))
		return r;
	if ((r = open_ldap_app(cli, &app)))
		return r;
	r = gh_ldap_sync(app, app->store, dry, stdout, err, sizeof err);
	if (r < 0)
		gh_cli_error("ldap sync failed, nothing disabled: %s", gh_escape(esc, sizeof esc, err));
	gh_app_close(app);
	r = r < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
	if (!dry)
		gh_cli_audit_change(cli, "ldap", "sync", argc, argv, r);
	return r;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static void print_list(const char *what, char **v, size_t n)
{
	printf("%s:%s\n", what, n ? "" : " none");
	for (size_t i = 0; i < n; i++) {
		char esc[1024];
		printf("  %s\n", gh_escape(esc, sizeof esc, v[i]));
	}
}

/* What the store says of NAME next to what the directory says. */
static void print_store_side(struct gh_app *app, const char *name, const struct gh_ldap_entry *e)
{
	struct gh_user u = { 0 };
	int r = gh_store_user_get(app->store, name, &u);
	if (r == GH_ENOENT)
		printf("gatehouse: no user yet (created at the next sync or first login)\n");
	else if (r < 0)
		printf("gatehouse: store error\n");
	else if (!u.ldap)
		printf("gatehouse: a LOCAL user of that name exists; the directory is not used for "
		       "it\n");
	else
		printf("gatehouse: LDAP user, %s\n", u.disabled ? "disabled" : "enabled");
	if (r == 0)
		gh_user_free(&u);
	if (e->disabled)
		printf("login: refused: disabled in the directory (%s)\n", e->disabled_why);
	else if (r == 0 && !u.ldap)
		printf("login: as the local user\n");
	else
		printf("login: password (a bind as the DN)%s\n",
		       e->n_keys ? " or one of the keys above" : "");
}

static int test_user(struct gh_app *app, struct gh_ldap *l, const char *name)
{
	struct gh_ldap_entry e = { 0 };
	char err[GH_LDAP_ERRLEN] = "", esc[1024], *filter = NULL;
	char **groups = NULL;
	size_t ng = 0;
	/* the value is escaped (RFC 4515: printable ASCII only); the template is the
	 * administrator's: shown as it is unless it holds anything else */
	if (gh_ldap_filter_fill(gh_ldap_user_filter(&app->cfg), name, &filter) == 0)
		printf("filter: %s\n", printable(filter) ? filter : gh_escape(esc, sizeof esc, filter));
	free(filter);
	int r = gh_ldap_find_user(l, name, &e, err, sizeof err);
	if (r < 0) {
		printf("user %s: %s\n", gh_escape(esc, sizeof esc, name),
		       gh_escape(esc + 512, sizeof esc - 512, err));
		return GH_EXIT_FAIL;
	}
	printf("dn: %s\n", gh_escape(esc, sizeof esc, e.dn));
	printf("name: %s\n", gh_escape(esc, sizeof esc, e.name));
	printf("display name: %s\n", e.display ? gh_escape(esc, sizeof esc, e.display) : "-");
	printf("email: %s\n", e.email ? gh_escape(esc, sizeof esc, e.email) : "-");
	printf("directory: %s\n", e.disabled ? e.disabled_why : "enabled");
	print_list("keys", e.keys, e.n_keys);
	print_list("directory groups", e.groups, e.n_groups);
	r = gh_ldap_map_groups(&app->cfg, &e, &groups, &ng);
	if (r == 0)
		print_list("gatehouse groups", groups, ng);
	print_store_side(app, name, &e);
	gh_ldap_strv_free(groups, ng);
	gh_ldap_entry_clear(&e);
	return r < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
}

static int ldap_test(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_ldap *l = NULL;
	char err[GH_LDAP_ERRLEN] = "", esc[GH_LDAP_ERRLEN * 4];
	int r;
	if ((r = gh_cli_simple_opts(cli, argc, argv, NULL)))
		return r < 0 ? gh_cli_help(cli) : r;
	if ((r = gh_cli_positional(cli, argc, 0, 1, "[USER]")))
		return r;
	if ((r = open_ldap_app(cli, &app)))
		return r;
	const struct gh_config *cfg = &app->cfg;
	printf("url: %s (%s)\n", cfg->ldap_url,
	       strncasecmp(cfg->ldap_url, "ldaps", 5) ? "StartTLS" : "TLS");
	printf("bind: %s\n", cfg->ldap_bind_dn[0] ? cfg->ldap_bind_dn : "anonymous");
	printf("user bases: %s\n", cfg->ldap_user_base);
	r = gh_ldap_open(cfg, app->ldap_secret, &l, err, sizeof err);
	if (r < 0) {
		printf("connection: FAILED: %s\n", gh_escape(esc, sizeof esc, err));
		r = GH_EXIT_FAIL;
		goto out;
	}
	printf("connection: ok (TLS, bound)\n");
	r = optind < argc ? test_user(app, l, argv[optind]) : GH_EXIT_OK;
out:
	gh_ldap_close(l);
	gh_app_close(app);
	return r;
}

int gh_cmd_ldap(struct gh_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		gh_cmd_fn fn;
	} verbs[] = { { "sync", ldap_sync }, { "test", ldap_test } };
	char esc[128];
	cli->usage = usage;
	snprintf(cli->cmd, sizeof cli->cmd, "ldap");
	if (argc < 2)
		return gh_cli_usage_error(cli, "'ldap' needs a command");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return gh_cli_help(cli);
	/* not gh_cli_dispatch: test is read-only and sync files its own events */
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(verbs[i].name, argv[1]))
			continue;
		snprintf(cli->cmd, sizeof cli->cmd, "ldap %s", verbs[i].name);
		return verbs[i].fn(cli, argc - 1, argv + 1);
	}
	return gh_cli_usage_error(cli, "unknown command 'ldap %s'",
				  gh_escape(esc, sizeof esc, argv[1]));
}
