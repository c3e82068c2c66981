/* Line filter: cutting a shell's input into commands (linefilter.h).
 *
 * The cutter reads the input one line at a time and keeps, between lines,
 * what makes the shell read on: a stack of open constructs, the pending
 * here-documents, a trailing operator, a backslash-newline, a function
 * header without its body. It only ever errs towards "not finished yet"
 * (a longer text decided as a whole holds the same commands). */
#include "filter/linefilter.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

enum frame_kind {
	F_NONE = 0,
	/* command contexts */
	F_PAREN,    /* ( subshell ) */
	F_SUBST,    /* $( ) <( ) >( ) */
	F_BRACE,    /* { group; } */
	F_IF,       /* if ... fi */
	F_LOOP,     /* while|until|for|select ... done */
	F_CASE,     /* case ... esac; sub: 0 before `in`, 1 patterns, 2 item body */
	/* others */
	F_ARITH,    /* (( )) $(( )); sub: open parentheses inside */
	F_PARAM,    /* ${ } */
	F_DQ,       /* " " */
	F_SQ,       /* ' ' */
	F_ASQ,      /* $' ' */
	F_BQ,       /* ` ` */
	F_DBRACKET, /* [[ ]] */
	F_SUBSCRIPT, /* NAME[ ] at the start of a word (bash reads on to the ]); sub: open [ */
	F_ARRAY,     /* NAME=( ... ) */
};

/* The state of the command context around a $( or ( (restored at its end). */
struct cmdstate {
	bool cmdpos;     /* the next word is in command position */
	bool op;         /* the last token was | || && |&: a command must follow */
	bool need_body;  /* a function header: its compound body must follow */
	bool func_kw;    /* `function`: its name comes next */
	bool for_next;   /* the word after `for` (a `((` there is arithmetic) */
	bool after_time; /* the last word was `time` (-p may follow) */
	bool closed;     /* a compound command just ended: fi done esac } then
			  * do else elif are still reserved words here */
	unsigned words;  /* words of the current simple command */
};

struct frame {
	unsigned char kind, sub;
	bool dollar;           /* F_ARITH: opened by $(( */
	struct cmdstate saved; /* F_PAREN, F_SUBST: the context around */
	bool saved_in_word;    /* F_SUBST: inside a word of that context */
	unsigned saved_wbase;
};

struct heredoc {
	char delim[GH_LINEFILTER_MAX_DELIM];
	size_t len;
	bool strip, quoted;
};

struct cut {
	struct frame fr[GH_LINEFILTER_MAX_NEST];
	unsigned nfr;
	struct heredoc hd[GH_LINEFILTER_MAX_HEREDOCS];
	unsigned nhd, hcur;
	bool in_body;     /* reading here-document bodies */
	bool body_cont;   /* the last body line ended with a backslash (unquoted) */
	struct cmdstate s;
	bool want_delim, delim_strip; /* after << / <<-: the next word is a delimiter */
	bool cont;        /* backslash-newline: the line goes on */
	bool stuck;       /* input the cutter cannot follow: no further end */
	/* the word being read */
	bool in_word, wquoted, wweird, wlong;
	unsigned wbase;   /* nfr when it started */
	char w[GH_LINEFILTER_MAX_DELIM];
	size_t wlen;
};

struct gh_linefilter {
	char *buf;
	size_t off, len;  /* held bytes: buf[off, len) */
	size_t scan;      /* lines before this index were cut */
	size_t end;       /* end of the complete command found, when have_end */
	bool have_end, eof;
	struct cut c;
};

/* ---- the cutter --------------------------------------------------------- */

static void cut_reset(struct cut *c)
{
	memset(c, 0, sizeof *c);
	c->s.cmdpos = true;
}

static unsigned top(const struct cut *c)
{
	return c->nfr ? c->fr[c->nfr - 1].kind : F_NONE;
}

static bool is_cmd_context(unsigned k)
{
	return k <= F_CASE;
}

