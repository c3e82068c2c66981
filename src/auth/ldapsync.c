/* The directory's users applied to the store (see ldapsync.h). */
#include "auth/ldapsync.h"
#include "app/app.h"
#include "audit/audit.h"
#include "auth/ldap.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/ldap.h"
#include "store/store.h"
#include "vault/vault.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One synchronisation's state: where changes are said and filed. */
struct sync {
	struct gh_app *app;
	struct gh_store *st;
	bool dry;
	FILE *out;
	const char *via;  /* "sync" | "login": the event's source */
	int changes;
};

int gh_ldap_prepare(struct gh_app *app, char *why, size_t whylen)
{
	char *s = NULL;
	if (!gh_ldap_enabled(&app->cfg))
		return 0;
	int r = gh_ldap_check_config(&app->cfg, why, whylen);
	if (r == 0)
		r = gh_ldap_secret_load(&app->cfg, &s, why, whylen);
	if (r < 0)
		return r;
	gh_secret_free(app->ldap_secret);
	app->ldap_secret = s;
	return 0;
}

/* Say (and, unless a dry run, file) one change: WHAT "ldap user add",
 * DETAIL names only. Called after the change was made. */
static void said(struct sync *s, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void said(struct sync *s, const char *what, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	s->changes++;
	if (s->out)
		fprintf(s->out, "%s%s: %s\n", s->dry ? "would " : "", what, detail);
	if (s->dry)
		return;
	struct gh_audit_who w = { .user = "ldap", .source = s->via };
	if (gh_audit_change(s->st, &w, what, true, detail) < 0)
		gh_warn("ldap: the change '%s' could not be audited", what);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The user row of E: created when absent (*RET_NEW), refused when local. */
static int user_row(struct sync *s, const struct gh_ldap_entry *e, struct gh_user *u, bool *ret_new)
{
	char esc[512];
	*ret_new = false;
	int r = gh_store_user_get(s->st, e->name, u);
	if (r == 0 && !u->ldap) {
		if (s->out)
			fprintf(s->out, "skipped %s: a local user of that name exists\n",
				gh_escape(esc, sizeof esc, e->name));
		gh_user_free(u);
		return GH_EEXIST;
	}
	if (r != GH_ENOENT)
		return r;
	if (!gh_valid_name(e->name)) {
		if (s->out)
			fprintf(s->out, "skipped %s: not a valid Gatehouse user name\n",
				gh_escape(esc, sizeof esc, e->name));
		return GH_EINVAL;
	}
	if (e->disabled) {
		if (s->out)
			fprintf(s->out, "skipped %s: disabled in the directory (%s)\n",
				gh_escape(esc, sizeof esc, e->name), e->disabled_why);
		return GH_EPERM;
	}
	*ret_new = true;
	memset(u, 0, sizeof *u);
	if (!s->dry) {
		r = gh_store_user_add(s->st, e->name, GH_ROLE_USER, NULL, &u->id);
		if (r < 0)
			return r;
		struct gh_ldap_row row = { .dn = e->dn };
		if ((r = gh_store_ldap_set(s->st, u->id, &row)) < 0)
			return r;
		if ((r = gh_store_user_get_by_id(s->st, u->id, u)) < 0)
			return r;
	}
	said(s, "ldap user add", "\"%s\" dn=\"%s\"", gh_escape(esc, sizeof esc, e->name), e->dn);
	return 0;
}

/* DN, names and the directory's disabled flag. */
static int user_attrs(struct sync *s, const struct gh_ldap_entry *e, struct gh_user *u, bool fresh)
{
	struct gh_ldap_row old = { 0 };
	char esc[512];
	int r = u->id ? gh_store_ldap_get(s->st, u->id, &old) : GH_ENOENT;
	if (r < 0 && r != GH_ENOENT)
		return r;
	gh_escape(esc, sizeof esc, e->name);
	struct gh_ldap_row row = { .dn = e->dn, .display_name = e->display, .email = e->email,
				   .dir_disabled = old.dir_disabled };
	bool changed = !same_str(old.dn, e->dn) || !same_str(old.display_name, e->display) ||
		       !same_str(old.email, e->email);
	bool disable = e->disabled && !u->disabled;
	bool enable = !e->disabled && u->disabled && old.dir_disabled;
	row.dir_disabled = disable ? true : enable ? false : old.dir_disabled;
	r = 0;
	if (!s->dry && u->id)
		r = gh_store_ldap_set(s->st, u->id, &row);
	if (r == 0 && (disable || enable) && !s->dry)
		r = gh_store_user_set_disabled(s->st, u->id, disable);
	if (r == 0 && changed && !fresh)
		said(s, "ldap user update", "\"%s\" dn=\"%s\"", esc, e->dn);
	if (r == 0 && disable)
		said(s, "ldap user disable", "\"%s\" (%s)", esc, e->disabled_why);
	if (r == 0 && enable)
		said(s, "ldap user enable", "\"%s\"", esc);
	if (r == 0)
		u->disabled = disable ? true : enable ? false : u->disabled;
	gh_ldap_row_clear(&old);
	return r;
}

static bool key_listed(const struct gh_pubkey *want, size_t n, const char *type, const char *b64)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(want[i].type, type) && !strcmp(want[i].base64, b64))
			return true;
	return false;
}

