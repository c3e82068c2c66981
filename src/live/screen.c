#include "live/screen.h"

#include "core/vtguard.h"
#include "core/error.h"
#include "core/buf.h"
#include "core/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

#define MAX_ROWS 500
#define MAX_COLS 1000
#define PENDING (256u * 1024)

struct gh_screen {
	VTerm *vt;
	struct gh_vtguard guard; /* the only path into VT (core/vtguard.h) */
	VTermScreen *scr;
	int rows, cols;
	/* output not yet emulated (see settle) */
	unsigned char *pend;
	size_t plen;
};

static void vt_put(void *ud, const char *p, size_t n)
{
	vterm_input_write(ud, p, n);
}

static void vt_write(struct gh_screen *s, const char *p, size_t n)
{
	gh_vtguard_feed(&s->guard, p, n, vt_put, s->vt);
}

static void put(struct gh_buf *o, const void *data, size_t n)
{
	(void)gh_buf_put(o, data, n);
}

static void puts_(struct gh_buf *o, const char *s) { put(o, s, strlen(s)); }

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Replies the emulator would send to the host (device attributes, ...): a
 * watcher's copy of the screen answers nobody. */
static void discard_output(const char *s, size_t len, void *user)
{
	(void)s;
	(void)len;
	(void)user;
}

int gh_screen_new(int rows, int cols, struct gh_screen **ret)
{
	struct gh_screen *s = calloc(1, sizeof *s);
	if (!s)
		return GH_ENOMEM;
	s->pend = malloc(PENDING);
	if (!s->pend) {
		free(s);
		return GH_ENOMEM;
	}
	s->rows = clamp(rows, 1, MAX_ROWS);
	s->cols = clamp(cols, 2, MAX_COLS); /* libvterm 0.1.4 crashes on a wide glyph in 1 column */
	*ret = s;
	return 0;
}

/* The emulator is made when output first has to be emulated (a watcher,
 * a resize, or PENDING full): most sessions are never watched, and the
 * screen buffers (two, with the alternate screen) are the bulk of a
 * session's memory. */
static int ensure_vt(struct gh_screen *s)
{
	if (s->vt)
		return 0;
	s->vt = vterm_new(s->rows, s->cols);
	if (!s->vt)
		return GH_ENOMEM;
	vterm_set_utf8(s->vt, 1);
	vterm_output_set_callback(s->vt, discard_output, NULL);
	s->scr = vterm_obtain_screen(s->vt);
	vterm_screen_enable_altscreen(s->scr, 1);
	vterm_screen_reset(s->scr, 1);
	return 0;
}

struct gh_screen *gh_screen_free(struct gh_screen *s)
{
	if (s) {
		if (s->vt)
			vterm_free(s->vt);
		free(s->pend);
		free(s);
	}
	return NULL;
}

/* Length of the run at P that cannot change the screen once enough lines
 * follow it: text, C0 controls other than SO/SI/ESC, and CSI sequences
 * without private markers or intermediates that only move the cursor,
 * erase, insert/delete, scroll or set the pen (SGR). Modes, scroll
 * regions, tab stops, saved cursors, charsets and strings are not. */
static size_t droppable(const unsigned char *p, size_t n)
{
	static const char finals[] = "@ABCDEFGHIJKLMPSTXZ`abcdefmn";
	size_t i = 0;
	while (i < n) {
		unsigned char b = p[i];
		if (b == 0x0e || b == 0x0f)
			return i;
		if (b != 0x1b) {
			i++;
			continue;
		}
		if (i + 1 >= n || p[i + 1] != '[')
			return i;
		size_t j = i + 2;
		while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' || p[j] == ':'))
			j++;
		if (j >= n || !strchr(finals, p[j]) || p[j] == '\0')
			return i;
		i = j + 1;
	}
	return n;
}

/* Feed the SGR sequences of P (a droppable run): the pen they leave
 * applies to what follows. */
