/* The MySQL/MariaDB client/server protocol as pure, bounds-checked
 * functions over byte buffers: framing, the handshake and its answer, the
 * password algorithms (both sides), commands, and where each response ends.
 * No sockets, no TLS, no logging: the database door (src/db/) drives them.
 *
 * Errors: GH_EINVAL for malformed input (the peer broke the protocol),
 * GH_ELIMIT for input past a bound, GH_ENOMEM, GH_ECRYPTO for a failing
 * crypto primitive or a bad RSA key, GH_EAUTH for a login the target
 * refused (mysql_login). Outputs are written only on success.
 *
 * Ownership: strings returned inside structs are heap copies owned by the
 * struct and released by its _free function; payload pointers named "view"
 * borrow the caller's buffer. Secret bytes (passwords, auth responses) live
 * in sodium memory and are wiped when freed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ---- capability and status flags (protocol constants) ------------------- */
#define GH_MY_CLIENT_LONG_PASSWORD (1u << 0) /* MariaDB: "CLIENT_MYSQL" */
#define GH_MY_CLIENT_FOUND_ROWS (1u << 1)
#define GH_MY_CLIENT_LONG_FLAG (1u << 2)
#define GH_MY_CLIENT_CONNECT_WITH_DB (1u << 3)
#define GH_MY_CLIENT_NO_SCHEMA (1u << 4)
#define GH_MY_CLIENT_COMPRESS (1u << 5)
#define GH_MY_CLIENT_ODBC (1u << 6)
#define GH_MY_CLIENT_LOCAL_FILES (1u << 7)
#define GH_MY_CLIENT_IGNORE_SPACE (1u << 8)
#define GH_MY_CLIENT_PROTOCOL_41 (1u << 9)
#define GH_MY_CLIENT_INTERACTIVE (1u << 10)
#define GH_MY_CLIENT_SSL (1u << 11)
#define GH_MY_CLIENT_TRANSACTIONS (1u << 13)
#define GH_MY_CLIENT_SECURE_CONNECTION (1u << 15)
#define GH_MY_CLIENT_MULTI_STATEMENTS (1u << 16)
#define GH_MY_CLIENT_MULTI_RESULTS (1u << 17)
#define GH_MY_CLIENT_PS_MULTI_RESULTS (1u << 18)
#define GH_MY_CLIENT_PLUGIN_AUTH (1u << 19)
#define GH_MY_CLIENT_CONNECT_ATTRS (1u << 20)
#define GH_MY_CLIENT_PLUGIN_AUTH_LENENC (1u << 21)
#define GH_MY_CLIENT_CAN_HANDLE_EXPIRED (1u << 22)
#define GH_MY_CLIENT_SESSION_TRACK (1u << 23)
#define GH_MY_CLIENT_DEPRECATE_EOF (1u << 24)

/* What Gatehouse offers a client: no compression (it would hide the
 * statements), no LOCAL INFILE (the target could read the user's files),
 * no query attributes or MariaDB extended capabilities (formats a target
 * may lack). SSL is added by the door when it has a certificate. */
#define GH_MY_SERVER_CAPS                                                                        \
	(GH_MY_CLIENT_LONG_PASSWORD | GH_MY_CLIENT_FOUND_ROWS | GH_MY_CLIENT_LONG_FLAG |          \
	 GH_MY_CLIENT_CONNECT_WITH_DB | GH_MY_CLIENT_ODBC | GH_MY_CLIENT_IGNORE_SPACE |          \
	 GH_MY_CLIENT_PROTOCOL_41 | GH_MY_CLIENT_INTERACTIVE | GH_MY_CLIENT_TRANSACTIONS |      \
	 GH_MY_CLIENT_SECURE_CONNECTION | GH_MY_CLIENT_MULTI_STATEMENTS |                        \
	 GH_MY_CLIENT_MULTI_RESULTS | GH_MY_CLIENT_PS_MULTI_RESULTS | GH_MY_CLIENT_PLUGIN_AUTH | \
	 GH_MY_CLIENT_CONNECT_ATTRS | GH_MY_CLIENT_PLUGIN_AUTH_LENENC |                          \
	 GH_MY_CLIENT_CAN_HANDLE_EXPIRED | GH_MY_CLIENT_SESSION_TRACK | GH_MY_CLIENT_DEPRECATE_EOF)

