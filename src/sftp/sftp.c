/* SFTP-aware packet relay core (see sftp/sftp.h and docs/SFTP.md).
 *
 * Each direction is a small state machine over the byte stream:
 *   - at a packet boundary, bytes are parsed straight from the caller's
 *     input when enough of them are contiguous there, else gathered in the
 *     direction's hold buffer (at most the packet, at most max_packet + 4);
 *   - a parser looks at the first AVAIL bytes of a packet of TOTAL bytes
 *     and either asks for more (NEED, never beyond TOTAL) or decides: pass
 *     the packet on (the bytes seen are appended, the rest is streamed with
 *     `pass`), drop it (the rest is skipped with `skip`), or it has already
 *     emitted the packet itself (rewritten replies).
 * Data packets are decided on their header, so their payload is copied
 * once; other packets are decided when whole. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sftp/sftp.h"
#include "store/store.h"

#define MAX_PATH 4096           /* longer paths get SSH_FX_FAILURE locally */
#define MAX_EXT_NAME 256
#define MAX_PACKET_LIMIT (16u * 1024 * 1024)
#define FILE_ACTIONS (GH_ACT_UPLOAD | GH_ACT_DOWNLOAD | GH_ACT_DELETE)

enum disp { D_PASS, D_DROP, D_EMITTED };

/* Known extended requests. */
enum ext {
	EXT_NONE = 0,
	EXT_POSIX_RENAME,
	EXT_HARDLINK,
	EXT_LSETSTAT,
	EXT_STATVFS,
	EXT_FSTATVFS,
	EXT_FSYNC,
	EXT_LIMITS,
	EXT_EXPAND_PATH,
	EXT_HOME_DIRECTORY,
	EXT_USERS_GROUPS,
	EXT_COPY_DATA,
	EXT_UNKNOWN,
};

static const struct {
	const char *name;
	enum ext ext;
} ext_table[] = {
	{ "posix-rename@openssh.com", EXT_POSIX_RENAME },
	{ "hardlink@openssh.com", EXT_HARDLINK },
	{ "lsetstat@openssh.com", EXT_LSETSTAT },
	{ "statvfs@openssh.com", EXT_STATVFS },
	{ "fstatvfs@openssh.com", EXT_FSTATVFS },
	{ "fsync@openssh.com", EXT_FSYNC },
	{ "limits@openssh.com", EXT_LIMITS },
	{ "expand-path@openssh.com", EXT_EXPAND_PATH },
	{ "home-directory", EXT_HOME_DIRECTORY },
	{ "users-groups-by-id@openssh.com", EXT_USERS_GROUPS },
	{ "copy-data", EXT_COPY_DATA },
};

struct handle {
	uint32_t hash;
	uint16_t hlen;
	bool dir;
	bool closing;      /* CLOSE sent: no new requests may name it */
	unsigned refs;     /* the table's + one per outstanding request */
	uint32_t pflags;
	uint32_t action;
	uint64_t rd, wr;
	char *path;        /* owned */
	uint8_t h[GH_SFTP_MAX_HANDLE];
};

struct req {
	bool used;
	uint8_t op;        /* GH_FXP_* */
	uint8_t ext;       /* enum ext */
	bool home;         /* REALPATH "." whose answer is the home directory */
	uint32_t id;
	uint32_t action;
	uint32_t pflags;
	uint32_t wlen;     /* WRITE: payload bytes */
	struct handle *h;  /* ref held: READ, WRITE, CLOSE */
	char *path;        /* owned: OPEN/OPENDIR and requests that make events */
	char *path2;       /* owned */
	char *ext_name;    /* owned: unknown extensions */
};

struct dir {
	uint8_t *hold;     /* owned */
	size_t hold_len;
	size_t hold_size;
	size_t need;       /* bytes the parser wants before it runs again */
	size_t total;      /* 4 + length of the packet being held */
	size_t pass;       /* bytes of the current packet still to copy through */
	size_t skip;       /* bytes of the current packet still to drop */
};

struct gh_sftp {
	struct gh_sftp_hooks hooks;
	size_t max_packet;
	unsigned max_requests;
	unsigned max_handles;
	const char *err;   /* static reason of the stream's death */
	int dead;          /* 0 or the error every call returns */
	bool init_seen;
	bool finished;
	uint32_t version;
	char *home;        /* owned */

	struct req *reqs;  /* open addressing, linear probing */
	unsigned req_bits;
	size_t req_mask;
	unsigned nreq;

	struct handle **hslots; /* open addressing, linear probing */
	unsigned h_bits;
	size_t h_mask;
	unsigned nhandles; /* in the table */
	unsigned nopening; /* OPEN/OPENDIR outstanding */

	struct dir cli, tgt;
	struct gh_sftp_buf pending; /* local replies waiting for the target
				     * stream to reach a packet boundary */
	struct gh_sftp_stats stats;
	char tmp1[MAX_PATH + 1];    /* NUL-terminated copies for the hooks */
	char tmp2[MAX_PATH + 1];
	char tmpx[MAX_EXT_NAME + 1];
};

/* ---- wire helpers -------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* A bounds-checked reader over one packet. */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
	int ret = GH_EINVAL;
	if (r->len - r->off >= 4) {
		*v = be32(r->p + r->off);
		r->off += 4;
		ret = 0;
	}
	return ret;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
	int ret = GH_EINVAL;
	if (r->len - r->off >= 8) {
		*v = be64(r->p + r->off);
		r->off += 8;
		ret = 0;
	}
	return ret;
}

