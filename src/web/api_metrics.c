/* GET /metrics: Prometheus text exposition of the store's counters
 * (store/metrics.h) and the web process's own. */
#include "web/http.h"
#include "core/error.h"
#include "store/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	FILE *f;
	const char *last;        /* metric whose TYPE line is written */
};

static const char *help_of(const char *m)
{
	static const char *const h[][2] = {
		{ "gatehouse_sessions_active", "Sessions open now, by protocol" },
		{ "gatehouse_logins_total", "Login events, by result" },
		{ "gatehouse_bytes_relayed_total", "Bytes relayed by sessions, by direction" },
		{ "gatehouse_recordings_total", "Sessions with a recording" },
		{ "gatehouse_events_total", "Audit events, by kind" },
		{ "gatehouse_export_lag_events", "Events not yet delivered to an export sink" },
	};
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
		if (!strcmp(h[i][0], m))
			return h[i][1];
	return m;
}

/* Label values are store text: keep what Prometheus reads unescaped. */
static void put_value(FILE *f, const char *v)
{
	for (; *v; v++)
		if (*v == '"' || *v == '\\')
			fprintf(f, "\\%c", *v);
		else if ((unsigned char)*v >= 0x20 && *v != 0x7f)
			fputc(*v, f);
}

static void sample(void *ud, const char *metric, const char *label, const char *value, int64_t n)
{
	struct out *o = ud;
	if (!o->last || strcmp(o->last, metric)) {
		bool counter = strstr(metric, "_total") != NULL;
		fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", metric, help_of(metric), metric,
			counter ? "counter" : "gauge");
		o->last = metric;
	}
	fputs(metric, o->f);
	if (label) {
		fprintf(o->f, "{%s=\"", label);
		put_value(o->f, value);
		fputs("\"}", o->f);
	}
	fprintf(o->f, " %lld\n", (long long)n);
}

int gh_web_h_metrics(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	char *buf = NULL;
	size_t len = 0;
	struct out o = { .f = open_memstream(&buf, &len) };
	if (!o.f)
		return gh_web_error(resp, 500, "out of memory");
	int r = gh_store_metrics(ctx->st, sample, &o);
	fclose(o.f);
	if (r < 0) {
		free(buf);
		return gh_web_store_error(resp, r, "metrics");
	}
	free(resp->body);
	resp->body = buf;
	resp->len = len;
	resp->status = 200;
	resp->ctype = "text/plain; version=0.0.4";
	return 0;
}
