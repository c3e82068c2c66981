/* Audit queries on a large store: fills a fresh SQLite store with N
 * hash-chained events (default 1,000,000: logins, sessions, commands, files
 * and changes by 200 users on 500 assets over 365 days, seeded), then times
 * each `gatehouse audit` query shape (gh_store_event_query, as the CLI runs
 * it) and prints the median of RUNS runs. Also times `audit verify`'s chain
 * walk once.
 *
 * Usage: audit_bench [--events N] [--runs R] [--keep] [DB]
 *        audit_bench emit DB KIND USER ASSET METHOD RESULT DETAIL
 *        audit_bench append DB N
 *   (emit: append one event through the audit helper; used by tests;
 *   append: N events, one transaction each, then prints events/s). DB of
 *   emit and append may be a postgresql:// URL: the password is read from
 *   the file named by GH_PG_PASSWORD_FILE. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/chain.h"
#include "core/error.h"
#include "store/store.h"

#define N_USERS 200
#define N_ASSETS 500
#define SPAN (365 * 86400)
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static uint64_t rng_s = 42;

static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

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

/* DB: a SQLite file or a postgresql:// URL (password: GH_PG_PASSWORD_FILE). */
static int open_db(const char *db, struct gh_store **ret)
{
	char pw[1024] = "";
	const char *pf = getenv("GH_PG_PASSWORD_FILE");
	if (strncmp(db, "postgresql://", 13) != 0)
		return gh_store_open_sqlite(db, 10000, ret);
	FILE *f = pf ? fopen(pf, "re") : NULL;
	if (f && fgets(pw, sizeof pw, f))
		pw[strcspn(pw, "\r\n")] = '\0';
	if (f)
		fclose(f);
	int r = gh_store_open_pg(db, pw[0] ? pw : NULL, 10000, ret);
	memset(pw, 0, sizeof pw);
	return r;
}

static int append(int argc, char **argv)
{
	struct gh_store *st = NULL;
	long n = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
	if (n < 1) {
		fprintf(stderr, "usage: audit_bench append DB N\n");
		return 2;
	}
	int r = open_db(argv[2], &st);
	if (r < 0) {
		fprintf(stderr, "audit_bench: cannot open the store: %s\n", gh_strerror(r));
		return 1;
	}
	struct gh_audit_who w = { .user = "bench", .source = "127.0.0.1:1" };
	double t0 = now_s();
	for (long i = 0; r >= 0 && i < n; i++)
		r = gh_audit_event(st, &w, "command", "web01", NULL, "exec", "accept", NULL, "cmd=\"true\"");
	double took = now_s() - t0;
	gh_store_close(st);
	if (r < 0) {
		fprintf(stderr, "audit_bench: append: %s\n", gh_strerror(r));
		return 1;
	}
	printf("%ld events in %.3f s: %.1f events/s\n", n, took, (double)n / took);
	return 0;
}

static int emit(int argc, char **argv)
{
	struct gh_store *st = NULL;
	if (argc != 9) {
		fprintf(stderr, "usage: audit_bench emit DB KIND USER ASSET METHOD RESULT DETAIL\n");
		return 2;
	}
	int r = open_db(argv[2], &st);
	if (r < 0) {
		fprintf(stderr, "audit_bench: cannot open %s: %s\n", argv[2], gh_strerror(r));
		return 1;
	}
	struct gh_audit_who w = { .user = argv[4], .source = "127.0.0.1:1" };
	r = gh_audit_event(st, &w, argv[3], argv[5], NULL, argv[6], argv[7], NULL, argv[8]);
	gh_store_close(st);
	return r < 0 ? 1 : 0;
}

static int fill(struct gh_store *st, long n)
{
	static const char *const kinds[] = { "login", "login", "login", "session", "session",
					     "command", "command", "command", "file", "change" };
	char user[32], asset[32], detail[96], src[32];
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		const char *kind = kinds[rnd() % 10];
		snprintf(user, sizeof user, "user%03d", (int)(rnd() % N_USERS));
		snprintf(asset, sizeof asset, "host%03d", (int)(rnd() % N_ASSETS));
		snprintf(src, sizeof src, "10.0.%d.%d:%d", (int)(rnd() % 256), (int)(rnd() % 256),
			 (int)(1024 + rnd() % 60000));
		snprintf(detail, sizeof detail, "cmd=\"ls -l /var/log/%ld\"", i);
		struct gh_event e = { 0 };
		e.ts = T0 + (int64_t)((double)i / (double)n * SPAN);
		e.kind = (char *)kind;
		e.user_name = !strcmp(kind, "change") ? (char *)"os:root" : user;
		e.source = src;
		e.asset_name = !strcmp(kind, "login") || !strcmp(kind, "change") ? NULL : asset;
		e.method = (char *)(!strcmp(kind, "login") ? "password" : "exec");
		e.result = (char *)(rnd() % 10 ? "success" : "failure");
		e.detail = detail;
		int r = gh_chain_append(st, &e);
		if (r < 0) {
			fprintf(stderr, "audit_bench: insert %ld: %s (%s)\n", i, gh_strerror(r),
				gh_store_errmsg(st));
			return r;
		}
		if (i && i % 100000 == 0)
			fprintf(stderr, "  %ld events (%.0f/s)\n", i, (double)i / (now_s() - t0));
	}
	printf("filled %ld events in %.1f s\n", n, now_s() - t0);
	return 0;
}

