/* Input buffer of a database door (src/db/inbuf.h). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "db/door.h"
#include "db/inbuf.h"

#define READ_CHUNK 65536

static int make_room(struct gh_inbuf *b, size_t want)
{
	size_t size = b->size ? b->size : READ_CHUNK;
	uint8_t *p = NULL;

	if (b->off && b->len)
		memmove(b->p, b->p + b->off, b->len);
	b->off = 0;
	if (b->size - b->len >= want)
		return 0;
	while (size - b->len < want)
		size *= 2;
	if (!(p = realloc(b->p, size)))
		return GH_ENOMEM;
	b->p = p;
	b->size = size;
	return 0;
}

int gh_inbuf_fill(struct gh_inbuf *b, struct gh_db_io *io, int timeout_ms)
{
	size_t want = READ_CHUNK, n = 0;
	int r = 0;

	if (b->max && b->len >= b->max)
		return GH_ELIMIT;
	if (b->max && want > b->max - b->len)
		want = b->max - b->len;
	if (b->size - b->off - b->len < want && (r = make_room(b, want)) < 0)
		return r;
	if ((r = gh_db_io_read(io, b->p + b->off + b->len, want, timeout_ms, &n)) < 0)
		return r;
	b->len += n;
	return 0;
}

void gh_inbuf_consume(struct gh_inbuf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

void gh_inbuf_free(struct gh_inbuf *b)
{
	if (!b)
		return;
	free(b->p);
	*b = (struct gh_inbuf){ .max = b->max };
}
