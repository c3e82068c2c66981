/* asciicast v2 writer: JSON lines deflated into gzip members (see record.h). */
#include "record/record.h"

#include "core/error.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zlib.h>

/* Input bytes per event line: a longer chunk becomes several events with
 * the same time, so the line buffer stays small. */
#define EVENT_CHUNK 16384
#define LINE_CAP (GH_JSON_ESCAPE_BOUND(EVENT_CHUNK) + 128)
#define ZOUT_CAP 65536

/* A queue of commands for the background writer: records of
 * [type u8][now_ms i64][len u32][payload], packed. */
struct cmdbuf {
	unsigned char *p;
	size_t len, cap;
};

struct gh_rec {
	int fd;
	z_stream zs;
	bool zs_init;
	bool member_open;        /* a member has a gzip header but no trailer yet */
	int64_t member_first_ms; /* wall time of the first event in the open member */
	size_t member_in;        /* JSON bytes deflated into the open member */
	uint64_t member_written0; /* r->written when the open member began */
	size_t member_raw;       /* session bytes (before escaping) in the open member */
	int tier;                /* TIER_*: how hard the current member compresses */
	unsigned tier_members;   /* members written since stepping down */
	unsigned probe_every;    /* members in a lower tier between LZ77 probes */
	bool probed;             /* the open member is an LZ77 probe */
	size_t member_bytes;
	int member_ms;
	int64_t start_ms;
	int64_t last_rel_ms; /* event times never decrease */
	bool record_input;
	bool binary_events;
	struct gh_utf8_state out_st, in_st;
	int err;           /* sticky first error */
	uint64_t written;  /* gzip bytes written */
	/* SHA-256 over every byte written, for the session's digest: libcrypto's,
	 * which uses the CPU's SHA instructions (about 5x libsodium's portable
	 * code here; the writer hashes about 2.4 bytes per byte of binary output) */
	EVP_MD_CTX *sha;
	char *line;        /* LINE_CAP */
	/* background writer (opts.background): the caller's thread only queues
	 * commands; a writer thread escapes, compresses and writes them */
	bool bg;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_space;
	struct cmdbuf fill, work; /* caller appends to fill; the writer drains work */
	bool stop, writer_busy;
	int bg_err;              /* the writer's sticky error, seen by the caller */
	int64_t bg_last_tick;    /* caller side: last tick queued */
	int64_t bg_last_line;    /* caller side: clock of the last line queued */
	bool bg_wake_pending;    /* data queued without waking the writer */
	unsigned char *zout; /* ZOUT_CAP */
};

static int rec_tick_sync(struct gh_rec *r, int64_t now_ms);

/* ---- escaper ------------------------------------------------------------ */

struct sink {
	char *p;
	size_t len, cap;
};

static inline void put(struct sink *s, const char *b, size_t n)
{
	/* the caller checked the bound; this is a second line of defence */
	if (n > s->cap - s->len)
		abort();
	memcpy(s->p + s->len, b, n);
	s->len += n;
}

static void put_u00(struct sink *s, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	char b[6] = { '\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf] };
	put(s, b, 6);
}

static void put_ascii(struct sink *s, unsigned char c)
{
	switch (c) {
	case '"': put(s, "\\\"", 2); return;
	case '\\': put(s, "\\\\", 2); return;
	case '\b': put(s, "\\b", 2); return;
	case '\f': put(s, "\\f", 2); return;
	case '\n': put(s, "\\n", 2); return;
	case '\r': put(s, "\\r", 2); return;
	case '\t': put(s, "\\t", 2); return;
	default: break;
	}
	if (c < 0x20 || c == 0x7f)
		put_u00(s, c);
	else
		put(s, (const char *)&c, 1);
}

static void put_fffd(struct sink *s)
{
	put(s, "\xef\xbf\xbd", 3);
}

static void st_reset(struct gh_utf8_state *st)
{
	st->have = st->need = 0;
	st->lo = st->hi = 0;
}

/* One complete, valid sequence is in st->buf. */
static void put_seq(struct sink *s, struct gh_utf8_state *st)
{
	/* C1 controls U+0080..U+009F: C2 80..C2 9F */
	if (st->have == 2 && st->buf[0] == 0xc2 && st->buf[1] < 0xa0)
		put_u00(s, st->buf[1]);
	else
		put(s, (const char *)st->buf, st->have);
	st_reset(st);
}

static void feed_byte(struct sink *s, struct gh_utf8_state *st, unsigned char b)
{
again:
	if (st->need == 0) {
		uint8_t need = 0, lo = 0x80, hi = 0xbf;
		if (b < 0x80) {
			put_ascii(s, b);
			return;
		} else if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
		} else if (b == 0xe0) {
			need = 2, lo = 0xa0;
		} else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
			need = 2;
		} else if (b == 0xed) {
			need = 2, hi = 0x9f; /* no surrogates */
		} else if (b == 0xf0) {
			need = 3, lo = 0x90;
		} else if (b >= 0xf1 && b <= 0xf3) {
			need = 3;
		} else if (b == 0xf4) {
			need = 3, hi = 0x8f; /* <= U+10FFFF */
		} else {
			put_fffd(s); /* 80..C1, F5..FF */
			return;
		}
		st->buf[0] = b;
		st->have = 1;
		st->need = need;
		st->lo = lo;
		st->hi = hi;
		return;
	}
	if (b >= st->lo && b <= st->hi && st->have < sizeof st->buf) {
		st->buf[st->have++] = b;
		st->need--;
		st->lo = 0x80;
		st->hi = 0xbf;
		if (st->need == 0)
			put_seq(s, st);
		return;
	}
	/* the maximal valid prefix becomes one U+FFFD; B starts afresh */
	put_fffd(s);
	st_reset(st);
	goto again;
}