struct shape {
	const char *name;
	const char *kind, *kind2;
	const char *user, *asset;
	int64_t since, until;
	int limit;
};

int main(int argc, char **argv)
{
	long n = 1000000;
	int runs = 7;
	bool keep = false;
	const char *db = NULL;
	char tmpl[] = "/tmp/audit_benchXXXXXX";
	char path[256];

	if (argc > 1 && !strcmp(argv[1], "emit"))
		return emit(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "append"))
		return append(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--events") && i + 1 < argc)
			n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep"))
			keep = true;
		else
			db = argv[i];
	}
	if (n < 1000 || runs < 1 || runs > 101) {
		fprintf(stderr, "usage: audit_bench [--events N>=1000] [--runs 1..101] [--keep] [DB]\n");
		return 2;
	}
	if (!db) {
		if (!mkdtemp(tmpl))
			return 1;
		snprintf(path, sizeof path, "%s/gatehouse.db", tmpl);
		db = path;
	}
	struct gh_store *st = NULL;
	int r = gh_store_open_sqlite(db, 10000, &st);
	if (r < 0) {
		fprintf(stderr, "audit_bench: cannot open %s: %s\n", db, gh_strerror(r));
		return 1;
	}
	int64_t tip = 0;
	char tiph[65];
	if (gh_store_event_tip(st, &tip, tiph) < 0 || tip == 0) {
		if (fill(st, n) < 0)
			return 1;
	} else {
		printf("store %s already holds %lld events: querying it\n", db, (long long)tip);
	}
	const int64_t day = 86400, mid = T0 + SPAN / 2;
	struct shape shapes[] = {
		{ "logins (newest 100)", "login", NULL, NULL, NULL, 0, 0, 100 },
		{ "logins --user", "login", NULL, "user042", NULL, 0, 0, 100 },
		{ "logins --since/--until 1 day", "login", NULL, NULL, NULL, mid, mid + day, 100 },
		{ "sessions --asset", "session", NULL, NULL, "host123", 0, 0, 100 },
		{ "sessions --user --since 30 days", "session", NULL, "user007", NULL, mid, mid + 30 * day, 100 },
		{ "commands (newest 100)", "command", NULL, NULL, NULL, 0, 0, 100 },
		{ "commands --user --asset", "command", NULL, "user001", "host001", 0, 0, 100 },
		{ "commands --asset --since/--until 7 days", "command", NULL, NULL, "host250", mid, mid + 7 * day, 100 },
		{ "files --user", "file", NULL, "user199", NULL, 0, 0, 100 },
		{ "changes (newest 100)", "change", "retention", NULL, NULL, 0, 0, 100 },
		{ "changes --since/--until 1 day", "change", "retention", NULL, NULL, mid, mid + day, 100 },
		{ "logins --user, all (no limit)", "login", NULL, "user042", NULL, 0, 0, 0 },
	};
	printf("%-42s %10s %8s\n", "query", "median ms", "rows");
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		const char *kinds[2] = { shapes[s].kind, shapes[s].kind2 };
		struct gh_event_filter f = { .kinds = kinds, .n_kinds = shapes[s].kind2 ? 2 : 1,
					     .since = shapes[s].since, .until = shapes[s].until,
					     .user = shapes[s].user, .asset = shapes[s].asset,
					     .limit = shapes[s].limit };
		double t[101];
		size_t rows = 0;
		for (int k = 0; k < runs; k++) {
			struct gh_event *v = NULL;
			double a = now_s();
			r = gh_store_event_query(st, &f, &v, &rows);
			t[k] = now_s() - a;
			if (r < 0) {
				fprintf(stderr, "query failed: %s\n", gh_strerror(r));
				return 1;
			}
			gh_events_free(v, rows);
		}
		qsort(t, (size_t)runs, sizeof t[0], cmp_d);
		printf("%-42s %10.2f %8zu\n", shapes[s].name, t[runs / 2] * 1000, rows);
	}
	struct gh_chain_report rep;
	double a = now_s();
	r = gh_chain_verify(st, &rep);
	printf("%-42s %10.0f %8lld (%s)\n", "audit verify: chain walk", (now_s() - a) * 1000,
	       (long long)rep.checked, r == 0 ? "intact" : "BROKEN");
	gh_store_close(st);
	if (!keep && db == path) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
		if (system(cmd) != 0)
			fprintf(stderr, "audit_bench: could not remove %s\n", tmpl);
	}
	return 0;
}
