#include "core/config.h"
#include "core/configdb.h"
#include "core/error.h"
#include "core/safefile.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNSET_INT INT_MIN

/* T_LIST: a string key that may be repeated; the values joined by '\n' */
enum opt_type { T_STR, T_INT, T_BOOL, T_ENUM, T_LISTEN, T_PATH, T_LIST };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	const char *def;          /* default, as it would be written in the file */
	long min, max;            /* T_INT */
	const char *const *choices; /* T_ENUM (index stored), NULL-terminated */
};

static const char *const db_choices[] = { "sqlite", "postgresql", NULL };
static const char *const level_choices[] = { "error", "warn", "info", "debug", NULL };
static const char *const strength_choices[] = { "interactive", "moderate", "sensitive", NULL };
static const char *const facility_choices[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
	"local7", NULL };
static const char *const mfa_choices[] = { "off", "all", "admins", NULL };
/* index = enum gh_filter_action (0 "auto" = GH_FILTER_NONE) */
static const char *const dynamic_choices[] = { "auto", "accept", "warn", "review", "reject", NULL };
static const char *const ldap_flavor_choices[] = { "openldap", "ad", NULL };

#define O(f) offsetof(struct gh_config, f)
/* "@" in a default stands for the data directory. */
static const struct opt options[] = {
	{ "database", T_STR, O(database), "sqlite", 0, 0, db_choices },
	{ "database_path", T_PATH, O(database_path), "@/" GH_DB_SUBDIR "/gatehouse.db", 0, 0, NULL },
	{ "database_url", T_STR, O(database_url), "", 0, 0, NULL },
	{ "database_password_file", T_PATH, O(database_password_file), "", 0, 0, NULL },
	{ "node_name", T_STR, O(node_name), "", 0, 0, NULL },
	{ "node_timeout", T_INT, O(node_timeout), "30", 5, 3600, NULL },
	{ "store_busy_timeout_ms", T_INT, O(store_busy_timeout_ms), "10000", 10, 600000, NULL },
	{ "recordings_dir", T_PATH, O(recordings_dir), "@/recordings", 0, 0, NULL },
	{ "log_level", T_STR, O(log_level), "info", 0, 0, level_choices },
	{ "log_file", T_PATH, O(log_file), "", 0, 0, NULL },
	{ "ssh_listen", T_LISTEN, O(ssh_listen), "0.0.0.0:2222", 0, 0, NULL },
	{ "web_listen", T_LISTEN, O(web_listen), "0.0.0.0:8443", 0, 0, NULL },
	{ "mysql_listen", T_LISTEN, O(mysql_listen), "0.0.0.0:33061", 0, 0, NULL },
	{ "postgresql_listen", T_LISTEN, O(postgresql_listen), "0.0.0.0:54320", 0, 0, NULL },
	{ "redis_listen", T_LISTEN, O(redis_listen), "0.0.0.0:63790", 0, 0, NULL },
	{ "db_max_statement", T_INT, O(db_max_statement), "1048576", 1024, 1073741824, NULL },
	{ "db_token_ttl", T_INT, O(db_token_ttl), "300", 10, 86400, NULL },
	{ "web_cert", T_PATH, O(web_cert), "", 0, 0, NULL },
	{ "web_key", T_PATH, O(web_key), "", 0, 0, NULL },
	{ "web_max_connections", T_INT, O(web_max_connections), "256", 1, 100000, NULL },
	{ "web_max_body_kib", T_INT, O(web_max_body_kib), "1024", 1, 1048576, NULL },
	{ "web_max_header_bytes", T_INT, O(web_max_header_bytes), "8192", 1024, 65535, NULL },
	{ "web_request_timeout", T_INT, O(web_request_timeout), "30", 1, 3600, NULL },
	{ "web_session_idle", T_INT, O(web_session_idle), "1800", 60, 604800, NULL },
	{ "web_session_max", T_INT, O(web_session_max), "43200", 60, 2592000, NULL },
	{ "proxy_protocol", T_BOOL, O(proxy_protocol), "no", 0, 0, NULL },
	{ "proxy_trusted", T_STR, O(proxy_trusted), "", 0, 0, NULL },
	{ "proxy_header_timeout", T_INT, O(proxy_header_timeout), "5", 1, 60, NULL },
	{ "web_processes", T_INT, O(web_processes), "2", 1, 64, NULL },
	{ "metrics_listen", T_LISTEN, O(metrics_listen), "", 0, 0, NULL },
	{ "max_startups", T_INT, O(max_startups), "64", 1, 100000, NULL },
	{ "per_source_max_startups", T_INT, O(per_source_max_startups), "10", 1, 100000, NULL },
	{ "login_grace_time", T_INT, O(login_grace_time), "60", 1, 3600, NULL },
	{ "max_auth_tries", T_INT, O(max_auth_tries), "6", 1, 100, NULL },
	{ "auth_failure_delay_ms", T_INT, O(auth_failure_delay_ms), "1000", 0, 60000, NULL },
	{ "max_sessions", T_INT, O(max_sessions), "1000", 1, 1000000, NULL },
	{ "max_sessions_per_user", T_INT, O(max_sessions_per_user), "50", 1, 1000000, NULL },
	{ "shutdown_grace", T_INT, O(shutdown_grace), "30", 0, 86400, NULL },
	{ "idle_timeout", T_INT, O(idle_timeout), "0", 0, 604800, NULL },
	{ "target_connect_timeout", T_INT, O(target_connect_timeout), "10", 1, 600, NULL },
	{ "telnet_login_timeout", T_INT, O(telnet_login_timeout), "10", 1, 600, NULL },
	{ "record_input", T_BOOL, O(record_input), "no", 0, 0, NULL },
	{ "password_hash_strength", T_ENUM, O(password_hash_strength), "interactive", 0, 0, strength_choices },
	{ "menu_page_size", T_INT, O(menu_page_size), "0", 0, 1000, NULL },
	{ "per_source_penalty_failures", T_INT, O(per_source_penalty_failures), "20", 0, 100000, NULL },
	{ "per_source_penalty_time", T_INT, O(per_source_penalty_time), "60", 1, 86400, NULL },
	{ "max_tunnel_connections", T_INT, O(max_tunnel_connections), "256", 1, 100000, NULL },
	{ "max_channels_per_connection", T_INT, O(max_channels_per_connection), "10", 1, 64, NULL },
	{ "relay_buffer_kib", T_INT, O(relay_buffer_kib), "1024", 16, 65536, NULL },
	{ "max_jump_depth", T_INT, O(max_jump_depth), "4", 1, 32, NULL },
	{ "allow_remote_forward", T_BOOL, O(allow_remote_forward), "no", 0, 0, NULL },
	{ "allow_agent_forwarding", T_BOOL, O(allow_agent_forwarding), "no", 0, 0, NULL },
	{ "allow_x11_forwarding", T_BOOL, O(allow_x11_forwarding), "no", 0, 0, NULL },
	{ "notify_watch", T_BOOL, O(notify_watch), "no", 0, 0, NULL },
	{ "syslog_target", T_STR, O(syslog_target), "", 0, 0, NULL },
	{ "syslog_facility", T_STR, O(syslog_facility), "authpriv", 0, 0, facility_choices },
	{ "jsonl_file", T_PATH, O(jsonl_file), "", 0, 0, NULL },
	{ "notify_webhook", T_STR, O(notify_webhook), "", 0, 0, NULL },
	{ "notify_webhook_ca", T_PATH, O(notify_webhook_ca), "", 0, 0, NULL },
	{ "recording_retention_days", T_INT, O(recording_retention_days), "0", 0, 36500, NULL },
	{ "worker_user", T_STR, O(worker_user), "gatehouse", 0, 0, NULL },
	{ "mfa", T_ENUM, O(mfa), "off", 0, 0, mfa_choices },
	{ "review_timeout", T_INT, O(review_timeout), "300", 1, 86400, NULL },
	{ "cmdfilter_dynamic", T_ENUM, O(cmdfilter_dynamic), "auto", 0, 0, dynamic_choices },
	/* LDAP and Active Directory (docs/LDAP.md); "" = the flavour's default */
	{ "ldap_url", T_STR, O(ldap_url), "", 0, 0, NULL },
	{ "ldap_ca_file", T_PATH, O(ldap_ca_file), "", 0, 0, NULL },
	{ "ldap_bind_dn", T_STR, O(ldap_bind_dn), "", 0, 0, NULL },
	{ "ldap_bind_password_file", T_PATH, O(ldap_bind_password_file), "", 0, 0, NULL },
	{ "ldap_flavor", T_ENUM, O(ldap_flavor), "openldap", 0, 0, ldap_flavor_choices },
	{ "ldap_user_base", T_STR, O(ldap_user_base), "", 0, 0, NULL },
	{ "ldap_user_filter", T_STR, O(ldap_user_filter), "", 0, 0, NULL },
	{ "ldap_attr_user", T_STR, O(ldap_attr_user), "", 0, 0, NULL },
	{ "ldap_attr_display", T_STR, O(ldap_attr_display), "", 0, 0, NULL },
	{ "ldap_attr_email", T_STR, O(ldap_attr_email), "mail", 0, 0, NULL },
	{ "ldap_attr_ssh_key", T_STR, O(ldap_attr_ssh_key), "sshPublicKey", 0, 0, NULL },
	{ "ldap_group_base", T_STR, O(ldap_group_base), "", 0, 0, NULL },
	{ "ldap_group_filter", T_STR, O(ldap_group_filter), "(objectClass=groupOfNames)", 0, 0, NULL },
	{ "ldap_group_member_attr", T_STR, O(ldap_group_member_attr), "member", 0, 0, NULL },
	{ "ldap_group_map", T_LIST, O(ldap_group_map), "", 0, 0, NULL },
	{ "ldap_group_by_name", T_BOOL, O(ldap_group_by_name), "no", 0, 0, NULL },
	{ "ldap_timeout", T_INT, O(ldap_timeout), "10", 1, 600, NULL },
	{ "ldap_page_size", T_INT, O(ldap_page_size), "500", 1, 100000, NULL },
	{ "ldap_sync_interval", T_INT, O(ldap_sync_interval), "0", 0, 604800, NULL },
};
#undef O