static struct frame *push(struct cut *c, unsigned kind)
{
	if (c->nfr >= GH_LINEFILTER_MAX_NEST) {
		c->stuck = true;
		return NULL;
	}
	struct frame *f = &c->fr[c->nfr++];
	memset(f, 0, sizeof *f);
	f->kind = (unsigned char)kind;
	return f;
}

/* A compound command or a substitution opens: it is a function's body,
 * and no operator is pending any more. */
static void opened(struct cut *c)
{
	c->s.need_body = false;
	c->s.op = false;
}

/* Open a new command context (a subshell or a command substitution). */
static void push_cmd(struct cut *c, unsigned kind)
{
	struct cmdstate saved = c->s;
	opened(c);
	saved.need_body = false;
	saved.op = false;
	struct frame *f = push(c, kind);
	if (!f)
		return;
	f->saved = saved;
	f->saved_in_word = c->in_word;
	f->saved_wbase = c->wbase;
	c->in_word = false;
	memset(&c->s, 0, sizeof c->s);
	c->s.cmdpos = true;
}

static void pop(struct cut *c)
{
	struct frame *f = &c->fr[--c->nfr];
	if (f->kind == F_PAREN || f->kind == F_SUBST) {
		c->s = f->saved;
		c->in_word = f->saved_in_word;
		c->wbase = f->saved_wbase;
		c->wweird = true; /* a word holding a substitution */
	}
	if (f->kind != F_SUBST && f->kind != F_PARAM && f->kind != F_DQ && f->kind != F_SQ &&
	    f->kind != F_ASQ && f->kind != F_BQ && f->kind != F_SUBSCRIPT && f->kind != F_ARRAY &&
	    !(f->kind == F_ARITH && f->dollar)) {
		c->s.cmdpos = false; /* a compound command ended: redirections, then ; */
		c->s.closed = true;
	}
}

static void word_start(struct cut *c)
{
	if (c->in_word)
		return;
	c->in_word = true;
	c->wquoted = c->wweird = c->wlong = false;
	c->wlen = 0;
	c->wbase = c->nfr;
	c->s.op = false;
}

/* A byte of the current word (kept for keywords and delimiters). */
static void wchar(struct cut *c, char ch)
{
	word_start(c);
	unsigned k = top(c);
	bool direct = c->nfr == c->wbase ||
		      (c->nfr == c->wbase + 1 && (k == F_DQ || k == F_SQ || k == F_ASQ));
	if (!direct) {
		c->wweird = true;
		return;
	}
	if (c->wlen + 1 >= sizeof c->w) {
		c->wlong = true;
		return;
	}
	c->w[c->wlen++] = ch;
}

static bool opener(const char *w)
{
	static const char *const v[] = { "if", "while", "until", "for", "select", "case", "{", "[[",
					 NULL };
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(w, v[i]))
			return true;
	return false;
}

/* Pop the frame of KIND when it is on top; otherwise bash refuses the token. */
static void close_kw(struct cut *c, unsigned kind)
{
	if (top(c) == kind)
		pop(c);
	else
		c->stuck = true;
}

