/* asciicast v2 writer: JSON lines deflated into gzip members (see record.h). */
#include "record/record.h"

#include "core/error.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Input bytes per event line: a longer chunk becomes several events with
 * the same time, so the line buffer stays small. */
#define EVENT_CHUNK 16384
#define LINE_CAP (GH_JSON_ESCAPE_BOUND(EVENT_CHUNK) + 128)
#define ZOUT_CAP 65536

struct gh_rec {
	int fd;
	z_stream zs;
	bool zs_init;
	bool member_open;        /* a member has a gzip header but no trailer yet */
	int64_t member_first_ms; /* wall time of the first event in the open member */
	size_t member_in;        /* JSON bytes deflated into the open member */
	size_t member_bytes;
	int member_ms;
	int64_t start_ms;
	int64_t last_rel_ms; /* event times never decrease */
	bool record_input;
	struct gh_utf8_state out_st, in_st;
	int err;           /* sticky first error */
	uint64_t written;  /* gzip bytes written */
	char *line;        /* LINE_CAP */
	unsigned char *zout; /* ZOUT_CAP */
};

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

long gh_json_escape(struct gh_utf8_state *st, const void *in, size_t len, bool final, char *out,
		    size_t outlen)
{
	const unsigned char *p = in;
	struct sink s = { .p = out, .len = 0, .cap = outlen };

	if (len > (SIZE_MAX / 6) - 8 || outlen < GH_JSON_ESCAPE_BOUND(len))
		return GH_ELIMIT;
	if (st->have > 3 || st->need > 3 || st->have + st->need > 4)
		st_reset(st); /* a corrupted state is dropped, never trusted */
	for (size_t i = 0; i < len; i++)
		feed_byte(&s, st, p[i]);
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
	r->member_open = false;
	r->member_in = 0;
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

/* One or more "o"/"i" events for DATA; a chunk that only completes part of
 * a sequence produces no event. */
static int data_event(struct gh_rec *r, struct gh_utf8_state *st, const char *code,
		      int64_t now_ms, const void *data, size_t len, bool final)
{
	const unsigned char *p = data;
	int e = 0;

	if (r->err)
		return r->err;
	if (len == 0 && !final)
		return gh_rec_tick(r, now_ms);
	int64_t t = rel_ms(r, now_ms);
	do {
		size_t n = len > EVENT_CHUNK ? EVENT_CHUNK : len;
		size_t o = put_time(r->line, LINE_CAP, t);
		o += (size_t)snprintf(r->line + o, LINE_CAP - o, "\"%s\", \"", code);
		long w = gh_json_escape(st, p, n, final && n == len, r->line + o, LINE_CAP - o - 4);
		if (w < 0)
			return fail(r, (int)w);
		if (w > 0) {
			o += (size_t)w;
			memcpy(r->line + o, "\"]\n", 3);
			o += 3;
			if ((e = put_line(r, now_ms, r->line, o)) < 0)
				return e;
		}
		p += n;
		len -= n;
	} while (len > 0);
	return gh_rec_tick(r, now_ms);
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
	if (r->err)
		return r->err;
	size_t o = put_time(buf, sizeof buf, rel_ms(r, now_ms));
	int n = snprintf(buf + o, sizeof buf - o, "\"r\", \"%dx%d\"]\n", width, height);
	if (n <= 0 || (size_t)n >= sizeof buf - o)
		return GH_EINVAL;
	int e = put_line(r, now_ms, buf, o + (size_t)n);
	if (e < 0)
		return e;
	return gh_rec_tick(r, now_ms);
}

int gh_rec_tick(struct gh_rec *r, int64_t now_ms)
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
	r->member_ms = o->member_ms > 0 ? o->member_ms : GH_REC_MEMBER_MS_DEFAULT;
	r->start_ms = o->start_ms;
	r->record_input = o->record_input;
	if (deflateInit2(&r->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		e = GH_ENOMEM;
		goto fail;
	}
	r->zs_init = true;
	r->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (r->fd < 0) {
		e = errno == EEXIST ? GH_EEXIST : GH_EIO;
		goto fail;
	}
	if ((e = write_header(r, o)) < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	rec_free(r);
	return e;
}

int gh_rec_close(struct gh_rec *r)
{
	int e = 0;
	if (!r)
		return 0;
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
	rec_free(r);
	return e;
}