static int rd_str(struct rd *r, const uint8_t **s, uint32_t *n)
{
	uint32_t len = 0;
	int ret = GH_EINVAL;
	size_t start = r->off;
	if (rd_u32(r, &len) == 0 && r->len - r->off >= len) {
		*s = r->p + r->off;
		*n = len;
		r->off += len;
		ret = 0;
	} else {
		r->off = start;
	}
	return ret;
}

static int fail(struct gh_sftp *s, const char *why)
{
	if (!s->dead) {
		s->err = why;
		s->dead = GH_EINVAL;
	}
	return GH_EINVAL;
}

/* Copy a wire string into DST (size DSTLEN) as a C string. 1 when it does
 * not fit or holds a NUL (the request is refused locally), 0 when done. */
static int cstr(char *dst, size_t dstlen, const uint8_t *p, uint32_t n)
{
	int ret = 1;
	if (n < dstlen && !memchr(p, 0, n)) {
		memcpy(dst, p, n);
		dst[n] = '\0';
		ret = 0;
	}
	return ret;
}

/* ---- request table ------------------------------------------------------- */

static size_t req_home(const struct gh_sftp *s, uint32_t id)
{
	return (size_t)((id * 2654435761u) >> (32 - s->req_bits));
}

static struct req *req_find(struct gh_sftp *s, uint32_t id)
{
	struct req *r = NULL;
	for (size_t i = req_home(s, id);; i = (i + 1) & s->req_mask) {
		if (!s->reqs[i].used)
			break;
		if (s->reqs[i].id == id) {
			r = &s->reqs[i];
			break;
		}
	}
	return r;
}

/* Caller checked that ID is absent and the table has room. */
static struct req *req_insert(struct gh_sftp *s, uint32_t id)
{
	size_t i = req_home(s, id);
	while (s->reqs[i].used)
		i = (i + 1) & s->req_mask;
	memset(&s->reqs[i], 0, sizeof s->reqs[i]);
	s->reqs[i].used = true;
	s->reqs[i].id = id;
	s->nreq++;
	return &s->reqs[i];
}

/* Remove slot R (backward-shift deletion); its content is forgotten. */
static void req_remove(struct gh_sftp *s, struct req *r)
{
	size_t i = (size_t)(r - s->reqs), j = i;
	s->reqs[i].used = false;
	for (;;) {
		j = (j + 1) & s->req_mask;
		if (!s->reqs[j].used)
			break;
		size_t k = req_home(s, s->reqs[j].id);
		/* move J back to I unless its home lies cyclically in (I, J] */
		bool stay = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stay) {
			s->reqs[i] = s->reqs[j];
			s->reqs[j].used = false;
			i = j;
		}
	}
	s->nreq--;
}

/* ---- handle table -------------------------------------------------------- */

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static size_t h_home(const struct gh_sftp *s, uint32_t hash)
{
	return (size_t)((hash * 2654435761u) >> (32 - s->h_bits));
}

static size_t h_slot(struct gh_sftp *s, const uint8_t *p, uint32_t n, uint32_t hash)
{
	size_t i = h_home(s, hash);
	while (s->hslots[i]) {
		const struct handle *h = s->hslots[i];
		if (h->hash == hash && h->hlen == n && memcmp(h->h, p, n) == 0)
			break;
		i = (i + 1) & s->h_mask;
	}
	return i;
}

static struct handle *h_find(struct gh_sftp *s, const uint8_t *p, uint32_t n)
{
	struct handle *h = NULL;
	if (n > 0 && n <= GH_SFTP_MAX_HANDLE)
		h = s->hslots[h_slot(s, p, n, hash_bytes(p, n))];
	return h;
}

static void h_unref(struct handle *h)
{
	if (h && --h->refs == 0) {
		free(h->path);
		free(h);
	}
}

static void h_remove(struct gh_sftp *s, struct handle *h)
{
	size_t i = h_slot(s, h->h, h->hlen, h->hash), j = i;
	s->hslots[i] = NULL;
	for (;;) {
		j = (j + 1) & s->h_mask;
		if (!s->hslots[j])
			break;
		size_t k = h_home(s, s->hslots[j]->hash);
		bool stay = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stay) {
			s->hslots[i] = s->hslots[j];
			s->hslots[j] = NULL;
			i = j;
		}
	}
	s->nhandles--;
	h_unref(h);
}

/* ---- hooks and local replies -------------------------------------------- */

static bool allowed(struct gh_sftp *s, const struct gh_sftp_op *op)
{
	return !s->hooks.authorize || s->hooks.authorize(s->hooks.ud, op) == 0;
}

static void emit(struct gh_sftp *s, const struct gh_sftp_op *op, bool denied, int status,
		 uint64_t rd, uint64_t wr)
{
	if (s->hooks.event) {
		struct gh_sftp_event ev = { .op = *op, .denied = denied, .status = status,
					    .bytes_read = rd, .bytes_written = wr };
		s->hooks.event(s->hooks.ud, &ev);
	}
}

/* Queue an SSH_FXP_STATUS for request ID toward the client: straight into
 * TO_CLIENT when the target stream is between packets there, else into
 * `pending`, flushed by gh_sftp_from_target at the next boundary. */
