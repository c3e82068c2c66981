/* Unit tests for the known_hosts lines of recorded ProxyJump: formats
 * (the name plain and as [name]:port, the address as [addr]:port, port 22,
 * name == address), the ssh protocol filter and the
 * per-user filter through the policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ssh/knownhosts.h"
#include "store/store.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJumpHostKeyForTests"

static int64_t asset(struct gh_store *st, const char *name, const char *addr, int port,
		     uint32_t protocols)
{
	int64_t id = 0;
	struct gh_asset a = { .name = (char *)name, .address = (char *)addr, .port = port,
			      .platform = (char *)"linux", .protocols = protocols };
	assert_int_equal(gh_store_asset_add(st, &a, &id), 0);
	return id;
}

static void test_lines(void **state)
{
	struct gh_store *st = NULL;
	int64_t uid = 0, bob = 0;
	char *text = NULL;
	assert_int_equal(gh_store_open_sqlite(":memory:", 5000, &st), 0);
	assert_int_equal(gh_store_user_add(st, "alice", GH_ROLE_USER, NULL, &uid), 0);
	assert_int_equal(gh_store_user_add(st, "bob", GH_ROLE_USER, NULL, &bob), 0);
	int64_t web = asset(st, "web01", "10.0.0.5", 22, GH_PROTO_SSH);
	asset(st, "db01", "10.0.0.6", 2022, GH_PROTO_SSH | GH_PROTO_SFTP);
	asset(st, "10.0.0.7", "10.0.0.7", 22, GH_PROTO_SSH);
	asset(st, "rdp01", "10.0.0.8", 3389, GH_PROTO_RDP);

	/* every ssh asset (the admin's view) */
	assert_int_equal(gh_known_hosts_text(st, KEY, NULL, &text), 0);
	assert_string_equal(text, "10.0.0.7 " KEY "\n"
				  "db01,[db01]:2022,[10.0.0.6]:2022 " KEY "\n"
				  "web01,10.0.0.5 " KEY "\n");
	free(text);

	/* alice may reach web01 only; bob nothing */
	int64_t users[] = { uid }, assets[] = { web };
	struct gh_perm p = { .name = (char *)"p", .actions = GH_ACT_CONNECT, .protocols = GH_PROTO_SSH,
			     .active = true, .user_ids = users, .n_users = 1, .asset_ids = assets,
			     .n_assets = 1 };
	assert_int_equal(gh_store_perm_add(st, &p, NULL), 0);
	struct gh_user u = { 0 };
	assert_int_equal(gh_store_user_get(st, "alice", &u), 0);
	assert_int_equal(gh_known_hosts_text(st, KEY, &u, &text), 0);
	assert_string_equal(text, "web01,10.0.0.5 " KEY "\n");
	free(text);
	gh_user_free(&u);
	assert_int_equal(gh_store_user_get(st, "bob", &u), 0);
	assert_int_equal(gh_known_hosts_text(st, KEY, &u, &text), 0);
	assert_string_equal(text, "");
	free(text);
	gh_user_free(&u);
	gh_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
