/* Interactive command filter (interactive.h). */
#include "filter/interactive.h"

#include "core/vtguard.h"
#include "core/error.h"
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <vterm.h>

enum state {
	ST_IDLE = 0,  /* passing input */
	ST_ECHO,      /* Enter held: waiting for the echo to settle */
	ST_PROMPT,    /* a line went (or was cancelled): waiting for the next prompt */
};

/* The screen: libvterm's state layer (parsing, cursor, modes) with a light
 * text-only cell store of our own: rows are separately allocated so a
 * scroll moves row pointers, not cells (libvterm's screen layer copies
 * every cell, with colours, on each scrolled line: several times slower
 * on bulk output). A cell holds one code point (0: blank; (uint32_t)-1:
 * right half of a wide character); attributes are not kept. While the
 * alternate screen is active nothing is stored (filtering pauses), so the
 * main screen is as the program found it when it comes back. */
struct gh_ifilter {
	struct gh_ifilter_ops ops;
	VTerm *vt;
	VTermState *vs;
	uint32_t **cells;        /* rows x cols */
	int rows, cols;
	bool alt;
	bool alt_noted;
	bool log_only;
	bool ctrl_x;             /* the last byte of a line sent was Ctrl-X */
	/* output sanitiser: where we are in an escape sequence */
	struct gh_vtguard guard; /* in front of libvterm */

	enum state st;
	int64_t since_ms;        /* when the state began */
	int64_t last_out_ms;     /* last target output */

	/* the line being typed */
	bool started;
	int start_row, start_col; /* cursor when its first byte went */
	char typed[GH_IFILTER_MAX_LINE];
	size_t n_typed;
	bool typed_valid;        /* no editing keys made the reconstruction unreliable */
	char enter[2];           /* the Enter bytes held (CR, LF or CR LF) */
	size_t n_enter;

	/* log only: lines sent whose echo is awaited (row, col: their start) */
	struct logq {
		int row, col;
		char *typed;
	} logq[16];
	size_t n_logq;
	int64_t logq_since;

	/* user input not yet processed */
	unsigned char *pend;
	size_t n_pend;
};

static int cb_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	struct gh_ifilter *f = user;
	if (prop == VTERM_PROP_ALTSCREEN)
		f->alt = val->boolean != 0;
	return 1;
}

/* Clip R to the screen; false when empty. */
static bool clip(const struct gh_ifilter *f, VTermRect *r)
{
	if (r->start_row < 0)
		r->start_row = 0;
	if (r->start_col < 0)
		r->start_col = 0;
	if (r->end_row > f->rows)
		r->end_row = f->rows;
	if (r->end_col > f->cols)
		r->end_col = f->cols;
	return r->start_row < r->end_row && r->start_col < r->end_col;
}

static int cb_putglyph(VTermGlyphInfo *info, VTermPos pos, void *user)
{
	struct gh_ifilter *f = user;
	if (f->alt || pos.row < 0 || pos.row >= f->rows || pos.col < 0 || pos.col >= f->cols)
		return 1;
	f->cells[pos.row][pos.col] = info->chars[0];
	for (int i = 1; i < info->width && pos.col + i < f->cols; i++)
		f->cells[pos.row][pos.col + i] = (uint32_t)-1;
	return 1;
}

static int cb_erase(VTermRect rect, int selective, void *user)
{
	struct gh_ifilter *f = user;
	if (f->alt || !clip(f, &rect))
		return 1;
	for (int r = rect.start_row; r < rect.end_row; r++)
		memset(f->cells[r] + rect.start_col, 0,
		       (size_t)(rect.end_col - rect.start_col) * sizeof **f->cells);
	return 1;
}

static int cb_moverect(VTermRect dest, VTermRect src, void *user)
{
	struct gh_ifilter *f = user;
	if (f->alt)
		return 1;
	int h = src.end_row - src.start_row, w = src.end_col - src.start_col;
	if (h <= 0 || w <= 0 || src.start_row < 0 || dest.start_row < 0 || src.start_col < 0 ||
	    dest.start_col < 0 || src.start_row + h > f->rows || dest.start_row + h > f->rows ||
	    src.start_col + w > f->cols || dest.start_col + w > f->cols)
		return 1;
	/* rows in the order that never reads a row already overwritten */
	bool down = dest.start_row > src.start_row;
	for (int i = 0; i < h; i++) {
		int k = down ? h - 1 - i : i;
		memmove(f->cells[dest.start_row + k] + dest.start_col,
			f->cells[src.start_row + k] + src.start_col, (size_t)w * sizeof **f->cells);
	}
	return 1;
}