static int reply_status(struct gh_sftp *s, uint32_t id, uint32_t code, const char *msg,
			struct gh_sftp_buf *to_client)
{
	uint8_t pkt[64];
	size_t mlen = strlen(msg), n = 4 + 1 + 4 + 4 + 4 + mlen + 4;
	struct gh_sftp_buf *out = (s->tgt.pass || s->pending.len) ? &s->pending : to_client;
	put32(pkt, (uint32_t)(n - 4));
	pkt[4] = GH_FXP_STATUS;
	put32(pkt + 5, id);
	put32(pkt + 9, code);
	put32(pkt + 13, (uint32_t)mlen);
	memcpy(pkt + 17, msg, mlen);
	put32(pkt + 17 + mlen, 0); /* language tag "" */
	return gh_sftp_buf_append(out, pkt, n);
}

static void req_release(struct req *r)
{
	h_unref(r->h);
	free(r->path);
	free(r->path2);
	free(r->ext_name);
}

/* ---- client -> target ---------------------------------------------------- */

/* What one request needs, gathered by the parser before the decision. */
struct decision {
	struct gh_sftp_op op;
	enum ext ext;
	struct handle *h;
	bool keep_paths;   /* copy the paths into the request (events, handles) */
	bool ask;          /* call the authorize hook */
	bool home;
	uint32_t wlen;
	const char *local_msg; /* refuse locally with LOCAL_CODE (not policy) */
	uint32_t local_code;
};

static char *dup_or_null(const char *p, bool *oom)
{
	char *d = NULL;
	if (p) {
		d = strdup(p);
		if (!d)
			*oom = true;
	}
	return d;
}

/* Decide about one parsed request ID: refuse locally, or record it and
 * let the packet through. */
static int decide(struct gh_sftp *s, uint32_t id, struct decision *d, enum disp *disp,
		  struct gh_sftp_buf *to_client)
{
	int r = 0;
	struct req *q = NULL;
	bool oom = false;

	*disp = D_DROP;
	if (d->local_msg) {
		r = reply_status(s, id, d->local_code, d->local_msg, to_client);
		goto out;
	}
	if (d->ask && !allowed(s, &d->op)) {
		s->stats.denied++;
		emit(s, &d->op, true, GH_FX_PERMISSION_DENIED, 0, 0);
		r = reply_status(s, id, GH_FX_PERMISSION_DENIED, "Permission denied", to_client);
		goto out;
	}
	if ((d->op.op == GH_FXP_OPEN || d->op.op == GH_FXP_OPENDIR) &&
	    s->nhandles + s->nopening >= s->max_handles) {
		r = reply_status(s, id, GH_FX_FAILURE, "Too many open handles", to_client);
		goto out;
	}
	if (req_find(s, id)) {
		r = fail(s, "duplicate outstanding request id");
		goto out;
	}
	if (s->nreq >= s->max_requests) {
		r = fail(s, "too many outstanding requests");
		goto out;
	}
	q = req_insert(s, id);
	q->op = (uint8_t)d->op.op;
	q->ext = (uint8_t)d->ext;
	q->home = d->home;
	q->action = d->op.action;
	q->pflags = d->op.pflags;
	q->wlen = d->wlen;
	if (d->keep_paths) {
		q->path = dup_or_null(d->op.path, &oom);
		q->path2 = dup_or_null(d->op.path2, &oom);
		if (d->ext == EXT_UNKNOWN)
			q->ext_name = dup_or_null(d->op.ext, &oom);
	}
	if (oom) {
		req_release(q);
		req_remove(s, q);
		r = GH_ENOMEM;
		goto out;
	}
	if (d->h) {
		q->h = d->h;
		d->h->refs++;
	}
	if (d->op.op == GH_FXP_OPEN || d->op.op == GH_FXP_OPENDIR)
		s->nopening++;
	if (d->op.op == GH_FXP_CLOSE)
		d->h->closing = true;
	s->stats.requests++;
	*disp = D_PASS;
out:
	return r;
}

/* Read a path string into TMP for the hook; refuse locally when it cannot
 * be shown faithfully. Returns GH_EINVAL when the packet is truncated. */
static int path_arg(struct rd *rd, char *tmp, const char **ret, struct decision *d)
{
	const uint8_t *p = NULL;
	uint32_t n = 0;
	int r = rd_str(rd, &p, &n);
	if (r == 0) {
		if (cstr(tmp, MAX_PATH + 1, p, n)) {
			d->local_msg = n > MAX_PATH ? "Path too long" : "Bad path";
			d->local_code = n > MAX_PATH ? GH_FX_FAILURE : GH_FX_BAD_MESSAGE;
		}
		*ret = tmp;
	}
	return r;
}

/* Read a handle string and find it; refuse locally when unknown. */
static int handle_arg(struct gh_sftp *s, struct rd *rd, struct handle **ret)
{
	const uint8_t *p = NULL;
	uint32_t n = 0;
	int r = rd_str(rd, &p, &n);
	if (r < 0)
		r = fail(s, "truncated request");
	else if (n > GH_SFTP_MAX_HANDLE)
		r = fail(s, "handle longer than 256 bytes");
	if (r == 0) {
		struct handle *h = h_find(s, p, n);
		*ret = h && !h->closing ? h : NULL;
	}
	return r;
}

