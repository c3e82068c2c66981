/* The file events of an sftp session: the engine's hooks (src/sftp/sftp.h)
 * decide each operation against the actions granted on protocol sftp and
 * queue what happened (inside libssh callbacks: nothing blocks there);
 * gh_files_flush writes the queue as kind "file" events (outside them).
 * Private to the session core: doors use gh_sess_sftp_* (session.h).
 * No libssh. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "sftp/sftp.h"

struct gh_store;
struct gh_files;

/* ALLOWED: the GH_ACT_* bits granted on sftp. GH_ENOMEM; *RET is the
 * caller's (gh_files_free). */
int gh_files_new(uint32_t allowed, struct gh_files **ret);
/* The engine's hooks on Q (borrowed: Q outlives the engine). */
struct gh_sftp_hooks gh_files_hooks(struct gh_files *q);
/* Write the queued events (WHO, ASSET, ACCOUNT name them); Q may be NULL. */
void gh_files_flush(struct gh_files *q, struct gh_store *st, const struct gh_audit_who *who,
		    const char *asset, const char *account);
size_t gh_files_pending(const struct gh_files *q);
/* Events lost because the queue was full (or out of memory). */
uint64_t gh_files_dropped(const struct gh_files *q);
/* Frees what is still queued unwritten. NULL ok; returns NULL. */
struct gh_files *gh_files_free(struct gh_files *q);