/* Capabilities that change the shape of later packets: the client and the
 * target must agree on these, or the door cannot relay (mysql_caps_relayable). */
#define GH_MY_FORMAT_CAPS                                                                      \
	(GH_MY_CLIENT_PROTOCOL_41 | GH_MY_CLIENT_SESSION_TRACK | GH_MY_CLIENT_DEPRECATE_EOF |   \
	 GH_MY_CLIENT_MULTI_RESULTS | GH_MY_CLIENT_PS_MULTI_RESULTS | GH_MY_CLIENT_LONG_FLAG)

#define GH_MY_STATUS_MORE_RESULTS 0x0008u
#define GH_MY_STATUS_CURSOR_EXISTS 0x0040u

enum gh_my_cmd {
	GH_MY_COM_QUIT = 0x01,
	GH_MY_COM_INIT_DB = 0x02,
	GH_MY_COM_QUERY = 0x03,
	GH_MY_COM_FIELD_LIST = 0x04,
	GH_MY_COM_STATISTICS = 0x09,
	GH_MY_COM_PING = 0x0e,
	GH_MY_COM_CHANGE_USER = 0x11,
	GH_MY_COM_STMT_PREPARE = 0x16,
	GH_MY_COM_STMT_EXECUTE = 0x17,
	GH_MY_COM_STMT_SEND_LONG_DATA = 0x18,
	GH_MY_COM_STMT_CLOSE = 0x19,
	GH_MY_COM_STMT_RESET = 0x1a,
	GH_MY_COM_SET_OPTION = 0x1b,
	GH_MY_COM_STMT_FETCH = 0x1c,
	GH_MY_COM_RESET_CONNECTION = 0x1f,
};

#define GH_MY_SCRAMBLE_LEN 20
#define GH_MY_FRAME_MAX 0xFFFFFFu /* a frame this long continues in the next one */
#define GH_MY_PLUGIN_NATIVE "mysql_native_password"
#define GH_MY_PLUGIN_SHA2 "caching_sha2_password"
#define GH_MY_PLUGIN_CLEAR "mysql_clear_password"

/* ---- framing ------------------------------------------------------------- */

/* One logical message: frames of GH_MY_FRAME_MAX bytes continued by the
 * next frame, ended by a shorter one. */
struct gh_my_msg {
	size_t used;      /* bytes of the buffer it spans, headers included; 0: incomplete */
	size_t len;       /* payload bytes */
	uint8_t seq;      /* sequence id of its first frame */
	uint8_t next_seq; /* sequence id the next message in this exchange takes */
};

/* Look for a whole message at the start of BUF. 0 with RET->used 0 when
 * more bytes are needed; GH_ELIMIT when its payload would pass MAX (known
 * as soon as the frame headers say so); GH_EINVAL when frame sequence ids
 * do not follow each other. */
int gh_my_msg_scan(const uint8_t *buf, size_t len, size_t max, struct gh_my_msg *ret);
/* Copy the payload of the message M found at the start of BUF (without
 * frame headers) into OUT (appended). */
int gh_my_msg_payload(const uint8_t *buf, const struct gh_my_msg *m, struct gh_buf *out);
/* Append PAYLOAD framed (split into continuation frames as needed) with
 * sequence ids from SEQ; *RET_NEXT_SEQ gets the id after the last frame
 * (may be NULL). */
int gh_my_put_msg(struct gh_buf *out, uint8_t seq, const void *payload, size_t n,
		  uint8_t *ret_next_seq);

/* One frame header: 0 and the payload length / sequence id when LEN >= 4. */
int gh_my_frame_head(const uint8_t *buf, size_t len, size_t *ret_payload, uint8_t *ret_seq);

