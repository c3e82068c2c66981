/* Counters for GET /metrics (see metrics.h). */
#include "store/metrics.h"
#include "core/error.h"
#include "store/priv.h"

#include <stdlib.h>
#include <string.h>

/* Each query returns (label value, count) rows, or one (count) row when
 * the metric has no label. */
static const struct {
	const char *metric, *label, *sql;
} queries[] = {
	{ "gatehouse_sessions_active", "protocol",
	  "SELECT COALESCE(protocol, 'none'), COUNT(*) FROM sessions WHERE ended_at = 0"
	  " GROUP BY 1 ORDER BY 1" },
	{ "gatehouse_logins_total", "result",
	  "SELECT result, COUNT(*) FROM events WHERE kind = 'login' AND result IS NOT NULL"
	  " GROUP BY 1 ORDER BY 1" },
	{ "gatehouse_bytes_relayed_total", "direction",
	  "SELECT 'in', COALESCE(SUM(bytes_in), 0) FROM sessions UNION ALL"
	  " SELECT 'out', COALESCE(SUM(bytes_out), 0) FROM sessions" },
	{ "gatehouse_recordings_total", NULL,
	  "SELECT COUNT(*) FROM sessions WHERE recording_path IS NOT NULL" },
	{ "gatehouse_events_total", "kind",
	  "SELECT kind, COUNT(*) FROM events GROUP BY 1 ORDER BY 1" },
	{ "gatehouse_export_lag_events", "sink",
	  "SELECT c.sink, COALESCE((SELECT MAX(id) FROM events), 0) - c.last_id"
	  " FROM audit_cursors c ORDER BY 1" },
};

struct emit {
	gh_metric_fn fn;
	void *ud;
	const char *metric, *label;
};

static int row(void *ud, const struct gh_db_val *c, int n)
{
	struct emit *e = ud;
	if (!e->label) {
		e->fn(e->ud, e->metric, NULL, NULL, gh_store_col_int(&c[0]));
		return 0;
	}
	char *v = gh_store_col_str(&c[0]);
	e->fn(e->ud, e->metric, e->label, v ? v : "", gh_store_col_int(&c[1]));
	free(v);
	return 0;
}

int gh_store_metrics(struct gh_store *st, gh_metric_fn fn, void *ud)
{
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		struct emit e = { fn, ud, queries[i].metric, queries[i].label };
		int r = gh_store_q(st, queries[i].sql, NULL, 0, row, &e, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