/* A reserved word in command position. False when W is none. */
static bool keyword(struct cut *c, const char *w)
{
	if (c->s.need_body && !opener(w)) {
		c->stuck = true; /* bash wants a compound command */
		return true;
	}
	if (opener(w)) {
		opened(c);
		unsigned k = !strcmp(w, "if")			     ? F_IF
			     : !strcmp(w, "case")		     ? F_CASE
			     : !strcmp(w, "{")			     ? F_BRACE
			     : !strcmp(w, "[[")			     ? F_DBRACKET
								     : F_LOOP;
		push(c, k);
		c->s.cmdpos = k == F_IF || k == F_BRACE || !strcmp(w, "while") || !strcmp(w, "until");
		c->s.for_next = !strcmp(w, "for") || !strcmp(w, "select");
		c->s.words = 0;
		return true;
	}
	if (!strcmp(w, "then") || !strcmp(w, "else") || !strcmp(w, "elif") || !strcmp(w, "do") ||
	    !strcmp(w, "!") || !strcmp(w, "time") || !strcmp(w, "coproc")) {
		c->s.cmdpos = true;
		c->s.after_time = !strcmp(w, "time");
		return true;
	}
	if (!strcmp(w, "fi") || !strcmp(w, "done") || !strcmp(w, "esac") || !strcmp(w, "}")) {
		close_kw(c, w[0] == 'f' ? F_IF : w[0] == 'd' ? F_LOOP : w[0] == 'e' ? F_CASE : F_BRACE);
		return true;
	}
	if (!strcmp(w, "function")) {
		c->s.func_kw = true;
		c->s.cmdpos = false;
		return true;
	}
	return false;
}

static void add_heredoc(struct cut *c)
{
	c->want_delim = false;
	if (c->nhd >= GH_LINEFILTER_MAX_HEREDOCS || c->wlong || c->wweird) {
		c->stuck = true; /* a delimiter the cutter cannot match */
		return;
	}
	struct heredoc *h = &c->hd[c->nhd++];
	memcpy(h->delim, c->w, c->wlen);
	h->len = c->wlen;
	h->strip = c->delim_strip;
	h->quoted = c->wquoted;
}

static void word_end(struct cut *c)
{
	if (!c->in_word)
		return;
	c->in_word = false;
	c->w[c->wlen] = '\0';
	if (c->want_delim) {
		add_heredoc(c);
		return;
	}
	bool plain = !c->wquoted && !c->wweird && !c->wlong;
	unsigned k = top(c);
	struct frame *t = c->nfr ? &c->fr[c->nfr - 1] : NULL;
	if (k == F_CASE && t->sub == 0) { /* case WORD in */
		if (plain && !strcmp(c->w, "in"))
			t->sub = 1;
		return;
	}
	if (k == F_CASE && t->sub == 1) { /* a pattern, or the end */
		if (plain && !strcmp(c->w, "esac"))
			pop(c);
		return;
	}
	if (c->s.func_kw) { /* function NAME */
		c->s.func_kw = false;
		c->s.need_body = true;
		c->s.words = 1;
		return;
	}
	bool kwpos = c->s.cmdpos || (c->s.closed && !opener(c->w) && strcmp(c->w, "function"));
	bool after_time = c->s.after_time;
	c->s.closed = c->s.after_time = false;
	if (plain && kwpos && keyword(c, c->w))
		return;
	if (plain && after_time && !strcmp(c->w, "-p")) {
		c->s.cmdpos = true; /* time -p: a command still follows */
		return;
	}
	if (c->s.need_body) {
		c->stuck = true;
		return;
	}
	c->s.cmdpos = false;
	c->s.for_next = false;
	c->s.words++;
}

/* A command separator; PENDING: | || && |& (a command must follow). */
static void sep(struct cut *c, bool pending)
{
	/* bash refuses a separator after a function header, and in `case`
	 * outside an item's body */
	if (c->s.need_body || (top(c) == F_CASE && c->fr[c->nfr - 1].sub != 2))
		c->stuck = true;
	c->s.cmdpos = true;
	c->s.op = pending;
	c->s.words = 0;
	c->s.for_next = false;
	c->s.closed = false;
}

static size_t op_paren(struct cut *c, const char *p, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && (p[j] == ' ' || p[j] == '\t'))
		j++;
	struct frame *t = c->nfr ? &c->fr[c->nfr - 1] : NULL;
	if (t && t->kind == F_CASE && t->sub == 1)
		return i + 1; /* ( pattern ) */
	if (j < n && p[j] == ')' && c->s.words == 1 && !c->s.cmdpos) {
		c->s.need_body = true; /* NAME () */
		c->s.cmdpos = true;
		return j + 1;
	}
	if (i + 1 < n && p[i + 1] == '(' && (c->s.cmdpos || c->s.for_next || c->s.need_body)) {
		opened(c);
		push(c, F_ARITH);
		return i + 2;
	}
	if (c->s.cmdpos || c->s.need_body) {
		push_cmd(c, F_PAREN);
		return i + 1;
	}
	c->stuck = true;
	return n;
}