/* Length-encoded integer at P[0..N): 0, *RET value and *RET_USED bytes;
 * GH_EINVAL on 0xFB/0xFF or truncation. */
int gh_my_lenenc_get(const uint8_t *p, size_t n, uint64_t *ret, size_t *ret_used);
int gh_my_lenenc_put(struct gh_buf *out, uint64_t v);

/* ---- handshake v10 (server greeting) --------------------------------------- */

struct gh_my_greeting {
	char *version;                      /* server version string */
	uint32_t conn_id;
	uint8_t scramble[GH_MY_SCRAMBLE_LEN];
	size_t scramble_len;                /* bytes of SCRAMBLE used (20 for the usual plugins) */
	uint32_t caps;
	uint8_t charset;
	uint16_t status;
	char *plugin;                       /* auth plugin name, "" when none */
};

/* Build a greeting payload from G (VERSION and PLUGIN must be set). */
int gh_my_greeting_build(const struct gh_my_greeting *g, struct gh_buf *out);
/* Parse a target's greeting payload (an ERR payload gives GH_ECONN). */
int gh_my_greeting_parse(const uint8_t *p, size_t n, struct gh_my_greeting *ret);
void gh_my_greeting_free(struct gh_my_greeting *g);
/* Fill SCRAMBLE with 20 random printable bytes, none 0 or '$' (as servers do). */
void gh_my_scramble_new(uint8_t scramble[GH_MY_SCRAMBLE_LEN]);

/* ---- HandshakeResponse41 (and the SSL request) ------------------------- */

#define GH_MY_MAX_ATTRS 64
#define GH_MY_MAX_NAME 512 /* user, database and plugin names */

struct gh_my_attr {
	char *key, *value;
};

struct gh_my_hsresp {
	uint32_t caps;
	uint32_t max_packet;
	uint8_t charset;
	bool ssl_request;     /* the 32-byte SSL request: nothing below is set */
	char *user;
	uint8_t *auth;        /* sodium memory; NULL when AUTH_LEN is 0 */
	size_t auth_len;
	char *database;       /* NULL when not given */
	char *plugin;         /* "" when not given */
	struct gh_my_attr *attrs;
	size_t n_attrs;
	/* the raw attribute block (lenenc pairs), for passing on; borrowed from
	 * nothing: a heap copy */
	uint8_t *attrs_raw;
	size_t attrs_raw_len;
};

/* Parse a client's answer to the greeting. Pre-4.1 answers give GH_EINVAL. */
int gh_my_hsresp_parse(const uint8_t *p, size_t n, struct gh_my_hsresp *ret);
void gh_my_hsresp_free(struct gh_my_hsresp *r);
/* Build one (client side): user, auth bytes, optional database, plugin,
 * optional raw attribute block. An SSL request when R->ssl_request. */
int gh_my_hsresp_build(const struct gh_my_hsresp *r, struct gh_buf *out);

/* ---- server side of the password exchange -------------------------------- */

/* AuthSwitchRequest: 0xFE, PLUGIN, DATA (a scramble), NUL. */
int gh_my_auth_switch_build(const char *plugin, const uint8_t *data, size_t n,
			    struct gh_buf *out);
/* AuthMoreData: 0x01 then DATA (0x04 asks for full authentication). */
int gh_my_auth_more_build(const uint8_t *data, size_t n, struct gh_buf *out);
/* The client's cleartext password packet (caching_sha2 full authentication
 * over TLS, or mysql_clear_password): the bytes up to a NUL or the end.
 * *RET is sodium memory, NUL-terminated; free with gh_my_secret_free. */
int gh_my_clear_password_parse(const uint8_t *p, size_t n, char **ret);
char *gh_my_secret_free(char *s);

/* ---- password algorithms ------------------------------------------------- */

/* mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))). */
int gh_my_native_scramble(const char *password, const uint8_t *scramble, size_t scramble_len,
			  uint8_t ret[20]);
/* caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble). */
int gh_my_sha2_scramble(const char *password, const uint8_t *scramble, size_t scramble_len,
			uint8_t ret[32]);
/* caching_sha2/sha256 full authentication without TLS: (PW + NUL) XOR the
 * scramble (repeated), RSA-OAEP(SHA1) encrypted with the PEM public key.
 * *RET_LEN bytes in *RET (malloc, caller frees). */
int gh_my_rsa_password(const char *password, const uint8_t *scramble, size_t scramble_len,
		       const char *pem, size_t pem_len, uint8_t **ret, size_t *ret_len);

/* ---- client side: logging in to the target ------------------------------- */

enum gh_my_login_state {
	GH_MY_LOGIN_SEND = 1,   /* OUT holds a payload to send; read the next target packet */
	GH_MY_LOGIN_READ,       /* nothing to send: read the next target packet */
	GH_MY_LOGIN_TLS,        /* OUT holds the SSL request: send it, start TLS, call again with n 0 */
	GH_MY_LOGIN_DONE,       /* logged in: the payload fed last was the target's OK */
};

struct gh_my_login_opts {
	const char *user;          /* account name on the target */
	const char *password;      /* the stored secret (borrowed, sodium memory) */
	const char *database;      /* NULL: none */
	const uint8_t *attrs_raw;  /* client's connect attributes to pass on (may be NULL) */
	size_t attrs_raw_len;
	uint32_t client_caps;      /* what the user's client negotiated with Gatehouse */
	uint8_t charset;
	bool tls;                  /* ask the target for TLS (fails if it cannot) */
	const char *rsa_pem;       /* pinned target public key (NULL: ask the server; only
	                            * when ALLOW_KEY_REQUEST) */
	bool allow_key_request;
};

struct gh_my_login {
	struct gh_my_login_opts o;
	struct gh_my_greeting g;
	uint32_t caps;            /* negotiated with the target */
	bool have_greeting, in_tls, sent_response, key_requested;
	char *plugin;             /* current plugin */
	uint8_t scramble[GH_MY_SCRAMBLE_LEN];
	size_t scramble_len;
	uint16_t err_code;        /* the target's ERR, when it refused */
	char err_msg[256];
};

/* Start a login with O (borrowed: must outlive L). */
void gh_my_login_init(struct gh_my_login *l, const struct gh_my_login_opts *o);
/* Feed the payload of the target's next packet (the first: its greeting;
 * after GH_MY_LOGIN_TLS: N 0 once TLS is up). Appends the next payload to
 * send to OUT and sets *RET_STATE. GH_EAUTH with L->err_* when the target
 * refused; GH_EPERM when it would need something not allowed (TLS it lacks,
 * cleartext without TLS, a key request not allowed); GH_EINVAL otherwise. */
int gh_my_login_step(struct gh_my_login *l, const uint8_t *p, size_t n, struct gh_buf *out,
		     int *ret_state);
void gh_my_login_free(struct gh_my_login *l);
/* Whether a client that negotiated CLIENT_CAPS can be relayed to a target
 * that offers TARGET_CAPS (they agree on GH_MY_FORMAT_CAPS). */
bool gh_my_caps_relayable(uint32_t client_caps, uint32_t target_caps);

/* ---- OK / ERR ------------------------------------------------------------ */

/* ERR payload: 0xFF, CODE, '#', SQLSTATE (5 chars), MSG (control
 * characters replaced; at most 400 bytes). */
int gh_my_err_build(uint16_t code, const char *sqlstate, const char *msg, struct gh_buf *out);
/* The statement refusal: 1227 / 42000 "rejected by Gatehouse: rule NAME". */
int gh_my_err_rejected(const char *rule, struct gh_buf *out);
/* Parse an ERR payload: code and message (truncated into MSG). */
int gh_my_err_parse(const uint8_t *p, size_t n, uint16_t *ret_code, char *msg, size_t msglen);
/* Parse an OK payload (0x00, or 0xFE in DEPRECATE_EOF mode). */
int gh_my_ok_parse(const uint8_t *p, size_t n, uint64_t *ret_affected, uint16_t *ret_status);

