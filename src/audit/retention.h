/* Recording retention: remove the recordings of sessions that ended more
 * than DAYS days ago. A session still open is never touched. Each removal
 * is audited (kind "retention", DETAIL `path="..." sha256=...`) and the
 * session row keeps its digest but loses its recording_path.
 *
 * The path comes from the store, which the worker user can write: only a
 * regular file beneath recordings_dir is removed, reached from its
 * directory fd without any symlink (core/safefile.h); anything else is
 * refused (GH_EPERM) and the row left as it is. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_recording_row;

/* Called for each recording that is (APPLY) or would be (dry run) removed;
 * ERR is 0 or why it could not be removed, WHY a short text for GH_EPERM
 * ("" otherwise). */
typedef void (*gh_prune_fn)(void *ud, const struct gh_recording_row *row, int err,
			    const char *why);

/* ACTOR names who prunes in the audit events ("os:NAME", "system:retention").
 * *RET_N: recordings removed (APPLY) or that would be. Returns 0 or a
 * negative GH_E* (a store error). */
int gh_retention_prune(struct gh_store *st, const char *recordings_dir, int days, bool apply,
		       const char *actor, gh_prune_fn fn, void *ud, size_t *ret_n);
