/* /api/v1/cmdgroups and /api/v1/cmdfilters: command groups and filters,
 * with the checks and JSON of `gatehouse cmdgroup` and `cmdfilter`
 * (cli.h). Bodies have the fields of their --json lists. */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LIST 256 /* patterns or names in one body */

/* Only the keys in KNOWN (NULL-terminated) in B. */
static bool only_known(json_t *b, const char *const *known)
{
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) {
		bool ok = false;
		for (int i = 0; known[i]; i++)
			ok = ok || !strcmp(known[i], k);
		if (!ok)
			return false;
	}
	return true;
}

static void audit_named(struct gh_web_ctx *ctx, struct gh_web_req *req, const char *what, int r,
			const char *name)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, name ? name : ""));
	gh_web_audit_change(ctx, req, what, r == 0, detail);
}

/* ---- command groups ------------------------------------------------------ */

/* Every group as JSON into *RET, or only NAME's (*RET NULL: none). */
static int groups_json(struct gh_store *st, const char *name, json_t **ret)
{
	struct gh_cmdgroup_row *v = NULL;
	size_t n = 0;
	int r = gh_store_cmdgroup_list(st, &v, &n);
	*ret = name || r < 0 ? NULL : json_array();
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!name)
			json_array_append_new(*ret, gh_cli_cmdgroup_json(&v[i]));
		else if (!strcmp(v[i].name, name) && !*ret)
			*ret = gh_cli_cmdgroup_json(&v[i]);
	gh_cmdgroup_rows_free(v, n);
	return r;
}

int gh_web_h_cmdgroup_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			   struct gh_web_resp *resp)
{
	json_t *all = NULL;
	(void)req;
	int r = groups_json(ctx->st, NULL, &all);
	if (r < 0)
		return gh_web_store_error(resp, r, "command groups");
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", all, "next"));
}

static int reply_group(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
		       int status)
{
	json_t *j = NULL;
	int r = groups_json(ctx->st, name, &j);
	if (r < 0)
		return gh_web_store_error(resp, r, "command group");
	return j ? gh_web_json(resp, status, j) : gh_web_error(resp, 404, "command group not found");
}

int gh_web_h_cmdgroup_get(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	return reply_group(ctx, resp, req->params[0], 200);
}

/* B's group into G (arrays allocated, strings borrowed from B). */
static int group_from_body(json_t *b, struct gh_cmdgroup_row *g, char *err, size_t errlen)
{
	static const char *const known[] = { "name", "kind", "ignore_case", "patterns", NULL };
	json_t *pats = json_object_get(b, "patterns"), *ic = json_object_get(b, "ignore_case"), *p;
	json_t *kind = json_object_get(b, "kind");
	size_t i;
	snprintf(err, errlen, "give name, patterns ([{\"type\": \"command\"|\"regex\", \"pattern\"}]) "
			      "and optionally kind (shell|sql|redis), ignore_case");
	if (!only_known(b, known) || !json_is_array(pats) || json_array_size(pats) > MAX_LIST ||
	    (ic && !json_is_boolean(ic)) || (kind && !json_is_string(kind)) ||
	    !json_is_string(json_object_get(b, "name")))
		return GH_EINVAL;
	g->name = (char *)json_string_value(json_object_get(b, "name"));
	g->kind = (char *)json_string_value(kind);
	g->ignore_case = json_is_true(ic);
	g->patterns = calloc(json_array_size(pats) + 1, sizeof *g->patterns);
	g->is_regex = calloc(json_array_size(pats) + 1, sizeof *g->is_regex);
	if (!g->patterns || !g->is_regex)
		return GH_ENOMEM;
	json_array_foreach(pats, i, p) {
		const char *type = json_string_value(json_object_get(p, "type"));
		const char *pat = json_string_value(json_object_get(p, "pattern"));
		if (!json_is_object(p) || json_object_size(p) != 2 || !type || !pat ||
		    (strcmp(type, "command") && strcmp(type, "regex")))
			return GH_EINVAL;
		g->is_regex[g->n] = !strcmp(type, "regex");
		g->patterns[g->n++] = (char *)pat;
	}
	return gh_cli_cmdgroup_check(g, err, errlen);
}

int gh_web_h_cmdgroup_add(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	struct gh_cmdgroup_row g = { 0 };
	char err[400];
	json_t *b = NULL;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	int r = group_from_body(b, &g, err, sizeof err);
	if (r == GH_EINVAL) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	if (r == 0)
		r = gh_store_cmdgroup_add(ctx->st, &g, NULL);
	audit_named(ctx, req, "cmdgroup add", r, g.name);
	if (r == GH_EEXIST)
		gh_web_error(resp, 409, "command group already exists");
	else if (r < 0)
		gh_web_store_error(resp, r, "command group");
	else
		reply_group(ctx, resp, g.name, 201);
out:
	free(g.patterns);
	free(g.is_regex);
	json_decref(b);
	return 0;
}

int gh_web_h_cmdgroup_del(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	int r = gh_store_cmdgroup_del(ctx->st, req->params[0]);
	audit_named(ctx, req, "cmdgroup del", r, req->params[0]);
	if (r == GH_EBUSY)
		return gh_web_error(resp, 409, "command group is used by a command filter: delete "
					       "the filter first");
	if (r < 0)
		return gh_web_store_error(resp, r, "command group");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}

