/* gatehouse audit: verify the trail, query it; and the change events every
 * mutating CLI verb leaves (gh_cli_audit_change, called by the dispatcher). */
#include "app/app.h"
#include "audit/audit.h"
#include "audit/export.h"
#include "audit/verify.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse audit verify [--json]\n"
	"      walk the event chain and every closed recording; exit 0 clean, 1 not\n"
	"  gatehouse audit logins|sessions|commands|files|changes [--since TIME] [--until TIME]\n"
	"      [--user NAME] [--asset NAME] [--session ID] [--limit N] [--json]\n"
	"      (newest first, default 100)\n"
	"\n"
	"TIME is ISO 8601 (2026-12-01, 2026-12-01T08:00Z). --json prints the objects\n"
	"the export sinks send (docs/AUDIT.md).\n";

/* ---- verify --------------------------------------------------------------- */

struct verify_out {
	bool json;
	json_t *problems;
};

static void on_rec(void *ud, const struct gh_recording_row *row, const char *problem,
		   const char *text)
{
	struct verify_out *o = ud;
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "session", json_string(row->session_id));
		json_object_set_new(j, "path", gh_cli_json_str(row->path));
		json_object_set_new(j, "problem", json_string(problem));
		json_object_set_new(j, "text", json_string(text));
		json_array_append_new(o->problems, j);
		return;
	}
	char esc[512];
	if (!strcmp(problem, "unsealed"))
		printf("recording of session %s (%s): %s\n", row->session_id,
		       gh_escape(esc, sizeof esc, row->path ? row->path : "-"), text);
	else
		printf("BAD recording of session %s (%s): %s: %s\n", row->session_id,
		       gh_escape(esc, sizeof esc, row->path ? row->path : "-"), problem, text);
}

/* `audit verify --json`: the report V (R its result), PROBLEMS stolen. */
static json_t *verify_json(const struct gh_audit_verify *v, int r, json_t *problems)
{
	json_t *j = json_object(), *ev = json_object(), *rec = json_object();
	json_object_set_new(j, "clean", json_boolean(r == 0));
	json_object_set_new(ev, "ok", json_boolean(v->chain_ok));
	json_object_set_new(ev, "checked", json_integer(v->chain.checked));
	json_object_set_new(ev, "last_id", json_integer(v->chain.last_id));
	json_object_set_new(ev, "tip_id", json_integer(v->chain.tip_id));
	json_object_set_new(ev, "bad_id", v->chain_ok ? json_null() : json_integer(v->chain.bad_id));
	json_object_set_new(ev, "problem",
			    v->chain_ok ? json_null() : json_string(v->chain.problem));
	json_object_set_new(j, "events", ev);
	json_object_set_new(rec, "checked", json_integer((json_int_t)v->rec_checked));
	json_object_set_new(rec, "bad", json_integer((json_int_t)v->rec_bad));
	json_object_set_new(rec, "unsealed", json_integer((json_int_t)v->rec_unsealed));
	json_object_set_new(rec, "problems", problems);
	json_object_set_new(j, "recordings", rec);
	return j;
}

int gh_cli_audit_verify_json(struct gh_store *st, const char *recordings_dir, json_t **ret)
{
	struct gh_audit_verify v;
	struct verify_out o = { .json = true, .problems = json_array() };
	int r = gh_audit_verify(st, recordings_dir, &v, on_rec, &o);
	if (r < 0 && r != GH_ECRYPTO) {
		json_decref(o.problems);
		return r;
	}
	*ret = verify_json(&v, r, o.problems);
	return 0;
}

