/* Splitting shell command lines into simple commands (see filter.h and
 * docs/COMMAND-FILTER.md).
 *
 * A recursive-descent scanner over the bash grammar, lenient where bash is
 * strict (a line bash rejects runs nothing, so accepting it costs nothing)
 * and strict where a mistake would hide a command (anything unbalanced or
 * not understood is GH_EINVAL). Every nested string (backquotes, sh -c,
 * eval, here-documents fed to a shell) gets its own scanner; all of them
 * share one context that holds the output and the limits. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/utf8.h"
#include "filter/cmdclass.h"
#include "filter/filter.h"

/* ---- growing strings and words --------------------------------------- */

/* The strings built here (words, command texts, nested bodies) are
 * gh_bufs capped at the work budget; a zeroed one gets the cap here. */
static int sb_put(struct gh_buf *b, const char *s, size_t n)
{
	b->max = GH_CMD_MAX_WORK;
	return gh_buf_put(b, s, n);
}

static int sb_putc(struct gh_buf *b, char c)
{
	return sb_put(b, &c, 1);
}

/* One word as read: its value after quote removal, plus what it held. */
struct word {
	struct gh_buf s;
	size_t lit;      /* length of the leading unquoted literal run */
	bool lit_done;   /* that run has ended */
	bool quoted;     /* some quoting or escaping was removed */
	bool expand;     /* holds an expansion, glob or brace expansion */
	bool brace;      /* an unquoted '{' was seen (brace expansion candidate) */
	bool bracket;    /* an unquoted '[' was seen (glob candidate) */
};

static void word_fini(struct word *w)
{
	free(w->s.p);
	memset(w, 0, sizeof *w);
}

static int w_lit(struct word *w, char c)
{
	if (!w->lit_done)
		w->lit++;
	return sb_putc(&w->s, c);
}

static int w_quoted(struct word *w, const char *s, size_t n)
{
	w->lit_done = true;
	w->quoted = true;
	return sb_put(&w->s, s, n);
}

static int w_exp(struct word *w, const char *s, size_t n)
{
	w->lit_done = true;
	w->expand = true;
	return sb_put(&w->s, s, n);
}

struct wordvec {
	struct word *v;
	size_t n, cap;
};

static void wv_fini(struct wordvec *wv)
{
	for (size_t i = 0; i < wv->n; i++)
		word_fini(&wv->v[i]);
	free(wv->v);
	memset(wv, 0, sizeof *wv);
}

/* Takes W over (W is zeroed). */
static int wv_push(struct wordvec *wv, struct word *w)
{
	if (wv->n == wv->cap) {
		size_t cap = wv->cap ? wv->cap * 2 : 8;
		struct word *v = NULL;
		if (cap > GH_CMD_MAX_INPUT)
			return GH_ELIMIT;
		v = realloc(wv->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		wv->v = v;
		wv->cap = cap;
	}
	wv->v[wv->n++] = *w;
	memset(w, 0, sizeof *w);
	return 0;
}

/* ---- scanner state ---------------------------------------------------- */

struct ctx {
	struct gh_cmdlist *out;
	size_t cap;
	size_t work;     /* bytes handed to scanners so far */
};

struct heredoc {
	char *delim;
	bool strip_tabs; /* <<- */
	bool quoted;     /* delimiter quoted: body is literal */
	bool feed_shell; /* body is the input of a shell: split it */
	size_t span_off, span_len; /* span of the command it belongs to */
};

struct parser {
	const char *s;
	size_t len, pos;
	struct ctx *ctx;
	unsigned depth;
	unsigned flags;          /* GH_CMD_SUBST / GH_CMD_NESTED inherited */
	size_t base;             /* offset of s[0] in the top line */
	bool fixed;              /* nested string: every span is fix_off/fix_len */
	size_t fix_off, fix_len;
	struct heredoc *hd;      /* registered here-documents */
	size_t n_hd, cap_hd, hd_done; /* hd[hd_done..n_hd) wait for their bodies */
	/* why the command being read is dynamic (cmdclass.h), NULL while it
	 * is analysable; saved and restored around nested commands */
	const char *why;
	int in_default;          /* enum stdin_kind of a command without redirection */
	int cur_in;              /* stdin of the command being unwrapped */
};

enum { T_EOF, T_PAREN, T_CASE };

/* Standard input of a command. IN_TTY: the session's own input (a
 * terminal or the exec channel); IN_SEEN: input the splitter reads as
 * commands itself (the rest of a here-document or here-string). */
enum stdin_kind { IN_TTY, IN_PIPE, IN_FILE, IN_HEREDOC, IN_HERESTR, IN_SEEN };

/* The placeholder for what xargs appends to the command it runs. */
static const char XARGS_INPUT[] = "{xargs input}";

static void set_dyn(struct parser *p, const char *why)
{
	if (!p->why)
		p->why = why;
}

static int parse_list(struct parser *p, int term);
static bool is_assignment_str(const char *s);
static int parse_dollar(struct parser *p, struct word *w, bool in_dq);
static int parse_backtick(struct parser *p, struct word *w, bool in_dq);

static int parser_init(struct parser *p, struct ctx *ctx, const char *s, size_t len,
		       unsigned depth, unsigned flags)
{
	memset(p, 0, sizeof *p);
	if (depth > GH_CMD_MAX_DEPTH)
		return GH_ELIMIT;
	if (len > GH_CMD_MAX_WORK - ctx->work)
		return GH_ELIMIT;
	ctx->work += len;
	p->s = s;
	p->len = len;
	p->ctx = ctx;
	p->depth = depth;
	p->flags = flags;
	return 0;
}

static void parser_fini(struct parser *p)
{
	for (size_t i = 0; i < p->n_hd; i++)
		free(p->hd[i].delim);
	free(p->hd);
	p->hd = NULL;
	p->n_hd = p->cap_hd = p->hd_done = 0;
}

static void span_of(const struct parser *p, size_t start, size_t end, size_t *off, size_t *len)
{
	if (p->fixed) {
		*off = p->fix_off;
		*len = p->fix_len;
	} else {
		*off = p->base + start;
		*len = end - start;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Ends an unquoted word. */
static bool is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' ||
	       c == '<' || c == '>' || c == '(' || c == ')';
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->len) {
		if (is_blank(p->s[p->pos]))
			p->pos++;
		else if (p->s[p->pos] == '\\' && p->pos + 1 < p->len && p->s[p->pos + 1] == '\n')
			p->pos += 2;
		else
			break;
	}
}

static void skip_comment(struct parser *p)
{
	while (p->pos < p->len && p->s[p->pos] != '\n')
		p->pos++;
}

/* Is the unquoted reserved word KW at the current position? */
static bool at_word(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, kw, n) != 0)
		return false;
	return p->pos + n == p->len || is_delim(p->s[p->pos + n]);
}

/* ---- output ------------------------------------------------------------ */

static int raw_emit(struct parser *p, char *const *av, size_t ac, const char *why,
		    unsigned flags, size_t off, size_t len)
{
	struct ctx *c = p->ctx;
	struct gh_cmd cmd = { 0 };
	struct gh_buf text = { 0 };
	int r = 0;

	if (ac == 0)
		goto out;
	if (c->out->n >= GH_CMD_MAX_CMDS) {
		r = GH_ELIMIT;
		goto out;
	}
	if (c->out->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct gh_cmd *v = realloc(c->out->v, cap * sizeof *v);
		if (!v) {
			r = GH_ENOMEM;
			goto out;
		}
		c->out->v = v;
		c->cap = cap;
	}
	cmd.argv = calloc(ac + 1, sizeof *cmd.argv);
	if (!cmd.argv) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ac; i++) {
		cmd.argv[i] = strdup(av[i]);
		if (!cmd.argv[i]) {
			r = GH_ENOMEM;
			goto out;
		}
		cmd.argc++;
		if ((i > 0 && (r = sb_putc(&text, ' ')) < 0) ||
		    (r = sb_put(&text, av[i], strlen(av[i]))) < 0)
			goto out;
	}
	if (!text.p && (r = sb_put(&text, "", 0)) < 0)
		goto out;
	cmd.text = text.p;
	text.p = NULL;
	cmd.off = off;
	cmd.len = len;
	cmd.depth = p->depth;
	cmd.flags = flags | p->flags | (why ? GH_CMD_DYNAMIC : 0);
	cmd.why = why;
	c->out->v[c->out->n++] = cmd;
	memset(&cmd, 0, sizeof cmd);
out:
	if (cmd.argv) {
		for (size_t i = 0; i < cmd.argc; i++)
			free(cmd.argv[i]);
		free(cmd.argv);
	}
	free(cmd.text);
	free(text.p);
	return r;
}

static void cmd_fini(struct gh_cmd *c)
{
	if (c->argv)
		for (size_t i = 0; i < c->argc; i++)
			free(c->argv[i]);
	free(c->argv);
	free(c->text);
}

static int assign_check(struct parser *p, const char *word, bool expanded, size_t off,
			size_t len, const char **ret_why);

/* Emit the simple command AV[0..AC) (DYN[i]: word i holds an expansion)
 * and judge it: WHY (may be NULL) is what the scan found dynamic in it;
 * a command word only known at run time, a builtin whose operands are
 * evaluated (cmdclass.h) or an assignment operand naming code make it
 * dynamic too, and code assigned to PROMPT_COMMAND/PS1... is split. */
