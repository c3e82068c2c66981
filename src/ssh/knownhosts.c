/* known_hosts lines for recorded ProxyJump (see knownhosts.h). */
#include "ssh/knownhosts.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 256);
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void add_host(struct sbuf *b, const char *host, int port)
{
	char buf[600];
	if (port == 22)
		snprintf(buf, sizeof buf, "%s", host);
	else
		snprintf(buf, sizeof buf, "[%s]:%d", host, port);
	add(b, buf);
}

static bool reachable(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int gh_known_hosts_text(struct gh_store *st, const char *key, const struct gh_user *user,
			char **ret)
{
	struct gh_asset *assets = NULL;
	size_t na = 0, n_ids = 0;
	int64_t *ids = NULL;
	struct gh_policy_subject ps = { 0 };
	struct sbuf b = { 0 };

	int r = gh_store_asset_list(st, &assets, &na);
	if (r < 0)
		goto out;
	if (user) {
		if ((r = gh_policy_subject_load(st, user->id, &ps)) < 0)
			goto out;
		r = gh_policy_allowed_assets(ps.p, &ps.subj, GH_PROTO_SSH, gh_now(), &ids, &n_ids);
		if (r < 0)
			goto out;
	}
	add(&b, "");
	for (size_t i = 0; i < na; i++) {
		const struct gh_asset *a = &assets[i];
		if (!(a->protocols & GH_PROTO_SSH) || (user && !reachable(ids, n_ids, a->id)))
			continue;
		/* the name plain: a channel to it on port 22 is a jump too (jump.c) */
		add(&b, a->name);
		if (a->port != 22) {
			add(&b, ",");
			add_host(&b, a->name, a->port);
		}
		if (a->address && *a->address && strcmp(a->address, a->name) != 0) {
			add(&b, ",");
			add_host(&b, a->address, a->port);
		}
		add(&b, " ");
		add(&b, key);
		add(&b, "\n");
	}
	if (b.oom) {
		r = GH_ENOMEM;
		goto out;
	}
	*ret = b.p;
	b.p = NULL;
	r = 0;
out:
	free(b.p);
	free(ids);
	gh_policy_subject_free(&ps);
	gh_assets_free(assets, na);
	return r;
}
