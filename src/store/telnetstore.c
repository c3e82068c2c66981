/* A telnet asset's prompt patterns (telnetstore.h). */
#include "store/telnetstore.h"
#include "core/error.h"
#include "store/priv.h"

#include <stdlib.h>
#include <string.h>

void gh_asset_telnet_free(struct gh_asset_telnet *t)
{
	if (!t)
		return;
	free(t->login_prompt);
	free(t->password_prompt);
	free(t->shell_prompt);
	memset(t, 0, sizeof *t);
}

static int telnet_row(void *ud, const struct gh_db_val *cols, int ncols)
{
	struct gh_asset_telnet *t = ud;
	(void)ncols;
	gh_asset_telnet_free(t);
	t->login_prompt = gh_store_col_str(&cols[0]);
	t->password_prompt = gh_store_col_str(&cols[1]);
	t->shell_prompt = gh_store_col_str(&cols[2]);
	return 0;
}

int gh_store_asset_telnet_get(struct gh_store *st, int64_t asset_id, struct gh_asset_telnet *ret)
{
	struct gh_asset_telnet t = { 0 };
	struct gh_db_val p[] = { DB_INT(asset_id) };
	if (!st || !ret)
		return GH_EINVAL;
	int r = gh_store_q(st, "SELECT login_prompt, password_prompt, shell_prompt FROM asset_telnet"
			       " WHERE asset_id = ?",
			   p, 1, telnet_row, &t, NULL, NULL);
	if (r < 0) {
		gh_asset_telnet_free(&t);
		return r;
	}
	*ret = t;
	return 0;
}

/* NULL: unchanged (COALESCE keeps the old value); "": NULL (the default). */
int gh_store_asset_telnet_set(struct gh_store *st, int64_t asset_id, const struct gh_asset_telnet *t)
{
	if (!st || !t)
		return GH_EINVAL;
	const char *v[3] = { t->login_prompt, t->password_prompt, t->shell_prompt };
	struct gh_db_val p[7] = { DB_INT(asset_id) };
	for (int i = 0; i < 3; i++) {
		p[1 + 2 * i] = DB_INT(v[i] != NULL);
		p[2 + 2 * i] = DB_TEXT(v[i] && v[i][0] ? v[i] : NULL);
	}
	int r = gh_store_tx_begin(st);
	if (r < 0)
		return r;
	struct gh_db_val q[] = { DB_INT(asset_id) };
	r = gh_store_q(st, "INSERT INTO asset_telnet (asset_id) VALUES (?) ON CONFLICT DO NOTHING", q, 1, NULL,
		       NULL, NULL, NULL);
	if (r == 0)
		r = gh_store_q(st, "UPDATE asset_telnet SET"
				   " login_prompt = CASE WHEN ?2 <> 0 THEN ?3 ELSE login_prompt END,"
				   " password_prompt = CASE WHEN ?4 <> 0 THEN ?5 ELSE password_prompt END,"
				   " shell_prompt = CASE WHEN ?6 <> 0 THEN ?7 ELSE shell_prompt END"
				   " WHERE asset_id = ?1",
			       p, 7, NULL, NULL, NULL, NULL);
	return gh_store_tx_end(st, r);
}