static int emit(struct parser *p, char *const *av, const bool *dyn, size_t ac, const char *why,
		unsigned flags, size_t off, size_t len)
{
	size_t idx = p->ctx->out->n;
	int r;

	if (ac == 0)
		return 0;
	if (!why && dyn[0])
		why = strstr(av[0], XARGS_INPUT) ? GH_WHY_XARGS : GH_WHY_CMDWORD;
	if ((r = raw_emit(p, av, ac, why, flags, off, len)) < 0)
		return r;
	if (!why)
		why = gh_builtin_why(av, dyn, ac);
	for (size_t k = 1; gh_assigns_operands(av[0]) && k < ac && r >= 0; k++) {
		const char *w = NULL;
		/* env takes any NAME=VALUE ('BASH_FUNC_f%%=() {...}' included) */
		if (!is_assignment_str(av[k]) && strncmp(av[k], "BASH_FUNC_", 10) != 0)
			continue;
		r = assign_check(p, av[k], dyn[k], off, len, &w);
		if (!why)
			why = w;
	}
	if (r >= 0 && why && !p->ctx->out->v[idx].why) {
		p->ctx->out->v[idx].why = why;
		p->ctx->out->v[idx].flags |= GH_CMD_DYNAMIC;
	}
	return r;
}

/* A construct with no command of its own that is dynamic ((( a )), [[ ]],
 * a bare assignment): reported as a command whose one word is its text. */
static int emit_text(struct parser *p, const char *text, size_t n, const char *why, size_t off,
		     size_t len)
{
	struct gh_buf b = { 0 };
	int r = sb_put(&b, text, n);
	if (r >= 0) {
		char *av[1] = { b.p };
		r = raw_emit(p, av, 1, why, 0, off, len);
	}
	free(b.p);
	return r;
}

/* The last command emitted is dynamic for WHY (unless it already was). */
static void mark_last(struct parser *p, const char *why)
{
	struct gh_cmd *c;
	if (p->ctx->out->n == 0)
		return;
	c = &p->ctx->out->v[p->ctx->out->n - 1];
	if (!c->why) {
		c->why = why;
		c->flags |= GH_CMD_DYNAMIC;
	}
}

/* Drop commands emitted after the first N (a speculative scan failed). */
static void truncate_out(struct ctx *c, size_t n)
{
	while (c->out->n > n)
		cmd_fini(&c->out->v[--c->out->n]);
}

/* Split STR (a string a shell will run) as a nested command line. */
static int parse_nested(struct parser *p, const char *str, size_t n, size_t off, size_t len,
			unsigned flags)
{
	struct parser sub;
	int r = parser_init(&sub, p->ctx, str, n, p->depth + 1, p->flags | flags);
	if (r < 0)
		return r;
	sub.fixed = true;
	sub.fix_off = off;
	sub.fix_len = len;
	/* a shell string's commands read the stdin of the command running it */
	sub.in_default = p->cur_in == IN_HEREDOC || p->cur_in == IN_HERESTR ? IN_SEEN : p->cur_in;
	r = parse_list(&sub, T_EOF);
	parser_fini(&sub);
	return r;
}

/* ---- words ------------------------------------------------------------- */

/* Single quotes: pos at the opening quote. */
static int parse_squote(struct parser *p, struct word *w)
{
	const char *end = memchr(p->s + p->pos + 1, '\'', p->len - p->pos - 1);
	int r;
	if (!end)
		return GH_EINVAL;
	r = w_quoted(w, p->s + p->pos + 1, (size_t)(end - p->s) - p->pos - 1);
	p->pos = (size_t)(end - p->s) + 1;
	return r;
}

/* '!' at pos, unquoted or in double quotes (END '"'): an interactive bash
 * expands it from its history (!!, !-2, !rm, !?x?) unless a blank, '=',
 * '(' or the end follows. */
static void check_history(struct parser *p, char end)
{
	char n = p->pos + 1 < p->len ? p->s[p->pos + 1] : ' ';
	if (!is_blank(n) && n != '\n' && n != '=' && n != '(' && n != end && n != ';' &&
	    n != '|' && n != '&' && n != ')')
		set_dyn(p, GH_WHY_HISTORY);
}

/* Double quotes: pos at the opening quote. */
static int parse_dquote(struct parser *p, struct word *w)
{
	int r = 0;
	w->quoted = true;
	w->lit_done = true;
	p->pos++;
	for (;;) {
		char c;
		if (p->pos >= p->len)
			return GH_EINVAL;
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c == '\\' && p->pos + 1 < p->len) {
			char n = p->s[p->pos + 1];
			if (n == '\n') {
				p->pos += 2;
				continue;
			}
			if (n == '$' || n == '`' || n == '"' || n == '\\') {
				r = w_quoted(w, &n, 1);
				p->pos += 2;
			} else {
				r = w_quoted(w, "\\", 1);
				p->pos++;
			}
		} else if (c == '$') {
			r = parse_dollar(p, w, true);
		} else if (c == '`') {
			r = parse_backtick(p, w, true);
		} else {
			if (c == '!')
				check_history(p, '"');
			r = w_quoted(w, &c, 1);
			p->pos++;
		}
		if (r < 0)
			return r;
	}
	return r;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* CP as UTF-8 into W; GH_EINVAL for NUL (bash would cut the word there)
 * and for what is not a scalar value. */
static int put_utf8(struct word *w, unsigned long cp)
{
	char b[GH_UTF8_MAX];
	size_t n = cp == 0 || cp > 0x10ffff ? 0 : gh_utf8_encode((uint32_t)cp, b);
	if (n == 0)
		return GH_EINVAL;
	return w_quoted(w, b, n);
}

/* $'...' (bash ANSI-C quoting): pos at '$'. A decoded NUL is refused
 * (bash would cut the word there). */
static int parse_ansi(struct parser *p, struct word *w)
{
	int r = 0;
	w->quoted = true;
	w->lit_done = true;
	p->pos += 2;
	for (;;) {
		char c, e;
		unsigned long v = 0;
		int digits = 0, max;
		if (p->pos >= p->len)
			return GH_EINVAL;
		c = p->s[p->pos++];
		if (c == '\'')
			break;
		if (c != '\\') {
			if ((r = w_quoted(w, &c, 1)) < 0)
				return r;
			continue;
		}
		if (p->pos >= p->len)
			return GH_EINVAL;
		e = p->s[p->pos++];
		switch (e) {
		case 'a': c = '\a'; break;
		case 'b': c = '\b'; break;
		case 'e': case 'E': c = 27; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'v': c = '\v'; break;
		case '\\': case '\'': case '"': case '?': c = e; break;
		case 'c':
			if (p->pos >= p->len)
				return GH_EINVAL;
			c = (char)(p->s[p->pos++] & 0x1f);
			break;
		case 'x': case 'u': case 'U':
			max = e == 'x' ? 2 : e == 'u' ? 4 : 8;
			while (digits < max && p->pos < p->len && hexval(p->s[p->pos]) >= 0) {
				v = v * 16 + (unsigned long)hexval(p->s[p->pos++]);
				digits++;
			}
			if (digits == 0) {
				if ((r = w_quoted(w, "\\", 1)) < 0 || (r = w_quoted(w, &e, 1)) < 0)
					return r;
				continue;
			}
			if (e != 'x') {
				if ((r = put_utf8(w, v)) < 0)
					return r;
				continue;
			}
			c = (char)v;
			break;
		default:
			if (e >= '0' && e <= '7') {
				v = (unsigned long)(e - '0');
				while (++digits < 3 && p->pos < p->len && p->s[p->pos] >= '0' &&
				       p->s[p->pos] <= '7')
					v = v * 8 + (unsigned long)(p->s[p->pos++] - '0');
				c = (char)(v & 0xff);
				break;
			}
			if ((r = w_quoted(w, "\\", 1)) < 0 || (r = w_quoted(w, &e, 1)) < 0)
				return r;
			continue;
		}
		if (c == '\0')
			return GH_EINVAL;
		if ((r = w_quoted(w, &c, 1)) < 0)
			return r;
	}
	return r;
}

/* $( ... ), <( ... ), >( ... ) (SUBST) and subshells: pos just after the '('. */
static int parse_subst_body(struct parser *p, unsigned add_flags)
{
	unsigned flags = p->flags;
	int r;
	if (p->depth + 1 > GH_CMD_MAX_DEPTH)
		return GH_ELIMIT;
	p->depth++;
	p->flags |= add_flags;
	r = parse_list(p, T_PAREN);
	p->depth--;
	p->flags = flags;
	if (r < 0)
		return r;
	if (p->pos >= p->len || p->s[p->pos] != ')')
		return GH_EINVAL;
	p->pos++;
	return 0;
}

/* Arithmetic $(( )) or (( )): pos just after the "((". Commands in nested
 * substitutions are emitted. 1 when it was arithmetic (pos after "))"),
 * 0 when not (pos and output restored: the caller reads a subshell). */