static void feed_sgr(struct gh_screen *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++) {
		if (p[i] != 0x1b || p[i + 1] != '[')
			continue;
		size_t j = i + 2;
		while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ';' || p[j] == ':'))
			j++;
		if (j < n && p[j] == 'm')
			vt_write(s, (const char *)p + i, j + 1 - i);
		i = j;
	}
}

/* Emulate the pending output. Emulating every byte costs far more than
 * relaying it (libvterm moves the whole screen on each scroll), so bulk
 * output is thinned first: a prefix followed by a carriage return and then
 * 2 x rows + 2 more lines, and made of nothing but droppable runs (above),
 * would scroll off entirely, so only its SGR sequences are fed. Exact unless a scroll region
 * keeps lines from scrolling; otherwise what a watcher sees is what the
 * user's terminal shows. */
static int settle(struct gh_screen *s)
{
	const unsigned char *p = s->pend;
	size_t n = s->plen, need = 2 * (size_t)s->rows + 2, cnt = 0, cut = 0, pos = 0, i = n;
	if (n == 0)
		return 0;
	if (ensure_vt(s) < 0) {
		s->plen = 0; /* no emulator: the output cannot be shown, only dropped */
		return GH_ENOMEM;
	}
	/* the kept part must start a line with a known column: a CR followed
	 * by NEED newlines; the cut is the start of that CR's line */
	for (; i > 0 && cnt < need; i--)
		if (p[i - 1] == '\n')
			cnt++;
	while (i > 0 && p[i - 1] != '\r')
		i--;
	while (i > 0 && p[i - 1] != '\n')
		i--;
	if (cnt == need)
		cut = i;
	while (pos < cut) {
		size_t x = pos + droppable(p + pos, cut - pos);
		size_t y = x;
		while (y > pos && p[y - 1] != '\n')
			y--;
		if (y > pos) {
			feed_sgr(s, p + pos, y - pos);
			pos = y;
		}
		if (pos >= cut)
			break;
		/* something that matters: emulate through the end of its line */
		size_t z = x > pos ? x : pos + 1;
		while (z < cut && p[z] != '\n')
			z++;
		if (z < cut)
			z++;
		vt_write(s, (const char *)p + pos, z - pos);
		pos = z;
	}
	if (n > pos)
		vt_write(s, (const char *)p + pos, n - pos);
	s->plen = 0;
	return 0;
}

void gh_screen_feed(struct gh_screen *s, const void *data, size_t len)
{
	const char *d = data;
	while (s && len) {
		size_t k = PENDING - s->plen < len ? PENDING - s->plen : len;
		memcpy(s->pend + s->plen, d, k);
		s->plen += k;
		d += k;
		len -= k;
		if (s->plen == PENDING)
			settle(s);
	}
}

void gh_screen_resize(struct gh_screen *s, int rows, int cols)
{
	if (!s)
		return;
	settle(s);
	s->rows = clamp(rows, 1, MAX_ROWS);
	s->cols = clamp(cols, 2, MAX_COLS); /* libvterm 0.1.4 crashes on a wide glyph in 1 column */
	if (s->vt) {
		vterm_set_size(s->vt, s->rows, s->cols);
		/* libvterm 0.1.4 keeps a scroll region beyond the new size (its
		 * next scroll memmoves a negative size): reset it, cursor kept */
		vterm_input_write(s->vt, "\x1b" "7\x1b[r\x1b" "8", 7);
	}
}

