/* SFTP-aware packet relay core: pure logic, no libssh.
 *
 * One struct gh_sftp per relayed "sftp" subsystem channel. The relay feeds
 * it the raw channel data of both directions in whatever chunks libssh
 * delivers; it parses SFTP v3 framing (draft-ietf-secsh-filexfer-02 plus the
 * OpenSSH extensions), asks the authorize hook about every request that
 * names a path, answers refused requests itself (SSH_FXP_STATUS
 * PERMISSION_DENIED with the request's id; the target never sees them),
 * tracks open handles and the bytes that flow through them, and reports
 * finished file operations to the event hook. Everything else passes
 * through byte for byte: the client's pipelining is untouched.
 *
 * Data packets (WRITE from the client, DATA/NAME/ATTRS replies from the
 * target) are parsed by header only and streamed: their payload is copied
 * once, from the caller's input into the output buffer, even when the
 * packet spans many input chunks. No allocation happens per data packet.
 *
 * Output toward the client only ever receives whole packets, so locally
 * synthesized replies never split a target reply. For that to hold the
 * caller MUST pass the same TO_CLIENT buffer to gh_sftp_from_client() and
 * gh_sftp_from_target().
 *
 * See docs/SFTP.md for the action mapping and limits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packet types (values equal libssh's SSH_FXP_*; prefixed to avoid macro
 * clashes with <libssh/sftp.h>). */
enum {
	GH_FXP_INIT = 1,
	GH_FXP_VERSION = 2,
	GH_FXP_OPEN = 3,
	GH_FXP_CLOSE = 4,
	GH_FXP_READ = 5,
	GH_FXP_WRITE = 6,
	GH_FXP_LSTAT = 7,
	GH_FXP_FSTAT = 8,
	GH_FXP_SETSTAT = 9,
	GH_FXP_FSETSTAT = 10,
	GH_FXP_OPENDIR = 11,
	GH_FXP_READDIR = 12,
	GH_FXP_REMOVE = 13,
	GH_FXP_MKDIR = 14,
	GH_FXP_RMDIR = 15,
	GH_FXP_REALPATH = 16,
	GH_FXP_STAT = 17,
	GH_FXP_RENAME = 18,
	GH_FXP_READLINK = 19,
	GH_FXP_SYMLINK = 20,
	GH_FXP_STATUS = 101,
	GH_FXP_HANDLE = 102,
	GH_FXP_DATA = 103,
	GH_FXP_NAME = 104,
	GH_FXP_ATTRS = 105,
	GH_FXP_EXTENDED = 200,
	GH_FXP_EXTENDED_REPLY = 201,
};

/* Status codes (SSH_FX_*). */
enum {
	GH_FX_OK = 0,
	GH_FX_EOF = 1,
	GH_FX_NO_SUCH_FILE = 2,
	GH_FX_PERMISSION_DENIED = 3,
	GH_FX_FAILURE = 4,
	GH_FX_BAD_MESSAGE = 5,
	GH_FX_NO_CONNECTION = 6,
	GH_FX_CONNECTION_LOST = 7,
	GH_FX_OP_UNSUPPORTED = 8,
};

/* OPEN pflags (SSH_FXF_*). */
enum {
	GH_FXF_READ = 0x01,
	GH_FXF_WRITE = 0x02,
	GH_FXF_APPEND = 0x04,
	GH_FXF_CREAT = 0x08,
	GH_FXF_TRUNC = 0x10,
	GH_FXF_EXCL = 0x20,
};

#define GH_SFTP_VERSION 3
#define GH_SFTP_MAX_HANDLE 256          /* longest handle string (draft-02) */
#define GH_SFTP_MIN_PACKET 34000        /* every server must accept this */
#define GH_SFTP_DEFAULT_PACKET (256 * 1024) /* OpenSSH SFTP_MAX_MSG_LENGTH */
#define GH_SFTP_DEFAULT_REQUESTS 1024
#define GH_SFTP_DEFAULT_HANDLES 1024

/* ---- Growable byte buffer ------------------------------------------------
 * Unconsumed bytes are DATA + OFF .. DATA + OFF + LEN. Appends fail with
 * GH_ELIMIT when LEN would exceed CAP (0: no cap). The buffer owns DATA;
 * release it with gh_sftp_buf_release(). Zero-initialisation plus a cap is a
 * valid empty buffer. */
struct gh_sftp_buf {
	uint8_t *data;
	size_t off;
	size_t len;
	size_t size;  /* allocated bytes */
	size_t cap;   /* most unconsumed bytes allowed; 0 = unbounded */
};

void gh_sftp_buf_init(struct gh_sftp_buf *b, size_t cap);
void gh_sftp_buf_release(struct gh_sftp_buf *b);
/* GH_ELIMIT over the cap, GH_ENOMEM; on error nothing is appended. */
int gh_sftp_buf_append(struct gh_sftp_buf *b, const void *p, size_t n);
/* Drop N (<= len) bytes from the front. */
void gh_sftp_buf_consume(struct gh_sftp_buf *b, size_t n);
static inline const uint8_t *gh_sftp_buf_data(const struct gh_sftp_buf *b)
{
	return b->data ? b->data + b->off : NULL;
}
static inline size_t gh_sftp_buf_len(const struct gh_sftp_buf *b)
{
	return b->len;
}