int gh_cli_audit_verify(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_audit_verify v;
	struct verify_out o = { 0 };
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &o.json, 0, 0, "[--json]", GH_APP_NO_VAULT, &app, &r))
		return r;
	if (o.json)
		o.problems = json_array();
	r = gh_audit_verify(app->store, app->cfg.recordings_dir, &v, on_rec, &o);
	if (r < 0 && r != GH_ECRYPTO) {
		json_decref(o.problems);
		r = gh_cli_fail(app, r, "cannot verify the audit trail");
		gh_app_close(app);
		return r;
	}
	if (o.json) {
		gh_cli_json_print(verify_json(&v, r, o.problems));
	} else {
		if (v.chain_ok)
			printf("events: %lld checked, chain intact (tip event %lld)\n",
			       (long long)v.chain.checked, (long long)v.chain.tip_id);
		else
			printf("BAD events: chain broken at event %lld: %s\n", (long long)v.chain.bad_id,
			       v.chain.problem);
		printf("recordings: %zu checked, %zu bad, %zu without a digest\n", v.rec_checked,
		       v.rec_bad, v.rec_unsealed);
		printf("%s\n", r == 0 ? "audit trail intact" : "audit trail NOT intact");
	}
	gh_app_close(app);
	return r == 0 ? GH_EXIT_OK : GH_EXIT_FAIL;
}

/* ---- queries ---------------------------------------------------------------- */

enum { OPT_SINCE = 1000, OPT_UNTIL, OPT_USER, OPT_ASSET, OPT_SESSION, OPT_LIMIT, OPT_JSON };

static int query(struct gh_cli *cli, int argc, char **argv, const char *const *kinds,
		 size_t n_kinds)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "user", required_argument, NULL, OPT_USER },
		{ "asset", required_argument, NULL, OPT_ASSET },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_event_filter f = { .kinds = kinds, .n_kinds = n_kinds, .limit = 100 };
	struct gh_app *app = NULL;
	struct gh_event *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	long long limit = 100;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SINCE:
			if ((r = gh_cli_parse_time(cli, "--since", optarg, &f.since)))
				return r;
			break;
		case OPT_UNTIL:
			if ((r = gh_cli_parse_time(cli, "--until", optarg, &f.until)))
				return r;
			break;
		case OPT_USER:
			f.user = optarg;
			break;
		case OPT_ASSET:
			f.asset = optarg;
			break;
		case OPT_SESSION:
			f.session_id = optarg;
			break;
		case OPT_LIMIT:
			if ((r = gh_cli_parse_int(cli, "--limit", optarg, 1, 100000000, &limit)))
				return r;
			f.limit = (int)limit;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			return gh_cli_help(cli);
		default:
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0,
				   "[--since T] [--until T] [--user U] [--asset A] [--session ID] [--limit N] [--json]")))
		return r;
	if (f.since && f.until && f.until <= f.since)
		return gh_cli_usage_error(cli, "--until must be after --since");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	r = gh_store_event_query(app->store, &f, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot query the audit log");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, gh_export_event_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(10, "ID", "TIME", "USER", "SOURCE", "ASSET", "ACCOUNT", "METHOD", "RESULT",
			 "REASON", "DETAIL");
	for (size_t i = 0; t && i < n; i++) {
		char id[32], ts[32];
		snprintf(id, sizeof id, "%lld", (long long)v[i].id);
		gh_table_add(t, id, gh_cli_time_text(v[i].ts, ts, sizeof ts), v[i].user_name,
			     v[i].source, v[i].asset_name, v[i].account, v[i].method, v[i].result,
			     v[i].reason, v[i].detail);
	}
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_events_free(v, n);
	gh_app_close(app);
	return r;
}

/* The audit queries: a name and the event kinds it reads (cli.h). */
static const struct {
	const char *name;
	const char *kinds[2];
	size_t n;
} queries[] = {
	{ "logins", { "login" }, 1 },	  { "sessions", { "session" }, 1 },
	{ "commands", { "command" }, 1 }, { "files", { "file" }, 1 },
	{ "changes", { "change", "retention" }, 2 },
};

int gh_cli_audit_kinds(const char *name, const char *const **ret, size_t *ret_n)
{
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
		if (!strcmp(queries[i].name, name)) {
			*ret = queries[i].kinds;
			*ret_n = queries[i].n;
			return 0;
		}
	return GH_ENOENT;
}

