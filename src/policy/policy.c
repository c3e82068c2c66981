/* Policy snapshot: build and queries. No store calls and no libssh here
 * (gh_policy_load lives in policy_load.c), so tests and the benchmark
 * link this file alone.
 *
 * Representation:
 *   - Nodes are sorted by path with '/' ordered before every other byte,
 *     which makes every subtree a contiguous run of positions. A node
 *     target is then the position range [lo, hi) of its subtree, and
 *     "does node T cover node N" is lo <= pos(N) < hi: no path compares
 *     at query time. A permission's node targets are merged ranges.
 *   - Assets are indexed (sorted ids); each knows the sorted positions of
 *     its nodes, and each node position knows its assets, so a range maps
 *     to a contiguous run of (position, asset) entries.
 *   - Named accounts are interned (sorted unique names); a permission
 *     holds sorted account indices, and a query looks its account up once.
 *   - Permissions are indexed by user id and by group id (sorted keys ->
 *     permission indices), so a query visits only the permissions whose
 *     subjects hold the asker. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"

#define NONE UINT32_MAX

struct range {
	uint32_t lo, hi; /* node positions [lo, hi) */
};

struct pperm {
	int64_t id;
	char *name;
	uint32_t actions, protocols;
	int64_t valid_from, valid_until;
	bool active;
	uint32_t *assets;         /* sorted asset indices */
	size_t n_assets;
	struct range *ranges;     /* sorted, disjoint, merged */
	size_t n_ranges;
	uint32_t *accounts;       /* sorted account indices; none = all accounts */
	size_t n_accounts;
	uint16_t *ports;          /* sorted ports the forward action is limited to; none = any */
	size_t n_ports;
	char *schedule_spec;      /* NULL: always */
	struct gh_schedule *schedule; /* NULL with a spec: unparsable, never matches */
};

/* key -> items[off[i] .. off[i + 1]) */
struct index {
	int64_t *keys;
	uint32_t *off;
	uint32_t *items;
	size_t n;
};

struct gh_policy {
	struct pperm *perms;
	size_t n_perms;
	size_t n_nodes;
	int64_t *asset_ids;       /* sorted unique */
	size_t n_assets;
	uint32_t *an_off;         /* asset index -> an_pos[an_off[a] .. an_off[a + 1]) */
	uint32_t *an_pos;         /* sorted node positions */
	uint32_t *na_off;         /* node position -> na_asset[na_off[p] .. na_off[p + 1]) */
	uint32_t *na_asset;       /* asset indices */
	char **accounts;          /* sorted unique named accounts */
	size_t n_accounts;
	struct index by_user, by_group;
};

/* ---- small helpers ---- */

static bool one_bit(uint32_t bit, uint32_t all)
{
	return bit && !(bit & (bit - 1)) && !(bit & ~all);
}

/* qsort that accepts an empty (possibly NULL) array. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t uniq_i64(int64_t *v, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

static size_t uniq_u32(uint32_t *v, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (o == 0 || v[o - 1] != v[i])
			v[o++] = v[i];
	return o;
}

/* Index of KEY in sorted V, or NONE. */
static uint32_t find_i64(const int64_t *v, size_t n, int64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == key ? (uint32_t)lo : NONE;
}

static bool has_u32(const uint32_t *v, size_t n, uint32_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == key;
}

static uint32_t find_str(char *const *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid], key);
		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Append to BUF at *POS, truncating silently (reasons are best effort). */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	if (*pos >= len)
		return;
	va_start(ap, fmt);
	int r = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	*pos = (size_t)r >= len - *pos ? len : *pos + (size_t)r;
}

/* ---- paths ---- */

/* Order bytes so that '/' sorts right after the terminator: then a node's
 * subtree directly follows it ("/a" < "/a/b" < "/a-x"). */
static unsigned path_key(char c)
{
	unsigned char u = (unsigned char)c;
	return u == 0 ? 0 : u == '/' ? 1 : (unsigned)u + 1;
}

static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned x = path_key(*a), y = path_key(*b);
		if (x != y)
			return x < y ? -1 : 1;
		if (!x)
			return 0;
	}
}

/* Is D the node A or below it? */
static bool path_within(const char *d, const char *a, size_t alen)
{
	if (alen == 1) /* "/" */
		return true;
	return strncmp(d, a, alen) == 0 && (d[alen] == '/' || d[alen] == '\0');
}

struct nsort {
	int64_t id;
	char *path;   /* owned during build */
	size_t len;
	uint32_t pos; /* position in path order */
	uint32_t lo, hi;
};

static int cmp_nsort_path(const void *a, const void *b)
{
	const struct nsort *x = a, *y = b;
	int c = path_cmp(x->path, y->path);
	return c ? c : cmp_i64(&x->id, &y->id);
}

