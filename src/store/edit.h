/* Editing assets and groups in place (`asset set`, `group set`), and the
 * names a denial reason speaks of. Part of the store: the only code that
 * writes SQL. Each edit is one write transaction: all of it or nothing.
 *
 * Ownership: inputs are borrowed; arrays returned through ret_* are
 * allocated here and freed by the caller as stated. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

/* What to change on an asset; everything else stays as it is. */
struct gh_asset_edit {
	const char *address;      /* NULL: unchanged */
	int port;                 /* 0: unchanged */
	const char *platform;     /* NULL: unchanged */
	uint32_t protocols;       /* GH_PROTO_* mask; 0: unchanged */
	const char *comment;      /* NULL: unchanged; "": cleared */
	bool set_host_key;        /* replace the pinned key with HOST_KEY ... */
	const char *host_key;     /* ... "TYPE BASE64", or NULL: forgotten, so the
				     next login pins the key it is shown */
	bool set_nodes;           /* replace the node list with NODE_IDS */
	const int64_t *node_ids;  /* may repeat; none: the top of the tree */
	size_t n_nodes;
};

/* Apply E to asset ID. 0, GH_ENOENT (no such asset), GH_EINVAL (E NULL),
 * or another GH_E* from the database (nothing changed then). */
int gh_store_asset_update(struct gh_store *st, int64_t id, const struct gh_asset_edit *e);

/* Rename group ID to NEW_NAME (NULL: keep the name; the command filters
 * naming the group follow it) and, with SET_MEMBERS,
 * make USER_IDS (may repeat, may be empty) its only members. 0, GH_ENOENT,
 * GH_EEXIST (NEW_NAME taken), or another GH_E* (nothing changed then). */
int gh_store_group_update(struct gh_store *st, int64_t id, const char *new_name, bool set_members,
			  const int64_t *user_ids, size_t n_users);

/* Names of the groups of user USER_ID, sorted: a malloc'd array of
 * malloc'd strings (NULL when *RET_N is 0); free with gh_store_names_free. */
int gh_store_user_group_names(struct gh_store *st, int64_t user_id, char ***ret, size_t *ret_n);
/* Accepts NULL. */
void gh_store_names_free(char **names, size_t n);
