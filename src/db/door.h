/* The database gateway: the contract between its core (src/db/core*.c)
 * and each protocol door (src/db/pg*.c, mysql*.c, redis*.c).
 *
 * The core owns everything that is not wire format:
 *   - the listeners mysql_listen, postgresql_listen, redis_listen (empty:
 *     off), accepted by the master's loop with the SSH pre-auth limits and
 *     per-source penalties, one forked worker per connection;
 *   - the worker: reads the TLS certificate (web_cert/web_key) as root,
 *     drops privileges like an SSH worker, then calls door->serve(db);
 *   - client and target I/O (struct gh_db_io), TLS both ways;
 *   - the login: user name "alice@appuser@db01" ('#' may stand for '@'),
 *     the Gatehouse password (MFA users: only a one-time db token) or a
 *     db token; the session (src/session/) opened and authorized through
 *     the one gate; the target connected (gh_target_tcp_connect) and the
 *     account's secret handed to the door for the moment of its login;
 *   - every statement judged (command filter, kind sql or redis), audited
 *     (a chained `command` event) and recorded with its outcome;
 *   - the session's end with its reason.
 *
 * A door only speaks its protocol:
 *
 *   serve(db):
 *     read the client's opening (TLS request: gh_db_io_tls_server; a
 *       cleartext password only when gh_db_io_is_tls(client) or the door
 *       says why it is safe, e.g. Redis on loopback),
 *     gh_db_login(db, user, password, database, &login)   -> target fd
 *       on error: tell the client login.err (never more), return;
 *     optional TLS to the target (gh_db_io_tls_client with login.tls_*),
 *     authenticate to the target with login.secret, then
 *       gh_db_login_secret_clear(&login) at once,
 *     gh_db_running(db, server_version),
 *     relay: for each client statement
 *       gh_db_statement(db, text, len, database, &verdict)
 *         GH_DB_REJECT: answer the protocol's error with verdict.message
 *           ("rejected by Gatehouse: rule NAME"), do not forward;
 *         otherwise forward; later gh_db_outcome(db, &outcome) when the
 *           server answers (rows, error).
 *       a database change (COM_INIT_DB, USE, Redis SELECT is not one):
 *       gh_db_database(db, name) first; refused -> protocol error;
 *     return 0 or GH_E*, with gh_db_end_reason(db, ...) set when the door
 *     knows better than "client closed".
 *   The core then ends the session (row, recording, one end event).
 *
 * Threading: one worker process per connection, one thread; every call
 * may block (bounded by the idle timeout or db_connect_timeout). Results
 * are streamed by the door: nothing holds a whole result set in memory.
 * Ownership: struct gh_db is the core's (borrowed by the door for the
 * length of serve); strings passed in are copied or used before the call
 * returns; strings returned are borrowed until the next call on DB. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gh_db;     /* one client connection (core-owned) */
struct gh_db_io;  /* one side of it: the client or the target */

enum gh_db_door_id {
	GH_DB_DOOR_MYSQL = 0,
	GH_DB_DOOR_POSTGRESQL,
	GH_DB_DOOR_REDIS,
	GH_DB_N_DOORS,
};

struct gh_db_door {
	enum gh_db_door_id id;
	const char *name;        /* "mysql", "postgresql", "redis": the session's protocol */
	uint32_t protocol;       /* its GH_PROTO_* bit (store/model.h) */
	const char *filter_kind; /* "sql" or "redis": the command groups that judge it */
	int default_port;        /* the target's port when the asset says 0 */
	/* The whole connection, after the privilege drop. Returns 0 or GH_E*. */
	int (*serve)(struct gh_db *db);
};

/* The door for ID, or NULL when this build has none (src/db/doors.c: one
 * line per door). */
const struct gh_db_door *gh_db_door_get(enum gh_db_door_id id);

/* ---- I/O: one side, plain or TLS -------------------------------------- */

/* The client side (borrowed while DB lives). */
struct gh_db_io *gh_db_client(struct gh_db *db);
/* The target side once gh_db_login succeeded, else NULL (borrowed). */
struct gh_db_io *gh_db_target(struct gh_db *db);
/* The socket, for poll(); with TLS, check gh_db_io_pending first. */
int gh_db_io_fd(const struct gh_db_io *io);
bool gh_db_io_is_tls(const struct gh_db_io *io);
/* Bytes decrypted and waiting (poll would not see them). */
size_t gh_db_io_pending(const struct gh_db_io *io);
/* Read what is there, up to LEN, waiting at most TIMEOUT_MS (-1: the idle
 * timeout) for the first byte. 0 with *RET_N > 0; GH_ETIMEDOUT; GH_ECONN
 * when the peer closed or the connection failed. */
