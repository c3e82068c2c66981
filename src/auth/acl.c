/* Login ACLs: CIDRs and rule evaluation (acl.h). Schedules: schedule.c. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "core/error.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int gh_addr_parse(const char *s, struct gh_addr *ret)
{
	struct gh_addr a;
	memset(&a, 0, sizeof a);
	if (!s || !ret || strlen(s) >= INET6_ADDRSTRLEN)
		return GH_EINVAL;
	if (inet_pton(AF_INET, s, a.b) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, a.b) == 1) {
		a.family = 6;
		if (memcmp(a.b, v4mapped, sizeof v4mapped) == 0) {
			memmove(a.b, a.b + 12, 4);
			memset(a.b + 4, 0, 12);
			a.family = 4;
		}
	} else {
		return GH_EINVAL;
	}
	*ret = a;
	return 0;
}

static void clear_host_bits(uint8_t *b, unsigned prefix, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit = i * 8;
		if (bit >= prefix)
			b[i] = 0;
		else if (prefix - bit < 8)
			b[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
	}
}

int gh_cidr_parse(const char *s, struct gh_cidr *ret)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	struct gh_cidr c;
	unsigned prefix = 0, max;
	size_t alen;
	bool has_prefix = false;

	memset(&c, 0, sizeof c);
	if (!s || !ret)
		return GH_EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof addr)
		return GH_EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (slash) {
		const char *p = slash + 1;
		size_t n = strlen(p);
		if (n == 0 || n > 3 || strspn(p, "0123456789") != n)
			return GH_EINVAL;
		for (size_t i = 0; i < n; i++)
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		has_prefix = true;
	}
	if (inet_pton(AF_INET, addr, c.b) == 1) {
		c.family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c.b) == 1) {
		c.family = 6;
		max = 128;
	} else {
		return GH_EINVAL;
	}
	if (!has_prefix)
		prefix = max;
	if (prefix > max)
		return GH_EINVAL;
	if (c.family == 6 && prefix >= 96 && memcmp(c.b, v4mapped, sizeof v4mapped) == 0) {
		memmove(c.b, c.b + 12, 4);
		memset(c.b + 4, 0, 12);
		c.family = 4;
		prefix -= 96;
	}
	c.prefix = prefix;
	clear_host_bits(c.b, prefix, c.family == 4 ? 4 : 16);
	*ret = c;
	return 0;
}

bool gh_cidr_match(const struct gh_cidr *c, const struct gh_addr *a)
{
	unsigned full, rest;
	if (!c || !a || c->family != a->family)
		return false;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->b, a->b, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((c->b[full] & mask) != (a->b[full] & mask))
			return false;
	}
	return true;
}

char *gh_cidr_format(const struct gh_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (!c || !inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->b, a, sizeof a))
		return buf;
	if (snprintf(buf, len, "%s/%u", a, c->prefix) < 0)
		buf[0] = '\0';
	return buf;
}

/* ---- rules ------------------------------------------------------------------ */

struct rule {
	char *name;
	enum gh_acl_action action;
	int priority;
	struct gh_cidr *src;
	size_t n_src;
	struct gh_schedule *sched;  /* NULL = always */
	size_t index;
};

struct gh_acl {
	struct rule *v;  /* sorted: priority, deny first, array order */
	size_t n;
};

struct gh_acl *gh_acl_free(struct gh_acl *acl)
{
	if (!acl)
		return NULL;
	for (size_t i = 0; i < acl->n; i++) {
		free(acl->v[i].name);
		free(acl->v[i].src);
		gh_schedule_free(acl->v[i].sched);
	}
	free(acl->v);
	free(acl);
	return NULL;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->action != y->action)
		return x->action == GH_ACL_DENY ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static void rule_err(char *err, size_t errlen, size_t i, const char *name, const char *what)
{
	if (err && errlen > 0 &&
	    snprintf(err, errlen, "rule %zu (%s): %s", i, name ? name : "", what) < 0)
		err[0] = '\0';
}

int gh_acl_new(const struct gh_acl_rule *rules, size_t n, struct gh_acl **ret, char *err,
	       size_t errlen)
{
	struct gh_acl *acl = NULL;
	int r = 0;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!ret || (n > 0 && !rules))
		return GH_EINVAL;
	acl = calloc(1, sizeof *acl);
	if (!acl)
		return GH_ENOMEM;
	if (n > 0 && !(acl->v = calloc(n, sizeof *acl->v))) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gh_acl_rule *in = &rules[i];
		struct rule *ru = &acl->v[i];
		acl->n++;
		ru->index = i;
		ru->priority = in->priority;
		ru->action = in->action;
		if (in->priority < 1 || in->priority > 100) {
			rule_err(err, errlen, i, in->name, "priority must be 1..100");
			r = GH_EINVAL;
			goto out;
		}
		if (in->action != GH_ACL_ALLOW && in->action != GH_ACL_DENY) {
			rule_err(err, errlen, i, in->name, "action must be allow or deny");
			r = GH_EINVAL;
			goto out;
		}
		if (!(ru->name = strdup(in->name ? in->name : ""))) {
			r = GH_ENOMEM;
			goto out;
		}
		if (in->n_sources > 0) {
			if (!in->sources) {
				r = GH_EINVAL;
				goto out;
			}
			if (!(ru->src = calloc(in->n_sources, sizeof *ru->src))) {
				r = GH_ENOMEM;
				goto out;
			}
			for (size_t k = 0; k < in->n_sources; k++) {
				if (gh_cidr_parse(in->sources[k], &ru->src[k]) < 0) {
					char what[96];
					if (snprintf(what, sizeof what, "bad source #%zu", k) < 0)
						what[0] = '\0';
					rule_err(err, errlen, i, in->name, what);
					r = GH_EINVAL;
					goto out;
				}
			}
			ru->n_src = in->n_sources;
		}
		if (in->schedule && in->schedule[0]) {
			char serr[160];
			serr[0] = '\0';
			if ((r = gh_schedule_parse(in->schedule, &ru->sched, serr, sizeof serr)) < 0) {
				rule_err(err, errlen, i, in->name, serr[0] ? serr : "bad schedule");
				goto out;
			}
		}
	}
	if (acl->n > 1)
		qsort(acl->v, acl->n, sizeof *acl->v, rule_cmp);
	*ret = acl;
	acl = NULL;
out:
	gh_acl_free(acl);
	return r;
}

int gh_acl_check(const struct gh_acl *acl, const struct gh_addr *addr, int64_t now,
		 struct gh_acl_decision *ret)
{
	struct gh_acl_decision d = { .allow = true, .rule = -1, .rule_name = NULL };
	if (!acl || !addr || !ret)
		return GH_EINVAL;
	for (size_t i = 0; i < acl->n; i++) {
		const struct rule *ru = &acl->v[i];
		bool src = ru->n_src == 0;
		for (size_t k = 0; k < ru->n_src && !src; k++)
			src = gh_cidr_match(&ru->src[k], addr);
		if (!src || (ru->sched && !gh_schedule_match(ru->sched, now)))
			continue;
		d.allow = ru->action == GH_ACL_ALLOW;
		d.rule = (long)ru->index;
		d.rule_name = ru->name;
		break;
	}
	*ret = d;
	return 0;
}
