/* Where a Redis reply ends, found as the bytes stream by (RESP2 and RESP3
 * types; src/db/redis_wire.h). Bulk payloads are skipped, never held. */
#include <string.h>

#include "core/error.h"
#include "db/redis_wire.h"

#define BULK_MAX (1ull << 40) /* far past proto-max-bulk-len */

void gh_redis_scan_init(struct gh_redis_scan *s)
{
	*s = (struct gh_redis_scan){ 0 };
}

static void note_error(struct gh_redis_scan *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && s->err_len < sizeof s->err - 1; i++)
		s->err[s->err_len++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	s->err[s->err_len] = 0;
}

/* A value ended: close the aggregates it completes. True when the whole
 * reply ended. */
static bool value_done(struct gh_redis_scan *s)
{
	while (s->depth > 0) {
		size_t d = s->depth - 1;
		if (--s->left[d] > 0)
			return false;
		s->depth--;
		if (s->attr[d])
			return false; /* an attribute precedes the value it describes */
	}
	return true;
}

static int open_aggregate(struct gh_redis_scan *s, int64_t count, bool attr)
{
	if (count <= 0)
		return attr ? 1 : 0; /* empty: a whole value (an empty attribute: nothing) */
	if (s->depth >= GH_REDIS_MAX_DEPTH)
		return GH_ELIMIT;
	s->left[s->depth] = count;
	s->attr[s->depth] = attr;
	s->depth++;
	return 1;
}

static int parse_num(const char *p, size_t n, int64_t *ret)
{
	int64_t v = 0;
	bool neg = n > 0 && p[0] == '-';
	size_t i = neg ? 1 : 0;

	if (i >= n || n - i > 18)
		return GH_EINVAL;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return GH_EINVAL;
		v = v * 10 + (p[i] - '0');
	}
	*ret = neg ? -v : v;
	return 0;
}

/* A whole header line (type in S->line_type, text in S->line) ended.
 * 1: a value ended; 0: more of this value follows; negative: error. */
static int line_done(struct gh_redis_scan *s)
{
	char t = s->line_type;
	size_t n = s->line_len < sizeof s->line ? s->line_len : sizeof s->line;
	int64_t v = 0;
	bool top = s->depth == 0;

	switch (t) {
	case '+': case '_': case '#': case ',': case '(':
		return 1;
	case '-':
		return 1;
	case ':':
		if (top && parse_num(s->line, n, &v) == 0)
			s->count = v;
		return 1;
	case '$': case '!': case '=':
		if (s->line_len > sizeof s->line || parse_num(s->line, n, &v) < 0 || v < -1)
			return GH_EINVAL;
		if (v == -1)
			return 1; /* null */
		if ((uint64_t)v > BULK_MAX)
			return GH_EINVAL;
		s->bulk_left = (uint64_t)v;
		s->crlf_left = 2;
		s->bulk_is_error = t == '!';
		return 0;
	case '*': case '%': case '~': case '>': case '|':
		if (s->line_len > sizeof s->line || parse_num(s->line, n, &v) < 0 || v < -1 ||
		    v > (INT64_MAX / 4))
			return GH_EINVAL;
		if (t == '%' || t == '|')
			v *= 2;
		if (top && t != '|')
			s->count = t == '%' ? v / 2 : v;
		int r = open_aggregate(s, v, t == '|');
		return r < 0 ? r : (r == 1 ? 0 : 1);
	default:
		return GH_EINVAL;
	}
}

static void start_value(struct gh_redis_scan *s, uint8_t t)
{
	if (!s->busy) {
		s->busy = true;
		s->type = 0;
		s->push = s->error = false;
		s->err_len = 0;
		s->err[0] = 0;
		s->count = 0;
	}
	if (s->depth == 0 && t != '|') { /* the reply itself (after any attribute) */
		s->type = (char)t;
		s->push = t == '>';
		s->error = t == '-' || t == '!';
	}
	s->line_type = (char)t;
	s->line_len = 0;
	s->line_last = 0;
	s->in_line = true;
}

/* Bytes of the line (or of a bulk) from P: how many were taken. */
static int feed_line(struct gh_redis_scan *s, const uint8_t *p, size_t n, size_t *used,
		     bool *ended)
{
	const uint8_t *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n;
	size_t text = nl ? take - 1 : take;
	bool top_err = s->depth == 0 && s->line_type == '-';

	for (size_t i = 0; i < text; i++) {
		if (s->line_len < sizeof s->line)
			s->line[s->line_len] = (char)p[i];
		s->line_len++;
		s->line_last = p[i];
	}
	if (top_err)
		note_error(s, p, text);
	*used = take;
	*ended = false;
	if (!nl)
		return 0;
	/* the text before LF must end with CR */
	if (s->line_len == 0 || s->line_last != '\r')
		return GH_EINVAL;
	s->line_len--;
	if (top_err && s->err_len > 0 && s->err[s->err_len - 1] == '?')
		s->err[--s->err_len] = 0;
	s->in_line = false;
	int r = line_done(s);
	if (r < 0)
		return r;
	*ended = r == 1;
	return 0;
}

static int feed_bulk(struct gh_redis_scan *s, const uint8_t *p, size_t n, size_t *used,
		     bool *ended)
{
	size_t take = 0;

	*ended = false;
	if (s->bulk_left > 0) {
		take = s->bulk_left < n ? (size_t)s->bulk_left : n;
		if (s->bulk_is_error && s->depth == 0)
			note_error(s, p, take);
		s->bulk_left -= take;
		*used = take;
		return 0;
	}
	if (p[0] != (s->crlf_left == 2 ? '\r' : '\n'))
		return GH_EINVAL;
	*used = 1;
	if (--s->crlf_left == 0)
		*ended = true;
	return 0;
}

int gh_redis_scan_feed(struct gh_redis_scan *s, const uint8_t *p, size_t n, size_t *ret_used,
		       bool *ret_done)
{
	size_t off = 0, used = 0;
	bool ended = false;
	int r = 0;

	*ret_done = false;
	while (off < n) {
		if (s->crlf_left) {
			r = feed_bulk(s, p + off, n - off, &used, &ended);
		} else if (s->in_line) {
			r = feed_line(s, p + off, n - off, &used, &ended);
		} else {
			start_value(s, p[off]);
			used = 1;
			ended = false;
		}
		if (r < 0)
			return r;
		off += used;
		if (ended && value_done(s)) {
			s->busy = false;
			*ret_done = true;
			break;
		}
	}
	*ret_used = off;
	return 0;
}
