/* libFuzzer target: the MySQL/MariaDB wire parsers (src/db/mysql_wire.h).
 *
 * Input: a selector byte, then bytes. Even selectors: the bytes are a
 * stream of frames from a target: the login state machine gets each frame
 * (after TLS or not, per the selector's bit 1), then the response tracker
 * of a command the selector picks. Odd selectors: the one-shot parsers
 * (greeting, handshake response, command, OK/ERR, prepare OK, framing).
 * Checked: no read out of bounds (ASan), outputs bounded, no state change
 * after an error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "db/mysql_wire.h"
#include "db/sqluse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_shot(const uint8_t *p, size_t n)
{
	struct gh_my_greeting g = { 0 };
	struct gh_my_hsresp h = { 0 };
	struct gh_my_command c;
	struct gh_my_msg m;
	struct gh_buf out = { 0 };
	uint64_t aff = 0;
	uint16_t st = 0, code = 0, cols = 0, params = 0;
	uint32_t id = 0;
	char msg[64];
	char *pw = NULL;

	if (gh_my_greeting_parse(p, n, &g) == 0) {
		if (strlen(g.version) > GH_MY_MAX_NAME || g.scramble_len > GH_MY_SCRAMBLE_LEN)
			__builtin_trap();
		gh_my_greeting_free(&g);
	}
	if (gh_my_hsresp_parse(p, n, &h) == 0) {
		if (h.auth_len > n || h.n_attrs > GH_MY_MAX_ATTRS)
			__builtin_trap();
		if (!h.ssl_request && gh_my_hsresp_build(&h, &out) < 0)
			__builtin_trap();
		gh_my_hsresp_free(&h);
	}
	if (gh_my_command_parse(p, n, &c) == 0 && c.text && c.text + c.text_len > p + n)
		__builtin_trap();
	(void)gh_my_ok_parse(p, n, &aff, &st);
	if (gh_my_err_parse(p, n, &code, msg, sizeof msg) == 0 && strlen(msg) >= sizeof msg)
		__builtin_trap();
	(void)gh_my_prepare_ok_parse(p, n, &id, &cols, &params);
	if (gh_my_clear_password_parse(p, n, &pw) == 0)
		pw = gh_my_secret_free(pw);
	gh_buf_reset(&out);
	if (gh_my_msg_scan(p, n, 1 << 20, &m) == 0 && m.used) {
		if (m.used > n || gh_my_msg_payload(p, &m, &out) < 0 || out.len != m.len)
			__builtin_trap();
	}
	gh_buf_free(&out);
	/* the USE statements of a query text */
	size_t pos = 0, last = 0;
	while (gh_sql_next_use((const char *)p, n, &pos, msg, sizeof msg) == 1) {
		if (pos <= last || pos > n || strlen(msg) >= sizeof msg)
			__builtin_trap();
		last = pos;
	}
}

/* Frames from a target: the login, then one response. */
static void stream(uint8_t sel, const uint8_t *p, size_t n)
{
	struct gh_my_login_opts o = { .user = "appuser", .password = "s3cret", .database = "app",
				      .client_caps = GH_MY_SERVER_CAPS, .tls = sel & 2,
				      .allow_key_request = sel & 4 };
	struct gh_my_login l;
	struct gh_my_resp r;
	struct gh_buf out = { 0 };
	size_t off = 0, flen = 0;
	uint8_t seq = 0;
	int state = 0, err = 0;
	bool logged_in = false;

	gh_my_login_init(&l, &o);
	gh_my_resp_init(&r, gh_my_resp_kind_of((uint8_t)(sel >> 3)), sel & 0x80);
	while (n - off >= 4 && gh_my_frame_head(p + off, n - off, &flen, &seq) == 0) {
		off += 4;
		if (flen > n - off)
			flen = n - off;
		const uint8_t *f = p + off;
		off += flen;
		if (!logged_in && err == 0) {
			gh_buf_reset(&out);
			err = gh_my_login_step(&l, f, flen, &out, &state);
			if (err == 0 && state == GH_MY_LOGIN_TLS)
				err = gh_my_login_step(&l, NULL, 0, &out, &state);
			if (err == 0 && out.len > 2048)
				__builtin_trap();
			logged_in = err == 0 && state == GH_MY_LOGIN_DONE;
			continue;
		}
		if (!r.done) {
			bool before = r.done;
			int e = gh_my_resp_frame(&r, f, flen, flen);
			if (e < 0 && r.done != before)
				__builtin_trap();
			if (e < 0)
				break;
		}
	}
	if (strlen(l.err_msg) >= sizeof l.err_msg || strlen(r.err_msg) >= sizeof r.err_msg)
		__builtin_trap();
	gh_my_login_free(&l);
	gh_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		one_shot(data + 1, size - 1);
	else
		stream(data[0], data + 1, size - 1);
	return 0;
}
