/* Login ACLs: CIDRs, time zones, schedules and rule evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/acl.h"
#include "core/error.h"
#include "core/util.h"

static int64_t T(const char *iso)
{
	int64_t t = 0;
	if (gh_parse_time(iso, &t) != 0)
		fail_msg("bad time %s", iso);
	return t;
}

static struct gh_addr A(const char *s)
{
	struct gh_addr a;
	if (gh_addr_parse(s, &a) != 0)
		fail_msg("bad address %s", s);
	return a;
}

static bool in(const char *cidr, const char *addr)
{
	struct gh_cidr c;
	struct gh_addr a = A(addr);
	if (gh_cidr_parse(cidr, &c) != 0)
		fail_msg("bad cidr %s", cidr);
	return gh_cidr_match(&c, &a);
}

static void test_cidr_v4_v6(void **state)
{
	char buf[64];
	struct gh_cidr c;

	assert_true(in("10.0.0.0/8", "10.255.1.2"));
	assert_false(in("10.0.0.0/8", "11.0.0.1"));
	assert_true(in("192.168.1.0/25", "192.168.1.127"));
	assert_false(in("192.168.1.0/25", "192.168.1.128"));
	assert_true(in("0.0.0.0/0", "203.0.113.9"));
	assert_true(in("203.0.113.9/32", "203.0.113.9"));
	assert_false(in("203.0.113.9/32", "203.0.113.8"));
	assert_true(in("203.0.113.9", "203.0.113.9")); /* bare address = /32 */
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in("::/0", "2001:db8::1"));
	assert_true(in("::1/128", "::1"));
	assert_false(in("::1/128", "::2"));
	assert_true(in("::1", "::1"));
	/* families never cross */
	assert_false(in("::/0", "1.2.3.4"));
	assert_false(in("0.0.0.0/0", "2001:db8::1"));
	/* v4-mapped addresses match IPv4 rules, and mapped rules are IPv4 */
	assert_true(in("1.2.3.0/24", "::ffff:1.2.3.4"));
	assert_true(in("1.2.3.4/32", "::FFFF:1.2.3.4"));
	assert_false(in("1.2.3.0/24", "::ffff:1.2.4.4"));
	assert_true(in("::ffff:10.0.0.0/104", "10.9.9.9"));
	assert_true(in("::ffff:0:0/96", "8.8.8.8"));
	assert_false(in("::ffff:0:0/96", "2001:db8::1"));
	/* host bits are cleared */
	assert_int_equal(gh_cidr_parse("10.1.2.3/8", &c), 0);
	assert_string_equal(gh_cidr_format(&c, buf, sizeof buf), "10.0.0.0/8");
	assert_int_equal(gh_cidr_parse("2001:db8:abcd::1/35", &c), 0);
	assert_string_equal(gh_cidr_format(&c, buf, sizeof buf), "2001:db8:a000::/35");
	assert_int_equal(gh_cidr_parse("::ffff:10.0.0.0/104", &c), 0);
	assert_string_equal(gh_cidr_format(&c, buf, sizeof buf), "10.0.0.0/8");
	assert_int_equal(c.family, 4);
}

static void test_cidr_bad(void **state)
{
	static const char *bad[] = {
		"1.2.3.4/33", "::1/129", "1.2.3", "junk", "", "/24", "1.2.3.4/", "1.2.3.4/-1",
		"1.2.3.4/+8", "1.2.3.4/0024", "1.2.3.4/ 8", "fe80::1%eth0", "[::1]",
		"1.2.3.4/8/8", "1.2.3.4 ", " 1.2.3.4", "256.1.1.1", "1.2.3.4/8x", "::g",
		"1:2:3:4:5:6:7:8:9", "1.2.3.4/999",
	};
	struct gh_cidr c;
	struct gh_addr a;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (gh_cidr_parse(bad[i], &c) != GH_EINVAL)
			fail_msg("cidr '%s' accepted", bad[i]);
	assert_int_equal(gh_cidr_parse("1.2.3.4/32", &c), 0);
	assert_int_equal(gh_cidr_parse("::/128", &c), 0);
	assert_int_equal(gh_cidr_parse("::/0", &c), 0);
	assert_int_equal(gh_addr_parse("1.2.3.4/32", &a), GH_EINVAL);
	assert_int_equal(gh_addr_parse("1.2.3", &a), GH_EINVAL);
	assert_int_equal(gh_addr_parse("", &a), GH_EINVAL);
	assert_int_equal(gh_addr_parse(NULL, &a), GH_EINVAL);
}

