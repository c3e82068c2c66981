/* The directory client (see ldap.h). */
#define LDAP_DEPRECATED 0
#include "auth/ldap.h"
#include "core/config.h"
#include "core/error.h"
#include "core/safefile.h"

#include <ldap.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_MAX 4096
#define VALUE_MAX 16384    /* one attribute value we keep (a key, a name) */
#define ENTRIES_MAX 200000 /* users one listing may hold */
#define VALUES_MAX 1024    /* keys or groups of one user */

struct gh_ldap {
	LDAP *ld;
	const struct gh_config *cfg; /* borrowed */
};

bool gh_ldap_enabled(const struct gh_config *cfg)
{
	return cfg && cfg->ldap_url && cfg->ldap_url[0];
}

static bool is_ad(const struct gh_config *cfg)
{
	return cfg->ldap_flavor == GH_CONFIG_LDAP_AD;
}

static const char *attr_user(const struct gh_config *cfg)
{
	return cfg->ldap_attr_user[0] ? cfg->ldap_attr_user : is_ad(cfg) ? "sAMAccountName" : "uid";
}

static const char *attr_display(const struct gh_config *cfg)
{
	return cfg->ldap_attr_display[0] ? cfg->ldap_attr_display : is_ad(cfg) ? "displayName" : "cn";
}

const char *gh_ldap_user_filter(const struct gh_config *cfg)
{
	if (cfg->ldap_user_filter[0])
		return cfg->ldap_user_filter;
	return is_ad(cfg) ? "(&(objectClass=user)(sAMAccountName=%s))"
			  : "(&(objectClass=inetOrgPerson)(uid=%s))";
}

/* ---- filters --------------------------------------------------------------- */