static int cmp_nsort_id(const void *a, const void *b)
{
	return cmp_i64(&((const struct nsort *)a)->id, &((const struct nsort *)b)->id);
}

/* Copy PATH without trailing slashes (keeping "/"). */
static int path_copy(const char *path, char **ret, size_t *ret_len)
{
	if (!path || path[0] != '/')
		return GH_EINVAL;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	char *c = strndup(path, n);
	if (!c)
		return GH_ENOMEM;
	*ret = c;
	*ret_len = n;
	return 0;
}

static const struct nsort *node_by_id(const struct nsort *byid, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (byid[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && byid[lo].id == id ? &byid[lo] : NULL;
}

/* Sort nodes by path, give each its position and subtree range, then
 * leave them sorted by id for lookups. */
static int nodes_prepare(struct nsort *ns, size_t n)
{
	uint32_t *stack = NULL;
	size_t top = 0;

	sort(ns, n, sizeof *ns, cmp_nsort_path);
	if (n && !(stack = malloc(n * sizeof *stack)))
		return GH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ns[i].pos = (uint32_t)i;
		/* duplicated paths share one subtree */
		ns[i].lo = i > 0 && strcmp(ns[i - 1].path, ns[i].path) == 0 ? ns[i - 1].lo : (uint32_t)i;
		while (top && !path_within(ns[i].path, ns[stack[top - 1]].path, ns[stack[top - 1]].len))
			ns[stack[--top]].hi = (uint32_t)i;
		stack[top++] = (uint32_t)i;
	}
	while (top)
		ns[stack[--top]].hi = (uint32_t)n;
	free(stack);
	sort(ns, n, sizeof *ns, cmp_nsort_id);
	for (size_t i = 1; i < n; i++)
		if (ns[i].id == ns[i - 1].id)
			return GH_EINVAL;
	return 0;
}

/* ---- build ---- */

struct kv {
	int64_t key;
	uint32_t val;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->val > y->val) - (x->val < y->val);
}

/* Build IX from N (key, value) pairs (sorted and deduplicated here). */
static int index_build(struct kv *kv, size_t n, struct index *ix)
{
	size_t nk = 0, o = 0;

	sort(kv, n, sizeof *kv, cmp_kv);
	for (size_t i = 0; i < n; i++) {
		if (o && kv[o - 1].key == kv[i].key && kv[o - 1].val == kv[i].val)
			continue;
		if (!o || kv[o - 1].key != kv[i].key)
			nk++;
		kv[o++] = kv[i];
	}
	ix->keys = malloc((nk ? nk : 1) * sizeof *ix->keys);
	ix->off = malloc((nk + 1) * sizeof *ix->off);
	ix->items = malloc((o ? o : 1) * sizeof *ix->items);
	if (!ix->keys || !ix->off || !ix->items)
		return GH_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < o; i++) {
		if (i == 0 || kv[i - 1].key != kv[i].key) {
			ix->keys[k] = kv[i].key;
			ix->off[k++] = (uint32_t)i;
		}
		ix->items[i] = kv[i].val;
	}
	ix->off[k] = (uint32_t)o;
	ix->n = nk;
	return 0;
}

static void index_free(struct index *ix)
{
	free(ix->keys);
	free(ix->off);
	free(ix->items);
}

static const uint32_t *index_get(const struct index *ix, int64_t key, size_t *ret_n)
{
	uint32_t k = find_i64(ix->keys, ix->n, key);
	if (k == NONE) {
		*ret_n = 0;
		return NULL;
	}
	*ret_n = ix->off[k + 1] - ix->off[k];
	return ix->items + ix->off[k];
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

struct pair {
	uint32_t a, b;
};

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return (p->b > q->b) - (p->b < q->b);
}

static int check_input(const struct gh_perm *perms, size_t n_perms, const struct gh_node *nodes,
		       size_t n_nodes, const int64_t *pair_asset, const int64_t *pair_node,
		       size_t n_pairs)
{
	if ((n_perms && !perms) || (n_nodes && !nodes) || (n_pairs && (!pair_asset || !pair_node)))
		return GH_EINVAL;
	/* positions and offsets are 32-bit */
	if (n_perms >= NONE || n_nodes >= NONE || n_pairs >= NONE / 2)
		return GH_EINVAL;
	for (size_t i = 0; i < n_perms; i++) {
		const struct gh_perm *q = &perms[i];
		if ((q->n_users && !q->user_ids) || (q->n_groups && !q->group_ids) ||
		    (q->n_assets && !q->asset_ids) || (q->n_nodes && !q->node_ids) ||
		    (q->n_accounts && !q->accounts))
			return GH_EINVAL;
		for (size_t j = 0; j < q->n_accounts; j++)
			if (!q->accounts[j] || !q->accounts[j][0])
				return GH_EINVAL;
	}
	return 0;
}

