/* The session row of a connection's forwards (see tunrow.h). */
#include "ssh/tunrow.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "audit/audit.h"
#include "live/live.h"
#include "session/end.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gh_tunrow {
	struct gh_store *st;
	char id[33];
	char *user, *source, *asset, *account; /* for its events */
	struct gh_live *live;
};

static struct gh_audit_who tunrow_who(const struct gh_tunrow *t)
{
	struct gh_audit_who w = { .user = t->user, .source = t->source, .session_id = t->id };
	return w;
}

static void tunrow_free(struct gh_tunrow *t)
{
	free(t->user);
	free(t->source);
	free(t->asset);
	free(t->account);
	free(t);
}

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
	char source[128];
	snprintf(source, sizeof source, "%s:%d", o->peer_ip ? o->peer_ip : "-", o->peer_port);
	t->user = strdup(o->user->name);
	t->source = strdup(source);
	t->asset = o->asset ? strdup(o->asset) : NULL;
	t->account = o->account ? strdup(o->account) : NULL;
	int r = !t->user || !t->source || (o->asset && !t->asset) || (o->account && !t->account)
			? GH_ENOMEM
			: gh_store_session_open(o->st, &s);
	if (r < 0) {
		gh_error("cannot record the tunnel session: %s", gh_strerror(r));
		tunrow_free(t);
		return NULL;
	}
	struct gh_audit_who w = tunrow_who(t);
	gh_audit_session(o->st, &w, o->asset, o->account, "start", NULL, "tunnel");
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
	struct gh_audit_who w = tunrow_who(t);
	struct gh_session_end e = { .id = t->id, .asset = t->asset, .account = t->account,
				    .exit_status = -1, .reason = k ? k : reason };
	gh_session_end(t->st, &w, &e);
	gh_live_close(t->live); /* after the row: K is its text */
	tunrow_free(t);
	return NULL;
}
