/* The session's sftp file events (see session.h, gh_sess_sftp_*). */
#include "session/session.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/log.h"
#include "policy/policy.h"
#include "session/files.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sftp file events waiting to be written (between two flushes) */
#define MAX_FILE_EVENTS 1024

/* An sftp file event copied out of the engine's hook. */
struct file_event {
	int op;                  /* GH_FXP_* */
	char *ext;               /* GH_FXP_EXTENDED: its name */
	char *path, *path2;
	uint32_t action;         /* GH_ACT_* it needed */
	bool denied;
	int status;
	uint64_t bytes_read, bytes_written;
};

struct gh_files {
	uint32_t allowed;        /* actions granted on protocol sftp */
	struct file_event *fev;  /* MAX_FILE_EVENTS slots */
	size_t n;
	uint64_t dropped;
};

int gh_files_new(uint32_t allowed, struct gh_files **ret)
{
	struct gh_files *f = gh_fault("sftp-queue") ? NULL : calloc(1, sizeof *f);
	if (f && !(f->fev = calloc(MAX_FILE_EVENTS, sizeof *f->fev))) {
		free(f);
		f = NULL;
	}
	if (!f)
		return GH_ENOMEM;
	f->allowed = allowed;
	*ret = f;
	return 0;
}

static void file_event_clear(struct file_event *f)
{
	free(f->ext);
	free(f->path);
	free(f->path2);
	memset(f, 0, sizeof *f);
}

/* The engine's authorize hook: the actions the permission grants on sftp. */
static int files_authorize(void *ud, const struct gh_sftp_op *op)
{
	const struct gh_files *q = ud;
	return (op->action & ~q->allowed) ? GH_EPERM : 0;
}

/* The engine's event hook (inside libssh callbacks): copy and queue. */
static void files_event(void *ud, const struct gh_sftp_event *ev)
{
	struct gh_files *q = ud;
	if (q->n >= MAX_FILE_EVENTS) {
		q->dropped++;
		return;
	}
	struct file_event *f = &q->fev[q->n];
	memset(f, 0, sizeof *f);
	f->op = ev->op.op;
	f->ext = ev->op.ext ? strdup(ev->op.ext) : NULL;
	f->path = ev->op.path ? strdup(ev->op.path) : NULL;
	f->path2 = ev->op.path2 ? strdup(ev->op.path2) : NULL;
	if ((ev->op.ext && !f->ext) || (ev->op.path && !f->path) || (ev->op.path2 && !f->path2)) {
		file_event_clear(f);
		q->dropped++;
		return;
	}
	f->action = ev->op.action;
	f->denied = ev->denied;
	f->status = ev->status;
	f->bytes_read = ev->bytes_read;
	f->bytes_written = ev->bytes_written;
	q->n++;
}

struct gh_sftp_hooks gh_files_hooks(struct gh_files *q)
{
	struct gh_sftp_hooks h = { .authorize = files_authorize, .event = files_event, .ud = q };
	return h;
}

static const char *sftp_op_name(const struct file_event *f)
{
	switch (f->op) {
	case GH_FXP_OPEN: return "open";
	case GH_FXP_CLOSE: return "close";
	case GH_FXP_SETSTAT: return "setstat";
	case GH_FXP_FSETSTAT: return "fsetstat";
	case GH_FXP_OPENDIR: return "opendir";
	case GH_FXP_REMOVE: return "remove";
	case GH_FXP_MKDIR: return "mkdir";
	case GH_FXP_RMDIR: return "rmdir";
	case GH_FXP_REALPATH: return "realpath";
	case GH_FXP_STAT: return "stat";
	case GH_FXP_LSTAT: return "lstat";
	case GH_FXP_RENAME: return "rename";
	case GH_FXP_READLINK: return "readlink";
	case GH_FXP_SYMLINK: return "symlink";
	case GH_FXP_EXTENDED: return f->ext ? f->ext : "extended";
	default: return "other";
	}
}

static const char *sftp_status_name(int status)
{
	switch (status) {
	case GH_FX_OK: return NULL;
	case -1: return "no status";
	case GH_FX_EOF: return "end of file";
	case GH_FX_NO_SUCH_FILE: return "no such file";
	case GH_FX_PERMISSION_DENIED: return "target: permission denied";
	case GH_FX_FAILURE: return "failure";
	case GH_FX_BAD_MESSAGE: return "bad message";
	case GH_FX_OP_UNSUPPORTED: return "unsupported";
	default: return "error";
	}
}

void gh_files_flush(struct gh_files *q, struct gh_store *st, const struct gh_audit_who *who,
		    const char *asset, const char *account)
{
	for (size_t i = 0; q && i < q->n; i++) {
		struct file_event *f = &q->fev[i];
		char acts[128], missing[128], reason[160];
		const char *why = NULL;
		gh_actions_format(f->action, acts, sizeof acts);
		if (f->denied) {
			gh_actions_format(f->action & ~q->allowed, missing, sizeof missing);
			snprintf(reason, sizeof reason, "not permitted: needs %s",
				 missing[0] ? missing : "a path rule");
			why = reason;
		} else if (f->op == GH_FXP_CLOSE && f->status == -1) {
			why = "channel ended";
		} else {
			why = sftp_status_name(f->status);
		}
		struct gh_audit_file_op op = { .operation = sftp_op_name(f),
					       .path = f->path,
					       .path2 = f->path2,
					       .actions = f->action ? acts : NULL,
					       .bytes_read = f->bytes_read,
					       .bytes_written = f->bytes_written,
					       .status = f->status,
					       .allow = !f->denied,
					       .reason = why };
		gh_audit_file(st, who, asset, account, &op);
		file_event_clear(f);
	}
	if (q)
		q->n = 0;
}

size_t gh_files_pending(const struct gh_files *q)
{
	return q ? q->n : 0;
}

uint64_t gh_files_dropped(const struct gh_files *q)
{
	return q ? q->dropped : 0;
}

struct gh_files *gh_files_free(struct gh_files *q)
{
	if (!q)
		return NULL;
	for (size_t i = 0; i < q->n; i++)
		file_event_clear(&q->fev[i]);
	free(q->fev);
	free(q);
	return NULL;
}
