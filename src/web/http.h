/* One HTTP request as the web process sees it, the route table and what
 * handlers share. Private to src/web/: nothing here knows libwebsockets
 * (server.c is the only file that does), so the router and the handlers
 * can be driven by tests and fuzz targets without a socket. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_app;
struct gh_store;
struct gh_penalty;

#define GH_WEB_PARAM_MAX 256     /* one {param} of a path, decoded */
#define GH_WEB_PATH_MAX 2048
#define GH_WEB_HDR_MAX 1024      /* Cookie, Authorization, X-CSRF-Token kept */

/* Who may call a route: everyone, or a signed-in user of at least a role
 * (store.h: GH_ROLE_USER < GH_ROLE_AUDITOR < GH_ROLE_ADMIN). */
enum { GH_WEB_PUBLIC = -1 };

/* What the web process holds while it serves. */
struct gh_web_ctx {
	struct gh_app *app;          /* borrowed: configuration, vault */
	struct gh_store *st;         /* borrowed: the web process's store */
	struct gh_penalty *penalty;  /* failed web logins per source, when no master_ch */
	int master_ch;               /* the master's penalties (penalty_ch.h); -1: none */
	int master_pid;              /* parent whose life means the SSH listener is up */
	int term_fd;                 /* the web terminals' spawner (term.h) */
};

enum gh_web_method { GH_GET = 1, GH_POST, GH_PUT, GH_PATCH, GH_DELETE };

struct gh_web_req {
	int method;                  /* enum gh_web_method; 0: other */
	char path[GH_WEB_PATH_MAX];
	char query[GH_WEB_PATH_MAX]; /* "a=1&b=2", decoded values; may be empty */
	const char *body;            /* borrowed, LEN bytes (not NUL-terminated) */
	size_t body_len;
	char cookie[GH_WEB_HDR_MAX];
	char authorization[GH_WEB_HDR_MAX];
	char csrf[GH_WEB_HDR_MAX];   /* X-CSRF-Token */
	char peer[64];               /* source address */
	bool accept_gzip;            /* Accept-Encoding names gzip */
	bool plain;                  /* came on metrics_listen: GET /metrics only, no auth */
	char params[2][GH_WEB_PARAM_MAX]; /* the {...} parts of the route */
	/* filled by authentication */
	int64_t user_id;
	char user[65];
	int role;
	char actor[96];              /* "web:USER" or "token:NAME" */
	char session_hash[65];       /* cookie session; empty for tokens */
};

struct gh_web_resp {
	int status;
	char *body;                  /* malloc'd */
	size_t len;
	const char *ctype;           /* static */
	const char *encoding;        /* static Content-Encoding, or NULL */
	char set_cookie[256];        /* empty: none */
	char location[256];          /* empty: none */
};

typedef int (*gh_web_handler)(struct gh_web_ctx *ctx, struct gh_web_req *req,
			      struct gh_web_resp *resp);

struct gh_web_route {
	int method;
	const char *pattern;         /* "/api/v1/assets/{name}" */
	int role;                    /* GH_WEB_PUBLIC or the least GH_ROLE_* */
	gh_web_handler fn;
	const char *summary;         /* for openapi.json */
	bool body;                   /* takes a JSON body */
	bool body_optional;          /* ... which may be left out */
};

extern const struct gh_web_route gh_web_routes[];
extern const size_t gh_web_n_routes;

const char *gh_web_method_name(int method);

/* The route for METHOD and PATH, with the {...} parts into PARAMS (NULL
 * when none). *RET_OTHER_METHOD: PATH names a route of another method
 * (405 rather than 404). */
const struct gh_web_route *gh_web_route_find(int method, const char *path,
					     char params[2][GH_WEB_PARAM_MAX],
					     bool *ret_other_method);

/* The whole request: route, authenticate, check the role (the one place
 * that does), CSRF on cookie writes, then the handler. Always fills RESP. */
void gh_web_dispatch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);

/* The value of KEY in REQ's query into OUT (decoded). 0, GH_ENOENT,
 * GH_EINVAL (too long or badly encoded). */
int gh_web_query(const struct gh_web_req *req, const char *key, char *out, size_t outlen);

/* Decode %XX in place; GH_EINVAL on a bad escape or a NUL byte. */
int gh_web_urldecode(char *s);

/* ---- responses ---------------------------------------------------------- */

/* RESP = STATUS with J (stolen) as its body. Returns 0. */
int gh_web_json(struct gh_web_resp *resp, int status, json_t *j);
/* RESP = STATUS {"error": MESSAGE}. Returns 0. */
int gh_web_error(struct gh_web_resp *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* RESP = the status a store error means (404, 409, 500) with MESSAGE. */
int gh_web_store_error(struct gh_web_resp *resp, int err, const char *what);

/* REQ's body as a JSON object (*RET, caller decrefs). GH_EINVAL with RESP
 * set to 400 when it is not one (depth, size and duplicate keys bounded). */
int gh_web_body(const struct gh_web_req *req, struct gh_web_resp *resp, json_t **ret);
/* Parse BODY (LEN bytes) as a JSON object; ERR gets why not. */
int gh_web_json_decode(const char *body, size_t len, json_t **ret, char *err, size_t errlen);

/* Record a change made through the API (kind "change", actor REQ->actor). */
void gh_web_audit_change(struct gh_web_ctx *ctx, const struct gh_web_req *req, const char *what,
			 bool ok, const char *detail);

/* ---- authentication (auth.c) -------------------------------------------- */

/* Fill REQ's user from its session cookie or bearer token. 0, or GH_EAUTH
 * (401; a refused token is audited). */
int gh_web_authenticate(struct gh_web_ctx *ctx, struct gh_web_req *req);
/* Hex SHA-256 of S into OUT (65 bytes). */
void gh_web_hash(const char *s, char out[65]);
/* 32 random bytes as hex with PREFIX into OUT. */
void gh_web_random(const char *prefix, char *out, size_t outlen);

int gh_web_h_login(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_logout(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_me(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);

/* ---- handlers (api_*.c) -------------------------------------------------- */
int gh_web_h_health(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_openapi(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_asset_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_asset_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_asset_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_asset_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_asset_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_token_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_token_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_token_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_check(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_group_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_group_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_session_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp);
int gh_web_h_my_sessions(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_session_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_metrics(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_recording(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_session_kill(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_access_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_access_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			 struct gh_web_resp *resp);
int gh_web_h_access_approve(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp);
int gh_web_h_access_deny(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_account_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp);
int gh_web_h_account_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_account_set(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_account_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_audit(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_my_keys(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_my_key_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_my_key_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_my_assets(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_perm_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_mfa_reset(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp);
int gh_web_h_user_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_group_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_group_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_member_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_member_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_node_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_node_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_node_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_node_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_node_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_terminal(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_audit_verify(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_loginacl_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_loginacl_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_loginacl_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_loginacl_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdgroup_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdgroup_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdgroup_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdgroup_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdfilter_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdfilter_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdfilter_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_cmdfilter_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_review_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_review_approve(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_review_deny(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_lock(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_unlock(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_disable(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
int gh_web_h_user_enable(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp);
