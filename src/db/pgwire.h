/* PostgreSQL's frontend/backend protocol (version 3), the parts the
 * gateway reads and writes: bounds-checked, no I/O (src/db/pg.c does the
 * I/O). Every parser reads only the LEN bytes it is given and returns
 * GH_EINVAL on anything malformed: a string without its NUL, a count
 * past the end, a length field that lies.
 *
 * A message is a type byte and a big-endian int32 length counting itself
 * (not the type); the startup packets have no type byte. BODY below is
 * what follows the length. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define GH_PG_PROTO_3 196608u
#define GH_PG_SSL_REQUEST 80877103u
#define GH_PG_CANCEL_REQUEST 80877102u
#define GH_PG_GSSENC_REQUEST 80877104u
#define GH_PG_STARTUP_MAX 10000u /* bytes of a startup packet (as the server) */
#define GH_PG_NAME_MAX 255u      /* bytes of a user or database name we take */

uint32_t gh_pg_be32(const uint8_t *p);

/* A startup packet's body (after its length): the code, then for
 * GH_PG_PROTO_3 the parameters. */
struct gh_pg_startup {
	uint32_t code;
	char user[GH_PG_NAME_MAX + 1];
	char database[GH_PG_NAME_MAX + 1]; /* "" when absent */
	bool replication;                  /* a replication connection asked for */
	/* the other parameters, "name\0value\0" pairs, for the server */
	uint8_t params[GH_PG_STARTUP_MAX];
	size_t params_len;
};
/* 0, or GH_EINVAL (a name too long, no user for PROTO_3, bad layout). */
int gh_pg_startup_parse(const uint8_t *body, size_t len, struct gh_pg_startup *ret);

/* The NUL-terminated string at *OFF in P (LEN bytes): *RET (borrowed) and
 * *RET_LEN, *OFF moved past its NUL. GH_EINVAL when no NUL. */
int gh_pg_cstr(const uint8_t *p, size_t len, size_t *off, const char **ret, size_t *ret_len);

/* Query ('Q'): its text. */
int gh_pg_query(const uint8_t *body, size_t len, const char **ret, size_t *ret_len);
/* Parse ('P'): statement name and text (the parameter types are checked
 * to fit). */
int gh_pg_parse(const uint8_t *body, size_t len, const char **ret_name, const char **ret_text,
		size_t *ret_len);
/* ErrorResponse / NoticeResponse: the severity ('S'), SQLSTATE ('C') and
 * message ('M') fields (borrowed; "" when absent). */
int gh_pg_error_fields(const uint8_t *body, size_t len, const char **ret_sev,
		       const char **ret_code, const char **ret_msg);
/* A CommandComplete tag's row count ("INSERT 0 5" -> 5, "SELECT 3" -> 3,
 * "CREATE TABLE" -> -1). TAG is NUL-terminated. */
int64_t gh_pg_tag_rows(const char *tag);
/* ParameterStatus: name and value (borrowed). */
int gh_pg_param_status(const uint8_t *body, size_t len, const char **ret_name,
		       const char **ret_value);

/* ---- writers (append to B; errors sticky in B) ---- */
void gh_pg_put_msg(struct gh_buf *b, char type, const void *body, size_t len);
/* ErrorResponse with SEVERITY ("ERROR", "FATAL"), CODE (SQLSTATE) and MSG. */
void gh_pg_put_error(struct gh_buf *b, const char *severity, const char *code, const char *msg);
void gh_pg_put_auth(struct gh_buf *b, uint32_t code);
void gh_pg_put_ready(struct gh_buf *b, char status);
/* The startup packet to the server: user, database (when not empty) and
 * the client's other PARAMS. */
void gh_pg_put_startup(struct gh_buf *b, const char *user, const char *database,
		       const uint8_t *params, size_t params_len);

/* ---- authentication towards the server ---- */

/* md5: "md5" + hex(md5(hex(md5(password + user)) + salt)) into RET (36). */
int gh_pg_md5_password(const char *user, const char *password, const uint8_t salt[4],
		       char ret[36]);

/* SCRAM-SHA-256 (RFC 5802, 7677) as a client, without channel binding. */
struct gh_pg_scram {
	char nonce[32];          /* the client's nonce (base64) */
	char first_bare[64];     /* "n=,r=NONCE" */
	uint8_t server_sig[32];  /* expected in the server's final message */
};
/* Mechanisms list ("SCRAM-SHA-256\0...\0\0"): true when SCRAM-SHA-256 is. */
bool gh_pg_sasl_has_scram(const uint8_t *body, size_t len);
/* The client-first message ("n,,n=,r=NONCE") into B. */
int gh_pg_scram_first(struct gh_pg_scram *s, struct gh_buf *b);
/* From the server-first message (SF, LEN bytes), the client-final message
 * with its proof into B. GH_EINVAL on a malformed message, a nonce not
 * extending ours or iterations out of 1..GH_PG_SCRAM_MAX_ITER. */
#define GH_PG_SCRAM_MAX_ITER 10000000
int gh_pg_scram_final(struct gh_pg_scram *s, const char *password, const uint8_t *sf,
		      size_t len, struct gh_buf *b);
/* The server-final message ("v=SIG"): 0 when its signature is right,
 * GH_EAUTH otherwise. */
int gh_pg_scram_verify(const struct gh_pg_scram *s, const uint8_t *msg, size_t len);