static void test_tz_offsets(void **state)
{
	struct gh_tz *tz = NULL;

	assert_int_equal(gh_tz_load(NULL, "Europe/Berlin", &tz), 0);
	assert_int_equal(gh_tz_offset(tz, T("2024-01-15T12:00:00Z")), 3600);
	assert_int_equal(gh_tz_offset(tz, T("2024-07-15T12:00:00Z")), 7200);
	/* 2024-03-31 01:00 UTC: 02:00 CET becomes 03:00 CEST */
	assert_int_equal(gh_tz_offset(tz, T("2024-03-31T00:59:59Z")), 3600);
	assert_int_equal(gh_tz_offset(tz, T("2024-03-31T01:00:00Z")), 7200);
	/* 2024-10-27 01:00 UTC: 03:00 CEST becomes 02:00 CET */
	assert_int_equal(gh_tz_offset(tz, T("2024-10-27T00:59:59Z")), 7200);
	assert_int_equal(gh_tz_offset(tz, T("2024-10-27T01:00:00Z")), 3600);
	/* beyond the table: the footer rule */
	assert_int_equal(gh_tz_offset(tz, T("2100-07-01T00:00:00Z")), 7200);
	assert_int_equal(gh_tz_offset(tz, T("2100-12-01T00:00:00Z")), 3600);
	assert_int_equal(gh_tz_offset(tz, T("2100-03-28T00:59:59Z")), 3600);
	assert_int_equal(gh_tz_offset(tz, T("2100-03-28T01:00:00Z")), 7200);
	assert_string_equal(gh_tz_name(tz), "Europe/Berlin");
	tz = gh_tz_free(tz);

	assert_int_equal(gh_tz_load(NULL, "UTC", &tz), 0);
	assert_int_equal(gh_tz_offset(tz, T("2024-07-15T12:00:00Z")), 0);
	tz = gh_tz_free(tz);
	assert_null(gh_tz_free(NULL));
}

/* Cross-check against the C library (the test may set TZ: it is one
 * process that does nothing else meanwhile). */
static void test_tz_matches_libc(void **state)
{
	static const char *zones[] = { "Europe/Berlin", "America/New_York", "Australia/Sydney",
		"Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca",
		"Europe/Dublin" };
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	uint64_t x = 88172645463325252ull;

	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		struct gh_tz *tz = NULL;
		assert_int_equal(gh_tz_load(NULL, zones[z], &tz), 0);
		setenv("TZ", zones[z], 1);
		tzset();
		for (int i = 0; i < 3000; i++) {
			struct tm tm;
			time_t t;
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* 1950 .. 2150 */
			t = (time_t)(-631152000LL + (int64_t)(x % 6311520000ULL));
			assert_non_null(localtime_r(&t, &tm));
			if (tm.tm_gmtoff != gh_tz_offset(tz, (int64_t)t))
				fail_msg("%s at %lld: libc %ld, ours %d", zones[z], (long long)t,
					 tm.tm_gmtoff, gh_tz_offset(tz, (int64_t)t));
		}
		gh_tz_free(tz);
	}
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static void test_tz_bad(void **state)
{
	struct gh_tz *tz = NULL;
	char dir[] = "/tmp/gh-tz-XXXXXX", path[64];
	FILE *f;

	assert_int_equal(gh_tz_load(NULL, "Nowhere/City", &tz), GH_ENOENT);
	assert_int_equal(gh_tz_load(NULL, "../../etc/passwd", &tz), GH_EINVAL);
	assert_int_equal(gh_tz_load(NULL, "/etc/localtime", &tz), GH_EINVAL);
	assert_int_equal(gh_tz_load(NULL, "Europe/../UTC", &tz), GH_EINVAL);
	assert_int_equal(gh_tz_load(NULL, "Europe//Berlin", &tz), GH_EINVAL);
	assert_int_equal(gh_tz_load(NULL, "", &tz), GH_EINVAL);
	assert_int_equal(gh_tz_load(NULL, "Europe/Berlin ", &tz), GH_EINVAL);
	/* a file that is not TZif */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/Fake", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("TZif2 but not really", f);
	fclose(f);
	assert_int_equal(gh_tz_load(dir, "Fake", &tz), GH_EINVAL);
	assert_null(tz);
	unlink(path);
	rmdir(dir);
}