static int named_query(struct gh_cli *cli, int argc, char **argv, const char *name)
{
	const char *const *k = NULL;
	size_t n = 0;
	gh_cli_audit_kinds(name, &k, &n);
	return query(cli, argc, argv, k, n);
}

static int audit_logins(struct gh_cli *cli, int argc, char **argv)
{
	return named_query(cli, argc, argv, "logins");
}

static int audit_sessions(struct gh_cli *cli, int argc, char **argv)
{
	return named_query(cli, argc, argv, "sessions");
}

static int audit_commands(struct gh_cli *cli, int argc, char **argv)
{
	return named_query(cli, argc, argv, "commands");
}

static int audit_files(struct gh_cli *cli, int argc, char **argv)
{
	return named_query(cli, argc, argv, "files");
}

static int audit_changes(struct gh_cli *cli, int argc, char **argv)
{
	return named_query(cli, argc, argv, "changes");
}

int gh_cmd_audit(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "verify", gh_cli_audit_verify }, { "logins", audit_logins },
		{ "sessions", audit_sessions },	   { "commands", audit_commands },
		{ "files", audit_files },	   { "changes", audit_changes },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "audit", usage, verbs, argc, argv);
}

/* ---- change events ------------------------------------------------------------ */

/* Verbs that change nothing (or audit themselves: "prune"). Every other verb
 * a noun dispatches is a change. */
static const char *const read_only_verbs[] = {
	"list",	    "show",	"check",    "verify", "watch", "logins", "sessions",
	"commands", "files",	"changes",  "prune",  "export", NULL,
};

static bool read_only(const char *verb)
{
	for (size_t i = 0; read_only_verbs[i]; i++)
		if (!strcmp(read_only_verbs[i], verb))
			return true;
	return false;
}

void gh_cli_audit_change(struct gh_cli *cli, const char *noun, const char *verb, int argc,
			 char **argv, int status)
{
	char user[96], what[96];
	char *detail = NULL;
	size_t cap = 64, len = 0;
	struct gh_app *app = NULL;
	char err[GH_APP_ERRLEN];

	if (status == GH_EXIT_USAGE || read_only(verb))
		return;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return;
	}

	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		snprintf(user, sizeof user, "os:%s", pw->pw_name);
	else
		snprintf(user, sizeof user, "os:uid=%u", (unsigned)getuid());
	snprintf(what, sizeof what, "%s %s", noun, verb);

	/* what: the positional names (getopt moved them to ARGV[optind..]) and
	 * the option names given; option values are left out (never secrets). */
	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) * 4 + 8;
	detail = malloc(cap);
	if (!detail)
		return;
	detail[0] = '\0';
	int first = optind > 0 && optind <= argc ? optind : argc;
	for (int i = first; i < argc; i++) {
		char *esc = malloc(strlen(argv[i]) * 4 + 1);
		if (!esc)
			break;
		gh_escape(esc, strlen(argv[i]) * 4 + 1, argv[i]);
		len += (size_t)snprintf(detail + len, cap - len, "%s\"%s\"", len ? " " : "", esc);
		free(esc);
	}
	for (int i = 1; i < first; i++) {
		if (argv[i][0] != '-' || !argv[i][1])
			continue;
		char opt[48], esc[200];
		size_t ol = strcspn(argv[i], "=");
		snprintf(opt, sizeof opt, "%.*s", (int)(ol < 40 ? ol : 40), argv[i]);
		gh_escape(esc, sizeof esc, opt);
		len += (size_t)snprintf(detail + len, cap - len, "%s%s", len ? " " : "", esc);
	}

	if (gh_app_open(cli->data_dir, cli->config, GH_APP_NO_VAULT, &app, err) < 0) {
		if (status == GH_EXIT_OK)
			gh_cli_error("warning: the change was made but could not be audited: %s", err);
		free(detail);
		return;
	}
	struct gh_audit_who w = { .user = user, .source = "cli" };
	if (gh_audit_change(app->store, &w, what, status == GH_EXIT_OK, detail) < 0)
		gh_cli_error("warning: the change could not be audited");
	gh_app_close(app);
	free(detail);
}
