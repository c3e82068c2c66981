/* gatehouse.conf: "key = value" lines, '#' comments, blank lines ignored.
 *
 * Parsed in three phases (as OpenSSH's servconf.c): gh_config_init() sets
 * every field to "unset", gh_config_parse_file() fills what the file says,
 * gh_config_fill_defaults() gives every unset field its default. Every key
 * is listed in docs/CONFIG.md with its default. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_config {
	/* paths */
	char *data_dir;           /* --data, default ./data (not a file key) */
	char *database;           /* "sqlite" */
	char *database_path;      /* default DATA/gatehouse.db */
	char *database_url;       /* postgresql://USER@HOST:PORT/DB?...: no password */
	char *database_password_file; /* root's, 0600; read at load (configdb.c) */
	char *database_password;  /* its content (not a file key); wiped by free */
	char *node_name;          /* this node in a cluster; "" = the hostname */
	int node_timeout;         /* seconds without a heartbeat: node lost */
	char *recordings_dir;     /* default DATA/recordings */
	char *log_level;          /* error|warn|info|debug */
	char *log_file;           /* empty: stderr */
	int store_busy_timeout_ms;

	/* SSH front door */
	char *ssh_listen;         /* host:port, default 0.0.0.0:2222 */
	int proxy_protocol;       /* bool: connections open with a PROXY header */
	char *proxy_trusted;      /* CIDRs allowed to send one (comma-separated) */
	int proxy_header_timeout; /* seconds to wait for the header */
	int max_startups;         /* unauthenticated connections at once */
	int per_source_max_startups; /* unauthenticated connections per source address */
	int login_grace_time;     /* seconds from accept to successful auth */
	int max_auth_tries;
	int auth_failure_delay_ms;
	int max_sessions;         /* authenticated workers at once */
	int max_sessions_per_user; /* processes working for one user at once */
	int per_source_penalty_failures; /* failed logins that get a source refused; 0 = never */
	int per_source_penalty_time; /* seconds: the failure window and the refusal */
	int shutdown_grace;       /* seconds SIGTERM waits for live sessions */
	int idle_timeout;         /* seconds without input; 0 = never */
	int target_connect_timeout; /* seconds */
	int telnet_login_timeout; /* seconds for a telnet target's prompts */
	int record_input;         /* bool: record what users type ("i" events) */
	int password_hash_strength; /* 0 interactive, 1 moderate, 2 sensitive */
	int menu_page_size;       /* 0 = fit the terminal */
	int notify_watch;         /* bool: tell the user when a watcher attaches */

	/* forwarding (ProxyJump, tunnels) */
	int max_tunnel_connections; /* forwarded channels at once per connection */
	int max_channels_per_connection; /* session channels at once per connection */
	int relay_buffer_kib;     /* relay buffer per direction of a session */
	int max_jump_depth;       /* nested ProxyJump hops through Gatehouse */
	int allow_remote_forward; /* bool: -R (tcpip-forward) with the forward action */
	int allow_agent_forwarding; /* bool */
	int allow_x11_forwarding; /* bool */

	/* audit export and retention (docs/AUDIT.md) */
	char *syslog_target;      /* udp:H:P | tcp:H:P | unix:PATH; empty = off */
	char *syslog_facility;    /* authpriv, local0, ... */
	char *jsonl_file;         /* JSON lines file; empty = off */
	char *notify_webhook;     /* https URL for access requests; empty = off */
	char *notify_webhook_ca;  /* its CA file; empty = the system's */
	int recording_retention_days; /* 0 = keep forever */
	char *worker_user;        /* workers drop to this user when root; "" = no drop */
	int mfa;                  /* GH_CONFIG_MFA_*: who needs a TOTP code */
	int review_timeout;       /* seconds a command held for review waits for a decision */
	int cmdfilter_dynamic;    /* verdict for dynamic commands: enum gh_filter_action, 0 auto */

	/* LDAP / Active Directory (docs/LDAP.md); ldap_url "" = off */
	char *ldap_url, *ldap_ca_file, *ldap_bind_dn, *ldap_bind_password_file;
	int ldap_flavor;          /* GH_CONFIG_LDAP_* */
	char *ldap_user_base;     /* bases separated by '|' */
	char *ldap_user_filter;   /* "" = the flavour's; %s = the escaped user name */
	char *ldap_attr_user, *ldap_attr_display, *ldap_attr_email, *ldap_attr_ssh_key;
	char *ldap_group_base, *ldap_group_filter, *ldap_group_member_attr;
	char *ldap_group_map;     /* "DN => group" lines */
	int ldap_group_by_name;   /* bool */
	int ldap_timeout;         /* seconds, every directory call */
	int ldap_page_size;
	int ldap_sync_interval;   /* seconds; 0 = no periodic sync */
	/* web console and REST API (docs/API.md) */
	char *web_listen;         /* host:port, default 0.0.0.0:8443; empty = off */
	/* the database gateway (src/db/): host:port each, empty = off */
	char *mysql_listen, *postgresql_listen, *redis_listen;
	int db_max_statement;     /* bytes of one statement */
	int db_token_ttl;         /* seconds a one-time db token is valid */
	char *web_cert, *web_key; /* PEM paths; empty: DATA/web_cert.pem, DATA/web_key.pem */
	int web_max_connections;  /* connections at once */
	int web_max_body_kib;     /* request body */
	int web_max_header_bytes; /* request headers */
	int web_request_timeout;  /* seconds for one request */
	int web_session_idle;     /* seconds a console session lives without use */
	int web_session_max;      /* seconds a console session lives at most */
	char *metrics_listen;     /* plain-HTTP GET /metrics without auth; empty = off */
	int web_processes;        /* web processes accepting on web_listen */
};

enum { GH_CONFIG_LDAP_OPENLDAP = 0, GH_CONFIG_LDAP_AD = 1 };

enum { GH_CONFIG_MFA_OFF = 0, GH_CONFIG_MFA_ALL = 1, GH_CONFIG_MFA_ADMINS = 2 };

#define GH_CONFIG_ERRLEN 512

/* DATA/db: the directory of the default database, the worker user's
 * (docs/ARCHITECTURE.md, "Files and their owners"). */
#define GH_DB_SUBDIR "db"

void gh_config_init(struct gh_config *cfg);
/* Parse PATH into CFG. On error returns GH_EINVAL (or GH_EIO) and writes
 * "FILE:LINE: message" into ERR (size GH_CONFIG_ERRLEN). */
int gh_config_parse_file(struct gh_config *cfg, const char *path, char *err);
/* Parse one string buffer as if it were file NAME (used by tests). */
int gh_config_parse_buffer(struct gh_config *cfg, const char *name, const char *buf, char *err);
/* Fill defaults; DATA_DIR is the effective data directory (not NULL). */
int gh_config_fill_defaults(struct gh_config *cfg, const char *data_dir);
void gh_config_free(struct gh_config *cfg);

/* Convenience: init, parse PATH when not NULL (or DATA/gatehouse.conf when
 * it exists), fill defaults. */
int gh_config_load(struct gh_config *cfg, const char *data_dir, const char *path, char *err);

/* Print every key with its effective value as "key = value" lines. */
void gh_config_dump(const struct gh_config *cfg, void *file /* FILE* */);