static bool sched(const char *spec, const char *iso)
{
	struct gh_schedule *s = NULL;
	char err[160];
	bool m;
	if (gh_schedule_parse(spec, &s, err, sizeof err) != 0)
		fail_msg("schedule '%s': %s", spec, err);
	m = gh_schedule_match(s, T(iso));
	gh_schedule_free(s);
	return m;
}

static void test_schedules(void **state)
{
	const char *office = "Mon-Fri 09:00-18:00 Europe/Berlin";
	/* winter (CET, UTC+1): 2024-01-15 is a Monday */
	assert_false(sched(office, "2024-01-15T07:59:59Z"));
	assert_true(sched(office, "2024-01-15T08:00:00Z"));
	assert_true(sched(office, "2024-01-15T16:59:59Z"));
	assert_false(sched(office, "2024-01-15T17:00:00Z"));
	assert_false(sched(office, "2024-01-13T10:00:00Z")); /* Saturday */
	assert_true(sched(office, "2024-01-19T12:00:00Z"));  /* Friday */
	/* summer (CEST, UTC+2) */
	assert_false(sched(office, "2024-07-15T06:59:59Z"));
	assert_true(sched(office, "2024-07-15T07:00:00Z"));
	assert_false(sched(office, "2024-07-15T16:00:00Z"));
	/* the same wall clock in New York */
	assert_true(sched("Mon-Fri 09:00-18:00 America/New_York", "2024-01-15T14:00:00Z"));
	assert_false(sched("Mon-Fri 09:00-18:00 America/New_York", "2024-01-15T13:59:00Z"));
	/* the day is the local day: Monday 00:30 in Tokyo is Sunday in UTC */
	assert_true(sched("Mon 00:00-01:00 Asia/Tokyo", "2024-01-14T15:30:00Z"));
	assert_false(sched("Mon 00:00-01:00 UTC", "2024-01-14T15:30:00Z"));

	/* whole days, lists, default zone UTC */
	assert_true(sched("Sat,Sun 00:00-24:00", "2024-01-13T00:00:00Z"));
	assert_true(sched("Sat,Sun 00:00-24:00", "2024-01-14T23:59:59Z"));
	assert_false(sched("Sat,Sun 00:00-24:00", "2024-01-15T00:00:00Z"));
	assert_true(sched("fri-MON 10:00-11:00", "2024-01-15T10:30:00Z")); /* wraps */
	assert_false(sched("Fri-Mon 10:00-11:00", "2024-01-16T10:30:00Z"));
	assert_true(sched("Mon 08:00-09:00,13:00-14:00", "2024-01-15T13:10:00Z"));
	assert_false(sched("Mon 08:00-09:00,13:00-14:00", "2024-01-15T12:10:00Z"));
	assert_true(sched("Tue 08:00-09:00; Mon 13:00-14:00 Europe/Berlin", "2024-01-15T12:10:00Z"));

	/* crossing midnight: the window belongs to the day it starts on */
	assert_true(sched("Fri 22:00-06:00 UTC", "2024-01-19T23:00:00Z"));
	assert_true(sched("Fri 22:00-06:00 UTC", "2024-01-20T05:59:59Z"));  /* Sat morning */
	assert_false(sched("Fri 22:00-06:00 UTC", "2024-01-20T06:00:00Z"));
	assert_false(sched("Fri 22:00-06:00 UTC", "2024-01-19T05:00:00Z")); /* Fri morning */
	assert_false(sched("Fri 22:00-06:00 UTC", "2024-01-20T22:30:00Z")); /* Sat night */
	assert_true(sched("Mon-Sun 22:00-06:00 UTC", "2024-01-17T03:00:00Z"));
	assert_false(sched("Mon-Sun 22:00-06:00 UTC", "2024-01-17T12:00:00Z"));
	/* Sunday night runs into Monday morning (week wrap) */
	assert_true(sched("Sun 23:00-01:00", "2024-01-15T00:30:00Z"));
}

