/* API tokens and web console sessions (the web process and `gatehouse
 * token`). Only hashes are stored: a token or session id is shown once to
 * its holder and kept here as the hex SHA-256 of its text (both are 256
 * random bits, so a plain hash is as strong as the secret). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

struct gh_api_token {
	int64_t id;
	char *name;
	int64_t user_id;
	char *user_name;
	int64_t created_at;
	int64_t expires_at;      /* 0: never */
	int64_t last_used;       /* 0: never */
};

void gh_api_token_free(struct gh_api_token *t);
void gh_api_tokens_free(struct gh_api_token *v, size_t n);

/* GH_EEXIST when NAME is taken. */
int gh_store_token_add(struct gh_store *st, const char *name, int64_t user_id, const char *hash,
		       int64_t expires_at, int64_t *ret_id);
int gh_store_token_list(struct gh_store *st, struct gh_api_token **ret, size_t *ret_n);
/* GH_ENOENT when there is none. */
int gh_store_token_del(struct gh_store *st, const char *name);
int gh_store_token_by_name(struct gh_store *st, const char *name, struct gh_api_token *ret);
/* The token whose hash is HASH (GH_ENOENT: none); it says nothing of
 * expiry: the caller compares expires_at. */
int gh_store_token_by_hash(struct gh_store *st, const char *hash, struct gh_api_token *ret);
int gh_store_token_touch(struct gh_store *st, int64_t id, int64_t now);

struct gh_web_session {
	int64_t user_id;
	char csrf[65];           /* hex; sent back by the client on writes */
	int64_t created_at;
	int64_t last_seen;
};

int gh_store_websession_add(struct gh_store *st, const char *hash, int64_t user_id,
			    const char *csrf, int64_t now);
/* GH_ENOENT when there is none. */
int gh_store_websession_get(struct gh_store *st, const char *hash, struct gh_web_session *ret);
int gh_store_websession_touch(struct gh_store *st, const char *hash, int64_t now);
int gh_store_websession_del(struct gh_store *st, const char *hash);
/* Drop sessions idle since before IDLE_BEFORE or created before
 * CREATED_BEFORE. */
int gh_store_websession_prune(struct gh_store *st, int64_t idle_before, int64_t created_before);

/* Access requests: a user asks for an account on an asset for some
 * minutes; an approver approves (a permission is made) or denies. */
struct gh_access_req {
	int64_t id;
	int64_t user_id;
	char *user_name;
	int64_t asset_id;
	char *asset_name;
	char *account, *reason, *ticket;
	int minutes;
	char *status;            /* "pending", "approved", "denied" */
	int64_t created_at, decided_at;
	char *decided_by, *perm_name; /* NULL until decided */
};

void gh_access_req_free(struct gh_access_req *a);
void gh_access_reqs_free(struct gh_access_req *v, size_t n);
int gh_store_access_add(struct gh_store *st, const struct gh_access_req *a, int64_t *ret_id);
int gh_store_access_get(struct gh_store *st, int64_t id, struct gh_access_req *ret);
/* USER_ID 0: everyone's; else the user's own and those the user
 * approves (gh_store_access_approver). Newest first. */
int gh_store_access_list(struct gh_store *st, int64_t user_id, struct gh_access_req **ret,
			 size_t *ret_n);
/* Pending request ID -> STATUS by BY (PERM_NAME may be NULL); GH_EBUSY
 * when it was already decided, GH_ENOENT when there is none. */
int gh_store_access_decide(struct gh_store *st, int64_t id, const char *status, const char *by,
			   const char *perm_name, int64_t now);

/* The approvers of node PATH (its assets and those of the nodes under it):
 * the members of GROUP; GROUP NULL: none. GH_ENOENT: no such node or
 * group. */
int gh_store_node_set_approvers(struct gh_store *st, const char *path, const char *group);
/* The group approving directly at node PATH: *RET_GROUP (caller frees) or
 * NULL. */
int gh_store_node_approvers(struct gh_store *st, const char *path, char **ret_group);
/* Is USER_ID a member of the approvers of a node holding (at or above it)
 * the asset of request ID? */
int gh_store_access_approver(struct gh_store *st, int64_t id, int64_t user_id, bool *ret);
