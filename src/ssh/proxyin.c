/* The master's PROXY protocol queue and trust list (see proxyin.h). */
#include "ssh/proxyin.h"
#include "auth/acl.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct gh_proxy_trust {
	struct gh_cidr *v;
	size_t n;
};

struct pending {
	int fd, tag;
	int64_t deadline_ms;
	char peer[GH_PROXY_IPLEN];
	size_t have;
	uint8_t buf[GH_PROXY_MAX_LEN];
};

struct gh_proxyq {
	struct pending **v;
	size_t n, cap;
};

struct gh_proxy_trust *gh_proxy_trust_free(struct gh_proxy_trust *t)
{
	if (t) {
		free(t->v);
		free(t);
	}
	return NULL;
}

int gh_proxy_trust_parse(const char *list, struct gh_proxy_trust **ret, char *err, size_t len)
{
	struct gh_proxy_trust *t = calloc(1, sizeof *t);
	int r = GH_ENOMEM;
	size_t n = strlen(list ? list : "");
	if (!t)
		goto out;
	t->v = calloc(n / 2 + 1, sizeof *t->v); /* each entry takes >= 2 bytes */
	if (!t->v)
		goto out;
	for (const char *p = list ? list : ""; *p;) {
		size_t k = strcspn(p, ", \t");
		if (k > 0) {
			char one[64];
			r = GH_EINVAL;
			if (k >= sizeof one || (memcpy(one, p, k), one[k] = '\0',
						gh_cidr_parse(one, &t->v[t->n]) < 0)) {
				snprintf(err, len, "proxy_trusted: not an address or CIDR: '%.*s'",
					 (int)(k > 64 ? 64 : k), p);
				goto out;
			}
			t->n++;
		}
		p += k;
		if (*p)
			p++;
	}
	*ret = t;
	t = NULL;
	r = 0;
out:
	gh_proxy_trust_free(t);
	return r;
}

bool gh_proxy_trusted(const struct gh_proxy_trust *t, const char *ip)
{
	struct gh_addr a;
	if (!t || gh_addr_parse(ip, &a) < 0)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (gh_cidr_match(&t->v[i], &a))
			return true;
	return false;
}

struct gh_proxyq *gh_proxyq_new(void)
{
	return calloc(1, sizeof(struct gh_proxyq));
}

struct gh_proxyq *gh_proxyq_free(struct gh_proxyq *q)
{
	if (!q)
		return NULL;
	for (size_t i = 0; i < q->n; i++) {
		close(q->v[i]->fd);
		free(q->v[i]);
	}
	free(q->v);
	free(q);
	return NULL;
}

void gh_proxyq_close_fds(struct gh_proxyq *q)
{
	for (size_t i = 0; q && i < q->n; i++)
		close(q->v[i]->fd);
}

size_t gh_proxyq_count(const struct gh_proxyq *q)
{
	return q ? q->n : 0;
}

int gh_proxyq_add(struct gh_proxyq *q, int fd, int tag, const char *peer, int64_t deadline_ms)
{
	if (!q)
		return GH_ENOMEM;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct pending **v = realloc(q->v, cap * sizeof *v);
		if (!v)
			return GH_ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	struct pending *p = calloc(1, sizeof *p);
	if (!p)
		return GH_ENOMEM;
	p->fd = fd;
	p->tag = tag;
	p->deadline_ms = deadline_ms;
	snprintf(p->peer, sizeof p->peer, "%s", peer);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	q->v[q->n++] = p;
	return 0;
}

size_t gh_proxyq_pollfds(const struct gh_proxyq *q, struct pollfd *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; q && i < q->n && k < max; i++)
		out[k++] = (struct pollfd){ .fd = q->v[i]->fd, .events = POLLIN };
	return k;
}

int gh_proxyq_timeout(const struct gh_proxyq *q, int64_t now_ms, int dflt)
{
	int64_t t = dflt;
	for (size_t i = 0; q && i < q->n; i++) {
		int64_t left = q->v[i]->deadline_ms - now_ms;
		if (left < t)
			t = left < 0 ? 0 : left;
	}
	return (int)t;
}

/* Reads what the header still needs, never more. GH_EBUSY: not yet. */
static int feed(struct pending *p, struct gh_proxy_hdr *h, enum gh_proxy_outcome *out)
{
	for (;;) {
		size_t need = 0;
		int r = gh_proxy_parse(p->buf, p->have, h, &need);
		if (r == 0) {
			*out = h->local ? GH_PROXY_LOCAL : GH_PROXY_CLIENT;
			return 0;
		}
		if (r != GH_EBUSY || need > sizeof p->buf) {
			*out = GH_PROXY_INVALID;
			return 0;
		}
		ssize_t k = recv(p->fd, p->buf + p->have, need - p->have, MSG_DONTWAIT);
		if (k > 0) {
			p->have += (size_t)k;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return GH_EBUSY;
		*out = GH_PROXY_CLOSED;
		return 0;
	}
}

static bool ready(const struct pollfd *pfds, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (pfds[i].fd == fd)
			return pfds[i].revents != 0;
	return false;
}

void gh_proxyq_run(struct gh_proxyq *q, const struct pollfd *pfds, size_t n, int64_t now_ms,
		   gh_proxyq_done_fn done, void *ctx)
{
	for (size_t i = 0; q && i < q->n;) {
		struct pending *p = q->v[i];
		struct gh_proxy_hdr h;
		enum gh_proxy_outcome out = GH_PROXY_TIMEOUT;
		bool settled = ready(pfds, n, p->fd) && feed(p, &h, &out) == 0;
		if (!settled && now_ms < p->deadline_ms) {
			i++;
			continue;
		}
		q->v[i] = q->v[--q->n]; /* out of the queue before the callback */
		int fd = p->fd, tag = p->tag;
		char peer[GH_PROXY_IPLEN];
		snprintf(peer, sizeof peer, "%s", p->peer);
		free(p);
		if (out == GH_PROXY_CLIENT) /* the worker's socket blocks, as accept4 gave it */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		done(ctx, fd, tag, out, peer, out == GH_PROXY_CLIENT ? &h : NULL);
	}
}
