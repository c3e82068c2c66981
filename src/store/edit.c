/* Editing assets and groups in place; group names for reasons (edit.h). */
#include "store/edit.h"
#include "core/error.h"
#include "store/cmdstore.h"
#include "store/priv.h"

#include <stdlib.h>
#include <string.h>

#define NP(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* One UPDATE that must touch a row: GH_ENOENT when it touched none. */
static int update_one(struct gh_store *st, const char *sql, struct gh_db_val v, int64_t id)
{
	struct gh_db_val p[] = { v, DB_INT(id) };
	int changes = 0;
	int r = gh_store_q(st, sql, p, NP(p), NULL, NULL, NULL, &changes);
	return r < 0 ? r : changes > 0 ? 0 : GH_ENOENT;
}

/* Touch row ID with SQL (a no-op UPDATE) inside the transaction: GH_ENOENT when
 * there is none (gone meanwhile). */
static int touch(struct gh_store *st, const char *sql, int64_t id)
{
	struct gh_db_val p[] = { DB_INT(id) };
	int changes = 0;
	int r = gh_store_q(st, sql, p, 1, NULL, NULL, NULL, &changes);
	return r < 0 ? r : changes > 0 ? 0 : GH_ENOENT;
}

/* Replace the rows "(OWNER, member)" of a link table: DEL_SQL deletes the
 * owner's rows, INS_SQL inserts one (duplicates in IDS are skipped). */
static int replace_links(struct gh_store *st, const char *del_sql, const char *ins_sql,
			 int64_t owner, const int64_t *ids, size_t n)
{
	struct gh_db_val d[] = { DB_INT(owner) };
	int r = gh_store_q(st, del_sql, d, 1, NULL, NULL, NULL, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = ids[k] == ids[i];
		struct gh_db_val p[] = { DB_INT(owner), DB_INT(ids[i]) };
		if (!dup)
			r = gh_store_q(st, ins_sql, p, 2, NULL, NULL, NULL, NULL);
	}
	return r;
}

int gh_store_asset_update(struct gh_store *st, int64_t id, const struct gh_asset_edit *e)
{
	if (!st || !e)
		return GH_EINVAL;
	const char *comment = e->comment && e->comment[0] ? e->comment : NULL;
	/* the columns, in order: each applied only when given */
	const struct {
		bool given;
		const char *sql;
		struct gh_db_val v;
	} cols[] = {
		{ e->address != NULL, "UPDATE assets SET address = ? WHERE id = ?", DB_TEXT(e->address) },
		{ e->port > 0, "UPDATE assets SET port = ? WHERE id = ?", DB_INT(e->port) },
		{ e->platform != NULL, "UPDATE assets SET platform = ? WHERE id = ?", DB_TEXT(e->platform) },
		{ e->protocols != 0, "UPDATE assets SET protocols = ? WHERE id = ?", DB_INT(e->protocols) },
		{ e->comment != NULL, "UPDATE assets SET comment = ? WHERE id = ?", DB_TEXT(comment) },
		{ e->set_host_key, "UPDATE assets SET host_key = ? WHERE id = ?", DB_TEXT(e->host_key) },
	};
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	/* first touch the row itself, so that an asset gone meanwhile is
	 * GH_ENOENT whatever was asked */
	r = touch(st, "UPDATE assets SET id = id WHERE id = ?", id);
	for (size_t i = 0; r == 0 && i < sizeof cols / sizeof cols[0]; i++)
		if (cols[i].given)
			r = update_one(st, cols[i].sql, cols[i].v, id);
	if (r == 0 && e->set_nodes)
		r = replace_links(st, "DELETE FROM asset_nodes WHERE asset_id = ?",
				  "INSERT INTO asset_nodes (asset_id, node_id) VALUES (?, ?)", id,
				  e->node_ids, e->n_nodes);
	return gh_store_tx_end(st, r);
}

struct names {
	char **v;
	size_t n, cap;
};

static int collect_name(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct names *a = ud;
	if (ncols < 1)
		return GH_ESTORE;
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 8;
		char **nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return GH_ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n] = gh_store_col_str(&cols[0]);
	if (!a->v[a->n])
		return GH_ENOMEM;
	a->n++;
	return 0;
}

/* Rename group ID to NEW_NAME, and the command filters that name it
 * (cmd_filter_refs holds group names, not ids) with it. */
static int group_rename(struct gh_store *st, int64_t id, const char *new_name)
{
	struct names old = { 0 };
	struct gh_db_val p[] = { DB_INT(id) };
	int r = gh_store_q(st, "SELECT name FROM user_groups WHERE id = ?", p, 1, collect_name, &old,
			   NULL, NULL);
	if (r == 0 && old.n != 1)
		r = GH_ENOENT;
	if (r == 0)
		r = update_one(st, "UPDATE user_groups SET name = ? WHERE id = ?", DB_TEXT(new_name), id);
	struct gh_db_val refs[] = { DB_TEXT(new_name), DB_INT(GH_CFREF_UGROUP),
				    DB_TEXT(old.n ? old.v[0] : NULL) };
	if (r == 0)
		r = gh_store_q(st, "UPDATE cmd_filter_refs SET value = ? WHERE kind = ? AND value = ?",
			       refs, NP(refs), NULL, NULL, NULL, NULL);
	gh_store_names_free(old.v, old.n);
	return r;
}

int gh_store_group_update(struct gh_store *st, int64_t id, const char *new_name, bool set_members,
			  const int64_t *user_ids, size_t n_users)
{
	if (!st || (n_users && !user_ids))
		return GH_EINVAL;
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	r = new_name ? group_rename(st, id, new_name)
		     : touch(st, "UPDATE user_groups SET id = id WHERE id = ?", id);
	if (r == 0 && set_members)
		r = replace_links(st, "DELETE FROM group_members WHERE group_id = ?",
				  "INSERT INTO group_members (group_id, user_id) VALUES (?, ?)", id,
				  user_ids, n_users);
	return gh_store_tx_end(st, r);
}

int gh_store_user_group_names(struct gh_store *st, int64_t user_id, char ***ret, size_t *ret_n)
{
	struct names a = { 0 };
	struct gh_db_val p[] = { DB_INT(user_id) };
	int r = gh_store_q(st, "SELECT g.name FROM user_groups g JOIN group_members m"
			       " ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name",
			   p, 1, collect_name, &a, NULL, NULL);
	if (r < 0) {
		gh_store_names_free(a.v, a.n);
		return r;
	}
	*ret = a.n ? a.v : NULL;
	if (!a.n)
		free(a.v);
	*ret_n = a.n;
	return 0;
}

void gh_store_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}
