/* Remote forwards relayed through the target (see rfwd.h). */
#include "relay/rfwd.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "relay/backfwd.h"

#include <libssh/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ADDR 255

enum state {
	WANT,      /* to be asked of the target */
	LISTENING, /* the target listens */
	FAILED,    /* the target refused */
	GONE,      /* cancelled (slot free) */
};

struct entry {
	char addr[MAX_ADDR + 1];
	int port;
	enum state st;
	bool cancel; /* cancelled by the user: the target's listener goes */
};

struct gh_rfwd {
	struct entry e[GH_RFWD_MAX];
	size_t n;
	ssh_session ts;  /* attached target, NULL when none */
	struct gh_backfwd *b;
	struct gh_rfwd_env env;
	ssize_t busy;    /* entry whose global request is pending (non-blocking) */
};

struct gh_rfwd *gh_rfwd_new(void)
{
	struct gh_rfwd *rf = calloc(1, sizeof *rf);
	if (rf)
		rf->busy = -1;
	return rf;
}

void gh_rfwd_free(struct gh_rfwd *rf)
{
	free(rf);
}

size_t gh_rfwd_count(const struct gh_rfwd *rf)
{
	size_t k = 0;
	for (size_t i = 0; rf && i < rf->n; i++)
		k += (rf->e[i].st == WANT || rf->e[i].st == LISTENING) && !rf->e[i].cancel;
	return k;
}

static struct entry *find(struct gh_rfwd *rf, const char *addr, int port)
{
	for (size_t i = 0; i < rf->n; i++)
		if (rf->e[i].st != GONE && rf->e[i].port == port && !strcmp(rf->e[i].addr, addr))
			return &rf->e[i];
	return NULL;
}

int gh_rfwd_add(struct gh_rfwd *rf, const char *addr, int port)
{
	if (!rf || !addr || strlen(addr) > MAX_ADDR || port <= 0 || port > 65535)
		return GH_EINVAL;
	struct entry *e = find(rf, addr, port);
	if (e && !e->cancel && e->st != FAILED)
		return GH_EEXIST;
	if (!e) {
		for (size_t i = 0; i < rf->n && !e; i++)
			if (rf->e[i].st == GONE)
				e = &rf->e[i];
		if (!e && rf->n < GH_RFWD_MAX)
			e = &rf->e[rf->n++];
		if (!e)
			return GH_ELIMIT;
		snprintf(e->addr, sizeof e->addr, "%s", addr);
		e->port = port;
		e->st = WANT;
	} else if (e->st == FAILED) {
		e->st = WANT; /* asked again after a refusal */
	}
	e->cancel = false;
	return 0;
}

int gh_rfwd_cancel(struct gh_rfwd *rf, const char *addr, int port)
{
	struct entry *e = rf && addr ? find(rf, addr, port) : NULL;
	if (!e || e->cancel)
		return GH_ENOENT;
	if ((e->st == LISTENING && rf->ts) || rf->busy == e - rf->e)
		e->cancel = true; /* the listener goes (after its pending request) */
	else
		e->st = GONE;
	return 0;
}

static void audit(struct gh_rfwd *rf, const struct entry *e, bool allow, const char *reason)
{
	struct gh_audit_tunnel t = { .method = "tcpip-forward",
				     .result = allow ? "allow" : "deny",
				     .reason = reason,
				     .host = e->addr,
				     .port = e->port };
	gh_audit_tunnel(rf->env.st, &rf->env.who, rf->env.asset, &t);
}

/* The caller's gate for entry E now; refusals audited. */
static bool gate(struct gh_rfwd *rf, const struct entry *e)
{
	char reason[400], esc[MAX_ADDR * 4 + 1];
	if (!rf->env.allow || rf->env.allow(rf->env.ud, e->addr, e->port, reason, sizeof reason))
		return true;
	audit(rf, e, false, reason);
	gh_info("remote forward %s:%d on %s refused: %s", gh_escape(esc, sizeof esc, e->addr),
		e->port, rf->env.asset, reason);
	return false;
}

