/* The Redis wire (src/db/redis_wire.h): requests in both forms and every
 * prefix of them, limits, AUTH/HELLO, masked audit text, and where replies
 * end when fed whole, byte by byte, and malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "db/redis_wire.h"

static struct gh_redis_limits LIM = { .max_args = 8, .max_total = 64, .max_inline = 32 };

static int parse(const char *s, struct gh_redis_req *q)
{
	return gh_redis_req_parse((const uint8_t *)s, strlen(s), &LIM, q);
}

static void assert_arg(const struct gh_redis_req *q, size_t i, const char *want)
{
	assert_true(i < q->argc);
	assert_int_equal(q->argl[i], strlen(want));
	assert_memory_equal(q->argv[i], want, strlen(want));
}

static void test_multibulk(void **st)
{
	const char *cmd = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a\r\n\r\n*1\r\n$4\r\nPING\r\n";
	size_t first = strlen("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a\r\n\r\n");
	struct gh_redis_req q = { 0 };

	for (size_t k = 0; k < first; k++) { /* every prefix: incomplete, no error */
		assert_int_equal(gh_redis_req_parse((const uint8_t *)cmd, k, &LIM, &q), 0);
		assert_int_equal(q.used, 0);
	}
	assert_int_equal(parse(cmd, &q), 0);
	assert_int_equal(q.used, first);
	assert_int_equal(q.argc, 3);
	assert_false(q.inline_form);
	assert_arg(&q, 0, "SET");
	assert_arg(&q, 2, "v a\r\n");
	assert_true(gh_redis_arg_is(&q, 0, "set"));
	assert_false(gh_redis_arg_is(&q, 3, "set"));
	gh_redis_req_free(&q);
	gh_redis_req_free(&q);
	/* an empty array is skipped as Redis does */
	assert_int_equal(parse("*0\r\n", &q), 0);
	assert_int_equal(q.used, 4);
	assert_int_equal(q.argc, 0);
	gh_redis_req_free(&q);
}

static void test_multibulk_malformed(void **st)
{
	struct gh_redis_req q = { 0 };

	assert_int_equal(parse("*9\r\n", &q), GH_ELIMIT);                   /* too many args */
	assert_int_equal(parse("*1\r\n$65\r\n", &q), GH_ELIMIT);            /* too big */
	assert_int_equal(parse("*2\r\n$40\r\n", &q), 0);                    /* fits so far */
	assert_int_equal(parse("*2\r\n$40\r\n" "0123456789012345678901234567890123456789\r\n$30\r\n", &q),
			 GH_ELIMIT);                                          /* total too big */
	assert_int_equal(parse("*1\r\n+PING\r\n", &q), GH_EINVAL);          /* not a bulk */
	assert_int_equal(parse("*1\r\n$-1\r\n", &q), GH_EINVAL);
	assert_int_equal(parse("*1\r\n$4\r\nPINGxx", &q), GH_EINVAL);       /* no CRLF after */
	assert_int_equal(parse("*x\r\n", &q), GH_EINVAL);
	assert_int_equal(parse("*1\n", &q), GH_EINVAL);                     /* LF without CR */
	assert_int_equal(parse("*99999999999999999999\r\n", &q), GH_EINVAL); /* overflow */
	assert_int_equal(parse("*1111111111111111111111111111111111111", &q), GH_EINVAL);
	assert_int_equal(q.used, 0);
	assert_null(q.argv);
}