/* Byte classes for the fast path of gh_json_escape. */
enum { C_PLAIN = 0, C_ASCII, C_BAD, C_LEAD2, C_LEAD3, C_LEAD4 };
static const unsigned char byte_class[256] = {
	[0x00 ... 0x1f] = C_ASCII, /* controls: escaped by put_ascii */
	[0x20 ... 0x21] = C_PLAIN,
	[0x22] = C_ASCII, /* " */
	[0x23 ... 0x5b] = C_PLAIN,
	[0x5c] = C_ASCII, /* \ */
	[0x5d ... 0x7e] = C_PLAIN,
	[0x7f] = C_ASCII,
	[0x80 ... 0xc1] = C_BAD, /* continuation bytes alone, overlong leads */
	[0xc2 ... 0xdf] = C_LEAD2,
	[0xe0 ... 0xef] = C_LEAD3,
	[0xf0 ... 0xf4] = C_LEAD4,
	[0xf5 ... 0xff] = C_BAD,
};

static inline bool cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

/* Length of the complete, valid UTF-8 sequence starting at P (at most N
 * bytes available), or 0 when it is not complete and valid here (the byte
 * state machine then decides, exactly as it always does). */
static inline size_t valid_seq(const unsigned char *p, size_t n)
{
	unsigned char b = p[0];
	switch (byte_class[b]) {
	case C_LEAD2:
		return n >= 2 && cont(p[1]) ? 2 : 0;
	case C_LEAD3: {
		unsigned char lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
		return n >= 3 && p[1] >= lo && p[1] <= hi && cont(p[2]) ? 3 : 0;
	}
	case C_LEAD4: {
		unsigned char lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
		return n >= 4 && p[1] >= lo && p[1] <= hi && cont(p[2]) && cont(p[3]) ? 4 : 0;
	}
	default:
		return 0;
	}
}

/* What each single byte becomes when it stands alone: itself, an ASCII
 * escape or U+FFFD (a byte that can never start a sequence); LEN 0 for a
 * lead byte, decided with what follows it. Built once from put_ascii and
 * put_fffd themselves. */
struct esc_entry {
	char out[8];
	unsigned char len;
};
/* Written once under ESC_ONCE, read-only after: a constant table built
 * from the code that defines it rather than typed out. */
static struct esc_entry esc_entries[256];
static pthread_once_t esc_once = PTHREAD_ONCE_INIT;

static void esc_build(void)
{
	for (int b = 0; b < 256; b++) {
		struct sink k = { .p = esc_entries[b].out, .len = 0, .cap = sizeof esc_entries[b].out };
		if (byte_class[b] == C_PLAIN)
			put(&k, (const char *)&(unsigned char){ (unsigned char)b }, 1);
		else if (byte_class[b] == C_BAD)
			put_fffd(&k);
		else if (b < 0x80)
			put_ascii(&k, (unsigned char)b);
		esc_entries[b].len = (unsigned char)k.len;
	}
}

/* Bytes of P (N available, P[0] a lead byte, no valid sequence here) that
 * one U+FFFD replaces: the maximal prefix of a valid sequence (Unicode's
 * "substitution of maximal subparts", what feed_byte does). 0 when the
 * chunk ends inside that prefix: the state machine carries it over. */
static inline size_t bad_prefix(const unsigned char *p, size_t n)
{
	unsigned char b = p[0];
	size_t need = byte_class[b] == C_LEAD2 ? 1 : byte_class[b] == C_LEAD3 ? 2 : 3;
	unsigned char lo = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
	size_t k = 1;
	while (k <= need) {
		if (k >= n)
			return 0;
		if (p[k] < lo || p[k] > hi)
			return k;
		lo = 0x80, hi = 0xbf;
		k++;
	}
	return 0; /* a complete valid sequence: not ours (valid_seq takes it) */
}

/* Eight bytes that all stay as they are (printable ASCII but '"' and '\\')? */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t x;
	memcpy(&x, p, 8);
#define HAS_LESS(v, n) (((v) - ones * (n)) & ~(v) & high)
#define HAS_BYTE(v, c) HAS_LESS((v) ^ (ones * (c)), 1)
	return !(x & high) && !HAS_LESS(x, 0x20) && !HAS_BYTE(x, 0x22) && !HAS_BYTE(x, 0x5c) &&
	       !HAS_BYTE(x, 0x7f);
#undef HAS_BYTE
#undef HAS_LESS
}

