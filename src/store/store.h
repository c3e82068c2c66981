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

struct gh_config;
struct gh_store;

/* Roles */
enum gh_role { GH_ROLE_USER = 0, GH_ROLE_AUDITOR = 1, GH_ROLE_ADMIN = 2 };
const char *gh_role_name(int role);
int gh_role_parse(const char *s); /* -1 when unknown */

/* Permission actions (bit mask) */
enum {
	GH_ACT_CONNECT = 1 << 0,
	GH_ACT_UPLOAD = 1 << 1,
	GH_ACT_DOWNLOAD = 1 << 2,
	GH_ACT_DELETE = 1 << 3,
	GH_ACT_COPY = 1 << 4,
	GH_ACT_PASTE = 1 << 5,
	GH_ACT_SHARE = 1 << 6,
	GH_ACT_FORWARD = 1 << 7,
	GH_ACT_ALL = 0xff,
};
/* Protocols (bit mask) */
enum {
	GH_PROTO_SSH = 1 << 0,
	GH_PROTO_SFTP = 1 << 1,
	GH_PROTO_SCP = 1 << 2,
	GH_PROTO_TELNET = 1 << 3,
	GH_PROTO_RDP = 1 << 4,
	GH_PROTO_VNC = 1 << 5,
	GH_PROTO_MYSQL = 1 << 6,
	GH_PROTO_POSTGRESQL = 1 << 7,
	GH_PROTO_K8S = 1 << 8,
	GH_PROTO_TCP = 1 << 9,
	GH_PROTO_ALL = 0x3ff,
};
/* Parse "connect,upload" / "ssh,sftp" (or "all"); GH_EINVAL on an unknown
 * or empty word (callers name the bad word themselves). */
int gh_actions_parse(const char *s, uint32_t *ret);
int gh_protocols_parse(const char *s, uint32_t *ret);
/* Parse a port list "5432,80,80" (1..65535, at most GH_PORTS_MAX, no
 * spaces) into a sorted unique malloc'd array (caller frees *ret).
 * GH_EINVAL on a bad or empty list. */
#define GH_PORTS_MAX 64
int gh_ports_parse(const char *s, uint16_t **ret, size_t *ret_n);
/* The same, normalised to "80,5432" (caller frees *ret). */
int gh_ports_normalize(const char *s, char **ret);
/* Format a mask as "connect,upload" into BUF. */
char *gh_actions_format(uint32_t mask, char *buf, size_t len);
char *gh_protocols_format(uint32_t mask, char *buf, size_t len);
const char *gh_action_name(uint32_t bit);
const char *gh_protocol_name(uint32_t bit);

struct gh_user {
	int64_t id;
	char *name;
	int role;
	char *password_hash;     /* Argon2id string, NULL when none */
	uint8_t *totp_sealed;    /* sealed TOTP seed, NULL when none */
	size_t totp_sealed_len;
	bool disabled;
	int64_t created_at;
};

struct gh_user_key {
	int64_t id;
	int64_t user_id;
	char *type;              /* "ssh-ed25519", ... */
	char *base64;            /* key blob, base64 */
	char *comment;
	char *fingerprint;       /* "SHA256:..." */
	int64_t created_at;
};

struct gh_group {
	int64_t id;
	char *name;
	int64_t created_at;
};

struct gh_node {
	int64_t id;
	char *path;              /* "/Beijing/Haidian", no trailing slash */
};

struct gh_asset {
	int64_t id;
	char *name;
	char *address;
	int port;
	char *platform;          /* linux, unix, windows, network-device, mysql, ... */
	uint32_t protocols;      /* GH_PROTO_* */
	char *comment;
	char *host_key;          /* pinned "type base64", NULL until first use */
	int64_t created_at;
	/* filled by get/list: node paths this asset sits in */
	char **nodes;
	size_t n_nodes;
};

enum gh_secret_kind { GH_SECRET_PASSWORD = 0, GH_SECRET_KEY = 1 };

struct gh_account {
	int64_t id;
	int64_t asset_id;
	char *username;
	int secret_kind;         /* GH_SECRET_* */
	uint8_t *sealed;         /* vault-sealed secret; never printed */
	size_t sealed_len;
	int64_t created_at;
};

struct gh_perm {
	int64_t id;
	char *name;
	uint32_t actions;        /* GH_ACT_* */
	uint32_t protocols;      /* GH_PROTO_* */
	int64_t valid_from;      /* 0 = no lower bound */
	int64_t valid_until;     /* 0 = no upper bound */
	bool active;
	int64_t created_at;
	/* subjects */
	int64_t *user_ids; size_t n_users;
	int64_t *group_ids; size_t n_groups;
	/* targets */
	int64_t *asset_ids; size_t n_assets;
	int64_t *node_ids; size_t n_nodes;
	/* named accounts (usernames); none = all accounts */
	char **accounts; size_t n_accounts;
	/* ports the forward action is limited to ("22,5432", sorted, unique);
	 * NULL or "" = any port */
	char *forward_ports;
	/* access schedule ("Mon-Fri 09:00-18:00 Europe/Berlin", see
	 * auth/acl.h); NULL = always */
	char *schedule;
};