static int build_accounts(struct gh_policy *p, const struct gh_perm *perms, size_t n_perms)
{
	size_t total = 0;
	for (size_t i = 0; i < n_perms; i++)
		total += perms[i].n_accounts;
	if (!total)
		return 0;
	p->accounts = calloc(total, sizeof *p->accounts);
	if (!p->accounts)
		return GH_ENOMEM;
	/* borrow first, sort, deduplicate, then copy */
	size_t k = 0;
	for (size_t i = 0; i < n_perms; i++)
		for (size_t j = 0; j < perms[i].n_accounts; j++)
			p->accounts[k++] = perms[i].accounts[j];
	sort(p->accounts, total, sizeof *p->accounts, cmp_str);
	size_t o = 0;
	for (size_t i = 0; i < total; i++)
		if (o == 0 || strcmp(p->accounts[o - 1], p->accounts[i]) != 0)
			p->accounts[o++] = p->accounts[i];
	for (size_t i = o; i < total; i++)
		p->accounts[i] = NULL;
	for (size_t i = 0; i < o; i++) {
		char *c = strdup(p->accounts[i]);
		if (!c) {
			/* entries i.. are still borrowed: forget them */
			for (size_t j = i; j < o; j++)
				p->accounts[j] = NULL;
			p->n_accounts = i;
			return GH_ENOMEM;
		}
		p->accounts[i] = c;
		p->n_accounts = i + 1;
	}
	return 0;
}

static int build_assets(struct gh_policy *p, const struct gh_perm *perms, size_t n_perms,
			const struct nsort *byid, const int64_t *pair_asset,
			const int64_t *pair_node, size_t n_pairs)
{
	struct pair *pairs = NULL;
	size_t total = n_pairs, np = 0;
	int r = GH_ENOMEM;

	for (size_t i = 0; i < n_perms; i++)
		total += perms[i].n_assets;
	p->asset_ids = malloc((total ? total : 1) * sizeof *p->asset_ids);
	if (!p->asset_ids)
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < n_pairs; i++)
		p->asset_ids[k++] = pair_asset[i];
	for (size_t i = 0; i < n_perms; i++)
		for (size_t j = 0; j < perms[i].n_assets; j++)
			p->asset_ids[k++] = perms[i].asset_ids[j];
	sort(p->asset_ids, k, sizeof *p->asset_ids, cmp_i64);
	p->n_assets = uniq_i64(p->asset_ids, k);

	/* (asset, node position) for the pairs whose node is known */
	pairs = malloc((n_pairs ? n_pairs : 1) * sizeof *pairs);
	p->an_off = calloc(p->n_assets + 1, sizeof *p->an_off);
	p->na_off = calloc(p->n_nodes + 1, sizeof *p->na_off);
	if (!pairs || !p->an_off || !p->na_off)
		goto out;
	for (size_t i = 0; i < n_pairs; i++) {
		const struct nsort *n = node_by_id(byid, p->n_nodes, pair_node[i]);
		if (n)
			pairs[np++] = (struct pair){ find_i64(p->asset_ids, p->n_assets, pair_asset[i]), n->pos };
	}
	sort(pairs, np, sizeof *pairs, cmp_pair);
	size_t o = 0;
	for (size_t i = 0; i < np; i++)
		if (o == 0 || pairs[o - 1].a != pairs[i].a || pairs[o - 1].b != pairs[i].b)
			pairs[o++] = pairs[i];
	np = o;
	p->an_pos = malloc((np ? np : 1) * sizeof *p->an_pos);
	p->na_asset = malloc((np ? np : 1) * sizeof *p->na_asset);
	if (!p->an_pos || !p->na_asset)
		goto out;
	/* asset -> positions (pairs are sorted by asset, then position) */
	for (size_t i = 0; i < np; i++) {
		p->an_pos[i] = pairs[i].b;
		p->an_off[pairs[i].a + 1]++;
		p->na_off[pairs[i].b + 1]++;
	}
	for (size_t a = 0; a < p->n_assets; a++)
		p->an_off[a + 1] += p->an_off[a];
	/* position -> assets: counting sort; assets come out ascending */
	for (size_t n = 0; n < p->n_nodes; n++)
		p->na_off[n + 1] += p->na_off[n];
	uint32_t *fill = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *fill);
	if (!fill)
		goto out;
	for (size_t i = 0; i < np; i++) {
		uint32_t pos = pairs[i].b;
		p->na_asset[p->na_off[pos] + fill[pos]++] = pairs[i].a;
	}
	free(fill);
	r = 0;
out:
	free(pairs);
	return r;
}