long gh_json_escape(struct gh_utf8_state *st, const void *in, size_t len, bool final, char *out,
		    size_t outlen)
{
	const unsigned char *p = in;
	struct sink s = { .p = out, .len = 0, .cap = outlen };

	if (len > (SIZE_MAX / 6) - 8 || outlen < GH_JSON_ESCAPE_BOUND(len))
		return GH_ELIMIT;
	if (st->have > 3 || st->need > 3 || st->have + st->need > 4)
		st_reset(st); /* a corrupted state is dropped, never trusted */
	pthread_once(&esc_once, esc_build);
	/* The bound above leaves room for 6 bytes per input byte, the most any
	 * byte produces, plus the 8-byte table copies below: the fast paths
	 * write without further checks. Text goes eight bytes at a time; other
	 * bytes through one table, without a branch per byte class (binary
	 * output is mostly bytes that become U+FFFD or escapes). */
	size_t i = 0;
	while (i < len && st->need > 0) /* finishing a sequence split across chunks */
		feed_byte(&s, st, p[i++]);
	while (i < len) {
		if (len - i >= 8 && plain8(p + i)) {
			memcpy(s.p + s.len, p + i, 8);
			s.len += 8;
			i += 8;
			continue;
		}
		unsigned char b = p[i];
		const struct esc_entry *x = &esc_entries[b];
		if (x->len) {
			memcpy(s.p + s.len, x->out, sizeof x->out);
			s.len += x->len;
			i++;
			continue;
		}
		size_t n = valid_seq(p + i, len - i);
		if (n == 2 && b == 0xc2 && p[i + 1] < 0xa0) {
			put_u00(&s, p[i + 1]); /* C1 control */
			i += 2;
		} else if (n > 0) {
			memcpy(s.p + s.len, p + i, n);
			s.len += n;
			i += n;
		} else if ((n = bad_prefix(p + i, len - i)) > 0) {
			put_fffd(&s);
			i += n;
		} else {
			/* the chunk ends inside a sequence: the state machine keeps it */
			while (i < len)
				feed_byte(&s, st, p[i++]);
		}
	}
	if (final && st->need > 0) {
		put_fffd(&s);
		st_reset(st);
	}
	return (long)s.len;
}

/* ---- path --------------------------------------------------------------- */

int gh_rec_path(const char *recordings_dir, const char *session_id, int64_t start_sec,
		char **ret_path)
{
	char *dir = NULL, *path = NULL;
	struct tm tm;
	time_t t = (time_t)start_sec;
	int r;

	if (!recordings_dir || !*recordings_dir || !session_id || !gh_valid_name(session_id) ||
	    session_id[0] == '.' || !ret_path)
		return GH_EINVAL;
	if (!gmtime_r(&t, &tm))
		return GH_EINVAL;
	if (asprintf(&dir, "%s/%04d/%02d/%02d", recordings_dir, tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday) < 0) {
		dir = NULL;
		return GH_ENOMEM;
	}
	r = gh_mkdir_p(dir, 0700);
	if (r < 0)
		goto out;
	if (asprintf(&path, "%s/%s.cast.gz", dir, session_id) < 0) {
		path = NULL;
		r = GH_ENOMEM;
		goto out;
	}
	*ret_path = path;
	path = NULL;
	r = 0;
out:
	free(dir);
	free(path);
	return r;
}

/* ---- writer ------------------------------------------------------------- */

static int write_all(struct gh_rec *r, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(r->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return GH_EIO;
		}
		if (n == 0)
			return GH_EIO;
		if (EVP_DigestUpdate(r->sha, p, (size_t)n) != 1)
			return GH_EIO;
		p += n;
		len -= (size_t)n;
		r->written += (uint64_t)n;
	}
	return 0;
}

/* Run deflate with FLUSH over whatever is in zs.next_in, writing all output. */
static int zrun(struct gh_rec *r, int flush)
{
	for (;;) {
		r->zs.next_out = r->zout;
		r->zs.avail_out = ZOUT_CAP;
		int zr = deflate(&r->zs, flush);
		if (zr == Z_STREAM_ERROR)
			return GH_EIO;
		size_t have = ZOUT_CAP - r->zs.avail_out;
		if (have > 0) {
			int w = write_all(r, r->zout, have);
			if (w < 0)
				return w;
		}
		if (flush == Z_FINISH) {
			if (zr == Z_STREAM_END)
				return 0;
		} else if (r->zs.avail_in == 0 && r->zs.avail_out != 0) {
			return 0;
		}
	}
}

static int fail(struct gh_rec *r, int err)
{
	if (!r->err)
		r->err = err;
	return err;
}

/* Compression adapts to what the session prints, so recording never
 * throttles a session. Terminal output compresses well and gets fast LZ77
 * (level 1). Output that does not (a binary or base64 file cat'ed to the
 * terminal, compressed data) would only burn the worker's CPU on the relay's
 * path, so it steps down to entropy coding only (Z_HUFFMAN_ONLY) and, when
 * even that saves little, to stored blocks (a gzip member that is a framed
 * copy). LZ77 is tried again after 16 members in case the output turned
 * back to text, and after twice as many each time that probe fails (an LZ77
 * member of incompressible output costs more than the stored ones between
 * probes). Ratios compare gzip bytes with what the session printed (before
 * JSON escaping). */
