/* known_hosts lines for recorded ProxyJump (see knownhosts.h). */
#include "ssh/knownhosts.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_host(struct gh_buf *b, const char *host, int port)
{
	if (port == 22)
		gh_buf_puts(b, host);
	else
		gh_buf_printf(b, "[%s]:%d", host, port);
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
	struct gh_buf b = { 0 };

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
	for (size_t i = 0; i < na; i++) {
		const struct gh_asset *a = &assets[i];
		if (!(a->protocols & GH_PROTO_SSH) || (user && !reachable(ids, n_ids, a->id)))
			continue;
		/* the name plain: a channel to it on port 22 is a jump too (jump.c) */
		gh_buf_puts(&b, a->name);
		if (a->port != 22) {
			gh_buf_puts(&b, ",");
			add_host(&b, a->name, a->port);
		}
		if (a->address && *a->address && strcmp(a->address, a->name) != 0) {
			gh_buf_puts(&b, ",");
			add_host(&b, a->address, a->port);
		}
		gh_buf_puts(&b, " ");
		gh_buf_puts(&b, key);
		gh_buf_puts(&b, "\n");
	}
	char *text = gh_buf_take(&b, NULL);
	if (!text) {
		r = b.err;
		goto out;
	}
	*ret = text;
	r = 0;
out:
	gh_buf_free(&b);
	free(ids);
	gh_policy_subject_free(&ps);
	gh_assets_free(assets, na);
	return r;
}