/* Line starts waiting to be read moved by DELTA rows (a scroll). */
static void rows_moved(struct gh_ifilter *f, int delta)
{
	f->start_row += delta;
	for (size_t i = 0; i < f->n_logq; i++)
		f->logq[i].row += delta;
}

static int cb_scrollrect(VTermRect rect, int downward, int rightward, void *user)
{
	struct gh_ifilter *f = user;
	if (f->alt)
		return 1;
	/* full-width scrolls by rotating row pointers; anything else the
	 * state turns into moverect + erase (return 0) */
	if (rightward || rect.start_col != 0 || rect.end_col != f->cols || !clip(f, &rect))
		return 0;
	int h = rect.end_row - rect.start_row, n = downward < 0 ? -downward : downward;
	if (n >= h) {
		cb_erase(rect, 0, f);
	} else if (downward > 0) { /* content moves up */
		uint32_t *tmp[n];
		memcpy(tmp, f->cells + rect.start_row, (size_t)n * sizeof *tmp);
		memmove(f->cells + rect.start_row, f->cells + rect.start_row + n,
			(size_t)(h - n) * sizeof *tmp);
		memcpy(f->cells + rect.end_row - n, tmp, (size_t)n * sizeof *tmp);
		for (int i = 0; i < n; i++)
			memset(tmp[i], 0, (size_t)f->cols * sizeof **f->cells);
	} else if (downward < 0) { /* content moves down */
		uint32_t *tmp[n];
		memcpy(tmp, f->cells + rect.end_row - n, (size_t)n * sizeof *tmp);
		memmove(f->cells + rect.start_row + n, f->cells + rect.start_row,
			(size_t)(h - n) * sizeof *tmp);
		memcpy(f->cells + rect.start_row, tmp, (size_t)n * sizeof *tmp);
		for (int i = 0; i < n; i++)
			memset(tmp[i], 0, (size_t)f->cols * sizeof **f->cells);
	}
	/* a line being typed inside the region moved with it */
	if (downward > 0 && f->start_row >= rect.start_row && f->start_row < rect.end_row)
		rows_moved(f, -n);
	return 1;
}

static void cells_free(uint32_t **cells, int rows)
{
	for (int r = 0; cells && r < rows; r++)
		free(cells[r]);
	free(cells);
}

static uint32_t **cells_new(int rows, int cols)
{
	uint32_t **c = calloc((size_t)rows, sizeof *c);
	for (int r = 0; c && r < rows; r++)
		if (!(c[r] = calloc((size_t)cols, sizeof **c))) {
			cells_free(c, rows);
			return NULL;
		}
	return c;
}

static const VTermStateCallbacks state_cbs = {
	.putglyph = cb_putglyph,
	.scrollrect = cb_scrollrect,
	.moverect = cb_moverect,
	.erase = cb_erase,
	.settermprop = cb_settermprop,
};

static void discard_output(const char *s, size_t len, void *user)
{
	(void)s;
	(void)len;
	(void)user;
}

int gh_ifilter_new(int rows, int cols, const struct gh_ifilter_ops *ops, struct gh_ifilter **ret)
{
	if (rows < 2 || cols < 2 || rows > 1000 || cols > 1000 || !ops || !ops->to_target ||
	    !ops->decide)
		return GH_EINVAL;
	struct gh_ifilter *f = calloc(1, sizeof *f);
	if (!f)
		return GH_ENOMEM;
	f->ops = *ops;
	f->rows = rows;
	f->cols = cols;
	f->pend = malloc(GH_IFILTER_MAX_PENDING);
	f->vt = vterm_new(rows, cols);
	f->cells = cells_new(rows, cols);
	if (!f->pend || !f->vt || !f->cells) {
		gh_ifilter_free(f);
		return GH_ENOMEM;
	}
	vterm_set_utf8(f->vt, 1);
	vterm_output_set_callback(f->vt, discard_output, NULL);
	f->vs = vterm_obtain_state(f->vt);
	vterm_state_set_callbacks(f->vs, &state_cbs, f);
	vterm_state_reset(f->vs, 1);
	f->typed_valid = true;
	*ret = f;
	return 0;
}