#define ADAPT_MIN_BYTES 16384   /* members smaller than this say little */
#define ADAPT_PROBE_FIRST 16    /* members in a lower tier before LZ77 is tried again */
#define ADAPT_PROBE_MAX 1024    /* the wait doubles after every probe that failed */
#define ADAPT_HUFFMAN_PCT 50    /* gzip over this % of what was printed: Huffman only */
#define ADAPT_STORED_PCT 70     /* over this %: stored */

enum { TIER_LZ = 0, TIER_HUFFMAN = 1, TIER_STORED = 2 };

static void adapt(struct gh_rec *r, uint64_t out, size_t raw)
{
	int want = r->tier;
	if (raw < ADAPT_MIN_BYTES)
		return;
	if (r->tier > TIER_LZ) {
		if (++r->tier_members >= r->probe_every)
			want = TIER_LZ; /* probe: has the output turned back to text? */
		else if (r->tier == TIER_HUFFMAN && out * 100 > (uint64_t)raw * ADAPT_STORED_PCT)
			want = TIER_STORED;
	} else if (out * 100 > (uint64_t)raw * ADAPT_STORED_PCT) {
		want = TIER_STORED; /* Huffman would not save much where LZ77 did not */
	} else if (out * 100 > (uint64_t)raw * ADAPT_HUFFMAN_PCT) {
		want = TIER_HUFFMAN;
	} else {
		r->probe_every = ADAPT_PROBE_FIRST; /* text: probe soon after the next step down */
	}
	if (r->tier == TIER_LZ && want > TIER_LZ && r->probed) {
		/* a probe that failed: wait twice as long before the next one */
		r->probe_every = r->probe_every * 2 > ADAPT_PROBE_MAX ? ADAPT_PROBE_MAX
								  : r->probe_every * 2;
	}
	r->probed = want == TIER_LZ && r->tier > TIER_LZ;
	if (want == r->tier)
		return;
	/* between members: no pending input, so deflateParams only switches */
	int level = want == TIER_STORED ? Z_NO_COMPRESSION : Z_BEST_SPEED;
	int strategy = want == TIER_HUFFMAN ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY;
	if (deflateParams(&r->zs, level, strategy) == Z_OK) {
		r->tier = want;
		r->tier_members = 0;
	}
}

static int member_finish(struct gh_rec *r)
{
	int e;
	if (!r->member_open)
		return 0;
	r->zs.next_in = NULL;
	r->zs.avail_in = 0;
	if ((e = zrun(r, Z_FINISH)) < 0)
		return fail(r, e);
	if (deflateReset(&r->zs) != Z_OK)
		return fail(r, GH_EIO);
	adapt(r, r->written - r->member_written0, r->member_raw);
	r->member_open = false;
	r->member_in = 0;
	r->member_raw = 0;
	return 0;
}

/* Deflate one complete JSON line into the open (or a new) member. */
static int put_line(struct gh_rec *r, int64_t now_ms, const char *line, size_t len)
{
	int e;
	if (r->err)
		return r->err;
	if (!r->member_open) {
		r->member_open = true;
		r->member_first_ms = now_ms;
		r->member_in = 0;
		r->member_written0 = r->written;
	}
	r->zs.next_in = (Bytef *)(uintptr_t)line;
	r->zs.avail_in = (uInt)len;
	if ((e = zrun(r, Z_NO_FLUSH)) < 0)
		return fail(r, e);
	r->member_in += len;
	if (r->member_in >= r->member_bytes)
		return member_finish(r);
	return 0;
}

static int64_t rel_ms(struct gh_rec *r, int64_t now_ms)
{
	int64_t t = now_ms - r->start_ms;
	if (t < r->last_rel_ms)
		t = r->last_rel_ms;
	r->last_rel_ms = t;
	return t;
}

static size_t put_time(char *buf, size_t cap, int64_t t)
{
	int n = snprintf(buf, cap, "[%" PRId64 ".%03d, ", t / 1000, (int)(t % 1000));
	return (n > 0 && (size_t)n < cap) ? (size_t)n : 0;
}

/* Does a chunk of output look binary? Its first bytes decide: more than
 * one in sixteen that JSON would escape or replace (controls other than
 * tab, newline, carriage return, backspace and escape; bytes that are not
 * UTF-8). Text, UTF-8 included, stays "o". */
static bool looks_binary(const unsigned char *p, size_t n)
{
	size_t m = n < 256 ? n : 256, odd = 0;
	for (size_t i = 0; i < m;) {
		unsigned char b = p[i];
		switch (byte_class[b]) {
		case C_PLAIN:
			i++;
			break;
		case C_ASCII:
			odd += b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\b' &&
			       b != 0x1b;
			i++;
			break;
		case C_BAD:
			odd++;
			i++;
			break;
		default: {
			size_t k = valid_seq(p + i, n - i);
			if (k == 0 && bad_prefix(p + i, n - i) == 0)
				return odd * 16 > m; /* a sequence the next chunk may finish */
			if (k == 0) {
				odd++;
				k = 1;
			}
			i += k;
		}
		}
	}
	return odd * 16 > m;
}

