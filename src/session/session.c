/* The session core (see session.h). */
#include "session/session.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "policy/policy.h"
#include "record/record.h"
#include "session/authz.h"
#include "session/end.h"
#include "session/files.h"
#include "store/jumpoint.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct gh_sess {
	struct gh_store *st;
	enum gh_sess_state state;
	char id[33];
	bool row_open;
	int64_t user_id, asset_id;
	char *user, *source_ip, *asset, *account, *protocol, *kind;
	char source[96];         /* "ip:port" */
	int source_port;
	bool pty;
	char term[64];
	int width, height;
	struct gh_rec *rec;
	struct gh_files *files;   /* sftp: its file events */
	int64_t jp_node, jp_pid;  /* the jumpoint node carrying the target */
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_str(char **dst, const char *src)
{
	char *c = src ? strdup(src) : NULL;
	if (src && !c)
		return GH_ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

int gh_sess_open(const struct gh_sess_opts *o, struct gh_sess **ret)
{
	struct gh_sess *s = NULL;
	int r = GH_EINVAL;
	if (!o || !o->st || !o->user || !o->protocol || !o->kind)
		goto out;
	r = GH_ENOMEM;
	if (!(s = calloc(1, sizeof *s)))
		goto out;
	s->st = o->st;
	s->user_id = o->user_id;
	s->source_port = o->source_port;
	s->pty = o->pty;
	snprintf(s->term, sizeof s->term, "%s", o->term && *o->term ? o->term : "xterm");
	s->width = o->width > 0 ? o->width : 80;
	s->height = o->height > 0 ? o->height : 24;
	snprintf(s->source, sizeof s->source, "%s:%d", o->source_ip ? o->source_ip : "-",
		 o->source_port);
	if (set_str(&s->user, o->user) < 0 || set_str(&s->source_ip, o->source_ip) < 0 ||
	    set_str(&s->asset, o->asset) < 0 || set_str(&s->account, o->account) < 0 ||
	    set_str(&s->protocol, o->protocol) < 0 || set_str(&s->kind, o->kind) < 0)
		goto out;
	struct gh_session row = { .user_id = s->user_id,
				  .user_name = s->user,
				  .source_addr = s->source_ip,
				  .source_port = s->source_port,
				  .asset_name = s->asset,
				  .account = s->account,
				  .protocol = s->protocol,
				  .kind = s->kind,
				  .started_at = gh_now(),
				  .worker_pid = (int)getpid() };
	gh_session_id_new(s->id);
	row.id = s->id;
	r = gh_store_session_open(s->st, &row);
	if (r < 0)
		gh_error("cannot record session: %s (%s)", gh_strerror(r), gh_store_errmsg(s->st));
	s->row_open = r == 0;
	*ret = s;
	s = NULL;
	r = 0;
out:
	gh_sess_free(s);
	return r;
}

enum gh_sess_state gh_sess_state(const struct gh_sess *s)
{
	return s->state;
}

const char *gh_sess_id(const struct gh_sess *s)
{
	return s && s->row_open ? s->id : NULL;
}

struct gh_audit_who gh_sess_who(const struct gh_sess *s)
{
	struct gh_audit_who a = { .user = s->user, .source = s->source, .session_id = gh_sess_id(s) };
	return a;
}

const char *gh_sess_source_ip(const struct gh_sess *s)
{
	return s->source_ip;
}

const char *gh_sess_asset(const struct gh_sess *s)
{
	return s->asset;
}

const char *gh_sess_account(const struct gh_sess *s)
{
	return s->account;
}

void gh_sess_refuse(struct gh_sess *s, const char *asset, const char *account, const char *why)
{
	struct gh_audit_who a = gh_sess_who(s);
	gh_audit_policy(s->st, &a, asset, account, false, why);
	gh_info("%s from %s refused %s@%s: %s", s->user, s->source, account ? account : "-",
		asset ? asset : "-", why);
}

int gh_sess_authorize(struct gh_sess *s, const char *asset, const char *account,
		      uint32_t protocol, struct gh_authz *ret)
{
	struct gh_authz_req rq = { .user = s->user,
				   .source_ip = s->source_ip,
				   .asset = asset,
				   .account = account,
				   .protocol = protocol,
				   .action = GH_ACT_CONNECT };
	memset(ret, 0, sizeof *ret);
	int r = gh_authz_check(s->st, &rq, ret);
	if (r < 0 || !ret->allow) {
		gh_sess_refuse(s, asset, account, r < 0 ? "policy error" : ret->reason);
		return r < 0 ? r : GH_EPERM;
	}
	struct gh_audit_who a = gh_sess_who(s);
	gh_audit_policy(s->st, &a, asset, account, true, ret->perm_name);
	if (s->state < GH_SESS_AUTHORIZED)
		s->state = GH_SESS_AUTHORIZED;
	return 0;
}

static void row_update(struct gh_sess *s, const char *recording)
{
	if (!s->row_open)
		return;
	struct gh_session row = { .id = s->id,
				  .asset_id = s->asset_id,
				  .asset_name = s->asset,
				  .account = s->account,
				  .protocol = s->protocol,
				  .kind = s->kind,
				  .recording_path = (char *)recording };
	int r = gh_store_session_update_target(s->st, &row);
	if (r < 0)
		gh_error("cannot update session %s: %s", s->id, gh_strerror(r));
}

void gh_sess_set_protocol(struct gh_sess *s, const char *protocol)
{
	if (set_str(&s->protocol, protocol) < 0)
		gh_error("session %s: out of memory naming its protocol", s->id);
}

void gh_sess_target(struct gh_sess *s, int64_t asset_id, const char *asset, const char *account,
		    const char *kind)
{
	if (set_str(&s->asset, asset) < 0 || set_str(&s->account, account) < 0 ||
	    (kind && set_str(&s->kind, kind) < 0))
		gh_error("session %s: out of memory naming its target", s->id);
	s->asset_id = asset_id;
	row_update(s, NULL);
	s->state = GH_SESS_CONNECTING;
}

int gh_sess_record(struct gh_sess *s, const struct gh_sess_rec_opts *o)
{
	char *path = NULL;
	char title[256];
	int64_t start_ms = wall_ms();
	int r = 0;
	if (!strcmp(s->kind, "sftp") || s->rec)
		goto out;
	r = gh_rec_path(o->recordings_dir, s->id, start_ms / 1000, &path);
	if (r < 0)
		goto out;
	snprintf(title, sizeof title, "%s \xe2\x86\x92 %s@%s", s->user,
		 s->account ? s->account : "-", s->asset ? s->asset : "-");
	struct gh_rec_opts ro = { .width = s->pty ? s->width : 80,
				  .height = s->pty ? s->height : 24,
				  .term = s->pty ? s->term : NULL,
				  .title = title,
				  .start_ms = start_ms,
				  .record_input = o->record_input,
				  /* compression off the relay's CPU */
				  .background = true,
				  /* a stream, not a screen: binary kept byte for byte */
				  .binary_events = o->binary };
	r = gh_rec_open(path, &ro, &s->rec);
	if (r == 0)
		row_update(s, path);
out:
	if (r < 0)
		gh_error("cannot open the recording for session %s: %s", s->id, gh_strerror(r));
	free(path);
	return r;
}

struct gh_rec *gh_sess_rec(const struct gh_sess *s)
{
	return s->rec;
}

void gh_sess_running(struct gh_sess *s, const char *detail)
{
	struct gh_audit_who a = gh_sess_who(s);
	gh_audit_session(s->st, &a, s->asset, s->account, "start", NULL, detail);
	s->state = GH_SESS_RUNNING;
}

int gh_sess_sftp_open(struct gh_sess *s, uint32_t allowed)
{
	if (s->files)
		return 0;
	return gh_files_new(allowed, &s->files);
}

struct gh_sftp_hooks gh_sess_sftp_hooks(struct gh_sess *s)
{
	return gh_files_hooks(s->files);
}

void gh_sess_tick(struct gh_sess *s)
{
	if (!s)
		return;
	if (s->rec)
		gh_rec_tick(s->rec, wall_ms());
	if (!gh_files_pending(s->files))
		return;
	struct gh_audit_who a = gh_sess_who(s);
	gh_files_flush(s->files, s->st, &a, s->asset, s->account);
}

void gh_sess_set_jumpoint(struct gh_sess *s, int64_t node, int64_t pid)
{
	s->jp_node = node;
	s->jp_pid = pid;
}

/* REASON, or "jumpoint node lost" when the node's connection that carried
 * the target is gone (its holding worker records that before it closes
 * the streams it carries). */
static const char *end_reason(struct gh_sess *s, const char *reason)
{
	bool held = true;
	if (!s->jp_node || gh_store_jumpoint_node_held(s->st, s->jp_node, s->jp_pid, &held) < 0 ||
	    held)
		return reason;
	gh_warn("session %s: jumpoint node %lld lost", s->id, (long long)s->jp_node);
	return GH_SESS_JP_LOST;
}

int gh_sess_end(struct gh_sess *s, const struct gh_sess_result *res, const char *reason)
{
	struct gh_sess_result none = { .exit_status = -1 };
	struct gh_audit_who a = gh_sess_who(s);
	char detail[200];
	int r = 0;
	if (s->state == GH_SESS_ENDED)
		return 0;
	if (!res)
		res = &none;
	reason = end_reason(s, reason);
	/* files still open when the relay ended are reported by then */
	gh_sess_tick(s);
	uint64_t dropped = gh_files_dropped(s->files);
	s->files = gh_files_free(s->files);
	if (dropped)
		gh_warn("session %s: %llu file events not recorded (queue full)", s->id,
			(unsigned long long)dropped);
	if (s->rec) {
		char sha[65];
		uint64_t bytes = gh_rec_bytes_written(s->rec);
		int err = gh_rec_close_digest(s->rec, sha);
		s->rec = NULL;
		gh_audit_recording_closed(s->st, &a, s->asset, s->account, bytes, err, sha);
	}
	const char *sig = res->exit_signal && *res->exit_signal ? res->exit_signal : NULL;
	int dn = snprintf(detail, sizeof detail, "exit %d%s%s, %lld bytes in, %lld bytes out",
			  res->exit_status, sig ? " signal " : "", sig ? sig : "",
			  (long long)res->bytes_in, (long long)res->bytes_out);
	if (dropped && dn > 0 && (size_t)dn < sizeof detail)
		snprintf(detail + dn, sizeof detail - (size_t)dn, ", %llu file events not recorded",
			 (unsigned long long)dropped);
	if (s->row_open) {
		struct gh_session_end e = { .id = s->id, .asset = s->asset, .account = s->account,
					    .exit_status = res->exit_status, .exit_signal = sig,
					    .bytes_in = res->bytes_in, .bytes_out = res->bytes_out,
					    .reason = reason ? reason : "ended",
					    .detail = s->state == GH_SESS_RUNNING ? detail : NULL };
		r = gh_session_end(s->st, &a, &e);
		if (r == GH_ENOENT)
			r = 0;
	}
	s->state = GH_SESS_ENDED;
	return r;
}

struct gh_sess *gh_sess_free(struct gh_sess *s)
{
	if (!s)
		return NULL;
	if (s->user)
		gh_sess_end(s, NULL, "ended");
	free(s->user);
	free(s->source_ip);
	free(s->asset);
	free(s->account);
	free(s->protocol);
	free(s->kind);
	free(s);
	return NULL;
}