static char **str_field(struct gh_config *cfg, const struct opt *o)
{
	return (char **)((char *)cfg + o->off);
}

static int *int_field(struct gh_config *cfg, const struct opt *o)
{
	return (int *)((char *)cfg + o->off);
}

void gh_config_init(struct gh_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		const struct opt *o = &options[i];
		if (o->type == T_INT || o->type == T_BOOL || o->type == T_ENUM)
			*int_field(cfg, o) = UNSET_INT;
	}
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return GH_EINVAL;
	return 0;
}

/* Validate "host:port" or "[v6]:port". */
static int check_listen(const char *v)
{
	char *host = NULL;
	int port = 0;
	int r = gh_parse_hostport(v, &host, &port);
	free(host);
	return r;
}

/* A repeated key: each value appended on a line of its own. */
static int set_list(char **field, const char *val)
{
	char *s = NULL;
	if (*field && **field && *val) {
		if (asprintf(&s, "%s\n%s", *field, val) < 0)
			s = NULL;
	} else {
		s = strdup(*field && !*val ? *field : val);
	}
	if (!s)
		return GH_ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* Set one option from its textual value; on error writes a message (no location). */
static int set_option(struct gh_config *cfg, const struct opt *o, const char *val,
		      const char *data_dir, char *msg, size_t msglen)
{
	switch (o->type) {
	case T_LIST:
		return set_list(str_field(cfg, o), val);
	case T_STR:
	case T_PATH:
	case T_LISTEN: {
		if (o->choices) {
			int found = 0;
			for (int i = 0; o->choices[i]; i++)
				found |= !strcmp(o->choices[i], val);
			if (!found) {
				snprintf(msg, msglen, "bad value '%s' for %s", val, o->name);
				return GH_EINVAL;
			}
		}
		if (!strcmp(o->name, "syslog_target") && *val &&
		    !(!strncmp(val, "unix:/", 6) ||
		      ((!strncmp(val, "udp:", 4) || !strncmp(val, "tcp:", 4)) &&
		       check_listen(val + 4) == 0))) {
			snprintf(msg, msglen,
				 "bad value '%s' for %s (expected udp:HOST:PORT, tcp:HOST:PORT or "
				 "unix:/PATH)", val, o->name);
			return GH_EINVAL;
		}
		if (!strcmp(o->name, "database_url") && gh_config_db_url_check(val, msg, msglen) < 0)
			return GH_EINVAL;
		if (o->type == T_LISTEN && check_listen(val) < 0 &&
		    !(*val == '\0' && strcmp(o->name, "ssh_listen"))) { /* "": off */
			snprintf(msg, msglen, "bad value '%s' for %s (expected HOST:PORT)", val, o->name);
			return GH_EINVAL;
		}
		char *s = NULL;
		if (o->type == T_PATH && val[0] == '@' && data_dir) {
			if (asprintf(&s, "%s%s", data_dir, val + 1) < 0)
				s = NULL;
		} else {
			s = strdup(val);
		}
		if (!s)
			return GH_ENOMEM;
		free(*str_field(cfg, o));
		*str_field(cfg, o) = s;
		return 0;
	}
	case T_INT: {
		long long n;
		if (gh_parse_ll(val, &n) < 0 || n < o->min || n > o->max) {
			snprintf(msg, msglen, "bad value '%s' for %s (expected an integer from %ld to %ld)",
				 val, o->name, o->min, o->max);
			return GH_EINVAL;
		}
		*int_field(cfg, o) = (int)n;
		return 0;
	}
	case T_BOOL: {
		int b;
		if (parse_bool(val, &b) < 0) {
			snprintf(msg, msglen, "bad value '%s' for %s (expected yes or no)", val, o->name);
			return GH_EINVAL;
		}
		*int_field(cfg, o) = b;
		return 0;
	}
	case T_ENUM:
		for (int i = 0; o->choices[i]; i++) {
			if (!strcmp(o->choices[i], val)) {
				*int_field(cfg, o) = i;
				return 0;
			}
		}
		snprintf(msg, msglen, "bad value '%s' for %s", val, o->name);
		return GH_EINVAL;
	}
	return GH_EINVAL;
}

int gh_config_parse_buffer(struct gh_config *cfg, const char *name, const char *buf, char *err)
{
	int lineno = 0;
	const char *p = buf;

	err[0] = '\0';
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = strndup(p, len);
		char msg[400];
		int r = 0;

		if (!line)
			return GH_ENOMEM;
		lineno++;
		p = eol ? eol + 1 : p + len;

		char *s = gh_strstrip(line);
		if (*s == '\0' || *s == '#') {
			free(line);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, GH_CONFIG_ERRLEN, "%s:%d: expected 'key = value'", name, lineno);
			free(line);
			return GH_EINVAL;
		}
		*eq = '\0';
		char *key = gh_strstrip(s);
		char *val = gh_strstrip(eq + 1);
		const struct opt *o = NULL;
		for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
			if (!strcmp(options[i].name, key))
				o = &options[i];
		if (!o) {
			char esc[128];
			snprintf(err, GH_CONFIG_ERRLEN, "%s:%d: unknown key '%s'", name, lineno,
				 gh_escape(esc, sizeof esc, key));
			free(line);
			return GH_EINVAL;
		}
		if (o->type == T_PATH && val[0] == '@') {
			/* '@' is only special in defaults */
		}
		r = set_option(cfg, o, val, NULL, msg, sizeof msg);
		if (r < 0) {
			snprintf(err, GH_CONFIG_ERRLEN, "%s:%d: %s", name, lineno, msg);
			free(line);
			return r;
		}
		free(line);
	}
	return 0;
}

