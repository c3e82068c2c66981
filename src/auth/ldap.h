/* The directory client (OpenLDAP's libldap): connection, service bind,
 * user look-up and a user's own bind. No store, no audit: what the
 * directory says is applied by auth/ldapsync.h. docs/LDAP.md.
 *
 * Every connection is TLS: ldap:// with StartTLS, or ldaps://, the server
 * certificate checked against ldap_ca_file (or the system's CAs). Every
 * call is bounded by ldap_timeout (LDAP_OPT_NETWORK_TIMEOUT and
 * LDAP_OPT_TIMEOUT). Every filter value is escaped (RFC 4515). Messages
 * written into ERR never hold the bind password or a user's password. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_config;

#define GH_LDAP_ERRLEN 256

/* True when ldap_url is set. */
bool gh_ldap_enabled(const struct gh_config *cfg);

/* RFC 4515 escaping of one assertion value: '*', '(', ')', '\\', NUL and
 * every byte >= 0x80 or < 0x20 become \XX. Writes into OUT (size OUTLEN,
 * NUL-terminated); GH_ELIMIT when it does not fit. */
int gh_ldap_escape_filter_value(const char *in, char *out, size_t outlen);

/* TEMPLATE with every "%s" replaced by VALUE escaped (or, when VALUE is
 * NULL, by "*": every user). *RET is malloc'd (caller frees). GH_EINVAL
 * when the template has no "%s" or does not start with '('. */
int gh_ldap_filter_fill(const char *tmpl, const char *value, char **ret);

/* The user filter in force (ldap_user_filter, or the flavour's), borrowed. */
const char *gh_ldap_user_filter(const struct gh_config *cfg);

/* Read ldap_bind_password_file (trusted: root's (or ours), 0600, no
 * symlink; a trailing newline is not part of the password) into sodium
 * memory (*RET; free with gh_secret_free from vault/vault.h). *RET is
 * NULL when no file is configured. WHY says what is wrong on error. */
int gh_ldap_secret_load(const struct gh_config *cfg, char **ret, char *why, size_t whylen);

/* One user as the directory has it. Every string owned. */
struct gh_ldap_entry {
	char *dn;
	char *name;         /* ldap_attr_user */
	char *display;      /* may be NULL */
	char *email;        /* may be NULL */
	char **keys;        /* sshPublicKey values ("TYPE BASE64 [COMMENT]") */
	size_t n_keys;
	char **groups;      /* DNs of the directory groups holding the user */
	size_t n_groups;
	bool disabled;      /* userAccountControl 0x2 (ad), pwdAccountLockedTime (openldap) */
	char disabled_why[64];
};
void gh_ldap_entry_clear(struct gh_ldap_entry *e);
void gh_ldap_entries_free(struct gh_ldap_entry *v, size_t n);

struct gh_ldap;

/* Connect, secure and bind as ldap_bind_dn with SECRET (anonymous when
 * no bind DN). GH_ECONN (no answer, refused, TLS), GH_ETIMEDOUT,
 * GH_EAUTH (service bind refused), GH_EINVAL (ldap_url). */
int gh_ldap_open(const struct gh_config *cfg, const char *secret, struct gh_ldap **ret, char *err,
		 size_t errlen);
struct gh_ldap *gh_ldap_close(struct gh_ldap *l);

/* The user NAME (exactly, after the directory's match) under every base
 * of ldap_user_base, with its groups. GH_ENOENT: nobody; GH_EEXIST: more
 * than one entry (refused as ambiguous). */
int gh_ldap_find_user(struct gh_ldap *l, const char *name, struct gh_ldap_entry *ret, char *err,
		      size_t errlen);

/* Every user the filter finds (paged results), with their groups. */
int gh_ldap_list_users(struct gh_ldap *l, struct gh_ldap_entry **ret, size_t *ret_n, char *err,
		       size_t errlen);

/* Bind as DN with PASSWORD on a connection of its own. 0: the directory
 * accepted it; GH_EAUTH: refused (an empty password always is: it would be
 * an unauthenticated bind); others: the directory did not answer. */
int gh_ldap_check_password(const struct gh_config *cfg, const char *dn, const char *password,
			   char *err, size_t errlen);

/* The Gatehouse groups E belongs to under ldap_group_map (and, with
 * ldap_group_by_name, the first RDN value of each group DN). *RET: array
 * of malloc'd names, caller frees (gh_ldap_strv_free). */
int gh_ldap_map_groups(const struct gh_config *cfg, const struct gh_ldap_entry *e, char ***ret,
		       size_t *ret_n);
/* True when GROUP is one whose members the directory decides: a target
 * of ldap_group_map, or any group under ldap_group_by_name. */
bool gh_ldap_group_managed(const struct gh_config *cfg, const char *group);
/* True when GROUP is a target of ldap_group_map. */
bool gh_ldap_group_mapped(const struct gh_config *cfg, const char *group);
/* Check the configuration's LDAP part (url scheme, map lines, filters). */
int gh_ldap_check_config(const struct gh_config *cfg, char *err, size_t errlen);
void gh_ldap_strv_free(char **v, size_t n);
