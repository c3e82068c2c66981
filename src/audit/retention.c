/* Recording retention (see retention.h). */
#include "audit/retention.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/util.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct victim {
	char *id, *path, *sha, *asset;
	int64_t started_at, ended_at;
};

struct collect {
	int64_t cutoff;
	struct victim *v;
	size_t n, cap;
};

static int pick(void *ud, const struct gh_recording_row *row)
{
	struct collect *c = ud;
	/* never an open session, nor one without a file */
	if (row->ended_at == 0 || row->ended_at >= c->cutoff || !row->path || !*row->path)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct victim *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv)
			return GH_ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	struct victim *x = &c->v[c->n];
	memset(x, 0, sizeof *x);
	x->id = strdup(row->session_id);
	x->path = strdup(row->path);
	x->sha = row->sha256 ? strdup(row->sha256) : NULL;
	x->asset = row->asset_name ? strdup(row->asset_name) : NULL;
	x->started_at = row->started_at;
	x->ended_at = row->ended_at;
	c->n++;
	if (!x->id || !x->path)
		return GH_ENOMEM;
	return 0;
}

/* The audit detail of a removal: path="..." sha256=... days=N (caller frees). */
static char *removal_detail(const struct victim *x, int days)
{
	size_t el = strlen(x->path) * 4 + 1, dl = el + 128;
	char *esc = malloc(el);
	char *detail = malloc(dl);
	if (detail && esc) {
		gh_escape(esc, el, x->path);
		snprintf(detail, dl, "path=\"%s\" sha256=%s days=%d", esc, x->sha ? x->sha : "-", days);
	}
	free(esc);
	return detail;
}

/* Remove one recording: only a regular file beneath RECORDINGS_DIR
 * (sessions.recording_path is writable by the worker user). The row is
 * cleared first (only if the session is closed, in the store's own check),
 * then the file goes. */
static int remove_one(struct gh_store *st, const char *recordings_dir, const struct victim *x,
		      char *why, size_t whylen)
{
	int fd = -1;
	int r = gh_open_beneath(recordings_dir, x->path, &fd, why, whylen);
	if (fd >= 0)
		close(fd);
	if (r == GH_ENOENT)
		r = 0; /* already gone: the row is cleared */
	if (r == 0)
		r = gh_store_session_forget_recording(st, x->id);
	if (r == 0) {
		r = gh_unlink_beneath(recordings_dir, x->path, why, whylen);
		if (r == GH_ENOENT)
			r = 0;
	}
	return r;
}

int gh_retention_prune(struct gh_store *st, const char *recordings_dir, int days, bool apply,
		       const char *actor, gh_prune_fn fn, void *ud, size_t *ret_n)
{
	struct collect c = { .cutoff = gh_now() - (int64_t)days * 86400 };
	size_t done = 0;
	int r = 0;
	if (days < 0 || !recordings_dir)
		return GH_EINVAL;
	/* a session ending before the cutoff started before it */
	r = gh_store_recordings_each(st, c.cutoff, pick, &c);
	for (size_t i = 0; r == 0 && i < c.n; i++) {
		struct victim *x = &c.v[i];
		struct gh_recording_row row = { .session_id = x->id, .path = x->path, .sha256 = x->sha,
						.started_at = x->started_at, .ended_at = x->ended_at,
						.asset_name = x->asset };
		char why[GH_SAFE_WHYLEN] = "";
		int err = apply ? remove_one(st, recordings_dir, x, why, sizeof why) : 0;
		if (apply && err == 0) {
			char *detail = removal_detail(x, days);
			struct gh_audit_who w = { .user = actor };
			gh_audit_retention(st, &w, x->id, x->asset, detail);
			free(detail);
		}
		if (err == 0)
			done++;
		if (fn)
			fn(ud, &row, err, why);
	}
	for (size_t i = 0; i < c.n; i++) {
		free(c.v[i].id);
		free(c.v[i].path);
		free(c.v[i].sha);
		free(c.v[i].asset);
	}
	free(c.v);
	if (ret_n)
		*ret_n = done;
	return r;
}