int gh_config_parse_file(struct gh_config *cfg, const char *path, char *err)
{
	char *buf = NULL;
	char why[GH_SAFE_WHYLEN] = "";
	size_t len = 0;
	/* root acts on it: only a file root (or the user running gatehouse) wrote */
	int r = gh_trusted_read(path, 1 << 20, false, &buf, &len, why, sizeof why);
	if (r == GH_EPERM) {
		snprintf(err, GH_CONFIG_ERRLEN,
			 "%s: refused: it %s (the configuration must be a regular file owned by root, "
			 "not writable by group or others, not a symlink)",
			 path, why);
		return r;
	}
	if (r < 0) {
		snprintf(err, GH_CONFIG_ERRLEN, "%s: cannot read: %s", path,
			 r == GH_ELIMIT ? "larger than 1 MiB" : why[0] ? why : gh_strerror(r));
		return r;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, GH_CONFIG_ERRLEN, "%s: contains a NUL byte", path);
		free(buf);
		return GH_EINVAL;
	}
	r = gh_config_parse_buffer(cfg, path, buf, err);
	free(buf);
	return r;
}

int gh_config_fill_defaults(struct gh_config *cfg, const char *data_dir)
{
	char msg[400];
	if (!cfg->data_dir && !(cfg->data_dir = strdup(data_dir)))
		return GH_ENOMEM;
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		const struct opt *o = &options[i];
		int unset = (o->type == T_INT || o->type == T_BOOL || o->type == T_ENUM)
				    ? *int_field(cfg, o) == UNSET_INT
				    : *str_field(cfg, o) == NULL;
		if (unset) {
			int r = set_option(cfg, o, o->def, cfg->data_dir, msg, sizeof msg);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void gh_config_free(struct gh_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->data_dir);
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		const struct opt *o = &options[i];
		if (o->type == T_STR || o->type == T_PATH || o->type == T_LISTEN || o->type == T_LIST)
			free(*str_field(cfg, o));
	}
	gh_config_db_free(cfg);
	memset(cfg, 0, sizeof *cfg);
}