static void test_schedules_dst_days(void **state)
{
	struct gh_schedule *s = NULL;
	int n = 0;

	/* 2024-03-31, Europe/Berlin: 02:00-03:00 does not exist */
	assert_int_equal(gh_schedule_parse("Sun 02:00-03:00 Europe/Berlin", &s, NULL, 0), 0);
	for (int64_t t = T("2024-03-30T20:00:00Z"); t < T("2024-03-31T06:00:00Z"); t += 60)
		n += gh_schedule_match(s, t);
	assert_int_equal(n, 0);
	/* 2024-10-27: 02:00-03:00 happens twice */
	n = 0;
	for (int64_t t = T("2024-10-26T20:00:00Z"); t < T("2024-10-27T06:00:00Z"); t += 60)
		n += gh_schedule_match(s, t);
	assert_int_equal(n, 120);
	assert_true(gh_schedule_match(s, T("2024-10-27T00:30:00Z")));  /* 02:30 CEST */
	assert_true(gh_schedule_match(s, T("2024-10-27T01:30:00Z")));  /* 02:30 CET */
	s = gh_schedule_free(s);

	/* a night window across the spring change lasts an hour less */
	assert_int_equal(gh_schedule_parse("Sat 22:00-06:00 Europe/Berlin", &s, NULL, 0), 0);
	n = 0;
	for (int64_t t = T("2024-03-30T12:00:00Z"); t < T("2024-03-31T12:00:00Z"); t += 60)
		n += gh_schedule_match(s, t);
	assert_int_equal(n, 7 * 60);
	assert_true(gh_schedule_match(s, T("2024-03-30T21:00:00Z")));  /* 22:00 CET */
	assert_true(gh_schedule_match(s, T("2024-03-31T03:59:00Z")));  /* 05:59 CEST */
	assert_false(gh_schedule_match(s, T("2024-03-31T04:00:00Z"))); /* 06:00 CEST */
	gh_schedule_free(s);
}

/* Midnight in one zone is not midnight in another: windows that cross the
 * local midnight, zones whose local day differs from the UTC day, and
 * half-hour offsets. */