struct gh_ifilter *gh_ifilter_free(struct gh_ifilter *f)
{
	if (!f)
		return NULL;
	if (f->vt)
		vterm_free(f->vt);
	cells_free(f->cells, f->rows);
	for (size_t i = 0; i < f->n_logq; i++)
		free(f->logq[i].typed);
	free(f->pend);
	free(f);
	return NULL;
}

static void vt_write(void *ud, const char *p, size_t n)
{
	vterm_input_write(ud, p, n);
}

/* Target output reaches libvterm only through the guard (core/vtguard.h). */
static void feed(struct gh_ifilter *f, const unsigned char *p, size_t len)
{
	gh_vtguard_feed(&f->guard, p, len, vt_write, f->vt);
}

void gh_ifilter_output(struct gh_ifilter *f, const void *data, size_t len, int64_t now_ms)
{
	if (!len)
		return;
	feed(f, data, len);
	f->last_out_ms = now_ms;
	if (f->alt != f->alt_noted) {
		f->alt_noted = f->alt;
		if (f->ops.note)
			f->ops.note(f->ops.ud, f->alt ? "paused" : "resumed");
		if (!f->alt) { /* back at the shell: whatever was typed is unknown */
			f->started = false;
			f->n_typed = 0;
			f->typed_valid = true;
		}
	}
}

void gh_ifilter_resize(struct gh_ifilter *f, int rows, int cols)
{
	if (rows < 2 || cols < 2 || rows > 1000 || cols > 1000)
		return;
	uint32_t **nc = cells_new(rows, cols);
	if (!nc)
		return; /* keep the old size: reads stay within it */
	for (int r = 0; r < rows && r < f->rows; r++)
		memcpy(nc[r], f->cells[r], (size_t)(cols < f->cols ? cols : f->cols) * sizeof **nc);
	cells_free(f->cells, f->rows);
	f->cells = nc;
	f->rows = rows;
	f->cols = cols;
	vterm_set_size(f->vt, rows, cols);
	/* libvterm 0.1.4 keeps a scroll region set before a resize; one
	 * beyond the new size makes its next scroll memmove a negative size.
	 * Reset it (DECSTBM), the cursor saved and restored around it. */
	vterm_input_write(f->vt, "\x1b" "7\x1b[r\x1b" "8", 7);
}

void gh_ifilter_set_log_only(struct gh_ifilter *f, bool on)
{
	f->log_only = on;
}

bool gh_ifilter_paused(const struct gh_ifilter *f)
{
	return f->alt;
}

bool gh_ifilter_busy(const struct gh_ifilter *f)
{
	return f->st != ST_IDLE || f->n_pend > 0 || f->n_logq > 0;
}

size_t gh_ifilter_room(const struct gh_ifilter *f)
{
	return GH_IFILTER_MAX_PENDING - f->n_pend;
}

/* The text of screen row ROW from column COL, trailing blanks trimmed,
 * appended to OUT (capacity CAP, NUL-terminated). Returns the number of
 * columns the row's text used (COL + its width). */
static int row_text(struct gh_ifilter *f, int row, int col, char *out, size_t *n, size_t cap)
{
	size_t start = *n, last = *n;
	int used = col;
	for (int c = col; c < f->cols; c++) {
		uint32_t ch = f->cells[row][c];
		if (ch == (uint32_t)-1) /* right half of a wide character */
			continue;
		if (ch == 0 || ch == ' ') {
			if (*n + 1 < cap)
				out[(*n)++] = ' ';
			continue;
		}
		char u[GH_UTF8_MAX];
		size_t m = gh_utf8_encode(ch, u);
		if (*n + m < cap) {
			memcpy(out + *n, u, m);
			*n += m;
		}
		last = *n;
		used = c + 1;
	}
	(void)start;
	*n = last;
	out[*n] = 0;
	return used;
}

