/* Command filter rules: compile stored groups, resolve filters (rules.h). */
#include "filter/rules.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stored group compiles into at most two library groups: its command
 * patterns and its regexes (the library keeps one type per group). */
struct cgroup {
	const char *name;          /* borrowed from the row copy below */
	struct gh_cmdgroup *g[2];  /* command, regex; NULL when none */
};

struct gh_cmdrules {
	struct cgroup *groups;
	size_t n_groups;
	const struct gh_cmdfilter_row *filters; /* borrowed: caller keeps them */
	size_t n_filters;
};

static int compile(const struct gh_cmdgroup_row *row, struct cgroup *out, char *err,
		   size_t errlen)
{
	const char **pats = calloc(row->n ? row->n : 1, sizeof *pats);
	int r = 0;
	if (!pats)
		return GH_ENOMEM;
	out->name = row->name;
	for (int t = 0; t < 2 && r == 0; t++) {
		size_t n = 0;
		for (size_t i = 0; i < row->n; i++)
			if (row->is_regex[i] == (t == 1))
				pats[n++] = row->patterns[i];
		if (!n)
			continue;
		char e[200] = "";
		r = gh_cmdgroup_new(row->name, t ? GH_CMDGROUP_REGEX : GH_CMDGROUP_COMMAND,
				    row->ignore_case, pats, n, &out->g[t], e, sizeof e);
		if (r < 0 && err)
			snprintf(err, errlen, "command group %s: %s", row->name, e[0] ? e : gh_strerror(r));
	}
	if (r == 0 && !out->g[0] && !out->g[1]) {
		if (err)
			snprintf(err, errlen, "command group %s has no pattern", row->name);
		r = GH_EINVAL;
	}
	free(pats);
	return r;
}

int gh_cmdgroup_row_check(const struct gh_cmdgroup_row *g, char *err, size_t errlen)
{
	struct cgroup c = { 0 };
	int r = compile(g, &c, err, errlen);
	gh_cmdgroup_free(c.g[0]);
	gh_cmdgroup_free(c.g[1]);
	return r;
}

struct gh_cmdrules *gh_cmdrules_free(struct gh_cmdrules *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_groups; i++) {
		gh_cmdgroup_free(r->groups[i].g[0]);
		gh_cmdgroup_free(r->groups[i].g[1]);
	}
	free(r->groups);
	free(r);
	return NULL;
}

static const struct cgroup *find_group(const struct gh_cmdrules *r, const char *name)
{
	for (size_t i = 0; i < r->n_groups; i++)
		if (!strcmp(r->groups[i].name, name))
			return &r->groups[i];
	return NULL;
}

