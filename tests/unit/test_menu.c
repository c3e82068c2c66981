#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ssh/menu.h"

/* ---- a strict little terminal ---------------------------------------------
 * Understands exactly what the menu may send: printable UTF-8, CR, LF and
 * CSI sequences ending in H, J, K or m. Anything else (a raw control byte,
 * OSC, a bare ESC) fails the test, and so does writing past the last
 * column: the menu must never rely on auto-wrap. */

#define VT_MAXW 200
#define VT_MAXH 60

struct vt {
	int w, h, x, y;
	char cell[VT_MAXH][VT_MAXW][5]; /* UTF-8 of the char at each cell ("" = blank) */
};

static void vt_clear(struct vt *t)
{
	memset(t->cell, 0, sizeof t->cell);
}

static void vt_init(struct vt *t, int w, int h)
{
	memset(t, 0, sizeof *t);
	t->w = w;
	t->h = h;
}

static int wide(long cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0x1f300 && cp <= 0x1faff);
}

static void vt_feed(struct vt *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r') {
			t->x = 0;
			i++;
		} else if (c == '\n') {
			if (t->y < t->h - 1)
				t->y++;
			i++;
		} else if (c == 0x1b) {
			if (i + 1 >= n || s[i + 1] != '[')
				fail_msg("ESC not followed by [ at %zu", i);
			size_t j = i + 2;
			int p[4] = { 0, 0, 0, 0 }, np = 0;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) {
				if (s[j] == ';') {
					if (++np >= 4)
						fail_msg("too many CSI params");
				} else {
					p[np] = p[np] * 10 + (s[j] - '0');
				}
				j++;
			}
			if (j >= n)
				fail_msg("unterminated CSI");
			char f = s[j];
			if (f == 'H') {
				t->y = (p[0] ? p[0] : 1) - 1;
				t->x = (p[1] ? p[1] : 1) - 1;
				if (t->y >= t->h || t->x >= t->w)
					fail_msg("cursor moved off screen to %d;%d", p[0], p[1]);
			} else if (f == 'J') {
				if (p[0] != 2)
					fail_msg("unexpected J mode %d", p[0]);
				vt_clear(t);
			} else if (f == 'K') {
				for (int x = t->x; x < t->w; x++)
					t->cell[t->y][x][0] = '\0';
			} else if (f != 'm') {
				fail_msg("unexpected CSI final '%c'", f);
			}
			i = j + 1;
		} else if (c < 0x20 || c == 0x7f) {
			fail_msg("raw control byte 0x%02x reached the terminal", c);
		} else {
			size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			long cp = c;
			if (c >= 0x80 && c < 0xc2)
				fail_msg("invalid UTF-8 lead byte 0x%02x", c);
			if (i + len > n)
				fail_msg("UTF-8 cut at end of output");
			if (len > 1) {
				cp = c & (0x3f >> (len - 1));
				for (size_t k = 1; k < len; k++) {
					if (((unsigned char)s[i + k] & 0xc0) != 0x80)
						fail_msg("invalid UTF-8 continuation");
					cp = (cp << 6) | (s[i + k] & 0x3f);
				}
			}
			if ((cp >= 0x80 && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
			    (cp >= 0x2066 && cp <= 0x2069))
				fail_msg("C1 / bidi control U+%04lx reached the terminal", cp);
			int cw = wide(cp) ? 2 : 1;
			/* the last column stays free: no pending-wrap games */
			if (t->x + cw > t->w - 1)
				fail_msg("line %d longer than %d columns", t->y + 1, t->w - 1);
			memcpy(t->cell[t->y][t->x], s + i, len);
			t->cell[t->y][t->x][len] = '\0';
			if (cw == 2)
				t->cell[t->y][t->x + 1][0] = '\0';
			t->x += cw;
			i += len;
		}
	}
}