/* ---- commands ------------------------------------------------------------ */

struct gh_my_command {
	uint8_t cmd;          /* enum gh_my_cmd or another byte */
	const uint8_t *text;  /* view: COM_QUERY / COM_STMT_PREPARE text, COM_INIT_DB schema */
	size_t text_len;
	uint32_t stmt_id;     /* COM_STMT_EXECUTE / CLOSE / RESET / SEND_LONG_DATA / FETCH */
};

/* Parse a command payload (the client's first message of an exchange). */
int gh_my_command_parse(const uint8_t *p, size_t n, struct gh_my_command *ret);
/* Parse COM_STMT_PREPARE's OK: statement id, columns, parameters. */
int gh_my_prepare_ok_parse(const uint8_t *p, size_t n, uint32_t *ret_id, uint16_t *ret_cols,
			   uint16_t *ret_params);

/* Prepared statements' texts by id (bounded count and size). */
struct gh_my_stmts;
int gh_my_stmts_new(size_t max_count, struct gh_my_stmts **ret);
struct gh_my_stmts *gh_my_stmts_free(struct gh_my_stmts *s);
/* Remember TEXT for ID (replacing; GH_ELIMIT when full). */
int gh_my_stmts_put(struct gh_my_stmts *s, uint32_t id, const uint8_t *text, size_t n);
/* The text for ID (0xFFFFFFFF: the last prepared, as MariaDB allows); NULL
 * when unknown. Borrowed until the next put/drop. */
const char *gh_my_stmts_get(const struct gh_my_stmts *s, uint32_t id);
void gh_my_stmts_drop(struct gh_my_stmts *s, uint32_t id);

/* ---- where a response ends ----------------------------------------------- */

enum gh_my_resp_kind {
	GH_MY_RESP_NONE = 0,  /* the command has no response */
	GH_MY_RESP_RESULT,    /* OK, ERR or result sets (QUERY, EXECUTE) */
	GH_MY_RESP_PREPARE,   /* COM_STMT_PREPARE's answer */
	GH_MY_RESP_FIELDS,    /* column definitions then EOF (FIELD_LIST) */
	GH_MY_RESP_ROWS,      /* rows then EOF/OK (STMT_FETCH) */
	GH_MY_RESP_SIMPLE,    /* one packet, whatever it is (STATISTICS, OK/ERR ones) */
};

/* The response kind of command byte CMD. */
enum gh_my_resp_kind gh_my_resp_kind_of(uint8_t cmd);

struct gh_my_resp {
	int kind;
	bool deprecate_eof;
	int state;
	uint64_t cols_left;   /* column/parameter definitions still to come */
	int after_cols;       /* state after the definitions */
	bool cont;            /* the last frame was GH_MY_FRAME_MAX long */
	bool done;
	/* outcome */
	uint64_t rows;        /* rows returned, all result sets */
	uint64_t affected;    /* rows affected, summed over OKs */
	bool error;
	uint16_t err_code;
	char err_msg[256];
	uint32_t stmt_id;     /* PREPARE: the new statement's id */
};

/* The head of a frame needed to judge it: the first GH_MY_HEAD bytes (or
 * the whole frame when shorter). */
#define GH_MY_HEAD 64

void gh_my_resp_init(struct gh_my_resp *r, enum gh_my_resp_kind kind, bool deprecate_eof);
/* Feed one frame of the response: HEAD holds its first min(FRAME_LEN,
 * GH_MY_HEAD) payload bytes (or more), FRAME_LEN its payload length.
 * R->done becomes true after the frame that ends the response. GH_EINVAL
 * when the frame cannot be part of such a response. */
int gh_my_resp_frame(struct gh_my_resp *r, const uint8_t *head, size_t head_len,
		     size_t frame_len);
