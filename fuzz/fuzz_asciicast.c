/* libFuzzer target: the asciicast JSON/UTF-8 escaper, fed in chunks.
 *
 * The first input byte picks the chunk size. Checks that the escaper never
 * writes past its bound, that chunked and whole escaping agree, and that
 * the result is a valid JSON string (jansson validates UTF-8) without raw
 * control characters. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *escape_chunks(const uint8_t *p, size_t len, size_t chunk, size_t *ret_len)
{
	struct gh_utf8_state st = { 0 };
	size_t cap = GH_JSON_ESCAPE_BOUND(len) + 2, o = 1;
	char *out = malloc(cap + 1);
	if (!out)
		return NULL;
	out[0] = '"';
	size_t i = 0;
	do {
		size_t n = len - i < chunk ? len - i : chunk;
		/* exact bound: an overflow shows up under ASan */
		long w = gh_json_escape(&st, p + i, n, i + n == len, out + o,
					GH_JSON_ESCAPE_BOUND(n));
		if (w < 0)
			abort();
		o += (size_t)w;
		i += n;
	} while (i < len);
	out[o++] = '"';
	out[o] = '\0';
	*ret_len = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = 1 + data[0] % 16;
	data++;
	size--;
	size_t la = 0, lb = 0;
	char *a = escape_chunks(data, size, size ? size : 1, &la);
	char *b = escape_chunks(data, size, chunk, &lb);
	if (!a || !b)
		goto out;
	if (la != lb || memcmp(a, b, la) != 0)
		abort();
	for (size_t i = 0; i < la; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
			abort();
	json_error_t err;
	json_t *j = json_loadb(a, la, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j || !json_is_string(j))
		abort();
	json_decref(j);
out:
	free(a);
	free(b);
	return 0;
}
