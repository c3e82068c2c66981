/* libFuzzer target: the jumpoint registration password (ssh/jpnode.h). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ssh/jpnode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[128];
	const char *b64 = NULL;
	if (gh_jpnode_reg_split((const char *)data, size, tok, sizeof tok, &b64) == 0) {
		const char *end = (const char *)data + size;
		if (strnlen(tok, sizeof tok) == sizeof tok || tok[0] == '\0' ||
		    b64 < (const char *)data || b64 >= end)
			__builtin_trap();
	}
	return 0;
}