/* The text from ROW, COL to the cursor row. */
static void screen_text(struct gh_ifilter *f, int row, int col, char *out, size_t cap)
{
	VTermState *vs = f->vs;
	VTermPos cur;
	vterm_state_get_cursorpos(vs, &cur);
	size_t n = 0;
	out[0] = 0;
	/* never trust positions from the terminal state blindly */
	if (cur.row >= f->rows)
		cur.row = f->rows - 1;
	if (cur.row < 0)
		cur.row = 0;
	if (col < 0)
		col = 0;
	if (col > f->cols)
		col = f->cols;
	if (row < 0) { /* scrolled off the top: read what is left */
		row = 0;
		col = 0;
	}
	if (row > cur.row) { /* the screen was cleared: the cursor row only */
		row = cur.row;
		col = 0;
	}
	for (int r = row; r <= cur.row && r < f->rows; r++) {
		int used = row_text(f, r, r == row ? col : 0, out, &n, cap);
		/* a row filled to the margin continues on the next one */
		if (used < f->cols && r < cur.row && n + 1 < cap) {
			out[n++] = ' ';
			out[n] = 0;
		}
	}
	/* trim both ends */
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = 0;
	size_t s = 0;
	while (out[s] == ' ')
		s++;
	if (s)
		memmove(out, out + s, n - s + 1);
}

/* The line from the start position to the cursor row. */
static void screen_line(struct gh_ifilter *f, char *out, size_t cap)
{
	screen_text(f, f->start_row, f->start_col, out, cap);
}

#define SCREEN_CAP (GH_IFILTER_MAX_LINE * 4 + 8)

/* Log only: the lines whose echo has had time to arrive go to ops.decide
 * with the screen text from their start to the cursor (the glue logs a
 * line only when that text shows it: not-echoed input is never logged). */
static void logq_flush(struct gh_ifilter *f, int64_t now_ms, bool all)
{
	if (!f->n_logq)
		return;
	int64_t ref = f->last_out_ms > f->logq_since ? f->last_out_ms : f->logq_since;
	if (!all && now_ms - ref < GH_IFILTER_QUIET_MS &&
	    now_ms - f->logq_since < GH_IFILTER_MAX_WAIT_MS)
		return;
	char *screen = malloc(SCREEN_CAP);
	for (size_t i = 0; i < f->n_logq; i++) {
		if (screen) {
			screen_text(f, f->logq[i].row, f->logq[i].col, screen, SCREEN_CAP);
			f->ops.decide(f->ops.ud, screen, f->logq[i].typed);
		}
		free(f->logq[i].typed);
	}
	f->n_logq = 0;
	free(screen);
}

static void line_reset(struct gh_ifilter *f)
{
	f->started = false;
	f->ctrl_x = false;
	f->n_typed = 0;
	f->typed_valid = true;
	f->n_enter = 0;
}

static void set_state(struct gh_ifilter *f, enum state st, int64_t now_ms)
{
	f->st = st;
	f->since_ms = now_ms;
}

static void consume(struct gh_ifilter *f, size_t n)
{
	memmove(f->pend, f->pend + n, f->n_pend - n);
	f->n_pend -= n;
}

/* Has the target settled since the state began? */
static bool settled(const struct gh_ifilter *f, int64_t now_ms)
{
	if (now_ms - f->since_ms >= GH_IFILTER_MAX_WAIT_MS)
		return true;
	int64_t ref = f->last_out_ms > f->since_ms ? f->last_out_ms : f->since_ms;
	return now_ms - ref >= GH_IFILTER_QUIET_MS;
}