static void put_color(struct gh_buf *o, const VTermColor *c, bool fg)
{
	char buf[32];
	if (fg ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
		return;
	if (VTERM_COLOR_IS_INDEXED(c)) {
		unsigned idx = c->indexed.idx;
		if (idx < 8)
			snprintf(buf, sizeof buf, ";%u", (fg ? 30 : 40) + idx);
		else if (idx < 16)
			snprintf(buf, sizeof buf, ";%u", (fg ? 90 : 100) + idx - 8);
		else
			snprintf(buf, sizeof buf, ";%u;5;%u", fg ? 38 : 48, idx);
	} else {
		snprintf(buf, sizeof buf, ";%u;2;%u;%u;%u", fg ? 38 : 48, c->rgb.red, c->rgb.green,
			 c->rgb.blue);
	}
	puts_(o, buf);
}

/* The SGR sequence of CELL's attributes and colours, from a reset. */
static void put_sgr(struct gh_buf *o, const VTermScreenCell *c)
{
	puts_(o, "\x1b[0");
	if (c->attrs.bold)
		puts_(o, ";1");
	if (c->attrs.italic)
		puts_(o, ";3");
	if (c->attrs.underline)
		puts_(o, ";4");
	if (c->attrs.blink)
		puts_(o, ";5");
	if (c->attrs.reverse)
		puts_(o, ";7");
	if (c->attrs.strike)
		puts_(o, ";9");
	put_color(o, &c->fg, true);
	put_color(o, &c->bg, false);
	puts_(o, "m");
}

static bool same_look(const VTermScreenCell *a, const VTermScreenCell *b)
{
	return a->attrs.bold == b->attrs.bold && a->attrs.italic == b->attrs.italic &&
	       a->attrs.underline == b->attrs.underline && a->attrs.blink == b->attrs.blink &&
	       a->attrs.reverse == b->attrs.reverse && a->attrs.strike == b->attrs.strike &&
	       !memcmp(&a->fg, &b->fg, sizeof a->fg) && !memcmp(&a->bg, &b->bg, sizeof a->bg);
}

static bool blank(const VTermScreenCell *c)
{
	return (c->chars[0] == 0 || c->chars[0] == ' ') && VTERM_COLOR_IS_DEFAULT_BG(&c->bg) &&
	       !c->attrs.reverse && !c->attrs.underline && !c->attrs.strike;
}

/* CP as UTF-8; '?' for what is not a scalar value. */
static void put_utf8(struct gh_buf *o, uint32_t cp)
{
	char b[GH_UTF8_MAX];
	size_t n = gh_utf8_encode(cp, b);
	if (n == 0) {
		b[0] = '?';
		n = 1;
	}
	put(o, b, n);
}

int gh_screen_render(struct gh_screen *s, char **ret, size_t *ret_len)
{
	struct gh_buf o = { 0 };
	VTermScreenCell cell, prev;
	VTermPos pos;

	int e = settle(s);
	if (e == 0)
		e = ensure_vt(s);
	if (e < 0)
		return e;
	puts_(&o, "\x1b[0m\x1b[H\x1b[2J");
	for (pos.row = 0; pos.row < s->rows; pos.row++) {
		/* the last cell worth drawing: trailing blanks are left out */
		int last = -1;
		for (pos.col = 0; pos.col < s->cols; pos.col++)
			if (vterm_screen_get_cell(s->scr, pos, &cell) && !blank(&cell))
				last = pos.col;
		if (last < 0)
			continue;
		gh_buf_printf(&o, "\x1b[%d;1H", pos.row + 1);
		bool have_prev = false;
		for (pos.col = 0; pos.col <= last; pos.col++) {
			if (!vterm_screen_get_cell(s->scr, pos, &cell))
				continue;
			if (cell.chars[0] == (uint32_t)-1) /* right half of a wide character */
				continue;
			if (!have_prev || !same_look(&cell, &prev))
				put_sgr(&o, &cell);
			prev = cell;
			have_prev = true;
			if (cell.chars[0] == 0)
				puts_(&o, " ");
			for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i]; i++)
				put_utf8(&o, cell.chars[i]);
			if (cell.width > 1)
				pos.col += cell.width - 1;
		}
		puts_(&o, "\x1b[0m");
	}
	vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
	gh_buf_printf(&o, "\x1b[%d;%dH", pos.row + 1, pos.col + 1);
	size_t len = 0;
	char *text = gh_buf_take(&o, &len);
	if (!text) {
		e = o.err;
		gh_buf_free(&o);
		return e;
	}
	*ret = text;
	*ret_len = len;
	return 0;
}
