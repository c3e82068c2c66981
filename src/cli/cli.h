/* The admin CLI: one file per noun (user.c, group.c, ...), shared helpers
 * here (errors, option parsing, tables, JSON, key files).
 *
 * Command handlers (gh_cmd_*) are the process boundary: they return an
 * exit status, not a GH_E* code: 0 success, 1 refused or failed operation,
 * 2 usage error. Every message goes to stderr prefixed "gatehouse: ".
 * Helpers below that are not handlers return 0 or a negative GH_E*. */
#pragma once
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gh_app;
struct gh_user;
struct gh_asset;

enum { GH_EXIT_OK = 0, GH_EXIT_FAIL = 1, GH_EXIT_USAGE = 2 };

/* Options shared by every command. Strings are borrowed from argv. */
struct gh_cli {
	const char *data_dir;  /* --data DIR; NULL: $GATEHOUSE_DATA or ./data */
	const char *config;    /* --config FILE; NULL: DATA/gatehouse.conf when present */
	char cmd[96];          /* "user add", for messages */
	const char *usage;     /* usage text of the current noun */
	int depth, deepest;    /* verb nesting: the innermost verb is audited */
};

typedef int (*gh_cmd_fn)(struct gh_cli *cli, int argc, char **argv);

struct gh_cli_verb {
	const char *name;
	gh_cmd_fn fn;
};

