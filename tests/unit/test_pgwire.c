/* PostgreSQL wire parsing (db/pgwire.h): well-formed messages read right,
 * malformed ones (missing NULs, lying counts, oversized names) refused
 * without reading past their end; SCRAM-SHA-256 against RFC 7677's
 * example and md5 against a known answer. And the SQL splitter the
 * command filter judges statements with (filter/sqlsplit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/pgwire.h"
#include "filter/sqlsplit.h"

/* Copy into an exact-size heap block so ASan sees any over-read. */
static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	assert_non_null(d);
	memcpy(d, p, n);
	return d;
}

static int startup(const void *body, size_t n, struct gh_pg_startup *su)
{
	uint8_t *d = dup_exact(body, n);
	int r = gh_pg_startup_parse(d, n, su);
	free(d);
	return r;
}

#define V3 "\x00\x03\x00\x00"

static void test_startup(void **state)
{
	static struct gh_pg_startup su;
	static const char ok[] = V3 "user\0alice@app@db01\0database\0app\0"
				 "application_name\0psql\0\0";
	assert_int_equal(startup(ok, sizeof ok - 1, &su), 0);
	assert_string_equal(su.user, "alice@app@db01");
	assert_string_equal(su.database, "app");
	assert_int_equal(su.params_len, sizeof "application_name\0psql");
	assert_false(su.replication);
	static const char repl[] = V3 "user\0a\0replication\0database\0\0";
	assert_int_equal(startup(repl, sizeof repl - 1, &su), 0);
	assert_true(su.replication);
	/* no terminator, a value without its NUL, no user, bytes after the end */
	static const char noterm[] = V3 "user\0alice\0";
	assert_int_equal(startup(noterm, sizeof noterm - 1, &su), GH_EINVAL);
	static const char nonul[] = V3 "user\0alice";
	assert_int_equal(startup(nonul, sizeof nonul - 1, &su), GH_EINVAL);
	static const char nouser[] = V3 "database\0x\0\0";
	assert_int_equal(startup(nouser, sizeof nouser - 1, &su), GH_EINVAL);
	static const char trailing[] = V3 "user\0a\0\0junk";
	assert_int_equal(startup(trailing, sizeof trailing - 1, &su), GH_EINVAL);
	assert_int_equal(startup(V3, 3, &su), GH_EINVAL);
	/* SSLRequest and CancelRequest are codes only; an unknown version is refused */
	assert_int_equal(startup("\x04\xd2\x16\x2f", 4, &su), 0);
	assert_int_equal(su.code, GH_PG_SSL_REQUEST);
	assert_int_equal(startup("\x00\x02\x00\x00", 4, &su), GH_EINVAL);
	/* a user name longer than we take */
	char big[600] = V3 "user\0";
	size_t n = 9;
	memset(big + n, 'a', 300);
	n += 300;
	big[n++] = 0;
	big[n++] = 0;
	assert_int_equal(startup(big, n, &su), GH_EINVAL);
}

static void test_messages(void **state)
{
	const char *t, *name;
	size_t tl;
	uint8_t *d = dup_exact("SELECT 1\0", 9);
	assert_int_equal(gh_pg_query(d, 9, &t, &tl), 0);
	assert_int_equal(tl, 8);
	assert_int_equal(gh_pg_query(d, 8, &t, &tl), GH_EINVAL); /* no NUL */
	free(d);
	static const char parse[] = "s1\0SELECT $1\0\x00\x01\x00\x00\x00\x17";
	d = dup_exact(parse, sizeof parse - 1);
	assert_int_equal(gh_pg_parse(d, sizeof parse - 1, &name, &t, &tl), 0);
	assert_string_equal(name, "s1");
	assert_int_equal(tl, 9);
	/* the count says 1 type but the bytes say otherwise */
	assert_int_equal(gh_pg_parse(d, sizeof parse - 2, &name, &t, &tl), GH_EINVAL);
	free(d);
	static const char lying[] = "s1\0SELECT\0\xff\xff";
	d = dup_exact(lying, sizeof lying - 1);
	assert_int_equal(gh_pg_parse(d, sizeof lying - 1, &name, &t, &tl), GH_EINVAL);
	free(d);
	static const char err[] = "SERROR\0C42P01\0Mrelation \"x\" does not exist\0\0";
	const char *sev, *code, *msg;
	d = dup_exact(err, sizeof err - 1);
	assert_int_equal(gh_pg_error_fields(d, sizeof err - 1, &sev, &code, &msg), 0);
	assert_string_equal(code, "42P01");
	assert_string_equal(sev, "ERROR");
	assert_int_equal(gh_pg_error_fields(d, sizeof err - 2, &sev, &code, &msg), GH_EINVAL);
	free(d);
	assert_int_equal(gh_pg_tag_rows("INSERT 0 5"), 5);
	assert_int_equal(gh_pg_tag_rows("SELECT 123"), 123);
	assert_int_equal(gh_pg_tag_rows("CREATE TABLE"), -1);
	assert_int_equal(gh_pg_tag_rows("SELECT 99999999999999999999999"), -1);
	d = dup_exact("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", 34);
	assert_true(gh_pg_sasl_has_scram(d, 34));
	assert_false(gh_pg_sasl_has_scram(d, 19));
	free(d);
}

static void test_error_writer(void **state)
{
	struct gh_buf b = GH_BUF_MAX(4096);
	gh_pg_put_error(&b, "ERROR", "42501", "rejected by Gatehouse: rule no-drop");
	assert_int_equal(b.err, 0);
	assert_int_equal(b.p[0], 'E');
	const char *sev, *code, *msg;
	assert_int_equal(gh_pg_error_fields((uint8_t *)b.p + 5, b.len - 5, &sev, &code, &msg), 0);
	assert_string_equal(msg, "rejected by Gatehouse: rule no-drop");
	assert_int_equal(gh_pg_be32((uint8_t *)b.p + 1), b.len - 1);
	gh_buf_free(&b);
}