static void classify_ext(const uint8_t *p, uint32_t n, struct decision *d)
{
	d->ext = EXT_UNKNOWN;
	for (size_t i = 0; i < sizeof ext_table / sizeof ext_table[0]; i++) {
		if (strlen(ext_table[i].name) == n && memcmp(ext_table[i].name, p, n) == 0) {
			d->ext = ext_table[i].ext;
			d->op.ext = ext_table[i].name;
			break;
		}
	}
}

/* A whole request other than WRITE (RD is positioned after the type).
 * Long (about 180 lines): one switch over the SFTP v3 request types, a
 * short case per packet layout (bounds-checked reads, the action it
 * needs); the switch is the protocol's table and reads best in one place. */
static int client_request(struct gh_sftp *s, uint8_t type, struct rd *rd, enum disp *disp,
			  struct gh_sftp_buf *to_client)
{
	int r = 0;
	uint32_t id = 0, u = 0;
	struct decision d = { .op = { .op = type } };
	const uint8_t *p = NULL;
	struct handle *h = NULL;

	if ((r = rd_u32(rd, &id)) < 0)
		goto trunc;
	switch (type) {
	case GH_FXP_OPEN:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0 || (r = rd_u32(rd, &u)) < 0)
			goto trunc;
		d.op.pflags = u;
		if (u & (GH_FXF_WRITE | GH_FXF_APPEND | GH_FXF_CREAT | GH_FXF_TRUNC))
			d.op.action |= GH_ACT_UPLOAD;
		if ((u & GH_FXF_READ) || !(u & GH_FXF_WRITE))
			d.op.action |= GH_ACT_DOWNLOAD;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_OPENDIR:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
			goto trunc;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_CLOSE:
	case GH_FXP_READ:
	case GH_FXP_FSTAT:
	case GH_FXP_READDIR:
	case GH_FXP_FSETSTAT:
		if ((r = handle_arg(s, rd, &h)) < 0)
			goto out;
		if (type == GH_FXP_READ) {
			uint64_t off = 0;
			if ((r = rd_u64(rd, &off)) < 0 || (r = rd_u32(rd, &u)) < 0)
				goto trunc;
		}
		if (!h) {
			d.local_msg = "Invalid handle";
			d.local_code = GH_FX_FAILURE;
			break;
		}
		d.op.path = h->path;
		if (type == GH_FXP_FSETSTAT) {
			d.op.action = GH_ACT_UPLOAD;
			d.ask = d.keep_paths = true;
		}
		/* requests whose replies count against the handle hold it */
		if (type == GH_FXP_CLOSE || type == GH_FXP_READ)
			d.h = h;
		if (type == GH_FXP_CLOSE) {
			d.op.pflags = h->pflags;
			d.op.action = h->action;
		}
		break;
	case GH_FXP_LSTAT:
	case GH_FXP_STAT:
	case GH_FXP_READLINK:
	case GH_FXP_REALPATH:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
			goto trunc;
		d.ask = true;
		d.home = type == GH_FXP_REALPATH && !s->home && !d.local_msg &&
			 (strcmp(s->tmp1, ".") == 0 || s->tmp1[0] == '\0');
		break;
	case GH_FXP_SETSTAT:
	case GH_FXP_MKDIR:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
			goto trunc;
		d.op.action = GH_ACT_UPLOAD;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_REMOVE:
	case GH_FXP_RMDIR:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
			goto trunc;
		d.op.action = GH_ACT_DELETE;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_RENAME:
		if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0 ||
		    (r = path_arg(rd, s->tmp2, &d.op.path2, &d)) < 0)
			goto trunc;
		d.op.action = GH_ACT_UPLOAD | GH_ACT_DELETE;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_SYMLINK:
		/* OpenSSH order: the link's target text, then the new link */
		if ((r = path_arg(rd, s->tmp2, &d.op.path2, &d)) < 0 ||
		    (r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
			goto trunc;
		d.op.action = GH_ACT_UPLOAD;
		d.ask = d.keep_paths = true;
		break;
	case GH_FXP_EXTENDED:
		if ((r = rd_str(rd, &p, &u)) < 0)
			goto trunc;
		classify_ext(p, u, &d);
		switch (d.ext) {
		case EXT_POSIX_RENAME:
		case EXT_HARDLINK:
			if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0 ||
			    (r = path_arg(rd, s->tmp2, &d.op.path2, &d)) < 0)
				goto trunc;
			d.op.action = d.ext == EXT_HARDLINK ? GH_ACT_UPLOAD
							    : GH_ACT_UPLOAD | GH_ACT_DELETE;
			d.ask = d.keep_paths = true;
			break;
		case EXT_LSETSTAT:
			if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
				goto trunc;
			d.op.action = GH_ACT_UPLOAD;
			d.ask = d.keep_paths = true;
			break;
		case EXT_STATVFS:
		case EXT_EXPAND_PATH:
			if ((r = path_arg(rd, s->tmp1, &d.op.path, &d)) < 0)
				goto trunc;
			d.ask = true;
			break;
		case EXT_FSTATVFS:
		case EXT_FSYNC:
			if ((r = handle_arg(s, rd, &h)) < 0)
				goto out;
			if (!h) {
				d.local_msg = "Invalid handle";
				d.local_code = GH_FX_FAILURE;
			}
			break;
		case EXT_COPY_DATA: {
			struct handle *w = NULL;
			uint64_t v = 0;
			if ((r = handle_arg(s, rd, &h)) < 0)
				goto out;
			if ((r = rd_u64(rd, &v)) < 0 || (r = rd_u64(rd, &v)) < 0)
				goto trunc;
			if ((r = handle_arg(s, rd, &w)) < 0)
				goto out;
			if ((r = rd_u64(rd, &v)) < 0)
				goto trunc;
			if (!h || !w) {
				d.local_msg = "Invalid handle";
				d.local_code = GH_FX_FAILURE;
				break;
			}
			d.op.path = h->path;
			d.op.path2 = w->path;
			d.op.action = GH_ACT_UPLOAD;
			d.ask = d.keep_paths = true;
			break;
		}
		case EXT_UNKNOWN:
			/* unknown payload: all file actions are needed */
			if (cstr(s->tmpx, sizeof s->tmpx, p, u)) {
				d.local_msg = "Unsupported extension";
				d.local_code = GH_FX_OP_UNSUPPORTED;
				break;
			}
			d.op.ext = s->tmpx;
			d.op.action = FILE_ACTIONS;
			d.ask = d.keep_paths = true;
			break;
		default: /* limits, home-directory, users-groups-by-id */
			break;
		}
		break;
	default:
		r = fail(s, "unknown request type");
		goto out;
	}
	r = decide(s, id, &d, disp, to_client);
	goto out;
