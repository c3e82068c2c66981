/* The CLI's side of a cluster (see clustercli.h). */
#include "cli/clustercli.h"
#include "app/app.h"
#include "audit/verify.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/cluster.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The owning master looks at its commands every second. */
#define REMOTE_WAIT_MS 15000

int gh_cli_kill_remote(struct gh_app *app, const struct gh_session *s, const char *actor,
		       const char *reason)
{
	int64_t id = 0;
	int r = gh_store_node_cmd_add(app->store, s->node, "kill", s->id, actor, reason, &id);
	if (r < 0) {
		gh_cli_error("session %s: cannot ask node %s: %s", s->id, s->node, gh_strerror(r));
		return -1;
	}
	int64_t end = gh_mono_ms() + REMOTE_WAIT_MS;
	while (gh_mono_ms() < end) {
		struct gh_node_cmd c = { 0 };
		r = gh_store_node_cmd_get(app->store, id, &c);
		bool done = r == 0 && c.done_at > 0;
		bool ok = done && c.result && !strcmp(c.result, "ok");
		if (done && !ok)
			gh_cli_error("session %s on node %s: %s", s->id, s->node,
				     c.result ? c.result : "failed");
		gh_node_cmd_free(&c);
		if (done)
			return ok ? 0 : -1;
		usleep(100 * 1000);
	}
	gh_cli_error("session %s: node %s did not answer (is it running?)", s->id, s->node);
	return -1;
}

static const char migrate_usage[] =
	"Usage: gatehouse migrate --from-sqlite FILE\n"
	"\n"
	"Copy the SQLite store FILE into the configured PostgreSQL store (database =\n"
	"postgresql; it must be empty), then verify the audit chain there.\n";

static int migrate_copy(struct gh_app *app, const char *file)
{
	struct gh_store *src = NULL;
	char why[256] = "";
	size_t rows = 0;
	struct gh_audit_verify v;
	int r = gh_store_open_sqlite(file, app->cfg.store_busy_timeout_ms, &src);
	if (r < 0) {
		gh_cli_error("cannot open %s: %s", file, gh_strerror(r));
		return GH_EXIT_FAIL;
	}
	r = gh_store_copy_sqlite(app->store, src, &rows, why, sizeof why);
	src = gh_store_close(src);
	if (r < 0) {
		gh_cli_error("migrate: nothing copied: %s", why);
		return GH_EXIT_FAIL;
	}
	printf("copied %zu rows from %s\n", rows, file);
	r = gh_audit_verify(app->store, app->cfg.recordings_dir, &v, NULL, NULL);
	if (r < 0 && r != GH_ECRYPTO) {
		gh_cli_error("cannot verify the audit trail: %s", gh_strerror(r));
		return GH_EXIT_FAIL;
	}
	if (v.chain_ok)
		printf("events: %lld checked, chain intact (tip event %lld)\n",
		       (long long)v.chain.checked, (long long)v.chain.tip_id);
	else
		printf("BAD events: chain broken at event %lld: %s\n", (long long)v.chain.bad_id,
		       v.chain.problem);
	printf("%s\n", v.chain_ok ? "migration verified" : "migration NOT verified");
	return v.chain_ok ? GH_EXIT_OK : GH_EXIT_FAIL;
}

int gh_cmd_migrate(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	cli->usage = migrate_usage;
	snprintf(cli->cmd, sizeof cli->cmd, "migrate");
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return gh_cli_help(cli);
	if (argc != 3 || strcmp(argv[1], "--from-sqlite") != 0)
		return gh_cli_usage_error(cli, "expected --from-sqlite FILE");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	int r = GH_EXIT_FAIL;
	if (!gh_store_is_pg(app->store))
		gh_cli_error("migrate: the configured store is not PostgreSQL (database = postgresql)");
	else
		r = migrate_copy(app, argv[2]);
	gh_app_close(app);
	return r;
}