static int scan_arith(struct parser *p)
{
	size_t save = p->pos, mark = p->ctx->out->n;
	int depth = 0, r = 0;
	struct word scratch = { 0 };

	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c == '(') {
			depth++;
			p->pos++;
		} else if (c == ')') {
			if (depth == 0) {
				if (p->pos + 1 < p->len && p->s[p->pos + 1] == ')') {
					p->pos += 2;
					r = 1;
				}
				break;
			}
			depth--;
			p->pos++;
		} else if (c == '$') {
			r = parse_dollar(p, &scratch, false);
		} else if (c == '`') {
			r = parse_backtick(p, &scratch, false);
		} else if (c == '"') {
			r = parse_dquote(p, &scratch);
		} else if (c == '\'') {
			r = parse_squote(p, &scratch);
		} else if (c == '\\' && p->pos + 1 < p->len) {
			p->pos += 2;
		} else {
			p->pos++;
		}
		if (r < 0)
			break;
	}
	word_fini(&scratch);
	if (r == GH_ENOMEM || r == GH_ELIMIT)
		return r;
	if (r == 1 && !gh_arith_safe(p->s + save, p->pos - 2 - save))
		set_dyn(p, GH_WHY_ARITH);
	if (r != 1) {
		/* the caller scans this text again: count it */
		if (p->pos - save > GH_CMD_MAX_WORK - p->ctx->work)
			return GH_ELIMIT;
		p->ctx->work += p->pos - save;
		p->pos = save;
		truncate_out(p->ctx, mark);
		r = 0;
	}
	return r;
}

/* ${ ... }: pos at '$'. */
static int parse_braced(struct parser *p, bool in_dq)
{
	struct word scratch = { 0 };
	int r = 0;
	p->pos += 2;
	for (;;) {
		char c;
		if (p->pos >= p->len) {
			r = GH_EINVAL;
			break;
		}
		c = p->s[p->pos];
		if (c == '}') {
			p->pos++;
			break;
		}
		if (c == '\\')
			p->pos += p->pos + 1 < p->len ? 2 : 1;
		else if (c == '\'' && !in_dq)
			r = parse_squote(p, &scratch);
		else if (c == '"')
			r = parse_dquote(p, &scratch);
		else if (c == '$')
			r = parse_dollar(p, &scratch, in_dq);
		else if (c == '`')
			r = parse_backtick(p, &scratch, in_dq);
		else
			p->pos++;
		if (r < 0)
			break;
	}
	word_fini(&scratch);
	return r;
}

/* $[ ... ], bash's old arithmetic expansion: pos at '$'. */
static int scan_old_arith(struct parser *p)
{
	struct word scratch = { 0 };
	size_t start = p->pos + 2;
	int depth = 0, r = 0;

	p->pos = start;
	for (;;) {
		char c;
		if (p->pos >= p->len) {
			r = GH_EINVAL;
			break;
		}
		c = p->s[p->pos];
		if (c == ']' && depth-- == 0)
			break;
		if (c == '[')
			depth++;
		if (c == '$')
			r = parse_dollar(p, &scratch, false);
		else if (c == '`')
			r = parse_backtick(p, &scratch, false);
		else
			p->pos++;
		if (r < 0)
			break;
	}
	word_fini(&scratch);
	if (r < 0)
		return r;
	if (!gh_arith_safe(p->s + start, p->pos - start))
		set_dyn(p, GH_WHY_ARITH);
	p->pos++;
	return 0;
}

/* Any $-construct: pos at '$'. The word gets the text as written (for an
 * expansion) or the decoded value ($'..', $".."). */
static int parse_dollar(struct parser *p, struct word *w, bool in_dq)
{
	size_t start = p->pos;
	char n = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
	int r = 0;

	if (n == '\'' && !in_dq)
		return parse_ansi(p, w);
	if (n == '"' && !in_dq) {
		p->pos++;
		return parse_dquote(p, w);
	}
	if ((n == '(' || n == '{') && p->depth + 1 > GH_CMD_MAX_DEPTH)
		return GH_ELIMIT;
	if (n == '(') {
		if (p->pos + 2 < p->len && p->s[p->pos + 2] == '(') {
			p->pos += 3;
			p->depth++;
			r = scan_arith(p);
			p->depth--;
			if (r < 0)
				return r;
			if (r == 0)
				p->pos = start + 2;
		} else {
			p->pos += 2;
		}
		if (r == 0 && (r = parse_subst_body(p, GH_CMD_SUBST)) < 0)
			return r;
	} else if (n == '[') {
		if ((r = scan_old_arith(p)) < 0)
			return r;
	} else if (n == '{') {
		const char *why = gh_braced_why(p->s + p->pos + 2, p->len - p->pos - 2);
		if (why)
			set_dyn(p, why);
		p->depth++;
		r = parse_braced(p, in_dq);
		p->depth--;
		if (r < 0)
			return r;
	} else if (is_name_start(n)) {
		p->pos += 2;
		while (p->pos < p->len && is_name_char(p->s[p->pos]))
			p->pos++;
	} else if (n != '\0' && strchr("0123456789@*#?$!-", n)) {
		p->pos += 2;
	} else {
		p->pos++;
		return in_dq ? w_quoted(w, "$", 1) : w_lit(w, '$');
	}
	return w_exp(w, p->s + start, p->pos - start);
}

/* `...`: pos at the opening backquote. The body is unescaped (\$ \` \\,
 * and \" inside double quotes) and split as a string of its own. */
static int parse_backtick(struct parser *p, struct word *w, bool in_dq)
{
	size_t start = p->pos, off, len;
	struct gh_buf body = { 0 };
	int r = 0;

	p->pos++;
	for (;;) {
		char c;
		if (p->pos >= p->len) {
			r = GH_EINVAL;
			goto out;
		}
		c = p->s[p->pos];
		if (c == '`') {
			p->pos++;
			break;
		}
		if (c == '\\' && p->pos + 1 < p->len &&
		    (strchr("$`\\", p->s[p->pos + 1]) || (in_dq && p->s[p->pos + 1] == '"'))) {
			c = p->s[p->pos + 1];
			p->pos++;
		}
		if ((r = sb_putc(&body, c)) < 0)
			goto out;
		p->pos++;
	}
	span_of(p, start, p->pos, &off, &len);
	if ((r = parse_nested(p, body.p ? body.p : "", body.len, off, len, GH_CMD_SUBST)) < 0)
		goto out;
	r = w_exp(w, p->s + start, p->pos - start);
out:
	free(body.p);
	return r;
}

/* One unquoted word: pos at its first byte (not a delimiter, except the
 * '<(' / '>(' of a process substitution). */
static int read_word(struct parser *p, struct word *w)
{
	size_t start = p->pos;
	int r = 0;

	while (p->pos < p->len && r >= 0) {
		char c = p->s[p->pos];
		if ((c == '<' || c == '>') && p->pos + 1 < p->len && p->s[p->pos + 1] == '(') {
			p->pos += 2;
			if ((r = parse_subst_body(p, GH_CMD_SUBST)) < 0)
				break;
			r = w_exp(w, p->s + start, p->pos - start);
			continue;
		}
		if (is_delim(c))
			break;
		switch (c) {
		case '\\':
			if (p->pos + 1 >= p->len) {
				r = GH_EINVAL;
				break;
			}
			if (p->s[p->pos + 1] != '\n')
				r = w_quoted(w, p->s + p->pos + 1, 1);
			p->pos += 2;
			break;
		case '\'':
			r = parse_squote(p, w);
			break;
		case '"':
			r = parse_dquote(p, w);
			break;
		case '$':
			r = parse_dollar(p, w, false);
			break;
		case '`':
			r = parse_backtick(p, w, false);
			break;
		case '!':
			check_history(p, '\0');
			r = w_lit(w, c);
			p->pos++;
			break;
		case '*': case '?':
			w->expand = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		case '[':
			w->bracket = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		case ']':
			if (w->bracket)
				w->expand = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		case '{':
			w->brace = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		case ',':
			if (w->brace)
				w->expand = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		case '.':
			if (w->brace && p->pos + 1 < p->len && p->s[p->pos + 1] == '.')
				w->expand = true;
			r = w_lit(w, c);
			p->pos++;
			break;
		default:
			r = w_lit(w, c);
			p->pos++;
			break;
		}
	}
	if (r >= 0 && p->pos == start)
		r = GH_EINVAL;
	if (r >= 0 && !w->s.p)
		r = sb_put(&w->s, "", 0);
	return r;
}

/* NAME=..., NAME+=..., NAME[..]=... with NAME unquoted. */
static bool is_assignment(const struct word *w)
{
	const char *s = w->s.p;
	size_t i = 0;
	if (w->lit == 0 || !is_name_start(s[0]))
		return false;
	while (i < w->lit && is_name_char(s[i]))
		i++;
	if (i < w->lit && s[i] == '[') {
		const char *e = memchr(s + i, ']', w->s.len - i);
		if (!e)
			return false;
		i = (size_t)(e - s) + 1;
		return i < w->s.len && (s[i] == '=' || (s[i] == '+' && s[i + 1] == '='));
	}
	if (i < w->lit && s[i] == '+')
		i++;
	return i < w->lit && s[i] == '=';
}

