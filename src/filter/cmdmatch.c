/* Command groups, filters and the decision for a command line (filter.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "filter/filter.h"

/* Backtracking limits for one regex match: a pathological pattern fails
 * (and the command counts as not analysable) instead of burning CPU. */
#define GH_REGEX_MATCH_LIMIT 100000u
#define GH_REGEX_DEPTH_LIMIT 10000u

struct pattern {
	char *text;          /* as given */
	char **words;        /* COMMAND: the words */
	size_t n_words;
	pcre2_code *re;      /* REGEX */
};

struct gh_cmdgroup {
	char *name;
	enum gh_cmdgroup_type type;
	bool icase;
	struct pattern *v;
	size_t n;
	pcre2_match_context *mctx;
};

struct set_entry {
	char *name;
	int priority;
	enum gh_filter_action action;
	const struct gh_cmdgroup **groups;
	size_t n_groups;
	size_t index;        /* position in the caller's array */
};

struct gh_cmdfilter_set {
	struct set_entry *v; /* sorted: priority, then severity, then index */
	size_t n;
	enum gh_filter_action fallback; /* most severe action but accept, NONE if none */
	enum gh_filter_action dynamic;  /* cmdfilter_dynamic; NONE: auto */
};

int gh_filter_action_parse(const char *s, enum gh_filter_action *ret)
{
	static const struct { const char *name; enum gh_filter_action a; } t[] = {
		{ "reject", GH_FILTER_REJECT }, { "accept", GH_FILTER_ACCEPT },
		{ "review", GH_FILTER_REVIEW }, { "warn", GH_FILTER_WARN },
	};
	if (!s || !ret)
		return GH_EINVAL;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcmp(s, t[i].name) == 0) {
			*ret = t[i].a;
			return 0;
		}
	}
	return GH_EINVAL;
}

const char *gh_filter_action_name(enum gh_filter_action a)
{
	switch (a) {
	case GH_FILTER_NONE: return "none";
	case GH_FILTER_ACCEPT: return "accept";
	case GH_FILTER_WARN: return "warn";
	case GH_FILTER_REVIEW: return "review";
	case GH_FILTER_REJECT: return "reject";
	}
	return "unknown";
}

/* ---- groups ------------------------------------------------------------- */

static void pattern_fini(struct pattern *p)
{
	free(p->text);
	for (size_t i = 0; i < p->n_words; i++)
		free(p->words[i]);
	free(p->words);
	pcre2_code_free(p->re);
}

struct gh_cmdgroup *gh_cmdgroup_free(struct gh_cmdgroup *g)
{
	if (!g)
		return NULL;
	for (size_t i = 0; i < g->n; i++)
		pattern_fini(&g->v[i]);
	free(g->v);
	free(g->name);
	pcre2_match_context_free(g->mctx);
	free(g);
	return NULL;
}

static void set_err(char *err, size_t errlen, size_t idx, const char *detail)
{
	if (err && errlen > 0 && snprintf(err, errlen, "pattern %zu: %s", idx, detail) < 0)
		err[0] = '\0';
}

/* Split a COMMAND pattern into words on blanks. */
static int split_words(struct pattern *p)
{
	const char *s = p->text;
	int r = 0;
	while (*s) {
		size_t n;
		char **v = NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		n = strcspn(s, " \t");
		v = realloc(p->words, (p->n_words + 1) * sizeof *v);
		if (!v) {
			r = GH_ENOMEM;
			break;
		}
		p->words = v;
		p->words[p->n_words] = strndup(s, n);
		if (!p->words[p->n_words]) {
			r = GH_ENOMEM;
			break;
		}
		p->n_words++;
		s += n;
	}
	if (r == 0 && p->n_words == 0)
		r = GH_EINVAL;
	return r;
}