static void decide_line(struct gh_ifilter *f, int64_t now_ms)
{
	char *screen = malloc(GH_IFILTER_MAX_LINE * 4 + 8);
	bool ok = false;
	if (screen) {
		screen_line(f, screen, GH_IFILTER_MAX_LINE * 4 + 8);
		f->typed[f->n_typed < sizeof f->typed ? f->n_typed : sizeof f->typed - 1] = 0;
		ok = f->ops.decide(f->ops.ud, screen, f->typed_valid ? f->typed : NULL);
		free(screen);
	}
	if (ok) {
		/* the Enter was consumed into f->enter; the target has room for
		 * 2 bytes or the line waits */
		if (f->ops.to_target(f->ops.ud, f->enter, f->n_enter) < f->n_enter)
			return; /* unlikely; retried at the next tick */
	} else {
		f->ops.to_target(f->ops.ud, "\x03", 1);
		if (f->n_pend > 0) {
			f->n_pend = 0;
			if (f->ops.tell)
				f->ops.tell(f->ops.ud, "the rest of the input was discarded");
		}
	}
	line_reset(f);
	set_state(f, ST_PROMPT, now_ms);
}

/* The keys readline binds by default to accept-line (CR = Ctrl-M,
 * LF = Ctrl-J) or operate-and-get-next (Ctrl-O: runs the line and puts the
 * next history line at the prompt): each runs the line, so each is an
 * Enter to the filter. */
static bool is_enter(unsigned char c)
{
	return c == '\r' || c == '\n' || c == 0x0f;
}

/* The Enter at PEND (N > 0 bytes): how many bytes it is (CR LF is one),
 * and in OUT what goes to the target for it. Ctrl-O goes as CR: the next
 * line then starts empty, not pre-filled by readline with a history line
 * the filter would not see typed. */
static size_t enter_bytes(const unsigned char *pend, size_t n, char out[2])
{
	size_t k = pend[0] == '\r' && n > 1 && pend[1] == '\n' ? 2 : 1;
	out[0] = pend[0] == 0x0f ? '\r' : (char)pend[0];
	out[1] = '\n';
	return k;
}

/* Ctrl-X Ctrl-E (readline's edit-and-execute-command, bound by default)
 * opens an editor on the line (full screen: the filter pauses) and runs
 * what it holds when the editor exits: a line the filter never sees.
 * Under a filter the Ctrl-E of that sequence in the next RUN bytes goes
 * as Ctrl-G, which aborts the Ctrl-X prefix, and the user is told. */
static void no_edit_and_execute(struct gh_ifilter *f, size_t run)
{
	for (size_t i = 0; i < run && !f->log_only; i++) {
		bool after_x = i > 0 ? f->pend[i - 1] == 0x18 : f->ctrl_x;
		if (f->pend[i] != 0x05 || !after_x)
			continue;
		f->pend[i] = 0x07;
		if (f->ops.tell)
			f->ops.tell(f->ops.ud, "edit-and-execute (Ctrl-X Ctrl-E) is not available "
					       "under a command filter");
	}
}

/* DECIDE false: never call ops.decide (input arrives inside the caller's
 * callbacks; decisions may block, so they happen in gh_ifilter_tick).
 * Long (about 130 lines): the filter's state machine in one bounded loop,
 * a block per state (echo, prompt, idle), so that a transition is a
 * `continue` and the states' order is read top to bottom. */
