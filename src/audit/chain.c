/* The audit hash chain (chain.h): hashing, linking, verifying. */
#include "audit/chain.h"
#include "core/error.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void gh_chain_hash(const struct gh_event *e, int64_t id, int64_t ts, const char *prev, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char dig[32];
	char num[64];
	const char *fields[] = { prev, NULL, NULL, e->kind, e->user_name, e->source, e->session_id,
				 e->asset_name, e->account, e->method, e->result, e->reason, e->detail };
	char idbuf[32], tsbuf[32];
	snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
	snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
	fields[1] = idbuf;
	fields[2] = tsbuf;
	crypto_hash_sha256_init(&h);
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *f = fields[i] ? fields[i] : "";
		int n = snprintf(num, sizeof num, "%c%zu:", fields[i] ? 's' : 'n', strlen(f));
		crypto_hash_sha256_update(&h, (const unsigned char *)num, (unsigned long long)n);
		crypto_hash_sha256_update(&h, (const unsigned char *)f, strlen(f));
	}
	crypto_hash_sha256_final(&h, dig);
	sodium_bin2hex(out, 65, dig, sizeof dig);
}

int gh_chain_append(struct gh_store *st, const struct gh_event *e)
{
	return gh_store_event_append(st, e, GH_CHAIN_GENESIS, gh_chain_hash);
}

/* The walk: each row must link to the one before and match its hash; the
 * recorded tip must be met with its hash. */
struct walk {
	struct gh_chain_report *rep;
	char prev[65];  /* stored hash of the previous row */
	int64_t prev_id;
	int64_t tip_id;
	const char *tip_hash;
	bool tip_seen;
};

static void broken_link(struct gh_chain_report *rep, const struct gh_event *e, int64_t prev_id)
{
	if (e->id != prev_id + 1)
		snprintf(rep->problem, sizeof rep->problem,
			 "event %lld follows event %lld: events %lld..%lld were removed",
			 (long long)e->id, (long long)prev_id, (long long)prev_id + 1,
			 (long long)e->id - 1);
	else
		snprintf(rep->problem, sizeof rep->problem,
			 "event %lld does not chain to event %lld before it: an event was "
			 "removed, inserted or reordered",
			 (long long)e->id, (long long)prev_id);
}

static int walk_row(void *ud, const struct gh_event *e)
{
	struct walk *v = ud;
	struct gh_chain_report *rep = v->rep;
	char h[65];
	int r = 0;

	rep->checked++;
	rep->last_id = e->id;
	gh_chain_hash(e, e->id, e->ts, e->prev_hash, h);
	if (strcmp(e->prev_hash, v->prev) != 0) {
		broken_link(rep, e, v->prev_id);
		r = GH_ECRYPTO;
	} else if (strcmp(e->hash, h) != 0) {
		snprintf(rep->problem, sizeof rep->problem,
			 "event %lld does not match its hash: it was altered (or moved)",
			 (long long)e->id);
		r = GH_ECRYPTO;
	} else if (e->id == v->tip_id) {
		v->tip_seen = true;
		if (strcmp(e->hash, v->tip_hash) != 0) {
			snprintf(rep->problem, sizeof rep->problem,
				 "event %lld is not the event recorded as the chain's tip: the "
				 "chain was rewritten from there",
				 (long long)e->id);
			r = GH_ECRYPTO;
		}
	}
	if (r == GH_ECRYPTO)
		rep->bad_id = e->id;
	snprintf(v->prev, sizeof v->prev, "%s", e->hash);
	v->prev_id = e->id;
	return r;
}

int gh_chain_verify(struct gh_store *st, struct gh_chain_report *rep)
{
	char tip_hash[65];
	int64_t tip_id = 0;
	memset(rep, 0, sizeof *rep);
	/* The tip is read first: events appended during the walk come after it. */
	int r = gh_store_event_tip(st, &tip_id, tip_hash);
	if (r == GH_ENOENT) {
		tip_id = 0;
		memcpy(tip_hash, GH_CHAIN_GENESIS, sizeof tip_hash);
	} else if (r == GH_EINVAL) {
		snprintf(rep->problem, sizeof rep->problem, "the chain's tip record is damaged");
		return GH_ECRYPTO;
	} else if (r < 0) {
		return r;
	}
	rep->tip_id = tip_id;
	struct walk v = { .rep = rep, .tip_id = tip_id, .tip_hash = tip_hash };
	memcpy(v.prev, GH_CHAIN_GENESIS, sizeof v.prev);
	if ((r = gh_store_event_each(st, walk_row, &v)) < 0)
		return r;
	if (tip_id > 0 && !v.tip_seen) {
		rep->bad_id = tip_id;
		snprintf(rep->problem, sizeof rep->problem,
			 "event %lld, the last one appended, is missing (the log ends at event %lld): "
			 "the end of the chain was removed",
			 (long long)tip_id, (long long)rep->last_id);
		return GH_ECRYPTO;
	}
	return 0;
}
