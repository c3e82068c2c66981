/* The web router without a socket (src/web/router.c): route matching and
 * path parameters, 405 against 404, %-decoding, query values, JSON body
 * bounds, and that every route's role is a known one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/store.h"
#include "web/http.h"

static void test_match_and_params(void **state)
{
	char params[2][GH_WEB_PARAM_MAX] = { "", "" };
	bool other = true;
	const struct gh_web_route *rt = gh_web_route_find(GH_GET, "/api/v1/assets/web01", params,
							  &other);
	assert_non_null(rt);
	assert_string_equal(rt->pattern, "/api/v1/assets/{name}");
	assert_string_equal(params[0], "web01");
	assert_false(other);
	rt = gh_web_route_find(GH_POST, "/api/v1/sessions/abc/kill", params, &other);
	assert_non_null(rt);
	assert_string_equal(params[0], "abc");
	/* an empty segment, a trailing slash, an extra segment: no route */
	assert_null(gh_web_route_find(GH_GET, "/api/v1/assets/", params, &other));
	assert_null(gh_web_route_find(GH_GET, "/api/v1/assets/a/b", params, &other));
	assert_null(gh_web_route_find(GH_GET, "/api/v1/assets/web01/", params, &other));
	/* the path exists for another method: 405, not 404 */
	assert_null(gh_web_route_find(GH_PUT, "/api/v1/assets", params, &other));
	assert_true(other);
	assert_null(gh_web_route_find(GH_GET, "/nowhere", params, &other));
	assert_false(other);
	/* POST .../check is its own route, not {name} = "check" */
	rt = gh_web_route_find(GH_POST, "/api/v1/permissions/check", params, &other);
	assert_non_null(rt);
	assert_string_equal(rt->pattern, "/api/v1/permissions/check");
}

static void test_param_bound(void **state)
{
	char params[2][GH_WEB_PARAM_MAX];
	char path[GH_WEB_PARAM_MAX + 64];
	bool other;
	int n = snprintf(path, sizeof path, "/api/v1/assets/");
	memset(path + n, 'a', GH_WEB_PARAM_MAX);
	path[n + GH_WEB_PARAM_MAX] = '\0';
	assert_null(gh_web_route_find(GH_GET, path, params, &other));
	path[n + GH_WEB_PARAM_MAX - 1] = '\0';
	assert_non_null(gh_web_route_find(GH_GET, path, params, &other));
	assert_int_equal(strlen(params[0]), GH_WEB_PARAM_MAX - 1);
}

static void test_urldecode_and_query(void **state)
{
	char s[] = "a%20b+c%2Fd", bad[] = "x%2", nul[] = "x%00y";
	assert_int_equal(gh_web_urldecode(s), 0);
	assert_string_equal(s, "a b c/d");
	assert_int_equal(gh_web_urldecode(bad), GH_EINVAL);
	assert_int_equal(gh_web_urldecode(nul), GH_EINVAL);
	struct gh_web_req req = { 0 };
	char out[8];
	snprintf(req.query, sizeof req.query, "limitx=9&limit=100&cursor=web01");
	assert_int_equal(gh_web_query(&req, "limit", out, sizeof out), 0);
	assert_string_equal(out, "100");
	assert_int_equal(gh_web_query(&req, "cursor", out, sizeof out), 0);
	assert_int_equal(gh_web_query(&req, "none", out, sizeof out), GH_ENOENT);
	snprintf(req.query, sizeof req.query, "cursor=0123456789");
	assert_int_equal(gh_web_query(&req, "cursor", out, sizeof out), GH_EINVAL);
}

static void test_json_body(void **state)
{
	char err[256], deep[200];
	json_t *j = NULL;
	assert_int_equal(gh_web_json_decode("{\"a\":1}", 7, &j, err, sizeof err), 0);
	json_decref(j);
	assert_int_equal(gh_web_json_decode("[1]", 3, &j, err, sizeof err), GH_EINVAL);
	assert_int_equal(gh_web_json_decode("{\"a\":1,\"a\":2}", 13, &j, err, sizeof err),
			 GH_EINVAL);
	assert_int_equal(gh_web_json_decode("", 0, &j, err, sizeof err), GH_EINVAL);
	memset(deep, '[', sizeof deep);
	deep[0] = '{';
	assert_int_equal(gh_web_json_decode(deep, sizeof deep, &j, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "deep"));
	/* brackets inside strings do not count */
	char s[200];
	int n = snprintf(s, sizeof s, "{\"a\":\"");
	memset(s + n, '[', 100);
	snprintf(s + n + 100, sizeof s - (size_t)n - 100, "\"}");
	assert_int_equal(gh_web_json_decode(s, strlen(s), &j, err, sizeof err), 0);
	json_decref(j);
}

static void test_every_route_has_a_role(void **state)
{
	for (size_t i = 0; i < gh_web_n_routes; i++) {
		const struct gh_web_route *rt = &gh_web_routes[i];
		assert_true(rt->role == GH_WEB_PUBLIC || rt->role == GH_ROLE_USER ||
			    rt->role == GH_ROLE_AUDITOR || rt->role == GH_ROLE_ADMIN);
		assert_non_null(rt->fn);
		/* writes are never public but login */
		if (rt->method != GH_GET && rt->role == GH_WEB_PUBLIC)
			assert_string_equal(rt->pattern, "/api/v1/login");
		for (size_t k = 0; k < i; k++) /* no route shadows another */
			assert_false(gh_web_routes[k].method == rt->method &&
				     !strcmp(gh_web_routes[k].pattern, rt->pattern));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_and_params),
		cmocka_unit_test(test_param_bound),
		cmocka_unit_test(test_urldecode_and_query),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_every_route_has_a_role),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
