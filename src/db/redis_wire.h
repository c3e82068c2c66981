/* The Redis protocol (RESP2/RESP3) as pure, bounds-checked functions over
 * byte buffers: requests (arrays of bulk strings and inline commands),
 * where each reply ends (streamed, never held whole), AUTH / HELLO AUTH,
 * error replies and the audit text of a command (secret arguments masked).
 * No sockets, no logging.
 *
 * Errors: GH_EINVAL for malformed input, GH_ELIMIT past a bound, GH_ENOMEM.
 * Pointers named "view" borrow the caller's buffer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct gh_redis_limits {
	size_t max_args;   /* arguments per command */
	size_t max_total;  /* bytes of one command (the statement size limit) */
	size_t max_inline; /* bytes of one inline command line */
};

#define GH_REDIS_LIMITS_DEFAULT                                                   \
	((struct gh_redis_limits){ .max_args = 65536, .max_total = 64u << 20,       \
				   .max_inline = 64u << 10 })

struct gh_redis_req {
	size_t used;           /* input bytes this command spans; 0: incomplete */
	size_t argc;           /* 0 for an empty inline line (skip it) */
	const uint8_t **argv;  /* views into the input, or into INL (inline form) */
	size_t *argl;
	bool inline_form;
	uint8_t *inl;          /* inline form: the unquoted arguments */
};

/* Parse the command at the start of BUF. 0 with RET->used 0 when more
 * bytes are needed (RET holds nothing then). RET's arrays are owned by
 * RET (gh_redis_req_free); its views borrow BUF. */
int gh_redis_req_parse(const uint8_t *buf, size_t len, const struct gh_redis_limits *lim,
		       struct gh_redis_req *ret);
void gh_redis_req_free(struct gh_redis_req *r);

/* Whether argument I of R equals NAME, ignoring ASCII case. */
bool gh_redis_arg_is(const struct gh_redis_req *r, size_t i, const char *name);

/* Append a command as an array of bulk strings. */
int gh_redis_put_command(struct gh_buf *out, size_t argc, const uint8_t *const *argv,
			 const size_t *argl);

/* AUTH [user] password, or HELLO protover [AUTH user password] [SETNAME n]. */
struct gh_redis_auth {
	bool hello;               /* HELLO (PROTO is its version, 0 when none given) */
	int proto;
	const uint8_t *user;      /* view; NULL for the one-argument AUTH */
	size_t user_len;
	const uint8_t *pass;      /* view; NULL for a HELLO without AUTH */
	size_t pass_len;
	const uint8_t *setname;   /* view; NULL when none */
	size_t setname_len;
};

/* GH_ENOENT when R is neither AUTH nor HELLO; GH_EINVAL when malformed. */
int gh_redis_auth_parse(const struct gh_redis_req *r, struct gh_redis_auth *ret);
/* The HELLO to pass on to the target: HELLO PROTO [SETNAME name], no AUTH. */
int gh_redis_hello_build(const struct gh_redis_auth *a, struct gh_buf *out);

/* The audit text: the arguments separated by spaces, quoted ("...", with
 * \xHH escapes) when not plain; passwords masked as "***" (AUTH, HELLO ...
 * AUTH, MIGRATE ... AUTH/AUTH2, ACL SETUSER >pw/#hash, CONFIG SET
 * requirepass/masterauth); cut to MAX bytes with "..." appended. */
int gh_redis_audit_text(const struct gh_redis_req *r, size_t max, struct gh_buf *out);

/* "-ERR MSG\r\n" (CR, LF and other control bytes in MSG replaced). */
int gh_redis_err_build(const char *msg, struct gh_buf *out);
/* "-ERR rejected by Gatehouse: rule NAME\r\n". */
int gh_redis_err_rejected(const char *rule, struct gh_buf *out);

/* ---- where a reply ends --------------------------------------------------- */

#define GH_REDIS_MAX_DEPTH 128

struct gh_redis_scan {
	/* open aggregates: elements still to come; ATTR when it is an attribute */
	int64_t left[GH_REDIS_MAX_DEPTH];
	bool attr[GH_REDIS_MAX_DEPTH];
	size_t depth;
	bool busy;            /* inside a reply */
	/* the header line being read */
	char line[40];
	size_t line_len;      /* bytes seen of the line (may pass sizeof line) */
	char line_type;
	uint8_t line_last;    /* its last byte so far */
	bool in_line;
	uint64_t bulk_left;   /* bulk payload bytes still to come */
	int crlf_left;        /* 2 or 1 while reading the CRLF after a bulk, else 0 */
	bool bulk_is_error;
	/* the outcome of the reply that ended last */
	char type;            /* its first byte */
	bool push;            /* a RESP3 push ('>'), not an answer to a command */
	bool error;
	char err[200];        /* its error text (first bytes, control bytes replaced) */
	size_t err_len;
	int64_t count;        /* elements of an aggregate, or the integer of ':' */
};

void gh_redis_scan_init(struct gh_redis_scan *s);
/* Feed N bytes of the target's output. Consumes up to the end of the
 * current reply: *RET_USED bytes, and *RET_DONE true when a reply ended
 * there (its outcome is in S until the next feed). Call again with the
 * rest. GH_EINVAL on bytes that are not RESP (the stream is then lost). */
int gh_redis_scan_feed(struct gh_redis_scan *s, const uint8_t *p, size_t n, size_t *ret_used,
		       bool *ret_done);
