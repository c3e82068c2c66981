/* The web console's files (web/, bundled at build time and embedded by
 * scripts/web_assets.py): served to GET requests no route takes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_web_req;
struct gh_web_resp;

struct gh_web_asset {
	const char *path;            /* "/app.js" */
	const char *ctype;
	const unsigned char *data;
	size_t len;
};

extern const struct gh_web_asset gh_web_assets[];
extern const unsigned gh_web_n_assets;

/* When REQ is a GET of a console file ("/" is /index.html), RESP is it
 * (200) and true; false otherwise (RESP untouched). */
bool gh_web_static(const struct gh_web_req *req, struct gh_web_resp *resp);