static void process(struct gh_ifilter *f, int64_t now_ms, bool decide)
{
	for (int guard = 0; guard < 100000; guard++) {
		if (f->st == ST_ECHO) {
			if (!decide || !settled(f, now_ms))
				return;
			decide_line(f, now_ms);
			if (f->st == ST_ECHO)
				return;
			continue;
		}
		if (f->st == ST_PROMPT) {
			/* signals (Ctrl-C, Ctrl-Z, Ctrl-\) never wait: a program
			 * printing without pause must be stoppable at once */
			if (f->n_pend > 0 && (f->pend[0] == 0x03 || f->pend[0] == 0x1a ||
					      f->pend[0] == 0x1c)) {
				if (f->ops.to_target(f->ops.ud, f->pend, 1) < 1)
					return;
				consume(f, 1);
				line_reset(f);
				set_state(f, ST_PROMPT, now_ms);
				continue;
			}
			if (!settled(f, now_ms))
				return;
			set_state(f, ST_IDLE, now_ms);
		}
		if (f->n_pend == 0)
			return;
		if (f->alt) { /* full-screen program: pass everything */
			size_t k = f->ops.to_target(f->ops.ud, f->pend, f->n_pend);
			consume(f, k);
			if (k == 0)
				return;
			continue;
		}
		unsigned char c = f->pend[0];
		if (is_enter(c)) {
			char eb[2];
			size_t k = enter_bytes(f->pend, f->n_pend, eb);
			if (!f->started) { /* nothing typed: nothing to check */
				if (f->ops.to_target(f->ops.ud, eb, k) < k)
					return;
				consume(f, k);
				line_reset(f);
				set_state(f, ST_PROMPT, now_ms);
				continue;
			}
			if (f->log_only) { /* note what the line shows now, pass the Enter */
				if (f->ops.to_target(f->ops.ud, eb, k) < k)
					return;
				consume(f, k);
				f->typed[f->n_typed] = 0;
				if (f->typed_valid && f->n_logq == sizeof f->logq / sizeof f->logq[0])
					logq_flush(f, now_ms, true);
				if (f->typed_valid) { /* wait for the echo */
					struct logq *q = &f->logq[f->n_logq];
					q->typed = strdup(f->typed);
					q->row = f->start_row;
					q->col = f->start_col;
					if (q->typed) {
						if (!f->n_logq)
							f->logq_since = now_ms;
						f->n_logq++;
					}
				} else { /* edited at the prompt: the echo is on the screen */
					char *screen = malloc(SCREEN_CAP);
					if (screen) {
						screen_line(f, screen, SCREEN_CAP);
						f->ops.decide(f->ops.ud, screen, NULL);
						free(screen);
					}
				}
				line_reset(f);
				continue;
			}
			memcpy(f->enter, eb, k);
			f->n_enter = k;
			consume(f, k);
			set_state(f, ST_ECHO, now_ms);
			continue;
		}
		/* a run of bytes up to the next Enter */
		size_t run = 0;
		while (run < f->n_pend && !is_enter(f->pend[run])) {
			unsigned char b = f->pend[run++];
			if (b == 0x03) /* ends the line: what follows is a new one */
				break;
		}
		no_edit_and_execute(f, run);
		if (!f->started) {
			VTermPos cur;
			vterm_state_get_cursorpos(f->vs, &cur);
			f->start_row = cur.row;
			f->start_col = cur.col;
			f->started = true;
		}
		size_t k = f->ops.to_target(f->ops.ud, f->pend, run);
		bool cancel = false;
		if (k > 0)
			f->ctrl_x = f->pend[k - 1] == 0x18;
		for (size_t i = 0; i < k; i++) {
			unsigned char b = f->pend[i];
			if (b == 0x03) /* Ctrl-C: the line is gone */
				cancel = true;
			else if (b == 0x15) /* Ctrl-U */
				f->n_typed = 0;
			else if (b == 0x7f || b == 0x08) {
				if (f->n_typed > 0)
					f->n_typed--;
				/* a UTF-8 continuation byte would need more: give up */
				if (f->n_typed > 0 && (f->typed[f->n_typed - 1] & 0x80))
					f->typed_valid = false;
			} else if (b < 0x20) /* Tab, Esc (arrows, history), Ctrl-A/E/W... */
				f->typed_valid = false;
			else if (f->n_typed + 1 < sizeof f->typed)
				f->typed[f->n_typed++] = (char)b;
			else
				f->typed_valid = false;
		}
		consume(f, k);
		if (cancel) {
			line_reset(f);
			set_state(f, ST_PROMPT, now_ms);
			continue;
		}
		if (k < run)
			return; /* the target's buffer is full */
	}
}

size_t gh_ifilter_input(struct gh_ifilter *f, const void *data, size_t len, int64_t now_ms)
{
	size_t room = gh_ifilter_room(f);
	size_t n = len < room ? len : room;
	memcpy(f->pend + f->n_pend, data, n);
	f->n_pend += n;
	process(f, now_ms, false);
	return n;
}

void gh_ifilter_flush(struct gh_ifilter *f)
{
	logq_flush(f, 0, true);
}

void gh_ifilter_tick(struct gh_ifilter *f, int64_t now_ms)
{
	logq_flush(f, now_ms, false);
	process(f, now_ms, true);
}
