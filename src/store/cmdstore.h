/* The store's part for command filtering (migration "2"): command groups,
 * command filters and command reviews (approval requests).
 * Same ownership rules as store.h: returned structs are freed by the caller
 * with the matching *_free() (which accepts NULL); strings passed in are
 * borrowed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

/* A command group: patterns in order, each a command (words) or a regex. */
struct gh_cmdgroup_row {
	int64_t id;
	char *name;
	bool ignore_case;
	char *kind;              /* "shell" (NULL on add: shell), "sql", "redis" */
	char **patterns;
	bool *is_regex;          /* parallel to patterns */
	size_t n;
	int64_t created_at;
};

/* What a command filter is bound to. An empty USER+UGROUP list means every
 * user; an empty ASSET+NODE list every asset; an empty ACCOUNT list every
 * account. CMDGROUP lists the command groups (at least one). Stored by
 * name: a deleted user, group, asset or node then matches nothing. */
enum gh_cfref {
	GH_CFREF_CMDGROUP = 0,
	GH_CFREF_USER,
	GH_CFREF_UGROUP,
	GH_CFREF_ASSET,
	GH_CFREF_NODE,
	GH_CFREF_ACCOUNT,
	GH_CFREF_COUNT
};

struct gh_cmdfilter_row {
	int64_t id;
	char *name;
	int priority;            /* 1..100, lower first */
	char *action;            /* "reject" | "accept" | "review" | "warn" */
	char **refs[GH_CFREF_COUNT];
	size_t n_refs[GH_CFREF_COUNT];
	int64_t created_at;
};

/* A command held for review. STATE "pending" | "approved" | "denied" |
 * "expired". */
struct gh_review {
	int64_t id;
	char *session_id;
	char *user_name;
	char *asset_name;
	char *account;
	char *command;
	char *filter_name;
	char *state;
	char *decided_by;
	int64_t created_at;
	int64_t decided_at;      /* 0 while pending */
	int64_t expires_at;
};

void gh_cmdgroup_row_free(struct gh_cmdgroup_row *g);
void gh_cmdgroup_rows_free(struct gh_cmdgroup_row *v, size_t n);
void gh_cmdfilter_row_free(struct gh_cmdfilter_row *f);
void gh_cmdfilter_rows_free(struct gh_cmdfilter_row *v, size_t n);
void gh_review_free(struct gh_review *r);
void gh_reviews_free(struct gh_review *v, size_t n);

/* Groups. GH_EEXIST on a duplicate name; del: GH_ENOENT when absent,
 * GH_EBUSY when a filter still names it. Lists are sorted by name. */
int gh_store_cmdgroup_add(struct gh_store *st, const struct gh_cmdgroup_row *g, int64_t *ret_id);
int gh_store_cmdgroup_list(struct gh_store *st, struct gh_cmdgroup_row **ret, size_t *ret_n);
int gh_store_cmdgroup_del(struct gh_store *st, const char *name);

/* Filters. add: GH_EEXIST on a duplicate name, GH_ENOENT when a named
 * command group does not exist. Lists are sorted by priority, then name. */
int gh_store_cmdfilter_add(struct gh_store *st, const struct gh_cmdfilter_row *f, int64_t *ret_id);
int gh_store_cmdfilter_list(struct gh_store *st, struct gh_cmdfilter_row **ret, size_t *ret_n);
int gh_store_cmdfilter_del(struct gh_store *st, const char *name);

/* Reviews. add ignores id, state (stored "pending"), decided_*. */
int gh_store_review_add(struct gh_store *st, const struct gh_review *rv, int64_t *ret_id);
int gh_store_review_get(struct gh_store *st, int64_t id, struct gh_review *ret);
/* Newest first; PENDING_ONLY: state "pending" only. */
int gh_store_review_list(struct gh_store *st, bool pending_only, int limit,
			 struct gh_review **ret, size_t *ret_n);
/* Move a pending review to STATE ("approved" | "denied" | "expired"),
 * recording BY (may be NULL) and the time. GH_ENOENT when no such review,
 * GH_EBUSY when it is no longer pending (decided or expired), GH_ETIMEDOUT
 * when it was pending but past expires_at (it is then marked expired). */
int gh_store_review_decide(struct gh_store *st, int64_t id, const char *state, const char *by);