int gh_cmdrules_new(const struct gh_cmdgroup_row *groups, size_t n_groups,
		    const struct gh_cmdfilter_row *filters, size_t n_filters,
		    struct gh_cmdrules **ret, char *err, size_t errlen)
{
	struct gh_cmdrules *r = calloc(1, sizeof *r);
	int rc = 0;
	if (err && errlen)
		err[0] = 0;
	if (!r)
		return GH_ENOMEM;
	r->groups = calloc(n_groups ? n_groups : 1, sizeof *r->groups);
	if (!r->groups) {
		free(r);
		return GH_ENOMEM;
	}
	r->filters = filters;
	r->n_filters = n_filters;
	/* only groups some filter uses need compiling */
	for (size_t i = 0; i < n_groups && rc == 0; i++) {
		bool used = false;
		for (size_t f = 0; f < n_filters && !used; f++)
			for (size_t k = 0; k < filters[f].n_refs[GH_CFREF_CMDGROUP] && !used; k++)
				used = !strcmp(filters[f].refs[GH_CFREF_CMDGROUP][k], groups[i].name);
		if (!used)
			continue;
		rc = compile(&groups[i], &r->groups[r->n_groups], err, errlen);
		r->n_groups++;
	}
	for (size_t f = 0; f < n_filters && rc == 0; f++) {
		const struct gh_cmdfilter_row *fr = &filters[f];
		enum gh_filter_action a;
		if (gh_filter_action_parse(fr->action, &a) < 0 || fr->priority < 1 ||
		    fr->priority > 100 || !fr->n_refs[GH_CFREF_CMDGROUP]) {
			if (err)
				snprintf(err, errlen, "command filter %s is malformed", fr->name);
			rc = GH_EINVAL;
		}
		for (size_t k = 0; rc == 0 && k < fr->n_refs[GH_CFREF_CMDGROUP]; k++)
			if (!find_group(r, fr->refs[GH_CFREF_CMDGROUP][k])) {
				if (err)
					snprintf(err, errlen, "command filter %s names unknown group %s",
						 fr->name, fr->refs[GH_CFREF_CMDGROUP][k]);
				rc = GH_EINVAL;
			}
	}
	if (rc < 0) {
		gh_cmdrules_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Is node path P (the filter's) NODE or an ancestor of it? */
static bool node_covers(const char *p, const char *node)
{
	size_t n = strlen(p);
	if (n == 1 && p[0] == '/')
		return true;
	return !strncmp(p, node, n) && (node[n] == 0 || node[n] == '/');
}

bool gh_cmdfilter_row_applies(const struct gh_cmdfilter_row *f, const struct gh_cmdsubject *s)
{
	const size_t nu = f->n_refs[GH_CFREF_USER], ng = f->n_refs[GH_CFREF_UGROUP];
	const size_t na = f->n_refs[GH_CFREF_ASSET], nn = f->n_refs[GH_CFREF_NODE];
	if (nu || ng) {
		bool who = in_list(f->refs[GH_CFREF_USER], nu, s->user);
		for (size_t i = 0; !who && i < s->n_groups; i++)
			who = in_list(f->refs[GH_CFREF_UGROUP], ng, s->groups[i]);
		if (!who)
			return false;
	}
	if (na || nn) {
		bool where = in_list(f->refs[GH_CFREF_ASSET], na, s->asset);
		for (size_t i = 0; !where && i < nn; i++)
			for (size_t j = 0; !where && j < s->n_nodes; j++)
				where = node_covers(f->refs[GH_CFREF_NODE][i], s->nodes[j]);
		if (!where)
			return false;
	}
	if (f->n_refs[GH_CFREF_ACCOUNT] &&
	    !in_list(f->refs[GH_CFREF_ACCOUNT], f->n_refs[GH_CFREF_ACCOUNT], s->account))
		return false;
	return true;
}

int gh_cmdrules_resolve(const struct gh_cmdrules *r, const struct gh_cmdsubject *s,
			struct gh_cmdfilter_set **ret, size_t *ret_n)
{
	struct gh_cmdfilter *v = calloc(r->n_filters ? r->n_filters : 1, sizeof *v);
	const struct gh_cmdgroup **gv = NULL;
	size_t n = 0, ng = 0, total = 0;
	int rc;
	if (!v)
		return GH_ENOMEM;
	for (size_t f = 0; f < r->n_filters; f++)
		total += 2 * r->filters[f].n_refs[GH_CFREF_CMDGROUP];
	gv = calloc(total ? total : 1, sizeof *gv);
	if (!gv) {
		free(v);
		return GH_ENOMEM;
	}
	for (size_t f = 0; f < r->n_filters; f++) {
		const struct gh_cmdfilter_row *fr = &r->filters[f];
		if (!gh_cmdfilter_row_applies(fr, s))
			continue;
		struct gh_cmdfilter *o = &v[n++];
		o->name = fr->name;
		o->priority = fr->priority;
		gh_filter_action_parse(fr->action, &o->action);
		o->groups = &gv[ng];
		for (size_t k = 0; k < fr->n_refs[GH_CFREF_CMDGROUP]; k++) {
			const struct cgroup *cg = find_group(r, fr->refs[GH_CFREF_CMDGROUP][k]);
			for (int t = 0; cg && t < 2; t++)
				if (cg->g[t])
					gv[ng++] = cg->g[t];
		}
		o->n_groups = (size_t)(&gv[ng] - o->groups);
	}
	/* the set copies the filters and their group arrays; the groups
	 * themselves stay borrowed from R */
	rc = gh_cmdfilter_set_new(v, n, ret);
	free(v);
	free(gv);
	if (rc == 0 && ret_n)
		*ret_n = n;
	return rc;
}
