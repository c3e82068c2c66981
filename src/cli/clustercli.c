/* The CLI's side of a cluster (see clustercli.h). */
#include "cli/clustercli.h"
#include "app/app.h"
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