/* The user's keys become the directory's sshPublicKey values. */
static int user_keys(struct sync *s, const struct gh_ldap_entry *e, const struct gh_user *u)
{
	struct gh_pubkey *want = calloc(e->n_keys + 1, sizeof *want);
	struct gh_user_key *have = NULL;
	size_t nw = 0, nh = 0;
	char err[256], esc[512];
	int r = want ? 0 : GH_ENOMEM;
	for (size_t i = 0; r == 0 && i < e->n_keys; i++)
		if (gh_pubkey_parse_line(e->keys[i], &want[nw], err, sizeof err) == 0)
			nw++;
	if (r == 0 && u->id)
		r = gh_store_key_list(s->st, u->id, &have, &nh);
	gh_escape(esc, sizeof esc, e->name);
	for (size_t i = 0; r == 0 && i < nh; i++) {
		if (key_listed(want, nw, have[i].type, have[i].base64))
			continue;
		if (!s->dry)
			r = gh_store_key_del(s->st, u->id, have[i].fingerprint);
		if (r == 0)
			said(s, "ldap user key del", "\"%s\" %s", esc, have[i].fingerprint);
	}
	for (size_t i = 0; r == 0 && i < nw; i++) {
		bool known = false;
		for (size_t j = 0; j < nh && !known; j++)
			known = !strcmp(have[j].type, want[i].type) &&
				!strcmp(have[j].base64, want[i].base64);
		for (size_t j = 0; j < i && !known; j++) /* listed twice */
			known = !strcmp(want[j].fingerprint, want[i].fingerprint);
		if (known)
			continue;
		struct gh_user_key k = { .user_id = u->id, .type = want[i].type,
					 .base64 = want[i].base64, .comment = want[i].comment,
					 .fingerprint = want[i].fingerprint };
		if (!s->dry)
			r = gh_store_key_add(s->st, &k, NULL);
		if (r == 0)
			said(s, "ldap user key add", "\"%s\" %s", esc, want[i].fingerprint);
	}
	for (size_t i = 0; want && i < nw; i++)
		gh_pubkey_clear(&want[i]);
	free(want);
	gh_user_keys_free(have, nh);
	return r;
}

static bool in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Add U to the group NAME (created when absent and named by ldap_group_map). */
static int group_join(struct sync *s, const struct gh_user *u, const char *name, const char *esc)
{
	struct gh_group g = { 0 };
	int r = gh_store_group_get(s->st, name, &g);
	if (r == GH_ENOENT && !gh_ldap_group_mapped(&s->app->cfg, name))
		return 0; /* by name: only groups that exist */
	if (r == GH_ENOENT) {
		r = s->dry ? 0 : gh_store_group_add(s->st, name, &g.id);
		if (r == 0)
			said(s, "ldap group add", "\"%s\"", name);
	}
	if (r == 0 && !s->dry)
		r = gh_store_group_member_add(s->st, g.id, u->id);
	if (r == 0)
		said(s, "ldap group member add", "\"%s\" \"%s\"", name, esc);
	gh_group_free(&g);
	return r;
}

