/* The audit hash chain: how an event is hashed, how rows link, how a walk
 * over the rows verifies them. The computation lives here; the store only
 * keeps the rows and appends them in one transaction with the hash this
 * module computes (gh_store_event_append). No libssh.
 *
 * A row stores the previous row's hash and SHA-256(prev_hash, id, ts,
 * every field), each length-prefixed; the first row's prev_hash is
 * GH_CHAIN_GENESIS. The store also keeps the tip (id and hash of the last
 * row), written with the row, so cutting off the end is seen. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "store/model.h"

struct gh_store;

#define GH_CHAIN_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Hex SHA-256 of event E as row ID at TS after the row hashed PREV, into
 * OUT (65 bytes, NUL-terminated). E's own id, ts and hashes are ignored.
 * Has the shape of gh_store_event_hash_fn. */
void gh_chain_hash(const struct gh_event *e, int64_t id, int64_t ts, const char *prev, char out[65]);

/* Append E to the chain: the store's append with gh_chain_hash. id, ts
 * (when 0), prev_hash and hash are set in the row; E is borrowed. */
int gh_chain_append(struct gh_store *st, const struct gh_event *e);

struct gh_chain_report {
	int64_t checked;     /* events walked */
	int64_t last_id;     /* id of the last event walked */
	int64_t tip_id;      /* the recorded tip */
	int64_t bad_id;      /* first bad event (or the missing tip) when not clean */
	char problem[256];   /* what is wrong, when not clean */
};

/* Walk the whole chain: 0 when intact, GH_ECRYPTO (REP filled) when an event
 * was altered, removed, inserted or reordered, or the end was cut off;
 * another GH_E* on a store error. */
int gh_chain_verify(struct gh_store *st, struct gh_chain_report *rep);
