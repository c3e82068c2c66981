/* SQL statements cut into words for the command filter (sqlsplit.h). */
#include "filter/sqlsplit.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

struct sqlp {
	const char *s;
	size_t len, i;
	enum gh_sql_dialect d;
	/* the statement being built */
	char *text;
	size_t tlen, tcap;
	char **argv;
	size_t argc;
	size_t start;            /* offset of the statement */
	bool sep;                /* a separator is due before the next word */
	struct gh_cmdlist *out;
	size_t cap_out;
};

static int text_add(struct sqlp *p, const char *w, size_t n, bool upper)
{
	size_t need = p->tlen + n + 2;
	if (need > p->tcap) {
		size_t cap = p->tcap ? p->tcap : 64;
		while (cap < need)
			cap *= 2;
		char *t = realloc(p->text, cap);
		if (!t)
			return GH_ENOMEM;
		p->text = t;
		p->tcap = cap;
	}
	if (p->tlen)
		p->text[p->tlen++] = ' ';
	size_t at = p->tlen;
	memcpy(p->text + at, w, n);
	if (upper)
		for (size_t k = 0; k < n; k++)
			if (p->text[at + k] >= 'a' && p->text[at + k] <= 'z')
				p->text[at + k] = (char)(p->text[at + k] - 'a' + 'A');
	p->tlen += n;
	p->text[p->tlen] = '\0';
	if (p->argc < GH_SQL_MAX_WORDS) {
		if (!p->argv && !(p->argv = calloc(GH_SQL_MAX_WORDS + 1, sizeof *p->argv)))
			return GH_ENOMEM;
		char *word = strndup(p->text + at, n);
		if (!word)
			return GH_ENOMEM;
		p->argv[p->argc++] = word;
	}
	return 0;
}

static void stmt_reset(struct sqlp *p)
{
	for (size_t k = 0; k < p->argc; k++)
		free(p->argv[k]);
	free(p->argv);
	free(p->text);
	p->argv = NULL;
	p->text = NULL;
	p->argc = p->tlen = p->tcap = 0;
}

/* The statement ends at offset END: emitted when it has words. */
static int stmt_end(struct sqlp *p, size_t end)
{
	if (p->argc == 0) {
		stmt_reset(p);
		return 0;
	}
	if (p->out->n == GH_CMD_MAX_CMDS)
		return GH_ELIMIT;
	if (p->out->n == p->cap_out) {
		size_t cap = p->cap_out ? p->cap_out * 2 : 4;
		struct gh_cmd *v = realloc(p->out->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		p->out->v = v;
		p->cap_out = cap;
	}
	struct gh_cmd *c = &p->out->v[p->out->n++];
	memset(c, 0, sizeof *c);
	c->argv = p->argv;
	c->argc = p->argc;
	c->text = p->text;
	c->off = p->start;
	c->len = end - p->start;
	p->argv = NULL;
	p->text = NULL;
	p->argc = p->tlen = p->tcap = 0;
	return 0;
}

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80 || c == 0;
}

static bool space_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* End of the quoted run opening at I with Q; BACKSLASH: \ escapes. */
static size_t quoted_end(const struct sqlp *p, size_t i, char q, bool backslash)
{
	for (size_t k = i + 1; k < p->len; k++) {
		if (backslash && p->s[k] == '\\') {
			k++;
			continue;
		}
		if (p->s[k] == q) {
			if (k + 1 < p->len && p->s[k + 1] == q) {
				k++; /* doubled quote */
				continue;
			}
			return k + 1;
		}
	}
	return p->len; /* unterminated: the rest (the server refuses it) */
}

/* PostgreSQL's $tag$...$tag$ at I: its end, or 0 when I starts none. */
static size_t dollar_end(const struct sqlp *p, size_t i)
{
	size_t k = i + 1;
	while (k < p->len && p->s[k] != '$' &&
	       (word_char((unsigned char)p->s[k]) && !(p->s[k] >= '0' && p->s[k] <= '9' && k == i + 1)))
		k++;
	if (k >= p->len || p->s[k] != '$')
		return 0;
	size_t tag = k + 1 - i;
	for (size_t m = k + 1; m + tag <= p->len; m++)
		if (p->s[m] == '$' && !memcmp(p->s + m, p->s + i, tag))
			return m + tag;
	return p->len;
}

