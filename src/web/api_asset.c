/* /api/v1/assets: the asset rules and JSON of `gatehouse asset` (cli.h). */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/edit.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define NODES_MAX 64

/* What a POST or PATCH body says, checked with the CLI's rules. */
struct asset_in {
	const char *name, *platform, *comment;
	char *host;              /* owned */
	int port;                /* 0: not given */
	uint32_t protocols;      /* 0: not given */
	bool set_nodes;
	int64_t node_ids[NODES_MAX];
	size_t n_ids;
};

static int protocols_in(json_t *v, uint32_t *ret)
{
	uint32_t mask = 0, one = 0;
	size_t i;
	json_t *e;
	if (json_is_string(v))
		return gh_protocols_parse(json_string_value(v), ret);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return GH_EINVAL;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || gh_protocols_parse(json_string_value(e), &one) < 0)
			return GH_EINVAL;
		mask |= one;
	}
	*ret = mask;
	return 0;
}

static int nodes_in(struct gh_web_ctx *ctx, json_t *v, struct asset_in *a, char *err, size_t n)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v) || json_array_size(v) > NODES_MAX)
		return snprintf(err, n, "\"nodes\": an array of node paths"), GH_EINVAL;
	a->set_nodes = true;
	json_array_foreach(v, i, e) {
		struct gh_node nd = { 0 };
		char *norm = NULL;
		const char *p = json_string_value(e);
		if (!p || gh_node_path_normalize(p, &norm) < 0)
			return snprintf(err, n, "bad node path"), GH_EINVAL;
		bool root = !strcmp(norm, "/");
		free(norm);
		if (root)
			continue;
		if (gh_store_node_get(ctx->st, p, &nd) < 0)
			return snprintf(err, n, "unknown node"), GH_EINVAL;
		bool dup = false;
		for (size_t k = 0; k < a->n_ids; k++)
			dup = dup || a->node_ids[k] == nd.id;
		if (!dup)
			a->node_ids[a->n_ids++] = nd.id;
		gh_node_free(&nd);
	}
	return 0;
}

static int address_in(json_t *b, struct asset_in *a, char *err, size_t n)
{
	enum { NO_PORT = 65536 };
	json_t *pv = json_object_get(b, "port");
	const char *addr = json_string_value(json_object_get(b, "address"));
	if (pv && (!json_is_integer(pv) || json_integer_value(pv) < 1 ||
		   json_integer_value(pv) > 65535))
		return snprintf(err, n, "\"port\": an integer from 1 to 65535"), GH_EINVAL;
	a->port = pv ? (int)json_integer_value(pv) : 0;
	if (json_object_get(b, "address") && !addr)
		return snprintf(err, n, "\"address\": a string"), GH_EINVAL;
	if (!addr)
		return 0;
	int p = a->port ? a->port : NO_PORT;
	if (gh_parse_hostport(addr, &a->host, &p) < 0 || !gh_asset_valid_host(a->host))
		return snprintf(err, n, "bad address: expected HOST, HOST:PORT or [IPv6]:PORT"),
		       GH_EINVAL;
	if (a->port && p != a->port)
		return snprintf(err, n, "the port is given twice"), GH_EINVAL;
	if (p != NO_PORT)
		a->port = p;
	return 0;
}

static int asset_in(struct gh_web_ctx *ctx, json_t *b, bool patch, struct asset_in *a, char *err,
		    size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) {
		static const char *const known[] = { "name", "address", "port", "platform",
						     "protocols", "comment", "nodes", NULL };
		bool ok = false;
		for (int i = 0; known[i]; i++)
			ok = ok || !strcmp(known[i], k);
		if (!ok || (patch && !strcmp(k, "name")))
			return snprintf(err, n, "unknown or read-only field \"%.64s\"", k), GH_EINVAL;
	}
	a->name = json_string_value(json_object_get(b, "name"));
	if (!patch && (!a->name || !gh_valid_name(a->name)))
		return snprintf(err, n, "\"name\": 1-64 of A-Z a-z 0-9 . _ -"), GH_EINVAL;
	if (address_in(b, a, err, n) < 0)
		return GH_EINVAL;
	if (!patch && !a->host)
		return snprintf(err, n, "\"address\" is required"), GH_EINVAL;
	a->platform = json_string_value(json_object_get(b, "platform"));
	if ((json_object_get(b, "platform") && !a->platform) ||
	    (a->platform && !gh_asset_platform_known(a->platform)))
		return snprintf(err, n, "unknown \"platform\""), GH_EINVAL;
	a->comment = json_string_value(json_object_get(b, "comment"));
	if ((json_object_get(b, "comment") && !a->comment) ||
	    (a->comment && !gh_asset_valid_comment(a->comment)))
		return snprintf(err, n, "\"comment\": at most 1024 characters, no control characters"),
		       GH_EINVAL;
	if ((v = json_object_get(b, "protocols")) && protocols_in(v, &a->protocols) < 0)
		return snprintf(err, n, "\"protocols\": names such as [\"ssh\",\"sftp\"]"), GH_EINVAL;
	if ((v = json_object_get(b, "nodes")))
		return nodes_in(ctx, v, a, err, n);
	if (patch && json_object_size(b) == 0)
		return snprintf(err, n, "nothing to change"), GH_EINVAL;
	return 0;
}

