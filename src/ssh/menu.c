/* The target menu state machine (see menu.h). No I/O, no libssh. */
#include "ssh/menu.h"

#include "core/error.h"
#include "core/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_MAX 128   /* bytes of typed text kept */
#define MIN_WIDTH 20
#define MIN_HEIGHT 5
#define MAX_DIM 1000
#define CHROME_ROWS 4    /* title, header, footer, prompt */

struct gh_menu {
	const struct gh_menu_item *items; /* borrowed */
	size_t n;
	char *hay;                 /* lower-cased "name\naddress\nnodes\ncomment\0" per item */
	size_t *hay_off;
	size_t *match;             /* indexes into items, in item order */
	size_t nmatch;
	char applied[PROMPT_MAX + 1]; /* needle the match list was computed for */
	bool applied_valid;

	int width, height;
	char *title;
	const char *noun_one, *noun_many;

	char filter[PROMPT_MAX + 1]; /* committed filter (Enter on text) */
	char prompt[PROMPT_MAX + 1]; /* the line being typed */
	size_t plen;
	size_t page_start;           /* index into match of the first row shown */
	size_t committed_page;       /* page_start of the committed filter's list, kept
					while typed text filters live */
	char msg[96];                /* one-shot footer message */
	char notice[160];            /* footer text kept until the next Enter (a
					failed connect's error) */

	int esc;                     /* 0 none, 1 after ESC, 2 in CSI/SS3, 3 in OSC/DCS */
	char escbuf[16];
	size_t esclen;
	bool last_cr;

	int done;                    /* GH_MENU_CONTINUE / PICKED / QUIT */
	size_t picked;

	struct gh_buf out;           /* what to send; its error is reported by gh_menu_feed */
};

/* ---- output buffer ------------------------------------------------------- */

static void ob_put(struct gh_menu *m, const char *s, size_t n)
{
	(void)gh_buf_put(&m->out, s, n);
}

static void ob_str(struct gh_menu *m, const char *s)
{
	ob_put(m, s, strlen(s));
}

