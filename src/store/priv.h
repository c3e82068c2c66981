/* What store.c lends to the store's other files (access.c, ...): one
 * statement with busy retries, write transactions and column decoding.
 * Private to src/store/. */
#pragma once
#include <stdint.h>

#include "store/db.h"

struct gh_store;

int gh_store_q(struct gh_store *st, const char *sql, const struct gh_db_val *p, int n,
	       gh_db_row_fn fn, void *ud, int64_t *ret_id, int *ret_changes);
int gh_store_tx_begin(struct gh_store *st);
/* Commit when R is 0, roll back otherwise; returns the final status. */
int gh_store_tx_end(struct gh_store *st, int r);
/* A TEXT (or INT, formatted) column as a malloc'd string; NULL otherwise. */
char *gh_store_col_str(const struct gh_db_val *c);
/* Row callback: the first column as an int64 into *(int64_t *)UD. */
int gh_store_one_int(void *ud, const struct gh_db_val *cols, int ncols);
/* An INT column; 0 otherwise. */
int64_t gh_store_col_int(const struct gh_db_val *c);
/* Row callback: the first column as an integer into *(int64_t *)UD. */
int gh_store_take_int(void *ud, const struct gh_db_val *c, int n);
/* Called inside a transaction by user and group deletion (cmdstore.c):
 * the command filters forget the name. */
int gh_store_cmdfilter_forget(struct gh_store *st, int kind, const char *name);
