/* The console's embedded files (static.h). */
#include "web/static.h"
#include "web/http.h"

#include <stdlib.h>
#include <string.h>

bool gh_web_static(const struct gh_web_req *req, struct gh_web_resp *resp)
{
	const char *path = req->path;
	if (req->method != GH_GET)
		return false;
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (unsigned i = 0; i < gh_web_n_assets; i++) {
		const struct gh_web_asset *a = &gh_web_assets[i];
		if (strcmp(path, a->path) != 0)
			continue;
		char *body = malloc(a->len ? a->len : 1);
		if (!body)
			return false;
		memcpy(body, a->data, a->len);
		resp->status = 200;
		resp->body = body;
		resp->len = a->len;
		resp->ctype = a->ctype;
		return true;
	}
	return false;
}
