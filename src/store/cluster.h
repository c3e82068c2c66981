/* Nodes sharing one store (docs/STORE.md): heartbeats, the claim on a
 * lost node, and commands for a node's master (a kill of a session whose
 * worker runs on another node). Every call is one short statement or
 * transaction; times are Unix seconds. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_session;

/* This node (gh_store_node) is alive at NOW. */
int gh_store_node_beat(struct gh_store *st, int64_t now);

/* Claim the nodes other than this one whose last heartbeat is older than
 * NOW - TIMEOUT and that nobody claimed yet: each is claimed by exactly
 * one node (a conditional UPDATE). *ret_names: the ones this call won
 * (caller frees each and the array). */
int gh_store_nodes_claim_lost(struct gh_store *st, int64_t now, int timeout, char ***ret_names,
			      size_t *ret_n);

/* The open sessions of NODE; caller frees with gh_sessions_free. */
int gh_store_session_list_node(struct gh_store *st, const char *node, struct gh_session **ret,
			       size_t *ret_n);

struct gh_node_cmd {
	int64_t id;
	char *node, *verb, *arg, *actor, *reason;
	int64_t done_at;
	char *result; /* "ok" or "error: ..." once done */
};
void gh_node_cmd_free(struct gh_node_cmd *c);

/* Queue VERB ARG for NODE's master; *ret_id: the command's id. */
int gh_store_node_cmd_add(struct gh_store *st, const char *node, const char *verb,
			  const char *arg, const char *actor, const char *reason, int64_t *ret_id);
/* Take the oldest command for this node not done yet (marked taken: done_at
 * -1); GH_ENOENT when there is none. *ret: caller frees (gh_node_cmd_free). */
int gh_store_node_cmd_take(struct gh_store *st, struct gh_node_cmd *ret);
int gh_store_node_cmd_done(struct gh_store *st, int64_t id, const char *result);
int gh_store_node_cmd_get(struct gh_store *st, int64_t id, struct gh_node_cmd *ret);