static void test_inline(void **st)
{
	struct gh_redis_req q = { 0 };

	assert_int_equal(parse("PING\r\n", &q), 0);
	assert_true(q.inline_form);
	assert_int_equal(q.used, 6);
	assert_int_equal(q.argc, 1);
	gh_redis_req_free(&q);
	assert_int_equal(parse("SET k \"a b\\x41\\n\"\nGET", &q), 0);
	assert_int_equal(q.used, 18);
	assert_int_equal(q.argc, 3);
	assert_arg(&q, 2, "a bA\n");
	gh_redis_req_free(&q);
	assert_int_equal(parse("set 'it\\'s' x\r\n", &q), 0);
	assert_arg(&q, 1, "it's");
	gh_redis_req_free(&q);
	assert_int_equal(parse("\r\n", &q), 0); /* an empty line */
	assert_int_equal(q.argc, 0);
	assert_int_equal(q.used, 2);
	gh_redis_req_free(&q);
	assert_int_equal(parse("GET k", &q), 0); /* no newline yet */
	assert_int_equal(q.used, 0);
	assert_int_equal(parse("SET \"unbalanced\n", &q), GH_EINVAL);
	assert_int_equal(parse("SET \"a\"b\n", &q), GH_EINVAL);
	assert_int_equal(parse("a b c d e f g h i\n", &q), GH_ELIMIT);
	assert_int_equal(parse("GET aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &q), GH_ELIMIT);
}

static void test_auth(void **st)
{
	struct gh_redis_req q = { 0 };
	struct gh_redis_auth a;
	struct gh_buf b = { 0 };

	assert_int_equal(parse("AUTH alice@default@rdb pw\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), 0);
	assert_false(a.hello);
	assert_int_equal(a.user_len, 17);
	assert_memory_equal(a.user, "alice@default@rdb", 17);
	assert_memory_equal(a.pass, "pw", 2);
	gh_redis_req_free(&q);
	assert_int_equal(parse("auth pw\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), 0);
	assert_null(a.user);
	gh_redis_req_free(&q);
	assert_int_equal(parse("AUTH\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), GH_EINVAL);
	gh_redis_req_free(&q);
	assert_int_equal(parse("HELLO 3 AUTH u p SETNAME c\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), 0);
	assert_true(a.hello);
	assert_int_equal(a.proto, 3);
	assert_memory_equal(a.pass, "p", 1);
	assert_memory_equal(a.setname, "c", 1);
	assert_int_equal(gh_redis_hello_build(&a, &b), 0);
	assert_int_equal(b.len, strlen("*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$1\r\nc\r\n"));
	assert_memory_equal(b.p, "*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$1\r\nc\r\n", b.len);
	gh_redis_req_free(&q);
	assert_int_equal(parse("HELLO 4\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), GH_EINVAL);
	gh_redis_req_free(&q);
	assert_int_equal(parse("HELLO 3 AUTH u\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), GH_EINVAL);
	gh_redis_req_free(&q);
	assert_int_equal(parse("GET k\n", &q), 0);
	assert_int_equal(gh_redis_auth_parse(&q, &a), GH_ENOENT);
	gh_redis_req_free(&q);
	gh_buf_free(&b);
}

static void audit_is(const char *cmd, size_t max, const char *want)
{
	struct gh_redis_limits lim = GH_REDIS_LIMITS_DEFAULT;
	struct gh_redis_req q = { 0 };
	struct gh_buf b = { 0 };

	assert_int_equal(gh_redis_req_parse((const uint8_t *)cmd, strlen(cmd), &lim, &q), 0);
	assert_int_not_equal(q.used, 0);
	assert_int_equal(gh_redis_audit_text(&q, max, &b), 0);
	assert_string_equal(b.p, want);
	gh_redis_req_free(&q);
	gh_buf_free(&b);
}

/* Passwords never reach the audit text. */
static void test_audit_text(void **st)
{
	audit_is("AUTH alice@default@rdb s3cret\n", 200, "AUTH *** ***");
	audit_is("HELLO 3 AUTH alice s3cret SETNAME x\n", 200, "HELLO 3 AUTH *** *** SETNAME x");
	audit_is("CONFIG SET requirepass s3cret maxmemory 1\n", 200,
		 "CONFIG SET requirepass *** maxmemory 1");
	audit_is("ACL SETUSER bob on >s3cret ~* +@all\n", 200, "ACL SETUSER bob on *** ~* +@all");
	audit_is("MIGRATE h 1 k 0 5 AUTH2 u s3cret\n", 200, "MIGRATE h 1 k 0 5 AUTH2 u ***");
	audit_is("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\"\x1b\n\r\n", 200, "SET k \"a\\x22\\x1b\\x0a\"");
	audit_is("SET k \"\"\n", 200, "SET k \"\"");
	audit_is("SET key 0123456789012345678901234567890123456789\n", 20, "SET key 012345678...");
}

static void test_err(void **st)
{
	struct gh_buf b = { 0 };

	assert_int_equal(gh_redis_err_rejected("no-flush", &b), 0);
	assert_string_equal(b.p, "-ERR rejected by Gatehouse: rule no-flush\r\n");
	gh_buf_reset(&b);
	assert_int_equal(gh_redis_err_build("a\r\nb", &b), 0);
	assert_string_equal(b.p, "-ERR a??b\r\n");
	gh_buf_free(&b);
}

/* Feed S whole and byte by byte: a reply ends at END (bytes), then the next. */
static void scan_whole_and_bytes(const char *s, size_t end, char type, bool error)
{
	struct gh_redis_scan sc;
	size_t used = 0, n = strlen(s), off = 0;
	bool done = false;

	gh_redis_scan_init(&sc);
	assert_int_equal(gh_redis_scan_feed(&sc, (const uint8_t *)s, n, &used, &done), 0);
	assert_true(done);
	assert_int_equal(used, end);
	assert_int_equal(sc.type, type);
	assert_int_equal(sc.error, error);
	gh_redis_scan_init(&sc);
	for (off = 0; off < end; off++) {
		assert_int_equal(gh_redis_scan_feed(&sc, (const uint8_t *)s + off, 1, &used, &done), 0);
		assert_int_equal(used, 1);
		assert_int_equal(done, off == end - 1);
	}
	assert_int_equal(sc.type, type);
}

static void test_scan(void **st)
{
	scan_whole_and_bytes("+OK\r\n+OK\r\n", 5, '+', false);
	scan_whole_and_bytes("-ERR unknown command\r\n", 22, '-', true);
	scan_whole_and_bytes(":42\r\n", 5, ':', false);
	scan_whole_and_bytes("$5\r\nhe\r\nl\r\n:1\r\n", 11, '$', false);
	scan_whole_and_bytes("$-1\r\n", 5, '$', false);
	scan_whole_and_bytes("$0\r\n\r\n", 6, '$', false);
	scan_whole_and_bytes("*2\r\n*1\r\n:1\r\n$1\r\nx\r\n+x\r\n", 19, '*', false);
	scan_whole_and_bytes("*0\r\n", 4, '*', false);
	scan_whole_and_bytes("*-1\r\n", 5, '*', false);
	scan_whole_and_bytes("%1\r\n+k\r\n*0\r\n", 12, '%', false);
	scan_whole_and_bytes("|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", 21, '$', false); /* attribute, then the value */
	scan_whole_and_bytes(">2\r\n+message\r\n+x\r\n", 18, '>', false);
	scan_whole_and_bytes("!3\r\nbad\r\n", 9, '!', true);
	scan_whole_and_bytes("_\r\n#t\r\n,1.5\r\n", 3, '_', false);

	struct gh_redis_scan sc;
	size_t used = 0;
	bool done = false;
	gh_redis_scan_init(&sc);
	assert_int_equal(gh_redis_scan_feed(&sc, (const uint8_t *)"-WRONGPASS bad\r\n", 16, &used, &done), 0);
	assert_string_equal(sc.err, "WRONGPASS bad");
	assert_true(sc.error);
	gh_redis_scan_init(&sc);
	assert_int_equal(gh_redis_scan_feed(&sc, (const uint8_t *)"*3\r\n", 4, &used, &done), 0);
	assert_int_equal(sc.count, 3);
	assert_false(done);
}

static void test_scan_malformed(void **st)
{
	const char *bad[] = { "$abc\r\n", "+OK\n", "?x\r\n", "$3\r\nabcX\r\n", "*1\rx\n",
			      "$99999999999999999999\r\n", "*-2\r\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct gh_redis_scan sc;
		size_t used = 0;
		bool done = false;
		gh_redis_scan_init(&sc);
		assert_int_equal(gh_redis_scan_feed(&sc, (const uint8_t *)bad[i], strlen(bad[i]),
						    &used, &done), GH_EINVAL);
	}
	/* nesting past the bound */
	struct gh_redis_scan sc;
	size_t used = 0;
	bool done = false;
	int r = 0;
	gh_redis_scan_init(&sc);
	for (int i = 0; i <= GH_REDIS_MAX_DEPTH && r == 0; i++)
		r = gh_redis_scan_feed(&sc, (const uint8_t *)"*1\r\n", 4, &used, &done);
	assert_int_equal(r, GH_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multibulk),
		cmocka_unit_test(test_multibulk_malformed),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_audit_text),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_scan_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