static size_t op_close(struct cut *c, size_t i)
{
	unsigned k = top(c);
	struct frame *t = c->nfr ? &c->fr[c->nfr - 1] : NULL;
	if (k == F_CASE && t->sub == 1) {
		t->sub = 2;
		c->s.cmdpos = true;
		c->s.words = 0;
	} else if (k == F_PAREN || k == F_SUBST) {
		pop(c);
	} else {
		c->stuck = true;
	}
	return i + 1;
}

/* Operators: ; ;; ;& ;;& & && | || |& ( ) and redirections. */
static size_t op(struct cut *c, const char *p, size_t n, size_t i)
{
	char n1 = i + 1 < n ? p[i + 1] : 0, n2 = i + 2 < n ? p[i + 2] : 0;
	if (c->want_delim) {
		c->stuck = true;
		return n;
	}
	switch (p[i]) {
	case ';':
		if (n1 == ';' || n1 == '&') {
			if (top(c) == F_CASE && c->fr[c->nfr - 1].sub == 2)
				c->fr[c->nfr - 1].sub = 1;
			else
				c->stuck = true;
			return i + (n1 == ';' && n2 == '&' ? 3 : 2);
		}
		sep(c, false);
		return i + 1;
	case '&':
		if (n1 == '&') {
			sep(c, true);
			return i + 2;
		}
		if (n1 == '>')
			return i + (n2 == '>' ? 3 : 2);
		sep(c, false);
		return i + 1;
	case '|':
		if (top(c) == F_CASE && c->fr[c->nfr - 1].sub == 1)
			return i + 1; /* pattern | pattern */
		sep(c, true);
		return i + (n1 == '|' || n1 == '&' ? 2 : 1);
	case '(':
		return op_paren(c, p, n, i);
	case ')':
		return op_close(c, i);
	case '<':
		if (n1 == '<' && n2 == '<')
			return i + 3; /* here-string */
		if (n1 == '<') {
			c->want_delim = true;
			c->delim_strip = n2 == '-';
			return i + (n2 == '-' ? 3 : 2);
		}
		return i + (n1 == '&' || n1 == '>' ? 2 : 1);
	default: /* '>' */
		return i + (n1 == '>' || n1 == '&' || n1 == '|' ? 2 : 1);
	}
}

/* $ in a command context or inside quotes/expansions. */
static size_t dollar(struct cut *c, const char *p, size_t n, size_t i, bool in_dq)
{
	char n1 = i + 1 < n ? p[i + 1] : 0, n2 = i + 2 < n ? p[i + 2] : 0;
	if (n1 == '(' && n2 == '(') {
		wchar(c, '$');
		struct frame *f = push(c, F_ARITH);
		if (f)
			f->dollar = true;
		return i + 3;
	}
	if (n1 == '(') {
		wchar(c, '$');
		push_cmd(c, F_SUBST);
		return i + 2;
	}
	if (n1 == '{') {
		wchar(c, '$');
		push(c, F_PARAM);
		return i + 2;
	}
	if (n1 == '[') { /* $[ old arithmetic ] */
		wchar(c, '$');
		push(c, F_SUBSCRIPT);
		return i + 2;
	}
	if (!in_dq && (n1 == '\'' || n1 == '"')) {
		word_start(c);
		c->wquoted = true;
		push(c, n1 == '\'' ? F_ASQ : F_DQ);
		return i + 2;
	}
	wchar(c, '$');
	return i + 1;
}

