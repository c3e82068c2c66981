/* The channel between a web process and the master's per-source penalties
 * (src/web/penalty_ch.c) over a real socketpair: failures add up to a
 * refusal the check then reports; a malformed request (unknown op, no
 * address, not a numeric address, too long, a NUL inside) is answered
 * "refused" and changes nothing; a closed channel is an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssh/penalty.h"
#include "web/penalty_ch.h"

/* The master's answer to one raw request MSG (LEN bytes). */
static int raw(int sp[2], struct gh_penalty *p, const char *msg, size_t len)
{
	char ip[GH_PENCH_IP_MAX + 1];
	unsigned char a = 0xff;
	assert_int_equal(send(sp[1], msg, len, 0), (ssize_t)len);
	assert_true(gh_pench_serve(sp[0], p, 3, 60, ip) >= 0);
	assert_int_equal(recv(sp[1], &a, 1, 0), 1);
	return a;
}

static void test_failures_then_refused(void **state)
{
	int sp[2];
	struct gh_penalty *p = gh_penalty_new();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	assert_int_equal(raw(sp, p, "C10.0.0.1", 9), GH_PENALTY_NONE);
	assert_int_equal(raw(sp, p, "F10.0.0.1", 9), GH_PENALTY_SUSPECT);
	assert_int_equal(raw(sp, p, "F10.0.0.1", 9), GH_PENALTY_SUSPECT);
	char ip[GH_PENCH_IP_MAX + 1] = "";
	assert_int_equal(send(sp[1], "F10.0.0.1", 9, 0), 9);
	assert_int_equal(gh_pench_serve(sp[0], p, 3, 60, ip), 1); /* the refusal starts */
	assert_string_equal(ip, "10.0.0.1");
	unsigned char a = 0;
	assert_int_equal(recv(sp[1], &a, 1, 0), 1);
	assert_int_equal(a, GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, "C10.0.0.1", 9), GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, "C10.0.0.2", 9), GH_PENALTY_NONE);
	/* the web side: an answer already waiting is read after the request */
	unsigned char ans = GH_PENALTY_REFUSED;
	assert_int_equal(send(sp[0], &ans, 1, 0), 1);
	int fd = sp[1];
	assert_int_equal(gh_pench_ask(&fd, 'C', "10.0.0.1"), GH_PENALTY_REFUSED);
	char req[80];
	assert_int_equal(recv(sp[0], req, sizeof req, 0), 9);
	assert_memory_equal(req, "C10.0.0.1", 9);
	close(sp[0]);
	assert_true(gh_pench_ask(&fd, 'F', "10.0.0.1") < 0); /* no master: closed */
	assert_int_equal(fd, -1);
	gh_penalty_free(p);
}

static void test_bad_requests_change_nothing(void **state)
{
	int sp[2];
	char big[200];
	struct gh_penalty *p = gh_penalty_new();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	memset(big, '1', sizeof big);
	big[0] = 'F';
	assert_int_equal(raw(sp, p, "X10.0.0.1", 9), GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, "F", 1), GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, "Fnot-an-ip", 10), GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, "F10.0.0.1\0x", 11), GH_PENALTY_REFUSED);
	assert_int_equal(raw(sp, p, big, sizeof big), GH_PENALTY_REFUSED);
	assert_int_equal(gh_penalty_count(p), 0);
	assert_int_equal(raw(sp, p, "C10.0.0.1", 9), GH_PENALTY_NONE);
	char ip[GH_PENCH_IP_MAX + 1];
	close(sp[1]);
	assert_true(gh_pench_serve(sp[0], p, 3, 60, ip) < 0);
	close(sp[0]);
	gh_penalty_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_then_refused),
		cmocka_unit_test(test_bad_requests_change_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
