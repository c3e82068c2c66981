/* The route table's matcher and the one place that decides who may call
 * a route (see http.h). */
#include "web/http.h"
#include "web/static.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"
#include "store/webstore.h"

#include <sodium.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 32

const char *gh_web_method_name(int method)
{
	static const char *const names[] = { "?", "GET", "POST", "PUT", "PATCH", "DELETE" };
	return method > 0 && method <= GH_DELETE ? names[method] : "?";
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int gh_web_urldecode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p == '+' ? ' ' : *p;
			continue;
		}
		int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
		if (l < 0 || (h == 0 && l == 0))
			return GH_EINVAL;
		*o++ = (char)(h * 16 + l);
		p += 2;
	}
	*o = '\0';
	return 0;
}

/* Does PATH match PATTERN segment by segment? {x} takes one non-empty
 * segment (at most GH_WEB_PARAM_MAX - 1 bytes) into the next PARAMS slot. */
static bool match(const char *pattern, const char *path, char params[2][GH_WEB_PARAM_MAX])
{
	int np = 0;
	const char *a = pattern, *b = path;
	while (*a && *b) {
		if (*a == '{') {
			const char *ae = strchr(a, '}'), *be = strchr(b, '/');
			size_t n = be ? (size_t)(be - b) : strlen(b);
			if (!ae || n == 0 || n >= GH_WEB_PARAM_MAX || np >= 2)
				return false;
			if (params) {
				memcpy(params[np], b, n);
				params[np][n] = '\0';
			}
			np++;
			a = ae + 1;
			b += n;
			continue;
		}
		if (*a != *b)
			return false;
		a++;
		b++;
	}
	return !*a && !*b;
}

const struct gh_web_route *gh_web_route_find(int method, const char *path,
					     char params[2][GH_WEB_PARAM_MAX],
					     bool *ret_other_method)
{
	bool other = false;
	for (size_t i = 0; i < gh_web_n_routes; i++) {
		const struct gh_web_route *rt = &gh_web_routes[i];
		if (!match(rt->pattern, path, NULL))
			continue;
		if (rt->method != method) {
			other = true;
			continue;
		}
		match(rt->pattern, path, params);
		*ret_other_method = false;
		return rt;
	}
	*ret_other_method = other;
	return NULL;
}

int gh_web_query(const struct gh_web_req *req, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	for (const char *p = req->query; *p;) {
		const char *end = strchr(p, '&');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = n - kl - 1;
			if (vl >= outlen)
				return GH_EINVAL;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return 0;
		}
		p += n + (end ? 1 : 0);
	}
	return GH_ENOENT;
}

int gh_web_json(struct gh_web_resp *resp, int status, json_t *j)
{
	free(resp->body);
	resp->body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!resp->body) {
		resp->status = 500;
		resp->body = strdup("{\"error\":\"out of memory\"}");
	} else {
		resp->status = status;
	}
	resp->len = resp->body ? strlen(resp->body) : 0;
	resp->ctype = "application/json";
	return 0;
}

int gh_web_error(struct gh_web_resp *resp, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *j = json_object();
	json_t *s = json_string(msg);
	json_object_set_new(j, "error", s ? s : json_string("bad request"));
	return gh_web_json(resp, status, j);
}

int gh_web_store_error(struct gh_web_resp *resp, int err, const char *what)
{
	if (err == GH_ENOENT)
		return gh_web_error(resp, 404, "%s not found", what);
	if (err == GH_EEXIST)
		return gh_web_error(resp, 409, "%s already exists", what);
	if (err == GH_EBUSY)
		return gh_web_error(resp, 409, "%s is in use", what);
	gh_warn("web: %s: %s", what, gh_strerror(err));
	return gh_web_error(resp, 500, "internal error");
}

int gh_web_json_decode(const char *body, size_t len, json_t **ret, char *err, size_t errlen)
{
	json_error_t je;
	if (!body || len == 0) {
		snprintf(err, errlen, "a JSON object is expected");
		return GH_EINVAL;
	}
	/* jansson recurses per nesting level: bound the depth before it does */
	int depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = body[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if ((c == '{' || c == '[') && ++depth > JSON_DEPTH_MAX) {
			snprintf(err, errlen, "JSON nested too deep");
			return GH_EINVAL;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "malformed JSON: %s", je.text);
		return GH_EINVAL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(err, errlen, "a JSON object is expected");
		return GH_EINVAL;
	}
	*ret = j;
	return 0;
}

int gh_web_body(const struct gh_web_req *req, struct gh_web_resp *resp, json_t **ret)
{
	char err[256];
	int r = gh_web_json_decode(req->body, req->body_len, ret, err, sizeof err);
	if (r < 0)
		gh_web_error(resp, 400, "%s", err);
	return r;
}

void gh_web_audit_change(struct gh_web_ctx *ctx, const struct gh_web_req *req, const char *what,
			 bool ok, const char *detail)
{
	struct gh_audit_who w = { .user = req->actor, .source = req->peer };
	if (gh_audit_change(ctx->st, &w, what, ok, detail) < 0)
		gh_warn("web: the change '%s' by %s could not be audited", what, req->actor);
}

/* Writes with a session cookie carry the session's CSRF token (a header a
 * page of another origin cannot set); bearer tokens are not sent by
 * browsers on their own, so they need none. */
static bool csrf_ok(struct gh_web_ctx *ctx, const struct gh_web_req *req, int method)
{
	struct gh_web_session s;
	if (method == GH_GET || !req->session_hash[0])
		return true;
	if (gh_store_websession_get(ctx->st, req->session_hash, &s) < 0)
		return false;
	return strlen(req->csrf) == strlen(s.csrf) && sodium_memcmp(req->csrf, s.csrf,
								      strlen(s.csrf)) == 0;
}

void gh_web_dispatch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	bool other = false;
	resp->status = 0;
	if (req->plain) { /* metrics_listen: nothing else, and no credentials */
		if (req->method == GH_GET && !strcmp(req->path, "/metrics"))
			gh_web_h_metrics(ctx, req, resp);
		else
			gh_web_error(resp, 404, "not found");
		if (!resp->status)
			gh_web_error(resp, 500, "internal error");
		return;
	}
	const struct gh_web_route *rt = gh_web_route_find(req->method, req->path, req->params,
							  &other);
	if (!rt && gh_web_static(req, resp))
		return; /* the console's files */
	if (!rt) {
		gh_web_error(resp, other ? 405 : 404, other ? "method not allowed" : "not found");
		return;
	}
	if (rt->role != GH_WEB_PUBLIC) {
		if (gh_web_authenticate(ctx, req) < 0) {
			gh_web_error(resp, 401, "authentication required");
			return;
		}
		if (req->role < rt->role) {
			gh_web_error(resp, 403, "the %s role may not do this",
				     gh_role_name(req->role));
			return;
		}
		if (!csrf_ok(ctx, req, rt->method)) {
			gh_web_error(resp, 403, "missing or wrong X-CSRF-Token");
			return;
		}
	}
	rt->fn(ctx, req, resp);
	if (!resp->status)
		gh_web_error(resp, 500, "internal error");
}