/* ---- Engine --------------------------------------------------------------- */
struct gh_sftp;

/* One operation, as shown to the authorize hook and inside events. Every
 * string is borrowed for the duration of the hook call only; paths are
 * exactly as the client sent them (relative to the remote home or
 * absolute) and never contain NUL (such requests are refused). */
struct gh_sftp_op {
	int op;               /* GH_FXP_* of the request */
	const char *ext;      /* GH_FXP_EXTENDED: extension name, else NULL */
	uint32_t action;      /* GH_ACT_* bits needed (store/store.h); 0: none */
	const char *path;     /* the path, or the handle's path; NULL when none */
	const char *path2;    /* RENAME/hardlink: new path; SYMLINK: link target
			       * text; copy-data: destination; else NULL */
	uint32_t pflags;      /* OPEN (and CLOSE events of files): GH_FXF_* */
};

struct gh_sftp_event {
	struct gh_sftp_op op; /* op.op is GH_FXP_CLOSE for a file that was open */
	bool denied;          /* refused by Gatehouse; the target never saw it */
	int status;           /* GH_FX_* of the final reply (PERMISSION_DENIED when
			       * denied); -1: no STATUS (channel ended first, or
			       * the target answered with another type) */
	uint64_t bytes_read;  /* CLOSE events: DATA bytes read through the handle */
	uint64_t bytes_written; /* CLOSE events: WRITE bytes the target acknowledged */
};

struct gh_sftp_hooks {
	/* Return 0 to allow, anything else (GH_EPERM) to refuse. Called for
	 * every request that names a path or changes state, with op->action
	 * the GH_ACT_* bits it needs; a typical hook is
	 * `return (op->action & ~allowed) ? GH_EPERM : 0;`. Must not block.
	 * NULL allows everything. */
	int (*authorize)(void *ud, const struct gh_sftp_op *op);
	/* A finished operation: every request that needed an action bit (when
	 * its reply arrives; files at CLOSE with byte counts) and every
	 * refused request. May be NULL. Must not block. */
	void (*event)(void *ud, const struct gh_sftp_event *ev);
	void *ud;
};

struct gh_sftp_limits {
	size_t max_packet;      /* largest packet length field; 0: 256 KiB;
				 * at least GH_SFTP_MIN_PACKET, at most 16 MiB */
	unsigned max_requests;  /* outstanding requests; 0: 1024; more is a
				 * malformed stream */
	unsigned max_handles;   /* open + opening handles; 0: 1024; more get
				 * SSH_FX_FAILURE locally */
};

struct gh_sftp_stats {
	uint64_t bytes_read;    /* DATA payload bytes, target -> client */
	uint64_t bytes_written; /* WRITE payload bytes acknowledged by the target */
	uint64_t requests;      /* requests passed to the target */
	uint64_t denied;        /* requests refused locally (policy) */
	uint32_t files;         /* file handles opened */
};

/* HOOKS is copied; LIMITS may be NULL (defaults). Caller frees *RET with
 * gh_sftp_free(). GH_EINVAL for out-of-range limits, GH_ENOMEM. */
int gh_sftp_new(const struct gh_sftp_hooks *hooks, const struct gh_sftp_limits *limits,
		struct gh_sftp **ret);

/* Client -> target bytes. Consumes all of IN (partial packets are kept
 * inside, up to max_packet); appends what must reach the target to
 * TO_TARGET (never more than LEN bytes) and locally synthesized replies to
 * TO_CLIENT (about 3 bytes per input byte at worst, for a flood of refused
 * requests). Returns 0; GH_EINVAL for a malformed stream (gh_sftp_error()
 * says why); GH_ELIMIT when an output buffer is full; GH_ENOMEM. After an
 * error the stream is dead: every later call returns the same error, and
 * the caller closes the channel. Output appended before an error is whole
 * packets except possibly the last. */
int gh_sftp_from_client(struct gh_sftp *s, const void *in, size_t len,
			struct gh_sftp_buf *to_target, struct gh_sftp_buf *to_client);

/* Target -> client bytes: passes replies through to TO_CLIENT (the same
 * buffer as above), tracking handles, statuses and byte counts. A reply
 * whose id matches no outstanding request, a HANDLE reply to anything but
 * OPEN/OPENDIR, or a VERSION other than 3 is a malformed stream. Same
 * return values as gh_sftp_from_client(). */
int gh_sftp_from_target(struct gh_sftp *s, const void *in, size_t len,
			struct gh_sftp_buf *to_client);

/* The channel ended: report every file still open as a CLOSE event with
 * status -1 and its byte counts, and forget it. Call once, before free. */
void gh_sftp_finish(struct gh_sftp *s);

/* Static text: why the stream was declared malformed ("" when it was not). */
const char *gh_sftp_error(const struct gh_sftp *s);
/* Negotiated version (3), or 0 before the target's VERSION. */
uint32_t gh_sftp_version(const struct gh_sftp *s);
/* The target's answer to the client's first REALPATH "." (the remote home
 * directory), or NULL. Borrowed; lives as long as S. */
const char *gh_sftp_home(const struct gh_sftp *s);
void gh_sftp_get_stats(const struct gh_sftp *s, struct gh_sftp_stats *ret);

/* Frees everything; accepts NULL; does not call hooks. Returns NULL. */
struct gh_sftp *gh_sftp_free(struct gh_sftp *s);
