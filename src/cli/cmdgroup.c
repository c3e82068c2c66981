/* gatehouse cmdgroup: command groups (lists of commands or regexes that
 * command filters refer to). */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "filter/rules.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse cmdgroup add NAME [--kind shell|sql|redis] [--regex] [--ignore-case]\n"
	"                          [--cmd WORDS]... [PATTERN]...\n"
	"  gatehouse cmdgroup list [--json]\n"
	"  gatehouse cmdgroup del NAME\n"
	"\n"
	"A command group lists commands or PCRE2 regexes. PATTERNs are command words\n"
	"(\"rm\", \"git push --force\"), or regexes with --regex; --cmd adds command words\n"
	"in either case. A command word matches the command's name as a whole word\n"
	"(\"rm\" matches \"/bin/rm -rf x\", not \"rmdir\"); further words must be its first\n"
	"arguments. A regex is searched in the command with its words joined by one\n"
	"space. --ignore-case applies to both. Command filters bind groups to users\n"
	"and assets (gatehouse cmdfilter); a group in use cannot be deleted.\n"
	"--kind says what the group judges: shell commands (the default), SQL statements\n"
	"or Redis commands of the database gateway (docs/DATABASES.md); sql and redis\n"
	"groups ignore case. Example: gatehouse cmdgroup add danger --cmd rm --regex\n"
	"'^shutdown\\b' --ignore-case; gatehouse cmdgroup add ddl --kind sql 'DROP TABLE'\n";

enum { OPT_REGEX = 1000, OPT_ICASE, OPT_CMD, OPT_KIND };

#define MAX_PATTERN 4096

int gh_cli_cmdgroup_check(struct gh_cmdgroup_row *g, char *err, size_t errlen)
{
	char esc[128];
	if (!g->name || !gh_valid_name(g->name)) {
		snprintf(err, errlen, "bad command group name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
				      "(not starting with -)",
			 gh_escape(esc, sizeof esc, g->name ? g->name : ""));
		return GH_EINVAL;
	}
	if (g->kind && strcmp(g->kind, "shell") && strcmp(g->kind, "sql") && strcmp(g->kind, "redis")) {
		snprintf(err, errlen, "bad value '%s' for --kind: expected shell, sql or redis",
			 gh_escape(esc, sizeof esc, g->kind));
		return GH_EINVAL;
	}
	g->ignore_case = g->ignore_case || (g->kind && strcmp(g->kind, "shell")); /* SQL, Redis */
	if (!g->n) {
		snprintf(err, errlen, "give at least one command or regex");
		return GH_EINVAL;
	}
	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->patterns[i]) > MAX_PATTERN) {
			snprintf(err, errlen, "pattern %zu is longer than %d bytes", i + 1, MAX_PATTERN);
			return GH_EINVAL;
		}
	return gh_cmdgroup_row_check(g, err, errlen) < 0 ? GH_EINVAL : 0;
}

json_t *gh_cli_cmdgroup_json(const struct gh_cmdgroup_row *g)
{
	json_t *j = json_object(), *pats = json_array();
	for (size_t k = 0; k < g->n; k++) {
		json_t *p = json_object();
		json_object_set_new(p, "type", json_string(g->is_regex[k] ? "regex" : "command"));
		json_object_set_new(p, "pattern", json_string(g->patterns[k]));
		json_array_append_new(pats, p);
	}
	json_object_set_new(j, "name", json_string(g->name));
	json_object_set_new(j, "ignore_case", json_boolean(g->ignore_case));
	json_object_set_new(j, "kind", json_string(g->kind ? g->kind : "shell"));
	json_object_set_new(j, "patterns", pats);
	json_object_set_new(j, "created_at", gh_cli_json_time(g->created_at));
	return j;
}

static int group_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "regex", no_argument, NULL, OPT_REGEX },
		{ "ignore-case", no_argument, NULL, OPT_ICASE },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "cmd", required_argument, NULL, OPT_CMD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_cmdgroup_row g = { 0 };
	bool regex = false;
	char esc[128], err[400];
	int c, r = 0;

	g.patterns = calloc((size_t)argc + 1, sizeof *g.patterns);
	g.is_regex = calloc((size_t)argc + 1, sizeof *g.is_regex);
	if (!g.patterns || !g.is_regex) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_REGEX:
			regex = true;
			break;
		case OPT_ICASE:
			g.ignore_case = true;
			break;
		case OPT_KIND:
			g.kind = optarg;
			break;
		case OPT_CMD:
			g.is_regex[g.n] = false;
			g.patterns[g.n++] = optarg;
			break;
		case 'h':
			r = gh_cli_help(cli);
			goto out;
		default:
			r = gh_cli_bad_option(cli, c, argv);
			goto out;
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, argc, "NAME [--regex] [--ignore-case] "
						      "[--cmd WORDS]... [PATTERN]...")))
		goto out;
	g.name = argv[optind];
	for (int i = optind + 1; i < argc; i++) {
		g.is_regex[g.n] = regex;
		g.patterns[g.n++] = argv[i];
	}
	if (gh_cli_cmdgroup_check(&g, err, sizeof err) < 0) {
		r = gh_cli_usage_error(cli, "%s", err);
		goto out;
	}
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	gh_escape(esc, sizeof esc, g.name);
	r = gh_store_cmdgroup_add(app->store, &g, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("command group '%s' already exists", esc);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add command group '%s'", esc);
	} else {
		printf("added command group '%s' (%zu pattern%s)\n", esc, g.n, g.n == 1 ? "" : "s");
		r = GH_EXIT_OK;
	}
out:
	free(g.patterns);
	free(g.is_regex);
	gh_app_close(app);
	return r;
}

static int group_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_cmdgroup_row *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_cmdgroup_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list command groups");
		goto out;
	}
	json_t *arr = json_array();
	t = gh_table_new(3, "NAME", "CASE", "PATTERNS");
	for (size_t i = 0; arr && i < n; i++) {
		json_t *j = gh_cli_cmdgroup_json(&v[i]);
		size_t len = 1;
		for (size_t k = 0; k < v[i].n; k++)
			len += strlen(v[i].patterns[k]) + 8;
		char *text = calloc(1, len);
		for (size_t k = 0; text && k < v[i].n; k++) {
			if (k)
				strcat(text, "  ");
			strcat(text, v[i].is_regex[k] ? "re:" : "cmd:");
			strcat(text, v[i].patterns[k]);
		}
		json_array_append_new(arr, j);
		if (t)
			gh_table_add(t, v[i].name, v[i].ignore_case ? "ignore" : "exact", text);
		free(text);
	}
	if (json) {
		r = gh_cli_json_print(arr) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	json_decref(arr);
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_cmdgroup_rows_free(v, n);
	gh_app_close(app);
	return r;
}

static int group_del(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	char esc[80];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME", GH_APP_NO_VAULT, &app, &r))
		return r;
	gh_escape(esc, sizeof esc, argv[optind]);
	r = gh_store_cmdgroup_del(app->store, argv[optind]);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown command group '%s'", esc);
		r = GH_EXIT_FAIL;
	} else if (r == GH_EBUSY) {
		gh_cli_error("command group '%s' is used by a command filter: delete the filter first",
			     esc);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot delete command group '%s'", esc);
	} else {
		printf("deleted command group '%s'\n", esc);
		r = GH_EXIT_OK;
	}
	gh_app_close(app);
	return r;
}

int gh_cmd_cmdgroup(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", group_add }, { "list", group_list }, { "del", group_del }, { NULL, NULL }
	};
	return gh_cli_dispatch(cli, "cmdgroup", usage, verbs, argc, argv);
}
