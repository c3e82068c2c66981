/* Growable byte buffer with a cap (struct gh_sftp_buf, sftp/sftp.h). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sftp/sftp.h"

void gh_sftp_buf_init(struct gh_sftp_buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

void gh_sftp_buf_release(struct gh_sftp_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->size = 0;
}

int gh_sftp_buf_append(struct gh_sftp_buf *b, const void *p, size_t n)
{
	int r = 0;
	if (n == 0)
		goto out;
	if (b->cap && (n > b->cap || b->len > b->cap - n)) {
		r = GH_ELIMIT;
		goto out;
	}
	if (n > SIZE_MAX / 2 - b->len) {
		r = GH_ENOMEM;
		goto out;
	}
	if (b->size - b->off - b->len < n) {
		/* Slide the unconsumed bytes to the front when that frees enough
		 * room and costs less than what was consumed; else grow. */
		if (b->off && b->size - b->len >= n && b->len <= b->off) {
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		} else {
			size_t want = b->len + n, size = b->size ? b->size : 4096;
			uint8_t *d = NULL;
			while (size < want)
				size *= 2;
			if (b->off == 0) {
				d = realloc(b->data, size);
				if (!d) {
					r = GH_ENOMEM;
					goto out;
				}
			} else {
				d = malloc(size);
				if (!d) {
					r = GH_ENOMEM;
					goto out;
				}
				if (b->len)
					memcpy(d, b->data + b->off, b->len);
				free(b->data);
			}
			b->data = d;
			b->size = size;
			b->off = 0;
		}
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
out:
	return r;
}

void gh_sftp_buf_consume(struct gh_sftp_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}
