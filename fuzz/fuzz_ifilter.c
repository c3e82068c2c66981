/* libFuzzer target: the interactive filter's screen and line logic.
 * The input is a script of operations: one byte picks the operation
 * (target output, user input, tick, resize, log-only switch), the next its
 * length, then that many bytes of data. Every screen read must stay within
 * the screen (ASan) and every decided line be a C string of bounded size. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "filter/interactive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t to_target(void *ud, const void *d, size_t n)
{
	return ((size_t)(uintptr_t)ud & 1) ? n / 2 : n; /* sometimes a full buffer */
}

static bool decide(void *ud, const char *screen, const char *typed)
{
	if (strlen(screen) > GH_IFILTER_MAX_LINE * 4 + 8 ||
	    (typed && strlen(typed) >= GH_IFILTER_MAX_LINE))
		__builtin_trap();
	return !strchr(screen, '!');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct gh_ifilter_ops ops = { .to_target = to_target, .decide = decide,
				      .ud = (void *)(uintptr_t)(data[0] & 1) };
	struct gh_ifilter *f = NULL;
	if (gh_ifilter_new(2 + data[1] % 40, 2 + data[0] % 100, &ops, &f) != 0)
		return 0;
	int64_t now = 0;
	size_t i = 2;
	while (i + 2 <= size) {
		uint8_t op = data[i], len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = (uint8_t)(size - i);
		const uint8_t *p = data + i;
		i += len;
		now += op >> 3;
		switch (op & 7) {
		case 0:
		case 1:
			gh_ifilter_output(f, p, len, now);
			break;
		case 2:
		case 3:
			gh_ifilter_input(f, p, len, now);
			break;
		case 4:
			now += 200;
			gh_ifilter_tick(f, now);
			break;
		case 5:
			if (len >= 2)
				gh_ifilter_resize(f, 2 + p[0] % 60, 2 + p[1] % 200);
			break;
		case 6:
			gh_ifilter_set_log_only(f, len & 1);
			break;
		default:
			now += 5000;
			gh_ifilter_tick(f, now);
			gh_ifilter_flush(f);
			break;
		}
	}
	gh_ifilter_free(f);
	return 0;
}