static int build_perm(struct gh_policy *p, const struct gh_perm *q, const struct nsort *byid,
		      struct pperm *ret)
{
	ret->id = q->id;
	ret->actions = q->actions;
	ret->protocols = q->protocols;
	ret->valid_from = q->valid_from;
	ret->valid_until = q->valid_until;
	ret->active = q->active;
	ret->name = strdup(q->name ? q->name : "");
	if (!ret->name)
		return GH_ENOMEM;
	if (q->forward_ports && *q->forward_ports) {
		int r = gh_ports_parse(q->forward_ports, &ret->ports, &ret->n_ports);
		if (r < 0)
			return r;
	}
	if (q->schedule && q->schedule[0]) {
		/* a schedule that does not parse (say, a zone removed from the
		 * system since) fails closed: the permission never matches */
		if (!(ret->schedule_spec = strdup(q->schedule)))
			return GH_ENOMEM;
		if (gh_schedule_parse(q->schedule, &ret->schedule, NULL, 0) == GH_ENOMEM)
			return GH_ENOMEM;
	}

	if (q->n_assets) {
		ret->assets = malloc(q->n_assets * sizeof *ret->assets);
		if (!ret->assets)
			return GH_ENOMEM;
		for (size_t j = 0; j < q->n_assets; j++)
			ret->assets[j] = find_i64(p->asset_ids, p->n_assets, q->asset_ids[j]);
		sort(ret->assets, q->n_assets, sizeof *ret->assets, cmp_u32);
		ret->n_assets = uniq_u32(ret->assets, q->n_assets);
	}

	if (q->n_nodes) {
		ret->ranges = malloc(q->n_nodes * sizeof *ret->ranges);
		if (!ret->ranges)
			return GH_ENOMEM;
		size_t k = 0;
		for (size_t j = 0; j < q->n_nodes; j++) {
			const struct nsort *n = node_by_id(byid, p->n_nodes, q->node_ids[j]);
			if (n)
				ret->ranges[k++] = (struct range){ n->lo, n->hi };
		}
		sort(ret->ranges, k, sizeof *ret->ranges, cmp_range);
		size_t o = 0;
		for (size_t j = 0; j < k; j++) {
			if (o && ret->ranges[j].lo <= ret->ranges[o - 1].hi) {
				if (ret->ranges[j].hi > ret->ranges[o - 1].hi)
					ret->ranges[o - 1].hi = ret->ranges[j].hi;
			} else {
				ret->ranges[o++] = ret->ranges[j];
			}
		}
		ret->n_ranges = o;
	}

	if (q->n_accounts) {
		ret->accounts = malloc(q->n_accounts * sizeof *ret->accounts);
		if (!ret->accounts)
			return GH_ENOMEM;
		for (size_t j = 0; j < q->n_accounts; j++)
			ret->accounts[j] = find_str(p->accounts, p->n_accounts, q->accounts[j]);
		sort(ret->accounts, q->n_accounts, sizeof *ret->accounts, cmp_u32);
		ret->n_accounts = uniq_u32(ret->accounts, q->n_accounts);
	}
	return 0;
}

static int build_subjects(struct gh_policy *p, const struct gh_perm *perms, size_t n_perms)
{
	struct kv *kv = NULL;
	size_t nu = 0, ng = 0, k = 0;
	int r = GH_ENOMEM;

	for (size_t i = 0; i < n_perms; i++) {
		nu += perms[i].n_users;
		ng += perms[i].n_groups;
	}
	kv = malloc((nu + ng ? nu + ng : 1) * sizeof *kv);
	if (!kv)
		goto out;
	for (size_t i = 0; i < n_perms; i++)
		for (size_t j = 0; j < perms[i].n_users; j++)
			kv[k++] = (struct kv){ perms[i].user_ids[j], (uint32_t)i };
	if ((r = index_build(kv, k, &p->by_user)) < 0)
		goto out;
	k = 0;
	for (size_t i = 0; i < n_perms; i++)
		for (size_t j = 0; j < perms[i].n_groups; j++)
			kv[k++] = (struct kv){ perms[i].group_ids[j], (uint32_t)i };
	r = index_build(kv, k, &p->by_group);
out:
	free(kv);
	return r;
}

int gh_policy_build(const struct gh_perm *perms, size_t n_perms,
		    const struct gh_node *nodes, size_t n_nodes,
		    const int64_t *pair_asset, const int64_t *pair_node, size_t n_pairs,
		    struct gh_policy **ret)
{
	struct gh_policy *p = NULL;
	struct nsort *ns = NULL;
	int r;