trunc:
	r = fail(s, "truncated request");
out:
	return r;
}

/* Parse a client packet: P holds its first AVAIL of TOTAL bytes. */
static int client_packet(struct gh_sftp *s, const uint8_t *p, size_t avail, size_t total,
			 size_t *need, enum disp *disp, struct gh_sftp_buf *to_client)
{
	int r = 0;
	uint8_t type = 0;
	struct rd rd = { 0 };

	if (avail < 5) {
		*need = 5;
		goto out;
	}
	type = p[4];
	if (!s->init_seen && type != GH_FXP_INIT) {
		r = fail(s, "request before INIT");
		goto out;
	}
	if (type == GH_FXP_WRITE) {
		/* length, type, id, string handle, uint64 offset, string data */
		uint32_t hlen = 0, dlen = 0, id = 0;
		size_t hdr = 0;
		struct handle *h = NULL;
		if (total < 13) {
			r = fail(s, "truncated request");
			goto out;
		}
		if (avail < 13) {
			*need = 13;
			goto out;
		}
		hlen = be32(p + 9);
		if (hlen > GH_SFTP_MAX_HANDLE) {
			r = fail(s, "handle longer than 256 bytes");
			goto out;
		}
		hdr = 13 + (size_t)hlen + 12;
		if (hdr > total) {
			r = fail(s, "truncated request");
			goto out;
		}
		if (avail < hdr) {
			*need = hdr;
			goto out;
		}
		dlen = be32(p + hdr - 4);
		if (dlen > total - hdr) {
			r = fail(s, "string overflows packet");
			goto out;
		}
		id = be32(p + 5);
		h = h_find(s, p + 13, hlen);
		if (!h || h->closing) {
			*disp = D_DROP;
			r = reply_status(s, id, GH_FX_FAILURE, "Invalid handle", to_client);
			goto out;
		}
		struct decision d = { .op = { .op = GH_FXP_WRITE, .path = h->path },
				      .h = h, .wlen = dlen };
		r = decide(s, id, &d, disp, to_client);
		goto out;
	}
	if (avail < total) {
		*need = total;
		goto out;
	}
	rd = (struct rd){ .p = p, .len = total, .off = 5 };
	if (type == GH_FXP_INIT) {
		uint32_t v = 0;
		if (s->init_seen) {
			r = fail(s, "second INIT");
			goto out;
		}
		if (rd_u32(&rd, &v) < 0) {
			r = fail(s, "truncated request");
			goto out;
		}
		if (v < GH_SFTP_VERSION) {
			r = fail(s, "client SFTP version below 3");
			goto out;
		}
		s->init_seen = true;
		*disp = D_PASS;
		goto out;
	}
	r = client_request(s, type, &rd, disp, to_client);
out:
	return r;
}

/* ---- target -> client ---------------------------------------------------- */

/* A reply finished request Q (already out of the table): account, report. */
static void complete(struct gh_sftp *s, struct req *q, uint8_t type, int status)
{
	struct gh_sftp_op op = { .op = q->op, .action = q->action, .path = q->path,
				 .path2 = q->path2, .pflags = q->pflags };
	if (q->op == GH_FXP_EXTENDED) {
		for (size_t i = 0; i < sizeof ext_table / sizeof ext_table[0]; i++)
			if (ext_table[i].ext == q->ext)
				op.ext = ext_table[i].name;
		if (q->ext == EXT_UNKNOWN)
			op.ext = q->ext_name;
	}
	switch (q->op) {
	case GH_FXP_OPEN:
	case GH_FXP_OPENDIR:
		s->nopening--;
		if (q->op == GH_FXP_OPEN && type != GH_FXP_HANDLE)
			emit(s, &op, false, status, 0, 0);
		break;
	case GH_FXP_WRITE:
		if (status == GH_FX_OK) {
			q->h->wr += q->wlen;
			s->stats.bytes_written += q->wlen;
		}
		break;
	case GH_FXP_CLOSE:
		if (!q->h->dir) {
			op.path = q->h->path;
			emit(s, &op, false, status, q->h->rd, q->h->wr);
		}
		if (s->hslots[h_slot(s, q->h->h, q->h->hlen, q->h->hash)] == q->h)
			h_remove(s, q->h);
		break;
	default:
		if (q->action)
			emit(s, &op, false, status, 0, 0);
		break;
	}
	req_release(q);
}