/* NAME[ with no ] in the word: bash reads an lvalue's subscript on, across
 * newlines, to its ], and evaluates it; what this parser takes for the
 * command's end is inside the subscript. */
static bool opens_subscript(const struct word *w)
{
	const char *s = w->s.p;
	size_t i = 0;
	if (w->lit == 0 || !is_name_start(s[0]))
		return false;
	while (i < w->lit && is_name_char(s[i]))
		i++;
	return i < w->lit && s[i] == '[' && !memchr(s + i, ']', w->s.len - i);
}

/* Same test on a word after quote removal (sudo/env operands). */
static bool is_assignment_str(const char *s)
{
	size_t i = 0;
	if (!is_name_start(s[0]))
		return false;
	while (is_name_char(s[i]))
		i++;
	return s[i] == '=';
}

/* ---- wrappers ------------------------------------------------------------ */

enum wrap_kind {
	W_PLAIN,   /* options, then the command */
	W_SHELL,   /* -c STRING, or reads commands from stdin */
	W_SU,      /* -c STRING anywhere */
	W_EVAL,    /* the joined operands are a command line */
	W_ENV,     /* options, assignments, -S STRING, then the command */
	W_FIND,    /* -exec CMD ... ; */
	W_WATCH,   /* the joined operands run via sh -c, unless -x */
	W_TRAP,    /* first operand is a command line */
	W_ALIAS,   /* NAME=VALUE: VALUE is a command line */
};

struct wrap_spec {
	const char *name;
	enum wrap_kind kind;
	const char *short_arg;        /* short options taking an argument */
	const char *const *long_arg;  /* long options taking an argument */
	const char *stop;             /* short options after which nothing runs */
	bool assigns;                 /* VAR=value operands before the command */
	unsigned operands;            /* operands before the command (timeout DURATION) */
	const char *shell;            /* short options that start a shell when no
	                               * command follows (sudo -s, sudo -i) */
};

static const char *const sudo_long[] = { "user", "group", "host", "prompt", "close-from",
	"chdir", "role", "type", "command-timeout", "other-user", "chroot", NULL };
static const char *const nice_long[] = { "adjustment", NULL };
static const char *const timeout_long[] = { "signal", "kill-after", NULL };
static const char *const time_long[] = { "output", "format", NULL };
static const char *const stdbuf_long[] = { "input", "output", "error", NULL };
static const char *const env_long[] = { "unset", "chdir", "split-string", NULL };
static const char *const xargs_long[] = { "arg-file", "delimiter", "eof", "replace",
	"max-lines", "max-args", "max-procs", "max-chars", "process-slot-var", NULL };
static const char *const watch_long[] = { "interval", NULL };
static const char *const shell_long[] = { "rcfile", "init-file", NULL };

static const struct wrap_spec wrappers[] = {
	{ "sudo", W_PLAIN, "CDghpRrtTUu", sudo_long, "lvKV", true, 0, "si" },
	{ "doas", W_PLAIN, "uC", NULL, NULL, false, 0, "s" },
	{ "nohup", W_PLAIN, "", NULL, NULL, false, 0, NULL },
	{ "exec", W_PLAIN, "a", NULL, NULL, false, 0, NULL },
	{ "command", W_PLAIN, "", NULL, "vV", false, 0, NULL },
	{ "builtin", W_PLAIN, "", NULL, NULL, false, 0, NULL },
	{ "nice", W_PLAIN, "n", nice_long, NULL, false, 0, NULL },
	{ "ionice", W_PLAIN, "cn", NULL, "pPu", false, 0, NULL },
	{ "timeout", W_PLAIN, "sk", timeout_long, NULL, false, 1, NULL },
	{ "stdbuf", W_PLAIN, "ioe", stdbuf_long, NULL, false, 0, NULL },
	{ "setsid", W_PLAIN, "", NULL, NULL, false, 0, NULL },
	{ "time", W_PLAIN, "of", time_long, NULL, false, 0, NULL },
	{ "xargs", W_PLAIN, "adEILnPs", xargs_long, NULL, false, 0, NULL },
	{ "busybox", W_PLAIN, "", NULL, NULL, false, 0, NULL },
	{ "env", W_ENV, "uCS", env_long, NULL, true, 0, NULL },
	{ "su", W_SU, NULL, NULL, NULL, false, 0, NULL },
	{ "eval", W_EVAL, NULL, NULL, NULL, false, 0, NULL },
	{ "find", W_FIND, NULL, NULL, NULL, false, 0, NULL },
	{ "watch", W_WATCH, "n", watch_long, NULL, false, 0, NULL },
	{ "trap", W_TRAP, NULL, NULL, NULL, false, 0, NULL },
	{ "alias", W_ALIAS, NULL, NULL, NULL, false, 0, NULL },
	{ "sh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "bash", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "rbash", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "dash", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "ash", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "zsh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "ksh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "mksh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "yash", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "fish", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "csh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
	{ "tcsh", W_SHELL, "oO", shell_long, NULL, false, 0, NULL },
};

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

static bool in_list(const char *const *list, const char *s, size_t n)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
			return true;
	return false;
}

/* Skip the options of SPEC from av[k]. *stop is set when an option means
 * nothing runs; *captured (may be NULL) gets the argument of option
 * CAP_SHORT / CAP_LONG when present. Returns the index of the first operand. */
static size_t skip_opts(char *const *av, size_t n, size_t k, const struct wrap_spec *spec,
			bool *stop, char cap_short, const char *cap_long, const char **captured)
{
	while (k < n) {
		const char *w = av[k];
		if (strcmp(w, "--") == 0) {
			k++;
			break;
		}
		if (w[0] != '-' || w[1] == '\0')
			break;
		if (w[1] == '-') {
			const char *name = w + 2, *eq = strchr(name, '=');
			size_t nl = eq ? (size_t)(eq - name) : strlen(name);
			bool is_cap = cap_long && strlen(cap_long) == nl && memcmp(cap_long, name, nl) == 0;
			if (eq) {
				if (is_cap && captured)
					*captured = eq + 1;
				k++;
			} else if (in_list(spec->long_arg, name, nl)) {
				if (is_cap && captured && k + 1 < n)
					*captured = av[k + 1];
				k += 2;
			} else {
				k++;
			}
			continue;
		}
		for (const char *c = w + 1; *c; c++) {
			if (spec->stop && strchr(spec->stop, *c))
				*stop = true;
			if (spec->short_arg && strchr(spec->short_arg, *c)) {
				const char *arg = c[1] ? c + 1 : (k + 1 < n ? av[k + 1] : NULL);
				if (*c == cap_short && captured && arg)
					*captured = arg;
				if (!c[1])
					k++;
				break;
			}
		}
		k++;
	}
	return k < n ? k : n;
}

static int join_words(char *const *av, size_t n, const char *prefix, struct gh_buf *out)
{
	int r = 0;
	if (prefix && (r = sb_put(out, prefix, strlen(prefix))) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((out->len > 0 && (r = sb_putc(out, ' ')) < 0) ||
		    (r = sb_put(out, av[i], strlen(av[i]))) < 0)
			return r;
	}
	if (!out->p)
		r = sb_put(out, "", 0);
	return r;
}

/* A string a shell will run that holds an expansion made before it runs
 * (eval "echo $x", trap "…$x…", su -c "$x"): x's value becomes code. */
static void dyn_string(struct parser *p, const bool *dyn, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (dyn[k]) {
			mark_last(p, GH_WHY_STRING);
			return;
		}
}

static int nested_join(struct parser *p, char *const *av, size_t n, const char *prefix,
		       size_t off, size_t len)
{
	struct gh_buf s = { 0 };
	int r = join_words(av, n, prefix, &s);
	if (r >= 0)
		r = parse_nested(p, s.p, s.len, off, len, GH_CMD_NESTED);
	free(s.p);
	return r;
}

static int unwrap(struct parser *p, char *const *av, const bool *dyn, size_t n, size_t i,
		  size_t off, size_t len, unsigned level, bool *ret_shell_stdin);

/* xargs OPTS CMD ARGS (av[i] is xargs, av[j] CMD): CMD runs with words of
 * xargs' input appended, or put where -I REPLACE (-i: "{}") stands. CMD
 * and what it wraps are judged with that input as a word only known at
 * run time, so `xargs env`, `xargs sh -c`, `xargs -I{} sh -c '{}'` are
 * dynamic while `xargs rm` is rm. */
static int unwrap_xargs(struct parser *p, char *const *av, const bool *dyn, size_t n, size_t i,
			size_t j, const char *replace, size_t off, size_t len, unsigned level)
{
	size_t m = n - j + 1;
	char **nav = calloc(m + 1, sizeof *nav);
	bool *ndyn = calloc(m, sizeof *ndyn);
	int r = GH_ENOMEM;

	for (size_t k = i + 1; k < j && !replace; k++)
		if (!strcmp(av[k], "-i") || !strcmp(av[k], "--replace"))
			replace = "{}";
	if (!nav || !ndyn)
		goto out;
	for (size_t k = j; k < n; k++) {
		nav[k - j] = av[k];
		ndyn[k - j] = dyn[k] || (replace && *replace && strstr(av[k], replace));
	}
	nav[m - 1] = (char *)XARGS_INPUT;
	ndyn[m - 1] = true;
	if ((r = emit(p, av + j, dyn + j, n - j, NULL, GH_CMD_WRAPPED, off, len)) < 0)
		goto out;
	if (ndyn[0])
		mark_last(p, GH_WHY_XARGS);
	if (level < 4)
		r = unwrap(p, nav, ndyn, replace ? m - 1 : m, 0, off, len, level + 1, NULL);
	else
		mark_last(p, GH_WHY_XARGS);
out:
	free(nav);
	free(ndyn);
	return r;
}