int gh_db_io_read(struct gh_db_io *io, void *buf, size_t len, int timeout_ms, size_t *ret_n);
/* Read exactly LEN bytes (same errors). */
int gh_db_io_read_full(struct gh_db_io *io, void *buf, size_t len, int timeout_ms);
/* Write all of BUF (blocks, bounded by the idle timeout). GH_ECONN. */
int gh_db_io_write(struct gh_db_io *io, const void *buf, size_t len);
/* A certificate is loaded: the door may offer TLS to its client. */
bool gh_db_tls_available(const struct gh_db *db);
/* Server-side TLS on the client with the web console's certificate.
 * GH_ECRYPTO when the handshake fails, GH_EINVAL when no certificate. */
int gh_db_io_tls_server(struct gh_db *db);
/* Client-side TLS to the target as the asset asks (verify against its CA
 * or its pinned certificate). Call after gh_db_login, when
 * login.tls_wanted. GH_ECRYPTO with ERR set. */
int gh_db_io_tls_client(struct gh_db *db, char *err, size_t errlen);

/* ---- login ------------------------------------------------------------- */

#define GH_DB_ERRLEN 256

struct gh_db_login {
	/* out */
	char *secret;            /* the account's secret, sodium memory: wipe
				  * with gh_db_login_secret_clear right after use */
	size_t secret_len;
	const char *account;     /* the account name on the target (borrowed) */
	const char *asset;       /* the asset name (borrowed) */
	const char *database;    /* the database asked for, "" when none (borrowed) */
	bool tls_wanted;         /* the asset asks for TLS to the target */
	char err[GH_DB_ERRLEN];  /* on error: for the client, never a secret */
};

/* LOGIN is "user@account@asset" ('#' for '@'), PASSWORD the Gatehouse
 * password or a one-time db token, DATABASE the database asked for (NULL
 * or "": none; checked against the permission's databases). Verifies the
 * user (failures counted for the source's penalty), opens the session and
 * asks the gate, connects to the target (its fd becomes gh_db_target) and
 * unseals the secret. 0, GH_EAUTH (wrong user/password: ret->err "password
 * authentication failed"), GH_EPERM (refused), GH_ECONN/GH_ETIMEDOUT (the
 * database is down), other GH_E*. Each failure is audited by the core. */
int gh_db_login(struct gh_db *db, const char *login, const char *password, const char *database,
		struct gh_db_login *ret);
/* Wipe and free RET->secret (NULL ok). */
void gh_db_login_secret_clear(struct gh_db_login *ret);

/* Authenticated towards the target: the session runs. SERVER_VERSION (the
 * real one, for the recording) may be NULL. */
void gh_db_running(struct gh_db *db, const char *server_version);

/* ---- statements -------------------------------------------------------- */

enum gh_db_verdict {
	GH_DB_ACCEPT = 0,        /* forward */
	GH_DB_WARN,              /* forward, the event says warn */
	GH_DB_REVIEW_OK,         /* held for review and approved: forward */
	GH_DB_REJECT,            /* answer MESSAGE as the protocol's error */
};

struct gh_db_judged {
	enum gh_db_verdict verdict;
	char rule[128];          /* the rule that decided, "" when none */
	char message[256];       /* for REJECT: "rejected by Gatehouse: rule NAME" */
};

/* One client statement: TEXT (LEN bytes, not NUL-terminated, may hold
 * several statements: judged one by one, the most severe wins) in
 * DATABASE (NULL: the current one). Judged by the command filter, written
 * as a chained `command` event (text bounded) and into the recording.
 * Always fills *RET; returns 0, or GH_ELIMIT when LEN exceeds
 * db_max_statement (rejected). Redis: TEXT is the command and its
 * arguments joined by spaces, AUTH's values already left out. */
int gh_db_statement(struct gh_db *db, const char *text, size_t len, const char *database,
		    struct gh_db_judged *ret);

struct gh_db_outcome {
	int64_t rows;            /* rows affected or returned, -1 when unknown */
	const char *error;       /* the server's error message, NULL when none */
	const char *tag;         /* e.g. "SELECT 3", "OK"; NULL ok */
};
/* The server's answer to the last statement: into the recording (with the
 * time since gh_db_statement). */
void gh_db_outcome(struct gh_db *db, const struct gh_db_outcome *o);

/* The client switches to database NAME: 0 when the permission allows it
 * (the session's current database becomes NAME), GH_EPERM (audited) with
 * the message for the client in ERR. */
int gh_db_database(struct gh_db *db, const char *name, char *err, size_t errlen);

/* db_max_statement: the most bytes of one statement a door keeps. */
size_t gh_db_max_statement(const struct gh_db *db);

/* idle_timeout in milliseconds for poll() (-1: none). */
int gh_db_idle_ms(const struct gh_db *db);

/* Why the session ends, when the door knows ("client closed" otherwise):
 * copied. */
void gh_db_end_reason(struct gh_db *db, const char *reason);

/* The door's own log lines go through core/log.h; the source address for
 * them (borrowed). */
const char *gh_db_peer_ip(const struct gh_db *db);