int gh_ldap_escape_filter_value(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (!in || !out || outlen == 0)
		return GH_EINVAL;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool esc = *p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20 || *p >= 0x7f;
		size_t need = esc ? 3 : 1;
		if (o + need >= outlen) {
			out[0] = '\0';
			return GH_ELIMIT;
		}
		if (esc) {
			out[o++] = '\\';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return 0;
}

int gh_ldap_filter_fill(const char *tmpl, const char *value, char **ret)
{
	char *esc = NULL;
	const char *v = "*";
	if (!tmpl || tmpl[0] != '(' || !strstr(tmpl, "%s"))
		return GH_EINVAL;
	if (value && strlen(value) > VALUE_MAX)
		return GH_ELIMIT;
	if (value) {
		size_t cap = strlen(value) * 3 + 1;
		if (!(esc = malloc(cap)))
			return GH_ENOMEM;
		gh_ldap_escape_filter_value(value, esc, cap); /* fits: 3 bytes per byte at most */
		v = esc;
	}
	size_t n = 0, vl = strlen(v);
	for (const char *p = tmpl; (p = strstr(p, "%s")); p += 2)
		n++;
	size_t len = strlen(tmpl) - 2 * n + vl * n + 1;
	char *out = malloc(len), *o = out;
	if (!out) {
		free(esc);
		return GH_ENOMEM;
	}
	for (const char *p = tmpl; *p;) {
		if (p[0] == '%' && p[1] == 's') {
			memcpy(o, v, vl);
			o += vl;
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	free(esc);
	*ret = out;
	return 0;
}

/* ---- the bind password -------------------------------------------------------- */

int gh_ldap_secret_load(const struct gh_config *cfg, char **ret, char *why, size_t whylen)
{
	char *buf = NULL, *s = NULL;
	size_t len = 0;
	char w[GH_SAFE_WHYLEN] = "";
	*ret = NULL;
	if (!cfg->ldap_bind_password_file || !cfg->ldap_bind_password_file[0])
		return 0;
	int r = gh_trusted_read(cfg->ldap_bind_password_file, SECRET_MAX, true, &buf, &len, w,
				sizeof w);
	if (r < 0) {
		snprintf(why, whylen, "ldap_bind_password_file %s: %s%s", cfg->ldap_bind_password_file,
			 r == GH_EPERM ? "refused: it " : "", w[0] ? w : gh_strerror(r));
		return r;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || memchr(buf, '\0', len) || memchr(buf, '\n', len)) {
		snprintf(why, whylen, "ldap_bind_password_file %s: %s", cfg->ldap_bind_password_file,
			 len == 0 ? "is empty" : "holds more than one line");
		r = GH_EINVAL;
		goto out;
	}
	s = sodium_malloc(len + 1);
	if (!s) {
		r = GH_ENOMEM;
		goto out;
	}
	memcpy(s, buf, len);
	s[len] = '\0';
	*ret = s;
out:
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* ---- connection ----------------------------------------------------------------- */

/* The library's words for R, plus the server's diagnostic (never a password). */
static void say_ldap(LDAP *ld, int r, const char *what, char *err, size_t errlen)
{
	char *diag = NULL;
	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	snprintf(err, errlen, "%s: %s%s%.120s%s", what, ldap_err2string(r),
		 diag && diag[0] ? " (" : "", diag ? diag : "", diag && diag[0] ? ")" : "");
	ldap_memfree(diag);
}

static int map_ldap_error(int r)
{
	switch (r) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_UNWILLING_TO_PERFORM:
		return GH_EAUTH;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return GH_ETIMEDOUT;
	case LDAP_NO_SUCH_OBJECT:
		return GH_ENOENT;
	case LDAP_NO_MEMORY:
		return GH_ENOMEM;
	default:
		return GH_ECONN;
	}
}

static int set_options(const struct gh_config *cfg, LDAP *ld)
{
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	struct timeval tv = { .tv_sec = cfg->ldap_timeout, .tv_usec = 0 };
	int r = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	if (r == LDAP_SUCCESS)
		r = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	if (r == LDAP_SUCCESS)
		r = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	if (r == LDAP_SUCCESS)
		r = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	if (r == LDAP_SUCCESS)
		r = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (r == LDAP_SUCCESS && cfg->ldap_ca_file && cfg->ldap_ca_file[0])
		r = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap_ca_file);
	if (r == LDAP_SUCCESS)
		r = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	return r;
}

/* A TLS connection to ldap_url (not bound yet). */
static int connect_tls(const struct gh_config *cfg, LDAP **ret, char *err, size_t errlen)
{
	LDAP *ld = NULL;
	const char *url = cfg->ldap_url;
	bool ldaps = !strncasecmp(url, "ldaps://", 8);
	if (!ldaps && strncasecmp(url, "ldap://", 7)) {
		snprintf(err, errlen, "ldap_url must start with ldap:// or ldaps://");
		return GH_EINVAL;
	}
	setenv("LDAPNOINIT", "1", 0); /* no ldap.conf or ~/.ldaprc: the configuration is ours */
	int r = ldap_initialize(&ld, url);
	if (r != LDAP_SUCCESS) {
		snprintf(err, errlen, "ldap_url: %s", ldap_err2string(r));
		return GH_EINVAL;
	}
	r = set_options(cfg, ld);
	if (r != LDAP_SUCCESS) {
		say_ldap(ld, r, "TLS settings", err, errlen);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return GH_EINVAL;
	}
	if (!ldaps) {
		r = ldap_start_tls_s(ld, NULL, NULL);
		if (r != LDAP_SUCCESS) {
			say_ldap(ld, r, "StartTLS", err, errlen);
			ldap_unbind_ext_s(ld, NULL, NULL);
			return r == LDAP_TIMEOUT ? GH_ETIMEDOUT : GH_ECONN;
		}
	}
	*ret = ld;
	return 0;
}

/* A simple bind as DN (NULL/"" and no password: anonymous). */
static int bind_simple(LDAP *ld, const char *dn, const char *password, char *err, size_t errlen)
{
	struct berval cred = { .bv_len = password ? strlen(password) : 0,
			       .bv_val = (char *)(password ? password : "") };
	int r = ldap_sasl_bind_s(ld, dn && dn[0] ? dn : NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				 NULL);
	if (r != LDAP_SUCCESS) {
		say_ldap(ld, r, "bind", err, errlen);
		/* ldaps:// to a dead server fails here first, with "can't contact" */
		return map_ldap_error(r);
	}
	return 0;
}

int gh_ldap_open(const struct gh_config *cfg, const char *secret, struct gh_ldap **ret, char *err,
		 size_t errlen)
{
	LDAP *ld = NULL;
	struct gh_ldap *l = NULL;
	if (!gh_ldap_enabled(cfg)) {
		snprintf(err, errlen, "ldap_url is not set");
		return GH_EINVAL;
	}
	int r = connect_tls(cfg, &ld, err, errlen);
	if (r < 0)
		return r;
	r = bind_simple(ld, cfg->ldap_bind_dn, secret, err, errlen);
	if (r < 0)
		goto out;
	l = calloc(1, sizeof *l);
	if (!l) {
		r = GH_ENOMEM;
		goto out;
	}
	l->ld = ld;
	l->cfg = cfg;
	*ret = l;
	ld = NULL;
out:
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

struct gh_ldap *gh_ldap_close(struct gh_ldap *l)
{
	if (l) {
		if (l->ld)
			ldap_unbind_ext_s(l->ld, NULL, NULL);
		free(l);
	}
	return NULL;
}

int gh_ldap_check_password(const struct gh_config *cfg, const char *dn, const char *password,
			   char *err, size_t errlen)
{
	LDAP *ld = NULL;
	if (!password || !password[0] || !dn || !dn[0]) {
		snprintf(err, errlen, "empty password");
		return GH_EAUTH;
	}
	int r = connect_tls(cfg, &ld, err, errlen);
	if (r < 0)
		return r;
	r = bind_simple(ld, dn, password, err, errlen);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* ---- entries ------------------------------------------------------------------- */

void gh_ldap_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void gh_ldap_entry_clear(struct gh_ldap_entry *e)
{
	if (!e)
		return;
	free(e->dn);
	free(e->name);
	free(e->display);
	free(e->email);
	gh_ldap_strv_free(e->keys, e->n_keys);
	gh_ldap_strv_free(e->groups, e->n_groups);
	memset(e, 0, sizeof *e);
}

void gh_ldap_entries_free(struct gh_ldap_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		gh_ldap_entry_clear(&v[i]);
	free(v);
}

/* A value we keep: bounded, no NUL byte. NULL otherwise. */
static char *value_dup(const struct berval *b)
{
	if (!b || b->bv_len == 0 || b->bv_len > VALUE_MAX || memchr(b->bv_val, '\0', b->bv_len))
		return NULL;
	return strndup(b->bv_val, b->bv_len);
}

/* Every usable value of ATTR in M appended to *V (count *N). */
static int values_all(LDAP *ld, LDAPMessage *m, const char *attr, char ***v, size_t *n)
{
	struct berval **vals = ldap_get_values_len(ld, m, attr);
	int r = 0;
	for (size_t i = 0; vals && vals[i] && *n < VALUES_MAX; i++) {
		char *s = value_dup(vals[i]);
		if (!s)
			continue;
		char **nv = realloc(*v, (*n + 1) * sizeof *nv);
		if (!nv) {
			free(s);
			r = GH_ENOMEM;
			break;
		}
		*v = nv;
		(*v)[(*n)++] = s;
	}
	ldap_value_free_len(vals);
	return r;
}

static char *value_first(LDAP *ld, LDAPMessage *m, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, m, attr);
	char *s = vals && vals[0] ? value_dup(vals[0]) : NULL;
	ldap_value_free_len(vals);
	return s;
}

/* The directory's disabled flag of M, by flavour. */
static void entry_disabled(const struct gh_config *cfg, LDAP *ld, LDAPMessage *m,
			   struct gh_ldap_entry *e)
{
	char *v = value_first(ld, m, is_ad(cfg) ? "userAccountControl" : "pwdAccountLockedTime");
	if (!v)
		return;
	if (is_ad(cfg)) {
		char *end = NULL;
		long long uac = strtoll(v, &end, 10);
		if (end == v || *end) { /* unreadable: fail closed */
			e->disabled = true;
			snprintf(e->disabled_why, sizeof e->disabled_why, "userAccountControl unreadable");
		} else if (uac & 0x2) {
			e->disabled = true;
			snprintf(e->disabled_why, sizeof e->disabled_why, "userAccountControl %lld", uac);
		}
	} else {
		e->disabled = true;
		snprintf(e->disabled_why, sizeof e->disabled_why, "pwdAccountLockedTime set");
	}
	free(v);
}

static int entry_decode(const struct gh_config *cfg, LDAP *ld, LDAPMessage *m,
			struct gh_ldap_entry *e)
{
	char *dn = ldap_get_dn(ld, m);
	int r = 0;
	memset(e, 0, sizeof *e);
	if (dn)
		e->dn = strdup(dn);
	ldap_memfree(dn);
	e->name = value_first(ld, m, attr_user(cfg));
	if (!e->dn || !e->name) {
		gh_ldap_entry_clear(e);
		return GH_EINVAL; /* no name: not a user we can have */
	}
	e->display = value_first(ld, m, attr_display(cfg));
	e->email = cfg->ldap_attr_email[0] ? value_first(ld, m, cfg->ldap_attr_email) : NULL;
	if (cfg->ldap_attr_ssh_key[0])
		r = values_all(ld, m, cfg->ldap_attr_ssh_key, &e->keys, &e->n_keys);
	if (r == 0 && is_ad(cfg))
		r = values_all(ld, m, "memberOf", &e->groups, &e->n_groups);
	entry_disabled(cfg, ld, m, e);
	if (r < 0)
		gh_ldap_entry_clear(e);
	return r;
}

/* ---- searches ------------------------------------------------------------------ */

typedef int (*entry_fn)(struct gh_ldap *l, LDAPMessage *m, void *ud);

/* One page of a paged search; *COOKIE is replaced by the next page's. */
static int search_page(struct gh_ldap *l, const char *base, const char *filter, char **attrs,
		       struct berval *cookie, entry_fn fn, void *ud, char *err, size_t errlen)
{
	LDAPControl *pc = NULL, **rctrls = NULL;
	LDAPMessage *res = NULL;
	struct timeval tv = { .tv_sec = l->cfg->ldap_timeout, .tv_usec = 0 };
	int code = 0;
	int r = ldap_create_page_control(l->ld, l->cfg->ldap_page_size, cookie, 0, &pc);
	if (r != LDAP_SUCCESS) {
		say_ldap(l->ld, r, "paged results", err, errlen);
		return GH_ENOMEM;
	}
	LDAPControl *ctrls[] = { pc, NULL };
	r = ldap_search_ext_s(l->ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL, &tv,
			      0, &res);
	ldap_control_free(pc);
	ber_memfree(cookie->bv_val);
	*cookie = (struct berval){ 0 };
	if (r != LDAP_SUCCESS && r != LDAP_NO_SUCH_OBJECT) {
		say_ldap(l->ld, r, "search", err, errlen);
		r = map_ldap_error(r);
		goto out;
	}
	r = 0;
	for (LDAPMessage *m = ldap_first_entry(l->ld, res); m && r == 0; m = ldap_next_entry(l->ld, m))
		r = fn(l, m, ud);
	if (r == 0 && res && ldap_parse_result(l->ld, res, &code, NULL, NULL, NULL, &rctrls, 0) ==
				     LDAP_SUCCESS) {
		LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
		ber_int_t count = 0;
		if (c)
			ldap_parse_pageresponse_control(l->ld, c, &count, cookie);
	}
out:
	ldap_controls_free(rctrls);
	ldap_msgfree(res);
	return r;
}

/* Every entry under BASE matching FILTER, page by page (LDAP_CONTROL_PAGEDRESULTS). */
static int search_all(struct gh_ldap *l, const char *base, const char *filter, char **attrs,
		      entry_fn fn, void *ud, char *err, size_t errlen)
{
	struct berval cookie = { 0 };
	int r = 0;
	do {
		r = search_page(l, base, filter, attrs, &cookie, fn, ud, err, errlen);
	} while (r == 0 && cookie.bv_len > 0);
	ber_memfree(cookie.bv_val);
	return r;
}

/* Call FN for every base of ldap_user_base ('|'-separated). */
static int each_user_base(struct gh_ldap *l, const char *filter, entry_fn fn, void *ud, char *err,
			  size_t errlen)
{
	const struct gh_config *cfg = l->cfg;
	char *attrs[] = { (char *)attr_user(cfg), (char *)attr_display(cfg),
			  cfg->ldap_attr_email[0] ? cfg->ldap_attr_email : "1.1",
			  cfg->ldap_attr_ssh_key[0] ? cfg->ldap_attr_ssh_key : "1.1",
			  is_ad(cfg) ? "memberOf" : "pwdAccountLockedTime",
			  is_ad(cfg) ? "userAccountControl" : "1.1", NULL };
	char *bases = strdup(cfg->ldap_user_base ? cfg->ldap_user_base : "");
	int r = bases ? 0 : GH_ENOMEM;
	for (char *b = bases, *next = NULL; r == 0 && b; b = next) {
		next = strchr(b, '|');
		if (next)
			*next++ = '\0';
		while (*b == ' ')
			b++;
		size_t bl = strlen(b);
		while (bl > 0 && b[bl - 1] == ' ')
			b[--bl] = '\0';
		r = search_all(l, b, filter, attrs, fn, ud, err, errlen);
	}
	free(bases);
	return r;
}

struct collect {
	struct gh_ldap_entry *v;
	size_t n;
	const char *exact; /* keep only entries with this name */
};

static int collect_entry(struct gh_ldap *l, LDAPMessage *m, void *ud)
{
	struct collect *c = ud;
	struct gh_ldap_entry e;
	if (c->n >= ENTRIES_MAX)
		return GH_ELIMIT;
	int r = entry_decode(l->cfg, l->ld, m, &e);
	if (r == GH_EINVAL)
		return 0;
	if (r < 0)
		return r;
	if (c->exact && strcmp(e.name, c->exact) != 0) {
		gh_ldap_entry_clear(&e);
		return 0;
	}
	struct gh_ldap_entry *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
	if (!nv) {
		gh_ldap_entry_clear(&e);
		return GH_ENOMEM;
	}
	c->v = nv;
	c->v[c->n++] = e;
	return 0;
}

static int add_group_dn(struct gh_ldap *l, LDAPMessage *m, void *ud)
{
	struct gh_ldap_entry *e = ud;
	char *dn = ldap_get_dn(l->ld, m);
	char *s = dn ? strdup(dn) : NULL;
	ldap_memfree(dn);
	char **nv = s && e->n_groups < VALUES_MAX ? realloc(e->groups, (e->n_groups + 1) * sizeof *nv)
						  : NULL;
	if (!nv) {
		free(s);
		return s ? 0 : GH_ENOMEM;
	}
	e->groups = nv;
	e->groups[e->n_groups++] = s;
	return 0;
}

/* OpenLDAP flavour: the groups under ldap_group_base whose member
 * attribute holds E's DN. (AD: memberOf came with the entry.) */
static int entry_groups(struct gh_ldap *l, struct gh_ldap_entry *e, char *err, size_t errlen)
{
	const struct gh_config *cfg = l->cfg;
	char *f = NULL, *tmpl = NULL;
	char *attrs[] = { "1.1", NULL };
	if (is_ad(cfg) || !cfg->ldap_group_base[0])
		return 0;
	if (asprintf(&tmpl, "(&%s(%s=%%s))", cfg->ldap_group_filter, cfg->ldap_group_member_attr) < 0)
		return GH_ENOMEM;
	int r = gh_ldap_filter_fill(tmpl, e->dn, &f);
	if (r == 0)
		r = search_all(l, cfg->ldap_group_base, f, attrs, add_group_dn, e, err, errlen);
	free(tmpl);
	free(f);
	return r;
}

int gh_ldap_find_user(struct gh_ldap *l, const char *name, struct gh_ldap_entry *ret, char *err,
		      size_t errlen)
{
	struct collect c = { .exact = name };
	char *filter = NULL;
	int r = name && name[0] ? gh_ldap_filter_fill(gh_ldap_user_filter(l->cfg), name, &filter) : GH_ENOENT;
	if (r == GH_EINVAL)
		snprintf(err, errlen, "ldap_user_filter must start with '(' and hold %%s");
	if (r == 0)
		r = each_user_base(l, filter, collect_entry, &c, err, errlen);
	if (r == 0 && c.n == 0) {
		snprintf(err, errlen, "no entry matches");
		r = GH_ENOENT;
	}
	if (r == 0 && c.n > 1) {
		snprintf(err, errlen, "%zu entries match: ambiguous", c.n);
		r = GH_EEXIST;
	}
	if (r == 0)
		r = entry_groups(l, &c.v[0], err, errlen);
	if (r == 0) {
		*ret = c.v[0];
		c.n = 0;
	}
	gh_ldap_entries_free(c.v, c.n);
	free(filter);
	return r;
}

int gh_ldap_list_users(struct gh_ldap *l, struct gh_ldap_entry **ret, size_t *ret_n, char *err,
		       size_t errlen)
{
	struct collect c = { 0 };
	char *filter = NULL;
	int r = gh_ldap_filter_fill(gh_ldap_user_filter(l->cfg), NULL, &filter);
	if (r == GH_EINVAL)
		snprintf(err, errlen, "ldap_user_filter must start with '(' and hold %%s");
	if (r == 0)
		r = each_user_base(l, filter, collect_entry, &c, err, errlen);
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = entry_groups(l, &c.v[i], err, errlen);
	if (r == 0) {
		*ret = c.v;
		*ret_n = c.n;
	} else {
		gh_ldap_entries_free(c.v, c.n);
	}
	free(filter);
	return r;
}

/* ---- group mapping ---------------------------------------------------------------- */

/* DN in a canonical form for comparing (case folded by the caller). */
static char *dn_norm(const char *dn)
{
	char *out = NULL;
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NULL;
	char *s = out ? strdup(out) : NULL;
	ldap_memfree(out);
	return s;
}

static bool dn_equal(const char *a, const char *b)
{
	char *na = dn_norm(a), *nb = dn_norm(b);
	bool eq = na && nb && strcasecmp(na, nb) == 0;
	free(na);
	free(nb);
	return eq;
}

/* One "DN => group" line of ldap_group_map (LINE, LEN) into DN and GROUP. */
static int map_line(const char *line, size_t len, char *dn, size_t dnlen, char *group,
		    size_t grouplen)
{
	const char *arrow = NULL;
	for (const char *p = line; p + 1 < line + len; p++)
		if (p[0] == '=' && p[1] == '>')
			arrow = p;
	if (!arrow)
		return GH_EINVAL;
	const char *d = line, *de = arrow, *g = arrow + 2, *ge = line + len;
	while (d < de && de[-1] == ' ')
		de--;
	while (g < ge && *g == ' ')
		g++;
	while (ge > g && ge[-1] == ' ')
		ge--;
	if (de == d || ge == g || (size_t)(de - d) >= dnlen || (size_t)(ge - g) >= grouplen)
		return GH_EINVAL;
	snprintf(dn, dnlen, "%.*s", (int)(de - d), d);
	snprintf(group, grouplen, "%.*s", (int)(ge - g), g);
	return 0;
}

typedef int (*map_fn)(const char *dn, const char *group, void *ud);

static int each_map(const struct gh_config *cfg, map_fn fn, void *ud)
{
	char dn[1024], group[256];
	const char *p = cfg->ldap_group_map ? cfg->ldap_group_map : "";
	int r = 0;
	while (*p && r == 0) {
		size_t n = strcspn(p, "\n");
		r = map_line(p, n, dn, sizeof dn, group, sizeof group);
		if (r == 0)
			r = fn(dn, group, ud);
		p += n + (p[n] == '\n');
	}
	return r;
}

static int push_name(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return 0;
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return GH_ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return GH_ENOMEM;
	(*n)++;
	return 0;
}

struct map_ctx {
	const struct gh_ldap_entry *e;
	char **v;
	size_t n;
	const char *group; /* gh_ldap_group_managed */
	bool found;
};

static int map_match(const char *dn, const char *group, void *ud)
{
	struct map_ctx *m = ud;
	for (size_t i = 0; i < m->e->n_groups; i++)
		if (dn_equal(dn, m->e->groups[i]))
			return push_name(&m->v, &m->n, group);
	return 0;
}

/* The value of the first RDN of DN ("ops" of "cn=ops,ou=groups,..."). */
static int rdn_value(const char *dn, char *out, size_t outlen)
{
	LDAPDN parsed = NULL;
	int r = GH_EINVAL;
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		return GH_EINVAL;
	if (parsed && parsed[0] && parsed[0][0]) {
		struct berval *v = &parsed[0][0]->la_value;
		if (v->bv_len > 0 && v->bv_len < outlen && !memchr(v->bv_val, '\0', v->bv_len)) {
			snprintf(out, outlen, "%.*s", (int)v->bv_len, v->bv_val);
			r = 0;
		}
	}
	ldap_dnfree(parsed);
	return r;
}

int gh_ldap_map_groups(const struct gh_config *cfg, const struct gh_ldap_entry *e, char ***ret,
		       size_t *ret_n)
{
	struct map_ctx m = { .e = e };
	char name[256];
	int r = each_map(cfg, map_match, &m);
	for (size_t i = 0; r == 0 && cfg->ldap_group_by_name && i < e->n_groups; i++)
		if (rdn_value(e->groups[i], name, sizeof name) == 0)
			r = push_name(&m.v, &m.n, name);
	if (r < 0) {
		gh_ldap_strv_free(m.v, m.n);
		return r;
	}
	*ret = m.v;
	*ret_n = m.n;
	return 0;
}

static int map_target(const char *dn, const char *group, void *ud)
{
	struct map_ctx *m = ud;
	m->found |= !strcmp(group, m->group);
	return 0;
}

bool gh_ldap_group_mapped(const struct gh_config *cfg, const char *group)
{
	struct map_ctx m = { .group = group };
	each_map(cfg, map_target, &m);
	return m.found;
}

bool gh_ldap_group_managed(const struct gh_config *cfg, const char *group)
{
	return cfg->ldap_group_by_name || gh_ldap_group_mapped(cfg, group);
}

static int map_check(const char *dn, const char *group, void *ud)
{
	char *n = dn_norm(dn);
	free(n);
	return n ? 0 : GH_EINVAL;
}

int gh_ldap_check_config(const struct gh_config *cfg, char *err, size_t errlen)
{
	char *f = NULL;
	if (!gh_ldap_enabled(cfg))
		return 0;
	if (strncasecmp(cfg->ldap_url, "ldap://", 7) && strncasecmp(cfg->ldap_url, "ldaps://", 8)) {
		snprintf(err, errlen, "ldap_url must start with ldap:// or ldaps://");
		return GH_EINVAL;
	}
	if (!cfg->ldap_user_base[0]) {
		snprintf(err, errlen, "ldap_user_base is not set");
		return GH_EINVAL;
	}
	int r = gh_ldap_filter_fill(gh_ldap_user_filter(cfg), "x", &f);
	free(f);
	if (r < 0) {
		snprintf(err, errlen, "ldap_user_filter must start with '(' and hold %%s");
		return r;
	}
	if (each_map(cfg, map_check, NULL) < 0) {
		snprintf(err, errlen, "ldap_group_map: expected 'DN => group' lines with a valid DN");
		return GH_EINVAL;
	}
	return 0;
}
