/* Web login failures feed the master's per-source penalties (the SSH
 * front door's table, ssh/penalty.h): each web process has its own
 * SOCK_SEQPACKET socketpair to the master, made by the master before it
 * forks the web process. A web process asks, one message at a time, and
 * waits for the answer:
 *   request: one byte 'C' (check) or 'F' (a failed login), then the
 *            source address (text, at most GH_PENCH_IP_MAX bytes)
 *   answer:  one byte, the source's enum gh_penalty_state after the request
 * The master checks every request (length, a numeric address) and never
 * waits on the channel. No libwebsockets, no store. */
#pragma once
#include <stdbool.h>

struct gh_penalty;

#define GH_PENCH_IP_MAX 63
#define GH_WEB_PROC_MAX 64

/* Master: serve one request waiting on FD against P (FAILURES, SECONDS as
 * per_source_penalty_*). Returns 0; 1 when the failure started a refusal
 * (*RET_IP the source, to log); a negative GH_E* when the channel is
 * closed or broken (the caller closes it). */
int gh_pench_serve(int fd, struct gh_penalty *p, int failures, int seconds,
		   char ret_ip[GH_PENCH_IP_MAX + 1]);

/* Web process: send OP ('C' or 'F') for IP on *FD and wait (bounded) for
 * the answer: an enum gh_penalty_state, or a negative GH_E* (then *FD is
 * closed and set to -1: the caller falls back to its own table). */
int gh_pench_ask(int *fd, char op, const char *ip);
