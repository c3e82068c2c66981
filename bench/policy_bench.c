/* Micro-benchmark of the policy module on a random but seeded world:
 * 10,000 assets in ~500 nodes (depth up to 5), 1,000 users, 100 groups and
 * 1,000 permissions mixing users, groups, assets, nodes, named accounts
 * and validity windows. Times gh_policy_build, gh_policy_check over many
 * random queries (half of them on assets the user may reach) and
 * gh_policy_allowed_assets for every user; prints median and p99 per call.
 *
 * Usage: policy_bench [SEED [QUERIES]] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "policy/policy.h"

#define N_ASSETS 10000
#define N_NODES 500
#define MAX_DEPTH 5
#define N_USERS 1000
#define N_GROUPS 100
#define N_PERMS 1000
#define N_ACCTS 20
#define NOW 1700000000

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static size_t below(struct rng *r, size_t n)
{
	return (size_t)(rnd(r) % n);
}

static int64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, int64_t *ns, size_t n)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, n, sizeof *ns, cmp_i64);
	printf("%-26s %8zu calls  median %8.3f us  p99 %8.3f us  max %9.3f us  mean %8.3f us\n", what, n,
	       (double)ns[n / 2] / 1000.0, (double)ns[n * 99 / 100] / 1000.0, (double)ns[n - 1] / 1000.0,
	       (double)sum / (double)n / 1000.0);
}

struct world {
	struct gh_node nodes[N_NODES];
	int depth[N_NODES];
	int64_t *pair_asset, *pair_node;
	size_t n_pairs;
	struct gh_perm perms[N_PERMS];
	char *acct_pool[N_ACCTS];
	int64_t user_groups[N_USERS + 1][5];
	size_t n_user_groups[N_USERS + 1];
};

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return GH_EINVAL;
	*ret = v;
	return 0;
}

static int64_t *ids(struct rng *r, size_t n, int64_t base, size_t range)
{
	int64_t *v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v) {
		perror("malloc");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		v[i] = base + (int64_t)below(r, range);
	return v;
}

static void world_make(struct world *w, struct rng *r)
{
	char buf[256];

	/* a random tree: each node below a random shallower node */
	for (size_t i = 0; i < N_NODES; i++) {
		size_t parent = i;
		for (int tries = 0; i > 0 && tries < 8; tries++) {
			size_t c = below(r, i);
			if (w->depth[c] < MAX_DEPTH) {
				parent = c;
				break;
			}
		}
		if (parent == i) {
			snprintf(buf, sizeof buf, "/region%zu", i);
			w->depth[i] = 1;
		} else {
			snprintf(buf, sizeof buf, "%s/n%zu", w->nodes[parent].path, i);
			w->depth[i] = w->depth[parent] + 1;
		}
		w->nodes[i] = (struct gh_node){ .id = 1 + (int64_t)i, .path = strdup(buf) };
	}

	/* each asset in 1 or 2 nodes */
	w->pair_asset = malloc(2 * N_ASSETS * sizeof *w->pair_asset);
	w->pair_node = malloc(2 * N_ASSETS * sizeof *w->pair_node);
	for (int64_t a = 1; a <= N_ASSETS; a++)
		for (size_t k = 1 + (below(r, 10) == 0); k; k--) {
			w->pair_asset[w->n_pairs] = a;
			w->pair_node[w->n_pairs++] = 1 + (int64_t)below(r, N_NODES);
		}

	for (size_t i = 0; i < N_ACCTS; i++) {
		snprintf(buf, sizeof buf, "acct%zu", i);
		w->acct_pool[i] = strdup(buf);
	}

	for (size_t u = 1; u <= N_USERS; u++) {
		w->n_user_groups[u] = below(r, 6);
		for (size_t j = 0; j < w->n_user_groups[u]; j++)
			w->user_groups[u][j] = 1 + (int64_t)below(r, N_GROUPS);
	}

	for (size_t i = 0; i < N_PERMS; i++) {
		struct gh_perm *q = &w->perms[i];
		snprintf(buf, sizeof buf, "perm-%zu", i);
		q->id = (int64_t)i + 1;
		q->name = strdup(buf);
		q->active = below(r, 20) != 0;
		q->actions = below(r, 3) ? GH_ACT_ALL : (uint32_t)(GH_ACT_CONNECT | (rnd(r) & GH_ACT_ALL));
		q->protocols = below(r, 5) ? GH_PROTO_SSH | GH_PROTO_SFTP | GH_PROTO_SCP
					   : (uint32_t)(rnd(r) & GH_PROTO_ALL);
		if (below(r, 4) == 0) {
			q->valid_from = NOW - (int64_t)below(r, 86400 * 60);
			q->valid_until = NOW - 86400 * 30 + (int64_t)below(r, 86400 * 60);
		}
		/* subjects: users, groups or both */
		switch (below(r, 3)) {
		case 0:
			q->n_users = 1 + below(r, 5);
			break;
		case 1:
			q->n_groups = 1 + below(r, 2);
			break;
		default:
			q->n_users = 1 + below(r, 3);
			q->n_groups = 1;
		}
		q->user_ids = ids(r, q->n_users, 1, N_USERS);
		q->group_ids = ids(r, q->n_groups, 1, N_GROUPS);
		/* targets: assets, nodes or both */
		switch (below(r, 3)) {
		case 0:
			q->n_assets = 1 + below(r, 20);
			break;
		case 1:
			q->n_nodes = 1 + below(r, 3);
			break;
		default:
			q->n_assets = 1 + below(r, 5);
			q->n_nodes = 1;
		}
		q->asset_ids = ids(r, q->n_assets, 1, N_ASSETS);
		q->node_ids = ids(r, q->n_nodes, 1, N_NODES);
		if (below(r, 10) < 3) {
			q->n_accounts = 1 + below(r, 3);
			q->accounts = malloc(q->n_accounts * sizeof *q->accounts);
			for (size_t j = 0; j < q->n_accounts; j++)
				q->accounts[j] = strdup(w->acct_pool[below(r, N_ACCTS)]);
		}
	}
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < N_NODES; i++)
		free(w->nodes[i].path);
	for (size_t i = 0; i < N_PERMS; i++) {
		struct gh_perm *q = &w->perms[i];
		free(q->name);
		free(q->user_ids);
		free(q->group_ids);
		free(q->asset_ids);
		free(q->node_ids);
		for (size_t j = 0; j < q->n_accounts; j++)
			free(q->accounts[j]);
		free(q->accounts);
	}
	for (size_t i = 0; i < N_ACCTS; i++)
		free(w->acct_pool[i]);
	free(w->pair_asset);
	free(w->pair_node);
	free(w);
}