/* The command av[i..n) has been emitted; report what it wraps.
 * *ret_shell_stdin is set when the innermost command is a shell that
 * reads its commands from standard input. Long (about 190 lines): one
 * switch over the wrapper kinds of the wrappers table (sudo, env, xargs,
 * nice, sh -c, ...) walking the same argument cursor; each case is short,
 * and a function per case would pass the walk's whole state by pointer. */
static int unwrap(struct parser *p, char *const *av, const bool *dyn, size_t n, size_t i,
		  size_t off, size_t len, unsigned level, bool *ret_shell_stdin)
{
	int r = 0;
	bool shell_stdin = false;

	for (unsigned steps = 0; i < n && steps < 64; steps++) {
		const struct wrap_spec *spec = NULL;
		const char *name = base_name(av[i]), *cap = NULL;
		bool stop = false, has_c = false, has_s = false, has_x = false, has_rc = false;
		size_t j;

		if (dyn[i])
			break;
		for (size_t k = 0; k < sizeof wrappers / sizeof wrappers[0]; k++)
			if (strcmp(wrappers[k].name, name) == 0)
				spec = &wrappers[k];
		if (!spec)
			break;

		switch (spec->kind) {
		case W_PLAIN:
		case W_ENV:
			j = skip_opts(av, n, i + 1, spec, &stop,
				      spec->kind == W_ENV ? 'S' : !strcmp(spec->name, "xargs") ? 'I' : 0,
				      spec->kind == W_ENV ? "split-string"
				      : !strcmp(spec->name, "xargs") ? "replace" : NULL, &cap);
			if (stop)
				goto out;
			if (spec->kind == W_ENV && j < n && strcmp(av[j], "-") == 0)
				j++;
			if (cap && spec->kind == W_ENV) {
				/* env -S STRING: the string is split into more words */
				dyn_string(p, dyn + i + 1, n - i - 1);
				r = nested_join(p, av + j, n - j, cap, off, len);
				goto out;
			}
			while (spec->assigns && j < n && is_assignment_str(av[j]))
				j++;
			j += spec->operands;
			if (!strcmp(spec->name, "xargs") && j < n) {
				r = unwrap_xargs(p, av, dyn, n, i, j, cap, off, len, level);
				goto out;
			}
			if (j >= n) {
				/* sudo -s / -i with no command: a shell reading stdin */
				for (size_t k = i + 1; spec->shell && k < n; k++)
					if (av[k][0] == '-' && av[k][1] != '-' &&
					    strpbrk(av[k] + 1, spec->shell))
						shell_stdin = true;
				goto out;
			}
			if ((r = emit(p, av + j, dyn + j, n - j, NULL, GH_CMD_WRAPPED, off, len)) < 0)
				goto out;
			i = j;
			continue;
		case W_SHELL:
			for (j = i + 1; j < n; j++) {
				const char *w = av[j];
				if (strcmp(w, "--") == 0 || strcmp(w, "-") == 0) {
					j++;
					break;
				}
				if (w[0] == '-' && w[1] == '-') {
					if (in_list(spec->long_arg, w + 2, strlen(w + 2))) {
						j++;
						has_rc = true; /* --rcfile/--init-file: a file of code */
					}
					continue;
				}
				if ((w[0] != '-' && w[0] != '+') || w[1] == '\0')
					break;
				for (const char *c = w + 1; *c; c++) {
					if (*c == 'c')
						has_c = true;
					else if (*c == 's')
						has_s = true;
					else if (*c == 'o' || *c == 'O')
						j++;
				}
			}
			if (has_rc)
				mark_last(p, GH_WHY_SCRIPT);
			if (has_c) {
				if (j < n && dyn[j])
					mark_last(p, strstr(av[j], XARGS_INPUT) ? GH_WHY_XARGS
										 : GH_WHY_STRING);
				if (j < n)
					r = parse_nested(p, av[j], strlen(av[j]), off, len, GH_CMD_NESTED);
			} else if (j >= n || has_s) {
				shell_stdin = true;
			} else {
				/* sh FILE: a script (/dev/stdin, <(...) included) */
				mark_last(p, GH_WHY_SCRIPT);
			}
			goto out;
		case W_SU:
			for (j = i + 1; j < n; j++) {
				const char *w = av[j];
				if (strncmp(w, "--command=", 10) == 0) {
					cap = w + 10;
				} else if (strcmp(w, "--command") == 0 || strcmp(w, "-c") == 0) {
					cap = j + 1 < n ? av[j + 1] : NULL;
				} else if (w[0] == '-' && w[1] != '-' && strchr(w, 'c')) {
					const char *c = strchr(w, 'c');
					cap = c[1] ? c + 1 : (j + 1 < n ? av[j + 1] : NULL);
				} else {
					continue;
				}
				break;
			}
			if (cap) {
				dyn_string(p, dyn + i + 1, n - i - 1);
				r = parse_nested(p, cap, strlen(cap), off, len, GH_CMD_NESTED);
			} else {
				shell_stdin = true; /* su without -c starts a shell */
			}
			goto out;
		case W_EVAL:
			j = i + 1;
			if (j < n && strcmp(av[j], "--") == 0)
				j++;
			dyn_string(p, dyn + j, n - j);
			r = nested_join(p, av + j, n - j, NULL, off, len);
			goto out;
		case W_FIND:
			for (j = i + 1; j < n; j++) {
				size_t m, e;
				if (strcmp(av[j], "-exec") != 0 && strcmp(av[j], "-execdir") != 0 &&
				    strcmp(av[j], "-ok") != 0 && strcmp(av[j], "-okdir") != 0)
					continue;
				m = j + 1;
				for (e = m; e < n && strcmp(av[e], ";") != 0 && strcmp(av[e], "+") != 0; e++)
					;
				if (e > m) {
					if ((r = emit(p, av + m, dyn + m, e - m, NULL, GH_CMD_WRAPPED, off, len)) < 0)
						goto out;
					if (level < 4 &&
					    (r = unwrap(p, av, dyn, e, m, off, len, level + 1, NULL)) < 0)
						goto out;
				}
				j = e;
			}
			goto out;
		case W_WATCH:
			for (j = i + 1; j < n && av[j][0] == '-' && av[j][1] != '\0'; j++) {
				if (strcmp(av[j], "--") == 0) {
					j++;
					break;
				}
				if (strcmp(av[j], "-x") == 0 || strcmp(av[j], "--exec") == 0)
					has_x = true;
				else if (strcmp(av[j], "-n") == 0 || strcmp(av[j], "--interval") == 0)
					j++;
			}
			if (j >= n)
				goto out;
			if (!has_x) {
				dyn_string(p, dyn + j, n - j);
				r = nested_join(p, av + j, n - j, NULL, off, len);
				goto out;
			}
			if ((r = emit(p, av + j, dyn + j, n - j, NULL, GH_CMD_WRAPPED, off, len)) < 0)
				goto out;
			i = j;
			continue;
		case W_TRAP:
			j = i + 1;
			if (j < n && strcmp(av[j], "--") == 0)
				j++;
			if (j < n && av[j][0] != '-') {
				dyn_string(p, dyn + j, 1);
				r = parse_nested(p, av[j], strlen(av[j]), off, len, GH_CMD_NESTED);
			}
			goto out;
		case W_ALIAS:
			for (j = i + 1; j < n; j++) {
				const char *eq = strchr(av[j], '=');
				if (eq)
					dyn_string(p, dyn + j, 1);
				if (eq && (r = parse_nested(p, eq + 1, strlen(eq + 1), off, len,
							    GH_CMD_NESTED)) < 0)
					goto out;
			}
			goto out;
		}
	}
out:
	if (r >= 0 && ret_shell_stdin)
		*ret_shell_stdin = shell_stdin;
	return r;
}

/* ---- commands ------------------------------------------------------------ */

/* SUB's text as bash reads an unquoted here-document body or a prompt
 * string: only its expansions run (their commands are emitted, what is
 * dynamic in them is left in sub->why). */
static int scan_expansions(struct parser *sub)
{
	struct word scratch = { 0 };
	int r = 0;
	while (sub->pos < sub->len && r >= 0) {
		char c = sub->s[sub->pos];
		if (c == '\\')
			sub->pos += 2;
		else if (c == '$')
			r = parse_dollar(sub, &scratch, true);
		else if (c == '`')
			r = parse_backtick(sub, &scratch, true);
		else
			sub->pos++;
	}
	word_fini(&scratch);
	return r;
}

/* A prompt string VAL (PS0..PS4): bash decodes its backslash escapes, then
 * expands it as a double-quoted word each time it is shown. An octal
 * escape may decode to '$' or '`' (dynamic); the rest is scanned. */
