/* Command filter rules: the stored command groups and filters compiled
 * once, and resolved for one user/asset/account into the set
 * gh_cmdfilter_check decides with (filter.h). Pure logic: rows in, no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "filter/filter.h"
#include "store/cmdstore.h"

struct gh_cmdrules;

/* Who runs a command where. Group names and node paths as stored
 * ("/a/b"); an asset in node /a/b is in /a too. */
struct gh_cmdsubject {
	const char *user;
	const char *const *groups;
	size_t n_groups;
	const char *asset;
	const char *const *nodes;
	size_t n_nodes;
	const char *account;
};

/* Compile GROUPS and keep copies of FILTERS (both borrowed for the call).
 * A group pattern that does not compile, a filter naming an unknown group,
 * a bad action or priority: GH_EINVAL with a message in ERR. */
int gh_cmdrules_new(const struct gh_cmdgroup_row *groups, size_t n_groups,
		    const struct gh_cmdfilter_row *filters, size_t n_filters,
		    struct gh_cmdrules **ret, char *err, size_t errlen);
struct gh_cmdrules *gh_cmdrules_free(struct gh_cmdrules *r);

/* Does filter F apply to S? Empty user+group selectors mean every user,
 * empty asset+node selectors every asset, no account every account. */
bool gh_cmdfilter_row_applies(const struct gh_cmdfilter_row *f, const struct gh_cmdsubject *s);

/* The set of filters applying to S (may be empty: see gh_cmdfilter_set_new).
 * The set borrows from R: free it before R. */
int gh_cmdrules_resolve(const struct gh_cmdrules *r, const struct gh_cmdsubject *s,
			struct gh_cmdfilter_set **ret, size_t *ret_n);

/* Compile one stored group to check it (CLI): 0 or GH_EINVAL with ERR. */
int gh_cmdgroup_row_check(const struct gh_cmdgroup_row *g, char *err, size_t errlen);