	if (!ret)
		return GH_EINVAL;
	if ((r = check_input(perms, n_perms, nodes, n_nodes, pair_asset, pair_node, n_pairs)) < 0)
		return r;
	r = GH_ENOMEM;
	if (!(p = calloc(1, sizeof *p)))
		goto out;
	if (n_nodes && !(ns = calloc(n_nodes, sizeof *ns)))
		goto out;
	for (size_t i = 0; i < n_nodes; i++) {
		ns[i].id = nodes[i].id;
		if ((r = path_copy(nodes[i].path, &ns[i].path, &ns[i].len)) < 0)
			goto out;
	}
	p->n_nodes = n_nodes;
	if ((r = nodes_prepare(ns, n_nodes)) < 0)
		goto out;
	if ((r = build_accounts(p, perms, n_perms)) < 0)
		goto out;
	if ((r = build_assets(p, perms, n_perms, ns, pair_asset, pair_node, n_pairs)) < 0)
		goto out;
	r = GH_ENOMEM;
	if (n_perms && !(p->perms = calloc(n_perms, sizeof *p->perms)))
		goto out;
	p->n_perms = n_perms;
	for (size_t i = 0; i < n_perms; i++)
		if ((r = build_perm(p, &perms[i], ns, &p->perms[i])) < 0)
			goto out;
	if ((r = build_subjects(p, perms, n_perms)) < 0)
		goto out;
	*ret = p;
	p = NULL;
	r = 0;
out:
	for (size_t i = 0; ns && i < n_nodes; i++)
		free(ns[i].path);
	free(ns);
	gh_policy_free(p);
	return r;
}

struct gh_policy *gh_policy_free(struct gh_policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; p->perms && i < p->n_perms; i++) {
		free(p->perms[i].name);
		free(p->perms[i].assets);
		free(p->perms[i].ranges);
		free(p->perms[i].accounts);
		free(p->perms[i].ports);
		free(p->perms[i].schedule_spec);
		gh_schedule_free(p->perms[i].schedule);
	}
	free(p->perms);
	free(p->asset_ids);
	free(p->an_off);
	free(p->an_pos);
	free(p->na_off);
	free(p->na_asset);
	for (size_t i = 0; p->accounts && i < p->n_accounts; i++)
		free(p->accounts[i]);
	free(p->accounts);
	index_free(&p->by_user);
	index_free(&p->by_group);
	free(p);
	return NULL;
}

void gh_policy_stats(const struct gh_policy *p, struct gh_policy_stats *ret)
{
	if (!ret)
		return;
	*ret = (struct gh_policy_stats){ 0 };
	if (p)
		*ret = (struct gh_policy_stats){ p->n_perms, p->n_nodes, p->n_assets, p->n_accounts };
}

/* ---- queries ---- */

/* Why a covering permission does not match; bits in the order an admin
 * would fix them. */
enum {
	F_INACTIVE = 1 << 0,
	F_EARLY = 1 << 1,
	F_EXPIRED = 1 << 2,
	F_PROTOCOL = 1 << 3,
	F_ACCOUNT = 1 << 4,
	F_ACTION = 1 << 5,
	F_SCHEDULE = 1 << 6,
	F_PORT = 1 << 7,
};

/* Does Q target asset index A, directly or through a node? */
static bool covers(const struct gh_policy *p, const struct pperm *q, uint32_t a)
{
	if (a == NONE)
		return false;
	if (q->n_assets && has_u32(q->assets, q->n_assets, a))
		return true;
	if (!q->n_ranges)
		return false;
	for (uint32_t i = p->an_off[a]; i < p->an_off[a + 1]; i++) {
		uint32_t pos = p->an_pos[i];
		/* last range with lo <= pos */
		size_t lo = 0, hi = q->n_ranges;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (q->ranges[mid].lo <= pos)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo && pos < q->ranges[lo - 1].hi)
			return true;
	}
	return false;
}

/* Failures of Q for everything but the target. ACCT is an interned
 * account index (NONE: named by no permission); CHECK_ACCOUNT false
 * skips the account test. */
static unsigned failures(const struct pperm *q, uint32_t acct, bool check_account, uint32_t protocol,
			 uint32_t action, int64_t now)
{
	unsigned f = 0;
	if (!q->active)
		f |= F_INACTIVE;
	if (q->valid_from && now < q->valid_from)
		f |= F_EARLY;
	if (q->valid_until && now > q->valid_until)
		f |= F_EXPIRED;
	if ((q->protocols & protocol) != protocol)
		f |= F_PROTOCOL;
	if (check_account && q->n_accounts && (acct == NONE || !has_u32(q->accounts, q->n_accounts, acct)))
		f |= F_ACCOUNT;
	if ((q->actions & action) != action)
		f |= F_ACTION;
	if (q->schedule_spec && (!q->schedule || !gh_schedule_match(q->schedule, now)))
		f |= F_SCHEDULE;
	return f;
}

typedef void (*visit_fn)(const struct gh_policy *p, const struct pperm *q, void *ctx);

/* Visit every permission whose subjects hold S (a permission naming both
 * the user and a group, or several groups, is visited more than once). */