/* A backslash at I: the next byte is literal, or the line goes on. */
static size_t backslash(struct cut *c, const char *p, size_t n, size_t i, bool keep)
{
	if (i + 1 >= n) {
		c->cont = true;
		return n;
	}
	if (keep) {
		word_start(c);
		c->wquoted = true;
		wchar(c, p[i + 1]);
	}
	return i + 2;
}

/* The word so far is a NAME: a [ now opens a subscript (an assignment
 * NAME[...]=, which bash reads across newlines; the cutter does so
 * wherever the word stands). */
static bool subscript_start(const struct cut *c)
{
	if (!c->in_word || c->wquoted || c->wweird || c->wlong || c->wlen == 0 ||
	    c->nfr != c->wbase || (c->w[0] >= '0' && c->w[0] <= '9'))
		return false;
	for (size_t k = 0; k < c->wlen; k++) {
		char ch = c->w[k];
		if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9')))
			return false;
	}
	return true;
}

static size_t in_cmd(struct cut *c, const char *p, size_t n, size_t i)
{
	char ch = p[i];
	if (ch == ' ' || ch == '\t') { /* not \r: bash reads it as part of a word */
		word_end(c);
		return i + 1;
	}
	if (ch == '#' && !c->in_word) {
		return n; /* a comment */
	}
	if (ch == '\\')
		return backslash(c, p, n, i, true);
	if (ch == '\'' || ch == '"' || ch == '`') {
		word_start(c);
		if (ch == '`')
			c->wweird = true;
		else
			c->wquoted = true;
		push(c, ch == '\'' ? F_SQ : ch == '"' ? F_DQ : F_BQ);
		return i + 1;
	}
	if (ch == '$')
		return dollar(c, p, n, i, false);
	if ((ch == '<' || ch == '>') && i + 1 < n && p[i + 1] == '(') {
		word_start(c);
		c->wweird = true;
		push_cmd(c, F_SUBST);
		return i + 2;
	}
	if (ch == '(' && c->in_word && !c->wweird && c->nfr == c->wbase && c->wlen > 0 &&
	    c->w[c->wlen - 1] == '=') {
		wchar(c, ch);
		push(c, F_ARRAY); /* NAME=( */
		return i + 1;
	}
	if (strchr(";&|()<>", ch)) {
		word_end(c);
		return op(c, p, n, i);
	}
	if (ch == '[' && subscript_start(c)) {
		wchar(c, ch);
		push(c, F_SUBSCRIPT);
		return i + 1;
	}
	wchar(c, ch);
	return i + 1;
}

static size_t in_quote(struct cut *c, const char *p, size_t n, size_t i)
{
	unsigned k = top(c);
	char ch = p[i];
	if (k == F_SQ) {
		if (ch == '\'')
			pop(c);
		else
			wchar(c, ch);
		return i + 1;
	}
	if (k == F_ASQ && ch == '\\' && i + 1 < n && p[i + 1] == '\'') {
		/* bash reads $'a\'...' on, a POSIX sh ends the quote: they would
		 * disagree on where the command ends */
		c->stuck = true;
		return n;
	}
	if (k == F_ASQ || k == F_BQ) {
		if (ch == '\\' && i + 1 < n) {
			wchar(c, ch);
			wchar(c, p[i + 1]);
			return i + 2;
		}
		if (ch == (k == F_ASQ ? '\'' : '`'))
			pop(c);
		else
			wchar(c, ch);
		return i + 1;
	}
	/* F_DQ */
	if (ch == '"') {
		pop(c);
		return i + 1;
	}
	if (ch == '\\')
		return backslash(c, p, n, i, true);
	if (ch == '$')
		return dollar(c, p, n, i, true);
	if (ch == '`') {
		wchar(c, ch);
		push(c, F_BQ);
		return i + 1;
	}
	wchar(c, ch);
	return i + 1;
}