static int scan_prompt(struct parser *p, const char *val, size_t n, size_t off, size_t len,
		       const char **ret_why)
{
	struct parser sub;
	int r;
	for (size_t i = 0; i + 1 < n; i++) {
		if (val[i] == '\\' && val[i + 1] >= '0' && val[i + 1] <= '7') {
			*ret_why = GH_WHY_PROMPT_ESC;
			return 0;
		}
		if (val[i] == '\\')
			i++;
	}
	if ((r = parser_init(&sub, p->ctx, val, n, p->depth + 1, p->flags | GH_CMD_NESTED)) < 0)
		return r;
	sub.fixed = true;
	sub.fix_off = off;
	sub.fix_len = len;
	r = scan_expansions(&sub);
	if (r >= 0 && sub.why)
		*ret_why = sub.why;
	parser_fini(&sub);
	return r;
}

/* The end of the subscript of an lvalue at WORD[I] == '[' (the ']'), 0
 * when there is none. */
static size_t subscript_end(const char *word, size_t i)
{
	int depth = 0;
	for (; word[i]; i++) {
		if (word[i] == '[')
			depth++;
		else if (word[i] == ']' && --depth == 0)
			return i;
	}
	return 0;
}

/* An assignment NAME[SUB]=VALUE or NAME+=VALUE (WORD after quote removal;
 * EXPANDED: it held an expansion made at assignment time). A subscript
 * that is not a number is evaluated as code; a value of PROMPT_COMMAND is
 * split as commands, one of PS0..PS4 scanned as a prompt (both dynamic
 * when expanded now: x's value, not seen, becomes the code); a variable
 * naming code is dynamic. *ret_why: the reason, or NULL. */
static int assign_check(struct parser *p, const char *word, bool expanded, size_t off,
			size_t len, const char **ret_why)
{
	size_t nl = 0, i;
	const char *val;

	*ret_why = NULL;
	while (is_name_char(word[nl]))
		nl++;
	if (gh_var_kind(word, nl) == GH_VAR_LOADER) {
		*ret_why = GH_WHY_CODEVAR;
		return 0;
	}
	i = nl;
	if (word[i] == '[') {
		size_t e = subscript_end(word, i);
		if (!e || !gh_plain_lvalue(word, e + 1))
			*ret_why = GH_WHY_SUBSCRIPT;
		i = e ? e + 1 : strlen(word);
	}
	if (word[i] == '+')
		i++;
	if (word[i] != '=')
		return 0;
	val = word + i + 1;
	if (expanded && gh_var_kind(word, nl) != GH_VAR_DATA)
		*ret_why = GH_WHY_CODEVAR;
	switch (gh_var_kind(word, nl)) {
	case GH_VAR_CODE:
		return parse_nested(p, val, strlen(val), off, len, GH_CMD_NESTED);
	case GH_VAR_PROMPT:
		return scan_prompt(p, val, strlen(val), off, len, ret_why);
	case GH_VAR_LOADER:
		*ret_why = GH_WHY_CODEVAR;
		return 0;
	default:
		return 0;
	}
}

/* One element of NAME=( ... ) (KIND: NAME's gh_var_kind): [SUB]=VALUE
 * evaluates SUB; an element of PROMPT_COMMAND is a command line. */
static int array_elem_check(struct parser *p, enum gh_var_kind kind, const struct word *w,
			    size_t off, size_t len)
{
	const char *v = w->s.p;
	if (w->lit > 0 && v[0] == '[') {
		size_t e = subscript_end(v, 0);
		if (!e || v[e + 1] != '=' || !gh_arith_safe(v + 1, e - 1))
			set_dyn(p, GH_WHY_SUBSCRIPT);
		if (e && v[e + 1] == '=')
			v += e + 2;
	}
	if (kind != GH_VAR_DATA && w->expand)
		set_dyn(p, GH_WHY_CODEVAR);
	if (kind == GH_VAR_CODE)
		return parse_nested(p, v, strlen(v), off, len, GH_CMD_NESTED);
	if (kind == GH_VAR_LOADER)
		set_dyn(p, GH_WHY_CODEVAR);
	return 0;
}

/* Bodies of pending here-documents: pos just after a newline. */
static int read_heredocs(struct parser *p)
{
	int r = 0;
	for (; p->hd_done < p->n_hd && r >= 0; p->hd_done++) {
		struct heredoc *h = &p->hd[p->hd_done];
		size_t start = p->pos, body_end = p->len, dl = strlen(h->delim);
		struct parser sub;

		while (p->pos < p->len) {
			size_t line = p->pos, ls = line, le;
			const char *nl = memchr(p->s + ls, '\n', p->len - ls);
			le = nl ? (size_t)(nl - p->s) : p->len;
			if (h->strip_tabs)
				while (ls < le && p->s[ls] == '\t')
					ls++;
			p->pos = nl ? le + 1 : le;
			if (le - ls == dl && memcmp(p->s + ls, h->delim, dl) == 0) {
				body_end = line;
				break;
			}
		}
		if (h->quoted && !h->feed_shell)
			continue;
		if ((r = parser_init(&sub, p->ctx, p->s + start, body_end - start, p->depth + 1,
				     p->flags | (h->feed_shell ? GH_CMD_NESTED : 0))) < 0)
			break;
		sub.fixed = true;
		sub.fix_off = h->span_off;
		sub.fix_len = h->span_len;
		if (h->feed_shell) {
			sub.in_default = IN_SEEN;
			r = parse_list(&sub, T_EOF);
		} else {
			r = scan_expansions(&sub);
			if (r >= 0 && sub.why) /* e.g. $((a)) in the body */
				r = emit_text(p, sub.s, sub.len, sub.why, h->span_off, h->span_len);
		}
		parser_fini(&sub);
	}
	return r;
}

/* A redirection: pos at its first byte (fd digits, '{name}', '&>', '<', '>').
 * Here-documents are registered; here-strings returned in *herestr. */
static int parse_redir(struct parser *p, enum stdin_kind *in, struct word *herestr)
{
	const char *s = p->s;
	struct word w = { 0 };
	bool fd0 = true, heredoc = false, strip = false, hstr = false, input = false;
	int r = 0;

	if (s[p->pos] == '{') {
		while (s[p->pos] != '}')
			p->pos++;
		p->pos++;
		fd0 = false;
	}
	while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
		if (s[p->pos] != '0')
			fd0 = false;
		p->pos++;
	}
	if (s[p->pos] == '&') { /* &> &>> */
		p->pos += 2;
		if (p->pos < p->len && s[p->pos] == '>')
			p->pos++;
	} else if (s[p->pos] == '<') {
		p->pos++;
		input = true;
		if (p->pos < p->len && s[p->pos] == '<') {
			p->pos++;
			if (p->pos < p->len && s[p->pos] == '<') {
				p->pos++;
				hstr = true;
			} else {
				heredoc = true;
				if (p->pos < p->len && s[p->pos] == '-') {
					p->pos++;
					strip = true;
				}
			}
		} else if (p->pos < p->len && (s[p->pos] == '&' || s[p->pos] == '>')) {
			p->pos++;
		}
	} else { /* > >> >| >& */
		p->pos++;
		if (p->pos < p->len && (s[p->pos] == '>' || s[p->pos] == '|' || s[p->pos] == '&'))
			p->pos++;
	}
	skip_blanks(p);
	if (p->pos >= p->len || (is_delim(s[p->pos]) &&
				 !((s[p->pos] == '<' || s[p->pos] == '>') && p->pos + 1 < p->len &&
				   s[p->pos + 1] == '('))) {
		r = GH_EINVAL;
		goto out;
	}
	if ((r = read_word(p, &w)) < 0)
		goto out;
	if (heredoc) {
		struct heredoc *h;
		if (p->n_hd == p->cap_hd) {
			size_t cap = p->cap_hd ? p->cap_hd * 2 : 4;
			struct heredoc *v = NULL;
			if (cap > GH_CMD_MAX_CMDS) {
				r = GH_ELIMIT;
				goto out;
			}
			v = realloc(p->hd, cap * sizeof *v);
			if (!v) {
				r = GH_ENOMEM;
				goto out;
			}
			p->hd = v;
			p->cap_hd = cap;
		}
		h = &p->hd[p->n_hd];
		memset(h, 0, sizeof *h);
		h->delim = w.s.p;
		w.s.p = NULL;
		h->strip_tabs = strip;
		h->quoted = w.quoted;
		p->n_hd++;
		if (fd0)
			*in = IN_HEREDOC;
	} else if (hstr) {
		if (fd0) {
			word_fini(herestr);
			*herestr = w;
			memset(&w, 0, sizeof w);
			*in = IN_HERESTR;
		}
	} else if (input && fd0) {
		*in = IN_FILE;
	}
out:
	word_fini(&w);
	return r;
}

/* Is a redirection at pos? */
static bool at_redir(const struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;
	if (s[i] == '&')
		return i + 1 < p->len && s[i + 1] == '>';
	if (s[i] == '{') {
		i++;
		if (i >= p->len || !is_name_start(s[i]))
			return false;
		while (i < p->len && is_name_char(s[i]))
			i++;
		if (i >= p->len || s[i] != '}')
			return false;
		i++;
	} else {
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i >= p->len || (s[i] != '<' && s[i] != '>'))
		return false;
	return !(i + 1 < p->len && s[i + 1] == '(');
}