/* One global request for entry I: SSH_AGAIN while pending (non-blocking). */
static int step(struct gh_rfwd *rf, size_t i)
{
	struct entry *e = &rf->e[i];
	char reason[400];
	if (e->st == WANT && rf->busy != (ssize_t)i && !gate(rf, e)) {
		e->st = FAILED; /* recorded for an earlier target, refused now */
		return SSH_ERROR;
	}
	if (e->st == WANT) {
		int r = ssh_channel_listen_forward(rf->ts, e->addr, e->port, NULL);
		if (r == SSH_AGAIN)
			return r;
		if (r == SSH_OK) {
			e->st = LISTENING;
			gh_info("remote forward %s:%d listening on %s", e->addr, e->port, rf->env.asset);
		} else {
			e->st = FAILED;
			snprintf(reason, sizeof reason, "refused by %s: %s", rf->env.asset,
				 ssh_get_error(rf->ts));
			audit(rf, e, false, reason);
			gh_info("remote forward %s:%d %s", e->addr, e->port, reason);
		}
		return r;
	}
	if (e->st == LISTENING && e->cancel) {
		int r = ssh_channel_cancel_forward(rf->ts, e->addr, e->port);
		if (r == SSH_AGAIN)
			return r;
		e->st = GONE;
		e->cancel = false;
		return r;
	}
	if (e->st == FAILED && e->cancel) {
		e->st = GONE;
		e->cancel = false;
	}
	return SSH_OK;
}

/* Run pending requests until one would block. */
static void run(struct gh_rfwd *rf)
{
	for (int guard = 0; guard < 2 * GH_RFWD_MAX; guard++) {
		ssize_t i = rf->busy;
		if (i < 0) {
			for (size_t k = 0; k < rf->n && i < 0; k++)
				if (rf->e[k].st == WANT || (rf->e[k].cancel && rf->e[k].st != GONE))
					i = (ssize_t)k;
			if (i < 0)
				return;
		}
		int r = step(rf, (size_t)i);
		if (r == SSH_AGAIN) {
			rf->busy = i;
			return;
		}
		rf->busy = -1;
		if (!ssh_is_connected(rf->ts))
			return;
	}
}

static int cb_target_msg(ssh_session s, ssh_message msg, void *ud)
{
	(void)s;
	struct gh_rfwd *rf = ud;
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_FORWARDED_TCPIP)
		return 1; /* the default reply */
	int port = ssh_message_channel_request_open_destination_port(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	int oport = ssh_message_channel_request_open_originator_port(msg);
	struct entry *e = NULL;
	for (size_t i = 0; i < rf->n && !e; i++)
		if (rf->e[i].st == LISTENING && rf->e[i].port == port)
			e = &rf->e[i];
	if (!e) {
		gh_warn("forwarded-tcpip channel from %s for port %d: no such forward",
			rf->env.asset, port);
		return 1;
	}
	if (!gate(rf, e))
		return 1;
	if (rf->env.count && rf->env.count(rf->env.ud) >= (size_t)rf->env.max_conns) {
		char reason[96];
		snprintf(reason, sizeof reason,
			 "too many tunnel connections (max_tunnel_connections %d)", rf->env.max_conns);
		audit(rf, e, false, reason);
		gh_warn("remote forward %s:%d: %s", e->addr, e->port, reason);
		return 1;
	}
	ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch)
		return 0;
	char o[MAX_ADDR + 1];
	snprintf(o, sizeof o, "%s", orig && strlen(orig) <= MAX_ADDR ? orig : "");
	if (!gh_backfwd_adopt_tcpip(rf->b, ch, e->addr, e->port, o, oport))
		gh_warn("remote forward %s:%d: connection dropped", e->addr, e->port);
	return 0;
}

void gh_rfwd_attach(struct gh_rfwd *rf, ssh_session ts, struct gh_backfwd *b,
		    const struct gh_rfwd_env *env)
{
	if (!rf || !ts || !b)
		return;
	rf->ts = ts;
	rf->b = b;
	rf->env = *env;
	rf->busy = -1;
	ssh_set_message_callback(ts, cb_target_msg, rf);
	for (size_t i = 0; i < rf->n; i++)
		if (rf->e[i].st == FAILED)
			rf->e[i].st = WANT; /* a new target: ask again */
	run(rf); /* TS blocks: each request is answered (or fails) here */
}

void gh_rfwd_tick(struct gh_rfwd *rf)
{
	if (rf && rf->ts && ssh_is_connected(rf->ts))
		run(rf);
}

void gh_rfwd_detach(struct gh_rfwd *rf)
{
	if (!rf || !rf->ts)
		return;
	ssh_set_message_callback(rf->ts, NULL, NULL);
	for (size_t i = 0; i < rf->n; i++) {
		if (rf->e[i].cancel)
			rf->e[i].st = GONE;
		else if (rf->e[i].st == LISTENING)
			rf->e[i].st = WANT;
		rf->e[i].cancel = false;
	}
	rf->ts = NULL;
	rf->b = NULL;
	rf->busy = -1;
}
