/* The store: the only door to persistent data, and the only code that
 * writes SQL. Callers speak the model (users, groups, nodes, assets,
 * accounts, permissions, sessions, events) and never see SQL or the
 * backend (SQLite now; the driver interface in db.h lets PostgreSQL follow).
 *
 * Ownership: every struct returned through ret_* is allocated by the
 * store and freed by the caller with the matching *_free() function
 * (which accepts NULL). Strings passed in are borrowed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"

struct gh_config;
struct gh_store;

/* Open the store named by CFG (creating the file and running migrations).
 * Safe to call from many processes at once. */
int gh_store_open(const struct gh_config *cfg, struct gh_store **ret);
/* Open a SQLite file directly (tests, tools). BUSY_MS: busy timeout. */
int gh_store_open_sqlite(const char *path, int busy_ms, struct gh_store **ret);
/* Open a PostgreSQL store: URL a postgresql:// URI without a password,
 * PASSWORD (may be NULL) given apart, never logged. */
int gh_store_open_pg(const char *url, const char *password, int busy_ms, struct gh_store **ret);
bool gh_store_is_pg(struct gh_store *st);
/* Copy every table of SRC (a SQLite store at the same schema version)
 * into DST (an empty PostgreSQL store) in one transaction. *ret_rows:
 * rows copied. On error WHY (WHYLEN) says where. */
int gh_store_copy_sqlite(struct gh_store *dst, struct gh_store *src, size_t *ret_rows,
			 char *why, size_t whylen);
/* This node's name (node_name; "" for a store opened without a config):
 * the node column of the sessions it opens. Borrowed. */
const char *gh_store_node(struct gh_store *st);
struct gh_store *gh_store_close(struct gh_store *st);
/* In a child right after fork(): let go of the parent's store handle ST
 * before opening the child's own (a handle opened while the inherited
 * one is still there takes no locks of its own, see store/sqlite.c).
 * Nothing is written. Accepts NULL; returns NULL. */
struct gh_store *gh_store_forget(struct gh_store *st);
int gh_store_schema_version(struct gh_store *st);
/* A consistent copy of the whole store, taken while others keep writing,
 * into the new file DEST (0600; GH_EEXIST when it exists). GH_EINVAL: the
 * backend has no such copy (PostgreSQL: pg_dump). */
int gh_store_backup(struct gh_store *st, const char *dest);
/* Last backend error message (borrowed, valid until the next call). */
const char *gh_store_errmsg(struct gh_store *st);

/* Meta key/value (installation facts). Caller frees *ret. */
int gh_store_meta_get(struct gh_store *st, const char *key, char **ret);
int gh_store_meta_set(struct gh_store *st, const char *key, const char *value);

/* Users. Names are unique. GH_EEXIST on duplicates, GH_ENOENT when absent. */
int gh_store_user_add(struct gh_store *st, const char *name, int role,
		      const char *password_hash, int64_t *ret_id);
int gh_store_user_get(struct gh_store *st, const char *name, struct gh_user *ret);
int gh_store_user_get_by_id(struct gh_store *st, int64_t id, struct gh_user *ret);
int gh_store_user_list(struct gh_store *st, struct gh_user **ret, size_t *ret_n);
int gh_store_user_del(struct gh_store *st, const char *name);
int gh_store_user_set_password(struct gh_store *st, int64_t id, const char *password_hash);
int gh_store_user_set_disabled(struct gh_store *st, int64_t id, bool disabled);
int gh_store_user_set_role(struct gh_store *st, int64_t id, int role);
int gh_store_user_set_totp(struct gh_store *st, int64_t id, const uint8_t *sealed, size_t len);

int gh_store_key_add(struct gh_store *st, const struct gh_user_key *k, int64_t *ret_id);
int gh_store_key_list(struct gh_store *st, int64_t user_id, struct gh_user_key **ret, size_t *ret_n);
int gh_store_key_del(struct gh_store *st, int64_t user_id, const char *fingerprint);

/* Groups */
int gh_store_group_add(struct gh_store *st, const char *name, int64_t *ret_id);
int gh_store_group_get(struct gh_store *st, const char *name, struct gh_group *ret);
int gh_store_group_list(struct gh_store *st, struct gh_group **ret, size_t *ret_n);
int gh_store_group_del(struct gh_store *st, const char *name);
int gh_store_group_member_add(struct gh_store *st, int64_t group_id, int64_t user_id);
int gh_store_group_member_del(struct gh_store *st, int64_t group_id, int64_t user_id);
/* Users of a group (ret: user structs) / groups of a user (ret: ids). */
int gh_store_group_members(struct gh_store *st, int64_t group_id, struct gh_user **ret, size_t *ret_n);
int gh_store_user_groups(struct gh_store *st, int64_t user_id, int64_t **ret_ids, size_t *ret_n);

