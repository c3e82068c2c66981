/* Per-source penalties (the master's memory of failed logins): a source
 * address whose logins keep failing is first served at a lower CPU
 * priority, then refused for a while. Bounded: at most GH_PENALTY_SOURCES
 * addresses are remembered; the stalest is forgotten first. No I/O, no
 * logging: the caller decides what to say. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GH_PENALTY_SOURCES 4096

enum gh_penalty_state {
	GH_PENALTY_NONE = 0,  /* no recent failure */
	GH_PENALTY_SUSPECT,   /* recent failures: serve at a lower priority */
	GH_PENALTY_REFUSED,   /* too many: refuse until the penalty ends */
};

struct gh_penalty;

/* A new, empty table (caller frees with gh_penalty_free); NULL when out of memory. */
struct gh_penalty *gh_penalty_new(void);
struct gh_penalty *gh_penalty_free(struct gh_penalty *p);

/* One failed login from ip at now_ms. Failures count within a window of
 * `seconds`; the `threshold`-th one refuses the source for `seconds` from
 * now. threshold <= 0 turns refusals off (failures still lower the
 * priority). Returns true when this failure started a refusal. */
bool gh_penalty_fail(struct gh_penalty *p, const char *ip, int64_t now_ms, int threshold,
		     int seconds);

/* What a new connection from ip gets at now_ms. */
enum gh_penalty_state gh_penalty_check(struct gh_penalty *p, const char *ip, int64_t now_ms,
				       int seconds);

/* Addresses remembered (for tests and the memory bound). */
size_t gh_penalty_count(const struct gh_penalty *p);