int main(int argc, char **argv)
{
	uint64_t seed = 42, n_queries = 200000;
	struct world *w = NULL;
	struct gh_policy *p = NULL;
	int r;

	if (argc > 3 || (argc > 1 && parse_u64(argv[1], &seed) < 0) ||
	    (argc > 2 && (parse_u64(argv[2], &n_queries) < 0 || n_queries == 0))) {
		fprintf(stderr, "usage: %s [SEED [QUERIES]]\n", argv[0]);
		return 2;
	}
	struct rng rng = { seed };
	if (!(w = calloc(1, sizeof *w))) {
		perror("calloc");
		return 1;
	}
	world_make(w, &rng);
	int maxd = 0;
	for (size_t i = 0; i < N_NODES; i++)
		maxd = w->depth[i] > maxd ? w->depth[i] : maxd;
	printf("policy_bench: seed %" PRIu64 ", %d assets (%zu placements) in %d nodes (depth <= %d), "
	       "%d users, %d groups, %d permissions\n",
	       seed, N_ASSETS, w->n_pairs, N_NODES, maxd, N_USERS, N_GROUPS, N_PERMS);

	/* build */
	int64_t build_ns[5];
	for (int i = 0; i < 5; i++) {
		p = gh_policy_free(p);
		int64_t t0 = ns_now();
		r = gh_policy_build(w->perms, N_PERMS, w->nodes, N_NODES, w->pair_asset, w->pair_node,
				    w->n_pairs, &p);
		build_ns[i] = ns_now() - t0;
		if (r < 0) {
			fprintf(stderr, "gh_policy_build: %s\n", gh_strerror(r));
			world_free(w);
			return 1;
		}
	}
	qsort(build_ns, 5, sizeof *build_ns, cmp_i64);
	printf("%-26s %8d calls  median %8.3f ms  max %8.3f ms\n", "gh_policy_build", 5,
	       (double)build_ns[2] / 1e6, (double)build_ns[4] / 1e6);

	/* allowed_assets for every user (results kept to aim half the checks) */
	int64_t *lat = malloc((n_queries > N_USERS ? n_queries : N_USERS) * sizeof *lat);
	int64_t *allowed[N_USERS + 1] = { NULL };
	size_t n_allowed[N_USERS + 1] = { 0 }, total_allowed = 0;
	if (!lat) {
		perror("malloc");
		return 1;
	}
	for (size_t u = 1; u <= N_USERS; u++) {
		struct gh_subject s = { (int64_t)u, w->user_groups[u], w->n_user_groups[u] };
		int64_t t0 = ns_now();
		r = gh_policy_allowed_assets(p, &s, GH_PROTO_SSH, NOW, &allowed[u], &n_allowed[u]);
		lat[u - 1] = ns_now() - t0;
		if (r < 0) {
			fprintf(stderr, "gh_policy_allowed_assets: %s\n", gh_strerror(r));
			return 1;
		}
		total_allowed += n_allowed[u];
	}

	/* checks */
	uint64_t n_allow = 0;
	int64_t *clat = malloc(n_queries * sizeof *clat);
	if (!clat) {
		perror("malloc");
		return 1;
	}
	for (uint64_t i = 0; i < n_queries; i++) {
		size_t u = 1 + below(&rng, N_USERS);
		struct gh_subject s = { (int64_t)u, w->user_groups[u], w->n_user_groups[u] };
		int64_t asset = n_allowed[u] && below(&rng, 2) ? allowed[u][below(&rng, n_allowed[u])]
							     : 1 + (int64_t)below(&rng, N_ASSETS);
		const char *acct = w->acct_pool[below(&rng, N_ACCTS)];
		uint32_t action = below(&rng, 4) ? GH_ACT_CONNECT : 1u << below(&rng, 8);
		struct gh_decision d;
		int64_t t0 = ns_now();
		r = gh_policy_check(p, &s, asset, acct, GH_PROTO_SSH, action, NOW, &d);
		clat[i] = ns_now() - t0;
		if (r < 0) {
			fprintf(stderr, "gh_policy_check: %s\n", gh_strerror(r));
			return 1;
		}
		n_allow += d.allow;
	}
	report("gh_policy_check", clat, n_queries);
	printf("%-26s %.1f%% of checks allowed\n", "", 100.0 * (double)n_allow / (double)n_queries);
	report("gh_policy_allowed_assets", lat, N_USERS);
	printf("%-26s %.1f assets per user on average\n", "", (double)total_allowed / N_USERS);

	struct gh_policy_stats st;
	gh_policy_stats(p, &st);
	printf("snapshot: %zu permissions, %zu nodes, %zu assets, %zu named accounts\n", st.n_perms,
	       st.n_nodes, st.n_assets, st.n_accounts);

	for (size_t u = 1; u <= N_USERS; u++)
		free(allowed[u]);
	free(lat);
	free(clat);
	gh_policy_free(p);
	world_free(w);
	return 0;
}