int gh_cmdgroup_new(const char *name, enum gh_cmdgroup_type type, bool ignore_case,
		    const char *const *patterns, size_t n_patterns,
		    struct gh_cmdgroup **ret, char *err, size_t errlen)
{
	struct gh_cmdgroup *g = NULL;
	int r = 0;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!name || !ret || (type != GH_CMDGROUP_COMMAND && type != GH_CMDGROUP_REGEX) ||
	    !patterns || n_patterns == 0) {
		if (err && errlen > 0)
			snprintf(err, errlen, "empty command group");
		return GH_EINVAL;
	}
	g = calloc(1, sizeof *g);
	if (!g)
		return GH_ENOMEM;
	g->type = type;
	g->icase = ignore_case;
	g->name = strdup(name);
	g->v = calloc(n_patterns, sizeof *g->v);
	g->mctx = pcre2_match_context_create(NULL);
	if (!g->name || !g->v || !g->mctx) {
		r = GH_ENOMEM;
		goto out;
	}
	pcre2_set_match_limit(g->mctx, GH_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(g->mctx, GH_REGEX_DEPTH_LIMIT);
	for (size_t i = 0; i < n_patterns; i++) {
		struct pattern *p = &g->v[i];
		if (!patterns[i]) {
			set_err(err, errlen, i, "missing");
			r = GH_EINVAL;
			goto out;
		}
		p->text = strdup(patterns[i]);
		g->n++;
		if (!p->text) {
			r = GH_ENOMEM;
			goto out;
		}
		if (type == GH_CMDGROUP_COMMAND) {
			if ((r = split_words(p)) < 0) {
				if (r == GH_EINVAL)
					set_err(err, errlen, i, "empty command");
				goto out;
			}
		} else {
			int ec = 0;
			PCRE2_SIZE eo = 0;
			uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
					(ignore_case ? PCRE2_CASELESS : 0);
			if (patterns[i][strspn(patterns[i], " \t")] == '\0') {
				set_err(err, errlen, i, "empty regex");
				r = GH_EINVAL;
				goto out;
			}
			p->re = pcre2_compile((PCRE2_SPTR)p->text, PCRE2_ZERO_TERMINATED, opts, &ec,
					      &eo, NULL);
			if (!p->re) {
				PCRE2_UCHAR msg[128];
				char detail[192];
				if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
					msg[0] = '\0';
				if (snprintf(detail, sizeof detail, "bad regex: %s at offset %zu",
					     (char *)msg, (size_t)eo) < 0)
					detail[0] = '\0';
				set_err(err, errlen, i, detail);
				r = GH_EINVAL;
				goto out;
			}
		}
	}
	*ret = g;
	g = NULL;
out:
	gh_cmdgroup_free(g);
	return r;
}

const char *gh_cmdgroup_name(const struct gh_cmdgroup *g)
{
	return g ? g->name : NULL;
}

const char *gh_cmdgroup_pattern(const struct gh_cmdgroup *g, size_t i)
{
	return g && i < g->n ? g->v[i].text : NULL;
}

static bool word_eq(const char *a, const char *b, bool icase)
{
	return icase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static bool match_words(const struct pattern *p, const struct gh_cmd *c, bool icase)
{
	const char *cmd;
	if (c->argc < p->n_words)
		return false;
	/* a pattern word with a '/' names one path; otherwise any path's basename */
	cmd = c->argv[0];
	if (!strchr(p->words[0], '/')) {
		const char *slash = strrchr(cmd, '/');
		if (slash)
			cmd = slash + 1;
	}
	if (!word_eq(p->words[0], cmd, icase))
		return false;
	for (size_t i = 1; i < p->n_words; i++)
		if (!word_eq(p->words[i], c->argv[i], icase))
			return false;
	return true;
}

int gh_cmdgroup_match(const struct gh_cmdgroup *g, const struct gh_cmd *c, size_t *ret_pattern)
{
	pcre2_match_data *md = NULL;
	int r = 0;

	if (!g || !c || !c->argv || c->argc == 0 || !c->text)
		return GH_EINVAL;
	for (size_t i = 0; i < g->n && r == 0; i++) {
		const struct pattern *p = &g->v[i];
		if (g->type == GH_CMDGROUP_COMMAND) {
			r = match_words(p, c, g->icase) ? 1 : 0;
		} else {
			int m;
			if (!md && !(md = pcre2_match_data_create(1, NULL))) {
				r = GH_ENOMEM;
				break;
			}
			m = pcre2_match(p->re, (PCRE2_SPTR)c->text, strlen(c->text), 0, 0, md,
					g->mctx);
			if (m >= 0)
				r = 1;
			else if (m == PCRE2_ERROR_NOMEMORY)
				r = GH_ENOMEM;
			else if (m != PCRE2_ERROR_NOMATCH)
				r = GH_ELIMIT; /* match or depth limit, or anything odd */
		}
		if (r == 1 && ret_pattern)
			*ret_pattern = i;
	}
	pcre2_match_data_free(md);
	return r;
}

/* ---- filter sets -------------------------------------------------------- */

struct gh_cmdfilter_set *gh_cmdfilter_set_free(struct gh_cmdfilter_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].groups);
	}
	free(s->v);
	free(s);
	return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct set_entry *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->action != y->action)
		return x->action > y->action ? -1 : 1; /* more severe first */
	return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

int gh_cmdfilter_set_new(const struct gh_cmdfilter *filters, size_t n,
			 struct gh_cmdfilter_set **ret)
{
	struct gh_cmdfilter_set *s = NULL;
	int r = 0;

	if (!ret || (n > 0 && !filters))
		return GH_EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return GH_ENOMEM;
	if (n > 0 && !(s->v = calloc(n, sizeof *s->v))) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gh_cmdfilter *f = &filters[i];
		struct set_entry *e = &s->v[i];
		if (f->priority < 1 || f->priority > 100 || f->action < GH_FILTER_ACCEPT ||
		    f->action > GH_FILTER_REJECT || (f->n_groups > 0 && !f->groups)) {
			r = GH_EINVAL;
			goto out;
		}
		for (size_t k = 0; k < f->n_groups; k++) {
			if (!f->groups[k]) {
				r = GH_EINVAL;
				goto out;
			}
		}
		s->n++;
		e->name = strdup(f->name ? f->name : "");
		if (f->n_groups > 0)
			e->groups = calloc(f->n_groups, sizeof *e->groups);
		if (!e->name || (f->n_groups > 0 && !e->groups)) {
			r = GH_ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < f->n_groups; k++)
			e->groups[k] = f->groups[k];
		e->n_groups = f->n_groups;
		e->priority = f->priority;
		e->action = f->action;
		e->index = i;
		if (f->action != GH_FILTER_ACCEPT && f->action > s->fallback)
			s->fallback = f->action;
	}
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, entry_cmp);
	*ret = s;
	s = NULL;
