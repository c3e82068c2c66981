/* libFuzzer target: the line filter cutting a shell's input into commands.
 * Checks that no byte is lost, added or reordered, that every command ends
 * with a newline, that the buffer stays bounded, and that the cut does not
 * depend on how the input was chunked (at once vs. the chunks the first
 * byte chooses); each command's split list is classified (inputkind.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/inputkind.h"
#include "filter/linefilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cut DATA fed in chunks of STEP bytes (0: at once); the end offsets of
 * the commands go to ENDS (at most MAX). Returns their number. */
static size_t run(const uint8_t *data, size_t size, size_t step, size_t *ends, size_t max)
{
	struct gh_linefilter *f = NULL;
	size_t n = 0, done = 0, fed = 0;
	if (gh_linefilter_new(&f) < 0)
		return 0;
	for (;;) {
		size_t k = step ? step : size - fed;
		if (k > size - fed)
			k = size - fed;
		size_t took = gh_linefilter_put(f, data + fed, k);
		fed += took;
		if (fed == size)
			gh_linefilter_eof(f);
		const char *u;
		size_t len;
		enum gh_linefilter_unit t;
		while ((t = gh_linefilter_next(f, &u, &len)) != GH_LINEFILTER_NONE) {
			if (len == 0 || len > GH_LINEFILTER_MAX || memcmp(u, data + done, len) != 0)
				__builtin_trap(); /* lost, added or reordered */
			if (t == GH_LINEFILTER_COMMAND && u[len - 1] != '\n')
				__builtin_trap();
			struct gh_cmdlist *l = NULL;
			if (gh_cmd_split(u, len, &l) == 0)
				(void)gh_input_kind(l, NULL);
			gh_cmdlist_free(l);
			done += len;
			if (n < max)
				ends[n] = done;
			n++;
			gh_linefilter_consume(f, len);
		}
		if (gh_linefilter_held(f) > GH_LINEFILTER_MAX || done + gh_linefilter_held(f) != fed)
			__builtin_trap();
		if (fed == size)
			break;
	}
	if (done != size)
		__builtin_trap(); /* at the end everything was handed out */
	gh_linefilter_free(f);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a[256], b[256];
	if (size < 1 || size > 8192)
		return 0;
	size_t step = 1 + data[0] % 17;
	data++;
	size--;
	size_t na = run(data, size, 0, a, 256);
	size_t nb = run(data, size, step, b, 256);
	/* the same cut whatever the chunks (before the end of the input) */
	if (na != nb || memcmp(a, b, (na < 256 ? na : 256) * sizeof a[0]) != 0)
		__builtin_trap();
	return 0;
}