static bool is_arith_op(const struct word *w)
{
	static const char *const ops[] = { "-eq", "-ne", "-lt", "-le", "-gt", "-ge", NULL };
	for (size_t i = 0; !w->quoted && ops[i]; i++)
		if (!strcmp(w->s.p, ops[i]))
			return true;
	return false;
}

/* What [[ ]] evaluates: the operands of -eq and the like as arithmetic,
 * the operand of -v/-R as a variable name (its subscript as arithmetic).
 * PREV is the word before W (NULL at the start); *need says what W had
 * to be (0 anything, 1 arithmetic, 2 a name) and gets what the next one has to be. */
static void cond_word(struct parser *p, const struct word *prev, const struct word *w, int *need)
{
	if (*need == 1 && !gh_arith_safe(w->s.p, w->s.len))
		set_dyn(p, GH_WHY_ARITH);
	if (*need == 2 && !gh_plain_lvalue(w->s.p, w->s.len))
		set_dyn(p, GH_WHY_NAME);
	*need = 0;
	if (is_arith_op(w)) {
		if (prev && !gh_arith_safe(prev->s.p, prev->s.len))
			set_dyn(p, GH_WHY_ARITH);
		*need = 1;
	} else if (!w->quoted && (!strcmp(w->s.p, "-v") || !strcmp(w->s.p, "-R"))) {
		*need = 2;
	}
}

/* [[ ... ]]: pos after "[[". Operators inside are not separators. */
static int parse_cond(struct parser *p)
{
	struct word prev = { 0 };
	bool have_prev = false;
	int r = 0, need = 0;
	for (;;) {
		struct word w = { 0 };
		while (p->pos < p->len && (is_blank(p->s[p->pos]) || p->s[p->pos] == '\n'))
			p->pos++;
		if (p->pos >= p->len) {
			r = GH_EINVAL;
			break;
		}
		if (at_word(p, "]]")) {
			p->pos += 2;
			if (need)
				set_dyn(p, GH_WHY_ARITH);
			break;
		}
		if (is_delim(p->s[p->pos]) &&
		    !((p->s[p->pos] == '<' || p->s[p->pos] == '>') && p->pos + 1 < p->len &&
		      p->s[p->pos + 1] == '(')) {
			p->pos++;
			continue;
		}
		r = read_word(p, &w);
		if (r < 0) {
			word_fini(&w);
			break;
		}
		cond_word(p, have_prev ? &prev : NULL, &w, &need);
		word_fini(&prev);
		prev = w;
		have_prev = true;
	}
	word_fini(&prev);
	return r;
}

/* Words up to the next ; or newline (for NAME in WORDS): their expansions
 * run, nothing else does. */
static int skip_for_header(struct parser *p)
{
	int r = 0;
	skip_blanks(p);
	if (p->pos + 1 < p->len && p->s[p->pos] == '(' && p->s[p->pos + 1] == '(') {
		p->pos += 2;
		r = scan_arith(p);
		return r < 0 ? r : r == 1 ? 0 : GH_EINVAL;
	}
	for (bool first = true;; first = false) {
		struct word w = { 0 };
		skip_blanks(p);
		if (p->pos >= p->len || p->s[p->pos] == ';' || p->s[p->pos] == '\n' ||
		    p->s[p->pos] == '&')
			return 0;
		if (is_delim(p->s[p->pos]))
			return GH_EINVAL;
		r = read_word(p, &w);
		/* for PS1 in …: the loop assigns the words to the variable */
		if (r >= 0 && first && gh_var_kind(w.s.p, w.s.len) != GH_VAR_DATA)
			set_dyn(p, GH_WHY_CODEVAR);
		word_fini(&w);
		if (r < 0)
			return r;
	}
}

static void skip_space_nl(struct parser *p)
{
	for (;;) {
		skip_blanks(p);
		if (p->pos < p->len && p->s[p->pos] == '\n') {
			p->pos++;
		} else if (p->pos < p->len && p->s[p->pos] == '#') {
			skip_comment(p);
		} else {
			break;
		}
	}
}

/* case WORD in [(]PAT[|PAT]...) LIST ;; ... esac: pos after "case". */
static int parse_case(struct parser *p)
{
	struct word w = { 0 };
	int r;

	if (p->depth + 1 > GH_CMD_MAX_DEPTH)
		return GH_ELIMIT;
	skip_blanks(p);
	if (p->pos >= p->len || is_delim(p->s[p->pos]))
		return GH_EINVAL;
	if ((r = read_word(p, &w)) < 0)
		goto out;
	word_fini(&w);
	skip_space_nl(p);
	if (!at_word(p, "in")) {
		r = GH_EINVAL;
		goto out;
	}
	p->pos += 2;
	for (;;) {
		skip_space_nl(p);
		if (p->pos >= p->len) {
			r = GH_EINVAL;
			goto out;
		}
		if (at_word(p, "esac")) {
			p->pos += 4;
			break;
		}
		if (p->s[p->pos] == '(')
			p->pos++;
		for (;;) {
			skip_blanks(p);
			if (p->pos >= p->len || is_delim(p->s[p->pos])) {
				r = GH_EINVAL;
				goto out;
			}
			if ((r = read_word(p, &w)) < 0)
				goto out;
			word_fini(&w);
			skip_blanks(p);
			if (p->pos < p->len && p->s[p->pos] == '|') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ')') {
				p->pos++;
				break;
			}
			r = GH_EINVAL;
			goto out;
		}
		p->depth++;
		r = parse_list(p, T_CASE);
		p->depth--;
		if (r < 0)
			goto out;
		if (p->pos + 1 < p->len && p->s[p->pos] == ';') {
			p->pos += 2;  /* ;; or ;& */
			if (p->pos < p->len && p->s[p->pos] == '&')
				p->pos++;  /* ;;& */
		}
	}
out:
	word_fini(&w);
	return r;
}

/* An assignment word W (read from WSTART) before a command or alone, and
 * the words of NAME=( ... ) after it: what it makes dynamic is set on P,
 * code it assigns is split (assign_check). W is consumed. */
static int read_assignment(struct parser *p, struct word *w, size_t wstart)
{
	bool array = w->s.len > 0 && w->s.p[w->s.len - 1] == '=' && w->lit == w->s.len &&
		     p->pos < p->len && p->s[p->pos] == '(';
	const char *why = NULL;
	size_t nl = 0, aoff, alen;
	enum gh_var_kind kind;
	int r;

	while (is_name_char(w->s.p[nl]))
		nl++;
	kind = gh_var_kind(w->s.p, nl);
	span_of(p, wstart, p->pos, &aoff, &alen);
	r = assign_check(p, w->s.p, w->expand, aoff, alen, &why);
	word_fini(w);
	if (r < 0)
		return r;
	if (why)
		set_dyn(p, why);
	if (!array)
		return 0;
	p->pos++; /* NAME=( words ) */
	for (;;) {
		skip_space_nl(p);
		if (p->pos >= p->len)
			return GH_EINVAL;
		if (p->s[p->pos] == ')') {
			p->pos++;
			return 0;
		}
		if (is_delim(p->s[p->pos]))
			return GH_EINVAL;
		if ((r = read_word(p, w)) >= 0)
			r = array_elem_check(p, kind, w, aoff, alen);
		word_fini(w);
		if (r < 0)
			return r;
	}
}

static const char *const noise_words[] = { "if", "then", "else", "elif", "fi", "do", "done",
	"while", "until", "!", "{", "}", NULL };

/* One command at pos (not at a separator). *ret_esac is set when TERM is
 * T_CASE and the word "esac" ends the case item list (pos left on it).
 * Long (about 220 lines) because it is the one loop over a simple
 * command's tokens where words, assignments, redirections, here-strings,
 * case/esac and keywords meet and share state (the word vector, the
 * standard input's kind, what is dynamic); each token's work is already
 * its own function (read_word, parse_redir, assign_check), and what is
 * left is the dispatch that must see all of them. */