static int new_handle(struct gh_sftp *s, struct req *q, const uint8_t *p, uint32_t n)
{
	int r = 0;
	struct handle *h = NULL;
	uint32_t hash = hash_bytes(p, n);
	size_t slot = h_slot(s, p, n, hash);

	if (s->hslots[slot]) {
		r = fail(s, "target reused an open handle");
		goto out;
	}
	/* an OPEN was outstanding, so nhandles + nopening <= max_handles holds */
	h = calloc(1, sizeof *h);
	if (!h) {
		r = GH_ENOMEM;
		goto out;
	}
	h->hash = hash;
	h->hlen = (uint16_t)n;
	memcpy(h->h, p, n);
	h->dir = q->op == GH_FXP_OPENDIR;
	h->pflags = q->pflags;
	h->action = q->action;
	h->path = q->path;
	q->path = NULL;
	h->refs = 1;
	s->hslots[slot] = h;
	s->nhandles++;
	if (!h->dir)
		s->stats.files++;
out:
	return r;
}

/* Rewrite a limits@openssh.com reply (whole, at the end of OUT) so the
 * client stays within our limits. */
static void clamp_limits(struct gh_sftp *s, uint8_t *pkt, size_t total)
{
	uint64_t max[4] = { s->max_packet, s->max_packet - 1024, s->max_packet - 1024,
			    s->max_handles };
	if (total < 9 + 32)
		return;
	for (int i = 0; i < 4; i++) {
		uint64_t v = be64(pkt + 9 + 8 * i);
		if (v > max[i])
			put64(pkt + 9 + 8 * i, max[i]);
	}
}

/* One packet from the target: the VERSION reply, or the reply to a
 * tracked request (STATUS, DATA, HANDLE, NAME, EXTENDED_REPLY). Long
 * (about 150 lines): the common framing (how much of the packet the
 * decision needs, the request it answers) and then a short case per reply
 * type, which share that framing's state. */
static int target_packet(struct gh_sftp *s, const uint8_t *p, size_t avail, size_t total,
			 size_t *need, enum disp *disp, struct gh_sftp_buf *to_client)
{
	int r = 0;
	uint8_t type = 0;
	uint32_t id = 0;
	struct req *slot = NULL;
	struct req q = { 0 };
	struct rd rd = { 0 };
	int status = -1;

	*disp = D_PASS;
	if (avail < 5) {
		*need = 5;
		goto out;
	}
	type = p[4];
	if (type == GH_FXP_VERSION) {
		uint32_t v = 0;
		if (avail < total) {
			*need = total;
			goto out;
		}
		rd = (struct rd){ .p = p, .len = total, .off = 5 };
		if (!s->init_seen || s->version) {
			r = fail(s, "unexpected VERSION");
			goto out;
		}
		if (rd_u32(&rd, &v) < 0) {
			r = fail(s, "truncated reply");
			goto out;
		}
		if (v != GH_SFTP_VERSION) {
			r = fail(s, "target SFTP version is not 3");
			goto out;
		}
		while (rd.off < rd.len) { /* extension name/data pairs */
			const uint8_t *x = NULL;
			uint32_t n = 0;
			if (rd_str(&rd, &x, &n) < 0 || rd_str(&rd, &x, &n) < 0) {
				r = fail(s, "truncated reply");
				goto out;
			}
		}
		s->version = v;
		goto out;
	}
	if (!s->version) {
		r = fail(s, "reply before VERSION");
		goto out;
	}
	if (type != GH_FXP_STATUS && type != GH_FXP_HANDLE && type != GH_FXP_DATA &&
	    type != GH_FXP_NAME && type != GH_FXP_ATTRS && type != GH_FXP_EXTENDED_REPLY) {
		r = fail(s, "unknown reply type");
		goto out;
	}
	if (avail < 9) {
		*need = 9;
		goto out;
	}
	id = be32(p + 5);
	slot = req_find(s, id);
	if (!slot) {
		r = fail(s, "reply to no outstanding request");
		goto out;
	}
	/* how much of the packet the decision needs */
	size_t want = 9;
	if (type == GH_FXP_STATUS || type == GH_FXP_DATA)
		want = 13;
	if (type == GH_FXP_HANDLE || (type == GH_FXP_NAME && slot->home) ||
	    (type == GH_FXP_EXTENDED_REPLY && slot->ext == EXT_LIMITS))
		want = total;
	if (want > total) {
		r = fail(s, "truncated reply");
		goto out;
	}
	if (avail < want) {
		*need = want;
		goto out;
	}
	rd = (struct rd){ .p = p, .len = total, .off = 9 };
	q = *slot;
	switch (type) {
	case GH_FXP_STATUS: {
		uint32_t code = be32(p + 9);
		status = code > INT32_MAX ? -1 : (int)code;
		break;
	}
	case GH_FXP_DATA: {
		uint32_t dlen = be32(p + 9);
		if (dlen > total - 13) {
			r = fail(s, "string overflows packet");
			goto out;
		}
		if (q.op == GH_FXP_READ) {
			q.h->rd += dlen;
			s->stats.bytes_read += dlen;
		}
		break;
	}
	case GH_FXP_HANDLE: {
		const uint8_t *x = NULL;
		uint32_t n = 0;
		if (rd_str(&rd, &x, &n) < 0) {
			r = fail(s, "truncated reply");
			goto out;
		}
		if (n == 0 || n > GH_SFTP_MAX_HANDLE) {
			r = fail(s, "bad handle length");
			goto out;
		}
		if (q.op != GH_FXP_OPEN && q.op != GH_FXP_OPENDIR) {
			r = fail(s, "HANDLE reply to a request that opens nothing");
			goto out;
		}
		if ((r = new_handle(s, slot, x, n)) < 0)
			goto out;
		q = *slot; /* the path moved into the handle */
		break;
	}
	case GH_FXP_NAME:
		if (q.home && !s->home) {
			const uint8_t *x = NULL;
			uint32_t count = 0, n = 0;
			if (rd_u32(&rd, &count) == 0 && count == 1 && rd_str(&rd, &x, &n) == 0 &&
			    n <= MAX_PATH && !memchr(x, 0, n)) {
				s->home = strndup((const char *)x, n);
				if (!s->home) {
					r = GH_ENOMEM;
					goto out;
				}
			}
		}
		break;
	case GH_FXP_EXTENDED_REPLY:
		if (q.ext == EXT_LIMITS) {
			if ((r = gh_sftp_buf_append(to_client, p, total)) < 0)
				goto out;
			clamp_limits(s, to_client->data + to_client->off + to_client->len - total,
				     total);
			*disp = D_EMITTED;
		}
		break;
	default:
		break;
	}
	req_remove(s, slot);
	complete(s, &q, type, status);
out:
	return r;
}