static void test_schedules_zones_midnight(void **state)
{
	/* 2024-01-19 is a Friday. Los Angeles is UTC-8 in January: Friday
	 * 22:00-02:00 local is Saturday 06:00-10:00 UTC. */
	const char *la = "Fri 22:00-02:00 America/Los_Angeles";
	assert_false(sched(la, "2024-01-20T05:59:59Z"));
	assert_true(sched(la, "2024-01-20T06:00:00Z"));   /* Fri 22:00 local */
	assert_true(sched(la, "2024-01-20T08:30:00Z"));   /* Sat 00:30 local */
	assert_true(sched(la, "2024-01-20T09:59:59Z"));   /* Sat 01:59:59 local */
	assert_false(sched(la, "2024-01-20T10:00:00Z"));  /* Sat 02:00 local */
	assert_false(sched(la, "2024-01-19T08:30:00Z"));  /* Fri 00:30 local: Thu's window */
	/* Kiritimati is UTC+14: its Monday starts on Sunday 10:00 UTC */
	assert_true(sched("Mon 00:00-24:00 Pacific/Kiritimati", "2024-01-14T10:00:00Z"));
	assert_false(sched("Mon 00:00-24:00 Pacific/Kiritimati", "2024-01-14T09:59:59Z"));
	assert_true(sched("Mon 00:00-24:00 Pacific/Kiritimati", "2024-01-15T09:59:59Z"));
	assert_false(sched("Mon 00:00-24:00 Pacific/Kiritimati", "2024-01-15T10:00:00Z"));
	/* Kolkata is UTC+5:30: 09:00-18:00 local is 03:30-12:30 UTC */
	assert_false(sched("Mon-Fri 09:00-18:00 Asia/Kolkata", "2024-01-15T03:29:59Z"));
	assert_true(sched("Mon-Fri 09:00-18:00 Asia/Kolkata", "2024-01-15T03:30:00Z"));
	assert_false(sched("Mon-Fri 09:00-18:00 Asia/Kolkata", "2024-01-15T12:30:00Z"));
	/* a window ending at 24:00 stops exactly at the local midnight */
	assert_true(sched("Sun 18:00-24:00 Europe/Berlin", "2024-01-14T22:59:59Z"));
	assert_false(sched("Sun 18:00-24:00 Europe/Berlin", "2024-01-14T23:00:00Z"));
	/* two zones in one schedule: either clause holds */
	const char *two = "Mon 09:00-10:00 Asia/Tokyo; Mon 09:00-10:00 America/New_York";
	assert_true(sched(two, "2024-01-15T00:30:00Z"));  /* 09:30 Tokyo */
	assert_true(sched(two, "2024-01-15T14:30:00Z"));  /* 09:30 New York */
	assert_false(sched(two, "2024-01-15T09:30:00Z"));
	/* a night window in a zone crossing the week end (Sun -> Mon) */
	assert_true(sched("Sun 23:00-01:00 Asia/Tokyo", "2024-01-14T15:30:00Z")); /* Mon 00:30 */
	assert_false(sched("Sun 23:00-01:00 Asia/Tokyo", "2024-01-14T16:00:00Z")); /* Mon 01:00 */
}

static void test_schedule_errors(void **state)
{
	static const char *bad[] = {
		"", "Mon", "Mon 09:00", "Mon 9:00-18:00", "Mon 09:00-18:60", "Mon 24:00-01:00",
		"Mon 09:00-24:01", "Mon 09:00-09:00", "Xyz 09:00-10:00", "Mon-Fri-Sat 09:00-10:00",
		"Mon, 09:00-10:00", "Mon 09:00-10:00,", "Mon 09:00-10:00 Europe/Berlin extra",
		"Mon 09:00-10:00 ../etc/passwd", "Monday 09:00-10:00", "Mon 09:00_10:00",
		"Mon 09:00-10:00;", ";Mon 09:00-10:00", "Mon 0900-1000",
	};
	struct gh_schedule *s = NULL;
	char err[160];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = gh_schedule_parse(bad[i], &s, err, sizeof err);
		if (r != GH_EINVAL)
			fail_msg("schedule '%s': got %d", bad[i], r);
		assert_null(s);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(gh_schedule_parse("Mon 09:00-10:00 Mars/Olympus", &s, err, sizeof err),
			 GH_ENOENT);
	assert_non_null(strstr(err, "Mars/Olympus"));
	assert_null(gh_schedule_free(NULL));
}

