/* Time zones (TZif, RFC 8536) and weekly schedules (acl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/acl.h"
#include "core/error.h"
#include "core/util.h"

#define GH_TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define GH_TZ_MAX_FILE (1u << 20)
#define GH_TZ_MAX_NAME 128
#define GH_SCHED_MAX_CLAUSES 16
#define GH_SCHED_MAX_RANGES 16

/* ---- civil time ------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of Y-M-D (proleptic Gregorian; H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return y + (mp >= 10);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Monday = 0 ... Sunday = 6 for a day count since the epoch (a Thursday). */
static unsigned weekday_mon0(int64_t days)
{
	return (unsigned)(((days % 7) + 7 + 3) % 7);
}

/* ---- TZif ---------------------------------------------------------------------- */

enum rule_kind { R_JULIAN1, R_JULIAN0, R_MONTH };

struct tz_date {
	enum rule_kind kind;
	int n, m, w, d;       /* Jn / n / Mm.w.d */
	int32_t secs;         /* time of day of the change, local */
};

struct tz_footer {
	bool present;
	bool has_dst;
	int32_t std_off, dst_off; /* seconds east of UTC */
	struct tz_date start, end;
};

struct gh_tz {
	char *name;
	int64_t *times;       /* transitions, ascending */
	uint8_t *idx;         /* type of each transition */
	size_t n_times;
	int32_t *type_off;    /* utoff of each type */
	size_t n_types;
	struct tz_footer foot;
};

struct gh_tz *gh_tz_free(struct gh_tz *tz)
{
	if (!tz)
		return NULL;
	free(tz->name);
	free(tz->times);
	free(tz->idx);
	free(tz->type_off);
	free(tz);
	return NULL;
}