/* One "b" line: the bytes of a sequence the previous chunk began (ST) and
 * N <= EVENT_CHUNK bytes at P, in base64. */
static size_t binary_line(struct gh_utf8_state *st, int64_t t, const unsigned char *p, size_t n,
			  char *line)
{
	size_t o = put_time(line, LINE_CAP, t);
	memcpy(line + o, "\"b\", \"", 6);
	o += 6;
	if (st->have > 0 && st->have <= sizeof st->buf && n <= EVENT_CHUNK) {
		unsigned char joined[sizeof st->buf + EVENT_CHUNK]; /* rare: text, then binary */
		memcpy(joined, st->buf, st->have);
		memcpy(joined + st->have, p, n);
		o += (size_t)EVP_EncodeBlock((unsigned char *)line + o, joined, (int)(st->have + n));
	} else {
		o += (size_t)EVP_EncodeBlock((unsigned char *)line + o, p, (int)n);
	}
	st_reset(st);
	memcpy(line + o, "\"]\n", 3);
	return o + 3;
}

/* One "o"/"i" line for N <= EVENT_CHUNK bytes at P into LINE (LINE_CAP);
 * its length, 0 when the chunk only began a sequence. BIN: output of no
 * terminal, a binary-looking chunk may be a "b" event. */
static size_t event_line(struct gh_utf8_state *st, const char *code, int64_t t,
			 const unsigned char *p, size_t n, bool final, bool bin, char *line)
{
	if (bin && n > 0 && looks_binary(p, n))
		return binary_line(st, t, p, n, line);
	size_t o = put_time(line, LINE_CAP, t);
	o += (size_t)snprintf(line + o, LINE_CAP - o, "\"%s\", \"", code);
	long w = gh_json_escape(st, p, n, final, line + o, LINE_CAP - o - 4);
	if (w <= 0)
		return 0; /* w < 0 cannot happen: LINE_CAP bounds EVENT_CHUNK */
	o += (size_t)w;
	memcpy(line + o, "\"]\n", 3);
	return o + 3;
}

static int emit_line(struct gh_rec *r, int64_t now_ms, const char *line, size_t len, size_t raw);
static int emit_tick(struct gh_rec *r, int64_t now_ms);
static int caller_err(struct gh_rec *r);
static int cmd_push(struct gh_rec *r, int type, int64_t now, const void *pre, size_t prelen,
		    const void *data, size_t len, size_t raw);
enum { CMD_LINE = 1, CMD_TICK = 2, CMD_OUT = 3, CMD_IN = 4 };

/* One or more "o"/"i" events for DATA; a chunk that only completes part of
 * a sequence produces no event. With a writer thread the raw bytes are
 * queued and escaped there: escaping binary output costs several times
 * the relay itself, and the session's thread only copies. */
static int data_event(struct gh_rec *r, struct gh_utf8_state *st, const char *code,
		      int64_t now_ms, const void *data, size_t len, bool final)
{
	const unsigned char *p = data;
	int e = caller_err(r);

	if (e < 0)
		return e;
	if (len == 0 && !final)
		return emit_tick(r, now_ms);
	int64_t t = rel_ms(r, now_ms);
	do {
		size_t n = len > EVENT_CHUNK ? EVENT_CHUNK : len;
		if (r->bg) {
			r->bg_last_line = now_ms;
			e = cmd_push(r, code[0] == 'o' ? CMD_OUT : CMD_IN, now_ms, &t, sizeof t, p, n,
				     n);
			if (e < 0)
				return e;
		} else {
			size_t o = event_line(st, code, t, p, n, final && n == len,
					      r->binary_events && code[0] == 'o', r->line);
			if (o > 0 && (e = emit_line(r, now_ms, r->line, o, n)) < 0)
				return e;
		}
		if (n > 0) /* the final flush of a close comes with no bytes (P NULL) */
			p += n;
		len -= n;
	} while (len > 0);
	return emit_tick(r, now_ms);
}

int gh_rec_output(struct gh_rec *r, int64_t now_ms, const void *data, size_t len)
{
	if (!r || (!data && len))
		return GH_EINVAL;
	return data_event(r, &r->out_st, "o", now_ms, data, len, false);
}

int gh_rec_input(struct gh_rec *r, int64_t now_ms, const void *data, size_t len)
{
	if (!r || (!data && len))
		return GH_EINVAL;
	if (!r->record_input)
		return 0;
	return data_event(r, &r->in_st, "i", now_ms, data, len, false);
}

int gh_rec_resize(struct gh_rec *r, int64_t now_ms, int width, int height)
{
	char buf[96];
	if (!r || width <= 0 || height <= 0)
		return GH_EINVAL;
	int e = caller_err(r);
	if (e < 0)
		return e;
	size_t o = put_time(buf, sizeof buf, rel_ms(r, now_ms));
	int n = snprintf(buf + o, sizeof buf - o, "\"r\", \"%dx%d\"]\n", width, height);
	if (n <= 0 || (size_t)n >= sizeof buf - o)
		return GH_EINVAL;
	if ((e = emit_line(r, now_ms, buf, o + (size_t)n, 0)) < 0)
		return e;
	return emit_tick(r, now_ms);
}

