/* Login ACL and second factor at login (loginpolicy.h). */
#include "ssh/loginpolicy.h"
#include "auth/acl.h"
#include "auth/totp.h"
#include "core/config.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"
#include "vault/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTP_WINDOW 1

/* ---- login ACL ------------------------------------------------------------------ */

static bool has_id(const int64_t *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* Does rule A name user UID or one of GROUPS? */
static bool applies(const struct gh_loginacl *a, int64_t uid, const int64_t *groups, size_t ng)
{
	if (has_id(a->user_ids, a->n_users, uid))
		return true;
	for (size_t i = 0; i < ng; i++)
		if (has_id(a->group_ids, a->n_groups, groups[i]))
			return true;
	return false;
}

/* After a refusal: would an allow rule have let the login in but for its
 * schedule? Then say so (" (outside schedule of rule NAME)") for admins. */
static void outside_schedule(struct gh_acl_rule *rules, size_t n, const struct gh_addr *addr,
			     int64_t now, char *buf, size_t len)
{
	struct gh_acl *acl = NULL;
	struct gh_acl_decision d;
	const char **saved = calloc(n ? n : 1, sizeof *saved);
	if (!saved)
		return;
	for (size_t i = 0; i < n; i++) {
		saved[i] = rules[i].schedule;
		if (rules[i].action == GH_ACL_ALLOW)
			rules[i].schedule = NULL;
	}
	if (gh_acl_new(rules, n, &acl, NULL, 0) == 0 && gh_acl_check(acl, addr, now, &d) == 0 &&
	    d.allow && d.rule >= 0 && saved[d.rule] && saved[d.rule][0]) {
		char esc[160];
		snprintf(buf, len, " (outside schedule of rule %s)",
			 gh_escape(esc, sizeof esc, d.rule_name));
	}
	for (size_t i = 0; i < n; i++)
		rules[i].schedule = saved[i];
	gh_acl_free(acl);
	free(saved);
}

int gh_login_acl_check(struct gh_store *st, const struct gh_user *u, const char *peer_ip,
		       int64_t now, char *reason, size_t reasonlen)
{
	struct gh_loginacl *v = NULL;
	struct gh_acl_rule *rules = NULL;
	struct gh_acl *acl = NULL;
	int64_t *groups = NULL;
	size_t n = 0, ng = 0, nr = 0;
	char err[256] = "";
	int r;

	snprintf(reason, reasonlen, "acl error");
	if ((r = gh_store_loginacl_list(st, &v, &n)) < 0 ||
	    (r = gh_store_user_groups(st, u->id, &groups, &ng)) < 0)
		goto out;
	if (n && !(rules = calloc(n, sizeof *rules))) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!applies(&v[i], u->id, groups, ng))
			continue;
		rules[nr++] = (struct gh_acl_rule){ .name = v[i].name,
						    .action = v[i].action == GH_ACL_DENY ? GH_ACL_DENY
											  : GH_ACL_ALLOW,
						    .priority = v[i].priority,
						    .sources = (const char *const *)v[i].sources,
						    .n_sources = v[i].n_sources,
						    .schedule = v[i].schedule };
	}
	if (nr == 0) {
		r = 0; /* no rule for this user: the ACL does not narrow */
		goto out;
	}
	if ((r = gh_acl_new(rules, nr, &acl, err, sizeof err)) < 0) {
		char esc[200];
		snprintf(reason, reasonlen, "acl error: %s", gh_escape(esc, sizeof esc, err));
		goto out;
	}
	struct gh_addr addr;
	if ((r = gh_addr_parse(peer_ip, &addr)) < 0) {
		snprintf(reason, reasonlen, "acl error: unparsable source address");
		goto out;
	}
	struct gh_acl_decision d;
	if ((r = gh_acl_check(acl, &addr, now, &d)) < 0)
		goto out;
	if (!d.allow) {
		char esc[160], why[200] = "";
		outside_schedule(rules, nr, &addr, now, why, sizeof why);
		snprintf(reason, reasonlen, "acl deny rule=%s%s",
			 gh_escape(esc, sizeof esc, d.rule_name ? d.rule_name : "?"), why);
		r = GH_EPERM;
	}
out:
	if (r == 0 && reasonlen)
		reason[0] = '\0';
	gh_acl_free(acl);
	free(rules);
	free(groups);
	gh_loginacls_free(v, n);
	return r;
}

/* ---- second factor ------------------------------------------------------------------ */

int gh_mfa_needed(const struct gh_config *cfg, struct gh_store *st, const struct gh_user *u,
		  bool *ret)
{
	struct gh_user_mfa m;
	int r = gh_store_user_mfa_get(st, u->id, &m);
	if (r < 0)
		return r;
	*ret = u->totp_sealed != NULL || m.mode == GH_MFA_REQUIRED ||
	       cfg->mfa == GH_CONFIG_MFA_ALL ||
	       (cfg->mfa == GH_CONFIG_MFA_ADMINS && u->role == GH_ROLE_ADMIN);
	return 0;
}

void gh_mfa_clear(struct gh_mfa *m)
{
	if (m->secret)
		sodium_free(m->secret);
	memset(m, 0, sizeof *m);
}

