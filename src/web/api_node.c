/* /api/v1/nodes: the asset tree, with the rules and JSON of `gatehouse
 * node` (cli.h). A node is named by its id in a URL (a path has slashes). */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"

#include <stdlib.h>
#include <string.h>

/* The nodes and the asset-node pairs (for counts). */
struct tree {
	struct gh_node *v;
	size_t n;
	int64_t *pa, *pn;
	size_t np;
};

static void tree_free(struct tree *t)
{
	gh_nodes_free(t->v, t->n);
	free(t->pa);
	free(t->pn);
	memset(t, 0, sizeof *t);
}

static int tree_load(struct gh_store *st, struct tree *t)
{
	int r = gh_store_node_list(st, &t->v, &t->n);
	if (r == 0)
		r = gh_store_asset_node_pairs(st, &t->pa, &t->pn, &t->np);
	if (r < 0)
		tree_free(t);
	return r;
}

/* The node whose id is REQ's {id}, or NULL. */
static const struct gh_node *tree_find(const struct tree *t, const char *id)
{
	long long v = 0;
	if (gh_parse_ll(id, &v) < 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == v)
			return &t->v[i];
	return NULL;
}

int gh_web_h_node_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct tree t = { 0 };
	int r = tree_load(ctx->st, &t);
	if (r < 0)
		return gh_web_store_error(resp, r, "nodes");
	json_t *items = json_array();
	for (size_t i = 0; i < t.n; i++)
		json_array_append_new(items, gh_cli_node_json(ctx->st, &t.v[i], t.pn, t.np));
	tree_free(&t);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

/* RESP = the node PATH (or the one with id ID) with STATUS. */
static int reply_node(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *path,
		      const char *id, int status)
{
	struct tree t = { 0 };
	const struct gh_node *nd = NULL;
	int r = tree_load(ctx->st, &t);
	if (r < 0)
		return gh_web_store_error(resp, r, "nodes");
	for (size_t i = 0; path && i < t.n && !nd; i++)
		nd = strcmp(t.v[i].path, path) ? NULL : &t.v[i];
	if (id)
		nd = tree_find(&t, id);
	if (nd)
		gh_web_json(resp, status, gh_cli_node_json(ctx->st, nd, t.pn, t.np));
	else
		gh_web_error(resp, 404, "node not found");
	tree_free(&t);
	return 0;
}

int gh_web_h_node_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return reply_node(ctx, resp, NULL, req->params[0], 200);
}

/* "approvers" of BODY: *RET_SET when present; *RET a group name or NULL
 * (none). GH_EINVAL when neither a string nor null. */
static int approvers_in(json_t *b, bool *ret_set, const char **ret)
{
	json_t *v = json_object_get(b, "approvers");
	*ret_set = v != NULL;
	*ret = json_string_value(v);
	return !v || json_is_null(v) || (*ret && gh_valid_name(*ret)) ? 0 : GH_EINVAL;
}

static int set_approvers(struct gh_web_ctx *ctx, struct gh_web_req *req,
			 struct gh_web_resp *resp, const char *path, const char *group)
{
	char detail[600];
	int r = gh_store_node_set_approvers(ctx->st, path, group);
	snprintf(detail, sizeof detail, "\"%s\" approvers %s", path, group ? group : "none");
	gh_web_audit_change(ctx, req, "node set", r == 0, detail);
	if (r == GH_ENOENT)
		return gh_web_error(resp, 400, "no such group");
	return r < 0 ? gh_web_store_error(resp, r, "node") : 0;
}

int gh_web_h_node_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	char *path = NULL, err[512], detail[600];
	const char *group = NULL;
	bool set = false;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *in = json_string_value(json_object_get(b, "path"));
	if (!in || approvers_in(b, &set, &group) < 0 ||
	    json_object_size(b) != 1 + (set ? 1 : 0)) {
		gh_web_error(resp, 400, "give \"path\" and optionally \"approvers\" (a group)");
		goto out;
	}
	if (gh_cli_node_path_check(in, &path, err, sizeof err) < 0) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	int r = gh_store_node_add(ctx->st, path, NULL);
	snprintf(detail, sizeof detail, "\"%s\"", path);
	gh_web_audit_change(ctx, req, "node add", r == 0, detail);
	if (r < 0) {
		gh_web_store_error(resp, r, "node");
		goto out;
	}
	if (group && (set_approvers(ctx, req, resp, path, group), resp->status))
		goto out;
	reply_node(ctx, resp, path, NULL, 201);
out:
	free(path);
	json_decref(b);
	return 0;
}

int gh_web_h_node_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct tree t = { 0 };
	const char *group = NULL;
	bool set = false;
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	if (approvers_in(b, &set, &group) < 0 || !set || json_object_size(b) != 1) {
		gh_web_error(resp, 400, "give \"approvers\": a group name or null");
		goto out;
	}
	if ((r = tree_load(ctx->st, &t)) < 0) {
		gh_web_store_error(resp, r, "nodes");
		goto out;
	}
	const struct gh_node *nd = tree_find(&t, req->params[0]);
	if (!nd) {
		gh_web_error(resp, 404, "node not found");
		goto out;
	}
	if (set_approvers(ctx, req, resp, nd->path, group), resp->status)
		goto out;
	reply_node(ctx, resp, nd->path, NULL, 200);
out:
	tree_free(&t);
	json_decref(b);
	return 0;
}

int gh_web_h_node_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct tree t = { 0 };
	char detail[600];
	int r = tree_load(ctx->st, &t);
	if (r < 0)
		return gh_web_store_error(resp, r, "nodes");
	const struct gh_node *nd = tree_find(&t, req->params[0]);
	if (!nd) {
		tree_free(&t);
		return gh_web_error(resp, 404, "node not found");
	}
	r = gh_store_node_del(ctx->st, nd->path);
	snprintf(detail, sizeof detail, "\"%s\"", nd->path);
	gh_web_audit_change(ctx, req, "node del", r == 0, detail);
	if (r == GH_EBUSY)
		gh_web_error(resp, 409, "node '%s' is not empty: delete its child nodes and move "
					"or delete its assets first", nd->path);
	else if (r < 0)
		gh_web_store_error(resp, r, "node");
	else
		gh_web_json(resp, 200, json_pack("{s:s}", "deleted", nd->path));
	tree_free(&t);
	return 0;
}