/* ---- command filters ----------------------------------------------------- */

static const char *const ref_keys[GH_CFREF_COUNT] = { "cmdgroups", "users", "groups",
						       "assets", "nodes", "accounts" };

static int filters_json(struct gh_store *st, const char *name, json_t **ret)
{
	struct gh_cmdfilter_row *v = NULL;
	size_t n = 0;
	int r = gh_store_cmdfilter_list(st, &v, &n);
	*ret = name || r < 0 ? NULL : json_array();
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!name)
			json_array_append_new(*ret, gh_cli_cmdfilter_json(&v[i]));
		else if (!strcmp(v[i].name, name) && !*ret)
			*ret = gh_cli_cmdfilter_json(&v[i]);
	gh_cmdfilter_rows_free(v, n);
	return r;
}

int gh_web_h_cmdfilter_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp)
{
	json_t *all = NULL;
	(void)req;
	int r = filters_json(ctx->st, NULL, &all);
	if (r < 0)
		return gh_web_store_error(resp, r, "command filters");
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", all, "next"));
}

static int reply_filter(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
			int status)
{
	json_t *j = NULL;
	int r = filters_json(ctx->st, name, &j);
	if (r < 0)
		return gh_web_store_error(resp, r, "command filter");
	return j ? gh_web_json(resp, status, j) : gh_web_error(resp, 404, "command filter not found");
}

int gh_web_h_cmdfilter_get(struct gh_web_ctx *ctx, struct gh_web_req *req,
			   struct gh_web_resp *resp)
{
	return reply_filter(ctx, resp, req->params[0], 200);
}

/* B's filter into F (ref arrays and each name in them allocated:
 * refs_free; name and action borrowed from B). */
static int filter_from_body(struct gh_web_ctx *ctx, json_t *b, struct gh_cmdfilter_row *f,
			    char *err, size_t errlen)
{
	static const char *const known[] = { "name", "cmdgroups", "users", "groups", "assets",
					     "nodes", "accounts", "action", "priority", NULL };
	json_t *prio = json_object_get(b, "priority"), *v;
	size_t i;
	int r;
	snprintf(err, errlen, "give name, cmdgroups, action (reject|accept|review|warn) and "
			      "optionally priority (1-100), users, groups, assets, nodes, accounts");
	if (!only_known(b, known) || (prio && !json_is_integer(prio)) ||
	    !json_is_string(json_object_get(b, "name")) ||
	    !json_is_string(json_object_get(b, "action")))
		return GH_EINVAL;
	f->name = (char *)json_string_value(json_object_get(b, "name"));
	f->action = (char *)json_string_value(json_object_get(b, "action"));
	f->priority = prio ? (json_integer_value(prio) < 1 || json_integer_value(prio) > 100
				      ? 0 : (int)json_integer_value(prio))
			   : 50;
	for (int k = 0; k < GH_CFREF_COUNT; k++) {
		json_t *arr = json_object_get(b, ref_keys[k]);
		if (arr && (!json_is_array(arr) || json_array_size(arr) > MAX_LIST))
			return GH_EINVAL;
		if (!(f->refs[k] = calloc(json_array_size(arr) + 1, sizeof *f->refs[k])))
			return GH_ENOMEM;
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v))
				return GH_EINVAL;
			/* a private copy: a node path is normalised in place */
			char *copy = strdup(json_string_value(v));
			if (!copy)
				return GH_ENOMEM;
			if ((r = gh_cli_cmdfilter_ref(f, k, copy, err, errlen)) < 0) {
				free(copy);
				return r;
			}
		}
	}
	return gh_cli_cmdfilter_check(ctx->st, f, err, errlen);
}

static void refs_free(struct gh_cmdfilter_row *f)
{
	for (int k = 0; k < GH_CFREF_COUNT; k++) {
		for (size_t i = 0; f->refs[k] && i < f->n_refs[k]; i++)
			free(f->refs[k][i]);
		free(f->refs[k]);
	}
}

int gh_web_h_cmdfilter_add(struct gh_web_ctx *ctx, struct gh_web_req *req,
			   struct gh_web_resp *resp)
{
	struct gh_cmdfilter_row f = { 0 };
	char err[400];
	json_t *b = NULL;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	int r = filter_from_body(ctx, b, &f, err, sizeof err);
	if (r == GH_EINVAL || r == GH_ENOENT) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	if (r == 0)
		r = gh_store_cmdfilter_add(ctx->st, &f, NULL);
	audit_named(ctx, req, "cmdfilter add", r, f.name);
	if (r == GH_EEXIST)
		gh_web_error(resp, 409, "command filter already exists");
	else if (r == GH_ENOENT)
		gh_web_error(resp, 400, "unknown command group");
	else if (r < 0)
		gh_web_store_error(resp, r, "command filter");
	else
		reply_filter(ctx, resp, f.name, 201);
out:
	refs_free(&f);
	json_decref(b);
	return 0;
}

int gh_web_h_cmdfilter_del(struct gh_web_ctx *ctx, struct gh_web_req *req,
			   struct gh_web_resp *resp)
{
	int r = gh_store_cmdfilter_del(ctx->st, req->params[0]);
	audit_named(ctx, req, "cmdfilter del", r, req->params[0]);
	if (r < 0)
		return gh_web_store_error(resp, r, "command filter");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}