/* ---- stream driver ------------------------------------------------------- */

typedef int (*parse_fn)(struct gh_sftp *s, const uint8_t *p, size_t avail, size_t total,
			size_t *need, enum disp *disp, struct gh_sftp_buf *to_client);

static int hold_reserve(struct dir *d, size_t n)
{
	int r = 0;
	if (d->hold_size < n) {
		size_t size = d->hold_size ? d->hold_size : 512;
		uint8_t *x = NULL;
		while (size < n)
			size *= 2;
		x = realloc(d->hold, size);
		if (!x) {
			r = GH_ENOMEM;
			goto out;
		}
		d->hold = x;
		d->hold_size = size;
	}
out:
	return r;
}

static int flush_pending(struct gh_sftp *s, struct gh_sftp_buf *to_client)
{
	int r = 0;
	if (s->tgt.pass == 0 && s->pending.len) {
		r = gh_sftp_buf_append(to_client, gh_sftp_buf_data(&s->pending), s->pending.len);
		if (r == 0)
			gh_sftp_buf_consume(&s->pending, s->pending.len);
	}
	return r;
}

/* Carry out DISP for the first AVAIL of TOTAL bytes at P. */
static int act(struct dir *d, enum disp disp, const uint8_t *p, size_t avail, size_t total,
	       struct gh_sftp_buf *out)
{
	int r = 0;
	if (disp == D_PASS) {
		r = gh_sftp_buf_append(out, p, avail);
		d->pass = total - avail;
	} else if (disp == D_DROP) {
		d->skip = total - avail;
	}
	return r;
}

static int feed(struct gh_sftp *s, struct dir *d, parse_fn parse, const uint8_t *p, size_t n,
		struct gh_sftp_buf *out, struct gh_sftp_buf *to_client, bool target)
{
	int r = 0;
	size_t need = 0;
	enum disp disp = D_PASS;

	while (n > 0) {
		if (d->pass || d->skip) {
			size_t *left = d->pass ? &d->pass : &d->skip;
			size_t take = n < *left ? n : *left;
			if (d->pass && (r = gh_sftp_buf_append(out, p, take)) < 0)
				goto out;
			*left -= take;
			p += take;
			n -= take;
		} else if (d->hold_len == 0 && n >= 4) {
			/* parse in place from the caller's bytes */
			uint32_t len = be32(p);
			size_t avail = 0;
			if (len < 5) {
				r = fail(s, "packet length below 5");
				goto out;
			}
			if (len > s->max_packet) {
				r = fail(s, "packet longer than max_packet");
				goto out;
			}
			d->total = 4 + (size_t)len;
			avail = n < d->total ? n : d->total;
			need = 0;
			if ((r = parse(s, p, avail, d->total, &need, &disp, to_client)) < 0)
				goto out;
			if (need) {
				/* keep what there is; the loop ends, n == avail */
				if ((r = hold_reserve(d, need)) < 0)
					goto out;
				memcpy(d->hold, p, avail);
				d->hold_len = avail;
				d->need = need;
			} else if ((r = act(d, disp, p, avail, d->total, out)) < 0) {
				goto out;
			}
			p += avail;
			n -= avail;
		} else {
			/* gather into the hold buffer */
			size_t want = d->hold_len < 4 ? 4 : d->need, take = 0;
			if ((r = hold_reserve(d, want)) < 0)
				goto out;
			take = want - d->hold_len < n ? want - d->hold_len : n;
			memcpy(d->hold + d->hold_len, p, take);
			d->hold_len += take;
			p += take;
			n -= take;
			if (d->hold_len < want)
				continue;
			if (want == 4) {
				uint32_t len = be32(d->hold);
				if (len < 5) {
					r = fail(s, "packet length below 5");
					goto out;
				}
				if (len > s->max_packet) {
					r = fail(s, "packet longer than max_packet");
					goto out;
				}
				d->total = 4 + (size_t)len;
			}
			need = 0;
			if ((r = parse(s, d->hold, d->hold_len, d->total, &need, &disp, to_client)) < 0)
				goto out;
			if (need) {
				d->need = need;
				continue;
			}
			if ((r = act(d, disp, d->hold, d->hold_len, d->total, out)) < 0)
				goto out;
			d->hold_len = 0;
			d->need = 0;
		}
		if (target && (r = flush_pending(s, to_client)) < 0)
			goto out;
	}
out:
	return r;
}