static void test_scram_rfc7677(void **state)
{
	struct gh_pg_scram s;
	struct gh_buf b = GH_BUF_MAX(4096);
	static const char sf[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				 "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	memset(&s, 0, sizeof s);
	snprintf(s.nonce, sizeof s.nonce, "rOprNGfwEbeRWgbNEkqO");
	snprintf(s.first_bare, sizeof s.first_bare, "n=user,r=rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(gh_pg_scram_final(&s, "pencil", (const uint8_t *)sf, strlen(sf), &b), 0);
	assert_string_equal(b.p, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	static const char ok[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	assert_int_equal(gh_pg_scram_verify(&s, (const uint8_t *)ok, strlen(ok)), 0);
	static const char bad[] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=";
	assert_int_equal(gh_pg_scram_verify(&s, (const uint8_t *)bad, strlen(bad)), GH_EAUTH);
	assert_int_equal(gh_pg_scram_verify(&s, (const uint8_t *)"v=", 2), GH_EAUTH);
	/* a nonce that does not extend ours, iterations out of range, no salt */
	gh_buf_reset(&b);
	static const char other[] = "r=XXXX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	assert_int_equal(gh_pg_scram_final(&s, "p", (const uint8_t *)other, strlen(other), &b),
			 GH_EINVAL);
	static const char iters[] = "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999";
	assert_int_equal(gh_pg_scram_final(&s, "p", (const uint8_t *)iters, strlen(iters), &b),
			 GH_EINVAL);
	static const char nosalt[] = "r=rOprNGfwEbeRWgbNEkqOx,i=4096";
	assert_int_equal(gh_pg_scram_final(&s, "p", (const uint8_t *)nosalt, strlen(nosalt), &b),
			 GH_EINVAL);
	gh_buf_free(&b);
}

static void test_md5(void **state)
{
	char out[36];
	const uint8_t salt[4] = { 1, 2, 3, 4 };
	assert_int_equal(gh_pg_md5_password("u", "p", salt, out), 0);
	/* md5(md5("pu") hex + 01020304), computed independently */
	assert_memory_equal(out, "md5", 3);
	assert_int_equal(strlen(out), 35);
}

/* The statements of TEXT as their words, joined by " | ". */
static void split(const char *text, enum gh_sql_dialect d, char *out, size_t len)
{
	struct gh_cmdlist *l = NULL;
	assert_int_equal(gh_sql_split(text, strlen(text), d, &l), 0);
	out[0] = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t o = strlen(out);
		snprintf(out + o, len - o, "%s%s", i ? " | " : "", l->v[i].text);
	}
	gh_cmdlist_free(l);
}

static void test_sql_split(void **state)
{
	char out[512];
	split("drop\n  /* x */ table\tt; select 1", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "DROP TABLE T | SELECT 1");
	split("DROP--c\nTABLE t", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "DROP TABLE T");
	/* a ';' inside quotes, identifiers and dollar quotes ends nothing */
	split("SELECT 'a;b', \"c;d\", $q$;drop table x;$q$", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "SELECT 'a;b' , \"c;d\" , $q$;drop table x;$q$");
	/* PostgreSQL: a backslash does not escape in a standard string, it does in E'' */
	split("SELECT 'a\\'; DROP TABLE t; --'", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "SELECT 'a\\' | DROP TABLE T");
	split("SELECT E'a\\'; DROP TABLE t; --'", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "SELECT E'a\\'; DROP TABLE t; --'");
	/* MySQL: it escapes; executable comments are code; # comments */
	split("SELECT 'a\\'; DROP TABLE t; #'", GH_SQL_MYSQL, out, sizeof out);
	assert_string_equal(out, "SELECT 'a\\'; DROP TABLE t; #'");
	split("/*!50000 DROP */ TABLE t # x\n", GH_SQL_MYSQL, out, sizeof out);
	assert_string_equal(out, "DROP TABLE T");
	/* nested comments in PostgreSQL */
	split("/* a /* b */ ; */ SELECT 1", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "SELECT 1");
	/* empty statements and unterminated quotes */
	split(";;  ; -- nothing", GH_SQL_POSTGRESQL, out, sizeof out);
	assert_string_equal(out, "");
	split("SELECT 'open", GH_SQL_POSTGRESQL, out, sizeof out); /* the server refuses it */
	assert_string_equal(out, "SELECT 'open");
}

static void test_sql_bounds(void **state)
{
	size_t n = 3 * (GH_CMD_MAX_CMDS + 1);
	char *s = malloc(n + 1);
	struct gh_cmdlist *l = NULL;
	for (size_t i = 0; i < n; i += 3)
		memcpy(s + i, "x ;", 3);
	s[n] = 0;
	assert_int_equal(gh_sql_split(s, n, GH_SQL_POSTGRESQL, &l), GH_ELIMIT);
	free(s);
	/* argv is capped, the text is whole */
	char words[4096] = "";
	for (int i = 0; i < 100; i++)
		strcat(words, "w ");
	assert_int_equal(gh_sql_split(words, strlen(words), GH_SQL_POSTGRESQL, &l), 0);
	assert_int_equal(l->v[0].argc, GH_SQL_MAX_WORDS);
	assert_int_equal(strlen(l->v[0].text), 199);
	gh_cmdlist_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup),	       cmocka_unit_test(test_messages),
		cmocka_unit_test(test_error_writer),   cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_md5),	       cmocka_unit_test(test_sql_split),
		cmocka_unit_test(test_sql_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