/* Row Y (0-based) as a string, blanks as spaces, trailing spaces cut. */
static const char *vt_row(struct vt *t, int y)
{
	static char buf[VT_MAXW * 4 + 1];
	size_t o = 0;
	for (int x = 0; x < t->w; x++) {
		const char *c = t->cell[y][x];
		size_t l = strlen(c);
		if (l == 0) {
			buf[o++] = ' ';
		} else {
			memcpy(buf + o, c, l);
			o += l;
		}
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	buf[o] = '\0';
	return buf;
}

static bool vt_contains(struct vt *t, const char *needle)
{
	for (int y = 0; y < t->h; y++)
		if (strstr(vt_row(t, y), needle))
			return true;
	return false;
}

/* ---- helpers ------------------------------------------------------------- */

struct fixture {
	struct gh_menu *m;
	struct vt vt;
};

/* Feed S and render what came out on the fixture's terminal. */
static int feed(struct fixture *f, const char *s, size_t *ret_index)
{
	size_t len = 0;
	int r = gh_menu_feed(f->m, s, strlen(s), ret_index);
	const char *out = gh_menu_output(f->m, &len);
	vt_feed(&f->vt, out, len);
	gh_menu_output_clear(f->m);
	return r;
}

static void start(struct fixture *f, const struct gh_menu_item *items, size_t n, int w, int h)
{
	size_t len = 0;
	f->m = gh_menu_new(items, n, w, h, "Gatehouse \xe2\x80\x94 alice");
	assert_non_null(f->m);
	vt_init(&f->vt, w, h);
	gh_menu_render(f->m);
	const char *out = gh_menu_output(f->m, &len);
	vt_feed(&f->vt, out, len);
	gh_menu_output_clear(f->m);
}

static const struct gh_menu_item small[] = {
	{ 1, "web01", "10.0.0.11", "/prod/web", "frontend" },
	{ 2, "web02", "10.0.0.12", "/prod/web", "frontend" },
	{ 3, "db01", "10.0.1.5", "/prod/db", "PostgreSQL primary" },
	{ 4, "db02", "10.0.1.6", "/prod/db", "Backup replica" },
	{ 5, "bastion-lab", "lab.example.org", "/lab,/eu/paris", "" },
};
#define NSMALL (sizeof small / sizeof small[0])

/* 5,000 assets named host0001..host5000 */
struct big {
	struct gh_menu_item items[5000];
	char names[5000][16], addrs[5000][24], nodes[5000][24];
};

static struct big *big_new(void)
{
	struct big *b = calloc(1, sizeof *b);
	assert_non_null(b);
	for (int i = 0; i < 5000; i++) {
		snprintf(b->names[i], sizeof b->names[i], "host%04d", i + 1);
		snprintf(b->addrs[i], sizeof b->addrs[i], "10.%d.%d.%d", i / 65536, (i / 256) % 256,
			 i % 256);
		snprintf(b->nodes[i], sizeof b->nodes[i], "/dc%d/rack%d", i % 3, i % 40);
		b->items[i] = (struct gh_menu_item){ .id = i + 1, .name = b->names[i],
						     .address = b->addrs[i], .nodes = b->nodes[i],
						     .comment = i % 7 ? "" : "seventh" };
	}
	return b;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_first_screen(void **state)
{
	struct fixture f;
	start(&f, small, NSMALL, 80, 24);
	assert_true(strstr(vt_row(&f.vt, 0), "Gatehouse \xe2\x80\x94 alice") != NULL);
	assert_non_null(strstr(vt_row(&f.vt, 1), "5 assets, filter: (none)"));
	/* row: number, name, address, nodes */
	const char *r1 = vt_row(&f.vt, 2);
	assert_non_null(strstr(r1, "1  web01"));
	assert_non_null(strstr(r1, "10.0.0.11"));
	assert_non_null(strstr(r1, "/prod/web"));
	assert_non_null(strstr(vt_row(&f.vt, 6), "5  bastion-lab"));
	assert_non_null(strstr(vt_row(&f.vt, 6), "/lab,/eu/paris"));
	assert_true(strcmp(vt_row(&f.vt, 23), ">") == 0);
	assert_int_equal(f.vt.y, 23); /* cursor on the prompt line */
	gh_menu_free(f.m);
}

static void test_filter_fields_case_insensitive(void **state)
{
	struct fixture f;
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "WEB", NULL), GH_MENU_CONTINUE);
	assert_int_equal(gh_menu_matches(f.m), 2);
	assert_non_null(strstr(vt_row(&f.vt, 1), "2 assets, filter: web"));
	assert_false(vt_contains(&f.vt, "db01"));
	feed(&f, "\x15" "10.0.1.", NULL); /* address */
	assert_int_equal(gh_menu_matches(f.m), 2);
	feed(&f, "\x15" "eu/par", NULL); /* node path */
	assert_int_equal(gh_menu_matches(f.m), 1);
	feed(&f, "\x15" "postgres", NULL); /* comment */
	assert_int_equal(gh_menu_matches(f.m), 1);
	feed(&f, "\x15" "nothing-like-this", NULL);
	assert_int_equal(gh_menu_matches(f.m), 0);
	assert_true(vt_contains(&f.vt, "no match"));
	/* Backspace / DEL shrink the filter again */
	for (int i = 0; i < 17; i++)
		feed(&f, i % 2 ? "\x7f" : "\x08", NULL);
	assert_int_equal(gh_menu_matches(f.m), NSMALL);
	gh_menu_free(f.m);
}

