/* Routes to assets: gateway chains (cycles and length refused, order) and
 * jumpoint install tokens (one use, expiry, disabled jumpoints, node limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/jumpoint.h"
#include "store/route.h"
#include "store/store.h"

#include "fixture_store.h"

static int64_t asset(struct gh_store *st, const char *name)
{
	struct gh_asset a = { .name = (char *)name, .address = "10.0.0.1", .port = 22,
			      .platform = "linux", .protocols = GH_PROTO_SSH };
	int64_t id = 0;
	assert_int_equal(gh_store_asset_add(st, &a, &id), 0);
	return id;
}

static void test_gateway_chain(void **state)
{
	struct gh_store *st = fixture_store_open(state);
	int64_t h1 = asset(st, "hop1"), h2 = asset(st, "hop2"), db = asset(st, "db01");
	int64_t g1 = 0, g2 = 0;
	assert_int_equal(gh_store_gateway_add(st, "gw1", h1, "deploy", &g1), 0);
	assert_int_equal(gh_store_gateway_add(st, "gw1", h2, "deploy", NULL), GH_EEXIST);
	assert_int_equal(gh_store_gateway_add(st, "gw2", h2, "deploy", &g2), 0);
	assert_int_equal(gh_store_asset_set_gateway(st, h2, g1), 0);
	assert_int_equal(gh_store_asset_set_gateway(st, db, g2), 0);

	struct gh_gateway *v = NULL;
	size_t n = 0;
	assert_int_equal(gh_store_route(st, db, &v, &n), 0);
	assert_int_equal(n, 2); /* outermost first */
	assert_string_equal(v[0].name, "gw1");
	assert_string_equal(v[0].asset_name, "hop1");
	assert_string_equal(v[1].name, "gw2");
	gh_gateways_free(v, n);
	assert_int_equal(gh_store_route(st, h1, &v, &n), 0);
	assert_int_equal(n, 0);
	gh_gateways_free(v, n);

	/* cycles: hop1 through gw2 (hop2 is behind gw1 = hop1), hop1 through itself */
	assert_int_equal(gh_store_asset_set_gateway(st, h1, g2), GH_EINVAL);
	assert_int_equal(gh_store_asset_set_gateway(st, h1, g1), GH_EINVAL);
	assert_int_equal(gh_store_route(st, h1, &v, &n), 0);
	assert_int_equal(n, 0);
	gh_gateways_free(v, n);
	/* in use: not deleted */
	assert_int_equal(gh_store_gateway_del(st, "gw2"), GH_EBUSY);
	assert_int_equal(gh_store_asset_set_gateway(st, db, 0), 0);
	assert_int_equal(gh_store_gateway_del(st, "gw2"), 0);
	assert_int_equal(gh_store_gateway_del(st, "gw2"), GH_ENOENT);
	gh_store_close(st);
}

static void test_chain_length_bounded(void **state)
{
	struct gh_store *st = fixture_store_open(state);
	int64_t prev_gw = 0, a = 0;
	char name[32];
	for (int i = 0; i <= GH_ROUTE_MAX_HOPS + 1; i++) { /* h_i is behind i gateways */
		snprintf(name, sizeof name, "h%d", i);
		a = asset(st, name);
		int r = gh_store_asset_set_gateway(st, a, prev_gw);
		if (i <= GH_ROUTE_MAX_HOPS) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, GH_EINVAL);
			break;
		}
		snprintf(name, sizeof name, "g%d", i);
		assert_int_equal(gh_store_gateway_add(st, name, a, "deploy", &prev_gw), 0);
	}
	gh_store_close(st);
}

static void test_jumpoint_tokens(void **state)
{
	struct gh_store *st = fixture_store_open(state);
	int64_t jp = 0, solo = 0, node = 0, got_node = 0, got_jp = 0, now = gh_now();
	const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
	const char *h3 = "3333333333333333333333333333333333333333333333333333333333333333";
	assert_int_equal(gh_store_jumpoint_add(st, "jp", true, "c", &jp), 0);
	assert_int_equal(gh_store_jumpoint_add(st, "solo", false, "", &solo), 0);
	assert_int_equal(gh_store_jumpoint_node_add(st, jp, true, h1, now + 100, &node), 0);
	/* one use */
	assert_int_equal(gh_store_jumpoint_register(st, h1, "ssh-ed25519 AAAA", now, &got_node,
						    &got_jp), 0);
	assert_int_equal(got_node, node);
	assert_int_equal(got_jp, jp);
	assert_int_equal(gh_store_jumpoint_register(st, h1, "ssh-ed25519 BBBB", now, &got_node,
						    &got_jp), GH_ENOENT);
	/* expired */
	assert_int_equal(gh_store_jumpoint_node_add(st, jp, true, h2, now + 100, NULL), 0);
	assert_int_equal(gh_store_jumpoint_register(st, h2, "k", now + 100, &got_node, &got_jp),
			 GH_ENOENT);
	/* disabled jumpoint */
	assert_int_equal(gh_store_jumpoint_set_disabled(st, "jp", true), 0);
	assert_int_equal(gh_store_jumpoint_register(st, h2, "k", now, &got_node, &got_jp),
			 GH_ENOENT);
	assert_int_equal(gh_store_jumpoint_set_disabled(st, "jp", false), 0);
	assert_int_equal(gh_store_jumpoint_register(st, h2, "k", now, &got_node, &got_jp), 0);
	/* limits: one node unless clustered */
	assert_int_equal(gh_store_jumpoint_node_add(st, solo, false, h3, now + 100, NULL), 0);
	assert_int_equal(gh_store_jumpoint_node_add(st, solo, false, "x", now + 100, NULL),
			 GH_ELIMIT);
	struct gh_jumpoint j = { 0 };
	assert_int_equal(gh_store_jumpoint_get(st, "jp", &j), 0);
	assert_int_equal(j.n_nodes, 2);
	assert_true(j.nodes[0].registered && j.nodes[1].registered);
	gh_jumpoint_free(&j);
	gh_store_close(st);
}

static void test_gateway_and_jumpoint_exclusive(void **state)
{
	struct gh_store *st = fixture_store_open(state);
	int64_t h = asset(st, "hop"), db = asset(st, "db"), gw = 0, jp = 0, got = 0;
	assert_int_equal(gh_store_gateway_add(st, "gw", h, "deploy", &gw), 0);
	assert_int_equal(gh_store_jumpoint_add(st, "jp", false, "", &jp), 0);
	assert_int_equal(gh_store_asset_set_gateway(st, db, gw), 0);
	assert_int_equal(gh_store_asset_set_jumpoint(st, db, jp), 0);
	assert_int_equal(gh_store_asset_gateway(st, db, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(gh_store_jumpoint_del(st, "jp"), GH_EBUSY);
	assert_int_equal(gh_store_asset_set_gateway(st, db, gw), 0);
	assert_int_equal(gh_store_asset_jumpoint(st, db, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(gh_store_jumpoint_del(st, "jp"), 0);
	gh_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FIXTURE_STORE_TEST(test_gateway_chain),
		FIXTURE_STORE_TEST(test_chain_length_bounded),
		FIXTURE_STORE_TEST(test_jumpoint_tokens),
		FIXTURE_STORE_TEST(test_gateway_and_jumpoint_exclusive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