int gh_config_load(struct gh_config *cfg, const char *data_dir, const char *path, char *err)
{
	char *def = NULL;
	int r = 0;

	err[0] = '\0';
	gh_config_init(cfg);
	if (!path) {
		struct stat st;
		if (asprintf(&def, "%s/gatehouse.conf", data_dir) < 0)
			return GH_ENOMEM;
		if (lstat(def, &st) == 0) /* a symlink too: refused by name */
			path = def;
	}
	if (path)
		r = gh_config_parse_file(cfg, path, err);
	if (r == 0)
		r = gh_config_fill_defaults(cfg, data_dir);
	if (r == 0)
		r = gh_config_db_load(cfg, err);
	free(def);
	return r;
}

void gh_config_dump(const struct gh_config *cfg, void *file)
{
	FILE *f = file;
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		const struct opt *o = &options[i];
		struct gh_config *c = (struct gh_config *)cfg;
		switch (o->type) {
		case T_INT:
			fprintf(f, "%s = %d\n", o->name, *int_field(c, o));
			break;
		case T_BOOL:
			fprintf(f, "%s = %s\n", o->name, *int_field(c, o) ? "yes" : "no");
			break;
		case T_ENUM:
			fprintf(f, "%s = %s\n", o->name, o->choices[*int_field(c, o)]);
			break;
		case T_LIST: {
			const char *v = *str_field(c, o) ? *str_field(c, o) : "";
			do {
				size_t n = strcspn(v, "\n");
				fprintf(f, "%s = %.*s\n", o->name, (int)n, v);
				v += n + (v[n] != '\0');
			} while (*v);
			break;
		}
		default:
			fprintf(f, "%s = %s\n", o->name, *str_field(c, o) ? *str_field(c, o) : "");
		}
	}
}