/* Inside ${ }, $(( )) or [[ ]]: quotes and substitutions nest. */
static size_t in_expr(struct cut *c, const char *p, size_t n, size_t i)
{
	struct frame *t = &c->fr[c->nfr - 1];
	char ch = p[i], n1 = i + 1 < n ? p[i + 1] : 0;
	if (ch == '\\')
		return backslash(c, p, n, i, false);
	if (ch == '\'' || ch == '"' || ch == '`') {
		push(c, ch == '\'' ? F_SQ : ch == '"' ? F_DQ : F_BQ);
		return i + 1;
	}
	if (ch == '$')
		return dollar(c, p, n, i, false);
	if (t->kind == F_PARAM && ch == '}') {
		pop(c);
		return i + 1;
	}
	if ((ch == '<' || ch == '>') && n1 == '(') {
		push_cmd(c, F_SUBST); /* bash reads a process substitution here too */
		return i + 2;
	}
	if (t->kind == F_ARRAY && ch == '[') {
		push(c, F_SUBSCRIPT); /* ( [key]=value ) */
		return i + 1;
	}
	if (t->kind == F_ARRAY && ch == ')') {
		pop(c);
		return i + 1;
	}
	if (t->kind == F_ARRAY && ch == '#' && (i == 0 || strchr(" \t(", p[i - 1])))
		return n; /* a comment inside ( ) */
	if (t->kind == F_SUBSCRIPT && (ch == '[' || ch == ']')) {
		if (ch == '[')
			t->sub++;
		else if (t->sub > 0)
			t->sub--;
		else
			pop(c);
		return i + 1;
	}
	if (t->kind == F_ARITH && ch == '(') {
		t->sub++;
		return i + 1;
	}
	if (t->kind == F_ARITH && ch == ')') {
		if (t->sub > 0) {
			t->sub--;
		} else if (n1 == ')') {
			pop(c);
			return i + 2;
		} else {
			/* not arithmetic after all: bash reads it again as $( ( ... ) or
			 * ( ( ... ), commands the cutter has read as an expression */
			c->stuck = true;
			return n;
		}
		return i + 1;
	}
	if (t->kind == F_DBRACKET && ch == ']' && n1 == ']' && (i == 0 || p[i - 1] == ' ' ||
								   p[i - 1] == '\t')) {
		pop(c);
		return i + 2;
	}
	return i + 1;
}

