/* Command guard (cmdguard.h). */
#include "filter/cmdguard.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "filter/inputkind.h"
#include "filter/rules.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gh_cmdguard {
	struct gh_cmdgroup_row *groups;
	size_t n_groups;
	struct gh_cmdfilter_row *filters;
	size_t n_filters;
	struct gh_cmdrules *rules;
	struct gh_cmdfilter_set *set;
};

struct gh_cmdguard *gh_cmdguard_free(struct gh_cmdguard *g)
{
	if (!g)
		return NULL;
	gh_cmdfilter_set_free(g->set);
	gh_cmdrules_free(g->rules);
	gh_cmdfilter_rows_free(g->filters, g->n_filters);
	gh_cmdgroup_rows_free(g->groups, g->n_groups);
	free(g);
	return NULL;
}

/* The names of the groups user ID belongs to (*ret: array of borrowed
 * pointers into *ret_groups). */
static int user_group_names(struct gh_store *st, int64_t uid, struct gh_group **ret_groups,
			    size_t *ret_ng, const char ***ret, size_t *ret_n)
{
	int64_t *ids = NULL;
	size_t nids = 0, n = 0;
	int r = gh_store_user_groups(st, uid, &ids, &nids);
	if (r == 0 && nids)
		r = gh_store_group_list(st, ret_groups, ret_ng);
	if (r < 0) {
		free(ids);
		return r;
	}
	const char **v = calloc(nids + 1, sizeof *v);
	if (!v) {
		free(ids);
		return GH_ENOMEM;
	}
	for (size_t i = 0; i < nids; i++)
		for (size_t k = 0; k < *ret_ng; k++)
			if ((*ret_groups)[k].id == ids[i])
				v[n++] = (*ret_groups)[k].name;
	free(ids);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The kind of group NAME in G ("shell" when unknown: the rules then
 * report the unknown group). */
static const char *group_kind(const struct gh_cmdguard *g, const char *name)
{
	for (size_t i = 0; i < g->n_groups; i++)
		if (!strcmp(g->groups[i].name, name))
			return g->groups[i].kind ? g->groups[i].kind : "shell";
	return "shell";
}

/* Only groups of KIND judge here: the others leave every filter, and a
 * filter left without groups leaves the list. */
static void keep_kind(struct gh_cmdguard *g, const char *kind)
{
	size_t out = 0;
	for (size_t f = 0; f < g->n_filters; f++) {
		struct gh_cmdfilter_row *fr = &g->filters[f];
		char **v = fr->refs[GH_CFREF_CMDGROUP];
		size_t k = 0, n = fr->n_refs[GH_CFREF_CMDGROUP];
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(group_kind(g, v[i]), kind))
				v[k++] = v[i];
			else
				free(v[i]);
		}
		fr->n_refs[GH_CFREF_CMDGROUP] = k;
		if (k == 0)
			gh_cmdfilter_row_free(fr);
		else
			g->filters[out++] = *fr;
	}
	g->n_filters = out;
}

int gh_cmdguard_open(struct gh_store *st, const struct gh_user *u, const struct gh_asset *a,
		     const char *account, struct gh_cmdguard **ret, char *err, size_t errlen)
{
	return gh_cmdguard_open_kind(st, u, a, account, "shell", ret, err, errlen);
}

int gh_cmdguard_open_kind(struct gh_store *st, const struct gh_user *u, const struct gh_asset *a,
			  const char *account, const char *kind, struct gh_cmdguard **ret,
			  char *err, size_t errlen)
{
	struct gh_cmdguard *g = calloc(1, sizeof *g);
	struct gh_group *ug = NULL;
	size_t n_ug = 0, n_names = 0, n_set = 0;
	const char **names = NULL;
	int r;

	*ret = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!g)
		return GH_ENOMEM;
	r = gh_store_cmdfilter_list(st, &g->filters, &g->n_filters);
	if (r == 0 && g->n_filters == 0)
		goto out; /* the common case: no filters at all */
	if (r == 0)
		r = gh_store_cmdgroup_list(st, &g->groups, &g->n_groups);
	if (r == 0) {
		keep_kind(g, kind);
		if (g->n_filters == 0)
			goto out;
	}
	if (r == 0)
		r = user_group_names(st, u->id, &ug, &n_ug, &names, &n_names);
	if (r == 0)
		r = gh_cmdrules_new(g->groups, g->n_groups, g->filters, g->n_filters, &g->rules, err,
				    errlen);
	if (r == 0) {
		struct gh_cmdsubject s = { .user = u->name,
					   .groups = names,
					   .n_groups = n_names,
					   .asset = a->name,
					   .nodes = (const char *const *)a->nodes,
					   .n_nodes = a->n_nodes,
					   .account = account };
		r = gh_cmdrules_resolve(g->rules, &s, &g->set, &n_set);
	}
	if (r == 0 && n_set > 0) {
		*ret = g;
		g = NULL;
	}