/* A block comment at I (after slash-star): its end. PostgreSQL nests them. */
static size_t block_end(const struct sqlp *p, size_t i)
{
	unsigned depth = 1;
	size_t k = i + 2;
	while (k < p->len) {
		if (p->d == GH_SQL_POSTGRESQL && k + 1 < p->len && p->s[k] == '/' && p->s[k + 1] == '*') {
			depth++;
			k += 2;
		} else if (k + 1 < p->len && p->s[k] == '*' && p->s[k + 1] == '/') {
			k += 2;
			if (--depth == 0)
				return k;
		} else {
			k++;
		}
	}
	return p->len;
}

/* Skip what separates words at p->i (spaces, comments); true when any. */
static bool skip_gap(struct sqlp *p, bool *in_exec)
{
	size_t i0 = p->i;
	for (;;) {
		const char *s = p->s;
		size_t i = p->i, n = p->len;
		if (i < n && space_char(s[i])) {
			p->i++;
		} else if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
			while (p->i < n && s[p->i] != '\n')
				p->i++;
		} else if (i < n && s[i] == '#' && p->d == GH_SQL_MYSQL) {
			while (p->i < n && s[p->i] != '\n')
				p->i++;
		} else if (*in_exec && i + 1 < n && s[i] == '*' && s[i + 1] == '/') {
			*in_exec = false; /* the end of an executable comment */
			p->i += 2;
		} else if (i + 2 < n && s[i] == '/' && s[i + 1] == '*' && s[i + 2] == '!' &&
			   p->d == GH_SQL_MYSQL && !*in_exec) {
			/* MySQL runs what is inside: code, after its version */
			p->i += 3;
			while (p->i < n && s[p->i] >= '0' && s[p->i] <= '9')
				p->i++;
			*in_exec = true;
		} else if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
			p->i = block_end(p, i);
		} else {
			break;
		}
	}
	return p->i != i0;
}

/* The word at p->i: its end. */
static size_t word_at(const struct sqlp *p, bool *upper)
{
	const char *s = p->s;
	size_t i = p->i, n = p->len;
	bool my = p->d == GH_SQL_MYSQL;
	*upper = false;
	if ((s[i] == 'E' || s[i] == 'e') && i + 1 < n && s[i + 1] == '\'' && !my)
		return quoted_end(p, i + 1, '\'', true);
	if (s[i] == '\'')
		return quoted_end(p, i, '\'', my);
	if (s[i] == '"')
		return quoted_end(p, i, '"', my);
	if (s[i] == '`' && my)
		return quoted_end(p, i, '`', false);
	if (s[i] == '$' && !my) {
		size_t e = dollar_end(p, i);
		if (e)
			return e;
	}
	if (word_char((unsigned char)s[i])) {
		size_t k = i;
		while (k < n && word_char((unsigned char)s[k]))
			k++;
		*upper = true;
		return k;
	}
	return i + 1;
}

static int split_run(struct sqlp *p)
{
	bool in_exec = false;
	int r = 0;
	while (r == 0) {
		skip_gap(p, &in_exec);
		if (p->i >= p->len)
			break;
		if (p->s[p->i] == ';') {
			r = stmt_end(p, p->i);
			p->i++;
			p->start = p->i;
			continue;
		}
		if (p->argc == 0)
			p->start = p->i;
		bool upper = false;
		size_t e = word_at(p, &upper);
		r = text_add(p, p->s + p->i, e - p->i, upper);
		p->i = e;
	}
	if (r == 0)
		r = stmt_end(p, p->len);
	return r;
}

int gh_sql_split(const char *text, size_t len, enum gh_sql_dialect d, struct gh_cmdlist **ret)
{
	struct sqlp p = { .s = text, .len = len, .d = d };
	if (!text && len)
		return GH_EINVAL;
	p.out = calloc(1, sizeof *p.out);
	if (!p.out)
		return GH_ENOMEM;
	int r = split_run(&p);
	stmt_reset(&p);
	if (r < 0) {
		gh_cmdlist_free(p.out);
		return r;
	}
	*ret = p.out;
	return 0;
}

int gh_redis_words(const char *const *argv, const size_t *lens, size_t n, struct gh_cmdlist **ret)
{
	struct sqlp p = { .d = GH_SQL_POSTGRESQL };
	int r = 0;
	p.out = calloc(1, sizeof *p.out);
	if (!p.out)
		return GH_ENOMEM;
	for (size_t k = 0; k < n && r == 0; k++)
		r = text_add(&p, argv[k], lens[k], k == 0);
	if (r == 0)
		r = stmt_end(&p, 0);
	stmt_reset(&p);
	if (r < 0) {
		gh_cmdlist_free(p.out);
		return r;
	}
	*ret = p.out;
	return 0;
}