const char *gh_tz_name(const struct gh_tz *tz)
{
	return tz ? tz->name : NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* POSIX TZ pieces. Each parser advances *s; false on a syntax error. */
static bool tzs_name(const char **s)
{
	const char *p = *s;
	if (*p == '<') {
		const char *e = strchr(p, '>');
		if (!e || e - p < 4)
			return false;
		*s = e + 1;
		return true;
	}
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh up to MAXH; seconds. */
static bool tzs_time(const char **s, int maxh, int32_t *ret)
{
	const char *p = *s;
	int sign = 1, part[3] = { 0, 0, 0 };
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int k = 0; k < 3; k++) {
		int digits = 0;
		if (k > 0) {
			if (*p != ':')
				break;
			p++;
		}
		while (*p >= '0' && *p <= '9' && digits < 3) {
			part[k] = part[k] * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (k > 0 && part[k] > 59))
			return false;
	}
	if (part[0] > maxh)
		return false;
	*ret = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*s = p;
	return true;
}

static bool tzs_num(const char **s, int lo, int hi, int *ret)
{
	int v = 0, digits = 0;
	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (*(*s)++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

static bool tzs_date(const char **s, struct tz_date *d)
{
	memset(d, 0, sizeof *d);
	d->secs = 7200;
	if (**s == 'J') {
		(*s)++;
		d->kind = R_JULIAN1;
		if (!tzs_num(s, 1, 365, &d->n))
			return false;
	} else if (**s == 'M') {
		(*s)++;
		d->kind = R_MONTH;
		if (!tzs_num(s, 1, 12, &d->m) || *(*s)++ != '.' || !tzs_num(s, 1, 5, &d->w) ||
		    *(*s)++ != '.' || !tzs_num(s, 0, 6, &d->d))
			return false;
	} else {
		d->kind = R_JULIAN0;
		if (!tzs_num(s, 0, 365, &d->n))
			return false;
	}
	if (**s == '/') {
		(*s)++;
		if (!tzs_time(s, 167, &d->secs))
			return false;
	}
	return true;
}

static bool parse_footer(const char *s, struct tz_footer *f)
{
	int32_t off = 0;
	memset(f, 0, sizeof *f);
	if (!*s)
		return true; /* no rule: the last transition holds forever */
	if (!tzs_name(&s) || !tzs_time(&s, 24, &off))
		return false;
	f->std_off = -off;
	f->present = true;
	if (!*s)
		return true;
	if (!tzs_name(&s))
		return false;
	f->has_dst = true;
	f->dst_off = f->std_off + 3600;
	if (*s && *s != ',') {
		if (!tzs_time(&s, 24, &off))
			return false;
		f->dst_off = -off;
	}
	if (*s++ != ',' || !tzs_date(&s, &f->start) || *s++ != ',' || !tzs_date(&s, &f->end))
		return false;
	return *s == '\0';
}

/* Seconds since the epoch (UTC) of local midnight of rule date D in Y,
 * counted as if the local offset were zero. */
static int64_t rule_day(int64_t y, const struct tz_date *d)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t day;
	if (d->kind == R_JULIAN1) {
		day = days_from_civil(y, 1, 1) + d->n - 1;
		if (is_leap(y) && d->n >= 60)
			day++;
	} else if (d->kind == R_JULIAN0) {
		day = days_from_civil(y, 1, 1) + d->n;
	} else {
		unsigned dim = mdays[d->m - 1] + (d->m == 2 && is_leap(y) ? 1 : 0);
		int64_t first = days_from_civil(y, (unsigned)d->m, 1);
		unsigned wd_sun0 = (weekday_mon0(first) + 1) % 7;
		unsigned dom = 1 + ((unsigned)d->d + 7 - wd_sun0) % 7 + 7 * ((unsigned)d->w - 1);
		while (dom > dim)
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400;
}

static int32_t footer_offset(const struct tz_footer *f, int64_t t)
{
	int64_t y, start, end;
	bool dst;
	if (!f->has_dst)
		return f->std_off;
	y = year_of_days(floor_div(t + f->std_off, 86400));
	start = rule_day(y, &f->start) + f->start.secs - f->std_off;
	end = rule_day(y, &f->end) + f->end.secs - f->dst_off;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);
	return dst ? f->dst_off : f->std_off;
}

int32_t gh_tz_offset(const struct gh_tz *tz, int64_t t)
{
	size_t lo = 0, hi;
	if (!tz)
		return 0;
	if (tz->n_times == 0 || t < tz->times[0]) {
		if (tz->n_times == 0 && tz->foot.present)
			return footer_offset(&tz->foot, t);
		return tz->n_types ? tz->type_off[0] : 0;
	}
	if (t >= tz->times[tz->n_times - 1] && tz->foot.present)
		return footer_offset(&tz->foot, t);
	hi = tz->n_times; /* times[lo] <= t < times[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->type_off[tz->idx[lo]];
}

static bool valid_zone_name(const char *s)
{
	size_t n = strlen(s);
	const char *part = s;
	if (n == 0 || n > GH_TZ_MAX_NAME || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t pl = (size_t)(p - part);
			if (pl == 0 || (pl == 1 && part[0] == '.') ||
			    (pl == 2 && part[0] == '.' && part[1] == '.'))
				return false;
			if (*p == '\0')
				break;
			part = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '_' || *p == '+' || *p == '-' ||
			     *p == '.')) {
			return false;
		}
	}
	return true;
}

/* Parse a TZif file of LEN bytes into TZ. */
static int parse_tzif(const uint8_t *d, size_t len, struct gh_tz *tz)
{
	size_t off = 0, isut, isstd, leap, timecnt, typecnt, charcnt, v1len, need;
	const uint8_t *h;

	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return GH_EINVAL;
	h = d + 20;
	isut = be32(h);
	isstd = be32(h + 4);
	leap = be32(h + 8);
	timecnt = be32(h + 12);
	typecnt = be32(h + 16);
	charcnt = be32(h + 20);
	if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || leap > 100000 ||
	    charcnt > 100000 || isut > 256 || isstd > 256)
		return GH_EINVAL;
	v1len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
	if (d[4] >= '2') {
		/* skip the 32-bit block, use the 64-bit one */
		off = 44 + v1len;
		if (len < off + 44 || memcmp(d + off, "TZif", 4) != 0)
			return GH_EINVAL;
		h = d + off + 20;
		isut = be32(h);
		isstd = be32(h + 4);
		leap = be32(h + 8);
		timecnt = be32(h + 12);
		typecnt = be32(h + 16);
		charcnt = be32(h + 20);
		if (timecnt > 100000 || typecnt == 0 || typecnt > 256 || leap > 100000 ||
		    charcnt > 100000 || isut > 256 || isstd > 256)
			return GH_EINVAL;
		off += 44;
		need = timecnt * 9 + typecnt * 6 + charcnt + leap * 12 + isstd + isut;
	} else {
		off = 44;
		need = v1len;
	}
	if (len - off < need)
		return GH_EINVAL;
	tz->times = calloc(timecnt ? timecnt : 1, sizeof *tz->times);
	tz->idx = calloc(timecnt ? timecnt : 1, 1);
	tz->type_off = calloc(typecnt, sizeof *tz->type_off);
	if (!tz->times || !tz->idx || !tz->type_off)
		return GH_ENOMEM;
	for (size_t i = 0; i < timecnt; i++) {
		tz->times[i] = d[4] >= '2' ? be64(d + off + i * 8) : (int32_t)be32(d + off + i * 4);
		if (i > 0 && tz->times[i] <= tz->times[i - 1])
			return GH_EINVAL;
	}
	off += timecnt * (d[4] >= '2' ? 8 : 4);
	for (size_t i = 0; i < timecnt; i++) {
		tz->idx[i] = d[off + i];
		if (tz->idx[i] >= typecnt)
			return GH_EINVAL;
	}
	off += timecnt;
	for (size_t i = 0; i < typecnt; i++) {
		int32_t u = (int32_t)be32(d + off + i * 6);
		if (u < -25 * 3600 || u > 26 * 3600)
			return GH_EINVAL;
		tz->type_off[i] = u;
	}
	off += typecnt * 6;
	tz->n_times = timecnt;
	tz->n_types = typecnt;
	if (d[4] >= '2') {
		char foot[128];
		const uint8_t *nl;
		off += charcnt + leap * 12 + isstd + isut;
		if (off >= len || d[off] != '\n')
			return 0; /* no footer */
		nl = memchr(d + off + 1, '\n', len - off - 1);
		if (!nl || (size_t)(nl - (d + off + 1)) >= sizeof foot)
			return GH_EINVAL;
		memcpy(foot, d + off + 1, (size_t)(nl - (d + off + 1)));
		foot[nl - (d + off + 1)] = '\0';
		if (!parse_footer(foot, &tz->foot))
			return GH_EINVAL;
	}
	return 0;
}

int gh_tz_load(const char *dir, const char *name, struct gh_tz **ret)
{
	struct gh_tz *tz = NULL;
	char *buf = NULL, path[512];
	size_t len = 0;
	int r = 0;

	if (!name || !ret)
		return GH_EINVAL;
	tz = calloc(1, sizeof *tz);
	if (!tz)
		return GH_ENOMEM;
	if (!(tz->name = strdup(name))) {
		r = GH_ENOMEM;
		goto out;
	}
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0) {
		tz->type_off = calloc(1, sizeof *tz->type_off);
		if (!tz->type_off) {
			r = GH_ENOMEM;
			goto out;
		}
		tz->n_types = 1;
		goto done;
	}
	if (!valid_zone_name(name)) {
		r = GH_EINVAL;
		goto out;
	}
	r = snprintf(path, sizeof path, "%s/%s", dir ? dir : GH_TZ_DEFAULT_DIR, name);
	if (r < 0 || (size_t)r >= sizeof path) {
		r = GH_EINVAL;
		goto out;
	}
	if ((r = gh_read_file(path, GH_TZ_MAX_FILE, &buf, &len)) < 0) {
		if (r == GH_EIO)
			r = GH_ENOENT;
		goto out;
	}
	if ((r = parse_tzif((const uint8_t *)buf, len, tz)) < 0)
		goto out;
done:
	*ret = tz;
	tz = NULL;
	r = 0;
out:
	free(buf);
	gh_tz_free(tz);
	return r;
}

/* ---- schedules ----------------------------------------------------------------- */

struct range {
	int start, end;      /* minutes of the day; end may be 1440 */
};

struct clause {
	uint8_t days;        /* bit 0 = Monday ... bit 6 = Sunday */
	struct range r[GH_SCHED_MAX_RANGES];
	size_t n;
	struct gh_tz *tz;
};

struct gh_schedule {
	struct clause c[GH_SCHED_MAX_CLAUSES];
	size_t n;
};

struct gh_schedule *gh_schedule_free(struct gh_schedule *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		gh_tz_free(s->c[i].tz);
	free(s);
	return NULL;
}

static void sched_err(char *err, size_t errlen, const char *what, const char *tok)
{
	char esc[64];
	if (err && errlen > 0 &&
	    snprintf(err, errlen, "%s '%s'", what, gh_escape(esc, sizeof esc, tok)) < 0)
		err[0] = '\0';
}

static int day_index(const char *s, size_t n)
{
	static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	if (n != 3)
		return -1;
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

static int parse_days(const char *tok, uint8_t *ret)
{
	uint8_t days = 0;
	const char *p = tok;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *dash = memchr(p, '-', n);
		int a, b;
		if (dash) {
			a = day_index(p, (size_t)(dash - p));
			b = day_index(dash + 1, n - (size_t)(dash - p) - 1);
		} else {
			a = b = day_index(p, n);
		}
		if (a < 0 || b < 0)
			return GH_EINVAL;
		for (int d = a;; d = (d + 1) % 7) {
			days |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				return GH_EINVAL;
		}
	}
	if (!days)
		return GH_EINVAL;
	*ret = days;
	return 0;
}

/* "HH:MM" exactly; 24:00 only when ALLOW24. */
static int parse_hhmm(const char *s, size_t n, bool allow24, int *ret)
{
	int h, m;
	if (n != 5 || s[2] != ':' || strspn(s, "0123456789") != 2 ||
	    strspn(s + 3, "0123456789") < 2)
		return GH_EINVAL;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24)))
		return GH_EINVAL;
	*ret = h * 60 + m;
	return 0;
}

