/* `gatehouse audit verify`: the event chain and every closed recording. */
#pragma once
#include "audit/chain.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

struct gh_audit_verify {
	struct gh_chain_report chain;
	bool chain_ok;
	size_t rec_checked;   /* closed sessions with a recording, files hashed */
	size_t rec_bad;       /* digest mismatch, file missing, removed unrecorded */
	size_t rec_unsealed;  /* closed without a digest (worker died, older data) */
};

/* A recording problem: PROBLEM is "missing", "altered", "unsealed",
 * "removed", "digest-mismatch" or "refused" (the row names something other
 * than a regular file beneath recordings_dir: not read); TEXT a sentence. */
typedef void (*gh_verify_rec_fn)(void *ud, const struct gh_recording_row *row,
				 const char *problem, const char *text);

/* Recordings are read only beneath RECORDINGS_DIR (core/safefile.h: the
 * paths come from the store, which the worker user can write). Returns 0
 * when everything is intact, GH_ECRYPTO when anything is not (see OUT),
 * another negative GH_E* on a store error. */
int gh_audit_verify(struct gh_store *st, const char *recordings_dir, struct gh_audit_verify *out,
		    gh_verify_rec_fn fn, void *ud);

/* Hex SHA-256 of what is left to read from FD into HEX (65 bytes); GH_EIO. */
int gh_fd_sha256(int fd, char hex[65]);