static int parse_command(struct parser *p, int term, bool piped, bool *ret_esac)
{
	struct wordvec wv = { 0 };
	struct word w = { 0 }, herestr = { 0 };
	enum stdin_kind in = piped ? IN_PIPE : (enum stdin_kind)p->in_default;
	size_t start = p->pos, hd_mark = p->n_hd, off, len, end, wstart;
	char **av = NULL;
	bool *dyn = NULL, shell_stdin = false, esac = false, assigned = false, started = false;
	bool emitted = false;
	const char *outer_why = p->why;
	int outer_in = p->in_default, outer_cur = p->cur_in, r = 0;

	/* what this command finds dynamic is its own; its substitutions
	 * share its standard input */
	p->why = NULL;
	p->in_default = in;
	p->cur_in = in;
	for (;;) {
		char c;
		skip_blanks(p);
		if (p->pos >= p->len)
			break;
		c = p->s[p->pos];
		if (c == '\n' || c == ';' || c == '|' || c == ')' ||
		    (c == '&' && !(p->pos + 1 < p->len && p->s[p->pos + 1] == '>')))
			break;
		if (c == '#') {
			skip_comment(p);
			break;
		}
		if (wv.n == 0 && !assigned) {
			bool noise = false;
			if (term == T_CASE && at_word(p, "esac")) {
				esac = true;
				break;
			}
			for (size_t k = 0; noise_words[k]; k++) {
				if (at_word(p, noise_words[k])) {
					p->pos += strlen(noise_words[k]);
					noise = true;
					break;
				}
			}
			if (noise)
				continue;
			if (at_word(p, "time")) {
				p->pos += 4;
				skip_blanks(p);
				if (at_word(p, "-p"))
					p->pos += 2;
				continue;
			}
			if (at_word(p, "for") || at_word(p, "select")) {
				p->pos += p->s[p->pos] == 'f' ? 3 : 6;
				r = skip_for_header(p);
				goto out;
			}
			if (at_word(p, "case")) {
				p->pos += 4;
				if ((r = parse_case(p)) < 0)
					goto out;
				continue;
			}
			if (at_word(p, "function")) {
				p->pos += 8;
				skip_blanks(p);
				if (p->pos >= p->len || is_delim(p->s[p->pos])) {
					r = GH_EINVAL;
					goto out;
				}
				if ((r = read_word(p, &w)) < 0)
					goto out;
				word_fini(&w);
				skip_blanks(p);
				if (p->pos + 1 < p->len && p->s[p->pos] == '(') {
					p->pos++;
					skip_blanks(p);
					if (p->pos >= p->len || p->s[p->pos] != ')') {
						r = GH_EINVAL;
						goto out;
					}
					p->pos++;
				}
				continue;
			}
			if (at_word(p, "coproc")) {
				r = GH_EINVAL; /* coproc NAME { } is ambiguous to a scanner */
				goto out;
			}
			if (at_word(p, "[[")) {
				p->pos += 2;
				if ((r = parse_cond(p)) < 0)
					goto out;
				continue;
			}
			if (c == '(') {
				if (p->pos + 1 < p->len && p->s[p->pos + 1] == '(') {
					p->pos += 2;
					if ((r = scan_arith(p)) < 0)
						goto out;
					if (r == 1) {
						r = 0;
						continue;
					}
					p->pos -= 2;
				}
				p->pos++;
				if ((r = parse_subst_body(p, 0)) < 0) /* a subshell */
					goto out;
				continue;
			}
		}
		if (!started) {
			start = p->pos; /* the span starts after keywords like "then" */
			started = true;
		}
		if (c == '(') {
			if (wv.n == 1 && !assigned && !wv.v[0].quoted && !wv.v[0].expand) {
				/* NAME () BODY: a function definition; the body follows */
				p->pos++;
				skip_blanks(p);
				if (p->pos >= p->len || p->s[p->pos] != ')') {
					r = GH_EINVAL;
					goto out;
				}
				p->pos++;
				wv_fini(&wv);
				continue;
			}
			r = GH_EINVAL;
			goto out;
		}
		if (at_redir(p) || ((c == '<' || c == '>') && !(p->pos + 1 < p->len &&
								 p->s[p->pos + 1] == '('))) {
			if ((r = parse_redir(p, &in, &herestr)) < 0)
				goto out;
			continue;
		}
		wstart = p->pos;
		if ((r = read_word(p, &w)) < 0)
			goto out;
		if (wv.n == 0 && opens_subscript(&w))
			set_dyn(p, GH_WHY_SUBSCRIPT);
		if (wv.n == 0 && is_assignment(&w)) {
			assigned = true;
			if ((r = read_assignment(p, &w, wstart)) < 0)
				goto out;
			continue;
		}
		if ((r = wv_push(&wv, &w)) < 0)
			goto out;
	}

	/* the span ends at the last token, not at the blanks after it */
	end = p->pos;
	for (;;) {
		if (end > start && is_blank(p->s[end - 1]) &&
		    !(end - start >= 2 && p->s[end - 2] == '\\'))
			end--;
		else if (end - start >= 2 && p->s[end - 1] == '\n' && p->s[end - 2] == '\\')
			end -= 2;
		else
			break;
	}
	if (wv.n > 0) {
		av = calloc(wv.n + 1, sizeof *av);
		dyn = calloc(wv.n, sizeof *dyn);
		if (!av || !dyn) {
			r = GH_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < wv.n; i++) {
			av[i] = wv.v[i].s.p;
			dyn[i] = wv.v[i].expand;
		}
		span_of(p, start, end, &off, &len);
		if ((r = emit(p, av, dyn, wv.n, p->why, 0, off, len)) < 0)
			goto out;
		emitted = true;
		p->cur_in = in;
		if ((r = unwrap(p, av, dyn, wv.n, 0, off, len, 0, &shell_stdin)) < 0)
			goto out;
		for (size_t i = hd_mark; i < p->n_hd; i++) {
			p->hd[i].span_off = off;
			p->hd[i].span_len = len;
			p->hd[i].feed_shell = shell_stdin;
		}
		if (shell_stdin) {
			if (in == IN_HERESTR && herestr.s.p)
				r = parse_nested(p, herestr.s.p, herestr.s.len, off, len, GH_CMD_NESTED);
			else if (in == IN_PIPE || in == IN_FILE)
				mark_last(p, GH_WHY_SHELL_IN);
			else if (in == IN_TTY)
				p->ctx->out->v[p->ctx->out->n - 1].flags |= GH_CMD_SHELL_STDIN;
		}
	} else {
		span_of(p, start, end, &off, &len);
		for (size_t i = hd_mark; i < p->n_hd; i++) {
			p->hd[i].span_off = off;
			p->hd[i].span_len = len;
		}
	}
out:
	if (r >= 0 && p->why && !emitted) {
		/* dynamic with no command of its own: (( a )), [[ ]], x=$((a)) */
		end = p->pos;
		while (end > start && (is_blank(p->s[end - 1]) || p->s[end - 1] == '\n'))
			end--;
		span_of(p, start, end, &off, &len);
		r = emit_text(p, p->s + start, end > start ? end - start : 0, p->why, off, len);
	}
	if (r >= 0 && esac)
		*ret_esac = true;
	p->why = outer_why;
	p->in_default = outer_in;
	p->cur_in = outer_cur;
	free(av);
	free(dyn);
	word_fini(&w);
	word_fini(&herestr);
	wv_fini(&wv);
	return r;
}

static int parse_list(struct parser *p, int term)
{
	bool piped = false;
	int r = 0;

	for (;;) {
		char c;
		size_t before;
		bool esac = false;

		skip_blanks(p);
		if (p->pos >= p->len) {
			r = term == T_EOF ? 0 : GH_EINVAL;
			break;
		}
		c = p->s[p->pos];
		if (c == '#') {
			skip_comment(p);
			continue;
		}
		if (c == '\n') {
			/* after |, newlines continue the pipeline: piped stays */
			p->pos++;
			if ((r = read_heredocs(p)) < 0)
				break;
			continue;
		}
		if (c == ';') {
			if (p->pos + 1 < p->len && (p->s[p->pos + 1] == ';' || p->s[p->pos + 1] == '&')) {
				r = term == T_CASE ? 0 : GH_EINVAL;
				break;
			}
			p->pos++;
			piped = false;
			continue;
		}
		if (c == '&' && !(p->pos + 1 < p->len && p->s[p->pos + 1] == '>')) {
			p->pos += p->pos + 1 < p->len && p->s[p->pos + 1] == '&' ? 2 : 1;
			piped = false;
			continue;
		}
		if (c == '|') {
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == '|') {
				p->pos += 2;
				piped = false;
			} else {
				p->pos += p->pos + 1 < p->len && p->s[p->pos + 1] == '&' ? 2 : 1;
				piped = true;
			}
			continue;
		}
		if (c == ')') {
			r = term == T_PAREN ? 0 : GH_EINVAL;
			break;
		}
		before = p->pos;
		if ((r = parse_command(p, term, piped, &esac)) < 0)
			break;
		if (esac)
			break;
		if (p->pos == before) {
			r = GH_EINVAL; /* no progress: something we do not understand */
			break;
		}
		piped = false;
	}
	return r;
}

int gh_cmd_split(const char *line, size_t len, struct gh_cmdlist **ret)
{
	struct gh_cmdlist *l = NULL;
	struct ctx ctx = { 0 };
	struct parser p;
	bool have_parser = false;
	int r = 0;

	if (!line || !ret)
		return GH_EINVAL;
	if (len > GH_CMD_MAX_INPUT)
		return GH_ELIMIT;
	if (memchr(line, '\0', len))
		return GH_EINVAL;
	l = calloc(1, sizeof *l);
	if (!l)
		return GH_ENOMEM;
	ctx.out = l;
	if ((r = parser_init(&p, &ctx, line, len, 0, 0)) < 0)
		goto out;
	have_parser = true;
	if ((r = parse_list(&p, T_EOF)) < 0)
		goto out;
	*ret = l;
	l = NULL;
out:
	if (have_parser)
		parser_fini(&p);
	gh_cmdlist_free(l);
	return r;
}

struct gh_cmdlist *gh_cmdlist_free(struct gh_cmdlist *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		cmd_fini(&l->v[i]);
	free(l->v);
	free(l);
	return NULL;
}