static size_t visit(const struct gh_policy *p, const struct gh_subject *s, visit_fn fn, void *ctx)
{
	size_t n = 0, total = 0;
	const uint32_t *it = index_get(&p->by_user, s->user_id, &n);
	for (size_t i = 0; i < n; i++)
		fn(p, &p->perms[it[i]], ctx);
	total += n;
	for (size_t g = 0; g < s->n_groups; g++) {
		it = index_get(&p->by_group, s->group_ids[g], &n);
		for (size_t i = 0; i < n; i++)
			fn(p, &p->perms[it[i]], ctx);
		total += n;
	}
	return total;
}

static bool subject_ok(const struct gh_subject *s)
{
	return s && (s->n_groups == 0 || s->group_ids);
}

struct check_ctx {
	uint32_t asset, acct, protocol, action;
	bool any_account;            /* skip the account test */
	int port;                    /* forward: the port asked for (0: no test) */
	int64_t now;
	const struct pperm *allow;   /* lowest id allowing */
	const struct pperm *near;    /* closest miss */
	unsigned near_f;
	size_t n_cover;
};

/* Is failure set F a closer miss than G? Fewer failures first, then the
 * one failing later in the order (more specific), then the lower id. */
static bool closer(unsigned f, const struct pperm *qf, unsigned g, const struct pperm *qg)
{
	int nf = __builtin_popcount(f), ng = __builtin_popcount(g);
	if (nf != ng)
		return nf < ng;
	int lf = __builtin_ctz(f), lg = __builtin_ctz(g);
	if (lf != lg)
		return lf > lg;
	return qf->id < qg->id;
}

static void check_one(const struct gh_policy *p, const struct pperm *q, void *ctx)
{
	struct check_ctx *c = ctx;
	if (c->allow && c->allow->id <= q->id)
		return;
	if (!covers(p, q, c->asset))
		return;
	c->n_cover++;
	unsigned f = failures(q, c->acct, !c->any_account, c->protocol, c->action, c->now);
	if (c->port && q->n_ports) {
		bool listed = false;
		for (size_t i = 0; i < q->n_ports && !listed; i++)
			listed = q->ports[i] == c->port;
		if (!listed)
			f |= F_PORT;
	}
	if (!f)
		c->allow = q;
	else if (!c->near || closer(f, q, c->near_f, c->near)) {
		c->near = q;
		c->near_f = f;
	}
}

static void explain(const struct check_ctx *c, const struct gh_subject *s, int64_t asset_id,
		    const char *account, size_t n_visited, struct gh_decision *d)
{
	char name[96], acct[96], t[32];
	size_t pos = 0;
	const struct pperm *q = c->near;

	d->deny = !q ? (n_visited ? GH_DENY_NOT_COVERED : GH_DENY_NO_SUBJECT) : GH_DENY_PERM;
	if (!q) {
		if (!n_visited)
			append(d->reason, sizeof d->reason, &pos,
			       "denied: no permission names user %" PRId64 " or any of its %zu groups",
			       s->user_id, s->n_groups);
		else
			append(d->reason, sizeof d->reason, &pos,
			       "denied: no permission covers asset %" PRId64 " for user %" PRId64,
			       asset_id, s->user_id);
		return;
	}
	gh_escape(name, sizeof name, q->name);
	append(d->reason, sizeof d->reason, &pos, "denied: permission '%s'", name);
	const char *sep = " ";
	if (c->near_f & F_INACTIVE) {
		append(d->reason, sizeof d->reason, &pos, "%sis inactive", sep);
		sep = ", ";
	}
	if (c->near_f & F_EARLY) {
		append(d->reason, sizeof d->reason, &pos, "%sis not valid before %s", sep,
		       gh_format_time(q->valid_from, t, sizeof t));
		sep = ", ";
	}
	if (c->near_f & F_EXPIRED) {
		append(d->reason, sizeof d->reason, &pos, "%sexpired at %s", sep,
		       gh_format_time(q->valid_until, t, sizeof t));
		sep = ", ";
	}
	if (c->near_f & F_PROTOCOL) {
		append(d->reason, sizeof d->reason, &pos, "%sdoes not grant protocol %s", sep,
		       gh_protocol_name(c->protocol));
		sep = ", ";
	}
	if (c->near_f & F_ACCOUNT) {
		append(d->reason, sizeof d->reason, &pos, "%sdoes not name account '%s'", sep,
		       gh_escape(acct, sizeof acct, account));
		sep = ", ";
	}
	if (c->near_f & F_ACTION) {
		append(d->reason, sizeof d->reason, &pos, "%sdoes not grant action %s", sep,
		       gh_action_name(c->action));
		sep = ", ";
	}
	if (c->near_f & F_SCHEDULE) {
		char spec[96];
		append(d->reason, sizeof d->reason, &pos, "%sis outside its schedule '%s'%s", sep,
		       gh_escape(spec, sizeof spec, q->schedule_spec),
		       q->schedule ? "" : " (which does not parse)");
		sep = ", ";
	}
	if (c->near_f & F_PORT)
		append(d->reason, sizeof d->reason, &pos, "%sdoes not list port %d", sep, c->port);
	if (c->n_cover > 1)
		append(d->reason, sizeof d->reason, &pos, " (closest of %zu covering permissions)",
		       c->n_cover);
}