out:
	if (r < 0 && err && errlen && !err[0])
		snprintf(err, errlen, "%s", gh_strerror(r));
	free(names);
	gh_groups_free(ug, n_ug);
	gh_cmdguard_free(g);
	return r;
}

void gh_cmdguard_set_dynamic(struct gh_cmdguard *g, int dynamic)
{
	if (g && g->set)
		gh_cmdfilter_set_dynamic(g->set, (enum gh_filter_action)dynamic);
}

void gh_cmdguard_audit(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		       const char *account, const char *method, const char *result,
		       const struct gh_filter_result *res, const char *cmd)
{
	bool dyn = res->unanalysable && !res->filter_name;
	gh_audit_command_dynamic(st, who, asset, account, method, result,
				 dyn ? "dynamic" : res->filter_name, cmd, res->group_name,
				 dyn ? (res->why ? res->why : "not analysable") : NULL);
}

int gh_cmdguard_check(const struct gh_cmdguard *g, const char *line, size_t len,
		      struct gh_filter_result *res)
{
	return gh_cmdfilter_check(g->set, line, len, res, NULL);
}

int gh_cmdguard_judge(const struct gh_cmdguard *g, const struct gh_cmdlist *cmds,
		      struct gh_filter_result *res)
{
	return gh_cmdfilter_judge(g->set, cmds, res);
}

int gh_cmdguard_unanalysable(const struct gh_cmdguard *g, const char *why,
			     struct gh_filter_result *res)
{
	memset(res, 0, sizeof *res);
	res->action = gh_cmdfilter_dynamic_verdict(g->set);
	res->unanalysable = res->action != GH_FILTER_NONE;
	res->why = why;
	return 0;
}

/* Decide an exec line; a program reading code from the input that the
 * filter cannot read raises it to the not-analysable verdict (its name
 * then in PROG, else ""). */
static int check_exec(const struct gh_cmdguard *g, const char *command,
		      struct gh_filter_result *res, char *prog, size_t proglen)
{
	struct gh_cmdlist *l = NULL;
	const char *p = NULL;
	prog[0] = '\0';
	int r = gh_cmdfilter_check(g->set, command, strlen(command), res, &l);
	if (r == 0 && gh_input_kind(l, &p) == GH_INPUT_CODE) {
		struct gh_filter_result fb;
		r = gh_cmdguard_unanalysable(g, "a program would read its code from the input", &fb);
		if (r == 0 && fb.action > res->action) {
			*res = fb;
			gh_escape(prog, proglen, p);
		}
	}
	gh_cmdlist_free(l);
	return r;
}

const char *gh_cmdguard_reason(const struct gh_filter_result *res, char *buf, size_t len)
{
	const char *what = res->action == GH_FILTER_REJECT   ? "rejected"
			   : res->action == GH_FILTER_REVIEW ? "held for review"
			   : res->action == GH_FILTER_WARN   ? "flagged"
							     : "accepted";
	if (res->filter_name)
		snprintf(buf, len, "command %s by command filter %s", what, res->filter_name);
	else if (res->unanalysable)
		snprintf(buf, len, "command %s: it cannot be analysed (dynamic: %s)", what,
			 res->why ? res->why : "unknown");
	else
		snprintf(buf, len, "command %s", what);
	return buf;
}

int gh_cmdguard_review(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		       const char *account, const char *command, const char *filter,
		       int timeout_s, const struct gh_cmdguard_wait *wt, const char **ret_result)
{
	struct gh_review rv = { .session_id = (char *)who->session_id,
				.user_name = (char *)who->user,
				.asset_name = (char *)asset,
				.account = (char *)account,
				.command = (char *)command,
				.filter_name = (char *)filter };
	int64_t id = 0;
	char line[160];
	int r;

	*ret_result = "review-timeout";
	rv.created_at = gh_now();
	rv.expires_at = rv.created_at + timeout_s;
	r = gh_store_review_add(st, &rv, &id);
	if (r < 0) {
		gh_error("cannot file a review request: %s (%s)", gh_strerror(r), gh_store_errmsg(st));
		*ret_result = "review-denied";
		return r;
	}
	gh_info("command of %s held for review: request %lld", who->user, (long long)id);
	snprintf(line, sizeof line,
		 "command held for review (filter %s): request %lld, waiting up to %d s for approval",
		 filter ? filter : "-", (long long)id, timeout_s);
	wt->say(wt->ud, line);
	int64_t end = gh_mono_ms() + (int64_t)timeout_s * 1000;
	bool gone = false;
	for (;;) {
		struct gh_review cur = { 0 };
		r = gh_store_review_get(st, id, &cur);
		if (r == 0 && !strcmp(cur.state, "approved"))
			*ret_result = "review-approved";
		else if (r == 0 && !strcmp(cur.state, "denied"))
			*ret_result = "review-denied";
		bool decided = r == 0 && strcmp(cur.state, "pending");
		gh_review_free(&cur);
		if (decided)
			break;
		if (gone || gh_mono_ms() >= end) {
			/* withdraw it; an approver may have been quicker */
			r = gh_store_review_decide(st, id, "expired", NULL);
			if (r == GH_EBUSY)
				continue;
			*ret_result = "review-timeout";
			break;
		}
		if (!wt->poll(wt->ud, 500))
			gone = true;
	}
	return 0;
}

