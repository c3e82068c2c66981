/* Jumpoints: agents inside remote networks that dial out to the SSH front
 * door (docs/JUMPOINTS.md). The rows only: a jumpoint, its nodes (up to
 * GH_JUMPOINT_MAX_NODES when clustered, one otherwise; each installed with
 * a one-use token of which only the SHA-256 is kept, then known by its own
 * public key) and the assets reached through it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

#define GH_JUMPOINT_MAX_NODES 10
#define GH_JUMPOINT_TOKEN_TTL (24 * 3600)

struct gh_jumpoint_node {
	int64_t id;
	bool registered;         /* has its own key (the token is spent) */
	int64_t token_expires;   /* when not registered */
	char *host, *version;
	bool connected;
	int64_t connected_since, last_seen, sessions;
};

struct gh_jumpoint {
	int64_t id;
	char *name;
	bool clustered, disabled;
	char *comment;
	int64_t created_at;
	struct gh_jumpoint_node *nodes;
	size_t n_nodes;
};

void gh_jumpoint_free(struct gh_jumpoint *j);
void gh_jumpoints_free(struct gh_jumpoint *v, size_t n);

/* GH_EEXIST when NAME is taken. */
int gh_store_jumpoint_add(struct gh_store *st, const char *name, bool clustered,
			  const char *comment, int64_t *ret_id);
int gh_store_jumpoint_get(struct gh_store *st, const char *name, struct gh_jumpoint *ret);
/* With their nodes. */
int gh_store_jumpoint_list(struct gh_store *st, struct gh_jumpoint **ret, size_t *ret_n);
/* GH_EBUSY while an asset is reached through it. */
int gh_store_jumpoint_del(struct gh_store *st, const char *name);
int gh_store_jumpoint_set_disabled(struct gh_store *st, const char *name, bool disabled);

/* A new node of jumpoint JP_ID awaiting registration with the token whose
 * SHA-256 (hex) is TOKEN_HASH, valid until EXPIRES. Unregistered nodes
 * whose token expired are dropped first. GH_ELIMIT when the jumpoint has
 * all the nodes it may have (1, or GH_JUMPOINT_MAX_NODES when clustered). */
int gh_store_jumpoint_node_add(struct gh_store *st, int64_t jp_id, bool clustered,
			       const char *token_hash, int64_t expires, int64_t *ret_id);
/* Spend the token whose hash is TOKEN_HASH: when it names an unregistered
 * node whose token has not expired, of an enabled jumpoint, the node takes
 * PUBKEY ("TYPE BASE64") and the token is gone (one use). *RET_NODE and
 * *RET_JP get the ids. GH_ENOENT otherwise (unknown, used or expired:
 * one answer). */
int gh_store_jumpoint_register(struct gh_store *st, const char *token_hash, const char *pubkey,
			       int64_t now, int64_t *ret_node, int64_t *ret_jp);

/* The jumpoint ASSET_ID is reached through (*ret_id 0: none). */
int gh_store_asset_jumpoint(struct gh_store *st, int64_t asset_id, int64_t *ret_id);
/* Reach ASSET_ID through jumpoint JP_ID (0: not); a jumpoint replaces the
 * asset's gateway and a gateway its jumpoint (store/route.h). */
int gh_store_asset_set_jumpoint(struct gh_store *st, int64_t asset_id, int64_t jp_id);

/* The registered node of an enabled jumpoint whose key is PUBKEY ("TYPE
 * BASE64"); GH_ENOENT otherwise. */
int gh_store_jumpoint_node_by_key(struct gh_store *st, const char *pubkey, int64_t *ret_node);
/* The node's connection, held by the worker PID: claim (connected, since
 * NOW, HOST and VERSION; a newer connection of the node takes it over),
 * heartbeat (last_seen NOW; GH_ENOENT when another connection took it
 * over, or the node or its jumpoint was deleted or disabled) and drop (disconnected, when PID still holds it). */
int gh_store_jumpoint_node_claim(struct gh_store *st, int64_t node, int64_t pid, const char *host,
				 const char *version, int64_t now);
int gh_store_jumpoint_node_beat(struct gh_store *st, int64_t node, int64_t pid, int64_t now);
int gh_store_jumpoint_node_drop(struct gh_store *st, int64_t node, int64_t pid, int64_t now);

/* The connections NODE's connection held by PID carries now (`sessions`). */
int gh_store_jumpoint_node_sessions(struct gh_store *st, int64_t node, int64_t pid, int64_t n);
/* The connected nodes of enabled jumpoint JP_ID (up to CAP ids). */
int gh_store_jumpoint_connected(struct gh_store *st, int64_t jp_id, int64_t *ids, size_t cap,
				size_t *ret_n);
/* Whether NODE's connection held by the worker PID is recorded connected. */
int gh_store_jumpoint_node_held(struct gh_store *st, int64_t node, int64_t pid, bool *ret);
/* The name of jumpoint JP_ID into BUF (GH_ENOENT: none). */
int gh_store_jumpoint_name(struct gh_store *st, int64_t jp_id, char *buf, size_t cap);
/* The destinations NODE may be asked for: one line "ADDRESS PORT\n" per
 * asset reached through its jumpoint, into BUF (CAP bytes, NUL-terminated;
 * GH_ELIMIT when they do not fit). */
int gh_store_jumpoint_node_dests(struct gh_store *st, int64_t node, char *buf, size_t cap);
