/* Input buffer of a database door: bytes read from one side (client or
 * target) and not consumed yet, with a cap. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct gh_db_io;

struct gh_inbuf {
	uint8_t *p;
	size_t off, len, size; /* unconsumed bytes: p[off .. off+len) */
	size_t max;            /* most bytes held */
};

/* The unconsumed bytes. */
static inline const uint8_t *gh_inbuf_data(const struct gh_inbuf *b)
{
	return b->p ? b->p + b->off : (const uint8_t *)"";
}
/* Read what IO has (waiting up to TIMEOUT_MS, -1: the idle timeout) and
 * append it. GH_ELIMIT when the buffer is full; gh_db_io_read's errors. */
int gh_inbuf_fill(struct gh_inbuf *b, struct gh_db_io *io, int timeout_ms);
void gh_inbuf_consume(struct gh_inbuf *b, size_t n);
void gh_inbuf_free(struct gh_inbuf *b);
