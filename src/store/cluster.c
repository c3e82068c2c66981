/* Nodes sharing one store (see cluster.h). */
#include "store/cluster.h"
#include "core/error.h"
#include "core/util.h"
#include "store/priv.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

int gh_store_node_beat(struct gh_store *st, int64_t now)
{
	struct gh_db_val p[] = { DB_TEXT(gh_store_node(st)), DB_INT(now), DB_INT(now) };
	return gh_store_q(st, "INSERT INTO cluster_nodes (name, started_at, heartbeat_at) VALUES (?, ?, ?)"
			      " ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,"
			      " lost_at = 0",
			  p, NP(p), NULL, NULL, NULL, NULL);
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_name(void *ud, const struct gh_db_val *c, int n)
{
	struct names *ns = ud;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 4;
		char **v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	return (ns->v[ns->n] = gh_store_col_str(&c[0])) ? (ns->n++, 0) : GH_ENOMEM;
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int gh_store_nodes_claim_lost(struct gh_store *st, int64_t now, int timeout, char ***ret_names,
			      size_t *ret_n)
{
	struct names stale = { 0 }, won = { 0 };
	struct gh_db_val p[] = { DB_INT(now - timeout), DB_TEXT(gh_store_node(st)) };
	int r = gh_store_q(st, "SELECT name FROM cluster_nodes WHERE lost_at = 0 AND heartbeat_at < ?"
			       " AND name <> ?",
			   p, NP(p), add_name, &stale, NULL, NULL);
	for (size_t i = 0; r == 0 && i < stale.n; i++) {
		int changes = 0;
		struct gh_db_val c[] = { DB_INT(now), DB_TEXT(stale.v[i]), DB_INT(now - timeout) };
		r = gh_store_q(st, "UPDATE cluster_nodes SET lost_at = ? WHERE name = ? AND lost_at = 0"
				   " AND heartbeat_at < ?",
			       c, NP(c), NULL, NULL, NULL, &changes);
		if (r == 0 && changes == 1) {
			struct gh_db_val one = { .type = GH_DB_TEXT, .s = stale.v[i], .n = strlen(stale.v[i]) };
			r = add_name(&won, &one, 1);
		}
	}
	names_free(stale.v, stale.n);
	if (r < 0) {
		names_free(won.v, won.n);
		return r;
	}
	*ret_names = won.v;
	*ret_n = won.n;
	return 0;
}

void gh_node_cmd_free(struct gh_node_cmd *c)
{
	if (!c)
		return;
	free(c->node);
	free(c->verb);
	free(c->arg);
	free(c->actor);
	free(c->reason);
	free(c->result);
	memset(c, 0, sizeof *c);
}

#define CMD_COLS "id, node, verb, arg, actor, reason, done_at, result"

static int decode_cmd(void *ud, const struct gh_db_val *c, int n)
{
	struct gh_node_cmd *cmd = ud;
	gh_node_cmd_free(cmd);
	cmd->id = gh_store_col_int(&c[0]);
	cmd->node = gh_store_col_str(&c[1]);
	cmd->verb = gh_store_col_str(&c[2]);
	cmd->arg = gh_store_col_str(&c[3]);
	cmd->actor = gh_store_col_str(&c[4]);
	cmd->reason = gh_store_col_str(&c[5]);
	cmd->done_at = gh_store_col_int(&c[6]);
	cmd->result = gh_store_col_str(&c[7]);
	return cmd->node && cmd->verb && cmd->arg && cmd->actor ? 0 : GH_ENOMEM;
}

int gh_store_node_cmd_add(struct gh_store *st, const char *node, const char *verb,
			  const char *arg, const char *actor, const char *reason, int64_t *ret_id)
{
	struct gh_db_val p[] = { DB_TEXT(node), DB_TEXT(verb), DB_TEXT(arg), DB_TEXT(actor),
				 DB_TEXT(reason), DB_INT(gh_now()) };
	return gh_store_q(st, "INSERT INTO node_commands (node, verb, arg, actor, reason, created_at)"
			      " VALUES (?, ?, ?, ?, ?, ?)",
			  p, NP(p), NULL, NULL, ret_id, NULL);
}

int gh_store_node_cmd_take(struct gh_store *st, struct gh_node_cmd *ret)
{
	struct gh_node_cmd c = { 0 };
	struct gh_db_val p[] = { DB_TEXT(gh_store_node(st)) };
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = gh_store_q(st, "SELECT " CMD_COLS " FROM node_commands WHERE node = ? AND done_at = 0"
			   " ORDER BY id LIMIT 1",
		       p, 1, decode_cmd, &c, NULL, NULL);
	if (r == 0 && !c.id)
		r = GH_ENOENT;
	if (r == 0) {
		struct gh_db_val u[] = { DB_INT(c.id) };
		r = gh_store_q(st, "UPDATE node_commands SET done_at = -1 WHERE id = ?", u, 1, NULL,
			       NULL, NULL, NULL);
	}
	r = gh_store_tx_end(st, r);
	if (r < 0) {
		gh_node_cmd_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int gh_store_node_cmd_done(struct gh_store *st, int64_t id, const char *result)
{
	struct gh_db_val p[] = { DB_INT(gh_now()), DB_TEXT(result), DB_INT(id) };
	return gh_store_q(st, "UPDATE node_commands SET done_at = ?, result = ? WHERE id = ?", p,
			  NP(p), NULL, NULL, NULL, NULL);
}

int gh_store_node_cmd_get(struct gh_store *st, int64_t id, struct gh_node_cmd *ret)
{
	struct gh_node_cmd c = { 0 };
	struct gh_db_val p[] = { DB_INT(id) };
	int r = gh_store_q(st, "SELECT " CMD_COLS " FROM node_commands WHERE id = ?", p, 1,
			   decode_cmd, &c, NULL, NULL);
	if (r == 0 && !c.id)
		r = GH_ENOENT;
	if (r < 0) {
		gh_node_cmd_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}
