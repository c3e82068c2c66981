/* The target menu: an I/O-free state machine behind `ssh alice@gatehouse`.
 *
 * The caller feeds the user's keystrokes (raw pty bytes) with gh_menu_feed
 * and sends what gh_menu_output returns (ANSI, CRLF line ends) to the user.
 * The screen is a title, a header line ("N assets, filter: ...  page i/k"),
 * one page of rows (number, name, address, nodes, then the comment when
 * there is room), a footer with the keys or a message, and a prompt line:
 *   text            filters at once: case-insensitive (ASCII) substring of
 *                   name, address, nodes or comment
 *   text Enter      exactly one match: pick it; otherwise the text becomes
 *                   the filter and the prompt is cleared, so a number can be
 *                   typed next
 *   NUMBER Enter    pick row NUMBER of the list shown (rows are numbered
 *                   1..N within the current filter; digits do not filter)
 *   Enter           with exactly one match: pick it
 *   n Enter, p Enter, arrows, PgDn/PgUp, Home/End    page (a lone n, p or q
 *                   typed does not filter; with text typed, Left/Right/
 *                   Home/End are line keys and do not page; Enter on typed
 *                   text commits it as the filter on the page shown)
 *   q Enter, Ctrl-C, Ctrl-D (empty prompt)            quit
 *   Backspace/DEL erase a character, Ctrl-U clears the prompt (on an empty
 *   prompt: the filter)
 * Filtering is one linear pass over lower-cased copies made once at
 * gh_menu_new, done only when the needle changed; rendering touches only
 * the visible page; a burst of input is drawn once per gh_menu_feed.
 *
 * Every item string is escaped for the terminal before it is drawn
 * (control characters, ESC, DEL, C1 controls, bidi overrides/isolates and
 * invalid UTF-8 become '?'; typed OSC/DCS strings are swallowed)
 * and cut to the width of its column, so no row is wider than the screen.
 *
 * Ownership: ITEMS and their strings are borrowed and must outlive the menu;
 * TITLE is copied. The output buffer belongs to the menu: the pointer from
 * gh_menu_output is valid until the next call on the menu. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct gh_menu_item {
	int64_t id;
	const char *name;    /* NULL is shown as "" */
	const char *address;
	const char *nodes;   /* node path(s), e.g. "/prod/web,/eu" */
	const char *comment;
};

enum {
	GH_MENU_CONTINUE = 0,
	GH_MENU_PICKED = 1,
	GH_MENU_QUIT = 2,
};

struct gh_menu;

/* NULL on out of memory. WIDTH/HEIGHT are clamped to a usable minimum. */
struct gh_menu *gh_menu_new(const struct gh_menu_item *items, size_t n, int width, int height,
			    const char *title);
/* New size; redraws into the output buffer. */
void gh_menu_resize(struct gh_menu *m, int width, int height);
/* Feed keystrokes; screen updates go to the output buffer. Returns
 * GH_MENU_CONTINUE, GH_MENU_PICKED (*ret_index: index into ITEMS) or
 * GH_MENU_QUIT; bytes after a pick or quit are ignored. A negative GH_E*
 * value on out of memory. */
int gh_menu_feed(struct gh_menu *m, const char *in, size_t len, size_t *ret_index);
/* Pending screen output (borrowed, not NUL-terminated). */
const char *gh_menu_output(struct gh_menu *m, size_t *ret_len);
void gh_menu_output_clear(struct gh_menu *m);
/* Full redraw into the output buffer. */
void gh_menu_render(struct gh_menu *m);
/* Words for the header, e.g. ("account", "accounts"); default ("asset",
 * "assets"). Borrowed: pass string literals. */
void gh_menu_set_noun(struct gh_menu *m, const char *one, const char *many);
/* A line shown in the footer (escaped, cut to the width) until the next
 * Enter, e.g. why the last connect failed. Copied; NULL or "" clears it. */
void gh_menu_set_notice(struct gh_menu *m, const char *text);
/* Number of items matching the current filter (tests). */
size_t gh_menu_matches(const struct gh_menu *m);
/* First row index (into the matches) of the current page (tests). */
size_t gh_menu_page_start(const struct gh_menu *m);
struct gh_menu *gh_menu_free(struct gh_menu *m);