static void test_acl_rules(void **state)
{
	const char *office_src[] = { "10.0.0.0/8", "2001:db8::/32" };
	const char *bad_src[] = { "10.6.6.0/24" };
	const char *lab_src[] = { "::1" };
	const struct gh_acl_rule rules[] = {
		{ "office", GH_ACL_ALLOW, 10, office_src, 2, "Mon-Fri 09:00-18:00 Europe/Berlin" },
		{ "bad-net", GH_ACL_DENY, 10, bad_src, 1, NULL },
		{ "nights", GH_ACL_DENY, 50, NULL, 0, "Mon-Sun 22:00-06:00 Europe/Berlin" },
		{ "lab", GH_ACL_ALLOW, 50, lab_src, 1, "" },
	};
	struct gh_acl *acl = NULL;
	struct gh_acl_decision d;
	struct gh_addr a;
	char err[200];
	int64_t noon = T("2024-01-15T11:00:00Z"), night = T("2024-01-15T23:00:00Z");

	assert_int_equal(gh_acl_new(rules, 4, &acl, err, sizeof err), 0);
	/* tie at priority 10: deny first */
	a = A("10.6.6.5");
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_false(d.allow);
	assert_int_equal(d.rule, 1);
	assert_string_equal(d.rule_name, "bad-net");
	a = A("10.1.1.1");
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_true(d.allow);
	assert_int_equal(d.rule, 0);
	a = A("::ffff:10.1.1.1");
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_true(d.allow);
	assert_int_equal(d.rule, 0);
	a = A("2001:db8::5");
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_int_equal(d.rule, 0);
	/* out of office hours the office rule does not match; nights denies */
	a = A("10.1.1.1");
	assert_int_equal(gh_acl_check(acl, &a, night, &d), 0);
	assert_false(d.allow);
	assert_string_equal(d.rule_name, "nights");
	/* priority 50 tie: deny (nights) before allow (lab) */
	a = A("::1");
	assert_int_equal(gh_acl_check(acl, &a, night, &d), 0);
	assert_false(d.allow);
	assert_int_equal(d.rule, 2);
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_true(d.allow);
	assert_int_equal(d.rule, 3);
	/* nothing matches: allow, no rule */
	a = A("192.0.2.1");
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_true(d.allow);
	assert_int_equal(d.rule, -1);
	assert_null(d.rule_name);
	acl = gh_acl_free(acl);

	/* an empty ACL allows */
	assert_int_equal(gh_acl_new(NULL, 0, &acl, NULL, 0), 0);
	assert_int_equal(gh_acl_check(acl, &a, noon, &d), 0);
	assert_true(d.allow);
	acl = gh_acl_free(acl);
	assert_null(gh_acl_free(NULL));
}

static void test_acl_errors(void **state)
{
	const char *bad_src[] = { "10.0.0.0/8", "1.2.3.4/33" };
	struct gh_acl_rule r = { "r1", GH_ACL_DENY, 10, bad_src, 2, NULL };
	struct gh_acl *acl = NULL;
	char err[200];

	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "r1"));
	assert_non_null(strstr(err, "#1"));
	r.n_sources = 1;
	r.priority = 0;
	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), GH_EINVAL);
	r.priority = 101;
	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), GH_EINVAL);
	r.priority = 100;
	r.action = (enum gh_acl_action)7;
	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), GH_EINVAL);
	r.action = GH_ACL_ALLOW;
	r.schedule = "Mon 25:00-26:00";
	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), GH_EINVAL);
	assert_non_null(strstr(err, "time range"));
	assert_null(acl);
	r.schedule = "Mon 09:00-10:00";
	assert_int_equal(gh_acl_new(&r, 1, &acl, err, sizeof err), 0);
	gh_acl_free(acl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_v4_v6),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_tz_offsets),
		cmocka_unit_test(test_tz_matches_libc),
		cmocka_unit_test(test_tz_bad),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_schedules_dst_days),
		cmocka_unit_test(test_schedules_zones_midnight),
		cmocka_unit_test(test_schedule_errors),
		cmocka_unit_test(test_acl_rules),
		cmocka_unit_test(test_acl_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
