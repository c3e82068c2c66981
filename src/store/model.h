/* The model: the domain types every module speaks (users, keys, groups,
 * nodes, assets, accounts, permissions, sessions, events), the role,
 * protocol and action vocabularies and their parsers, and the destructors
 * of values the store fills. No SQL, no store handle: the store
 * (store/store.h, which includes this) reads and writes these.
 *
 * Ownership: a struct filled by a gh_store_*_get/list call owns its
 * strings and arrays; release it with the matching *_free(), which accepts
 * NULL and a zeroed struct. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	GH_PROTO_REDIS = 1 << 10,
	GH_PROTO_ALL = 0x7ff,
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
	bool ldap;               /* source "ldap": the directory holds its password (store/ldapstore.c) */
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
	char *node;              /* node_name of the node whose worker runs it */
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