static int reply_asset(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
		       int status)
{
	struct gh_asset a = { 0 };
	int r = gh_store_asset_get(ctx->st, name, &a);
	if (r < 0)
		return gh_web_store_error(resp, r, "asset");
	gh_web_json(resp, status, gh_cli_asset_json(&a));
	gh_asset_free(&a);
	return 0;
}

int gh_web_h_asset_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return reply_asset(ctx, resp, req->params[0], 200);
}

int gh_web_h_asset_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_asset *v = NULL;
	size_t n = 0;
	char lim[16], cursor[GH_WEB_PARAM_MAX] = "";
	long long limit = LIST_DEFAULT;
	int r = gh_web_query(req, "limit", lim, sizeof lim);
	if (r == GH_EINVAL || (r == 0 && (gh_parse_ll(lim, &limit) < 0 || limit < 1 ||
					  limit > LIST_MAX)))
		return gh_web_error(resp, 400, "limit: an integer from 1 to %d", LIST_MAX);
	if (gh_web_query(req, "cursor", cursor, sizeof cursor) == GH_EINVAL)
		return gh_web_error(resp, 400, "bad cursor");
	/* one more than asked: is there a next page? */
	if ((r = gh_store_asset_page(ctx->st, cursor, (int)limit + 1, &v, &n)) < 0)
		return gh_web_store_error(resp, r, "assets");
	json_t *items = json_array(), *next = json_null();
	for (size_t i = 0; i < n && (long long)i < limit; i++)
		json_array_append_new(items, gh_cli_asset_json(&v[i]));
	if ((long long)n > limit) {
		json_decref(next);
		next = json_string(v[limit - 1].name);
	}
	gh_assets_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}

int gh_web_h_asset_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct asset_in a = { 0 };
	char err[256], detail[96];
	int64_t id = 0;
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	if (asset_in(ctx, b, false, &a, err, sizeof err) < 0) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	struct gh_asset as = { .name = (char *)a.name, .address = a.host,
			       .port = a.port ? a.port : 22,
			       .platform = (char *)(a.platform ? a.platform : "linux"),
			       .protocols = a.protocols ? a.protocols : GH_PROTO_SSH | GH_PROTO_SFTP,
			       .comment = (char *)a.comment };
	r = gh_store_asset_add(ctx->st, &as, &id);
	for (size_t i = 0; r == 0 && i < a.n_ids; i++)
		if ((r = gh_store_asset_node_add(ctx->st, id, a.node_ids[i])) < 0)
			gh_store_asset_del(ctx->st, a.name); /* all or nothing */
	snprintf(detail, sizeof detail, "\"%s\"", a.name);
	gh_web_audit_change(ctx, req, "asset add", r == 0, detail);
	if (r < 0)
		gh_web_store_error(resp, r, "asset");
	else
		reply_asset(ctx, resp, a.name, 201);
out:
	free(a.host);
	json_decref(b);
	return 0;
}

int gh_web_h_asset_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct asset_in a = { 0 };
	struct gh_asset cur = { 0 };
	char err[256], detail[96];
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	if (asset_in(ctx, b, true, &a, err, sizeof err) < 0) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	if ((r = gh_store_asset_get(ctx->st, req->params[0], &cur)) < 0) {
		gh_web_store_error(resp, r, "asset");
		goto out;
	}
	struct gh_asset_edit e = { .address = a.host, .port = a.port, .platform = a.platform,
				   .protocols = a.protocols, .comment = a.comment,
				   .set_nodes = a.set_nodes, .node_ids = a.node_ids,
				   .n_nodes = a.n_ids };
	r = gh_store_asset_update(ctx->st, cur.id, &e);
	snprintf(detail, sizeof detail, "\"%s\"", cur.name);
	gh_web_audit_change(ctx, req, "asset set", r == 0, detail);
	if (r < 0)
		gh_web_store_error(resp, r, "asset");
	else
		reply_asset(ctx, resp, cur.name, 200);
out:
	gh_asset_free(&cur);
	free(a.host);
	json_decref(b);
	return 0;
}

int gh_web_h_asset_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	int r = gh_store_asset_del(ctx->st, req->params[0]);
	if (r == GH_ENOENT)
		return gh_web_store_error(resp, r, "asset");
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, req->params[0]));
	gh_web_audit_change(ctx, req, "asset del", r == 0, detail);
	if (r < 0)
		return gh_web_store_error(resp, r, "asset");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}
