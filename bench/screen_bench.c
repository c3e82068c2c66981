/* How fast the watcher's screen (src/live/screen.c) takes a session's
 * output, against libvterm fed every byte: 64 MiB of 76-character lines
 * (CRLF, as a pty delivers them), at 80x24 and 200x50.
 *   build/screen_bench [MiB] */
#include "live/screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vterm.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void discard(const char *s, size_t len, void *user)
{
	(void)s;
	(void)len;
	(void)user;
}

int main(int argc, char **argv)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 64) << 20;
	char *b = malloc(n);
	if (!n || !b)
		return 1;
	for (size_t i = 0; i < n; i++)
		b[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : al[(i * 2654435761u >> 7) % 64];
	const int sizes[][2] = { { 24, 80 }, { 50, 200 } };
	for (size_t k = 0; k < 2; k++) {
		int rows = sizes[k][0], cols = sizes[k][1];
		struct gh_screen *s = NULL;
		if (gh_screen_new(rows, cols, &s) < 0)
			return 1;
		double t0 = now();
		for (size_t o = 0; o < n; o += 32768)
			gh_screen_feed(s, b + o, n - o < 32768 ? n - o : 32768);
		char *r = NULL;
		size_t rl = 0;
		if (gh_screen_render(s, &r, &rl) < 0)
			return 1;
		double t1 = now();
		free(r);
		gh_screen_free(s);
		/* the same bytes through libvterm alone (at most 16 MiB: it is slow) */
		size_t m = n < (16u << 20) ? n : 16u << 20;
		VTerm *vt = vterm_new(rows, cols);
		vterm_set_utf8(vt, 1);
		vterm_output_set_callback(vt, discard, NULL);
		vterm_screen_reset(vterm_obtain_screen(vt), 1);
		double t2 = now();
		for (size_t o = 0; o < m; o += 32768)
			vterm_input_write(vt, b + o, m - o < 32768 ? m - o : 32768);
		double t3 = now();
		vterm_free(vt);
		printf("screen %dx%d: gh_screen %.0f MB/s, libvterm alone %.1f MB/s\n", cols, rows,
		       (double)n / (t1 - t0) / 1e6, (double)m / (t3 - t2) / 1e6);
	}
	free(b);
	return 0;
}