/* Nodes: PATH is normalised ("/a/b"); adding creates missing ancestors. */
int gh_node_path_normalize(const char *in, char **ret);
int gh_store_node_add(struct gh_store *st, const char *path, int64_t *ret_id);
int gh_store_node_get(struct gh_store *st, const char *path, struct gh_node *ret);
int gh_store_node_list(struct gh_store *st, struct gh_node **ret, size_t *ret_n);
int gh_store_node_del(struct gh_store *st, const char *path); /* GH_EBUSY if it has children or assets */

/* Assets. asset_add ignores a->id, a->nodes and a->created_at. */
int gh_store_asset_add(struct gh_store *st, const struct gh_asset *a, int64_t *ret_id);
int gh_store_asset_get(struct gh_store *st, const char *name, struct gh_asset *ret);
int gh_store_asset_get_by_id(struct gh_store *st, int64_t id, struct gh_asset *ret);
int gh_store_asset_list(struct gh_store *st, struct gh_asset **ret, size_t *ret_n);
/* At most LIMIT assets whose names sort after AFTER (NULL: from the first), by name. */
int gh_store_asset_page(struct gh_store *st, const char *after, int limit, struct gh_asset **ret,
			size_t *ret_n);
int gh_store_asset_del(struct gh_store *st, const char *name);
int gh_store_asset_set_host_key(struct gh_store *st, int64_t id, const char *host_key);
int gh_store_asset_node_add(struct gh_store *st, int64_t asset_id, int64_t node_id);

/* Accounts (unique per asset+username). */
int gh_store_account_add(struct gh_store *st, const struct gh_account *a, int64_t *ret_id);
int gh_store_account_get(struct gh_store *st, int64_t asset_id, const char *username,
			 struct gh_account *ret);
int gh_store_account_list(struct gh_store *st, int64_t asset_id, struct gh_account **ret, size_t *ret_n);
int gh_store_account_del(struct gh_store *st, int64_t asset_id, const char *username);
/* Replace the sealed secret of an existing account. */
int gh_store_account_set_secret(struct gh_store *st, int64_t id, int kind,
				const uint8_t *sealed, size_t len);

/* Permissions (with their subject/target/account lists). */
int gh_store_perm_add(struct gh_store *st, const struct gh_perm *p, int64_t *ret_id);
int gh_store_perm_get(struct gh_store *st, const char *name, struct gh_perm *ret);
int gh_store_perm_list(struct gh_store *st, struct gh_perm **ret, size_t *ret_n);
int gh_store_perm_del(struct gh_store *st, const char *name);
int gh_store_perm_set_active(struct gh_store *st, int64_t id, bool active);

/* Asset id -> node ids, for every asset (policy loading). Arrays are
 * parallel: asset_ids[i] sits in node_ids[i]. Caller frees both. */
int gh_store_asset_node_pairs(struct gh_store *st, int64_t **ret_asset_ids,
			      int64_t **ret_node_ids, size_t *ret_n);

/* Sessions */
/* Generate a fresh session id (32 hex chars) into BUF (>= 33 bytes). */
void gh_session_id_new(char *buf);
int gh_store_session_open(struct gh_store *st, const struct gh_session *s);
/* Fill target details once known (asset, account, protocol, kind, recording). */
int gh_store_session_update_target(struct gh_store *st, const struct gh_session *s);
int gh_store_session_close(struct gh_store *st, const char *id, int exit_status,
			   const char *exit_signal, int64_t bytes_in, int64_t bytes_out,
			   const char *close_reason);
int gh_store_session_get(struct gh_store *st, const char *id, struct gh_session *ret);
/* Locked users (gatehouse user lock) may not log in. Locking twice or
 * unlocking an unlocked user is not an error. */
int gh_store_user_lock(struct gh_store *st, int64_t user_id, bool locked);
/* 1 when locked, 0 when not, or a negative error. */
int gh_store_user_locked(struct gh_store *st, int64_t user_id);
int gh_store_session_list(struct gh_store *st, bool active_only, int limit,
			  struct gh_session **ret, size_t *ret_n);
/* The still-open sessions of worker PID (reaped by the master: they are
 * closed through session/end.h), oldest first; caller frees with
 * gh_sessions_free. */
int gh_store_session_list_worker(struct gh_store *st, int pid, struct gh_session **ret,
				 size_t *ret_n);

/* Audit events. The chain's computation (hashing, linking, verifying) is
 * audit/chain.h's; the store keeps the rows and the tip. */

/* How an appended row is hashed (audit/chain.h: gh_chain_hash): into OUT
 * (65 bytes) for E as row ID at TS after the row hashed PREV. */
typedef void (*gh_store_event_hash_fn)(const struct gh_event *e, int64_t id, int64_t ts,
				       const char *prev, char out[65]);