static void test_pick_by_number(void **state)
{
	struct fixture f;
	size_t idx = 99;
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "3", &idx), GH_MENU_CONTINUE);
	assert_int_equal(gh_menu_matches(f.m), NSMALL); /* digits do not filter */
	assert_int_equal(feed(&f, "\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 2);
	gh_menu_free(f.m);

	/* filter, then pick by the number shown in the filtered list */
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "db\r", &idx), GH_MENU_CONTINUE);
	assert_non_null(strstr(vt_row(&f.vt, 1), "2 assets, filter: db"));
	assert_non_null(strstr(vt_row(&f.vt, 3), "2  db02"));
	assert_true(strcmp(vt_row(&f.vt, 23), ">") == 0); /* prompt cleared */
	assert_int_equal(feed(&f, "2\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 3);
	gh_menu_free(f.m);

	/* out of range: a message, no pick */
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "9\r", &idx), GH_MENU_CONTINUE);
	assert_true(vt_contains(&f.vt, "no row 9"));
	assert_int_equal(feed(&f, "0\r", &idx), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "99999999999999999999999\r", &idx), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "5\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 4);
	gh_menu_free(f.m);
}

static void test_enter_on_single_match(void **state)
{
	struct fixture f;
	size_t idx = 99;
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "backup\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 3);
	gh_menu_free(f.m);

	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "web\r", &idx), GH_MENU_CONTINUE); /* two: becomes the filter */
	assert_int_equal(feed(&f, "\r", &idx), GH_MENU_CONTINUE);    /* still two */
	assert_true(vt_contains(&f.vt, "type a number"));
	assert_int_equal(feed(&f, "02\r", &idx), GH_MENU_PICKED);    /* row 2 of the filtered list */
	assert_int_equal(idx, 1);
	gh_menu_free(f.m);

	/* a committed filter with one match: plain Enter picks */
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "lab", &idx), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 4);
	gh_menu_free(f.m);
}

static void test_quit(void **state)
{
	struct fixture f;
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "q\r", NULL), GH_MENU_QUIT);
	assert_int_equal(feed(&f, "1\r", NULL), GH_MENU_QUIT); /* stays quit */
	gh_menu_free(f.m);
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "web\x03", NULL), GH_MENU_QUIT);
	gh_menu_free(f.m);
	start(&f, small, NSMALL, 80, 24);
	assert_int_equal(feed(&f, "w\x04", NULL), GH_MENU_CONTINUE); /* Ctrl-D with text */
	assert_int_equal(feed(&f, "\x15\x04", NULL), GH_MENU_QUIT);
	gh_menu_free(f.m);
	assert_null(gh_menu_free(NULL));
}

