/* The session row of a connection's forwards (see tunrow.h). */
#include "ssh/tunrow.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "live/live.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gh_tunrow {
	struct gh_store *st;
	char id[33];
	struct gh_live *live;
};

struct gh_tunrow *gh_tunrow_open(const struct gh_tunrow_opts *o)
{
	struct gh_tunrow *t = calloc(1, sizeof *t);
	struct gh_session s;
	char run_dir[4096];
	if (!t)
		return NULL;
	t->st = o->st;
	gh_session_id_new(t->id);
	memset(&s, 0, sizeof s);
	s.id = t->id;
	s.user_id = o->user->id;
	s.user_name = o->user->name;
	s.source_addr = (char *)o->peer_ip;
	s.source_port = o->peer_port;
	s.asset_name = (char *)o->asset;
	s.account = (char *)o->account;
	s.protocol = (char *)"ssh";
	s.kind = (char *)"tunnel";
	s.started_at = gh_now();
	s.worker_pid = (int)getpid();
	int r = gh_store_session_open(o->st, &s);
	if (r < 0) {
		gh_error("cannot record the tunnel session: %s", gh_strerror(r));
		free(t);
		return NULL;
	}
	struct gh_live_opts lo = { .run_dir = run_dir, .session_id = t->id };
	r = gh_live_run_dir(o->data_dir, run_dir, sizeof run_dir);
	if (r == 0)
		r = gh_live_open(&lo, o->ev, &t->live);
	if (r < 0)
		gh_warn("tunnel session %s: no live socket: %s", t->id, gh_strerror(r));
	return t;
}

const char *gh_tunrow_id(const struct gh_tunrow *t)
{
	return t->id;
}

const char *gh_tunrow_tick(struct gh_tunrow *t)
{
	if (!t || !t->live)
		return NULL;
	gh_live_tick(t->live);
	return gh_live_kill_reason(t->live);
}

struct gh_tunrow *gh_tunrow_close(struct gh_tunrow *t, const char *reason)
{
	if (!t)
		return NULL;
	const char *k = t->live ? gh_live_kill_reason(t->live) : NULL;
	int r = gh_store_session_close(t->st, t->id, -1, NULL, 0, 0, k ? k : reason);
	if (r < 0)
		gh_error("cannot close tunnel session %s: %s", t->id, gh_strerror(r));
	gh_live_close(t->live); /* after the row: K is its text */
	free(t);
	return NULL;
}
