/* Processes per user (see proclimit.h). */
#include "ssh/proclimit.h"
#include "ssh/sweep.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>

static bool pid_alive(int pid, void *ud)
{
	(void)ud;
	return gh_worker_alive(pid);
}

int gh_proclimit_claim(struct gh_store *st, const struct gh_config *cfg, const struct gh_user *u,
		       const char *kind, pid_t pid, int64_t *ret_slot, char *why, size_t len)
{
	struct gh_proc_claim c = { .user_id = u->id,
				   .kind = kind,
				   .pid = (int)pid,
				   .max_user = cfg->max_sessions_per_user,
				   .max_total = cfg->max_sessions,
				   .alive = pid_alive };
	int r = gh_store_proc_claim(st, &c, ret_slot);
	if (r == GH_ELIMIT)
		snprintf(why, len, "too many sessions for %s (max_sessions_per_user %d)", u->name,
			 cfg->max_sessions_per_user);
	else if (r == GH_EBUSY)
		snprintf(why, len, "too many sessions on this server (max_sessions %d)",
			 cfg->max_sessions);
	else if (r < 0)
		snprintf(why, len, "cannot count sessions: %s", gh_strerror(r));
	if (r == GH_EBUSY)
		r = GH_ELIMIT;
	if (r < 0)
		gh_warn("%s of %s refused: %s", kind, u->name, why);
	return r;
}

void gh_proclimit_bind(struct gh_store *st, int64_t slot, pid_t pid)
{
	int r = pid > 0 ? gh_store_proc_bind(st, slot, (int)pid) : gh_store_proc_drop(st, slot);
	if (r < 0)
		gh_error("cannot record process %d: %s", (int)pid, gh_strerror(r));
}

void gh_proclimit_release(struct gh_store *st, pid_t pid)
{
	int r = gh_store_proc_release(st, (int)pid);
	if (r < 0)
		gh_error("cannot release process %d: %s", (int)pid, gh_strerror(r));
}
