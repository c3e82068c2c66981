/* The watcher's screen (src/live/screen.c): what a terminal draws. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include <stdbool.h>
#include <stdio.h>
#include <vterm.h>

#include "core/error.h"
#include "live/screen.h"

static char *render(struct gh_screen *s)
{
	char *p = NULL;
	size_t n = 0;
	assert_int_equal(gh_screen_render(s, &p, &n), 0);
	char *z = malloc(n + 1);
	assert_non_null(z);
	memcpy(z, p, n);
	z[n] = '\0';
	free(p);
	return z;
}

static void test_text_and_cursor(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(24, 80, &s), 0);
	const char in[] = "hello\r\nworld$ ";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "\x1b[2J"));
	assert_non_null(strstr(out, "\x1b[1;1H\x1b[0mhello"));
	assert_non_null(strstr(out, "\x1b[2;1H\x1b[0mworld$"));
	/* the cursor ends after the prompt: row 2, column 8 */
	size_t n = strlen(out);
	assert_true(n > 6 && !strcmp(out + n - 6, "\x1b[2;8H"));
	free(out);
	gh_screen_free(s);
}

/* Hostile target output: REP before any glyph (libvterm 0.1.4 loops
 * forever) and a CSI with 200 parameters (overruns its argument array). */
static void test_hostile_output(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(24, 80, &s), 0);
	char buf[400];
	size_t n = 0;
	buf[n++] = 0x1b;
	buf[n++] = '[';
	for (int i = 0; i < 200; i++)
		buf[n++] = ';';
	buf[n++] = 'm';
	alarm(10);
	gh_screen_feed(s, "\x1b[99999b", 8);
	gh_screen_feed(s, buf, n);
	gh_screen_feed(s, "ok$ ", 4);
	char *out = render(s);
	alarm(0);
	assert_non_null(strstr(out, "ok$"));
	free(out);
	gh_screen_free(s);
	/* a wide glyph on a one-column terminal (the user picks the width) */
	assert_int_equal(gh_screen_new(24, 1, &s), 0);
	gh_screen_feed(s, "\xe5\xa4\xbe", 3);
	out = render(s);
	free(out);
	gh_screen_resize(s, 5, 1);
	gh_screen_feed(s, "\xe5\xa4\xbe\xe5\xa4\xbe", 6);
	out = render(s);
	free(out);
	gh_screen_free(s);
}

static void test_overwritten_and_cleared(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(5, 20, &s), 0);
	const char in[] = "gone\x1b[2J\x1b[Hkept\rK";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_null(strstr(out, "gone"));
	assert_non_null(strstr(out, "Kept"));
	free(out);
	gh_screen_free(s);
}

static void test_colours_and_attributes(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(5, 40, &s), 0);
	const char in[] = "\x1b[1;31mred\x1b[0m \x1b[38;5;200mpink\x1b[0m \x1b[7mrev";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "\x1b[0;1;31mred"));
	assert_non_null(strstr(out, "\x1b[0;38;5;200mpink"));
	assert_non_null(strstr(out, "\x1b[0;7mrev"));
	free(out);
	gh_screen_free(s);
}

static void test_utf8_and_resize(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(3, 10, &s), 0);
	const char in[] = "caf\xc3\xa9 \xe4\xb8\xad!";
	gh_screen_feed(s, in, sizeof in - 1);
	char *out = render(s);
	assert_non_null(strstr(out, "caf\xc3\xa9 \xe4\xb8\xad!"));
	free(out);
	gh_screen_resize(s, 50, 200);
	const char more[] = "\x1b[50;190Hfar";
	gh_screen_feed(s, more, sizeof more - 1);
	out = render(s);
	assert_non_null(strstr(out, "\x1b[50;1H"));
	assert_non_null(strstr(out, "far"));
	free(out);
	gh_screen_free(s);
}

/* Bulk output is thinned before emulation: what a watcher is drawn must
 * still equal what a terminal fed every byte shows. The reference is a
 * plain libvterm fed everything; our render is fed to a fresh one; both
 * must hold the same cells and cursor. */
static VTerm *vt_new(int rows, int cols)
{
	VTerm *vt = vterm_new(rows, cols);
	assert_non_null(vt);
	vterm_set_utf8(vt, 1);
	VTermScreen *scr = vterm_obtain_screen(vt);
	vterm_screen_enable_altscreen(scr, 1);
	vterm_screen_reset(scr, 1);
	return vt;
}

