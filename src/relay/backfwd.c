/* Channels a target opens back to the user, relayed: see backfwd.h. */
#include "relay/backfwd.h"

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
	enum gh_fwd_kind kind;
	char *host, *orig; /* forwarded-tcpip: the user's address, the originator */
	int port, orig_port;
};

struct gh_backfwd {
	ssh_session user, target;
	struct ssh_callbacks_struct cb;
	bool cb_set;
	struct gh_fwdset *uset, *tset;
	struct pending p[GH_BACKFWD_MAX];
	size_t n;
	char *asset;
};

static bool full(const struct gh_backfwd *b)
{
	return b->n >= GH_BACKFWD_MAX || gh_fwdset_count(b->tset) + b->n >= GH_BACKFWD_MAX;
}

static ssh_channel cb_open_agent(ssh_session session, void *userdata)
{
	struct gh_backfwd *b = userdata;
	if (full(b)) {
		gh_warn("agent channel from %s refused: too many at once", b->asset);
		return NULL;
	}
	ssh_channel ch = ssh_channel_new(session);
	if (!ch)
		return NULL;
	gh_info("agent channel opened by %s", b->asset);
	b->p[b->n++] = (struct pending){ .tch = ch, .kind = GH_FWD_AGENT };
	return ch;
}

static ssh_channel cb_open_x11(ssh_session session, const char *orig, int orig_port,
			       void *userdata)
{
	struct gh_backfwd *b = userdata;
	char *o = NULL;
	if (full(b)) {
		gh_warn("x11 channel from %s refused: too many at once", b->asset);
		return NULL;
	}
	if (!(o = strdup(orig && *orig && strlen(orig) < 256 ? orig : "127.0.0.1")))
		return NULL;
	ssh_channel ch = ssh_channel_new(session);
	if (!ch) {
		free(o);
		return NULL;
	}
	gh_info("x11 channel opened by %s", b->asset);
	b->p[b->n++] = (struct pending){ .tch = ch, .kind = GH_FWD_X11, .orig = o,
					 .orig_port = orig_port };
	return ch;
}

struct gh_backfwd *gh_backfwd_new(ssh_session user, ssh_session target, ssh_event ev,
				  const char *asset, bool agent, bool x11,
				  const struct gh_fwdset_hooks *h)
{
	struct gh_backfwd *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->user = user;
	b->target = target;
	b->asset = strdup(asset ? asset : "");
	b->uset = gh_fwdset_new(user, ev, h);
	b->tset = gh_fwdset_new(target, ev, NULL);
	if (!b->asset || !b->uset || !b->tset) {
		gh_fwdset_free(b->uset, "out of memory", 0);
		gh_fwdset_free(b->tset, "out of memory", 0);
		free(b->asset);
		free(b);
		return NULL;
	}
	if (agent || x11) {
		b->cb.userdata = b;
		if (agent)
			b->cb.channel_open_request_auth_agent_function = cb_open_agent;
		if (x11)
			b->cb.channel_open_request_x11_function = cb_open_x11;
		ssh_callbacks_init(&b->cb);
		ssh_set_callbacks(target, &b->cb);
		b->cb_set = true;
	}
	return b;
}

bool gh_backfwd_adopt_tcpip(struct gh_backfwd *b, ssh_channel tch, const char *host, int port,
			    const char *orig, int orig_port)
{
	char *h = NULL, *o = NULL;
	if (!b || full(b) || !(h = strdup(host ? host : "")) ||
	    !(o = strdup(orig && *orig ? orig : "127.0.0.1"))) {
		free(h);
		ssh_channel_close(tch);
		ssh_channel_free(tch);
		return false;
	}
	b->p[b->n++] = (struct pending){ .tch = tch, .kind = GH_FWD_RFWD, .host = h, .port = port,
					 .orig = o, .orig_port = orig_port };
	return true;
}

size_t gh_backfwd_count(const struct gh_backfwd *b)
{
	return b ? b->n + gh_fwdset_count(b->uset) : 0;
}

static const char *kind_name(enum gh_fwd_kind k)
{
	return k == GH_FWD_AGENT ? "agent" : k == GH_FWD_X11 ? "x11" : "forwarded-tcpip";
}

static void pending_clear(struct gh_backfwd *b, size_t i)
{
	free(b->p[i].host);
	free(b->p[i].orig);
	b->p[i] = b->p[--b->n];
}

static void drop(struct gh_backfwd *b, size_t i)
{
	struct pending *p = &b->p[i];
	if (p->uch) {
		ssh_channel_close(p->uch);
		ssh_channel_free(p->uch);
	}
	ssh_channel_close(p->tch);
	ssh_channel_free(p->tch);
	pending_clear(b, i);
}

/* Open the user's side of pending channel I; true when it is done with
 * (started or dropped). */
static bool advance(struct gh_backfwd *b, size_t i)
{
	struct pending *p = &b->p[i];
	if (!p->uch) {
		p->uch = ssh_channel_new(b->user);
		if (!p->uch) {
			drop(b, i);
			return true;
		}
	}
	int r = p->kind == GH_FWD_AGENT ? ssh_channel_open_auth_agent(p->uch)
		: p->kind == GH_FWD_X11 ? ssh_channel_open_x11(p->uch, p->orig, p->orig_port)
					  : ssh_channel_open_reverse_forward(p->uch, p->host, p->port,
									     p->orig, p->orig_port);
	if (r == SSH_AGAIN)
		return false;
	if (r != SSH_OK) {
		gh_info("%s channel refused by the user's client", kind_name(p->kind));
		drop(b, i);
		return true;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		drop(b, i);
		return true;
	}
	ssh_channel uch = p->uch, tch = p->tch;
	enum gh_fwd_kind kind = p->kind;
	int port = p->port;
	char *host = p->host;
	p->host = NULL;
	pending_clear(b, i);
	const char *h = kind == GH_FWD_RFWD ? host : kind_name(kind);
	if (gh_fwd_add(b->uset, uch, sv[0], kind, b->asset, h, port, 0) < 0) {
		ssh_channel_close(tch);
		ssh_channel_free(tch);
		close(sv[1]);
	} else {
		(void)gh_fwd_add(b->tset, tch, sv[1], kind, b->asset, h, port, 0);
	}
	free(host);
	return true;
}

void gh_backfwd_tick(struct gh_backfwd *b, const char *abort_reason)
{
	if (!b)
		return;
	if (!abort_reason)
		for (size_t i = b->n; i-- > 0;)
			(void)advance(b, i);
	gh_fwdset_tick(b->uset, abort_reason);
	gh_fwdset_tick(b->tset, abort_reason);
}

struct gh_backfwd *gh_backfwd_free(struct gh_backfwd *b, const char *reason)
{
	if (!b)
		return NULL;
	while (b->n > 0)
		drop(b, b->n - 1);
	b->uset = gh_fwdset_free(b->uset, reason, 0);
	b->tset = gh_fwdset_free(b->tset, reason, 0);
	if (b->cb_set) {
		static struct ssh_callbacks_struct none = { .size = sizeof none };
		ssh_set_callbacks(b->target, &none); /* B->cb is going away */
	}
	free(b->asset);
	free(b);
	return NULL;
}