static bool odd_backslashes(const char *p, size_t n)
{
	size_t k = 0;
	while (k < n && p[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* A line of a here-document body. */
static void body_line(struct cut *c, const char *p, size_t n)
{
	struct heredoc *h = &c->hd[c->hcur];
	size_t s = 0;
	if (h->strip)
		while (s < n && p[s] == '\t')
			s++;
	if (!c->body_cont && n - s == h->len && !memcmp(p + s, h->delim, h->len)) {
		c->hcur++;
		if (c->hcur == c->nhd) {
			c->nhd = c->hcur = 0;
			c->in_body = false;
		}
		return;
	}
	c->body_cont = !h->quoted && odd_backslashes(p, n);
}

/* Cut one line (N bytes without its newline; NL: it had one). */
static void cut_line(struct cut *c, const char *p, size_t n, bool nl)
{
	if (c->in_body) {
		body_line(c, p, n);
		return;
	}
	c->cont = false;
	size_t i = 0;
	while (i < n && !c->stuck) {
		unsigned k = top(c);
		if (is_cmd_context(k))
			i = in_cmd(c, p, n, i);
		else if (k == F_SQ || k == F_ASQ || k == F_BQ || k == F_DQ)
			i = in_quote(c, p, n, i);
		else
			i = in_expr(c, p, n, i);
	}
	if (c->cont || !nl || c->stuck)
		return;
	if (is_cmd_context(top(c))) {
		word_end(c);
		if (c->want_delim)
			c->stuck = true;
		c->s.cmdpos = true;
		c->s.words = 0;
		c->s.for_next = false;
		if (c->nhd > 0)
			c->in_body = true;
	} else if (c->in_word && (top(c) == F_DQ || top(c) == F_SQ || top(c) == F_ASQ)) {
		wchar(c, '\n');
	}
}

static bool cut_complete(const struct cut *c)
{
	return !c->stuck && c->nfr == 0 && !c->cont && !c->s.op && !c->s.need_body &&
	       !c->s.func_kw && !c->want_delim && c->nhd == 0 && !c->in_body &&
	       !c->in_word;
}

/* ---- the buffer ------------------------------------------------------------ */

int gh_linefilter_new(struct gh_linefilter **ret)
{
	struct gh_linefilter *f = calloc(1, sizeof *f);
	if (!f)
		return GH_ENOMEM;
	f->buf = malloc(GH_LINEFILTER_MAX);
	if (!f->buf) {
		free(f);
		return GH_ENOMEM;
	}
	cut_reset(&f->c);
	*ret = f;
	return 0;
}

struct gh_linefilter *gh_linefilter_free(struct gh_linefilter *f)
{
	if (f) {
		free(f->buf);
		free(f);
	}
	return NULL;
}

size_t gh_linefilter_held(const struct gh_linefilter *f)
{
	return f->len - f->off;
}

const char *gh_linefilter_data(const struct gh_linefilter *f)
{
	return f->buf + f->off;
}

size_t gh_linefilter_room(const struct gh_linefilter *f)
{
	return f->eof ? 0 : GH_LINEFILTER_MAX - gh_linefilter_held(f);
}

size_t gh_linefilter_put(struct gh_linefilter *f, const void *data, size_t len)
{
	size_t room = gh_linefilter_room(f);
	size_t n = len < room ? len : room;
	if (n == 0)
		return 0;
	if (GH_LINEFILTER_MAX - f->len < n) { /* move the held bytes to the front */
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->scan -= f->off;
		if (f->have_end)
			f->end -= f->off;
		f->off = 0;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	return n;
}

void gh_linefilter_eof(struct gh_linefilter *f)
{
	f->eof = true;
}

/* Cut the complete lines not cut yet, up to the end of a command. */
static void cut_more(struct gh_linefilter *f)
{
	while (!f->have_end && f->scan < f->len) {
		const char *p = f->buf + f->scan;
		const char *nl = memchr(p, '\n', f->len - f->scan);
		if (!nl)
			return;
		cut_line(&f->c, p, (size_t)(nl - p), true);
		f->scan += (size_t)(nl - p) + 1;
		if (cut_complete(&f->c)) {
			f->have_end = true;
			f->end = f->scan;
			cut_reset(&f->c);
		}
	}
}

enum gh_linefilter_unit gh_linefilter_next(struct gh_linefilter *f, const char **ret,
					   size_t *ret_len)
{
	size_t held = gh_linefilter_held(f);
	cut_more(f);
	*ret = f->buf + f->off;
	if (f->have_end) {
		*ret_len = f->end - f->off;
		return GH_LINEFILTER_COMMAND;
	}
	*ret_len = held;
	if (held == 0)
		return GH_LINEFILTER_NONE;
	if (f->eof)
		return GH_LINEFILTER_AT_EOF;
	if (held >= GH_LINEFILTER_MAX)
		return GH_LINEFILTER_TOO_LONG;
	*ret_len = 0;
	return GH_LINEFILTER_NONE;
}

void gh_linefilter_consume(struct gh_linefilter *f, size_t n)
{
	size_t held = gh_linefilter_held(f);
	f->off += n < held ? n : held;
	if (f->have_end && f->off >= f->end)
		f->have_end = false;
	if (f->off > f->scan) {
		/* past what was cut (a command too long, or the end): start afresh */
		f->scan = f->off;
		cut_reset(&f->c);
	}
	if (f->off == f->len) {
		f->off = f->len = f->scan = 0;
		f->have_end = false;
	}
}