static int parse_ranges(const char *tok, struct clause *c)
{
	const char *p = tok;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *dash = memchr(p, '-', n);
		struct range r;
		if (c->n >= GH_SCHED_MAX_RANGES)
			return GH_ELIMIT;
		if (!dash || parse_hhmm(p, (size_t)(dash - p), false, &r.start) < 0 ||
		    parse_hhmm(dash + 1, n - (size_t)(dash - p) - 1, true, &r.end) < 0 ||
		    r.start == r.end)
			return GH_EINVAL;
		c->r[c->n++] = r;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				return GH_EINVAL;
		}
	}
	return c->n ? 0 : GH_EINVAL;
}

/* One clause in TEXT (modified: split on blanks). */
static int parse_clause(char *text, struct clause *c, char *err, size_t errlen)
{
	char *tok[4] = { NULL, NULL, NULL, NULL }, *p = text;
	size_t nt = 0;
	int r;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (nt == 4) {
			sched_err(err, errlen, "too many fields at", p);
			return GH_EINVAL;
		}
		tok[nt++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (nt < 2 || nt > 3) {
		sched_err(err, errlen, "want DAYS HH:MM-HH:MM [ZONE], got", text);
		return GH_EINVAL;
	}
	if (parse_days(tok[0], &c->days) < 0) {
		sched_err(err, errlen, "bad days", tok[0]);
		return GH_EINVAL;
	}
	if ((r = parse_ranges(tok[1], c)) < 0) {
		sched_err(err, errlen, r == GH_ELIMIT ? "too many ranges" : "bad time range", tok[1]);
		return r;
	}
	if ((r = gh_tz_load(NULL, nt == 3 ? tok[2] : "UTC", &c->tz)) < 0) {
		sched_err(err, errlen, r == GH_ENOENT ? "unknown time zone" : "bad time zone",
			  nt == 3 ? tok[2] : "UTC");
		return r;
	}
	return 0;
}

int gh_schedule_parse(const char *spec, struct gh_schedule **ret, char *err, size_t errlen)
{
	struct gh_schedule *s = NULL;
	char *copy = NULL, *p;
	int r = 0;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!spec || !ret)
		return GH_EINVAL;
	if (strlen(spec) > 4096) {
		sched_err(err, errlen, "schedule too long", "");
		return GH_ELIMIT;
	}
	s = calloc(1, sizeof *s);
	copy = strdup(spec);
	if (!s || !copy) {
		r = GH_ENOMEM;
		goto out;
	}
	p = copy;
	for (;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = '\0';
		if (s->n >= GH_SCHED_MAX_CLAUSES) {
			sched_err(err, errlen, "too many clauses in", spec);
			r = GH_ELIMIT;
			goto out;
		}
		if ((r = parse_clause(p, &s->c[s->n], err, errlen)) < 0) {
			gh_tz_free(s->c[s->n].tz);
			goto out;
		}
		s->n++;
		if (!semi)
			break;
		p = semi + 1;
	}
	*ret = s;
	s = NULL;
out:
	free(copy);
	gh_schedule_free(s);
	return r;
}

static bool clause_match(const struct clause *c, int64_t t)
{
	int64_t local = t + gh_tz_offset(c->tz, t);
	int64_t day = floor_div(local, 86400);
	int minute = (int)((local - day * 86400) / 60);
	unsigned wd = weekday_mon0(day), prev = (wd + 6) % 7;
	bool today = c->days & (1u << wd), yesterday = c->days & (1u << prev);

	for (size_t i = 0; i < c->n; i++) {
		const struct range *r = &c->r[i];
		if (r->start < r->end) {
			if (today && minute >= r->start && minute < r->end)
				return true;
		} else {
			/* crosses midnight: the evening of a listed day, or the
			 * morning after one */
			if ((today && minute >= r->start) || (yesterday && minute < r->end))
				return true;
		}
	}
	return false;
}

bool gh_schedule_match(const struct gh_schedule *s, int64_t t)
{
	if (!s)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (clause_match(&s->c[i], t))
			return true;
	return false;
}