/* " or its groups 'a', 'b'" / " (in no group)" (with NONE) at *POS. */
static void append_groups(char *buf, size_t len, size_t *pos, const struct gh_reason_names *n,
			  const char *none)
{
	char esc[96];
	if (!n->n_groups) {
		append(buf, len, pos, "%s", none);
		return;
	}
	append(buf, len, pos, " or its group%s", n->n_groups > 1 ? "s" : "");
	for (size_t i = 0; i < n->n_groups; i++)
		append(buf, len, pos, "%s'%s'", i ? ", " : " ",
		       gh_escape(esc, sizeof esc, n->groups[i] ? n->groups[i] : "?"));
}

void gh_policy_name_reason(struct gh_decision *d, const struct gh_reason_names *n)
{
	char user[96], asset[96];
	size_t pos = 0;

	if (!d || !n || !n->user || (d->deny != GH_DENY_NO_SUBJECT && d->deny != GH_DENY_NOT_COVERED) ||
	    (d->deny == GH_DENY_NOT_COVERED && !n->asset) || (n->n_groups && !n->groups))
		return;
	gh_escape(user, sizeof user, n->user);
	if (d->deny == GH_DENY_NO_SUBJECT) {
		append(d->reason, sizeof d->reason, &pos, "denied: no permission names user '%s'", user);
		append_groups(d->reason, sizeof d->reason, &pos, n, " (in no group)");
		return;
	}
	append(d->reason, sizeof d->reason, &pos, "denied: no permission covers asset '%s' for user '%s'",
	       gh_escape(asset, sizeof asset, n->asset), user);
	append_groups(d->reason, sizeof d->reason, &pos, n, "");
}

static int check(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
		 const char *account, uint32_t protocol, uint32_t action, int port, int64_t now,
		 struct gh_decision *ret)
{
	if (!p || !subject_ok(s) || (account && !account[0]) || !ret ||
	    !one_bit(protocol, GH_PROTO_ALL) || !one_bit(action, GH_ACT_ALL))
		return GH_EINVAL;

	struct check_ctx c = {
		.asset = find_i64(p->asset_ids, p->n_assets, asset_id),
		.acct = account ? find_str(p->accounts, p->n_accounts, account) : NONE,
		.any_account = !account,
		.port = port,
		.protocol = protocol,
		.action = action,
		.now = now,
	};
	size_t n_visited = visit(p, s, check_one, &c);

	struct gh_decision d = { 0 };
	if (c.allow) {
		char name[96];
		d.allow = true;
		d.perm_id = c.allow->id;
		snprintf(d.perm_name, sizeof d.perm_name, "%s", c.allow->name);
		snprintf(d.reason, sizeof d.reason, "allowed by permission '%s'",
			 gh_escape(name, sizeof name, c.allow->name));
	} else {
		explain(&c, s, asset_id, account, n_visited, &d);
	}
	*ret = d;
	return 0;
}

int gh_policy_check(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
		    const char *account, uint32_t protocol, uint32_t action, int64_t now,
		    struct gh_decision *ret)
{
	if (!account)
		return GH_EINVAL;
	return check(p, s, asset_id, account, protocol, action, 0, now, ret);
}

int gh_policy_check_forward(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
			    const char *account, int port, int64_t now, struct gh_decision *ret)
{
	if (port < 1 || port > 65535)
		return GH_EINVAL;
	return check(p, s, asset_id, account, GH_PROTO_SSH, GH_ACT_FORWARD, port, now, ret);
}

/* A permission that lets S connect (with some account) over PROTOCOL now. */
static bool connect_ok(const struct pperm *q, uint32_t protocol, int64_t now)
{
	return failures(q, NONE, false, protocol, GH_ACT_CONNECT, now) == 0;
}

struct assets_ctx {
	uint32_t protocol;
	int64_t now;
	uint64_t *bits; /* over asset indices */
};

static void assets_one(const struct gh_policy *p, const struct pperm *q, void *ctx)
{
	struct assets_ctx *c = ctx;
	if (!connect_ok(q, c->protocol, c->now))
		return;
	for (size_t i = 0; i < q->n_assets; i++)
		c->bits[q->assets[i] / 64] |= UINT64_C(1) << (q->assets[i] % 64);
	for (size_t i = 0; i < q->n_ranges; i++)
		for (uint32_t j = p->na_off[q->ranges[i].lo]; j < p->na_off[q->ranges[i].hi]; j++)
			c->bits[p->na_asset[j] / 64] |= UINT64_C(1) << (p->na_asset[j] % 64);
}