/* Memberships of the groups the directory decides become what it says. */
static int user_groups(struct sync *s, const struct gh_ldap_entry *e, const struct gh_user *u)
{
	char **want = NULL;
	size_t nw = 0, ng = 0, nh = 0;
	struct gh_group *groups = NULL;
	int64_t *have = NULL;
	char esc[512];
	int r = gh_ldap_map_groups(&s->app->cfg, e, &want, &nw);
	if (r == 0)
		r = gh_store_group_list(s->st, &groups, &ng);
	if (r == 0 && u->id)
		r = gh_store_user_groups(s->st, u->id, &have, &nh);
	gh_escape(esc, sizeof esc, e->name);
	char **cur = calloc(nh + 1, sizeof *cur); /* borrowed names of HAVE */
	if (r == 0 && !cur)
		r = GH_ENOMEM;
	for (size_t i = 0; r == 0 && i < nh; i++)
		for (size_t j = 0; j < ng; j++)
			if (groups[j].id == have[i])
				cur[i] = groups[j].name;
	for (size_t i = 0; r == 0 && i < nh; i++) {
		if (!cur[i] || in_list(want, nw, cur[i]) || !gh_ldap_group_managed(&s->app->cfg, cur[i]))
			continue;
		if (!s->dry)
			r = gh_store_group_member_del(s->st, have[i], u->id);
		if (r == 0)
			said(s, "ldap group member del", "\"%s\" \"%s\"", cur[i], esc);
	}
	for (size_t i = 0; r == 0 && i < nw; i++)
		if (!in_list(cur, nh, want[i]))
			r = group_join(s, u, want[i], esc);
	free(cur);
	free(have);
	gh_groups_free(groups, ng);
	gh_ldap_strv_free(want, nw);
	return r;
}

/* Everything the directory says of E, applied. */
static int apply_entry(struct sync *s, const struct gh_ldap_entry *e)
{
	struct gh_user u = { 0 };
	bool fresh = false;
	int r = user_row(s, e, &u, &fresh);
	if (r < 0)
		return r;
	if (r == 0)
		r = user_attrs(s, e, &u, fresh);
	if (r == 0)
		r = user_keys(s, e, &u);
	if (r == 0)
		r = user_groups(s, e, &u);
	gh_user_free(&u);
	return r;
}

/* The LDAP user U is no longer in the directory: disabled, kept. */
static int user_gone(struct sync *s, const struct gh_user *u)
{
	struct gh_ldap_row row = { 0 };
	char esc[512];
	if (u->disabled)
		return 0;
	int r = gh_store_ldap_get(s->st, u->id, &row);
	if (r < 0)
		return r;
	row.dir_disabled = true;
	if (!s->dry) {
		r = gh_store_ldap_set(s->st, u->id, &row);
		if (r == 0)
			r = gh_store_user_set_disabled(s->st, u->id, true);
	}
	if (r == 0)
		said(s, "ldap user disable", "\"%s\" (gone from the directory)",
		     gh_escape(esc, sizeof esc, u->name));
	gh_ldap_row_clear(&row);
	return r;
}

/* ---- at login ---------------------------------------------------------------------- */

static const char *dir_reason(int r)
{
	return r == GH_ENOENT ? "not in directory" : r == GH_EEXIST ? "ambiguous in directory"
									: "directory unavailable";
}

const char *gh_ldap_login_refresh(struct gh_app *app, struct gh_store *st, const char *name)
{
	struct gh_user u = { 0 };
	struct gh_ldap *l = NULL;
	struct gh_ldap_entry e = { 0 };
	char err[GH_LDAP_ERRLEN] = "", esc[512], eerr[GH_LDAP_ERRLEN * 4];
	const char *why = NULL;
	int r = gh_store_user_get(st, name, &u);
	bool known = r == 0;
	if ((r < 0 && r != GH_ENOENT) || (known && !u.ldap))
		goto out; /* a local user (or the store's error, said by the caller) */
	if (!gh_ldap_enabled(&app->cfg)) {
		why = known ? "directory not configured" : NULL;
		goto out;
	}
	r = gh_ldap_open(&app->cfg, app->ldap_secret, &l, err, sizeof err);
	if (r == 0)
		r = gh_ldap_find_user(l, name, &e, err, sizeof err);
	if (r < 0) {
		why = !known && (r == GH_ENOENT || r == GH_EEXIST) ? "unknown user" : dir_reason(r);
		if (r != GH_ENOENT)
			gh_warn("ldap: looking up %s: %s", gh_escape(esc, sizeof esc, name),
				gh_escape(eerr, sizeof eerr, err));
		struct sync s = { .app = app, .st = st, .via = "login" };
		if (known && r == GH_ENOENT)
			user_gone(&s, &u);
		goto out;
	}
	struct sync s = { .app = app, .st = st, .via = "login" };
	r = apply_entry(&s, &e);
	if (r < 0)
		why = r == GH_EPERM ? "disabled" : r == GH_EEXIST || r == GH_EINVAL ? "unknown user"
										      : "store error";
out:
	gh_ldap_entry_clear(&e);
	gh_ldap_close(l);
	gh_user_free(&u);
	return why;
}

