/* Login ACLs: may a login from this source address happen now?
 *
 * Pure logic over parsed data: CIDR parsing and matching (IPv4, IPv6,
 * v4-mapped IPv6), weekly schedules in a time zone, and rule evaluation.
 * Only gh_tz_load (and gh_schedule_parse / gh_acl_new, which call it) read
 * files: the compiled tz database under /usr/share/zoneinfo. Matching never
 * reads files, never allocates, never logs and never touches TZ or any
 * other process-wide state, so built objects may be shared by threads.
 *
 * Time zones are read from the TZif files directly (RFC 8536: the 64-bit
 * transition table, then the POSIX TZ footer rule for instants after the
 * last transition) instead of switching the TZ variable around
 * localtime_r(), which is process-wide and not thread-safe.
 *
 * Ownership: every *_free accepts NULL and returns NULL; strings passed in
 * are copied; names returned in decisions are borrowed from the ACL. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- addresses and CIDRs ------------------------------------------------ */

struct gh_addr {
	uint8_t family;   /* 4 or 6 */
	uint8_t b[16];    /* network order; IPv4 in b[0..3] */
};

struct gh_cidr {
	uint8_t family;   /* 4 or 6 */
	uint8_t b[16];    /* the network (host bits cleared) */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/* "192.0.2.1", "2001:db8::1". A v4-mapped IPv6 address (::ffff:a.b.c.d)
 * becomes the IPv4 address. No zone ids, no brackets, no short IPv4 forms
 * ("1.2.3"). GH_EINVAL on anything else. */
int gh_addr_parse(const char *s, struct gh_addr *ret);

/* "192.0.2.0/24", "2001:db8::/32", or a bare address (= /32, /128). The
 * prefix is 1-3 decimal digits within the family's bound; host bits are
 * cleared (10.1.2.3/8 is 10.0.0.0/8). A v4-mapped IPv6 network with a
 * prefix >= 96 becomes the IPv4 network (::ffff:10.0.0.0/104 = 10.0.0.0/8).
 * GH_EINVAL otherwise. */
int gh_cidr_parse(const char *s, struct gh_cidr *ret);

/* Families never cross: an IPv4 rule matches IPv4 addresses (v4-mapped
 * ones included, as parsed above); ::/0 matches every IPv6 address but
 * no IPv4 one. */
bool gh_cidr_match(const struct gh_cidr *c, const struct gh_addr *a);

/* "10.0.0.0/8" into BUF (>= 50 bytes); returns BUF. */
char *gh_cidr_format(const struct gh_cidr *c, char *buf, size_t len);

/* ---- time zones ------------------------------------------------------------ */

struct gh_tz;

/* Load zone NAME ("UTC", "Europe/Berlin") from DIR (NULL: the system's
 * /usr/share/zoneinfo). "UTC" and "Z" work without the database. Names are
 * [A-Za-z0-9_+-] parts separated by '/', no "." or ".." parts.
 * GH_ENOENT when there is no such zone, GH_EINVAL on a bad name or file. */
int gh_tz_load(const char *dir, const char *name, struct gh_tz **ret);
struct gh_tz *gh_tz_free(struct gh_tz *tz);
/* Seconds east of UTC in force at T (Europe/Berlin: 3600 or 7200). */
int32_t gh_tz_offset(const struct gh_tz *tz, int64_t t);
/* The name as given (borrowed). */
const char *gh_tz_name(const struct gh_tz *tz);

/* ---- schedules ------------------------------------------------------------- */

/* A weekly schedule: one or more clauses separated by ';', each
 *     DAYS RANGES [ZONE]
 * DAYS: Mon..Sun (any case) and ranges of them, comma-separated ("Mon-Fri",
 * "Sat,Sun", "Fri-Mon" wraps). RANGES: HH:MM-HH:MM, comma-separated; the end
 * may be 24:00; a range whose end is before its start crosses midnight and
 * belongs to the day it starts on ("Fri 22:00-06:00" is Friday 22:00 to
 * Saturday 06:00). A range is [start, end): 09:00-18:00 ends at 17:59:59.
 * ZONE: a tz database name, default UTC. Times are wall-clock times in the
 * zone at each instant, so around DST changes a window follows the clock
 * (a skipped hour never matches, a repeated hour matches twice).
 * Examples: "Mon-Fri 09:00-18:00 Europe/Berlin", "Sat,Sun 00:00-24:00",
 * "Mon-Sun 22:00-06:00 UTC; Sat 10:00-12:00,14:00-16:00 America/New_York". */
struct gh_schedule;

/* Parse SPEC (time zones from the system database). GH_EINVAL with a
 * message in ERR (ERRLEN bytes, may be NULL); GH_ENOENT for an unknown
 * zone; GH_ELIMIT beyond 16 clauses or 16 ranges in a clause. */
int gh_schedule_parse(const char *spec, struct gh_schedule **ret, char *err, size_t errlen);
struct gh_schedule *gh_schedule_free(struct gh_schedule *s);
/* Is instant T (seconds since the epoch) inside the schedule? */
bool gh_schedule_match(const struct gh_schedule *s, int64_t t);

/* ---- rules ----------------------------------------------------------------- */

enum gh_acl_action { GH_ACL_ALLOW = 0, GH_ACL_DENY = 1 };

/* One rule as configured (all borrowed; copied by gh_acl_new). */
struct gh_acl_rule {
	const char *name;
	enum gh_acl_action action;
	int priority;                 /* 1..100, lower first */
	const char *const *sources;   /* CIDRs; none = every source */
	size_t n_sources;
	const char *schedule;         /* NULL or "" = always */
};

struct gh_acl;

/* Compile N rules. GH_EINVAL (message in ERR naming the rule) on a bad
 * priority, action, CIDR or schedule; GH_ENOENT for an unknown zone. */
int gh_acl_new(const struct gh_acl_rule *rules, size_t n, struct gh_acl **ret, char *err,
	       size_t errlen);
struct gh_acl *gh_acl_free(struct gh_acl *acl);

struct gh_acl_decision {
	bool allow;
	long rule;              /* index in the array given to gh_acl_new, -1: none */
	const char *rule_name;  /* borrowed from the ACL, NULL when none */
};

/* The first rule (lowest priority number; ties: deny before allow, then
 * array order) whose sources hold ADDR and whose schedule holds NOW
 * decides. No rule matches -> allow: the login ACL only narrows, the
 * permissions still decide what the user may reach. GH_EINVAL on NULL. */
int gh_acl_check(const struct gh_acl *acl, const struct gh_addr *addr, int64_t now,
		 struct gh_acl_decision *ret);
