/* Screen: a terminal emulator (libvterm) fed with a session's output, so a
 * watcher who attaches mid-session first sees the current screen.
 *
 * gh_screen_render writes the screen as ANSI text for a terminal: reset,
 * clear, every row with its attributes (bold, underline, italic, blink,
 * reverse, strike) and colours (16, 256 and RGB), then the cursor position.
 * Output is buffered (256 KiB) and emulated when the buffer is full or the
 * screen is drawn or resized; bulk output that would scroll off unseen is
 * thinned first (see settle in screen.c), so a session's throughput does
 * not depend on the emulator.
 * Not thread-safe; one screen per session. */
#pragma once
#include <stddef.h>

struct gh_screen;

/* ROWS x COLS (clamped to 1..500 x 1..1000). GH_ENOMEM. */
int gh_screen_new(int rows, int cols, struct gh_screen **ret);
/* Accepts NULL, returns NULL. */
struct gh_screen *gh_screen_free(struct gh_screen *s);
void gh_screen_feed(struct gh_screen *s, const void *data, size_t len);
void gh_screen_resize(struct gh_screen *s, int rows, int cols);
/* The screen as ANSI text: malloc'd in *RET (not NUL-terminated), length in
 * *RET_LEN. GH_ENOMEM. */
int gh_screen_render(struct gh_screen *s, char **ret, size_t *ret_len);
