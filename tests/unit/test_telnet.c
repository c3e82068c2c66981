/* Telnet targets: negotiation and the login machine (target/telnet.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "target/telnet.h"

struct io {
	char sent[4096];
	size_t sent_len;
	char out[4096];
	size_t out_len;
};

static int io_send(void *ud, const void *data, size_t len)
{
	struct io *io = ud;
	assert_true(io->sent_len + len <= sizeof io->sent);
	memcpy(io->sent + io->sent_len, data, len);
	io->sent_len += len;
	return 0;
}

static void io_output(void *ud, const void *data, size_t len)
{
	struct io *io = ud;
	assert_true(io->out_len + len <= sizeof io->out);
	memcpy(io->out + io->out_len, data, len);
	io->out_len += len;
}

static bool has(const char *hay, size_t len, const void *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (!memcmp(hay + i, needle, nlen))
			return true;
	return false;
}

static struct gh_telnet *mk(struct io *io, const char *platform, const struct gh_telnet_prompts *p)
{
	struct gh_telnet *t = NULL;
	char err[200];
	struct gh_telnet_opts o = { .platform = platform, .term = "vt100", .width = 132,
				    .height = 43, .send = io_send, .output = io_output, .ud = io };
	if (p)
		o.prompts = *p;
	memset(io, 0, sizeof *io);
	assert_int_equal(gh_telnet_new(&o, &t, err, sizeof err), 0);
	return t;
}

static void feed(struct gh_telnet *t, const char *s)
{
	assert_int_equal(gh_telnet_recv(t, s, strlen(s)), 0);
}

static void test_login_ok(void **state)
{
	struct io io;
	struct gh_telnet *t = mk(&io, "linux", NULL);
	gh_telnet_login(t, "bob", "s3cret!");
	feed(t, "Debian GNU/Linux 12\r\nhost log");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_LOGIN);
	feed(t, "in: ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_PASSWORD);
	assert_true(has(io.sent, io.sent_len, "bob\r\n", 5));
	assert_false(has(io.sent, io.sent_len, "s3cret!", 7));
	feed(t, "Password: ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_SHELL);
	assert_true(has(io.sent, io.sent_len, "s3cret!\r\n", 9));
	/* a target that echoes the secret: never in the output */
	feed(t, "s3cret!\r\nWelcome\r\n$ ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_READY);
	assert_false(has(io.out, io.out_len, "s3cret!", 7));
	assert_false(has(io.out, io.out_len, "bob", 3));
	assert_true(has(io.out, io.out_len, "Welcome", 7));
	/* after the login: output passes, a NUL after CR is dropped */
	feed(t, "hi\r");
	assert_int_equal(gh_telnet_recv(t, "\0x", 2), 0);
	assert_true(has(io.out, io.out_len, "hi\rx", 4));
	gh_telnet_free(t);
}

