/* libFuzzer target: the live-watch screen (target output -> libvterm
 * through the guard -> ANSI rendering for a new watcher). The input is a
 * script: one byte picks the operation (output, resize, render), the next
 * its length, then that many bytes. Target output is hostile by
 * assumption: nothing may overrun (ASan) or loop (the fuzzer's timeout). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "live/screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct gh_screen *s = NULL;
	if (gh_screen_new(1 + data[1] % 60, 1 + data[0] % 200, &s) != 0)
		return 0;
	size_t i = 2;
	while (i + 2 <= size) {
		uint8_t op = data[i], len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = (uint8_t)(size - i);
		const uint8_t *p = data + i;
		i += len;
		switch (op % 8) {
		case 6:
			if (len >= 2)
				gh_screen_resize(s, 1 + p[0] % 80, 1 + p[1] % 250);
			break;
		case 7: {
			char *out = NULL;
			size_t n = 0;
			if (gh_screen_render(s, &out, &n) == 0)
				free(out);
			break;
		}
		default:
			gh_screen_feed(s, p, len);
		}
	}
	char *out = NULL;
	size_t n = 0;
	if (gh_screen_render(s, &out, &n) == 0)
		free(out);
	gh_screen_free(s);
	return 0;
}
