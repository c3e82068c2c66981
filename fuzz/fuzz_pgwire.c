/* libFuzzer target: the PostgreSQL wire parsers (db/pgwire.h) and the SQL
 * splitter (filter/sqlsplit.h), on exact-size copies of the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/pgwire.h"
#include "filter/sqlsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gh_pg_startup su;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1);
	const char *a, *b, *c;
	size_t n;
	struct gh_cmdlist *l = NULL;
	struct gh_pg_scram s = { .nonce = "abc", .first_bare = "n=,r=abc" };
	if (!d)
		return 0;
	memcpy(d, data, size);
	if (gh_pg_startup_parse(d, size, &su) == 0 && su.code == GH_PG_PROTO_3 &&
	    (!su.user[0] || strlen(su.user) > GH_PG_NAME_MAX || su.params_len > sizeof su.params))
		__builtin_trap();
	if (gh_pg_query(d, size, &a, &n) == 0 && (n >= size || a[n] != 0))
		__builtin_trap();
	if (gh_pg_parse(d, size, &a, &b, &n) == 0 && b + n >= (const char *)d + size)
		__builtin_trap();
	gh_pg_error_fields(d, size, &a, &b, &c);
	gh_pg_param_status(d, size, &a, &b);
	gh_pg_sasl_has_scram(d, size);
	gh_pg_scram_verify(&s, d, size);
	for (int dialect = 0; dialect < 2; dialect++) {
		if (gh_sql_split((const char *)d, size, (enum gh_sql_dialect)dialect, &l) == 0) {
			for (size_t i = 0; i < l->n; i++)
				if (l->v[i].argc == 0 || l->v[i].off + l->v[i].len > size)
					__builtin_trap();
			l = gh_cmdlist_free(l);
		}
	}
	free(d);
	return 0;
}
