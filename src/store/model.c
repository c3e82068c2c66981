/* The model's destructors (model.h): values the store fills, released
 * by their holders. */
#include "store/model.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void gh_user_free(struct gh_user *u)
{
	if (!u)
		return;
	free(u->name);
	if (u->password_hash) {
		sodium_memzero(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
	}
	free(u->totp_sealed);
	memset(u, 0, sizeof *u);
}

void gh_user_key_free(struct gh_user_key *k)
{
	if (!k)
		return;
	free(k->type);
	free(k->base64);
	free(k->comment);
	free(k->fingerprint);
	memset(k, 0, sizeof *k);
}

void gh_group_free(struct gh_group *g)
{
	if (!g)
		return;
	free(g->name);
	memset(g, 0, sizeof *g);
}

void gh_node_free(struct gh_node *n)
{
	if (!n)
		return;
	free(n->path);
	memset(n, 0, sizeof *n);
}

void gh_asset_free(struct gh_asset *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->address);
	free(a->platform);
	free(a->comment);
	free(a->host_key);
	for (size_t i = 0; i < a->n_nodes; i++)
		free(a->nodes[i]);
	free(a->nodes);
	memset(a, 0, sizeof *a);
}

void gh_account_free(struct gh_account *a)
{
	if (!a)
		return;
	free(a->username);
	free(a->sealed);
	memset(a, 0, sizeof *a);
}

void gh_perm_free(struct gh_perm *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->user_ids);
	free(p->group_ids);
	free(p->asset_ids);
	free(p->node_ids);
	for (size_t i = 0; i < p->n_accounts; i++)
		free(p->accounts[i]);
	free(p->accounts);
	free(p->forward_ports);
	free(p->schedule);
	memset(p, 0, sizeof *p);
}

void gh_session_free(struct gh_session *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->user_name);
	free(s->source_addr);
	free(s->asset_name);
	free(s->account);
	free(s->protocol);
	free(s->kind);
	free(s->exit_signal);
	free(s->node);
	free(s->recording_path);
	free(s->close_reason);
	memset(s, 0, sizeof *s);
}

void gh_event_free(struct gh_event *e)
{
	if (!e)
		return;
	free(e->kind);
	free(e->user_name);
	free(e->source);
	free(e->session_id);
	free(e->asset_name);
	free(e->account);
	free(e->method);
	free(e->result);
	free(e->reason);
	free(e->detail);
	free(e->prev_hash);
	free(e->hash);
	memset(e, 0, sizeof *e);
}

#define DEFINE_ARRAY_FREE(fname, type, one)         \
	void fname(type *v, size_t n)               \
	{                                           \
		if (!v)                             \
			return;                     \
		for (size_t i = 0; i < n; i++)      \
			one(&v[i]);                 \
		free(v);                            \
	}
DEFINE_ARRAY_FREE(gh_users_free, struct gh_user, gh_user_free)
DEFINE_ARRAY_FREE(gh_user_keys_free, struct gh_user_key, gh_user_key_free)
DEFINE_ARRAY_FREE(gh_groups_free, struct gh_group, gh_group_free)
DEFINE_ARRAY_FREE(gh_nodes_free, struct gh_node, gh_node_free)
DEFINE_ARRAY_FREE(gh_assets_free, struct gh_asset, gh_asset_free)
DEFINE_ARRAY_FREE(gh_accounts_free, struct gh_account, gh_account_free)
DEFINE_ARRAY_FREE(gh_perms_free, struct gh_perm, gh_perm_free)
DEFINE_ARRAY_FREE(gh_sessions_free, struct gh_session, gh_session_free)
DEFINE_ARRAY_FREE(gh_events_free, struct gh_event, gh_event_free)
