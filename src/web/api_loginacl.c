/* /api/v1/login-acls: login ACL rules, with the checks and JSON of
 * `gatehouse loginacl` (cli.h). */
#include "web/http.h"
#include "auth/acl.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LIST 256 /* names or sources in one rule */

/* Every rule as `loginacl list --json`; *RET (caller decrefs). */
static int acls_json(struct gh_store *st, json_t **ret)
{
	struct gh_loginacl *v = NULL;
	struct gh_user *u = NULL;
	struct gh_group *g = NULL;
	size_t n = 0, nu = 0, ng = 0;
	int r;
	if ((r = gh_store_loginacl_list(st, &v, &n)) == 0 &&
	    (r = gh_store_user_list(st, &u, &nu)) == 0 && (r = gh_store_group_list(st, &g, &ng)) == 0) {
		*ret = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(*ret, gh_cli_loginacl_json(&v[i], u, nu, g, ng));
	}
	gh_loginacls_free(v, n);
	gh_users_free(u, nu);
	gh_groups_free(g, ng);
	return r;
}

/* RESP = STATUS with the rule NAME, or 404. */
static int reply_acl(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
		     int status)
{
	json_t *all = NULL, *v, *found = NULL;
	size_t i;
	int r = acls_json(ctx->st, &all);
	if (r < 0)
		return gh_web_store_error(resp, r, "login ACL rules");
	json_array_foreach(all, i, v)
		if (!found && !strcmp(json_string_value(json_object_get(v, "name")), name))
			found = json_incref(v);
	json_decref(all);
	return found ? gh_web_json(resp, status, found)
		     : gh_web_error(resp, 404, "login ACL rule not found");
}

int gh_web_h_loginacl_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			   struct gh_web_resp *resp)
{
	json_t *all = NULL;
	(void)req;
	int r = acls_json(ctx->st, &all);
	if (r < 0)
		return gh_web_store_error(resp, r, "login ACL rules");
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", all, "next"));
}

int gh_web_h_loginacl_get(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	return reply_acl(ctx, resp, req->params[0], 200);
}

/* The strings of B's array KEY into *RET (*RET_N; borrowed from B); a
 * missing key is none. GH_EINVAL when not an array of strings. */
static int strings(json_t *b, const char *key, const char ***ret, size_t *ret_n)
{
	json_t *arr = json_object_get(b, key), *v;
	size_t i;
	*ret_n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > MAX_LIST ||
	    !(*ret = calloc(json_array_size(arr) + 1, sizeof **ret)))
		return GH_EINVAL;
	json_array_foreach(arr, i, v) {
		if (!((*ret)[i] = json_string_value(v)))
			return GH_EINVAL;
		(*ret_n)++;
	}
	return 0;
}

/* The rule of B into A (its lists allocated), checked as the CLI checks
 * it. 0, or GH_EINVAL / GH_ENOENT with ERR. */
static int acl_from_body(struct gh_web_ctx *ctx, json_t *b, struct gh_loginacl *a,
			 const char ***users, const char ***groups, char *err, size_t errlen)
{
	static const char *const known[] = { "name", "users", "groups", "sources", "schedule",
					     "action", "priority", NULL };
	const char **src = NULL, *k, *act = json_string_value(json_object_get(b, "action"));
	json_t *prio = json_object_get(b, "priority"), *sched = json_object_get(b, "schedule"), *v;
	size_t nu = 0, ng = 0, ns = 0;
	int r = GH_EINVAL;
	snprintf(err, errlen, "give name, users and/or groups, action (allow|deny) and optionally "
			      "sources, schedule, priority (1-100)");
	json_object_foreach(b, k, v) {
		bool ok = false;
		for (int i = 0; known[i]; i++)
			ok = ok || !strcmp(known[i], k);
		if (!ok)
			goto out;
	}
	if (strings(b, "users", users, &nu) < 0 || strings(b, "groups", groups, &ng) < 0 ||
	    strings(b, "sources", &src, &ns) < 0 || (prio && !json_is_integer(prio)) ||
	    (sched && !json_is_null(sched) && !json_is_string(sched)) ||
	    !json_is_string(json_object_get(b, "name")))
		goto out;
	a->user_ids = calloc(nu + 1, sizeof *a->user_ids);
	a->group_ids = calloc(ng + 1, sizeof *a->group_ids);
	a->sources = calloc(ns + 1, sizeof *a->sources);
	a->schedule = json_is_string(sched) ? strdup(json_string_value(sched)) : NULL;
	a->name = strdup(json_string_value(json_object_get(b, "name")));
	if (!a->user_ids || !a->group_ids || !a->sources || !a->name) {
		r = GH_ENOMEM;
		goto out;
	}
	a->priority = prio ? (int)json_integer_value(prio) : 50;
	a->action = !act		    ? -1
		    : !strcmp(act, "allow") ? GH_ACL_ALLOW
		    : !strcmp(act, "deny")  ? GH_ACL_DENY
					    : -1;
	if (prio && (json_integer_value(prio) < 1 || json_integer_value(prio) > 100)) {
		snprintf(err, errlen, "priority: expected 1-100");
		goto out;
	}
	for (size_t i = 0; i < ns; i++)
		if ((r = gh_cli_loginacl_source(a, src[i])) < 0) {
			snprintf(err, errlen, "bad source: expected an IPv4 or IPv6 address or network");
			goto out;
		}
	if ((r = gh_cli_loginacl_check(a, nu + ng, err, errlen)) == 0)
		r = gh_cli_loginacl_resolve(ctx->st, *users, nu, *groups, ng, a, err, errlen);
out:
	free(src);
	return r;
}

int gh_web_h_loginacl_add(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	struct gh_loginacl a = { 0 };
	const char **users = NULL, **groups = NULL;
	char err[400], detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	json_t *b = NULL;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	int r = acl_from_body(ctx, b, &a, &users, &groups, err, sizeof err);
	if (r == GH_EINVAL || r == GH_ENOENT) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	if (r == 0)
		r = gh_store_loginacl_add(ctx->st, &a, NULL);
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, a.name ? a.name : ""));
	gh_web_audit_change(ctx, req, "loginacl add", r == 0, detail);
	if (r == GH_EEXIST)
		gh_web_error(resp, 409, "login ACL rule already exists");
	else if (r < 0)
		gh_web_store_error(resp, r, "login ACL rule");
	else
		reply_acl(ctx, resp, a.name, 201);
out:
	free(users);
	free(groups);
	gh_loginacl_free(&a);
	json_decref(b);
	return 0;
}

int gh_web_h_loginacl_del(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	int r = gh_store_loginacl_del(ctx->st, req->params[0]);
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, req->params[0]));
	gh_web_audit_change(ctx, req, "loginacl del", r == 0, detail);
	if (r < 0)
		return gh_web_store_error(resp, r, "login ACL rule");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}
