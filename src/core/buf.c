#include "core/buf.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct gh_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return GH_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int gh_buf_put(struct gh_buf *b, const void *data, size_t n)
{
	size_t max = b->max ? b->max : SIZE_MAX / 4;
	if (b->err)
		return b->err;
	if (n > max || b->len > max - n) {
		b->err = GH_ELIMIT;
		return b->err;
	}
	if (b->len + n + 1 > b->cap && (b->err = grow(b, b->len + n + 1)) < 0)
		return b->err;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int gh_buf_puts(struct gh_buf *b, const char *s)
{
	return gh_buf_put(b, s, strlen(s));
}

int gh_buf_putc(struct gh_buf *b, char c)
{
	return gh_buf_put(b, &c, 1);
}

int gh_buf_printf(struct gh_buf *b, const char *fmt, ...)
{
	char small[256];
	char *big = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (b->err)
		return b->err;
	if (n < 0) {
		b->err = GH_EINVAL;
		return b->err;
	}
	if ((size_t)n < sizeof small)
		return gh_buf_put(b, small, (size_t)n);
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = GH_ENOMEM;
		return b->err;
	}
	int r = gh_buf_put(b, big, (size_t)n);
	free(big);
	return r;
}

void gh_buf_reset(struct gh_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *gh_buf_take(struct gh_buf *b, size_t *ret_len)
{
	if (gh_buf_put(b, "", 0) < 0)
		return NULL;
	char *p = b->p;
	if (ret_len)
		*ret_len = b->len;
	*b = (struct gh_buf){ .max = b->max };
	return p;
}

void gh_buf_free(struct gh_buf *b)
{
	if (!b)
		return;
	free(b->p);
	*b = (struct gh_buf){ .max = b->max };
}
