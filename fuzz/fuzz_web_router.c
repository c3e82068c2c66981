/* libFuzzer target: the web request router (route matching, path
 * parameters, query values, %-decoding). Input: one method byte, then the
 * path, then '?' and the query. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gh_web_req req;
	char out[64];
	bool other = false;
	if (size < 1 || size > 2 * GH_WEB_PATH_MAX)
		return 0;
	memset(&req, 0, sizeof req);
	req.method = data[0] % 7;
	const char *s = (const char *)data + 1;
	size_t n = size - 1, q = 0;
	while (q < n && s[q] != '?' && s[q])
		q++;
	if (q >= sizeof req.path)
		return 0;
	memcpy(req.path, s, q);
	if (q < n && s[q] == '?') {
		size_t ql = strnlen(s + q + 1, n - q - 1);
		if (ql >= sizeof req.query)
			ql = sizeof req.query - 1;
		memcpy(req.query, s + q + 1, ql);
	}
	const struct gh_web_route *rt = gh_web_route_find(req.method, req.path, req.params, &other);
	if (rt && (rt->method != req.method ||
		   strnlen(req.params[0], GH_WEB_PARAM_MAX) == GH_WEB_PARAM_MAX ||
		   strnlen(req.params[1], GH_WEB_PARAM_MAX) == GH_WEB_PARAM_MAX))
		__builtin_trap();
	if (gh_web_query(&req, "limit", out, sizeof out) == 0 && strnlen(out, sizeof out) == sizeof out)
		__builtin_trap();
	gh_web_query(&req, "cursor", out, sizeof out);
	if (gh_web_urldecode(req.query) == 0 && strlen(req.query) >= sizeof req.query)
		__builtin_trap();
	return 0;
}