out:
	gh_cmdfilter_set_free(s);
	return r;
}

int gh_cmdfilter_set_dynamic(struct gh_cmdfilter_set *s, enum gh_filter_action a)
{
	if (!s || a < GH_FILTER_NONE || a > GH_FILTER_REJECT)
		return GH_EINVAL;
	s->dynamic = a;
	return 0;
}

enum gh_filter_action gh_cmdfilter_dynamic_verdict(const struct gh_cmdfilter_set *s)
{
	if (!s || s->n == 0)
		return GH_FILTER_NONE;
	if (s->dynamic != GH_FILTER_NONE)
		return s->dynamic;
	/* auto: the worst a hidden command could get here; flagged at least */
	return s->fallback != GH_FILTER_NONE ? s->fallback : GH_FILTER_WARN;
}

static void result_reset(struct gh_filter_result *res)
{
	memset(res, 0, sizeof *res);
	res->action = GH_FILTER_NONE;
	res->filter = res->group = res->pattern = res->cmd = -1;
}

/* The verdict of S on the simple commands CMDS into *RES (reset first). */
static int judge(const struct gh_cmdfilter_set *s, const struct gh_cmdlist *cmds,
		 struct gh_filter_result *ret)
{
	enum gh_filter_action dyn = gh_cmdfilter_dynamic_verdict(s);
	struct gh_filter_result res;
	int r = 0;

	result_reset(&res);
	for (size_t ci = 0; ci < cmds->n; ci++) {
		const struct gh_cmd *c = &cmds->v[ci];
		struct gh_filter_result one;
		bool unknown = (c->flags & GH_CMD_DYNAMIC) != 0;
		const char *why = c->why ? c->why : "command cannot be analysed";

		result_reset(&one);
		for (size_t fi = 0; fi < s->n && one.filter < 0; fi++) {
			const struct set_entry *e = &s->v[fi];
			for (size_t gi = 0; gi < e->n_groups; gi++) {
				size_t pi = 0;
				int m = gh_cmdgroup_match(e->groups[gi], c, &pi);
				if (m == GH_ENOMEM) {
					r = m;
					return r;
				}
				if (m < 0) {
					/* a regex gave up: this command cannot be judged */
					if (!unknown)
						why = "regex gave up (backtracking limit)";
					unknown = true;
					continue;
				}
				if (m == 1) {
					one.action = e->action;
					one.filter = (long)e->index;
					one.filter_name = e->name;
					one.group = (long)gi;
					one.group_name = e->groups[gi]->name;
					one.pattern = (long)pi;
					one.pattern_text = e->groups[gi]->v[pi].text;
					break;
				}
			}
		}
		if (unknown && dyn > one.action) {
			result_reset(&one);
			one.action = dyn;
			one.unanalysable = true;
			one.why = why;
		}
		if (one.action > res.action) {
			one.cmd = (long)ci;
			one.cmd_off = c->off;
			one.cmd_len = c->len;
			res = one;
		}
	}
	*ret = res;
	return r;
}

int gh_cmdfilter_judge(const struct gh_cmdfilter_set *s, const struct gh_cmdlist *cmds,
		       struct gh_filter_result *ret)
{
	if (!s || !cmds || !ret)
		return GH_EINVAL;
	return judge(s, cmds, ret);
}

int gh_cmdfilter_check(const struct gh_cmdfilter_set *s, const char *line, size_t len,
		       struct gh_filter_result *ret, struct gh_cmdlist **ret_cmds)
{
	struct gh_cmdlist *cmds = NULL;
	struct gh_filter_result res;
	int r;

	if (!s || !line || !ret)
		return GH_EINVAL;
	result_reset(&res);
	r = gh_cmd_split(line, len, &cmds);
	if (r == GH_ENOMEM)
		goto out;
	if (r < 0) {
		res.unanalysable = true;
		res.split_error = r;
		res.why = r == GH_ELIMIT ? "line exceeds the splitter's limits"
					 : "line cannot be parsed";
		res.action = gh_cmdfilter_dynamic_verdict(s);
		r = 0;
		goto done;
	}
	r = judge(s, cmds, &res);
	if (r < 0)
		goto out;
done:
	*ret = res;
	if (ret_cmds && cmds) {
		*ret_cmds = cmds;
		cmds = NULL;
	}
out:
	gh_cmdlist_free(cmds);
	return r;
}