int gh_rec_marker(struct gh_rec *r, int64_t now_ms, const char *label)
{
	char buf[GH_JSON_ESCAPE_BOUND(200) + 64];
	struct gh_utf8_state st = { 0 };
	if (!r || !label)
		return GH_EINVAL;
	int e = caller_err(r);
	if (e < 0)
		return e;
	size_t n = strnlen(label, 200);
	size_t o = put_time(buf, sizeof buf, rel_ms(r, now_ms));
	o += (size_t)snprintf(buf + o, sizeof buf - o, "\"m\", \"");
	long w = gh_json_escape(&st, label, n, true, buf + o, sizeof buf - o - 4);
	if (w < 0)
		return (int)w;
	o += (size_t)w;
	memcpy(buf + o, "\"]\n", 3);
	o += 3;
	if ((e = emit_line(r, now_ms, buf, o, 0)) < 0)
		return e;
	return emit_tick(r, now_ms);
}

static int rec_tick_sync(struct gh_rec *r, int64_t now_ms)
{
	if (!r)
		return GH_EINVAL;
	if (r->err)
		return r->err;
	/* a wall clock stepped back finishes the member rather than holding it */
	if (r->member_open && (now_ms - r->member_first_ms >= r->member_ms ||
			       now_ms < r->member_first_ms))
		return member_finish(r);
	return 0;
}

/* ---- background writer ---------------------------------------------------- */

/* With opts.background the caller's thread (the relay) escapes what the
 * session printed into JSON lines and queues them in a bounded command
 * buffer; a writer thread compresses and writes them, on the other CPU.
 * When the writer falls behind by a full buffer the caller waits: recording
 * slows the session down rather than dropping audit data. Commands keep
 * their order and carry the caller's clock, so the file is the same as in
 * synchronous mode. The caller owns the escaper state and the event clock;
 * the writer owns zlib, the member state and the file. */
#define CMD_HDR 17                 /* type u8, now i64, len u32, raw u32 */
/* CMD_OUT/CMD_IN payload: the event's relative time (i64), then the bytes */
#define CMDBUF_CAP (1024 * 1024)   /* each of the two buffers; touched only as used */
#define BG_TICK_EVERY_MS 100       /* gh_rec_tick queues a tick at most this often */
#define BG_WAKE_BYTES (256 * 1024) /* session bytes queued before the writer is woken */

static int run_cmds(struct gh_rec *r, const unsigned char *p, size_t len)
{
	int e = 0;
	size_t off = 0;
	while (off + CMD_HDR <= len) {
		int64_t now;
		uint32_t n, raw;
		memcpy(&now, p + off + 1, sizeof now);
		memcpy(&n, p + off + 9, sizeof n);
		memcpy(&raw, p + off + 13, sizeof raw);
		if (p[off] == CMD_LINE) {
			r->member_raw += raw;
			e = put_line(r, now, (const char *)p + off + CMD_HDR, n);
		} else if ((p[off] == CMD_OUT || p[off] == CMD_IN) && n >= sizeof(int64_t)) {
			int64_t t;
			memcpy(&t, p + off + CMD_HDR, sizeof t);
			bool out = p[off] == CMD_OUT;
			size_t o = event_line(out ? &r->out_st : &r->in_st, out ? "o" : "i", t,
					      p + off + CMD_HDR + sizeof t, n - sizeof t, false,
					      out && r->binary_events, r->line);
			if (o > 0) {
				r->member_raw += raw;
				e = put_line(r, now, r->line, o);
			}
		} else {
			e = rec_tick_sync(r, now);
		}
		off += CMD_HDR + n;
	}
	return e < 0 ? e : r->err;
}

