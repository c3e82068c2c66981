/* A bounds-checked reader over a byte buffer, for the database wire
 * parsers (little-endian integers, as MySQL writes them). Every getter
 * returns 0, or GH_EINVAL and moves nothing when the bytes are not there. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"

struct gh_rd {
	const uint8_t *p;
	size_t n, off;
};

#define GH_RD(p_, n_) ((struct gh_rd){ .p = (p_), .n = (n_), .off = 0 })

static inline size_t gh_rd_left(const struct gh_rd *r)
{
	return r->n - r->off;
}

static inline int gh_rd_bytes(struct gh_rd *r, size_t k, const uint8_t **ret)
{
	if (k > gh_rd_left(r))
		return GH_EINVAL;
	*ret = r->p + r->off;
	r->off += k;
	return 0;
}

static inline int gh_rd_uint(struct gh_rd *r, size_t k, uint64_t *ret)
{
	const uint8_t *b = NULL;
	uint64_t v = 0;
	if (gh_rd_bytes(r, k, &b) < 0)
		return GH_EINVAL;
	for (size_t i = 0; i < k; i++)
		v |= (uint64_t)b[i] << (8 * i);
	*ret = v;
	return 0;
}

static inline int gh_rd_u8(struct gh_rd *r, uint8_t *ret)
{
	uint64_t v = 0;
	int e = gh_rd_uint(r, 1, &v);
	*ret = e < 0 ? *ret : (uint8_t)v;
	return e;
}

static inline int gh_rd_u16(struct gh_rd *r, uint16_t *ret)
{
	uint64_t v = 0;
	int e = gh_rd_uint(r, 2, &v);
	*ret = e < 0 ? *ret : (uint16_t)v;
	return e;
}

static inline int gh_rd_u32(struct gh_rd *r, uint32_t *ret)
{
	uint64_t v = 0;
	int e = gh_rd_uint(r, 4, &v);
	*ret = e < 0 ? *ret : (uint32_t)v;
	return e;
}

/* A NUL-terminated string: *RET points at it, *RET_LEN without the NUL. */
static inline int gh_rd_cstr(struct gh_rd *r, const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *s = r->p + r->off;
	const uint8_t *z = gh_rd_left(r) ? memchr(s, 0, gh_rd_left(r)) : NULL;
	if (!z)
		return GH_EINVAL;
	*ret = s;
	*ret_len = (size_t)(z - s);
	r->off += *ret_len + 1;
	return 0;
}

/* A MySQL length-encoded string of at most MAX bytes (GH_ELIMIT past it). */
static inline int gh_rd_lenstr(struct gh_rd *r, size_t max, const uint8_t **ret, size_t *ret_len)
{
	size_t save = r->off;
	uint64_t len = 0;
	uint8_t first = 0;
	size_t w = 0;
	if (gh_rd_u8(r, &first) < 0)
		return GH_EINVAL;
	if (first < 0xfb)
		len = first;
	else if (first == 0xfc)
		w = 2;
	else if (first == 0xfd)
		w = 3;
	else if (first == 0xfe)
		w = 8;
	else
		goto bad;
	if (w && gh_rd_uint(r, w, &len) < 0)
		goto bad;
	if (len > max) {
		r->off = save;
		return GH_ELIMIT;
	}
	if (gh_rd_bytes(r, (size_t)len, ret) < 0)
		goto bad;
	*ret_len = (size_t)len;
	return 0;
bad:
	r->off = save;
	return GH_EINVAL;
}
