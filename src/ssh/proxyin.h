/* The master's side of the PROXY protocol (proxy_protocol = yes).
 *
 * A balancer in front of Gatehouse (HAProxy: send-proxy-v2) opens each TCP
 * connection with a header naming the client (core/proxyproto.h). The
 * master reads it itself, before it forks a worker, so that every limit it
 * applies by address (per_source_max_startups, the failed-login penalty)
 * and everything the worker records (login events, session rows, the login
 * ACL's source check) sees the client's address, not the balancer's.
 *
 * The accept loop never waits for one client: an accepted connection from
 * a trusted source joins a queue of connections whose header is pending;
 * their sockets are polled with the listeners and read without blocking,
 * exactly as many bytes as the header has (nothing of the SSH stream
 * after it is consumed), until the header is complete, invalid, or
 * proxy_header_timeout has passed. Pending connections count towards
 * max_startups. */
#pragma once
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proxyproto.h"

struct gh_proxy_trust;
struct gh_proxyq;

/* "10.0.0.0/8, 2001:db8::/32, 127.0.0.1" (commas, spaces) into a new list
 * (caller frees with gh_proxy_trust_free). GH_EINVAL naming the bad entry
 * in ERR (LEN bytes); an empty list trusts nobody. */
int gh_proxy_trust_parse(const char *list, struct gh_proxy_trust **ret, char *err, size_t len);
struct gh_proxy_trust *gh_proxy_trust_free(struct gh_proxy_trust *t);
/* Whether IP (text) is inside one of the list's networks. */
bool gh_proxy_trusted(const struct gh_proxy_trust *t, const char *ip);

enum gh_proxy_outcome {
	GH_PROXY_CLIENT,  /* a PROXY header: serve the client it names */
	GH_PROXY_LOCAL,   /* LOCAL / UNKNOWN: the balancer's own check */
	GH_PROXY_INVALID, /* not a valid header */
	GH_PROXY_TIMEOUT, /* no whole header in time */
	GH_PROXY_CLOSED,  /* the peer closed or failed before its header */
};

/* A settled connection: FD (now the callback's to keep or close), TAG as
 * given to gh_proxyq_add (which listener: SSH, a database door), the
 * balancer's address PEER, and HDR (GH_PROXY_CLIENT only; else NULL). */
typedef void (*gh_proxyq_done_fn)(void *ctx, int fd, int tag, enum gh_proxy_outcome out,
				  const char *peer, const struct gh_proxy_hdr *hdr);

struct gh_proxyq *gh_proxyq_new(void);
/* Closes every pending socket. */
struct gh_proxyq *gh_proxyq_free(struct gh_proxyq *q);
size_t gh_proxyq_count(const struct gh_proxyq *q);
/* FD (non-blocking after this) waits for its header until DEADLINE_MS
 * (monotonic). GH_ENOMEM: not queued, the caller closes FD. */
int gh_proxyq_add(struct gh_proxyq *q, int fd, int tag, const char *peer, int64_t deadline_ms);
/* Up to MAX pollfds of the pending sockets into OUT; returns how many. */
size_t gh_proxyq_pollfds(const struct gh_proxyq *q, struct pollfd *out, size_t max);
/* The poll timeout (ms) that wakes the loop at the next deadline, at most DFLT. */
int gh_proxyq_timeout(const struct gh_proxyq *q, int64_t now_ms, int dflt);
/* After poll: reads the ready sockets of PFDS (N entries, as filled by
 * gh_proxyq_pollfds), settles the complete, the invalid and the late,
 * calling DONE for each. */
void gh_proxyq_run(struct gh_proxyq *q, const struct pollfd *pfds, size_t n, int64_t now_ms,
		   gh_proxyq_done_fn done, void *ctx);
/* In a forked child: close the pending sockets there (the parent keeps them). */
void gh_proxyq_close_fds(struct gh_proxyq *q);
