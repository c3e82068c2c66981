/* Audit verification: the hash chain and the recordings' digests. */
#include "audit/verify.h"
#include "core/error.h"
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gh_fd_sha256(int fd, char hex[65])
{
	crypto_hash_sha256_state h;
	unsigned char dig[crypto_hash_sha256_BYTES];
	unsigned char buf[65536];
	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GH_EIO;
		if (n == 0)
			break;
		crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
	}
	crypto_hash_sha256_final(&h, dig);
	sodium_bin2hex(hex, 65, dig, sizeof dig);
	return 0;
}

/* session id -> digest from the chain ("recording" seals, "retention"). */
struct mark {
	char sid[33];
	char sha[65]; /* "" for a retention mark */
};

struct marks {
	struct mark *v;
	size_t n, cap;
	bool retention;
};

static int add_mark(void *ud, const struct gh_event *e)
{
	struct marks *m = ud;
	if (!e->session_id || strlen(e->session_id) >= sizeof m->v[0].sid)
		return 0;
	if (!m->retention && (!e->result || strcmp(e->result, "sealed") != 0))
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct mark *nv = realloc(m->v, cap * sizeof *nv);
		if (!nv)
			return GH_ENOMEM;
		m->v = nv;
		m->cap = cap;
	}
	struct mark *k = &m->v[m->n++];
	memset(k, 0, sizeof *k);
	snprintf(k->sid, sizeof k->sid, "%s", e->session_id);
	const char *d = e->detail ? strstr(e->detail, "sha256=") : NULL;
	if (d && !m->retention)
		snprintf(k->sha, sizeof k->sha, "%.64s", d + 7);
	return 0;
}

static int cmp_mark(const void *a, const void *b)
{
	return strcmp(((const struct mark *)a)->sid, ((const struct mark *)b)->sid);
}

static const struct mark *find_mark(const struct marks *m, const char *sid)
{
	struct mark key;
	if (!sid || strlen(sid) >= sizeof key.sid)
		return NULL;
	snprintf(key.sid, sizeof key.sid, "%s", sid);
	return m->n ? bsearch(&key, m->v, m->n, sizeof key, cmp_mark) : NULL;
}

struct rec_ctx {
	struct gh_audit_verify *out;
	struct marks *seals, *pruned;
	gh_verify_rec_fn fn;
	void *ud;
	const char *recordings_dir;
};

static void bad(struct rec_ctx *c, const struct gh_recording_row *row, const char *problem,
		const char *text)
{
	c->out->rec_bad++;
	if (c->fn)
		c->fn(c->ud, row, problem, text);
}

static int check_rec(void *ud, const struct gh_recording_row *row)
{
	struct rec_ctx *c = ud;
	char hex[65], text[256];
	if (row->ended_at == 0)
		return 0; /* still being written */
	const struct mark *seal = find_mark(c->seals, row->session_id);
	if (!row->path || !*row->path) {
		if (seal && !find_mark(c->pruned, row->session_id))
			bad(c, row, "removed",
			    "its recording was sealed but the session no longer names it, and no "
			    "retention event records its removal");
		return 0;
	}
	c->out->rec_checked++;
	char why[GH_SAFE_WHYLEN] = "";
	int fd = -1;
	/* the path comes from the store: read only a file beneath recordings_dir */
	int r = gh_open_beneath(c->recordings_dir, row->path, &fd, why, sizeof why);
	if (r == 0) {
		r = gh_fd_sha256(fd, hex);
		close(fd);
	}
	if (r == GH_EPERM) {
		snprintf(text, sizeof text, "refused to read it: %s (not a file beneath recordings_dir)",
			 why);
		bad(c, row, "refused", text);
		return 0;
	}
	if (r == GH_ENOENT) {
		bad(c, row, "missing", "the recording file is missing");
		return 0;
	}
	if (r < 0) {
		bad(c, row, "missing", "the recording file cannot be read");
		return 0;
	}
	const char *want = row->sha256 ? row->sha256 : (seal ? seal->sha : NULL);
	if (!want || !*want) {
		c->out->rec_unsealed++;
		if (c->fn)
			c->fn(c->ud, row, "unsealed",
			      "no digest was stored (the session's worker ended abnormally)");
		return 0;
	}
	if (strcmp(hex, want) != 0) {
		snprintf(text, sizeof text, "the file's SHA-256 %s does not match the stored %s", hex,
			 want);
		bad(c, row, "altered", text);
		return 0;
	}
	if (seal && row->sha256 && strcmp(seal->sha, row->sha256) != 0)
		bad(c, row, "digest-mismatch",
		    "the session's stored digest differs from the one sealed in the event chain");
	return 0;
}

int gh_audit_verify(struct gh_store *st, const char *recordings_dir, struct gh_audit_verify *out,
		    gh_verify_rec_fn fn, void *ud)
{
	struct marks seals = { 0 }, pruned = { .retention = true };
	memset(out, 0, sizeof *out);
	int r = gh_chain_verify(st, &out->chain);
	if (r < 0 && r != GH_ECRYPTO)
		return r;
	out->chain_ok = r == 0;
	r = gh_store_event_each_kind(st, "recording", add_mark, &seals);
	if (r == 0)
		r = gh_store_event_each_kind(st, "retention", add_mark, &pruned);
	if (r == 0) {
		if (seals.n > 1)
			qsort(seals.v, seals.n, sizeof *seals.v, cmp_mark);
		if (pruned.n > 1)
			qsort(pruned.v, pruned.n, sizeof *pruned.v, cmp_mark);
		struct rec_ctx c = { out, &seals, &pruned, fn, ud, recordings_dir };
		r = gh_store_recordings_each(st, 0, check_rec, &c);
	}
	free(seals.v);
	free(pruned.v);
	if (r < 0)
		return r;
	return out->chain_ok && out->rec_bad == 0 ? 0 : GH_ECRYPTO;
}