struct gh_session {
	char *id;                /* 32 hex chars */
	int64_t user_id;
	char *user_name;
	char *source_addr;
	int source_port;
	int64_t asset_id;
	char *asset_name;
	char *account;
	char *protocol;          /* "ssh", "sftp", ... */
	char *kind;              /* "shell", "exec", "menu", ... */
	int64_t started_at;
	int64_t ended_at;        /* 0 while active */
	int exit_status;         /* -1 when none */
	char *exit_signal;       /* NULL when none */
	int64_t bytes_in;        /* client -> target */
	int64_t bytes_out;       /* target -> client */
	char *recording_path;
	char *close_reason;
	int worker_pid;
};

struct gh_event {
	int64_t id;
	int64_t ts;
	char *kind;              /* "login", "session", "hostkey", "policy", ... */
	char *user_name;         /* as presented; may be unknown */
	char *source;            /* "ip:port" */
	char *session_id;
	char *asset_name;
	char *account;
	char *method;            /* "password", "publickey", ... */
	char *result;            /* "success", "failure", "allow", "deny", ... */
	char *reason;
	char *detail;            /* free text or JSON */
	char *prev_hash;
	char *hash;
};

void gh_user_free(struct gh_user *u);
void gh_user_key_free(struct gh_user_key *k);
void gh_group_free(struct gh_group *g);
void gh_node_free(struct gh_node *n);
void gh_asset_free(struct gh_asset *a);
void gh_account_free(struct gh_account *a);
void gh_perm_free(struct gh_perm *p);
void gh_session_free(struct gh_session *s);
void gh_event_free(struct gh_event *e);
/* Free an array of N structs (and the array) returned by a *_list call. */
void gh_users_free(struct gh_user *v, size_t n);
void gh_user_keys_free(struct gh_user_key *v, size_t n);
void gh_groups_free(struct gh_group *v, size_t n);
void gh_nodes_free(struct gh_node *v, size_t n);
void gh_assets_free(struct gh_asset *v, size_t n);
void gh_accounts_free(struct gh_account *v, size_t n);
void gh_perms_free(struct gh_perm *v, size_t n);
void gh_sessions_free(struct gh_session *v, size_t n);
void gh_events_free(struct gh_event *v, size_t n);

/* Open the store named by CFG (creating the file and running migrations).
 * Safe to call from many processes at once. */
int gh_store_open(const struct gh_config *cfg, struct gh_store **ret);
/* Open a SQLite file directly (tests, tools). BUSY_MS: busy timeout. */
int gh_store_open_sqlite(const char *path, int busy_ms, struct gh_store **ret);
struct gh_store *gh_store_close(struct gh_store *st);
/* In a child right after fork(): let go of the parent's store handle ST
 * before opening the child's own (a handle opened while the inherited
 * one is still there takes no locks of its own, see store/sqlite.c).
 * Nothing is written. Accepts NULL; returns NULL. */
struct gh_store *gh_store_forget(struct gh_store *st);
int gh_store_schema_version(struct gh_store *st);
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

/* Audit events: appended in one transaction with the hash chain
 * (hash = SHA-256 over prev_hash and the event's fields). id, ts (when 0),
 * prev_hash and hash are set by the store. */
int gh_store_event_add(struct gh_store *st, const struct gh_event *e);
/* Newest first; KIND may be NULL for all. */
int gh_store_event_list(struct gh_store *st, const char *kind, int limit,
			struct gh_event **ret, size_t *ret_n);
/* Recompute the chain; returns 0 when intact, GH_ECRYPTO with *ret_bad_id set when not. */
int gh_store_event_verify(struct gh_store *st, int64_t *ret_bad_id);

/* ---- audit: the chain's tip, verification, tailing, queries, digests ---- */

/* The tip: id and hash of the last appended event, written in the same
 * transaction as the event (so removing the last events is seen). */
int gh_store_event_tip(struct gh_store *st, int64_t *ret_id, char ret_hash[65]);

struct gh_chain_report {
	int64_t checked;     /* events walked */
	int64_t last_id;     /* id of the last event walked */
	int64_t tip_id;      /* the recorded tip */
	int64_t bad_id;      /* first bad event (or the missing tip) when not clean */
	char problem[256];   /* what is wrong, when not clean */
};
/* Walk the whole chain: 0 when intact, GH_ECRYPTO (REP filled) when an event
 * was altered, removed, inserted or reordered, or the end was cut off. */
int gh_store_chain_verify(struct gh_store *st, struct gh_chain_report *rep);

/* Called for each event (borrowed for the call); return 0 to go on. */
typedef int (*gh_store_event_fn)(void *ud, const struct gh_event *e);
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