static void *writer_main(void *arg)
{
	struct gh_rec *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->fill.len == 0 && !r->stop) {
			r->writer_busy = false;
			pthread_cond_wait(&r->cv_work, &r->mu);
		}
		if (r->fill.len == 0 && r->stop)
			break;
		struct cmdbuf t = r->work;
		r->work = r->fill;
		r->fill = t;
		r->writer_busy = true;
		pthread_cond_broadcast(&r->cv_space);
		pthread_mutex_unlock(&r->mu);
		int e = run_cmds(r, r->work.p, r->work.len);
		r->work.len = 0;
		pthread_mutex_lock(&r->mu);
		if (e < 0 && !r->bg_err) {
			r->bg_err = e;
			pthread_cond_broadcast(&r->cv_space);
		}
	}
	r->writer_busy = false;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int cmd_push(struct gh_rec *r, int type, int64_t now, const void *pre, size_t prelen,
		    const void *data, size_t len, size_t raw)
{
	uint32_t n = (uint32_t)(prelen + len), rw = (uint32_t)raw;
	int e;
	if (prelen + len > CMDBUF_CAP - CMD_HDR)
		return GH_EINVAL; /* lines are at most LINE_CAP, data EVENT_CHUNK */
	pthread_mutex_lock(&r->mu);
	while (!r->bg_err && r->fill.len + CMD_HDR + n > r->fill.cap) {
		if (!r->writer_busy)
			pthread_cond_signal(&r->cv_work);
		pthread_cond_wait(&r->cv_space, &r->mu);
	}
	e = r->bg_err;
	if (!e) {
		unsigned char *o = r->fill.p + r->fill.len;
		o[0] = (unsigned char)type;
		memcpy(o + 1, &now, sizeof now);
		memcpy(o + 9, &n, sizeof n);
		memcpy(o + 13, &rw, sizeof rw);
		if (prelen)
			memcpy(o + CMD_HDR, pre, prelen);
		if (len)
			memcpy(o + CMD_HDR + prelen, data, len);
		r->fill.len += CMD_HDR + n;
		/* session bytes wake the writer by the batch (a wake-up per read
		 * cost a futex call and two context switches per 16 KiB); the
		 * relay's next gh_rec_tick wakes it for the rest */
		bool batch = type == CMD_OUT || type == CMD_IN;
		if (!r->writer_busy && (!batch || r->fill.len >= BG_WAKE_BYTES)) {
			pthread_cond_signal(&r->cv_work);
			r->bg_wake_pending = false;
		} else if (!r->writer_busy) {
			r->bg_wake_pending = true;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return e;
}

static int emit_line(struct gh_rec *r, int64_t now_ms, const char *line, size_t len, size_t raw)
{
	if (r->bg) {
		r->bg_last_line = now_ms;
		return cmd_push(r, CMD_LINE, now_ms, NULL, 0, line, len, raw);
	}
	r->member_raw += raw;
	return put_line(r, now_ms, line, len);
}

static int emit_tick(struct gh_rec *r, int64_t now_ms)
{
	return r->bg ? cmd_push(r, CMD_TICK, now_ms, NULL, 0, NULL, 0, 0) : rec_tick_sync(r, now_ms);
}

/* The caller's view of the sticky error (the writer's, with a writer). */
static int caller_err(struct gh_rec *r)
{
	if (!r->bg)
		return r->err;
	pthread_mutex_lock(&r->mu);
	int e = r->bg_err;
	pthread_mutex_unlock(&r->mu);
	return e;
}

/* Start the writer; on failure the recording simply stays synchronous. */
static void bg_start(struct gh_rec *r)
{
	r->fill.p = malloc(CMDBUF_CAP);
	r->work.p = malloc(CMDBUF_CAP);
	if (!r->fill.p || !r->work.p)
		goto fail;
	r->fill.cap = r->work.cap = CMDBUF_CAP;
	if (pthread_mutex_init(&r->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&r->cv_work, NULL) != 0) {
		pthread_mutex_destroy(&r->mu);
		goto fail;
	}
	if (pthread_cond_init(&r->cv_space, NULL) != 0) {
		pthread_cond_destroy(&r->cv_work);
		pthread_mutex_destroy(&r->mu);
		goto fail;
	}
	if (pthread_create(&r->th, NULL, writer_main, r) != 0) {
		pthread_cond_destroy(&r->cv_space);
		pthread_cond_destroy(&r->cv_work);
		pthread_mutex_destroy(&r->mu);
		goto fail;
	}
	r->bg = true;
	return;
fail:
	free(r->fill.p);
	free(r->work.p);
	r->fill.p = r->work.p = NULL;
}

/* Stop the writer after it has run every queued command. */
static void bg_stop(struct gh_rec *r)
{
	if (!r->bg)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv_work);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv_space);
	pthread_cond_destroy(&r->cv_work);
	pthread_mutex_destroy(&r->mu);
	free(r->fill.p);
	free(r->work.p);
	r->fill.p = r->work.p = NULL;
	if (r->bg_err && !r->err)
		r->err = r->bg_err;
	r->bg = false;
}

int gh_rec_tick(struct gh_rec *r, int64_t now_ms)
{
	if (!r)
		return GH_EINVAL;
	if (!r->bg)
		return rec_tick_sync(r, now_ms);
	if (r->bg_wake_pending) {
		pthread_mutex_lock(&r->mu);
		if (!r->writer_busy && r->fill.len > 0)
			pthread_cond_signal(&r->cv_work);
		r->bg_wake_pending = false;
		pthread_mutex_unlock(&r->mu);
	}
	if (now_ms >= r->bg_last_tick && now_ms - r->bg_last_tick < BG_TICK_EVERY_MS)
		return 0;
	/* Idle: a member is due member_ms after its first line, every queued
	 * line is older than bg_last_line, and a tick at least member_ms after
	 * that is already queued: nothing can be due, the writer sleeps on. */
	if (now_ms >= r->bg_last_tick && r->bg_last_tick - r->bg_last_line >= r->member_ms)
		return caller_err(r);
	r->bg_last_tick = now_ms;
	return cmd_push(r, CMD_TICK, now_ms, NULL, 0, NULL, 0, 0);
}

/* Exact when no writer thread is running (synchronous mode, or after the
 * last call returned in tests); with a writer thread, a recent value. */
