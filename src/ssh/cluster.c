/* The master's part in a cluster (see cluster.h). */
#include "ssh/cluster.h"
#include "app/app.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "live/live.h"
#include "session/end.h"
#include "store/cluster.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS 1000
#define NODE_LOST "node lost"

bool gh_cluster_on(struct gh_app *app)
{
	return app->store && gh_store_is_pg(app->store);
}

/* End the open sessions of NODE, which stopped beating. */
static void close_node(struct gh_store *st, const char *node)
{
	struct gh_session *s = NULL;
	size_t n = 0;
	int r = gh_store_session_list_node(st, node, &s, &n);
	if (r < 0) {
		gh_error("node %s lost: cannot list its sessions: %s", node, gh_strerror(r));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char source[128];
		snprintf(source, sizeof source, "%s:%d", s[i].source_addr ? s[i].source_addr : "-",
			 s[i].source_port);
		struct gh_audit_who who = { .user = s[i].user_name, .source = source };
		struct gh_session_end e = { .id = s[i].id, .asset = s[i].asset_name,
					    .account = s[i].account, .exit_status = -1,
					    .reason = NODE_LOST };
		(void)gh_session_end(st, &who, &e);
	}
	gh_warn("node %s lost (no heartbeat): closed its %zu open session%s", node, n,
		n == 1 ? "" : "s");
	gh_sessions_free(s, n);
}

/* Kill session ID of ours, as the local CLI would (through its live socket). */
static int kill_local(struct gh_app *app, const struct gh_node_cmd *c, char *why, size_t whylen)
{
	char run_dir[4096], req[512], line[256] = "";
	uid_t owner;
	int fd = -1;
	int r = gh_live_run_dir(app->data_dir, run_dir, sizeof run_dir);
	if (r == 0)
		r = gh_live_owner(app->cfg.worker_user, &owner);
	if (r == 0)
		r = gh_live_connect(run_dir, c->arg, owner, &fd, why, whylen);
	if (r < 0)
		goto out;
	int n = snprintf(req, sizeof req, "kill %s %s\n", c->actor, c->reason ? c->reason : "");
	if (n < 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
		r = GH_EIO;
		goto out;
	}
	r = gh_live_read_answer(fd, line, sizeof line);
	if (r < 0)
		snprintf(why, whylen, "%s", line[0] ? line : "no answer");
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && !why[0])
		snprintf(why, whylen, "%s", gh_strerror(r));
	return r;
}

static void run_commands(struct gh_app *app)
{
	struct gh_node_cmd c = { 0 };
	for (int i = 0; i < 32 && gh_store_node_cmd_take(app->store, &c) == 0; i++) {
		char why[GH_LIVE_WHYLEN] = "", res[GH_LIVE_WHYLEN + 16];
		int r = strcmp(c.verb, "kill") ? GH_EINVAL : kill_local(app, &c, why, sizeof why);
		if (r == GH_EINVAL && !why[0])
			snprintf(why, sizeof why, "unknown command");
		snprintf(res, sizeof res, r == 0 ? "ok" : "error: %s", why);
		if (gh_store_node_cmd_done(app->store, c.id, res) < 0)
			gh_error("cluster: cannot record the result of command %lld", (long long)c.id);
		gh_node_cmd_free(&c);
	}
}

void gh_cluster_tick(struct gh_app *app, int64_t *next_ms)
{
	char **lost = NULL;
	size_t n = 0;
	if (!gh_cluster_on(app) || gh_mono_ms() < *next_ms)
		return;
	*next_ms = gh_mono_ms() + TICK_MS;
	int64_t now = gh_now();
	if (gh_store_node_beat(app->store, now) < 0)
		gh_error("cluster: cannot write this node's heartbeat");
	if (gh_store_nodes_claim_lost(app->store, now, app->cfg.node_timeout, &lost, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			close_node(app->store, lost[i]);
			free(lost[i]);
		}
		free(lost);
	}
	run_commands(app);
}