int gh_ldap_login_password(struct gh_app *app, struct gh_store *st, const struct gh_user *u,
			   const char *password, const char **ret_why)
{
	struct gh_ldap_row row = { 0 };
	char err[GH_LDAP_ERRLEN] = "", eerr[GH_LDAP_ERRLEN * 4];
	int r = gh_store_ldap_get(st, u->id, &row);
	if (r == 0 && !gh_ldap_enabled(&app->cfg))
		r = GH_ECONN;
	if (r == 0)
		r = gh_ldap_check_password(&app->cfg, row.dn, password, err, sizeof err);
	if (r < 0 && r != GH_EAUTH)
		gh_warn("ldap: bind as %s: %s", u->name, gh_escape(eerr, sizeof eerr, err));
	*ret_why = r == 0 ? NULL : r == GH_EAUTH ? "bad password" : "directory unavailable";
	gh_ldap_row_clear(&row);
	return r;
}

/* ---- full synchronisation ----------------------------------------------------------- */

static bool listed(const struct gh_ldap_entry *v, size_t n, const char *name, size_t *count)
{
	*count = 0;
	for (size_t i = 0; i < n; i++)
		*count += !strcmp(v[i].name, name);
	return *count > 0;
}

/* The LDAP users of the store that the directory does not list: disabled. */
static int sync_gone(struct sync *s, const struct gh_ldap_entry *v, size_t n)
{
	struct gh_user *users = NULL;
	size_t nu = 0, count = 0;
	int r = gh_store_user_list(s->st, &users, &nu);
	for (size_t i = 0; r == 0 && i < nu; i++)
		if (users[i].ldap && !listed(v, n, users[i].name, &count))
			r = user_gone(s, &users[i]);
	gh_users_free(users, nu);
	return r;
}

int gh_ldap_sync(struct gh_app *app, struct gh_store *st, bool dry_run, FILE *out, char *err,
		 size_t errlen)
{
	struct gh_ldap *l = NULL;
	struct gh_ldap_entry *v = NULL;
	size_t n = 0, count = 0;
	struct sync s = { .app = app, .st = st, .dry = dry_run, .out = out, .via = "sync" };
	char esc[512];
	int r = gh_ldap_open(&app->cfg, app->ldap_secret, &l, err, errlen);
	if (r == 0)
		r = gh_ldap_list_users(l, &v, &n, err, errlen);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (listed(v, n, v[i].name, &count) && count > 1) {
			if (out)
				fprintf(out, "skipped %s: %zu directory entries hold that name\n",
					gh_escape(esc, sizeof esc, v[i].name), count);
			continue;
		}
		int a = apply_entry(&s, &v[i]);
		if (a < 0 && a != GH_EEXIST && a != GH_EINVAL && a != GH_EPERM) {
			snprintf(err, errlen, "%s: %s", gh_escape(esc, sizeof esc, v[i].name),
				 gh_strerror(a));
			r = a;
		}
	}
	if (r == 0) /* only after a complete listing: a failed one disables nobody */
		r = sync_gone(&s, v, n);
	if (r == 0 && out)
		fprintf(out, "ldap sync: %zu directory user%s, %d change%s%s\n", n, n == 1 ? "" : "s",
			s.changes, s.changes == 1 ? "" : "s", dry_run ? " (dry run: none made)" : "");
	gh_ldap_entries_free(v, n);
	gh_ldap_close(l);
	return r;
}

/* ---- the periodic process ------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

bool gh_ldap_sync_wanted(const struct gh_app *app)
{
	return gh_ldap_enabled(&app->cfg) && app->cfg.ldap_sync_interval > 0;
}

int gh_ldap_sync_run(struct gh_app *app)
{
	struct gh_store *st = NULL;
	char err[GH_LDAP_ERRLEN], eerr[GH_LDAP_ERRLEN * 4];
	int r = gh_app_helper_start(app, "ldap", on_term, &st);
	if (r < 0)
		return 1;
	gh_info("ldap: syncing every %d s", app->cfg.ldap_sync_interval);
	while (!stop_flag) {
		r = gh_ldap_sync(app, st, false, NULL, err, sizeof err);
		if (r < 0)
			gh_warn("ldap: sync failed: %s", gh_escape(eerr, sizeof eerr, err));
		struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
		for (int i = 0; i < app->cfg.ldap_sync_interval && !stop_flag; i++)
			nanosleep(&ts, NULL);
	}
	gh_store_close(st);
	return 0;
}
