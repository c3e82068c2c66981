/* gh_policy_load and gh_policy_subject_load: the policy's only contact
 * with the store, kept apart from policy.c so that code building a policy
 * from memory (tests, the benchmark) does not pull the store in. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "policy/policy.h"
#include "store/store.h"

int gh_policy_load(struct gh_store *st, struct gh_policy **ret)
{
	struct gh_perm *perms = NULL;
	struct gh_node *nodes = NULL;
	int64_t *pair_asset = NULL, *pair_node = NULL;
	size_t n_perms = 0, n_nodes = 0, n_pairs = 0;
	struct gh_policy *p = NULL;
	int r;

	if (!st || !ret)
		return GH_EINVAL;
	if ((r = gh_store_perm_list(st, &perms, &n_perms)) < 0)
		goto out;
	if ((r = gh_store_node_list(st, &nodes, &n_nodes)) < 0)
		goto out;
	if ((r = gh_store_asset_node_pairs(st, &pair_asset, &pair_node, &n_pairs)) < 0)
		goto out;
	if ((r = gh_policy_build(perms, n_perms, nodes, n_nodes, pair_asset, pair_node, n_pairs, &p)) < 0)
		goto out;
	*ret = p;
	p = NULL;
	r = 0;
out:
	gh_policy_free(p);
	free(pair_asset);
	free(pair_node);
	gh_nodes_free(nodes, n_nodes);
	gh_perms_free(perms, n_perms);
	return r;
}

int gh_policy_subject_load(struct gh_store *st, int64_t user_id, struct gh_policy_subject *ret)
{
	struct gh_policy_subject ps = { 0 };
	size_t ng = 0;
	int r;

	if (ret)
		memset(ret, 0, sizeof *ret);
	if (!st || !ret)
		return GH_EINVAL;
	if ((r = gh_store_user_groups(st, user_id, &ps.groups, &ng)) < 0)
		goto out;
	if ((r = gh_policy_load(st, &ps.p)) < 0)
		goto out;
	ps.subj = (struct gh_subject){ .user_id = user_id, .group_ids = ps.groups, .n_groups = ng };
	*ret = ps;
	memset(&ps, 0, sizeof ps);
	r = 0;
out:
	gh_policy_subject_free(&ps);
	return r;
}

void gh_policy_subject_free(struct gh_policy_subject *ps)
{
	if (!ps)
		return;
	gh_policy_free(ps->p);
	free(ps->groups);
	memset(ps, 0, sizeof *ps);
}