uint64_t gh_rec_bytes_written(const struct gh_rec *r)
{
	return r ? r->written : 0;
}

/* Escape a NUL-terminated header string into BUF; returns 0 or error. */
static int esc_str(const char *s, char *buf, size_t cap, size_t *ret_len)
{
	struct gh_utf8_state st = { 0 };
	size_t n = strlen(s);
	if (n > 1024)
		n = 1024; /* header strings are short; a huge one is truncated */
	long w = gh_json_escape(&st, s, n, true, buf, cap);
	if (w < 0)
		return (int)w;
	*ret_len = (size_t)w;
	return 0;
}

static int write_header(struct gh_rec *r, const struct gh_rec_opts *o)
{
	char *b = r->line;
	size_t cap = LINE_CAP, len = 0, el = 0;
	int width = o->width > 0 ? o->width : 80, height = o->height > 0 ? o->height : 24;
	int n, e;

	n = snprintf(b, cap, "{\"version\": 2, \"width\": %d, \"height\": %d, \"timestamp\": %" PRId64,
		     width, height, o->start_ms / 1000);
	if (n < 0)
		return GH_EINVAL;
	len = (size_t)n;
	if (o->term) {
		memcpy(b + len, ", \"env\": {\"TERM\": \"", 19);
		len += 19;
		if ((e = esc_str(o->term, b + len, cap - len - 64, &el)) < 0)
			return e;
		len += el;
		memcpy(b + len, "\"}", 2);
		len += 2;
	}
	if (o->title) {
		memcpy(b + len, ", \"title\": \"", 12);
		len += 12;
		if ((e = esc_str(o->title, b + len, cap - len - 64, &el)) < 0)
			return e;
		len += el;
		memcpy(b + len, "\"", 1);
		len += 1;
	}
	memcpy(b + len, "}\n", 2);
	len += 2;
	if ((e = put_line(r, o->start_ms, b, len)) < 0)
		return e;
	return member_finish(r);
}

static struct gh_rec *rec_free(struct gh_rec *r)
{
	if (!r)
		return NULL;
	if (r->zs_init)
		deflateEnd(&r->zs);
	EVP_MD_CTX_free(r->sha);
	if (r->fd >= 0)
		close(r->fd);
	free(r->line);
	free(r->zout);
	free(r);
	return NULL;
}

int gh_rec_open(const char *path, const struct gh_rec_opts *o, struct gh_rec **ret)
{
	struct gh_rec *r = NULL;
	int e;

	if (!path || !o || !ret)
		return GH_EINVAL;
	r = calloc(1, sizeof *r);
	if (!r)
		return GH_ENOMEM;
	r->fd = -1;
	r->line = malloc(LINE_CAP);
	r->zout = malloc(ZOUT_CAP);
	if (!r->line || !r->zout) {
		e = GH_ENOMEM;
		goto fail;
	}
	r->member_bytes = o->member_bytes ? o->member_bytes : GH_REC_MEMBER_BYTES_DEFAULT;
	r->probe_every = ADAPT_PROBE_FIRST;
	r->member_ms = o->member_ms > 0 ? o->member_ms : GH_REC_MEMBER_MS_DEFAULT;
	r->start_ms = o->start_ms;
	r->record_input = o->record_input;
	r->binary_events = o->binary_events;
	if (deflateInit2(&r->zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		e = GH_ENOMEM;
		goto fail;
	}
	r->zs_init = true;
	r->sha = EVP_MD_CTX_new();
	if (!r->sha || EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1) {
		e = GH_ENOMEM;
		goto fail;
	}
	r->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->fd < 0) {
		e = errno == EEXIST ? GH_EEXIST : GH_EIO;
		goto fail;
	}
	if ((e = write_header(r, o)) < 0)
		goto fail;
	if (o->background)
		bg_start(r);
	*ret = r;
	return 0;
fail:
	rec_free(r);
	return e;
}

int gh_rec_close(struct gh_rec *r)
{
	return gh_rec_close_digest(r, NULL);
}

int gh_rec_close_digest(struct gh_rec *r, char *sha256_hex)
{
	int e = 0;
	if (!r)
		return 0;
	bg_stop(r);
	if (!r->err) {
		int64_t t = r->start_ms + r->last_rel_ms;
		if (r->out_st.need)
			data_event(r, &r->out_st, "o", t, NULL, 0, true);
		if (r->in_st.need && r->record_input)
			data_event(r, &r->in_st, "i", t, NULL, 0, true);
		member_finish(r);
	}
	e = r->err;
	if (r->fd >= 0) {
		if (close(r->fd) < 0 && !e && errno != EINTR)
			e = GH_EIO;
		r->fd = -1;
	}
	if (sha256_hex) {
		unsigned char dig[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		if (EVP_DigestFinal_ex(r->sha, dig, &dl) != 1 || dl != 32) {
			sha256_hex[0] = '\0';
			if (!e)
				e = GH_EIO;
		} else {
			sodium_bin2hex(sha256_hex, 65, dig, dl);
		}
	}
	rec_free(r);
	return e;
}