int gh_policy_allowed_assets(const struct gh_policy *p, const struct gh_subject *s, uint32_t protocol,
			     int64_t now, int64_t **ret_ids, size_t *ret_n)
{
	struct assets_ctx c = { .protocol = protocol, .now = now };
	int64_t *ids = NULL;
	size_t words, n = 0;

	if (!p || !subject_ok(s) || !ret_ids || !ret_n || !one_bit(protocol, GH_PROTO_ALL))
		return GH_EINVAL;
	words = (p->n_assets + 63) / 64;
	if (!(c.bits = calloc(words ? words : 1, sizeof *c.bits)))
		return GH_ENOMEM;
	visit(p, s, assets_one, &c);
	for (size_t w = 0; w < words; w++)
		n += (size_t)__builtin_popcountll(c.bits[w]);
	if (n && !(ids = malloc(n * sizeof *ids))) {
		free(c.bits);
		return GH_ENOMEM;
	}
	size_t k = 0;
	for (size_t w = 0; w < words; w++)
		for (uint64_t b = c.bits[w]; b; b &= b - 1)
			ids[k++] = p->asset_ids[w * 64 + (size_t)__builtin_ctzll(b)];
	free(c.bits);
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

struct accounts_ctx {
	uint32_t asset, protocol;
	int64_t now;
	bool all;
	uint64_t *bits; /* over interned accounts */
};

static void accounts_one(const struct gh_policy *p, const struct pperm *q, void *ctx)
{
	struct accounts_ctx *c = ctx;
	if (!connect_ok(q, c->protocol, c->now) || !covers(p, q, c->asset))
		return;
	if (!q->n_accounts)
		c->all = true;
	for (size_t i = 0; i < q->n_accounts; i++)
		c->bits[q->accounts[i] / 64] |= UINT64_C(1) << (q->accounts[i] % 64);
}

void gh_policy_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int gh_policy_allowed_accounts(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
			       uint32_t protocol, int64_t now, bool *ret_all, char ***ret_names,
			       size_t *ret_n)
{
	struct accounts_ctx c = { .protocol = protocol, .now = now };
	char **names = NULL;
	size_t words, n = 0, k = 0;
	int r = GH_ENOMEM;

	if (!p || !subject_ok(s) || !ret_all || !ret_names || !ret_n || !one_bit(protocol, GH_PROTO_ALL))
		return GH_EINVAL;
	c.asset = find_i64(p->asset_ids, p->n_assets, asset_id);
	words = (p->n_accounts + 63) / 64;
	if (!(c.bits = calloc(words ? words : 1, sizeof *c.bits)))
		return GH_ENOMEM;
	visit(p, s, accounts_one, &c);
	if (!c.all)
		for (size_t w = 0; w < words; w++)
			n += (size_t)__builtin_popcountll(c.bits[w]);
	if (n && !(names = calloc(n, sizeof *names)))
		goto out;
	for (size_t w = 0; n && w < words; w++)
		for (uint64_t b = c.bits[w]; b; b &= b - 1) {
			if (!(names[k] = strdup(p->accounts[w * 64 + (size_t)__builtin_ctzll(b)])))
				goto out;
			k++;
		}
	*ret_all = c.all;
	*ret_names = names;
	*ret_n = n;
	names = NULL;
	r = 0;
out:
	gh_policy_names_free(names, k);
	free(c.bits);
	return r;
}

struct actions_ctx {
	uint32_t asset, acct, protocol;
	int64_t now;
	uint32_t mask;
};

static void actions_one(const struct gh_policy *p, const struct pperm *q, void *ctx)
{
	struct actions_ctx *c = ctx;
	if ((c->mask | q->actions) == c->mask)
		return; /* adds nothing */
	if (failures(q, c->acct, true, c->protocol, 0, c->now) || !covers(p, q, c->asset))
		return;
	c->mask |= q->actions;
}

uint32_t gh_policy_allowed_actions(const struct gh_policy *p, const struct gh_subject *s, int64_t asset_id,
				   const char *account, uint32_t protocol, int64_t now)
{
	if (!p || !subject_ok(s) || !account || !account[0] || !one_bit(protocol, GH_PROTO_ALL))
		return 0;
	struct actions_ctx c = {
		.asset = find_i64(p->asset_ids, p->n_assets, asset_id),
		.acct = find_str(p->accounts, p->n_accounts, account),
		.protocol = protocol,
		.now = now,
	};
	visit(p, s, actions_one, &c);
	return c.mask & GH_ACT_ALL;
}
