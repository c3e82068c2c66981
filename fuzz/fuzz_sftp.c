/* libFuzzer target: the SFTP relay core, both directions.
 *
 * Input: 4 config bytes (granted actions, hook randomness seed, limits
 * choice, chunking seed), then records [u8 dir][u16 len][bytes]: dir even
 * feeds the client side, odd the target side; each record is fed in
 * pseudo-random chunks. The hooks allow or refuse pseudo-randomly within the
 * granted actions. Checked: every output stream is a sequence of well-framed
 * packets of the right kinds, the target never receives more than the
 * client sent, and a dead stream stays dead with the same error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sftp/sftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint32_t allow;
	uint32_t rng;
	size_t sink;
};

static uint32_t next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static int authorize(void *ud, const struct gh_sftp_op *op)
{
	struct fz *f = ud;
	/* read every string: ASan sees dangling or unterminated ones */
	f->sink += op->path ? strlen(op->path) : 0;
	f->sink += op->path2 ? strlen(op->path2) : 0;
	f->sink += op->ext ? strlen(op->ext) : 0;
	if (op->action & ~f->allow)
		return GH_EPERM;
	return (next(&f->rng) & 7) == 0 ? GH_EPERM : 0;
}

static void on_event(void *ud, const struct gh_sftp_event *ev)
{
	struct fz *f = ud;
	f->sink += ev->op.path ? strlen(ev->op.path) : 0;
	f->sink += ev->op.path2 ? strlen(ev->op.path2) : 0;
	f->sink += ev->op.ext ? strlen(ev->op.ext) : 0;
	f->sink += (size_t)ev->bytes_read + (size_t)ev->bytes_written;
}

/* Walks an output stream's framing as it is produced. */
struct framer {
	uint8_t hdr[5];
	size_t have;   /* header bytes seen of the current packet */
	size_t left;   /* body bytes still to come */
};

static void frame(struct framer *fr, const uint8_t *p, size_t n, size_t max_packet, bool replies)
{
	while (n > 0) {
		if (fr->have < 5) {
			fr->hdr[fr->have++] = *p++;
			n--;
			if (fr->have == 5) {
				uint32_t len = (uint32_t)fr->hdr[0] << 24 | (uint32_t)fr->hdr[1] << 16 |
					       (uint32_t)fr->hdr[2] << 8 | fr->hdr[3];
				uint8_t t = fr->hdr[4];
				if (len < 5 || len > max_packet)
					__builtin_trap();
				if (replies ? !(t == GH_FXP_VERSION || (t >= 101 && t <= 105) || t == 201)
					    : !(t == GH_FXP_INIT || (t >= 3 && t <= 20) || t == 200))
					__builtin_trap();
				fr->left = len - 1;
			}
			continue;
		}
		size_t take = n < fr->left ? n : fr->left;
		fr->left -= take;
		p += take;
		n -= take;
		if (fr->left == 0)
			fr->have = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { 0 };
	struct gh_sftp *s = NULL;
	struct gh_sftp_buf tt, tc;
	struct framer ft = { 0 }, fc = { 0 };
	struct gh_sftp_limits lim = { 0 };
	uint32_t split = 0;
	size_t client_in = 0, target_out = 0;
	int dead = 0;
	size_t max_packet = GH_SFTP_DEFAULT_PACKET;

	gh_sftp_buf_init(&tt, 0);
	gh_sftp_buf_init(&tc, 0);
	if (size < 4)
		goto out;
	f.allow = data[0];
	f.rng = 0x9e3779b9u ^ data[1];
	if (data[2] & 1)
		lim = (struct gh_sftp_limits){ .max_packet = GH_SFTP_MIN_PACKET, .max_requests = 8,
					       .max_handles = 4 };
	split = 0x85ebca6bu ^ data[3];
	data += 4;
	size -= 4;

	struct gh_sftp_hooks hooks = { .authorize = authorize, .event = on_event, .ud = &f };
	if (gh_sftp_new(&hooks, &lim, &s) < 0)
		goto out;
	if (lim.max_packet)
		max_packet = lim.max_packet;

	while (size >= 3) {
		bool to_target = !(data[0] & 1);
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		const uint8_t *p = data;
		size_t n = len;
		data += len;
		size -= len;
		while (n > 0) {
			size_t chunk = (split & 3) == 0 ? n : 1 + next(&split) % n;
			int r = 0;
			size_t before_tt = tt.len, before_tc = tc.len;
			if (to_target) {
				r = gh_sftp_from_client(s, p, chunk, &tt, &tc);
				client_in += chunk;
			} else {
				r = gh_sftp_from_target(s, p, chunk, &tc);
			}
			if (dead && r != dead)
				__builtin_trap();
			if (r < 0)
				dead = r;
			if (r < 0 && r != GH_EINVAL && r != GH_ELIMIT && r != GH_ENOMEM)
				__builtin_trap();
			if (r == GH_EINVAL && !gh_sftp_error(s)[0])
				__builtin_trap();
			if (r == 0) {
				frame(&ft, tt.data + tt.off + before_tt, tt.len - before_tt, max_packet,
				      false);
				frame(&fc, tc.data + tc.off + before_tc, tc.len - before_tc, max_packet,
				      true);
			}
			target_out += tt.len - before_tt;
			if (target_out > client_in)
				__builtin_trap();
			gh_sftp_buf_consume(&tt, tt.len);
			gh_sftp_buf_consume(&tc, tc.len);
			p += chunk;
			n -= chunk;
		}
	}
	struct gh_sftp_stats st;
	gh_sftp_get_stats(s, &st);
	if (st.bytes_written > client_in)
		__builtin_trap();
	gh_sftp_finish(s);
	gh_sftp_finish(s);
out:
	s = gh_sftp_free(s);
	gh_sftp_buf_release(&tt);
	gh_sftp_buf_release(&tc);
	return (int)(f.sink & 0);
}
