/* gatehouse config: check or show the effective configuration. */
#include "auth/ldap.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse config check   parse the configuration; errors name FILE:LINE\n"
	"  gatehouse config show    print every setting with its effective value\n"
	"\n"
	"The file is --config FILE, else DATA/gatehouse.conf when it exists.\n";

/* Load the configuration the way the server would. *RET_PATH: the file read
 * (NULL when none). 0 or GH_EXIT_FAIL (message printed). */
static int load(const struct gh_cli *cli, struct gh_config *cfg, char **ret_path)
{
	char err[GH_CONFIG_ERRLEN];
	char *path = NULL;
	const char *data = cli->data_dir;
	if (!data || !*data)
		data = getenv("GATEHOUSE_DATA");
	if (!data || !*data)
		data = "./data";
	if (cli->config) {
		path = strdup(cli->config);
	} else if (asprintf(&path, "%s/gatehouse.conf", data) < 0) {
		path = NULL;
	} else if (access(path, F_OK) != 0) {
		free(path);
		path = NULL;
	}
	int r = gh_config_load(cfg, data, cli->config, err);
	if (r < 0) {
		gh_cli_error("%s", err[0] ? err : gh_strerror(r));
		gh_config_free(cfg);
		free(path);
		return GH_EXIT_FAIL;
	}
	*ret_path = path;
	return 0;
}

static int config_check(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_config cfg;
	char *path = NULL;
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 0, 0, "")))
		return r;
	if ((r = load(cli, &cfg, &path)))
		return r;
	char why[256];
	if (gh_ldap_check_config(&cfg, why, sizeof why) < 0) {
		gh_cli_error("%s: %s", path ? path : "defaults", why);
		free(path);
		gh_config_free(&cfg);
		return GH_EXIT_FAIL;
	}
	if (path)
		printf("%s: OK\n", path);
	else
		printf("no configuration file; using the defaults\n");
	free(path);
	gh_config_free(&cfg);
	return GH_EXIT_OK;
}

static int config_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_config cfg;
	char *path = NULL;
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 0, 0, "")))
		return r;
	if ((r = load(cli, &cfg, &path)))
		return r;
	printf("# %s\n", path ? path : "defaults (no configuration file)");
	gh_config_dump(&cfg, stdout);
	free(path);
	gh_config_free(&cfg);
	return GH_EXIT_OK;
}

int gh_cmd_config(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "check", config_check }, { "show", config_show }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "config", usage, verbs, argc, argv);
}