static void test_paging_5000(void **state)
{
	struct big *b = big_new();
	struct fixture f;
	size_t idx = 0;
	start(&f, b->items, 5000, 80, 24);
	assert_non_null(strstr(vt_row(&f.vt, 1), "5000 assets, filter: (none)"));
	assert_non_null(strstr(vt_row(&f.vt, 1), "page 1/250"));
	assert_non_null(strstr(vt_row(&f.vt, 2), "   1  host0001"));
	assert_non_null(strstr(vt_row(&f.vt, 21), "  20  host0020"));
	assert_int_equal(feed(&f, "n\r", NULL), GH_MENU_CONTINUE);
	assert_int_equal(gh_menu_page_start(f.m), 20);
	assert_non_null(strstr(vt_row(&f.vt, 2), "  21  host0021"));
	feed(&f, "\x1b[B", NULL);  /* down */
	feed(&f, "\x1b[6~", NULL); /* PgDn */
	feed(&f, "\x1bOC", NULL);  /* right, application mode */
	assert_int_equal(gh_menu_page_start(f.m), 80);
	feed(&f, "\x1b[A", NULL);
	feed(&f, "p\r", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 40);
	feed(&f, "\x1b[F", NULL); /* End */
	assert_int_equal(gh_menu_page_start(f.m), 4980);
	assert_non_null(strstr(vt_row(&f.vt, 1), "page 250/250"));
	assert_non_null(strstr(vt_row(&f.vt, 21), "5000  host5000"));
	feed(&f, "\x1b[B", NULL); /* past the end: stays */
	assert_int_equal(gh_menu_page_start(f.m), 4980);
	feed(&f, "\x1b[H", NULL); /* Home */
	assert_int_equal(gh_menu_page_start(f.m), 0);
	feed(&f, "\x1b[5~\x1b[D", NULL); /* before the start: stays */
	assert_int_equal(gh_menu_page_start(f.m), 0);

	/* filtering 5,000 items stays fast: 2,000 edits, each a full pass */
	int64_t t0 = gh_mono_ms();
	for (int i = 0; i < 1000; i++) {
		feed(&f, "host4", NULL);
		feed(&f, "\x15", NULL);
	}
	int64_t el = gh_mono_ms() - t0;
	assert_true(el < 3000);
	feed(&f, "rack3", NULL); /* matches rack3, rack30..rack39 */
	assert_int_equal(gh_menu_matches(f.m), 1375);
	feed(&f, "\x15" "SEVENTH\r", NULL);
	assert_int_equal(gh_menu_matches(f.m), 715);
	assert_int_equal(feed(&f, "715\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 4998);
	gh_menu_free(f.m);

	/* a number on another page picks without paging there */
	start(&f, b->items, 5000, 80, 24);
	assert_int_equal(feed(&f, "4321\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 4320);
	gh_menu_free(f.m);
	free(b);
}

static void test_account_choice(void **state)
{
	static const struct gh_menu_item accts[] = {
		{ 0, "deploy", "", "", "" },
		{ 1, "root", "", "", "" },
	};
	struct fixture f;
	size_t idx = 9;
	f.m = gh_menu_new(accts, 2, 80, 24, "web01: choose an account");
	assert_non_null(f.m);
	gh_menu_set_noun(f.m, "account", "accounts");
	vt_init(&f.vt, 80, 24);
	assert_int_equal(feed(&f, "", NULL), GH_MENU_CONTINUE); /* draws */
	assert_non_null(strstr(vt_row(&f.vt, 0), "web01: choose an account"));
	assert_non_null(strstr(vt_row(&f.vt, 1), "2 accounts, filter: (none)"));
	assert_true(strcmp(vt_row(&f.vt, 2), "1  deploy") == 0);
	assert_true(strcmp(vt_row(&f.vt, 3), "2  root") == 0);
	assert_int_equal(feed(&f, "ro\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 1);
	gh_menu_free(f.m);
}

static void test_bytes_split_across_feeds(void **state)
{
	struct big *b = big_new();
	struct fixture f;
	size_t idx = 0;
	start(&f, b->items, 5000, 80, 24);
	/* an arrow key cut in three */
	feed(&f, "\x1b", NULL);
	feed(&f, "[", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 0);
	feed(&f, "B", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 20);
	feed(&f, "\x1b[6", NULL);
	feed(&f, "~", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 40);
	/* CR LF is one Enter; a number typed over several feeds */
	assert_int_equal(feed(&f, "1", &idx), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "2", &idx), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "\r", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 11);
	gh_menu_free(f.m);

	start(&f, b->items, 5000, 80, 24);
	assert_int_equal(feed(&f, "host000\r", &idx), GH_MENU_CONTINUE); /* 9 matches: filter */
	assert_int_equal(feed(&f, "\n", &idx), GH_MENU_CONTINUE);        /* LF alone: Enter */
	assert_int_equal(feed(&f, "3\r\n", &idx), GH_MENU_PICKED);
	assert_int_equal(idx, 2);
	gh_menu_free(f.m);

	/* a multi-byte character cut between feeds lands whole in the prompt */
	static const struct gh_menu_item u[] = { { 1, "caf\xc3\xa9-01", "10.0.0.1", "/", "" },
						 { 2, "cafe-02", "10.0.0.2", "/", "" } };
	start(&f, u, 2, 80, 24);
	feed(&f, "caf\xc3", NULL);
	feed(&f, "\xa9", NULL);
	assert_int_equal(gh_menu_matches(f.m), 1);
	assert_non_null(strstr(vt_row(&f.vt, 23), "> caf\xc3\xa9"));
	feed(&f, "\x7f", NULL); /* one Backspace removes the whole character */
	assert_int_equal(gh_menu_matches(f.m), 2);
	assert_true(strcmp(vt_row(&f.vt, 23), "> caf") == 0);
	gh_menu_free(f.m);
	free(b);
}

static void test_hostile_names_are_escaped(void **state)
{
	static const struct gh_menu_item evil[] = {
		{ 1, "evil\x1b]0;pwned\x07\x1b[2J", "10.0.0.1\r\n\x1b[31m", "/a\x9b" "1m",
		  "comment\x1b[?1049h" },
		{ 2, "rtl\xe2\x80\xae" "gnp.exe", "\xff\xfe\xc0\xaf", "/\xc2\x9b" "31m", "\x7f\x08" },
		{ 3, NULL, NULL, NULL, NULL },
	};
	struct fixture f;
	start(&f, evil, 3, 80, 24); /* vt_feed fails on any raw control */
	assert_non_null(strstr(vt_row(&f.vt, 2), "evil?]0;pwned??[2J"));
	assert_non_null(strstr(vt_row(&f.vt, 2), "10.0.0.1???[31m"));
	assert_non_null(strstr(vt_row(&f.vt, 3), "rtl?gnp.exe"));
	assert_non_null(strstr(vt_row(&f.vt, 3), "????"));
	/* typed control bytes never reach the screen either */
	feed(&f, "\x1b]2;x\x07" "evil", NULL);
	assert_int_equal(gh_menu_matches(f.m), 1);
	gh_menu_free(f.m);

	/* a title with controls too */
	f.m = gh_menu_new(evil, 3, 80, 24, "t\x1b[2Jitle\r\n");
	vt_init(&f.vt, 80, 24);
	feed(&f, "", NULL);
	assert_non_null(strstr(vt_row(&f.vt, 0), "t?[2Jitle??"));
	gh_menu_free(f.m);
}

static void test_layout_fits_every_size(void **state)
{
	static char longname[300], longcomment[400], cjk[200];
	memset(longname, 'N', sizeof longname - 1);
	memset(longcomment, 'c', sizeof longcomment - 1);
	cjk[0] = '\0';
	for (int i = 0; i < 30; i++)
		strcat(cjk, "\xe6\x97\xa5"); /* 日: two columns */
	const struct gh_menu_item items[] = {
		{ 1, longname, "very-long-host-name.internal.example.com", "/a/b/c/d/e/f/g/h/i/j/k",
		  longcomment },
		{ 2, cjk, cjk, cjk, cjk },
		{ 3, "x", "y", "z", "w" },
	};
	static const int sizes[][2] = { { 80, 24 }, { 20, 5 }, { 40, 10 }, { 132, 43 },
					{ 200, 60 }, { 1, 1 }, { 33, 7 } };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		struct fixture f;
		int w = sizes[s][0] < 20 ? 20 : sizes[s][0], h = sizes[s][1] < 5 ? 5 : sizes[s][1];
		f.m = gh_menu_new(items, 3, sizes[s][0], sizes[s][1], longname);
		assert_non_null(f.m);
		vt_init(&f.vt, w, h); /* the menu clamps to at least 20x5 */
		feed(&f, "", NULL);
		feed(&f, longcomment, NULL); /* a long prompt: its tail is shown */
		feed(&f, "\x15\x15", NULL);
		assert_non_null(strstr(vt_row(&f.vt, 2), "1  NNN"));
		gh_menu_free(f.m);
	}
	/* resizing redraws at the new size and keeps the page aligned */
	struct big *b = big_new();
	struct fixture f;
	start(&f, b->items, 5000, 80, 24);
	feed(&f, "\x1b[B\x1b[B", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 40);
	vt_init(&f.vt, 100, 10);
	gh_menu_resize(f.m, 100, 10);
	size_t len = 0;
	const char *out = gh_menu_output(f.m, &len);
	vt_feed(&f.vt, out, len);
	gh_menu_output_clear(f.m);
	assert_int_equal(gh_menu_page_start(f.m), 36); /* 6 rows per page */
	assert_non_null(strstr(vt_row(&f.vt, 2), "  37  host0037"));
	assert_int_equal(f.vt.y, 9);
	gh_menu_free(f.m);
	free(b);
}

static void test_empty_list_and_filter_reset(void **state)
{
	struct fixture f;
	start(&f, NULL, 0, 80, 24);
	assert_non_null(strstr(vt_row(&f.vt, 1), "0 assets"));
	assert_true(vt_contains(&f.vt, "nothing to choose from"));
	assert_int_equal(feed(&f, "\r1\r", NULL), GH_MENU_CONTINUE);
	assert_int_equal(feed(&f, "q\r", NULL), GH_MENU_QUIT);
	gh_menu_free(f.m);

	start(&f, small, NSMALL, 80, 24);
	feed(&f, "prod\r", NULL);
	assert_int_equal(gh_menu_matches(f.m), 4);
	feed(&f, "x", NULL);
	feed(&f, "\x15", NULL); /* clears the prompt: back to the committed filter */
	assert_int_equal(gh_menu_matches(f.m), 4);
	feed(&f, "\x15", NULL); /* on an empty prompt: clears the filter */
	assert_int_equal(gh_menu_matches(f.m), NSMALL);
	assert_non_null(strstr(vt_row(&f.vt, 1), "filter: (none)"));
	gh_menu_free(f.m);
}

/* A failed connect's error stays on the redrawn menu until the user acts
 * (the redraw wiped it at once). */
static void test_notice_stays_until_enter(void **state)
{
	struct fixture f;
	start(&f, small, NSMALL, 80, 24);
	gh_menu_set_notice(f.m, "db01: connection refused\x1b[2J");
	gh_menu_render(f.m);
	feed(&f, "", NULL);
	assert_non_null(strstr(vt_row(&f.vt, 22), "db01: connection refused?[2J"));
	feed(&f, "we", NULL); /* typing a filter keeps it */
	assert_non_null(strstr(vt_row(&f.vt, 22), "db01: connection refused"));
	feed(&f, "\x15", NULL);
	feed(&f, "\x1b[B", NULL); /* paging keeps it */
	assert_non_null(strstr(vt_row(&f.vt, 22), "db01: connection refused"));
	feed(&f, "\r", NULL); /* the next action replaces it */
	assert_null(strstr(vt_row(&f.vt, 22), "connection refused"));
	feed(&f, "x", NULL);
	assert_null(strstr(vt_row(&f.vt, 22), "connection refused"));
	gh_menu_set_notice(f.m, NULL); /* NULL or "": none */
	gh_menu_free(f.m);
}

/* Paging keys and the filter do not undo each other: a lone n/p/q (page and
 * quit commands) does not flash a one-letter filter; Enter committing the
 * typed filter stays on the page the user paged to; Left/Right/Home/End
 * with text typed are line keys, not page keys. Each failed before. */
static void test_paging_keys_do_not_fight_the_filter(void **state)
{
	struct big *b = big_new();
	struct fixture f;
	start(&f, b->items, 5000, 80, 24);
	feed(&f, "n", NULL);
	assert_int_equal(gh_menu_matches(f.m), 5000);
	assert_non_null(strstr(vt_row(&f.vt, 1), "5000 assets, filter: (none)"));
	feed(&f, "\r", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 20);
	feed(&f, "p", NULL);
	assert_int_equal(gh_menu_matches(f.m), 5000);
	assert_int_equal(gh_menu_page_start(f.m), 20);
	feed(&f, "\r", NULL);
	assert_int_equal(gh_menu_page_start(f.m), 0);

	feed(&f, "rack3", NULL);
	assert_int_equal(gh_menu_matches(f.m), 1375);
	feed(&f, "\x1b[C\x1b[D\x1b[H\x1b[F\x1b[1~\x1b[4~", NULL); /* line keys: no paging */
	assert_int_equal(gh_menu_page_start(f.m), 0);
	feed(&f, "\x1b[B\x1b[6~", NULL); /* Down, PgDn: page the live list */
	assert_int_equal(gh_menu_page_start(f.m), 40);
	feed(&f, "\r", NULL); /* commit: same list, same page */
	assert_int_equal(gh_menu_matches(f.m), 1375);
	assert_int_equal(gh_menu_page_start(f.m), 40);
	assert_non_null(strstr(vt_row(&f.vt, 1), "filter: rack3"));
	assert_non_null(strstr(vt_row(&f.vt, 1), "page 3/"));
	feed(&f, "\x1b[C", NULL); /* empty prompt: Right pages again */
	assert_int_equal(gh_menu_page_start(f.m), 60);
	gh_menu_free(f.m);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_screen),
		cmocka_unit_test(test_filter_fields_case_insensitive),
		cmocka_unit_test(test_pick_by_number),
		cmocka_unit_test(test_enter_on_single_match),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_paging_5000),
		cmocka_unit_test(test_account_choice),
		cmocka_unit_test(test_bytes_split_across_feeds),
		cmocka_unit_test(test_hostile_names_are_escaped),
		cmocka_unit_test(test_layout_fits_every_size),
		cmocka_unit_test(test_empty_list_and_filter_reset),
		cmocka_unit_test(test_notice_stays_until_enter),
		cmocka_unit_test(test_paging_keys_do_not_fight_the_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
