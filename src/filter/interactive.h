/* Interactive command filter: what the user is about to run in a shell,
 * reconstructed from the terminal screen rather than from keystrokes.
 *
 * The target's output is fed into a libvterm screen (gh_ifilter_output).
 * The user's input (gh_ifilter_input) passes through byte for byte, except
 * Enter (CR, LF, or Ctrl-O, readline's operate-and-get-next, which goes on
 * as CR): the line is held until the echo has settled (the target
 * quiet for a moment, bounded), then the text from the position where the
 * line was started (the prompt's end, captured when the first byte of the
 * line was sent) to the cursor is read off the screen and handed to
 * ops.decide together with the keystroke reconstruction (NULL when editing
 * keys made it unreliable). Allowed: the Enter goes on. Refused: Ctrl-C goes
 * to the target instead (the shell drops the typed line) and the rest of
 * the pending input (a paste) is discarded. Several lines in one input
 * (a paste) are checked one by one, each after the previous one's output
 * settled (so its prompt is on the screen).
 *
 * Full-screen programs (the alternate screen: vim, less, top) are not
 * filtered: input passes untouched and ops.note reports the pause and the
 * resumption. Pure logic plus libvterm: no I/O, no clock (NOW_MS given). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_ifilter;

struct gh_ifilter_ops {
	/* Send user bytes to the target; returns how many it took (less when
	 * its buffer is full: the rest is offered again later). */
	size_t (*to_target)(void *ud, const void *data, size_t len);
	/* Decide a line. SCREEN: the text read off the screen; TYPED: the
	 * keystroke reconstruction or NULL. true: run it. */
	bool (*decide)(void *ud, const char *screen, const char *typed);
	/* "paused" when a full-screen program takes over, "resumed" after. */
	void (*note)(void *ud, const char *what);
	/* One line for the user (not sent to the target). */
	void (*tell)(void *ud, const char *line);
	void *ud;
};

/* Waits (milliseconds). */
#define GH_IFILTER_QUIET_MS 150   /* target silent this long: the echo has settled */
#define GH_IFILTER_MAX_WAIT_MS 3000 /* wait no longer than this for it */
#define GH_IFILTER_MAX_PENDING 65536u /* user bytes held while a line is decided */
#define GH_IFILTER_MAX_LINE 8192u /* longest line read off the screen / typed */

int gh_ifilter_new(int rows, int cols, const struct gh_ifilter_ops *ops, struct gh_ifilter **ret);
/* Log only (no filter applies): Enter is never held, the answer of
 * ops.decide is ignored, and it is called from gh_ifilter_tick once the
 * echo had time to arrive, with the screen from the line's start to the
 * cursor and the keystrokes (a line edited with Tab, arrows... is read off
 * the screen at Enter instead, TYPED NULL; then it may be called from
 * gh_ifilter_input and must not block). */
void gh_ifilter_set_log_only(struct gh_ifilter *f, bool on);
struct gh_ifilter *gh_ifilter_free(struct gh_ifilter *f);

void gh_ifilter_output(struct gh_ifilter *f, const void *data, size_t len, int64_t now_ms);
/* Take up to gh_ifilter_room() bytes of user input; returns how many. */
size_t gh_ifilter_input(struct gh_ifilter *f, const void *data, size_t len, int64_t now_ms);
size_t gh_ifilter_room(const struct gh_ifilter *f);
/* Go on with held input once the wait is over; call often while busy.
 * Lines are decided only here (never inside gh_ifilter_input), so
 * ops.decide may block and poll (gh_ifilter_input may then be called
 * meanwhile: it only queues). */
void gh_ifilter_tick(struct gh_ifilter *f, int64_t now_ms);
/* Log only: report the lines still waiting for their echo now (the
 * session ends). */
void gh_ifilter_flush(struct gh_ifilter *f);
/* True while input is held (call tick within GH_IFILTER_QUIET_MS). */
bool gh_ifilter_busy(const struct gh_ifilter *f);
void gh_ifilter_resize(struct gh_ifilter *f, int rows, int cols);
/* The alternate screen is active (filtering paused). */
bool gh_ifilter_paused(const struct gh_ifilter *f);