static void test_login_incorrect(void **state)
{
	struct io io;
	struct gh_telnet *t = mk(&io, "linux", NULL);
	gh_telnet_login(t, "bob", "wrong");
	feed(t, "login: ");
	feed(t, "Password:");
	feed(t, "\r\n\r\nLogin incorrect\r\nhost login: ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_FAILED);
	assert_string_equal(gh_telnet_failure(t), "login incorrect");
	assert_int_equal(io.out_len, 0);
	gh_telnet_free(t);
}

static void test_prompt_again_fails(void **state)
{
	struct io io;
	struct gh_telnet *t = mk(&io, "network-device", NULL);
	gh_telnet_login(t, "admin", "pw");
	feed(t, "User Name: ");
	feed(t, "Password: ");
	feed(t, "\r\nUser Name: ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_FAILED);
	gh_telnet_free(t);
}

static void test_custom_prompts(void **state)
{
	struct io io;
	struct gh_telnet_prompts p = { .login = "Who are you\\?\\s*$", .password = "Secret\\?\\s*$",
				       .shell = "READY>\\s*$" };
	struct gh_telnet *t = mk(&io, "linux", &p);
	/* a prompt seen before the credentials are known is answered then */
	feed(t, "Who are you? ");
	gh_telnet_login(t, "u", "p");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_PASSWORD);
	feed(t, "Secret? ");
	feed(t, "ok\r\n$ ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_SHELL);
	feed(t, "READY> ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_READY);
	gh_telnet_free(t);
}

/* Bytes that are not UTF-8 before a prompt: matched as bytes. The
 * patterns were compiled for UTF-8 and matched without a check, which read
 * out of bounds on such input (found by fuzz_telnet); fails without the fix
 * under the sanitizers. */
static void test_invalid_utf8_window(void **state)
{
	struct io io;
	struct gh_telnet *t = mk(&io, "linux", NULL);
	gh_telnet_login(t, "u", "p");
	const char junk[] = "login\376\376\376\376\376\276\376: Pa\376\276\376: d: \r\nW\n\xff\xff\xc3";
	assert_int_equal(gh_telnet_recv(t, junk, sizeof junk - 1), 0);
	feed(t, "\r\nlogin: ");
	assert_int_equal(gh_telnet_phase(t), GH_TN_WAIT_PASSWORD);
	gh_telnet_free(t);
}

static void test_bad_pattern(void **state)
{
	struct io io;
	struct gh_telnet *t = NULL;
	char err[200] = "";
	struct gh_telnet_opts o = { .prompts = { .login = "(" }, .send = io_send, .ud = &io };
	assert_int_equal(gh_telnet_new(&o, &t, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "login prompt"));
	assert_null(t);
}

static void test_negotiation(void **state)
{
	struct io io;
	struct gh_telnet *t = mk(&io, NULL, NULL);
	/* IAC DO NAWS, IAC DO TTYPE, IAC WILL ECHO, IAC DO LINEMODE */
	const unsigned char neg[] = { 255, 253, 31, 255, 253, 24, 255, 251, 1, 255, 253, 34 };
	assert_int_equal(gh_telnet_recv(t, neg, sizeof neg), 0);
	const unsigned char will_naws[] = { 255, 251, 31 };
	const unsigned char naws[] = { 255, 250, 31, 0, 132, 0, 43, 255, 240 };
	const unsigned char do_echo[] = { 255, 253, 1 };
	const unsigned char wont_linemode[] = { 255, 252, 34 };
	assert_true(has(io.sent, io.sent_len, will_naws, sizeof will_naws));
	assert_true(has(io.sent, io.sent_len, naws, sizeof naws));
	assert_true(has(io.sent, io.sent_len, do_echo, sizeof do_echo));
	assert_true(has(io.sent, io.sent_len, wont_linemode, sizeof wont_linemode));
	/* IAC SB TTYPE SEND IAC SE -> IS vt100 */
	const unsigned char ttype_send[] = { 255, 250, 24, 1, 255, 240 };
	assert_int_equal(gh_telnet_recv(t, ttype_send, sizeof ttype_send), 0);
	const unsigned char ttype_is[] = { 255, 250, 24, 0, 'v', 't', '1', '0', '0', 255, 240 };
	assert_true(has(io.sent, io.sent_len, ttype_is, sizeof ttype_is));
	/* a resize goes as NAWS; the user's CR as CR NUL, IAC doubled */
	io.sent_len = 0;
	assert_int_equal(gh_telnet_resize(t, 100, 30), 0);
	const unsigned char naws2[] = { 255, 250, 31, 0, 100, 0, 30, 255, 240 };
	assert_true(has(io.sent, io.sent_len, naws2, sizeof naws2));
	io.sent_len = 0;
	assert_int_equal(gh_telnet_send(t, "ls\r\xff", 4), 0);
	assert_int_equal(io.sent_len, 6);
	assert_memory_equal(io.sent, "ls\r\0\xff\xff", 6);
	gh_telnet_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_ok),
		cmocka_unit_test(test_login_incorrect),
		cmocka_unit_test(test_prompt_again_fails),
		cmocka_unit_test(test_custom_prompts),
		cmocka_unit_test(test_invalid_utf8_window),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_negotiation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
