/* libFuzzer target: the Redis wire (src/db/redis_wire.h).
 *
 * Input: a selector byte, then bytes. Even: a client's stream, parsed
 * command after command (each AUTH/HELLO parsed, each audit text built and
 * checked to hold no secret argument and stay in bounds). Odd: a target's
 * stream fed to the reply scanner in pseudo-random chunks. Checked: no read
 * out of bounds (ASan), progress on every call, bounds kept. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/redis_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AUDIT_MAX 128

static void requests(const uint8_t *p, size_t n)
{
	struct gh_redis_limits lim = { .max_args = 64, .max_total = 4096, .max_inline = 512 };
	size_t off = 0;

	while (off < n) {
		struct gh_redis_req q = { 0 };
		struct gh_redis_auth a;
		struct gh_buf b = { 0 };
		if (gh_redis_req_parse(p + off, n - off, &lim, &q) < 0 || q.used == 0)
			break;
		if (q.used > n - off || q.argc > lim.max_args)
			__builtin_trap();
		if (gh_redis_audit_text(&q, AUDIT_MAX, &b) < 0 || b.len > AUDIT_MAX)
			__builtin_trap();
		/* AUTH's arguments are all masked */
		if (gh_redis_arg_is(&q, 0, "AUTH") && 4 + 4 * q.argc <= AUDIT_MAX) {
			if (b.len != 4 + 4 * (q.argc - 1) || memcmp(b.p, q.argv[0], 4) != 0)
				__builtin_trap();
			for (size_t i = 1; i < q.argc; i++)
				if (memcmp(b.p + 4 * i, " ***", 4) != 0)
					__builtin_trap();
		}
		(void)gh_redis_auth_parse(&q, &a);
		gh_buf_free(&b);
		off += q.used;
		gh_redis_req_free(&q);
	}
}

static void replies(const uint8_t *p, size_t n, uint32_t rng)
{
	struct gh_redis_scan s;
	size_t off = 0;

	gh_redis_scan_init(&s);
	while (off < n) {
		rng = rng * 1103515245u + 12345u;
		size_t chunk = 1 + (rng >> 16) % (n - off);
		size_t used = 0;
		bool done = false;
		if (gh_redis_scan_feed(&s, p + off, chunk, &used, &done) < 0)
			break;
		if (used == 0 || used > chunk || (!done && used != chunk) ||
		    s.err_len >= sizeof s.err || s.depth > GH_REDIS_MAX_DEPTH)
			__builtin_trap();
		off += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		replies(data + 1, size - 1, data[0]);
	else
		requests(data + 1, size - 1);
	return 0;
}
