/* A growable byte buffer with a cap: the one copy of "append, grow by
 * doubling, stop at a limit". Pure logic, no libssh.
 *
 * Start from a zeroed struct, or GH_BUF_MAX(n) to set the cap. Errors are
 * sticky: after the first one (GH_ELIMIT or GH_ENOMEM), every append
 * returns it and adds nothing, so a writer may check once at the end
 * (b->err) instead of after every append.
 *
 * Ownership: P is owned by the buffer until gh_buf_take hands it to the
 * caller; gh_buf_free releases it. */
#pragma once
#include <stddef.h>

struct gh_buf {
	char *p;    /* the bytes, NUL-terminated after each append; NULL until the first */
	size_t len; /* bytes held, the NUL not counted */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes it may hold; 0: no cap but memory (SIZE_MAX / 4) */
	int err;    /* the first error (GH_ELIMIT, GH_ENOMEM), or 0 */
};

#define GH_BUF_MAX(n) ((struct gh_buf){ .max = (n) })

/* Append N bytes of DATA (N 0: only makes sure P is allocated). 0;
 * GH_ELIMIT when LEN would pass MAX (nothing appended); GH_ENOMEM;
 * or the sticky error. */
int gh_buf_put(struct gh_buf *b, const void *data, size_t n);
int gh_buf_puts(struct gh_buf *b, const char *s);
int gh_buf_putc(struct gh_buf *b, char c);
/* Formatted append; as gh_buf_put, GH_EINVAL on a format error. */
int gh_buf_printf(struct gh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empty it (LEN 0, error cleared), keeping its memory. */
void gh_buf_reset(struct gh_buf *b);

/* Hand the bytes to the caller (caller frees; "" when nothing was
 * appended) and leave B empty (MAX kept); *RET_LEN gets the length
 * (may be NULL). NULL on the sticky error or GH_ENOMEM (B keeps it). */
char *gh_buf_take(struct gh_buf *b, size_t *ret_len);

/* Free the bytes and empty B (MAX kept). Accepts NULL. */
void gh_buf_free(struct gh_buf *b);
