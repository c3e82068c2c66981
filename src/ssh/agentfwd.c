/* Agent forwarding relayed through a target session: see agentfwd.h. */
#include "ssh/agentfwd.h"

#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

struct pending {
	ssh_channel tch; /* accepted from the target */
	ssh_channel uch; /* being opened to the user */
};

struct gh_agentfwd {
	ssh_session user, target;
	struct ssh_callbacks_struct cb;
	struct gh_fwdset *uset, *tset;
	struct pending p[GH_AGENTFWD_MAX];
	size_t n;
	char *asset;
};

static ssh_channel cb_open_agent(ssh_session session, void *userdata)
{
	struct gh_agentfwd *a = userdata;
	if (a->n >= GH_AGENTFWD_MAX ||
	    gh_fwdset_count(a->tset) >= GH_AGENTFWD_MAX) {
		gh_warn("agent channel from %s refused: too many at once", a->asset);
		return NULL;
	}
	ssh_channel ch = ssh_channel_new(session);
	if (!ch)
		return NULL;
	gh_info("agent channel opened by %s", a->asset);
	a->p[a->n].tch = ch;
	a->p[a->n].uch = NULL;
	a->n++;
	return ch;
}

struct gh_agentfwd *gh_agentfwd_new(ssh_session user, ssh_session target, ssh_event ev,
				    const char *asset, const struct gh_fwdset_hooks *h)
{
	struct gh_agentfwd *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->user = user;
	a->target = target;
	a->asset = strdup(asset ? asset : "");
	a->uset = gh_fwdset_new(user, ev, h);
	a->tset = gh_fwdset_new(target, ev, NULL);
	if (!a->asset || !a->uset || !a->tset) {
		gh_fwdset_free(a->uset, "out of memory", 0);
		gh_fwdset_free(a->tset, "out of memory", 0);
		free(a->asset);
		free(a);
		return NULL;
	}
	a->cb.userdata = a;
	a->cb.channel_open_request_auth_agent_function = cb_open_agent;
	ssh_callbacks_init(&a->cb);
	ssh_set_callbacks(target, &a->cb);
	return a;
}

static void drop(struct gh_agentfwd *a, size_t i)
{
	struct pending *p = &a->p[i];
	if (p->uch) {
		ssh_channel_close(p->uch);
		ssh_channel_free(p->uch);
	}
	ssh_channel_close(p->tch);
	ssh_channel_free(p->tch);
	a->p[i] = a->p[--a->n];
}

/* Open the user's side of pending channel I; true when it is done with
 * (started or dropped). */
static bool advance(struct gh_agentfwd *a, size_t i)
{
	struct pending *p = &a->p[i];
	if (!p->uch) {
		p->uch = ssh_channel_new(a->user);
		if (!p->uch) {
			drop(a, i);
			return true;
		}
	}
	int r = ssh_channel_open_auth_agent(p->uch);
	if (r == SSH_AGAIN)
		return false;
	if (r != SSH_OK) {
		gh_info("agent channel refused by the user's client");
		drop(a, i);
		return true;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		drop(a, i);
		return true;
	}
	ssh_channel uch = p->uch, tch = p->tch;
	a->p[i] = a->p[--a->n];
	if (gh_fwd_add(a->uset, uch, sv[0], GH_FWD_AGENT, a->asset, "agent", 0, 0) < 0) {
		ssh_channel_close(tch);
		ssh_channel_free(tch);
		close(sv[1]);
		return true;
	}
	(void)gh_fwd_add(a->tset, tch, sv[1], GH_FWD_AGENT, a->asset, "agent", 0, 0);
	return true;
}

void gh_agentfwd_tick(struct gh_agentfwd *a, const char *abort_reason)
{
	if (!a)
		return;
	if (!abort_reason)
		for (size_t i = a->n; i-- > 0;)
			(void)advance(a, i);
	gh_fwdset_tick(a->uset, abort_reason);
	gh_fwdset_tick(a->tset, abort_reason);
}

struct gh_agentfwd *gh_agentfwd_free(struct gh_agentfwd *a, const char *reason)
{
	if (!a)
		return NULL;
	while (a->n > 0)
		drop(a, a->n - 1);
	a->uset = gh_fwdset_free(a->uset, reason, 0);
	a->tset = gh_fwdset_free(a->tset, reason, 0);
	static struct ssh_callbacks_struct none = { .size = sizeof none };
	ssh_set_callbacks(a->target, &none); /* A->cb is going away */
	free(a->asset);
	free(a);
	return NULL;
}
