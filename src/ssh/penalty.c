/* Per-source penalties (see penalty.h). */
#include "ssh/penalty.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct source {
	char ip[INET6_ADDRSTRLEN];
	int failures;          /* within the window */
	int64_t window_start;  /* first failure of the window */
	int64_t refused_until;
	int64_t last_ms;       /* last failure: eviction order */
};

struct gh_penalty {
	struct source *s;      /* GH_PENALTY_SOURCES slots */
	size_t n;
};

struct gh_penalty *gh_penalty_new(void)
{
	struct gh_penalty *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->s = calloc(GH_PENALTY_SOURCES, sizeof *p->s);
	if (!p->s) {
		free(p);
		return NULL;
	}
	return p;
}

struct gh_penalty *gh_penalty_free(struct gh_penalty *p)
{
	if (p) {
		free(p->s);
		free(p);
	}
	return NULL;
}

static bool stale(const struct source *s, int64_t now_ms, int seconds)
{
	int64_t span = (int64_t)seconds * 1000;
	return now_ms >= s->refused_until && now_ms - s->last_ms >= span;
}

static struct source *find(struct gh_penalty *p, const char *ip)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].ip, ip))
			return &p->s[i];
	return NULL;
}

bool gh_penalty_fail(struct gh_penalty *p, const char *ip, int64_t now_ms, int threshold,
		     int seconds)
{
	if (!p || !ip)
		return false;
	int64_t span = (int64_t)(seconds > 0 ? seconds : 1) * 1000;
	struct source *s = find(p, ip);
	if (!s) {
		if (p->n < GH_PENALTY_SOURCES) {
			s = &p->s[p->n++];
		} else {
			/* full: forget the stalest address */
			s = &p->s[0];
			for (size_t i = 1; i < p->n; i++)
				if (p->s[i].last_ms < s->last_ms && now_ms >= p->s[i].refused_until)
					s = &p->s[i];
		}
		memset(s, 0, sizeof *s);
		snprintf(s->ip, sizeof s->ip, "%s", ip);
		s->window_start = now_ms;
	}
	if (now_ms - s->window_start >= span) {
		s->window_start = now_ms;
		s->failures = 0;
	}
	s->failures++;
	s->last_ms = now_ms;
	if (threshold > 0 && s->failures >= threshold && now_ms >= s->refused_until) {
		s->refused_until = now_ms + span;
		s->failures = 0;
		s->window_start = now_ms;
		return true;
	}
	return false;
}

enum gh_penalty_state gh_penalty_check(struct gh_penalty *p, const char *ip, int64_t now_ms,
				       int seconds)
{
	if (!p || !ip)
		return GH_PENALTY_NONE;
	/* drop what has gone stale, keeping the table small */
	for (size_t i = 0; i < p->n;) {
		if (stale(&p->s[i], now_ms, seconds > 0 ? seconds : 1))
			p->s[i] = p->s[--p->n];
		else
			i++;
	}
	struct source *s = find(p, ip);
	if (!s)
		return GH_PENALTY_NONE;
	if (now_ms < s->refused_until)
		return GH_PENALTY_REFUSED;
	return GH_PENALTY_SUSPECT;
}

size_t gh_penalty_count(const struct gh_penalty *p)
{
	return p ? p->n : 0;
}