/* Noun handlers: ARGV[0] is the noun. */
int gh_cmd_user(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_group(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_node(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_asset(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_account(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_perm(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_session(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_event(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_replay(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_config(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_known_hosts(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_ldap(struct gh_cli *cli, int argc, char **argv); /* src/cli/ldap.c */
/* src/cli/live.c: verbs of live operations, dispatched by session.c
 * (watch, join, kill) and user.c (lock, unlock). */
int gh_cli_session_watch(struct gh_cli *cli, int argc, char **argv);
int gh_cli_session_join(struct gh_cli *cli, int argc, char **argv);
int gh_cli_session_kill(struct gh_cli *cli, int argc, char **argv);
int gh_cli_user_lock(struct gh_cli *cli, int argc, char **argv);
int gh_cli_user_unlock(struct gh_cli *cli, int argc, char **argv);
/* End every open session of USER_ID -- shells, execs, menus and the
 * connections that carry only tunnels (kind "tunnel") -- with REASON
 * ("user disabled"), acting as the OS operator; each kill is audited and
 * the rows are waited for (bounded). Returns how many ended; *RET_FAILED
 * how many could not be reached. */
size_t gh_cli_end_user_sessions(struct gh_app *app, int64_t user_id, const char *reason,
				size_t *ret_failed);
/* The same, acting as ACTOR ("web:alice", "token:ci"). */
size_t gh_cli_end_user_sessions_as(struct gh_app *app, const char *actor, int64_t user_id,
				   const char *reason, size_t *ret_failed);
struct gh_loginacl;
struct gh_store;
struct gh_group;
/* Login ACL rules (loginacl.c), shared with the REST API: TEXT (an address
 * or network) appended to A's sources (GH_EINVAL when neither); A checked
 * the way logins read it, N_WHO the users and groups it names (GH_EINVAL,
 * ERR says why); the NU user and NG group names into A's ids (GH_ENOENT
 * for an unknown one, ERR says which); a rule as `loginacl list --json`
 * prints it (U, G: every user and group, for the names). */
int gh_cli_loginacl_source(struct gh_loginacl *a, const char *text);
int gh_cli_loginacl_check(const struct gh_loginacl *a, size_t n_who, char *err, size_t errlen);
int gh_cli_loginacl_resolve(struct gh_store *st, const char *const *users, size_t nu,
			    const char *const *groups, size_t ng, struct gh_loginacl *a, char *err,
			    size_t errlen);
json_t *gh_cli_loginacl_json(const struct gh_loginacl *a, const struct gh_user *u, size_t nu,
			     const struct gh_group *g, size_t ng);
struct gh_cmdgroup_row;
struct gh_cmdfilter_row;
/* Command groups and filters (cmdgroup.c, cmdfilter.c), shared with the
 * REST API: G checked as `cmdgroup add` checks it (its kind's case rule
 * applied); F checked as `cmdfilter add` checks it, with ST (may be NULL:
 * names not looked up) every named object must exist (GH_ENOENT); VAL
 * (a name, or a node path normalised in place) appended to F's refs of
 * kind K; rows as the --json lists print them. Errors: GH_EINVAL, ERR
 * says why. */
int gh_cli_cmdgroup_check(struct gh_cmdgroup_row *g, char *err, size_t errlen);
json_t *gh_cli_cmdgroup_json(const struct gh_cmdgroup_row *g);
int gh_cli_cmdfilter_check(struct gh_store *st, const struct gh_cmdfilter_row *f, char *err,
			   size_t errlen);
int gh_cli_cmdfilter_ref(struct gh_cmdfilter_row *f, int k, char *val, char *err, size_t errlen);
json_t *gh_cli_cmdfilter_json(const struct gh_cmdfilter_row *f);
struct gh_review;
/* Command reviews (request.c), shared with the REST API: a review as
 * `request list --json` prints it; decide review ID (STATE "approved" or
 * "denied", BY the deciding identity) as `request approve|deny` does:
 * GH_ENOENT (no such request) or GH_EBUSY (not pending), ERR says which. */
json_t *gh_cli_review_json(const struct gh_review *rv);
int gh_cli_review_decide(struct gh_store *st, int64_t id, const char *state, const char *by,
			 char *err, size_t errlen);
int gh_cmd_audit(struct gh_cli *cli, int argc, char **argv);
/* src/cli/status.c, backup.c, ops.c: operations */
int gh_cmd_status(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_backup(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_restore(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_logs(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_cert(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_recordings(struct gh_cli *cli, int argc, char **argv);
/* src/cli/audit.c: `audit verify` (also `event verify`'s full form). */
int gh_cli_audit_verify(struct gh_cli *cli, int argc, char **argv);
/* Called by gh_cli_dispatch after the innermost verb ran with exit STATUS:
 * every verb that is not read-only leaves a kind "change" event. */
void gh_cli_audit_change(struct gh_cli *cli, const char *noun, const char *verb, int argc,
			 char **argv, int status);
/* src/cli/loginacl.c, user_mfa.c, perm_schedule.c */
int gh_cmd_loginacl(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_user_set(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_user_mfa(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_perm_set(struct gh_cli *cli, int argc, char **argv);
/* --mfa required|optional into *RET (GH_MFA_*); --schedule SPEC checked.
 * 0 or GH_EXIT_USAGE (message printed). */
int gh_cli_parse_mfa(const struct gh_cli *cli, const char *s, int *ret);
int gh_cli_check_schedule(const struct gh_cli *cli, const char *spec);
int gh_cmd_cmdgroup(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_cmdfilter(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_request(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_token(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_access(struct gh_cli *cli, int argc, char **argv);
int gh_cmd_gateway(struct gh_cli *cli, int argc, char **argv); /* src/cli/gateway.c */
int gh_cmd_jumpoint(struct gh_cli *cli, int argc, char **argv); /* src/cli/jumpoint.c */
/* `asset add|set --jumpoint NAME` ("" : not). 0 or an exit status (printed). */
int gh_cli_asset_set_jumpoint(struct gh_app *app, int64_t asset_id, const char *asset,
			      const char *jumpoint);
/* `asset add|set --gateway NAME` ("" : directly). 0 or an exit status (printed). */
int gh_cli_asset_set_gateway(struct gh_app *app, int64_t asset_id, const char *asset,
			     const char *gateway);
/* src/cli/serve.c (SSH front door). ARGV[0] is "serve"; APP is opened by
 * the dispatcher with GH_APP_CREATE and closed by it afterwards. Returns an
 * exit status, or a negative GH_E* which the dispatcher reports and maps to 1. */
int gh_cmd_serve(struct gh_app *app, int argc, char **argv);

/* Take --data/--config (also --data=DIR, --config=FILE) out of ARGV
 * wherever they appear before a "--", compacting ARGV in place and
 * updating *ARGC. Returns 0 or GH_EINVAL (message printed). */
int gh_cli_take_global_options(struct gh_cli *cli, int *argc, char **argv);

/* Find ARGV[1] in VERBS and run it with ARGV+1 (so the verb sees itself as
 * ARGV[0]). Handles "help", "-h", "--help" and unknown verbs. NOUN is the
 * full noun ("user" or "user key") and USAGE its help text. */
int gh_cli_dispatch(struct gh_cli *cli, const char *noun, const char *usage,
		    const struct gh_cli_verb *verbs, int argc, char **argv);

/* Messages. gh_cli_error prints "gatehouse: MSG"; gh_cli_usage_error adds a
 * hint to run --help and returns GH_EXIT_USAGE. */
void gh_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int gh_cli_usage_error(const struct gh_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the current noun's usage to stdout; returns GH_EXIT_OK. */
int gh_cli_help(const struct gh_cli *cli);

/* getopt_long helpers. Call gh_cli_getopt_reset() before each loop; use an
 * optstring starting with ':' and pass '?'/':' results to gh_cli_bad_option
 * (prints a message, returns GH_EXIT_USAGE). */
void gh_cli_getopt_reset(void);
int gh_cli_bad_option(const struct gh_cli *cli, int c, char **argv);
/* Option loop for verbs whose only options are --help and (when JSON is
 * not NULL) --json. Returns 0, GH_EXIT_USAGE (message printed), or -1 when
 * --help was given. */
int gh_cli_simple_opts(const struct gh_cli *cli, int argc, char **argv, bool *json);
/* Check the count of positional arguments left after getopt (ARGV[optind..]).
 * Returns 0 or GH_EXIT_USAGE (message printed naming SYNOPSIS). */
int gh_cli_positional(const struct gh_cli *cli, int argc, int min, int max, const char *synopsis);

/* Open the application; prints gh_app_open's message on failure.
 * Returns 0 or a negative GH_E*. */
int gh_cli_open(const struct gh_cli *cli, int flags, struct gh_app **ret);

/* Prologue of a verb whose only options are --help and (JSON not NULL)
 * --json, with MIN..MAX positional arguments, that opens the application
 * with FLAGS. Returns true with *RET_APP open, or false with *RET_STATUS the
 * exit status (help printed, usage error, or the application not opened). */
bool gh_cli_start(struct gh_cli *cli, int argc, char **argv, bool *json, int min, int max,
		  const char *synopsis, int flags, struct gh_app **ret_app, int *ret_status);

struct gh_store;
struct gh_node;
/* "NOUN del NAME": one positional NAME removed with DEL (GH_ENOENT ->
 * "unknown NOUN 'NAME'"). Returns an exit status. */
int gh_cli_delete_named(struct gh_cli *cli, int argc, char **argv, const char *noun,
			int (*del)(struct gh_store *st, const char *name));

/* Look NAME up into RET, printing "unknown user" or the store error when it
 * cannot. 0, or an exit status (the caller returns it). */
int gh_cli_user_get(struct gh_app *app, const char *name, struct gh_user *ret);

/* Map a GH_E* from a store call to an exit status, printing
 * "gatehouse: WHAT: <reason>" (with the store's message for GH_ESTORE). */
int gh_cli_fail(struct gh_app *app, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Strict number parse within [MIN, MAX]; prints "bad value 'X' for OPT"
 * and returns GH_EXIT_USAGE, or 0. */
int gh_cli_parse_int(const struct gh_cli *cli, const char *opt, const char *s, long long min,
		     long long max, long long *ret);
/* ISO 8601 parse with a message naming OPT; 0 or GH_EXIT_USAGE. */
int gh_cli_parse_time(const struct gh_cli *cli, const char *opt, const char *s, int64_t *ret);
/* Parse a comma list of actions / protocols, naming the first unknown word. */
int gh_cli_parse_actions(const struct gh_cli *cli, const char *opt, const char *s, uint32_t *ret);
int gh_cli_parse_protocols(const struct gh_cli *cli, const char *opt, const char *s, uint32_t *ret);

/* Read a password from stdin (no echo on a terminal) into sodium memory;
 * refuses an empty one. Returns 0 or GH_EXIT_FAIL (message printed).
 * Free with gh_secret_free(). */
int gh_cli_read_password(const char *what, char **ret);

/* A public key parsed from an authorized_keys-style line. */
struct gh_pubkey {
	char *type;         /* canonical type name, "ssh-ed25519" */
	char *base64;       /* key blob */
	char *comment;      /* may be "" */
	char *fingerprint;  /* "SHA256:..." as OpenSSH prints it */
};
void gh_pubkey_clear(struct gh_pubkey *k);
/* Parse "TYPE BASE64 [COMMENT]". Returns 0 or GH_EINVAL with a message in
 * ERR (size ERRLEN). */
int gh_pubkey_parse_line(const char *line, struct gh_pubkey *ret, char *err, size_t errlen);
/* Read a public key file (one key). Messages name the file and say when it
 * is a private key. */
int gh_pubkey_read_file(const char *path, struct gh_pubkey *ret, char *err, size_t errlen);
/* Read a private key file into sodium memory (*ret, gh_secret_free) and check
 * that libssh can load it without a passphrase. */
int gh_privkey_read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen);

/* Output. */
/* Dump J (stolen) to stdout, indented, with a trailing newline. */
int gh_cli_json_print(json_t *j);
/* ISO time string, or JSON null for 0. */
json_t *gh_cli_json_time(int64_t t);
/* String or JSON null. */
json_t *gh_cli_json_str(const char *s);
/* Array of the names of bits set in MASK ("connect", ...). */
json_t *gh_cli_json_actions(uint32_t mask);
json_t *gh_cli_json_protocols(uint32_t mask);
struct gh_user_key;
/* A user's SSH key as `user key list --json` prints it. Caller decrefs. */
json_t *gh_cli_key_json(const struct gh_user_key *k);
/* A node path from a user (the CLI, the REST API) checked and normalised
 * into *RET (caller frees); GH_EINVAL with ERR saying why. */
int gh_cli_node_path_check(const char *in, char **ret, char *err, size_t errlen);
/* A node as `node list --json` prints it; PN (NP ids) are the node ids of
 * gh_store_asset_node_pairs (its asset count). Caller decrefs. */
json_t *gh_cli_node_json(struct gh_store *st, const struct gh_node *nd, const int64_t *pn,
			 size_t np);
/* An asset as `asset show --json` prints it (and the REST API returns it). */
json_t *gh_cli_asset_json(const struct gh_asset *a);
/* The asset rules of `asset add|set` (shared with the REST API). */
bool gh_asset_valid_host(const char *h);
bool gh_asset_valid_comment(const char *s);
bool gh_asset_platform_known(const char *p);
struct gh_perm;
struct gh_store;
struct gh_group;
struct gh_session;
struct gh_vault;
/* The event kinds of audit query NAME ("logins", "sessions", "commands",
 * "files", "changes"); GH_ENOENT for another name. */
int gh_cli_audit_kinds(const char *name, const char *const **ret, size_t *ret_n);
/* `audit verify --json`'s report into *RET (caller decrefs); a negative
 * GH_E* only when the store could not be read. */
int gh_cli_audit_verify_json(struct gh_store *st, const char *recordings_dir, json_t **ret);
/* Seal SECRET (LEN bytes, kind GH_SECRET_*) for account USERNAME of ASSET_ID
 * and store it: a new account (ACCOUNT_ID 0, GH_EEXIST when taken) or the
 * new secret of ACCOUNT_ID. The one place that seals account secrets. */
int gh_account_seal_store(struct gh_store *st, struct gh_vault *v, int64_t asset_id,
			  int64_t account_id, const char *username, int kind, const char *secret,
			  size_t secret_len);
/* A user, a group (with its members; *RET_N their number, may be NULL) and
 * a session as the CLI's --json prints them (and the REST API returns them). */
json_t *gh_cli_user_json(const struct gh_user *u);
json_t *gh_cli_group_json(struct gh_store *st, const struct gh_group *g, size_t *ret_n);
json_t *gh_cli_session_json(const struct gh_session *s);
/* What `perm add` grants without --actions. */
#define GH_PERM_DEFAULT_ACTIONS \
	(GH_ACT_CONNECT | GH_ACT_UPLOAD | GH_ACT_DOWNLOAD | GH_ACT_DELETE | GH_ACT_COPY | GH_ACT_PASTE)
/* Permissions as `perm show --json` prints them (names, not ids), an
 * array in *RET (caller decrefs). */
int gh_cli_perms_json(struct gh_store *st, const struct gh_perm *v, size_t n, json_t **ret);
/* The names of a new permission to ids, by kind (0 users, 1 groups, 2
 * assets, 3 nodes; IDS[k] has room for COUNTS[k], N_IDS[k] counts the
 * distinct ones). GH_ENOENT ("unknown user 'x'" in WHY), GH_EINVAL (the
 * root "/" as a node), or another GH_E*. */
int gh_perm_resolve_names(struct gh_store *st, const char **const names[4],
			  const size_t counts[4], int64_t *const ids[4], size_t n_ids[4],
			  char *why, size_t whylen);
/* "2026-01-02T03:04:05Z" or "-" for 0, into BUF (>= 24). */
const char *gh_cli_time_text(int64_t t, char *buf, size_t len);

/* A text table with aligned columns; cells are copied with control
 * characters escaped. */
struct gh_table;
struct gh_table *gh_table_new(size_t ncols, ...);
struct gh_table *gh_table_free(struct gh_table *t);
/* Add one row of NCOLS strings (NULL prints as "-"). */
int gh_table_add(struct gh_table *t, ...);
void gh_table_print(const struct gh_table *t, FILE *f);

/* Print "key: value" for show commands, escaping control characters. */
void gh_cli_field(const char *key, const char *value);