static void same_screen(VTerm *a, VTerm *b, int rows, int cols)
{
	VTermScreen *sa = vterm_obtain_screen(a), *sb = vterm_obtain_screen(b);
	VTermPos pos, ca, cb;
	for (pos.row = 0; pos.row < rows; pos.row++) {
		for (pos.col = 0; pos.col < cols; pos.col++) {
			VTermScreenCell x, y;
			vterm_screen_get_cell(sa, pos, &x);
			vterm_screen_get_cell(sb, pos, &y);
			uint32_t cx = x.chars[0] ? x.chars[0] : ' ', cy = y.chars[0] ? y.chars[0] : ' ';
			bool shown = cx != ' ' || x.attrs.reverse || !VTERM_COLOR_IS_DEFAULT_BG(&x.bg);
			if (cx != cy || x.attrs.reverse != y.attrs.reverse ||
			    memcmp(&x.bg, &y.bg, sizeof x.bg) != 0 ||
			    (shown && (x.attrs.bold != y.attrs.bold || memcmp(&x.fg, &y.fg, sizeof x.fg) != 0))) {
				print_error("cell %d,%d differs: %u vs %u\n", pos.row, pos.col, cx, cy);
				fail();
			}
		}
	}
	vterm_state_get_cursorpos(vterm_obtain_state(a), &ca);
	vterm_state_get_cursorpos(vterm_obtain_state(b), &cb);
	assert_int_equal(ca.row, cb.row);
	assert_int_equal(ca.col, cb.col);
}

static void check_against_reference(const char *in, size_t len, int rows, int cols)
{
	struct gh_screen *s = NULL;
	VTerm *ref = vt_new(rows, cols), *out = vt_new(rows, cols);
	assert_int_equal(gh_screen_new(rows, cols, &s), 0);
	for (size_t o = 0; o < len; o += 32768) {
		size_t k = len - o < 32768 ? len - o : 32768;
		gh_screen_feed(s, in + o, k);
		vterm_input_write(ref, in + o, k);
	}
	char *r = NULL;
	size_t n = 0;
	assert_int_equal(gh_screen_render(s, &r, &n), 0);
	vterm_input_write(out, r, n);
	same_screen(ref, out, rows, cols);
	free(r);
	vterm_free(ref);
	vterm_free(out);
	gh_screen_free(s);
}

struct text {
	char *p;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->len + 512 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	va_start(ap, fmt);
	t->len += (size_t)vsnprintf(t->p + t->len, 512, fmt, ap);
	va_end(ap);
}

static void test_bulk_plain_lines(void **state)
{
	struct text t = { 0 };
	for (int i = 0; i < 40000; i++)
		add(&t, "line %06d %s\n", i, i % 7 ? "some text" : "a longer line of text to wrap maybe");
	add(&t, "prompt$ ");
	check_against_reference(t.p, t.len, 24, 80);
	check_against_reference(t.p, t.len, 5, 30); /* lines wrap */
	free(t.p);
}

static void test_bulk_with_colours_and_moves(void **state)
{
	struct text t = { 0 };
	for (int i = 0; i < 30000; i++)
		add(&t, "\x1b[0;%dm%05d\x1b[0m \x1b[1mbold\x1b[K\r\n", 31 + i % 7, i);
	add(&t, "\x1b[34mstill blue at the end");
	check_against_reference(t.p, t.len, 24, 80);
	free(t.p);
}

static void test_bulk_around_modes(void **state)
{
	struct text t = { 0 };
	add(&t, "primary screen\r\n");
	for (int i = 0; i < 20000; i++)
		add(&t, "before %d\r\n", i);
	add(&t, "\x1b[?1049h\x1b[H\x1b[2Jon the alternate screen\r\n");
	for (int i = 0; i < 20000; i++)
		add(&t, "alt %d\r\n", i);
	add(&t, "\x1b[?25l\x1b[5;10Hplaced");
	check_against_reference(t.p, t.len, 24, 80);
	add(&t, "\x1b[?1049l");
	for (int i = 0; i < 20000; i++)
		add(&t, "after %d\r\n", i);
	check_against_reference(t.p, t.len, 24, 80);
	free(t.p);
}

/* A scroll region set before a resize to fewer rows (libvterm 0.1.4 kept
 * it: a memmove of a negative size at the next scroll). Crashes without
 * the reset in gh_screen_resize. */
static void test_scroll_region_then_resize(void **state)
{
	struct gh_screen *s = NULL;
	assert_int_equal(gh_screen_new(18, 4, &s), 0);
	gh_screen_feed(s, "ideeee\x1b[6r", strlen("ideeee\x1b[6r"));
	gh_screen_resize(s, 2, 8);
	gh_screen_feed(s, "q\r\n\n$ \n \n\n\nok", strlen("q\r\n\n$ \n \n\n\nok"));
	char *out = render(s);
	assert_non_null(strstr(out, "ok"));
	free(out);
	gh_screen_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_cursor),
		cmocka_unit_test(test_hostile_output),
		cmocka_unit_test(test_scroll_region_then_resize),
		cmocka_unit_test(test_overwritten_and_cleared),
		cmocka_unit_test(test_colours_and_attributes),
		cmocka_unit_test(test_utf8_and_resize),
		cmocka_unit_test(test_bulk_plain_lines),
		cmocka_unit_test(test_bulk_with_colours_and_moves),
		cmocka_unit_test(test_bulk_around_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
