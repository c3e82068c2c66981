/* Redis RESP2/RESP3 wire (src/db/redis_wire.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/redis_wire.h"

#define HEADER_MAX 32 /* "*<count>\r\n" / "$<len>\r\n": generous */

/* Signed decimal in P[0..N): 0 and *RET; GH_EINVAL on junk or overflow. */
static int parse_i64(const uint8_t *p, size_t n, int64_t *ret)
{
	bool neg = false;
	int64_t v = 0;
	size_t i = 0;

	if (n > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
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

/* The header line "<type><int>\r\n" at BUF+OFF: 1 with *RET and *OFF past
 * it; 0 when incomplete; GH_EINVAL. */
static int header(const uint8_t *buf, size_t len, size_t *off, char type, int64_t *ret)
{
	size_t o = *off, avail = len - o;
	const uint8_t *nl = NULL;

	if (avail == 0)
		return 0;
	if (buf[o] != (uint8_t)type)
		return GH_EINVAL;
	nl = memchr(buf + o, '\n', avail < HEADER_MAX ? avail : HEADER_MAX);
	if (!nl)
		return avail < HEADER_MAX ? 0 : GH_EINVAL;
	size_t end = (size_t)(nl - buf);
	if (end - o < 2 || buf[end - 1] != '\r' || parse_i64(buf + o + 1, end - o - 2, ret) < 0)
		return GH_EINVAL;
	*off = end + 1;
	return 1;
}

static int parse_multibulk(const uint8_t *buf, size_t len, const struct gh_redis_limits *lim,
			   struct gh_redis_req *q)
{
	size_t off = 0, total = 0;
	int64_t count = 0, blen = 0;
	int r = 0;

	if ((r = header(buf, len, &off, '*', &count)) <= 0)
		return r;
	if (count <= 0) { /* as Redis: an empty command, skipped */
		q->used = off;
		return 0;
	}
	if ((uint64_t)count > lim->max_args)
		return GH_ELIMIT;
	if (!(q->argv = calloc((size_t)count, sizeof *q->argv)) ||
	    !(q->argl = calloc((size_t)count, sizeof *q->argl)))
		return GH_ENOMEM;
	for (int64_t i = 0; i < count; i++) {
		if ((r = header(buf, len, &off, '$', &blen)) <= 0)
			return r;
		if (blen < 0)
			return GH_EINVAL;
		if ((uint64_t)blen > lim->max_total - total)
			return GH_ELIMIT;
		total += (size_t)blen;
		if (len - off < (size_t)blen + 2)
			return 0;
		if (buf[off + (size_t)blen] != '\r' || buf[off + (size_t)blen + 1] != '\n')
			return GH_EINVAL;
		q->argv[i] = buf + off;
		q->argl[i] = (size_t)blen;
		off += (size_t)blen + 2;
	}
	q->argc = (size_t)count;
	q->used = off;
	return 0;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One quoted inline argument starting at S[*I] (the quote): unquoted into
 * OUT at *O. Redis's sdssplitargs rules. */
static int inline_quoted(const uint8_t *s, size_t n, size_t *i, uint8_t *out, size_t *o)
{
	uint8_t q = s[(*i)++];

	for (;;) {
		if (*i >= n)
			return GH_EINVAL; /* unbalanced quotes */
		uint8_t c = s[(*i)++];
		if (c == q) {
			if (*i < n && s[*i] != ' ' && s[*i] != '\t')
				return GH_EINVAL; /* the closing quote must end the argument */
			return 0;
		}
		if (c == '\\' && *i < n) {
			uint8_t e = s[(*i)++];
			if (q == '\'') {
				if (e != '\'')
					out[(*o)++] = '\\';
				out[(*o)++] = e;
				continue;
			}
			if (e == 'x' && *i + 1 < n && hexval(s[*i]) >= 0 && hexval(s[*i + 1]) >= 0) {
				out[(*o)++] = (uint8_t)(hexval(s[*i]) << 4 | hexval(s[*i + 1]));
				*i += 2;
				continue;
			}
			out[(*o)++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' :
				      e == 'b' ? '\b' : e == 'a' ? '\a' : e;
			continue;
		}
		out[(*o)++] = c;
	}
}

static int parse_inline(const uint8_t *buf, size_t len, const struct gh_redis_limits *lim,
			struct gh_redis_req *q)
{
	const uint8_t *nl = memchr(buf, '\n', len < lim->max_inline ? len : lim->max_inline);
	size_t n = 0, i = 0, o = 0, argc = 0;
	int r = 0;

	if (!nl)
		return len < lim->max_inline ? 0 : GH_ELIMIT;
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	q->inline_form = true;
	if (!(q->inl = malloc(n + 1)) || !(q->argv = calloc(n / 2 + 1, sizeof *q->argv)) ||
	    !(q->argl = calloc(n / 2 + 1, sizeof *q->argl)))
		return GH_ENOMEM;
	while (i < n) {
		while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i >= n)
			break;
		if (argc >= lim->max_args)
			return GH_ELIMIT;
		size_t start = o;
		if (buf[i] == '"' || buf[i] == '\'') {
			if ((r = inline_quoted(buf, n, &i, q->inl, &o)) < 0)
				return r;
		} else {
			while (i < n && buf[i] != ' ' && buf[i] != '\t')
				q->inl[o++] = buf[i++];
		}
		q->argv[argc] = q->inl + start;
		q->argl[argc] = o - start;
		argc++;
	}
	q->argc = argc;
	q->used = (size_t)(nl - buf) + 1;
	return 0;
}

int gh_redis_req_parse(const uint8_t *buf, size_t len, const struct gh_redis_limits *lim,
		       struct gh_redis_req *ret)
{
	struct gh_redis_req q = { 0 };
	int r = 0;

	if (!lim || lim->max_args == 0 || lim->max_inline == 0)
		return GH_EINVAL;
	if (len == 0)
		goto incomplete;
	r = buf[0] == '*' ? parse_multibulk(buf, len, lim, &q) : parse_inline(buf, len, lim, &q);
	if (r < 0 || q.used == 0)
		goto incomplete;
	*ret = q;
	return 0;
incomplete:
	gh_redis_req_free(&q);
	*ret = (struct gh_redis_req){ 0 };
	return r;
}

void gh_redis_req_free(struct gh_redis_req *r)
{
	if (!r)
		return;
	free(r->argv);
	free(r->argl);
	free(r->inl);
	*r = (struct gh_redis_req){ 0 };
}

bool gh_redis_arg_is(const struct gh_redis_req *r, size_t i, const char *name)
{
	size_t n = strlen(name);

	if (i >= r->argc || r->argl[i] != n)
		return false;
	for (size_t k = 0; k < n; k++) {
		uint8_t a = r->argv[i][k], b = (uint8_t)name[k];
		if (a >= 'a' && a <= 'z')
			a -= 32;
		if (b >= 'a' && b <= 'z')
			b -= 32;
		if (a != b)
			return false;
	}
	return true;
}

int gh_redis_put_command(struct gh_buf *out, size_t argc, const uint8_t *const *argv,
			 const size_t *argl)
{
	gh_buf_printf(out, "*%zu\r\n", argc);
	for (size_t i = 0; i < argc; i++) {
		gh_buf_printf(out, "$%zu\r\n", argl[i]);
		gh_buf_put(out, argv[i], argl[i]);
		gh_buf_put(out, "\r\n", 2);
	}
	return out->err;
}

/* ---- AUTH / HELLO -------------------------------------------------------- */

static int hello_parse(const struct gh_redis_req *r, struct gh_redis_auth *a)
{
	size_t i = 1;
	int64_t v = 0;

	a->hello = true;
	if (r->argc > 1) {
		if (parse_i64(r->argv[1], r->argl[1], &v) < 0 || v < 1 || v > 3)
			return GH_EINVAL;
		a->proto = (int)v;
		i = 2;
	}
	while (i < r->argc) {
		if (gh_redis_arg_is(r, i, "AUTH") && i + 2 < r->argc) {
			a->user = r->argv[i + 1];
			a->user_len = r->argl[i + 1];
			a->pass = r->argv[i + 2];
			a->pass_len = r->argl[i + 2];
			i += 3;
		} else if (gh_redis_arg_is(r, i, "SETNAME") && i + 1 < r->argc) {
			a->setname = r->argv[i + 1];
			a->setname_len = r->argl[i + 1];
			i += 2;
		} else {
			return GH_EINVAL;
		}
	}
	return 0;
}

int gh_redis_auth_parse(const struct gh_redis_req *r, struct gh_redis_auth *ret)
{
	struct gh_redis_auth a = { 0 };
	int e = 0;

	if (gh_redis_arg_is(r, 0, "AUTH")) {
		if (r->argc == 2) {
			a.pass = r->argv[1];
			a.pass_len = r->argl[1];
		} else if (r->argc == 3) {
			a.user = r->argv[1];
			a.user_len = r->argl[1];
			a.pass = r->argv[2];
			a.pass_len = r->argl[2];
		} else {
			return GH_EINVAL;
		}
	} else if (gh_redis_arg_is(r, 0, "HELLO")) {
		if ((e = hello_parse(r, &a)) < 0)
			return e;
	} else {
		return GH_ENOENT;
	}
	*ret = a;
	return 0;
}

int gh_redis_hello_build(const struct gh_redis_auth *a, struct gh_buf *out)
{
	char proto[2] = { (char)('0' + (a->proto ? a->proto : 2)), 0 };
	const uint8_t *argv[4] = { (const uint8_t *)"HELLO", (const uint8_t *)proto,
				   (const uint8_t *)"SETNAME", a->setname };
	size_t argl[4] = { 5, 1, 7, a->setname_len };

	return gh_redis_put_command(out, a->setname ? 4 : 2, argv, argl);
}

/* ---- audit text ---------------------------------------------------------- */

/* Which arguments of R hold a secret: MASK[i] set (MASK has R->argc entries). */
static void secret_args(const struct gh_redis_req *r, bool *mask)
{
	if (gh_redis_arg_is(r, 0, "AUTH")) {
		for (size_t i = 1; i < r->argc; i++)
			mask[i] = true;
	} else if (gh_redis_arg_is(r, 0, "HELLO") || gh_redis_arg_is(r, 0, "MIGRATE")) {
		for (size_t i = 1; i < r->argc; i++) {
			if (gh_redis_arg_is(r, i, "AUTH") && i + 1 < r->argc) {
				mask[i + 1] = true;
				if (gh_redis_arg_is(r, 0, "HELLO") && i + 2 < r->argc)
					mask[i + 2] = true;
			} else if (gh_redis_arg_is(r, i, "AUTH2") && i + 2 < r->argc) {
				mask[i + 2] = true;
			}
		}
	} else if (gh_redis_arg_is(r, 0, "ACL") && gh_redis_arg_is(r, 1, "SETUSER")) {
		for (size_t i = 3; i < r->argc; i++)
			if (r->argl[i] > 0 && strchr("><#!", r->argv[i][0]))
				mask[i] = true;
	} else if (gh_redis_arg_is(r, 0, "CONFIG") && gh_redis_arg_is(r, 1, "SET")) {
		for (size_t i = 2; i + 1 < r->argc; i += 2)
			if (gh_redis_arg_is(r, i, "requirepass") || gh_redis_arg_is(r, i, "masterauth"))
				mask[i + 1] = true;
	}
}

static bool plain_arg(const uint8_t *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f || p[i] == '"' || p[i] == '\'' || p[i] == '\\')
			return false;
	return true;
}

static void put_arg(struct gh_buf *b, const uint8_t *p, size_t n)
{
	if (plain_arg(p, n)) {
		gh_buf_put(b, p, n);
		return;
	}
	gh_buf_putc(b, '"');
	for (size_t i = 0; i < n && !b->err; i++) {
		if (p[i] < ' ' || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
			gh_buf_printf(b, "\\x%02x", p[i]);
		else
			gh_buf_putc(b, (char)p[i]);
	}
	gh_buf_putc(b, '"');
}

int gh_redis_audit_text(const struct gh_redis_req *r, size_t max, struct gh_buf *out)
{
	struct gh_buf b = GH_BUF_MAX(max + 4 * 4 + 2);
	bool *mask = NULL;
	int e = 0;

	if (max < 4)
		return GH_EINVAL;
	if (r->argc && !(mask = calloc(r->argc, sizeof *mask)))
		return GH_ENOMEM;
	if (mask)
		secret_args(r, mask);
	for (size_t i = 0; i < r->argc && b.len <= max && !b.err; i++) {
		if (i)
			gh_buf_putc(&b, ' ');
		if (mask[i])
			gh_buf_puts(&b, "***");
		else
			put_arg(&b, r->argv[i], r->argl[i] > max ? max + 1 : r->argl[i]);
	}
	if (b.err && b.err != GH_ELIMIT) {
		e = b.err;
		goto out;
	}
	if (b.len > max || b.err == GH_ELIMIT) {
		size_t keep = b.len > max - 3 ? max - 3 : b.len;
		e = gh_buf_put(out, b.p, keep);
		if (e == 0)
			e = gh_buf_puts(out, "...");
	} else {
		e = gh_buf_put(out, b.p, b.len);
	}
out:
	gh_buf_free(&b);
	free(mask);
	return e;
}

/* ---- error replies ------------------------------------------------------- */

int gh_redis_err_build(const char *msg, struct gh_buf *out)
{
	size_t n = strlen(msg);

	gh_buf_puts(out, "-ERR ");
	if (n > 400)
		n = 400;
	for (size_t i = 0; i < n; i++)
		gh_buf_putc(out, (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i]);
	gh_buf_put(out, "\r\n", 2);
	return out->err;
}

int gh_redis_err_rejected(const char *rule, struct gh_buf *out)
{
	char msg[160];
	int k = snprintf(msg, sizeof msg, "rejected by Gatehouse: rule %s", rule ? rule : "?");
	if (k < 0)
		return GH_EINVAL;
	return gh_redis_err_build(msg, out);
}