static void ob_printf(struct gh_menu *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_printf(struct gh_menu *m, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		ob_put(m, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void ob_spaces(struct gh_menu *m, int n)
{
	static const char sp[] = "                                ";
	while (n > 0) {
		int k = n < (int)sizeof sp - 1 ? n : (int)sizeof sp - 1;
		ob_put(m, sp, (size_t)k);
		n -= k;
	}
}

/* ---- terminal-safe text ---------------------------------------------------- */

/* Decode one UTF-8 character at S (NUL-terminated). Returns its length in
 * bytes (>= 1) and sets *CP, or -1 in *CP for an invalid byte. */
static size_t utf8_next(const unsigned char *s, long *cp)
{
	unsigned char b = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;
	long v;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1, v = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2, v = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3, v = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
	} else {
		*cp = -1;
		return 1;
	}
	for (size_t i = 1; i <= need; i++) {
		if (s[i] < lo || s[i] > hi) { /* includes the NUL terminator */
			*cp = -1;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80, hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

/* Code points drawn as '?': controls, C1, DEL, bidi overrides/isolates,
 * line/paragraph separators and invalid bytes. */
static bool cp_unsafe(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x200e && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* Terminal columns of a safe code point; wide East Asian ranges count 2
 * (an overestimate elsewhere is harmless: lines only get shorter). */
static int cp_width(long cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

static int text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int w = 0;
	while (*p) {
		long cp;
		p += utf8_next(p, &cp);
		w += cp_unsafe(cp) ? 1 : cp_width(cp);
		if (w > MAX_DIM)
			break;
	}
	return w;
}

/* Draw S in at most COLS columns (cut with an ellipsis when longer); pad
 * with spaces to COLS when PAD. Returns the columns drawn. */
static int put_text(struct gh_menu *m, const char *s, int cols, bool pad)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int w = 0, limit = cols;

	if (cols <= 0)
		return 0;
	if (text_width(s) > cols)
		limit = cols - 1; /* room for the ellipsis */
	while (*p) {
		long cp;
		size_t len = utf8_next(p, &cp);
		bool bad = cp_unsafe(cp);
		int cw = bad ? 1 : cp_width(cp);
		if (w + cw > limit)
			break;
		if (bad)
			ob_put(m, "?", 1);
		else
			ob_put(m, (const char *)p, len);
		w += cw;
		p += len;
	}
	if (*p && w < cols) {
		ob_str(m, "\xe2\x80\xa6");
		w++;
	}
	if (pad && w < cols) {
		ob_spaces(m, cols - w);
		w = cols;
	}
	return w;
}

/* ---- filtering ------------------------------------------------------------- */

static void lower_into(char *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The prompt without surrounding spaces, into BUF (PROMPT_MAX + 1). */
static void prompt_trimmed(const struct gh_menu *m, char *buf)
{
	size_t a = 0, b = m->plen;
	while (a < b && m->prompt[a] == ' ')
		a++;
	while (b > a && m->prompt[b - 1] == ' ')
		b--;
	memcpy(buf, m->prompt + a, b - a);
	buf[b - a] = '\0';
}

/* A lone command letter: n, p (page) or q (quit) with Enter. */
static bool command_letter(const char *t)
{
	return t[0] && !t[1] && strchr("npqNPQ", t[0]);
}

/* The needle in force: the typed text, unless it is empty, a number
 * (numbers pick from the list shown) or a command letter (so that typing
 * "n" to page does not flash a one-letter filter), then the committed
 * filter. */
static void effective_needle(const struct gh_menu *m, char *buf)
{
	char t[PROMPT_MAX + 1];
	prompt_trimmed(m, t);
	const char *src = (*t && !all_digits(t) && !command_letter(t)) ? t : m->filter;
	size_t n = strlen(src);
	lower_into(buf, src, n);
	buf[n] = '\0';
}

/* Whether the list shown is the committed filter's (no live text). */
static bool on_committed(const struct gh_menu *m)
{
	char f[PROMPT_MAX + 1];
	size_t n = strlen(m->filter);
	lower_into(f, m->filter, n);
	f[n] = '\0';
	return strcmp(f, m->applied) == 0;
}

/* Recompute the match list if the needle changed: one pass over the items. */
static void update(struct gh_menu *m)
{
	char needle[PROMPT_MAX + 1];
	effective_needle(m, needle);
	if (m->applied_valid && strcmp(needle, m->applied) == 0)
		return;
	m->nmatch = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!*needle || strstr(m->hay + m->hay_off[i], needle))
			m->match[m->nmatch++] = i;
	memcpy(m->applied, needle, sizeof m->applied);
	m->applied_valid = true;
	m->page_start = on_committed(m) ? m->committed_page : 0;
}

/* Move to page start V (an index into match). */
static void set_page(struct gh_menu *m, size_t v)
{
	m->page_start = v;
	if (on_committed(m))
		m->committed_page = v;
}

static size_t rows_per_page(const struct gh_menu *m)
{
	return (size_t)(m->height - CHROME_ROWS);
}

/* ---- drawing ----------------------------------------------------------------- */

static int digits(size_t v)
{
	int d = 1;
	while (v >= 10)
		v /= 10, d++;
	return d;
}

static int imin(int a, int b)
{
	return a < b ? a : b;
}

static void draw_rows(struct gh_menu *m, size_t first, size_t count)
{
	int numw = digits(m->nmatch), maxw[4] = { 0, 0, 0, 0 };
	int line = m->width - 1; /* never write into the last column */

	for (size_t r = first; r < first + count; r++) {
		const struct gh_menu_item *it = &m->items[m->match[r]];
		const char *f[4] = { it->name, it->address, it->nodes, it->comment };
		for (int k = 0; k < 4; k++) {
			int w = text_width(f[k]);
			if (w > maxw[k])
				maxw[k] = w;
		}
	}
	/* column widths: the name first, then address, nodes, comment */
	int rem = line - numw - 2, cw[4] = { 0, 0, 0, 0 };
	cw[0] = imin(maxw[0], rem > 24 ? rem * 2 / 5 : rem);
	if (cw[0] < imin(maxw[0], 8))
		cw[0] = imin(maxw[0], imin(8, rem));
	rem -= cw[0];
	for (int k = 1; k < 4 && rem > 2; k++) {
		int room = rem - 2;
		int want = k == 1 ? imin(maxw[k], room > 30 ? room / 2 : room) : imin(maxw[k], room);
		if (want <= 0)
			continue;
		cw[k] = want;
		rem -= want + 2;
	}
	for (size_t r = first; r < first + count; r++) {
		const struct gh_menu_item *it = &m->items[m->match[r]];
		const char *f[4] = { it->name, it->address, it->nodes, it->comment };
		int last = 0;
		for (int k = 0; k < 4; k++)
			if (cw[k] > 0 && f[k] && *f[k])
				last = k;
		ob_printf(m, "\x1b[1m%*zu\x1b[0m  ", numw, r + 1);
		for (int k = 0; k <= last; k++) {
			if (cw[k] == 0)
				continue;
			if (k > 0)
				ob_str(m, "  ");
			if (k == 3)
				ob_str(m, "\x1b[2m");
			put_text(m, f[k], cw[k], k < last);
			if (k == 3)
				ob_str(m, "\x1b[0m");
		}
		ob_str(m, "\r\n");
	}
}

void gh_menu_render(struct gh_menu *m)
{
	if (!m)
		return;
	update(m);
	size_t rows = rows_per_page(m);
	int line = m->width - 1;
	if (m->page_start >= m->nmatch)
		m->page_start = m->nmatch ? (m->nmatch - 1) / rows * rows : 0;
	size_t count = m->nmatch - m->page_start < rows ? m->nmatch - m->page_start : rows;
	size_t pages = m->nmatch ? (m->nmatch + rows - 1) / rows : 1;

	ob_str(m, "\x1b[0m\x1b[H\x1b[2J");
	/* title */
	ob_str(m, "\x1b[1m");
	put_text(m, m->title, line, false);
	ob_str(m, "\x1b[0m\r\n");
	/* header: "N assets, filter: TEXT  page i/k" */
	char head[96];
	int hn = snprintf(head, sizeof head, "%zu %s, filter: ", m->nmatch,
			  m->nmatch == 1 ? m->noun_one : m->noun_many);
	char pg[48];
	int pn = snprintf(pg, sizeof pg, "  page %zu/%zu", m->page_start / rows + 1, pages);
	if (hn < 0 || pn < 0)
		return;
	int used = put_text(m, head, line, false);
	char needle[PROMPT_MAX + 1];
	effective_needle(m, needle);
	const char *shown = *needle ? needle : "(none)";
	int room = line - used - (used + text_width(shown) + pn <= line ? pn : 0);
	used += put_text(m, shown, room, false);
	if (used + pn <= line)
		ob_str(m, pg);
	ob_str(m, "\r\n");
	if (count > 0)
		draw_rows(m, m->page_start, count);
	else if (m->n > 0)
		put_text(m, "  no match (Backspace or Ctrl-U to change the filter)", line, false);
	else
		put_text(m, "  nothing to choose from", line, false);
	/* footer and prompt at the bottom */
	ob_printf(m, "\x1b[%d;1H\x1b[2m", m->height - 1);
	if (!m->msg[0] && m->notice[0])
		ob_str(m, "\x1b[0m\x1b[1m");
	put_text(m, m->msg[0]	   ? m->msg
		    : m->notice[0] ? m->notice
				   : "number+Enter: pick  text: filter  n/p or arrows: page  q: quit",
		 line, false);
	ob_printf(m, "\x1b[0m\x1b[%d;1H> ", m->height);
	/* the prompt's tail, so the cursor stays on screen */
	const char *p = m->prompt;
	while (text_width(p) > line - 3 && *p)
		p++;
	while ((*p & 0xc0) == 0x80)
		p++;
	put_text(m, p, line - 2, false);
	m->msg[0] = '\0';
}

/* ---- input ------------------------------------------------------------------- */

static void page_next(struct gh_menu *m)
{
	update(m);
	size_t rows = rows_per_page(m);
	if (m->page_start + rows < m->nmatch)
		set_page(m, m->page_start + rows);
}

static void page_prev(struct gh_menu *m)
{
	update(m);
	size_t rows = rows_per_page(m);
	set_page(m, m->page_start >= rows ? m->page_start - rows : 0);
}

static void clear_prompt(struct gh_menu *m)
{
	m->plen = 0;
	m->prompt[0] = '\0';
}

static void pick(struct gh_menu *m, size_t row)
{
	m->done = GH_MENU_PICKED;
	m->picked = m->match[row];
}

static void enter(struct gh_menu *m)
{
	char t[PROMPT_MAX + 1];
	prompt_trimmed(m, t);
	m->notice[0] = '\0';
	update(m);
	if (!*t) {
		if (m->nmatch == 1)
			pick(m, 0);
		else if (m->nmatch == 0)
			snprintf(m->msg, sizeof m->msg, "no match; Ctrl-U clears the filter, q quits");
		else
			snprintf(m->msg, sizeof m->msg, "type a number, or text to filter");
		return;
	}
	if (all_digits(t)) {
		char *end = NULL;
		unsigned long long v = strlen(t) <= 18 ? strtoull(t, &end, 10) : 0;
		clear_prompt(m);
		if (v >= 1 && v <= m->nmatch) {
			pick(m, (size_t)v - 1);
		} else {
			snprintf(m->msg, sizeof m->msg, "no row %.20s%s", t, strlen(t) > 20 ? "..." : "");
		}
		return;
	}
	if (command_letter(t) && (t[0] == 'q' || t[0] == 'Q')) {
		m->done = GH_MENU_QUIT;
		return;
	}
	if (command_letter(t)) {
		clear_prompt(m);
		if (t[0] == 'n' || t[0] == 'N')
			page_next(m);
		else
			page_prev(m);
		return;
	}
	/* text: exactly one match picks it, otherwise it becomes the filter */
	if (m->nmatch == 1) {
		pick(m, 0);
		return;
	}
	/* the same list, now committed: stay on the page the user paged to */
	snprintf(m->filter, sizeof m->filter, "%s", t);
	m->committed_page = m->page_start;
	clear_prompt(m);
	update(m);
}

static void backspace(struct gh_menu *m)
{
	if (m->plen == 0)
		return;
	m->plen--;
	while (m->plen > 0 && ((unsigned char)m->prompt[m->plen] & 0xc0) == 0x80)
		m->plen--;
	m->prompt[m->plen] = '\0';
}

static void key_csi(struct gh_menu *m, char final)
{
	m->escbuf[m->esclen] = '\0';
	const char *param = m->escbuf;
	bool line_key = final == 'C' || final == 'D' || final == 'H' || final == 'F' ||
			(final == '~' && param[0] && strchr("1478", param[0]) && !param[1]);
	if (line_key && m->plen) /* Left/Right/Home/End edit a typed line: not pages */
		return;
	if (final == 'A' || final == 'D' || (final == '~' && strcmp(param, "5") == 0)) {
		page_prev(m);
	} else if (final == 'B' || final == 'C' || (final == '~' && strcmp(param, "6") == 0)) {
		page_next(m);
	} else if (final == 'H' || (final == '~' && (!strcmp(param, "1") || !strcmp(param, "7")))) {
		update(m);
		set_page(m, 0);
	} else if (final == 'F' || (final == '~' && (!strcmp(param, "4") || !strcmp(param, "8")))) {
		update(m);
		size_t rows = rows_per_page(m);
		set_page(m, m->nmatch ? (m->nmatch - 1) / rows * rows : 0);
	}
}

static void feed_byte(struct gh_menu *m, unsigned char b)
{
	bool cr = false;

	if (m->esc == 1) {
		if (b == '[' || b == 'O') {
			m->esc = 2;
			m->esclen = 0;
			return;
		}
		if (b == ']' || b == 'P' || b == '_' || b == '^') {
			m->esc = 3; /* OSC / DCS / APC / PM: swallowed */
			return;
		}
		m->esc = b == 0x1b ? 1 : 0; /* Alt+key: dropped */
		return;
	}
	if (m->esc == 3) {
		if (b == 0x1b) {
			m->esc = 1; /* ESC \ ends it; the backslash is dropped */
			return;
		}
		if (b >= 0x20)
			return;
		m->esc = 0;
		if (b == 0x07)
			return;
		/* any other control ends the string and counts as itself */
	}
	if (m->esc == 2) {
		if (b >= 0x30 && b <= 0x3f) {
			if (m->esclen < sizeof m->escbuf - 1)
				m->escbuf[m->esclen++] = (char)b;
			return;
		}
		if (b >= 0x20 && b <= 0x2f)
			return;
		m->esc = 0;
		if (b >= 0x40 && b <= 0x7e)
			key_csi(m, (char)b);
		return;
	}
	switch (b) {
	case '\r':
		enter(m);
		cr = true;
		break;
	case '\n':
		if (!m->last_cr)
			enter(m);
		break;
	case 0x7f:
	case 0x08:
		backspace(m);
		break;
	case 0x15: /* Ctrl-U: clear the line, then the filter */
		if (m->plen)
			clear_prompt(m);
		else
			m->filter[0] = '\0', m->committed_page = 0;
		break;
	case 0x03: /* Ctrl-C */
		m->done = GH_MENU_QUIT;
		break;
	case 0x04: /* Ctrl-D on an empty line */
		if (m->plen == 0)
			m->done = GH_MENU_QUIT;
		break;
	case 0x1b:
		m->esc = 1;
		break;
	default:
		if (b >= 0x20 && m->plen < PROMPT_MAX) {
			m->prompt[m->plen++] = (char)b;
			m->prompt[m->plen] = '\0';
		}
		break;
	}
	m->last_cr = cr;
}

int gh_menu_feed(struct gh_menu *m, const char *in, size_t len, size_t *ret_index)
{
	if (!m || (!in && len))
		return GH_EINVAL;
	if (m->done == GH_MENU_CONTINUE) {
		for (size_t i = 0; i < len && m->done == GH_MENU_CONTINUE; i++)
			feed_byte(m, (unsigned char)in[i]);
		if (m->done == GH_MENU_CONTINUE)
			gh_menu_render(m);
		else
			ob_str(m, "\x1b[0m\x1b[H\x1b[2J");
	}
	if (m->out.err)
		return m->out.err;
	if (m->done == GH_MENU_PICKED && ret_index)
		*ret_index = m->picked;
	return m->done;
}

/* ---- life cycle ------------------------------------------------------------- */

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void gh_menu_resize(struct gh_menu *m, int width, int height)
{
	if (!m)
		return;
	m->width = clamp(width, MIN_WIDTH, MAX_DIM);
	m->height = clamp(height, MIN_HEIGHT, MAX_DIM);
	size_t rows = rows_per_page(m);
	m->page_start = m->page_start / rows * rows;
	m->committed_page = m->committed_page / rows * rows;
	if (m->done == GH_MENU_CONTINUE)
		gh_menu_render(m);
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

struct gh_menu *gh_menu_new(const struct gh_menu_item *items, size_t n, int width, int height,
			    const char *title)
{
	struct gh_menu *m = NULL;
	size_t total = 1;

	if (!items && n)
		return NULL;
	m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->items = items;
	m->n = n;
	m->noun_one = "asset";
	m->noun_many = "assets";
	m->width = clamp(width, MIN_WIDTH, MAX_DIM);
	m->height = clamp(height, MIN_HEIGHT, MAX_DIM);
	m->title = strdup(title ? title : "");
	m->hay_off = calloc(n + 1, sizeof *m->hay_off);
	m->match = calloc(n + 1, sizeof *m->match);
	if (!m->title || !m->hay_off || !m->match)
		return gh_menu_free(m);
	for (size_t i = 0; i < n; i++)
		total += slen(items[i].name) + slen(items[i].address) + slen(items[i].nodes) +
			 slen(items[i].comment) + 4;
	m->hay = malloc(total);
	if (!m->hay)
		return gh_menu_free(m);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *f[4] = { items[i].name, items[i].address, items[i].nodes,
				     items[i].comment };
		m->hay_off[i] = o;
		for (int k = 0; k < 4; k++) {
			size_t l = slen(f[k]);
			lower_into(m->hay + o, f[k] ? f[k] : "", l);
			o += l;
			m->hay[o++] = k < 3 ? '\n' : '\0';
		}
	}
	m->hay[o] = '\0';
	update(m);
	return m;
}

void gh_menu_set_notice(struct gh_menu *m, const char *text)
{
	if (m)
		snprintf(m->notice, sizeof m->notice, "%s", text ? text : "");
}

void gh_menu_set_noun(struct gh_menu *m, const char *one, const char *many)
{
	if (!m || !one || !many)
		return;
	m->noun_one = one;
	m->noun_many = many;
}

const char *gh_menu_output(struct gh_menu *m, size_t *ret_len)
{
	if (!m) {
		if (ret_len)
			*ret_len = 0;
		return "";
	}
	if (ret_len)
		*ret_len = m->out.len;
	return m->out.p ? m->out.p : "";
}

void gh_menu_output_clear(struct gh_menu *m)
{
	if (!m)
		return;
	gh_buf_reset(&m->out);
	/* a burst (a huge window) does not keep its memory forever */
	if (m->out.cap > (1u << 20))
		gh_buf_free(&m->out);
}

size_t gh_menu_matches(const struct gh_menu *m)
{
	return m ? m->nmatch : 0;
}

size_t gh_menu_page_start(const struct gh_menu *m)
{
	return m ? m->page_start : 0;
}

struct gh_menu *gh_menu_free(struct gh_menu *m)
{
	if (!m)
		return NULL;
	free(m->hay);
	free(m->hay_off);
	free(m->match);
	free(m->title);
	gh_buf_free(&m->out);
	free(m);
	return NULL;
}