/* How the log names a command of METHOD. */
static const char *method_label(const char *method)
{
	return !strcmp(method, "stdin")		? "input command"
	       : !strcmp(method, "interactive") ? "interactive command"
						: method;
}

/* The filter a verdict is told and reviewed under: the deciding filter,
 * "dynamic" for a command that could not be analysed, else NULL. */
static const char *verdict_filter(const struct gh_filter_result *res)
{
	return res->filter_name ? res->filter_name : res->unanalysable ? "dynamic" : NULL;
}

/* The result of verdict RES, after its review when it asks for one. */
static const char *carry_out(const struct gh_cmdguard_ctx *c, const struct gh_filter_result *res,
			     const char *cmd)
{
	const char *result = "accept";
	switch (res->action) {
	case GH_FILTER_REJECT:
		result = "reject";
		break;
	case GH_FILTER_WARN:
		result = "warn";
		break;
	case GH_FILTER_REVIEW:
		gh_cmdguard_review(c->st, &c->who, c->asset, c->account, cmd, verdict_filter(res),
				   c->review_timeout, &c->wait, &result);
		break;
	default:
		break;
	}
	return result;
}

int gh_cmdguard_settle(const struct gh_cmdguard_ctx *c, const char *method,
		       const struct gh_filter_result *res, const char *cmd, bool quiet, char *why,
		       size_t whylen, const char **ret_result)
{
	const char *result = carry_out(c, res, cmd);
	bool allow = !strcmp(result, "accept") || !strcmp(result, "warn") ||
		     !strcmp(result, "review-approved");
	const char *filter = verdict_filter(res) ? verdict_filter(res) : "-";

	why[0] = '\0';
	if (!quiet || !allow)
		gh_cmdguard_audit(c->st, &c->who, c->asset, c->account, method, result, res, cmd);
	if (!allow) {
		if (!strcmp(result, "review-denied"))
			snprintf(why, whylen, "command denied by the reviewer (filter %s)", filter);
		else if (!strcmp(result, "review-timeout"))
			snprintf(why, whylen, "command refused: no review decision in time");
		else
			gh_cmdguard_reason(res, why, whylen);
		gh_info("%s: %s on %s@%s %s", c->who.user, method_label(method), c->account,
			c->asset, why);
	} else if (!strcmp(result, "warn")) {
		gh_warn("%s: %s on %s@%s flagged by command filter %s", c->who.user,
			method_label(method), c->account, c->asset, filter);
	}
	if (ret_result)
		*ret_result = result;
	return allow ? 0 : GH_EPERM;
}

int gh_cmdguard_exec(struct gh_store *st, const struct gh_audit_who *who, const struct gh_user *u,
		     const struct gh_asset *a, const char *account, const char *command,
		     int timeout_s, const struct gh_cmdguard_wait *wt, int dynamic)
{
	struct gh_cmdguard_ctx c = { .st = st,
				     .who = *who,
				     .asset = a->name,
				     .account = account,
				     .review_timeout = timeout_s,
				     .wait = *wt };
	struct gh_cmdguard *g = NULL;
	struct gh_filter_result res;
	char err[300], line[400], prog[100];
	const char *result = NULL;
	int r = gh_cmdguard_open(st, u, a, account, &g, err, sizeof err);
	if (r < 0) {
		gh_error("command filters unavailable for %s on %s: %s", u->name, a->name, err);
		wt->say(wt->ud, "command refused: the command filters cannot be loaded");
		gh_audit_command(st, who, a->name, account, "exec", "reject", NULL, command, NULL);
		return GH_EPERM;
	}
	memset(&res, 0, sizeof res);
	res.action = GH_FILTER_NONE;
	prog[0] = '\0';
	gh_cmdguard_set_dynamic(g, dynamic);
	if (g && (r = check_exec(g, command, &res, prog, sizeof prog)) < 0) {
		res.action = GH_FILTER_REJECT; /* out of memory: fail closed */
		res.filter_name = NULL;
		res.group_name = NULL;
		res.unanalysable = true;
		res.why = "out of memory";
	}
	r = gh_cmdguard_settle(&c, "exec", &res, command, false, line, sizeof line, &result);
	if (r < 0 && !strcmp(result, "reject") && prog[0])
		snprintf(line, sizeof line,
			 "command rejected: %s would read its program from the input, which cannot "
			 "be analysed",
			 prog);
	if (r < 0)
		wt->say(wt->ud, line);
	gh_cmdguard_free(g);
	return r;
}