/* ---- public -------------------------------------------------------------- */

static unsigned bits_for(unsigned n)
{
	unsigned b = 1;
	while ((1u << b) < 2 * n)
		b++;
	return b;
}

int gh_sftp_new(const struct gh_sftp_hooks *hooks, const struct gh_sftp_limits *limits,
		struct gh_sftp **ret)
{
	int r = 0;
	struct gh_sftp *s = NULL;
	struct gh_sftp_limits l = limits ? *limits : (struct gh_sftp_limits){ 0 };

	if (!l.max_packet)
		l.max_packet = GH_SFTP_DEFAULT_PACKET;
	if (!l.max_requests)
		l.max_requests = GH_SFTP_DEFAULT_REQUESTS;
	if (!l.max_handles)
		l.max_handles = GH_SFTP_DEFAULT_HANDLES;
	if (l.max_packet < GH_SFTP_MIN_PACKET || l.max_packet > MAX_PACKET_LIMIT ||
	    l.max_requests > 65536 || l.max_handles > 65536) {
		r = GH_EINVAL;
		goto out;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		r = GH_ENOMEM;
		goto out;
	}
	if (hooks)
		s->hooks = *hooks;
	s->err = "";
	s->max_packet = l.max_packet;
	s->max_requests = l.max_requests;
	s->max_handles = l.max_handles;
	s->req_bits = bits_for(l.max_requests);
	s->req_mask = ((size_t)1 << s->req_bits) - 1;
	s->h_bits = bits_for(l.max_handles);
	s->h_mask = ((size_t)1 << s->h_bits) - 1;
	s->reqs = calloc(s->req_mask + 1, sizeof *s->reqs);
	s->hslots = calloc(s->h_mask + 1, sizeof *s->hslots);
	if (!s->reqs || !s->hslots) {
		r = GH_ENOMEM;
		goto out;
	}
	gh_sftp_buf_init(&s->pending, 4 * l.max_packet);
	*ret = s;
	s = NULL;
out:
	gh_sftp_free(s);
	return r;
}

int gh_sftp_from_client(struct gh_sftp *s, const void *in, size_t len,
			struct gh_sftp_buf *to_target, struct gh_sftp_buf *to_client)
{
	int r = s->dead;
	if (r == 0)
		r = feed(s, &s->cli, client_packet, in, len, to_target, to_client, false);
	if (r < 0 && !s->dead) {
		s->dead = r;
		if (!s->err[0])
			s->err = r == GH_ELIMIT ? "output buffer full" : "out of memory";
	}
	return r;
}

int gh_sftp_from_target(struct gh_sftp *s, const void *in, size_t len,
			struct gh_sftp_buf *to_client)
{
	int r = s->dead;
	if (r == 0)
		r = flush_pending(s, to_client);
	if (r == 0)
		r = feed(s, &s->tgt, target_packet, in, len, to_client, to_client, true);
	if (r < 0 && !s->dead) {
		s->dead = r;
		if (!s->err[0])
			s->err = r == GH_ELIMIT ? "output buffer full" : "out of memory";
	}
	return r;
}

void gh_sftp_finish(struct gh_sftp *s)
{
	for (size_t i = 0; s && !s->finished && i <= s->h_mask; i++) {
		struct handle *h = s->hslots[i];
		if (h && !h->dir) {
			struct gh_sftp_op op = { .op = GH_FXP_CLOSE, .action = h->action,
						 .path = h->path, .pflags = h->pflags };
			emit(s, &op, false, -1, h->rd, h->wr);
		}
	}
	if (s)
		s->finished = true;
}

const char *gh_sftp_error(const struct gh_sftp *s)
{
	return s->err;
}

uint32_t gh_sftp_version(const struct gh_sftp *s)
{
	return s->version;
}

const char *gh_sftp_home(const struct gh_sftp *s)
{
	return s->home;
}

void gh_sftp_get_stats(const struct gh_sftp *s, struct gh_sftp_stats *ret)
{
	*ret = s->stats;
}

struct gh_sftp *gh_sftp_free(struct gh_sftp *s)
{
	if (!s)
		goto out;
	if (s->reqs) {
		for (size_t i = 0; i <= s->req_mask; i++)
			if (s->reqs[i].used)
				req_release(&s->reqs[i]);
		free(s->reqs);
	}
	if (s->hslots) {
		for (size_t i = 0; i <= s->h_mask; i++)
			h_unref(s->hslots[i]);
		free(s->hslots);
	}
	free(s->cli.hold);
	free(s->tgt.hold);
	gh_sftp_buf_release(&s->pending);
	free(s->home);
	free(s);
out:
	return NULL;
}
