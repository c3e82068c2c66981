/* Micro-benchmark of the command filter:
 *  1. deciding exec lines against 100 filters over 100 groups (50 command
 *     words + 50 regexes each): median and p99 per line;
 *  2. the interactive filter's terminal screen (libvterm): MB/s of target
 *     output fed through gh_ifilter_output (colored `ls -l`-like lines).
 *
 * Usage: cmdfilter_bench [LINES [OUTPUT_MB]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "filter/interactive.h"
#include "filter/rules.h"

#define N_GROUPS 100
#define N_PATS 50

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t sink(void *ud, const void *d, size_t n)
{
	return n;
}

static bool allow(void *ud, const char *s, const char *t)
{
	return true;
}

int main(int argc, char **argv)
{
	int lines = argc > 1 ? atoi(argv[1]) : 20000;
	int out_mb = argc > 2 ? atoi(argv[2]) : 64;
	if (lines < 1 || lines > 10000000 || out_mb < 1 || out_mb > 4096)
		return 2;
	static struct gh_cmdgroup_row groups[N_GROUPS];
	static struct gh_cmdfilter_row filters[N_GROUPS];
	static char *names[N_GROUPS][1];
	for (int g = 0; g < N_GROUPS; g++) {
		struct gh_cmdgroup_row *r = &groups[g];
		r->name = malloc(16);
		snprintf(r->name, 16, "g%d", g);
		r->n = 2 * N_PATS;
		r->patterns = calloc(r->n, sizeof *r->patterns);
		r->is_regex = calloc(r->n, sizeof *r->is_regex);
		for (int i = 0; i < N_PATS; i++) {
			r->patterns[i] = malloc(32);
			snprintf(r->patterns[i], 32, "cmd%d_%d", g, i);
			r->patterns[N_PATS + i] = malloc(48);
			snprintf(r->patterns[N_PATS + i], 48, "^tool%d_%d\\b.*--force", g, i);
			r->is_regex[N_PATS + i] = true;
		}
		names[g][0] = r->name;
		filters[g] = (struct gh_cmdfilter_row){ .name = r->name,
							.priority = 1 + g % 100,
							.action = g % 2 ? "reject" : "warn" };
		filters[g].refs[GH_CFREF_CMDGROUP] = names[g];
		filters[g].n_refs[GH_CFREF_CMDGROUP] = 1;
	}
	struct gh_cmdrules *rules = NULL;
	struct gh_cmdfilter_set *set = NULL;
	char err[256];
	double t0 = now_s();
	if (gh_cmdrules_new(groups, N_GROUPS, filters, N_GROUPS, &rules, err, sizeof err) < 0) {
		fprintf(stderr, "rules: %s\n", err);
		return 1;
	}
	struct gh_cmdsubject s = { .user = "alice", .asset = "web01", .account = "root" };
	if (gh_cmdrules_resolve(rules, &s, &set, NULL) < 0)
		return 1;
	printf("compile+resolve %d groups x %d patterns: %.1f ms\n", N_GROUPS, 2 * N_PATS,
	       (now_s() - t0) * 1e3);
	static const char *const corpus[] = {
		"ls -la /var/log | grep -v debug | tail -n 50",
		"cd /srv/app && git pull && make -j4 && sudo systemctl restart app",
		"for f in *.log; do gzip \"$f\"; done",
		"tool42_7 --dry-run --force x; echo $(date +%s) >> /tmp/stamp",
		"bash -c 'cmd17_3 -rf /tmp/x' || true",
	};
	double *v = malloc((size_t)lines * sizeof *v);
	size_t verdicts[5] = { 0 };
	for (int i = 0; i < lines; i++) {
		const char *l = corpus[i % 5];
		struct gh_filter_result res;
		double a = now_s();
		gh_cmdfilter_check(set, l, strlen(l), &res, NULL);
		v[i] = now_s() - a;
		verdicts[res.action]++;
	}
	qsort(v, (size_t)lines, sizeof *v, cmp_d);
	printf("decide a line (%d lines, 5-line corpus): median %.1f us, p99 %.1f us "
	       "(none %zu accept %zu warn %zu review %zu reject %zu)\n",
	       lines, v[lines / 2] * 1e6, v[(size_t)lines * 99 / 100] * 1e6, verdicts[0],
	       verdicts[1], verdicts[2], verdicts[3], verdicts[4]);
	free(v);
	gh_cmdfilter_set_free(set);
	gh_cmdrules_free(rules);

	/* the screen: colored listing lines, 80 columns */
	struct gh_ifilter_ops ops = { .to_target = sink, .decide = allow };
	struct gh_ifilter *f = NULL;
	if (gh_ifilter_new(50, 160, &ops, &f) < 0)
		return 1;
	char chunk[65536];
	size_t n = 0;
	for (int i = 0; n + 200 < sizeof chunk; i++)
		n += (size_t)snprintf(chunk + n, sizeof chunk - n,
				      "-rw-r--r-- 1 deploy deploy %8d Nov 24 12:%02d "
				      "\x1b[01;34mfile-%06d.txt\x1b[0m\r\n",
				      i * 37, i % 60, i);
	size_t total = (size_t)out_mb << 20, fed = 0;
	t0 = now_s();
	while (fed < total) {
		gh_ifilter_output(f, chunk, n, 0);
		fed += n;
	}
	double dt = now_s() - t0;
	printf("screen: %zu MiB of terminal output in %.2f s: %.0f MiB/s\n", fed >> 20, dt,
	       (double)fed / (1 << 20) / dt);
	gh_ifilter_free(f);
	return 0;
}
