/* Counters for GET /metrics (Prometheus), read from the store: the store
 * is where sessions, logins, recordings and events are counted already. */
#pragma once
#include <stdint.h>

struct gh_store;

/* Called once per sample: METRIC (e.g. "gatehouse_sessions_active"), its
 * one label as LABEL="VALUE" (both NULL: none) and the value. */
typedef void (*gh_metric_fn)(void *ud, const char *metric, const char *label,
			     const char *value, int64_t n);

/* Every sample, in a fixed order (metrics sharing a name together). */
int gh_store_metrics(struct gh_store *st, gh_metric_fn fn, void *ud);
