#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/chain.h"
#include "core/error.h"
#include "store/edit.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/migrations.h"

#include "fixture_store.h"

static void test_migrate_and_reopen(void **state)
{
	struct gh_store *st = NULL;
	st = fixture_store_open(state);
	assert_int_equal(gh_store_schema_version(st), (int)gh_migrations_count());
	assert_int_equal(gh_store_meta_set(st, "k", "v1"), 0);
	assert_int_equal(gh_store_meta_set(st, "k", "v2"), 0);
	gh_store_close(st);
	st = fixture_store_open(state);
	char *v = NULL;
	assert_int_equal(gh_store_meta_get(st, "k", &v), 0);
	assert_string_equal(v, "v2");
	free(v);
	assert_int_equal(gh_store_meta_get(st, "nope", &v), GH_ENOENT);
	gh_store_close(st);
}

static void test_model_crud(void **state)
{
	struct gh_store *st = NULL;
	int64_t uid = 0, gid = 0, nid = 0, aid = 0, acc = 0, pid = 0;
	st = fixture_store_open(state);
	assert_int_equal(gh_store_user_add(st, "alice", GH_ROLE_USER, "$argon2id$x", &uid), 0);
	assert_int_equal(gh_store_user_add(st, "alice", GH_ROLE_USER, NULL, NULL), GH_EEXIST);
	struct gh_user u = { 0 };
	assert_int_equal(gh_store_user_get(st, "alice", &u), 0);
	assert_int_equal(u.id, uid);
	assert_string_equal(u.password_hash, "$argon2id$x");
	gh_user_free(&u);
	assert_int_equal(gh_store_user_get(st, "bob", &u), GH_ENOENT);
	assert_int_equal(gh_store_user_set_disabled(st, uid, true), 0);
	assert_int_equal(gh_store_user_get_by_id(st, uid, &u), 0);
	assert_true(u.disabled);
	gh_user_free(&u);

	assert_int_equal(gh_store_group_add(st, "ops", &gid), 0);
	assert_int_equal(gh_store_group_member_add(st, gid, uid), 0);
	assert_int_equal(gh_store_group_member_add(st, gid, uid), GH_EEXIST);
	int64_t *gids = NULL;
	size_t ng = 0;
	assert_int_equal(gh_store_user_groups(st, uid, &gids, &ng), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(gids[0], gid);
	free(gids);

	assert_int_equal(gh_store_node_add(st, "/Beijing//Haidian/", &nid), 0);
	struct gh_node nd = { 0 };
	assert_int_equal(gh_store_node_get(st, "/Beijing", &nd), 0); /* ancestor created */
	gh_node_free(&nd);
	assert_int_equal(gh_store_node_add(st, "/Beijing/Haidian", NULL), GH_EEXIST);
	assert_int_equal(gh_store_node_add(st, "relative", NULL), GH_EINVAL);
	assert_int_equal(gh_store_node_add(st, "/a/../b", NULL), GH_EINVAL);

	struct gh_asset a = { .name = "web01", .address = "10.0.0.5", .port = 22,
			      .platform = "linux", .protocols = GH_PROTO_SSH | GH_PROTO_SFTP };
	assert_int_equal(gh_store_asset_add(st, &a, &aid), 0);
	assert_int_equal(gh_store_asset_add(st, &a, NULL), GH_EEXIST);
	assert_int_equal(gh_store_asset_node_add(st, aid, nid), 0);
	struct gh_asset got = { 0 };
	assert_int_equal(gh_store_asset_get(st, "web01", &got), 0);
	assert_int_equal(got.n_nodes, 1);
	assert_string_equal(got.nodes[0], "/Beijing/Haidian");
	gh_asset_free(&got);
	assert_int_equal(gh_store_node_del(st, "/Beijing"), GH_EBUSY);

	uint8_t sealed[] = { 1, 2, 3, 0, 4 };
	struct gh_account ac = { .asset_id = aid, .username = "deploy", .secret_kind = GH_SECRET_PASSWORD,
				 .sealed = sealed, .sealed_len = sizeof sealed };
	assert_int_equal(gh_store_account_add(st, &ac, &acc), 0);
	struct gh_account ga = { 0 };
	assert_int_equal(gh_store_account_get(st, aid, "deploy", &ga), 0);
	assert_int_equal(ga.sealed_len, 5);
	assert_memory_equal(ga.sealed, sealed, 5);
	gh_account_free(&ga);

	int64_t users[] = { uid }, nodes[] = { nid };
	char *accts[] = { "deploy" };
	struct gh_perm p = { .name = "p1", .actions = GH_ACT_CONNECT, .protocols = GH_PROTO_SSH,
			     .active = true, .user_ids = users, .n_users = 1, .node_ids = nodes,
			     .n_nodes = 1, .accounts = accts, .n_accounts = 1, .valid_until = 2000000000 };
	assert_int_equal(gh_store_perm_add(st, &p, &pid), 0);
	assert_int_equal(gh_store_perm_add(st, &p, NULL), GH_EEXIST);
	int64_t ghost[] = { 999 };
	struct gh_perm bad = { .name = "p2", .actions = 1, .protocols = 1, .user_ids = ghost, .n_users = 1 };
	assert_int_equal(gh_store_perm_add(st, &bad, NULL), GH_ENOENT);
	struct gh_perm *pl = NULL;
	size_t np = 0;
	assert_int_equal(gh_store_perm_list(st, &pl, &np), 0);
	assert_int_equal(np, 1); /* p2 rolled back whole */
	assert_int_equal(pl[0].n_users, 1);
	assert_int_equal(pl[0].n_nodes, 1);
	assert_int_equal(pl[0].n_accounts, 1);
	assert_string_equal(pl[0].accounts[0], "deploy");
	assert_int_equal(pl[0].valid_until, 2000000000);
	gh_perms_free(pl, np);

	/* deleting a user cascades to memberships and perm subjects */
	assert_int_equal(gh_store_user_del(st, "alice"), 0);
	assert_int_equal(gh_store_user_del(st, "alice"), GH_ENOENT);
	struct gh_perm pg = { 0 };
	assert_int_equal(gh_store_perm_get(st, "p1", &pg), 0);
	assert_int_equal(pg.n_users, 0);
	gh_perm_free(&pg);
	gh_store_close(st);
}

static void test_sessions_and_events(void **state)
{
	struct gh_store *st = NULL;
	char id[33];
	st = fixture_store_open(state);
	gh_session_id_new(id);
	assert_int_equal(strlen(id), 32);
	struct gh_session s = { .id = id, .user_name = "alice", .source_addr = "127.0.0.1",
				.source_port = 4000, .protocol = "ssh", .kind = "shell", .worker_pid = 4242 };
	assert_int_equal(gh_store_session_open(st, &s), 0);
	struct gh_session *v = NULL;
	size_t n = 0;
	assert_int_equal(gh_store_session_list(st, true, 0, &v, &n), 0);
	assert_int_equal(n, 1);
	gh_sessions_free(v, n);
	assert_int_equal(gh_store_session_list_worker(st, 4243, &v, &n), 0);
	assert_int_equal(n, 0);
	gh_sessions_free(v, n);
	assert_int_equal(gh_store_session_list_worker(st, 4242, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, id);
	gh_sessions_free(v, n);
	assert_int_equal(gh_store_session_close(st, id, -1, NULL, 0, 0, "worker killed by signal 9"), 0);
	assert_int_equal(gh_store_session_close(st, id, 0, NULL, 1, 2, "x"), GH_ENOENT); /* already closed */
	struct gh_session g = { 0 };
	assert_int_equal(gh_store_session_get(st, id, &g), 0);
	assert_true(g.ended_at > 0);
	assert_string_equal(g.close_reason, "worker killed by signal 9");
	gh_session_free(&g);

	for (int i = 0; i < 5; i++) {
		struct gh_event e = { .kind = "login", .user_name = "alice", .source = "127.0.0.1:4000",
				      .method = "password", .result = i ? "success" : "failure",
				      .reason = i ? NULL : "bad password" };
		assert_int_equal(gh_chain_append(st, &e), 0);
	}
	struct gh_chain_report rep;
	assert_int_equal(gh_chain_verify(st, &rep), 0);
	struct gh_event *ev = NULL;
	assert_int_equal(gh_store_event_list(st, "login", 2, &ev, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].id, 5);
	gh_events_free(ev, n);
	gh_store_close(st);

	/* tamper with one row behind the store's back */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"UPDATE events SET result='success' WHERE id=1\"", fixture_store_path(state));
	assert_int_equal(system(cmd), 0);
	st = fixture_store_open(state);
	assert_int_equal(gh_chain_verify(st, &rep), GH_ECRYPTO);
	assert_int_equal(rep.bad_id, 1);
	gh_store_close(st);
}

#define WRITERS 6
#define PER_WRITER 60

static void test_concurrent_writers(void **state)
{
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct gh_store *st = NULL;
			int bad = 0;
			if (gh_store_open_sqlite(fixture_store_path(state), 2000, &st) < 0)
				_exit(10);
			for (int i = 0; i < PER_WRITER; i++) {
				char name[64];
				snprintf(name, sizeof name, "u%d_%d", w, i);
				if (gh_store_user_add(st, name, GH_ROLE_USER, NULL, NULL) < 0)
					bad++;
				struct gh_event e = { .kind = "test", .user_name = name, .result = "ok" };
				if (gh_chain_append(st, &e) < 0)
					bad++;
				char id[33];
				gh_session_id_new(id);
				struct gh_session s = { .id = id, .user_name = name, .worker_pid = getpid() };
				if (gh_store_session_open(st, &s) < 0 ||
				    gh_store_session_close(st, id, 0, NULL, i, i, "done") < 0)
					bad++;
			}
			gh_store_close(st);
			_exit(bad ? 1 : 0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status = 0;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	struct gh_store *st = NULL;
	st = fixture_store_open(state);
	struct gh_user *u = NULL;
	size_t n = 0;
	assert_int_equal(gh_store_user_list(st, &u, &n), 0);
	assert_int_equal(n, WRITERS * PER_WRITER);
	gh_users_free(u, n);
	struct gh_event *e = NULL;
	assert_int_equal(gh_store_event_list(st, "test", 0, &e, &n), 0);
	assert_int_equal(n, WRITERS * PER_WRITER);
	gh_events_free(e, n);
	struct gh_session *s = NULL;
	assert_int_equal(gh_store_session_list(st, false, 0, &s, &n), 0);
	assert_int_equal(n, WRITERS * PER_WRITER);
	for (size_t i = 0; i < n; i++)
		assert_true(s[i].ended_at > 0);
	gh_sessions_free(s, n);
	struct gh_chain_report rep;
	assert_int_equal(gh_chain_verify(st, &rep), 0);
	gh_store_close(st);
}

/* A child that opens its own store after fork() must hold its own locks:
 * with the parent's handle let go of first (gh_store_forget), the
 * parent's close is not the last one, the WAL stays, and what the child
 * writes afterwards is there for the next reader. */
static void test_child_after_fork_keeps_the_wal(void **state)
{
	struct gh_store *st = NULL;
	int up[2], go[2];
	char wal[160], c;
	st = fixture_store_open(state);
	assert_int_equal(gh_store_meta_set(st, "who", "parent"), 0);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gh_store *own = NULL;
		close(up[0]);
		close(go[1]); /* EOF on GO when the parent fails and exits */
		st = gh_store_forget(st);
		if (gh_store_open_sqlite(fixture_store_path(state), 5000, &own) < 0)
			_exit(10);
		if (write(up[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(11);
		int r = gh_store_meta_set(own, "who", "child");
		gh_store_close(own);
		_exit(r < 0 ? 12 : 0);
	}
	assert_int_equal(read(up[0], &c, 1), 1);
	st = gh_store_close(st); /* the parent goes; the child still uses the file */
	snprintf(wal, sizeof wal, "%s-wal", fixture_store_path(state));
	assert_int_equal(access(wal, F_OK), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	st = fixture_store_open(state);
	char *v = NULL;
	assert_int_equal(gh_store_meta_get(st, "who", &v), 0);
	assert_string_equal(v, "child");
	free(v);
	gh_store_close(st);
	close(up[0]);
	close(up[1]);
	close(go[0]);
	close(go[1]);
}

/* asset set / group set: each edit changes what it names and nothing else,
 * all or nothing, and an edit of a row that is gone is GH_ENOENT. */
static void test_edit_in_place(void **state)
{
	struct gh_store *st = NULL;
	int64_t aid = 0, n1 = 0, n2 = 0, gid = 0, gid2 = 0, u1 = 0, u2 = 0;
	st = fixture_store_open(state);
	assert_int_equal(gh_store_node_add(st, "/a", &n1), 0);
	assert_int_equal(gh_store_node_add(st, "/b", &n2), 0);
	struct gh_asset a = { .name = "web01", .address = "10.0.0.1", .port = 22, .platform = "linux",
			      .protocols = GH_PROTO_SSH, .comment = "c", .host_key = "ssh-ed25519 AAAA" };
	assert_int_equal(gh_store_asset_add(st, &a, &aid), 0);
	assert_int_equal(gh_store_asset_node_add(st, aid, n1), 0);
	struct gh_account acc = { .asset_id = aid, .username = "root", .secret_kind = GH_SECRET_PASSWORD,
				  .sealed = (uint8_t *)"x", .sealed_len = 1 };
	assert_int_equal(gh_store_account_add(st, &acc, NULL), 0);

	struct gh_asset_edit e = { .port = 2022, .set_host_key = true, .host_key = NULL,
				   .set_nodes = true, .node_ids = (int64_t[]){ n2, n1, n2 }, .n_nodes = 3 };
	assert_int_equal(gh_store_asset_update(st, aid, &e), 0);
	struct gh_asset got = { 0 };
	assert_int_equal(gh_store_asset_get(st, "web01", &got), 0);
	assert_string_equal(got.address, "10.0.0.1");
	assert_int_equal(got.port, 2022);
	assert_string_equal(got.comment, "c");
	assert_null(got.host_key);
	assert_int_equal(got.n_nodes, 2);
	gh_asset_free(&got);
	struct gh_account *v = NULL;
	size_t n = 0;
	assert_int_equal(gh_store_account_list(st, aid, &v, &n), 0);
	assert_int_equal(n, 1); /* the accounts stay */
	gh_accounts_free(v, n);
	/* a failing part (an unknown node) changes nothing */
	struct gh_asset_edit bad = { .address = "10.9.9.9", .set_nodes = true,
				     .node_ids = (int64_t[]){ 999 }, .n_nodes = 1 };
	assert_true(gh_store_asset_update(st, aid, &bad) < 0);
	assert_int_equal(gh_store_asset_get(st, "web01", &got), 0);
	assert_string_equal(got.address, "10.0.0.1");
	assert_int_equal(got.n_nodes, 2);
	gh_asset_free(&got);
	struct gh_asset_edit clear = { .comment = "", .set_nodes = true };
	assert_int_equal(gh_store_asset_update(st, aid, &clear), 0);
	assert_int_equal(gh_store_asset_get(st, "web01", &got), 0);
	assert_null(got.comment);
	assert_int_equal(got.n_nodes, 0);
	gh_asset_free(&got);
	assert_int_equal(gh_store_asset_update(st, aid + 100, &e), GH_ENOENT);
	assert_int_equal(gh_store_asset_update(st, aid, NULL), GH_EINVAL);

	assert_int_equal(gh_store_user_add(st, "alice", GH_ROLE_USER, NULL, &u1), 0);
	assert_int_equal(gh_store_user_add(st, "bob", GH_ROLE_USER, NULL, &u2), 0);
	assert_int_equal(gh_store_group_add(st, "ops", &gid), 0);
	assert_int_equal(gh_store_group_add(st, "dev", &gid2), 0);
	assert_int_equal(gh_store_group_member_add(st, gid, u1), 0);
	assert_int_equal(gh_store_group_update(st, gid, "dev", false, NULL, 0), GH_EEXIST);
	assert_int_equal(gh_store_group_update(st, gid, "operators", true, (int64_t[]){ u2, u2 }, 2), 0);
	struct gh_user *m = NULL;
	assert_int_equal(gh_store_group_members(st, gid, &m, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].name, "bob");
	gh_users_free(m, n);
	assert_int_equal(gh_store_group_update(st, gid + 100, NULL, true, NULL, 0), GH_ENOENT);
	assert_int_equal(gh_store_group_member_add(st, gid2, u2), 0);
	char **names = NULL;
	assert_int_equal(gh_store_user_group_names(st, u2, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "dev");
	assert_string_equal(names[1], "operators");
	gh_store_names_free(names, n);
	assert_int_equal(gh_store_user_group_names(st, u1, &names, &n), 0);
	assert_int_equal(n, 0);
	assert_null(names);
	gh_store_close(st);
}

static void test_masks(void **state)
{
	uint32_t m = 0;
	char buf[128];
	assert_int_equal(gh_actions_parse("connect,upload", &m), 0);
	assert_int_equal(m, GH_ACT_CONNECT | GH_ACT_UPLOAD);
	assert_string_equal(gh_actions_format(m, buf, sizeof buf), "connect,upload");
	assert_int_equal(gh_actions_parse("all", &m), 0);
	assert_int_equal(m, GH_ACT_ALL);
	assert_int_equal(gh_actions_parse("connect,fly", &m), GH_EINVAL);
	assert_int_equal(gh_actions_parse("", &m), GH_EINVAL);
	assert_int_equal(gh_protocols_parse("ssh, sftp", &m), 0);
	assert_string_equal(gh_protocols_format(m, buf, sizeof buf), "ssh,sftp");
	assert_int_equal(gh_role_parse("auditor"), GH_ROLE_AUDITOR);
	assert_int_equal(gh_role_parse("root"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FIXTURE_STORE_TEST(test_migrate_and_reopen),
		FIXTURE_STORE_TEST(test_model_crud),
		FIXTURE_STORE_TEST(test_sessions_and_events),
		FIXTURE_STORE_TEST(test_concurrent_writers),
		FIXTURE_STORE_TEST(test_child_after_fork_keeps_the_wal),
		FIXTURE_STORE_TEST(test_edit_in_place),
		cmocka_unit_test(test_masks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