int gh_mfa_start(struct gh_mfa *m, struct gh_vault *v, const struct gh_user *u)
{
	char ad[128];
	int r;

	gh_mfa_clear(m);
	m->user_id = u->id;
	if (!(m->secret = sodium_malloc(GH_TOTP_MAX_SECRET)))
		return GH_ENOMEM;
	if (!u->totp_sealed) {
		m->enrol = true;
		m->secret_len = GH_TOTP_SECRET_LEN;
		r = gh_totp_secret_generate(m->secret, m->secret_len);
	} else {
		char *pt = NULL;
		size_t len = 0;
		if (!v)
			return GH_EKEY;
		r = gh_vault_unseal(v, u->totp_sealed, u->totp_sealed_len,
				    gh_vault_ad_totp(ad, sizeof ad, u->id), &pt, &len);
		if (r == 0 && (len == 0 || len > GH_TOTP_MAX_SECRET))
			r = GH_ECRYPTO;
		if (r == 0) {
			memcpy(m->secret, pt, len);
			m->secret_len = len;
		}
		gh_secret_free(pt);
	}
	if (r < 0) {
		gh_mfa_clear(m);
		return r;
	}
	m->active = true;
	return 0;
}

void gh_mfa_text_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

#define PROMPT "Verification code: "

int gh_mfa_challenge(const struct gh_mfa *m, const char *account, char **ret_instruction,
		     char **ret_prompt)
{
	char b32[GH_TOTP_MAX_SECRET * 8 / 5 + 2];
	char *uri = NULL, *qr = NULL, *inst = NULL, *prompt = NULL;
	size_t blen = 0;
	int r;

	if (!m->secret)
		return GH_EINVAL;
	if (!m->enrol) {
		inst = strdup("");
		prompt = strdup(PROMPT);
		r = inst && prompt ? 0 : GH_ENOMEM;
		goto out;
	}
	if ((r = gh_base32_encode(m->secret, m->secret_len, b32, sizeof b32, &blen)) < 0 ||
	    (r = gh_totp_uri(account, m->secret, m->secret_len, &uri)) < 0)
		goto out;
	/* the QR code is a convenience: the secret and URI do without it */
	if (gh_totp_qr_render(uri, false, &qr, NULL, NULL) < 0)
		qr = NULL;
	r = GH_ENOMEM;
	if (asprintf(&inst,
		     "Two-factor authentication is required: enrol now.\n"
		     "Add this account to an authenticator app (TOTP, SHA1, 6 digits, 30 s):\n"
		     "secret: %s\n"
		     "uri: %s\n"
		     "then enter the current code to confirm.",
		     b32, uri) < 0) {
		inst = NULL;
		goto out;
	}
	/* clients put "(user@host) " before a prompt: start the code on a line of its own */
	if (asprintf(&prompt, "\n%s" PROMPT, qr ? qr : "") < 0) {
		prompt = NULL;
		goto out;
	}
	r = 0;
out:
	if (r == 0) {
		*ret_instruction = inst;
		*ret_prompt = prompt;
	} else {
		gh_mfa_text_free(inst);
		gh_mfa_text_free(prompt);
	}
	sodium_memzero(b32, sizeof b32);
	gh_mfa_text_free(uri);
	gh_mfa_text_free(qr);
	return r;
}

int gh_mfa_check(struct gh_mfa *m, struct gh_store *st, struct gh_vault *v, const char *code,
		 int64_t now, const char **reason)
{
	char digits[16];
	size_t k = 0;
	int64_t step = -1;
	struct gh_user_mfa um;
	int r;

	*reason = "totp error";
	if (!m->active || !m->secret)
		return GH_EINVAL;
	/* "123 456" and "123456\n" are fine; anything else is a wrong code */
	for (const char *p = code ? code : ""; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '-')
			continue;
		if (k >= sizeof digits - 1) {
			k = 0;
			break;
		}
		digits[k++] = *p;
	}
	digits[k] = '\0';
	if ((r = gh_store_user_mfa_get(st, m->user_id, &um)) < 0)
		return r;
	r = gh_totp_verify(m->secret, m->secret_len, digits, GH_TOTP_DIGITS, now, TOTP_WINDOW,
			   m->enrol ? -1 : um.last_step, &step);
	sodium_memzero(digits, sizeof digits);
	if (r == GH_EINVAL || r == GH_EAUTH) {
		*reason = "bad totp code";
		return GH_EAUTH;
	}
	if (r == GH_EPERM) {
		*reason = "totp code replayed";
		return GH_EPERM;
	}
	if (r < 0)
		return r;
	if (m->enrol) {
		uint8_t *sealed = NULL;
		size_t slen = 0;
		char ad[128];
		if (!v)
			return GH_EKEY;
		r = gh_vault_seal(v, m->secret, m->secret_len, gh_vault_ad_totp(ad, sizeof ad, m->user_id),
				  &sealed, &slen);
		if (r == 0)
			r = gh_store_user_totp_enrol(st, m->user_id, sealed, slen, step);
		free(sealed);
		if (r == 0)
			m->enrol = false;
		return r;
	}
	r = gh_store_user_totp_use(st, m->user_id, step);
	if (r == GH_EPERM)
		*reason = "totp code replayed"; /* another login used it meanwhile */
	return r;
}