/* Append E in one write transaction: the next id, ts (E's, or now when 0),
 * prev_hash (the last row's hash, GENESIS when there is none), hash
 * (HASH's), and the tip moved to it. Callers go through gh_chain_append. */
int gh_store_event_append(struct gh_store *st, const struct gh_event *e, const char *genesis,
			  gh_store_event_hash_fn hash);
/* Newest first; KIND may be NULL for all. */
int gh_store_event_list(struct gh_store *st, const char *kind, int limit,
			struct gh_event **ret, size_t *ret_n);

/* ---- audit: the chain's tip, tailing, queries, digests ---- */

/* The tip: id and hash of the last appended event, written in the same
 * transaction as the event (so removing the last events is seen). */
int gh_store_event_tip(struct gh_store *st, int64_t *ret_id, char ret_hash[65]);

/* Called for each event (borrowed for the call); return 0 to go on. */
typedef int (*gh_store_event_fn)(void *ud, const struct gh_event *e);
/* Every event in id order (the chain's walk). */
int gh_store_event_each(struct gh_store *st, gh_store_event_fn fn, void *ud);
/* Events with id > AFTER_ID in id order, at most LIMIT (<= 0: all). */
int gh_store_event_after(struct gh_store *st, int64_t after_id, int limit, struct gh_event **ret,
			 size_t *ret_n);
/* Every event of KIND in id order. */
int gh_store_event_each_kind(struct gh_store *st, const char *kind, gh_store_event_fn fn, void *ud);

/* Audit queries: every set field narrows; newest first (by ts, then id). */
struct gh_event_filter {
	const char *const *kinds; size_t n_kinds; /* up to 8; none: every kind */
	int64_t since, until;   /* ts >= since, ts < until; 0: unbounded */
	const char *user;       /* user_name */
	const char *asset;      /* asset_name */
	const char *session_id;
	int limit;              /* <= 0: no limit */
};
int gh_store_event_query(struct gh_store *st, const struct gh_event_filter *f,
			 struct gh_event **ret, size_t *ret_n);

/* Recording digests (hex SHA-256 of the file's bytes, set when it closed). */
int gh_store_session_set_recording_sha256(struct gh_store *st, const char *id, const char *hex);
/* Clear a CLOSED session's recording_path (its file was pruned);
 * GH_ENOENT when the session is unknown or still open. */
int gh_store_session_forget_recording(struct gh_store *st, const char *id);
struct gh_recording_row {
	char *session_id;
	char *path;        /* NULL: none (sftp) or pruned */
	char *sha256;      /* NULL: not sealed (still open, or the worker died) */
	int64_t started_at, ended_at; /* ended_at 0: still open */
	int worker_pid;
	char *user_name, *asset_name;
};
typedef int (*gh_store_recording_fn)(void *ud, const struct gh_recording_row *row);
/* Every session that started before STARTED_BEFORE (<= 0: all), oldest first. */
int gh_store_recordings_each(struct gh_store *st, int64_t started_before, gh_store_recording_fn fn,
			     void *ud);

/* Export cursors: the id of the last event a sink delivered. */
int gh_store_cursor_get(struct gh_store *st, const char *sink, int64_t *ret_last_id);
int gh_store_cursor_set(struct gh_store *st, const char *sink, int64_t last_id);

/* Processes working for users (max_sessions_per_user, src/ssh/proclimit.h):
 * one row per connection worker, inner ProxyJump worker and forward helper.
 * A row is claimed before the process exists (PID: the claimer's pid until
 * gh_store_proc_bind names the child) and dropped when it is gone. */
struct gh_proc_claim {
	int64_t user_id;
	const char *kind;       /* "connection", "jump", "forward" */
	int pid;                /* the process counted for now */
	int max_user;           /* rows of the user, this one included */
	int max_total;          /* rows of everyone, this one included */
	/* false: PID is gone (its row is dropped before counting) */
	bool (*alive)(int pid, void *ud);
	void *ud;
};
/* In one write transaction: drop the rows of processes that are gone,
 * count, and add C's row unless it would be more than C->max_user
 * (GH_ELIMIT) or C->max_total (GH_EBUSY). *ret_id: the row. */
int gh_store_proc_claim(struct gh_store *st, const struct gh_proc_claim *c, int64_t *ret_id);
/* The claimed row ID now counts process PID. */
int gh_store_proc_bind(struct gh_store *st, int64_t id, int pid);
/* Drop row ID (the process was not started). */
int gh_store_proc_drop(struct gh_store *st, int64_t id);
/* Drop the rows counting PID (it ended). */
int gh_store_proc_release(struct gh_store *st, int pid);
/* Rows of USER_ID (0: of everyone), processes gone included. */
int gh_store_proc_count(struct gh_store *st, int64_t user_id, int *ret_n);
