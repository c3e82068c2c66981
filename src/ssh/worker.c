/* The per-connection worker (see worker.h). */
#include "ssh/worker.h"
#include "app/app.h"
#include "audit/audit.h"
#include "auth/userauth.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/util.h"
#include "live/live.h"
#include "policy/policy.h"
#include "record/record.h"
#include "session/authz.h"
#include "relay/relay.h"
#include "sftp/sftp.h"
#include "ssh/authgate.h"
#include "filter/cmdguard.h"
#include "filter/cmdshell.h"
#include "filter/cmdstdin.h"
#include "policy/execclass.h"
#include "relay/backfwd.h"
#include "relay/fwd.h"
#include "ssh/hostkey.h"
#include "ssh/jump.h"
#include "ssh/jpnode.h"
#include "relay/rfwd.h"
#include "ssh/knownhosts.h"
#include "ssh/login.h"
#include "ssh/loginpolicy.h"
#include "ssh/menu.h"
#include "ssh/priv.h"
#include "ssh/proclimit.h"
#include "ssh/sweep.h"
#include "ssh/tunrow.h"
#include "session/session.h"
#include "session/telnet.h"
#include "session/reqcmd.h"
#include "session/dbtoken.h"
#include "store/store.h"
#include "target/target.h"
#include "vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Front-door algorithms: curve25519 only (libssh adds the strict-KEX
 * marker kex-strict-s-v00@openssh.com itself), AEAD ciphers first, CTR
 * only with encrypt-then-MAC, no ECDSA or SHA-1 host key signatures. */
#define FRONT_KEX "curve25519-sha256,curve25519-sha256@libssh.org"
#define FRONT_CIPHERS                                                        \
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
	"aes256-ctr,aes128-ctr"
#define FRONT_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define FRONT_HOSTKEY_ALGS "ssh-ed25519,rsa-sha2-512,rsa-sha2-256"
/* The identification string names no library version: nothing for a
 * scanner to match against a vulnerability list before authentication. */
#define FRONT_BANNER "Gatehouse"
#define FRONT_USER_KEY_TYPES                                                 \
	"ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

#define MAX_ENV 16
#define MAX_ENV_VALUE 256
#define MAX_COMMAND 65536
#define POLL_MS 500
#define LIVE_POLL_MS 20 /* while output waits for a watcher */
#define SAY_WAIT_MS 3000 /* longest wait for the user to take a message */
#define CLIENT_CLOSE_WAIT_MS 3000
#define ENROL_GRACE_S 300 /* login grace once the TOTP enrolment screen is shown */
#define IDLE_RECHECK_MS 5000 /* an idle connection's user is read again this often */
#define NOT_PERMITTED "not permitted"

static volatile sig_atomic_t stop_requested;

enum req_kind { REQ_NONE = 0, REQ_SHELL, REQ_EXEC, REQ_SUBSYSTEM };

/* A session channel's life: opened, its request awaited (NEW); served by
 * the worker's main loop (BUSY: the set-up, the menu); relayed, pumped
 * after every poll (RELAY); done, its user's CLOSE awaited (DONE). */
enum chan_state { CH_NEW = 0, CH_BUSY, CH_RELAY, CH_DONE };

#define MAX_CHANNELS 64 /* the top of max_channels_per_connection */

struct env_var {
	char *name, *value;
};

struct worker;

/* One session channel of the connection and the session it carries (the
 * session core's object, src/session/session.h, holds its row, recording
 * and events; this holds the SSH side: the channel, its requests, the
 * relay and the target's session). */
struct chan {
	struct worker *w;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct ccb;
	enum chan_state state;
	int64_t done_ms;         /* DONE: the user's CLOSE awaited until then */

	/* the channel's requests */
	bool pty;
	char term[64];
	int width, height;
	struct env_var env[MAX_ENV];
	size_t n_env;
	enum req_kind req;
	char *command;
	char *subsystem;
	/* agent forwarding asked for and allowed; X11 forwarding asked for
	 * and allowed (the user's fake cookie): asked of the target */
	bool agent_req;
	bool x11_req, x11_single;
	char x11_proto[64], x11_cookie[256];
	int x11_screen;
	bool client_eof, client_closed;
	bool client_finished;    /* exit status, EOF and close already sent */
	int64_t last_input_ms;

	/* what currently consumes the user's input */
	struct gh_relay *relay;
	struct gh_menu *menu;
	int menu_state;          /* GH_MENU_CONTINUE / PICKED / QUIT */
	size_t menu_pick;
	char said[160];          /* the last line said: the next menu shows it */

	struct gh_sess *sess;    /* the current session (NULL between two) */
	struct gh_live *live;    /* live operations on it (src/live) */
	bool killed;             /* ended by gatehouse session kill */

	uint32_t sftp_allowed;   /* sftp: the actions granted on protocol sftp */

	/* the command filter of an interactive shell / of a shell reading
	 * its input without a terminal (NULL: none) */
	struct gh_cmdshell *cmdshell;
	struct gh_cmdstdin *cmdstdin;
	/* channels the target opens back (agent, X11, -R) while relayed */
	struct gh_backfwd *back;
	bool rfwd_owner;         /* the connection's remote forwards ride on this target */

	/* the target while relayed: an SSH session, or a telnet connection
	 * (TELNET: the asset chosen is reached over telnet) */
	bool telnet;
	struct gh_sess_telnet *tn;
	ssh_session ts;
	ssh_channel tch;
	bool from_menu;          /* the menu goes on when the target ends */
	bool aborted;
	int exit_status;         /* for the user, once the relay ended */
	bool ticking;            /* inside its pump: not again (chans_tick) */
};

struct worker {
	struct gh_app *app;
	int64_t jp_node; /* a jumpoint node logged in (ssh/jpnode.h), else 0 */
	struct gh_store *st;
	const struct gh_worker_args *args;
	char source[96];
	ssh_session s;
	ssh_event ev;
	struct ssh_server_callbacks_struct scb;

	/* authentication */
	char presented[GH_LOGIN_MAX * 4 + 1]; /* escaped, for audit and logs */
	char first_name[GH_LOGIN_MAX + 1];
	struct gh_login login;
	struct gh_user user;
	bool have_user;
	bool authed;
	int auth_failures;
	bool too_many;
	bool over_limit;         /* too_many: max_sessions_per_user, not failures */
	struct gh_mfa mfa;       /* second factor, active after the first one */
	char first_method[16];
	bool counted;            /* this worker holds a place (proclimit.h) */

	/* the session channels (max_channels_per_connection at once) */
	struct chan *chans[MAX_CHANNELS];
	bool closing;            /* a session was refused: no more channels */

	/* direct-tcpip channels (ProxyJump, tunnels): see fwd.h, jump.h */
	struct gh_fwdset *fwds;
	ssh_key jump_key;        /* the jump host key in memory (NULL: none) */
	bool own_jump_key;       /* loaded here (an inner worker's bind owns it) */
	struct gh_rfwd *rfwd;    /* remote forwards (-R) */
	/* the row (kind "tunnel") of this connection's forwards: tunrow.h */
	struct gh_tunrow *tunrow;
	int64_t recheck_ms;      /* next check of an idle connection's user */
};

/* ---- small helpers -------------------------------------------------------- */

static int poll_once(struct worker *w, int timeout_ms);
static void idle_recheck(struct worker *w);
static void fwd_ended(void *ud, const struct gh_fwd_end *e);
static void chans_tick(struct worker *w);

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "login grace time exceeded\n";
	(void)!write(STDERR_FILENO, msg, sizeof msg - 1);
	_exit(2);
}

static const char *nl(const struct chan *c)
{
	return c->pty ? "\r\n" : "\n";
}

/* A line for the user on stderr (stdout on a terminal, where it is the same). */
static void say(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct chan *c, const char *fmt, ...)
{
	struct worker *w = c->w;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 3)
		n = (int)sizeof buf - 3;
	snprintf(c->said, sizeof c->said, "%.*s", n, buf);
	memcpy(buf + n, nl(c), strlen(nl(c)) + 1);
	if (!c->ch || c->client_closed)
		return;
	/* The session is non-blocking once the relay runs, and a write with a
	 * closed window sends nothing: wait (bounded) for the user's window. */
	size_t len = strlen(buf), off = 0;
	int64_t end = gh_mono_ms() + SAY_WAIT_MS;
	while (off < len) {
		int k = c->pty ? ssh_channel_write(c->ch, buf + off, (uint32_t)(len - off))
			       : ssh_channel_write_stderr(c->ch, buf + off, (uint32_t)(len - off));
		if (k < 0)
			return;
		off += (size_t)k;
		if (off == len || !w->ev || c->client_closed || !ssh_is_connected(w->s) ||
		    gh_mono_ms() >= end)
			return;
		poll_once(w, 50);
	}
}

/* One poll of the connection's event, then the pumps: the relayed session
 * channels and the forwarded channels. */
static int poll_once(struct worker *w, int timeout_ms)
{
	int r = ssh_event_dopoll(w->ev, timeout_ms);
	chans_tick(w);
	gh_fwdset_tick(w->fwds, NULL);
	gh_rfwd_tick(w->rfwd);
	/* the forwards' row was killed (session kill, user lock or disable):
	 * the whole connection ends */
	const char *k = gh_tunrow_tick(w->tunrow);
	if (k && ssh_is_connected(w->s)) {
		gh_info("connection of %s from %s %s", w->user.name, w->source, k);
		ssh_disconnect(w->s);
	}
	idle_recheck(w);
	return r;
}

static void notify_master(struct worker *w, char what)
{
	if (w->args->status_fd >= 0)
		(void)!write(w->args->status_fd, &what, 1);
}

/* Events of the connection (no session row). Before authentication they
 * are filed under the user part of the login name (the name as presented
 * when it does not parse). */
static struct gh_audit_who who(const struct worker *w)
{
	struct gh_audit_who a = { .user = w->authed	       ? w->user.name
					  : w->login.user[0] ? w->login.user
							     : w->presented,
				  .source = w->source };
	return a;
}

/* Events of channel C's session (its row when one is open). */
static struct gh_audit_who cwho(const struct chan *c)
{
	return c->sess ? gh_sess_who(c->sess) : who(c->w);
}

static bool any_session(const struct worker *w)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] && w->chans[i]->sess)
			return true;
	return false;
}

/* A connection with no open row (between sessions of a shared
 * connection, or with only jumps) cannot be reached by a kill: read its
 * user again now and then, and end it when the gate refuses the user
 * (locked, disabled, login ACL). */
static void idle_recheck(struct worker *w)
{
	char why[256];
	if (!w->authed || w->jp_node || w->tunrow || gh_mono_ms() < w->recheck_ms ||
	    !ssh_is_connected(w->s) || any_session(w))
		return;
	w->recheck_ms = gh_mono_ms() + IDLE_RECHECK_MS;
	if (gh_authz_user(w->st, w->login.user, w->args->peer_ip, gh_now(), NULL, NULL, why,
			  sizeof why) == 0)
		return;
	struct gh_audit_who aw = who(w);
	gh_audit_login(w->st, &aw, "connection", false, why);
	gh_info("connection of %s from %s ended: %s", w->user.name, w->source, why);
	ssh_disconnect(w->s);
}

/* ---- session rows (the session core) --------------------------------------- */

static uint32_t req_protocol(const struct chan *c)
{
	if (c->telnet)
		return GH_PROTO_TELNET;
	return c->req == REQ_SUBSYSTEM ? GH_PROTO_SFTP : GH_PROTO_SSH;
}

static const char *req_kind_name(const struct chan *c)
{
	switch (c->req) {
	case REQ_EXEC: return "exec";
	case REQ_SUBSYSTEM: return "sftp";
	default: return "shell";
	}
}

/* C's session opens (its row): KIND, and the target when known. */
static void sess_open(struct chan *c, const char *kind, const char *asset, const char *account)
{
	struct worker *w = c->w;
	struct gh_sess_opts o = { .st = w->st,
				  .user_id = w->user.id,
				  .user = w->user.name,
				  .source_ip = w->args->peer_ip,
				  .source_port = w->args->peer_port,
				  .asset = asset,
				  .account = account,
				  .protocol = c->req == REQ_SUBSYSTEM ? "sftp"
					      : w->args->door	      ? w->args->door
								      : "ssh",
				  .kind = kind,
				  .pty = c->pty,
				  .term = c->term,
				  .width = c->width,
				  .height = c->height };
	c->sess = gh_sess_free(c->sess);
	if (gh_sess_open(&o, &c->sess) < 0)
		gh_error("session of %s: out of memory", w->user.name);
}

/* C's session ends (gh_sess_end: the row and its one end event). */
static void sess_end(struct chan *c, const struct gh_sess_result *res, const char *reason)
{
	if (!c->sess)
		return;
	gh_sess_end(c->sess, res, reason);
	c->sess = gh_sess_free(c->sess);
}

static void sess_close(struct chan *c, const char *reason)
{
	sess_end(c, NULL, reason);
}

static void auth_reset_user(struct worker *w)
{
	if (w->have_user) {
		gh_user_free(&w->user);
		memset(&w->user, 0, sizeof w->user);
		w->have_user = false;
	}
}

/* The account and asset the login name asks for, and the name as presented. */
static struct gh_audit_login_as login_as(const struct worker *w)
{
	struct gh_audit_login_as as = { .account = w->login.account[0] ? w->login.account : NULL,
					.asset = w->login.asset[0] ? w->login.asset : NULL,
					.presented = w->presented };
	return as;
}

static int auth_fail(struct worker *w, const char *method, const char *reason)
{
	w->auth_failures++;
	struct gh_audit_who a = who(w);
	struct gh_audit_login_as as = login_as(w);
	gh_audit_login_as(w->st, &a, &as, method, false, reason);
	gh_info("login failure for %s from %s (%s): %s", w->presented, w->source, method, reason);
	notify_master(w, GH_WORKER_AUTH_FAILED);
	auth_reset_user(w);
	if (w->app->cfg.auth_failure_delay_ms > 0)
		usleep((useconds_t)w->app->cfg.auth_failure_delay_ms * 1000);
	if (w->auth_failures >= w->app->cfg.max_auth_tries)
		w->too_many = true;
	return SSH_AUTH_DENIED;
}

/* Common checks for every method: the login name parses, does not change
 * between attempts, names an existing, enabled user. Returns NULL when the
 * user may try, else the audit reason (w->user filled when it exists). */
static const char *auth_prepare(struct worker *w, const char *name)
{
	size_t len = strnlen(name, GH_LOGIN_MAX + 1);
	gh_escape(w->presented, sizeof w->presented, name);
	auth_reset_user(w);
	/* this attempt's login name, parsed first: its event is filed under
	 * the user it names, with the account and asset apart */
	memset(&w->login, 0, sizeof w->login);
	bool parsed = gh_login_parse(name, len, &w->login) == 0;
	if (w->too_many)
		return "too many attempts";
	if (w->first_name[0] == '\0' && len <= GH_LOGIN_MAX)
		memcpy(w->first_name, name, len + 1);
	else if (len > GH_LOGIN_MAX || strcmp(w->first_name, name) != 0)
		return "login name changed";
	if (!parsed)
		return "malformed login name";
	return gh_auth_prepare(w->app, w->st, w->login.user, &w->user, &w->have_user);
}

/* WHY: NULL, or how a second factor completed the login. */
static void auth_success(struct worker *w, const char *method, const char *why)
{
	w->authed = true;
	struct gh_audit_who a = who(w);
	struct gh_audit_login_as as = login_as(w);
	gh_audit_login_as(w->st, &a, &as, method, true, why);
	gh_info("login of %s from %s (%s)", w->presented, w->source, why ? why : method);
	notify_master(w, GH_WORKER_AUTHENTICATED);
	setpriority(PRIO_PROCESS, 0, 0); /* a suspect source's worker started niced */
}

/* A failed second-factor step: counted and audited like any failure, but
 * the user found by the first factor is kept for the next try. */
static void mfa_fail(struct worker *w, const char *reason)
{
	w->auth_failures++;
	struct gh_audit_who a = who(w);
	struct gh_audit_login_as as = login_as(w);
	gh_audit_login_as(w->st, &a, &as, "keyboard-interactive", false, reason);
	gh_info("login failure for %s from %s (keyboard-interactive): %s", w->presented, w->source,
		reason);
	notify_master(w, GH_WORKER_AUTH_FAILED);
	if (w->app->cfg.auth_failure_delay_ms > 0)
		usleep((useconds_t)w->app->cfg.auth_failure_delay_ms * 1000);
	if (w->auth_failures >= w->app->cfg.max_auth_tries)
		w->too_many = true;
}

/* This connection's place among the user's processes (proclimit.h). When
 * none is left: told in one line (a banner: no channel exists yet),
 * audited, and the connection ends; not a failed attempt of the source. */
static bool too_many_sessions(struct worker *w, const char *method)
{
	char why[200], line[256];
	int64_t slot = 0;
	if (gh_proclimit_claim(w->st, &w->app->cfg, &w->user, "connection", getpid(), &slot, why,
			       sizeof why) == 0) {
		w->counted = true;
		return false;
	}
	struct gh_audit_who a = who(w);
	struct gh_audit_login_as as = login_as(w);
	gh_audit_login_as(w->st, &a, &as, method, false, why);
	gh_info("login of %s from %s refused: %s", w->presented, w->source, why);
	snprintf(line, sizeof line, "gatehouse: %s\r\n", why);
	ssh_string banner = ssh_string_from_char(line);
	if (banner)
		ssh_send_issue_banner(w->s, banner);
	ssh_string_free(banner);
	auth_reset_user(w);
	w->too_many = w->over_limit = true;
	return true;
}

/* The first factor (METHOD) passed: the login ACL, then the second factor
 * when the user needs one (SSH_AUTH_PARTIAL: keyboard-interactive next). */
static int auth_first_factor(struct worker *w, const char *method)
{
	char reason[256];
	bool need = false;
	if (gh_login_acl_check(w->st, &w->user, w->args->peer_ip, gh_now(), reason,
			       sizeof reason) < 0)
		return auth_fail(w, method, reason);
	if (!w->counted && too_many_sessions(w, method))
		return SSH_AUTH_DENIED;
	if (gh_mfa_needed(&w->app->cfg, w->st, &w->user, &need) < 0)
		return auth_fail(w, method, "store error");
	if (!need) {
		auth_success(w, method, NULL);
		return SSH_AUTH_SUCCESS;
	}
	if (gh_mfa_start(&w->mfa, w->app->vault, &w->user) < 0)
		return auth_fail(w, method, "totp seed unavailable");
	snprintf(w->first_method, sizeof w->first_method, "%s", method);
	ssh_set_auth_methods(w->s, SSH_AUTH_METHOD_INTERACTIVE);
	gh_info("%s from %s passed %s; TOTP code %s", w->presented, w->source, method,
		w->mfa.enrol ? "enrolment next" : "next");
	return SSH_AUTH_PARTIAL;
}

/* keyboard-interactive (libssh 0.10 has no server callback for it: it
 * comes as a message): the TOTP prompt after the first factor. */
static int kbdint(struct worker *w, ssh_message msg)
{
	if (!w->mfa.active || w->authed) {
		/* not offered before the first factor: a plain failure */
		ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY);
		return 1;
	}
	if (ssh_message_auth_kbdint_is_response(msg)) {
		const char *reason = "bad totp code";
		int r = GH_EAUTH;
		bool asked = w->mfa.asked, enrol = w->mfa.enrol;
		w->mfa.asked = false;
		if (asked && ssh_userauth_kbdint_getnanswers(w->s) == 1)
			r = gh_mfa_check(&w->mfa, w->st, w->app->vault,
					 ssh_userauth_kbdint_getanswer(w->s, 0), gh_now(), &reason);
		if (r == 0) {
			char why[64];
			snprintf(why, sizeof why, "totp %s after %s", enrol ? "enrolled" : "code",
				 w->first_method);
			gh_mfa_clear(&w->mfa);
			ssh_message_auth_reply_success(msg, 0);
			auth_success(w, "keyboard-interactive", why);
			return 0;
		}
		mfa_fail(w, asked ? reason : "unexpected keyboard-interactive response");
		ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_INTERACTIVE);
		return 1;
	}
	const char *name = ssh_message_auth_user(msg);
	if (!name || strcmp(name, w->first_name) != 0) {
		mfa_fail(w, "login name changed");
		ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_INTERACTIVE);
		return 1;
	}
	char *instruction = NULL, *prompt = NULL;
	if (gh_mfa_challenge(&w->mfa, w->user.name, &instruction, &prompt) < 0) {
		mfa_fail(w, "totp error");
		ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_INTERACTIVE);
		return 1;
	}
	const char *prompts[] = { prompt };
	char echo[] = { 0 };
	if (ssh_message_auth_interactive_request(msg, "Gatehouse", instruction, 1, prompts, echo) ==
	    SSH_OK)
		w->mfa.asked = true;
	/* scanning a QR code takes longer than typing a password */
	if (w->mfa.enrol && w->app->cfg.login_grace_time < ENROL_GRACE_S)
		alarm(ENROL_GRACE_S);
	gh_mfa_text_free(instruction);
	gh_mfa_text_free(prompt);
	return 0;
}

static int forward_message(struct worker *w, ssh_message msg);

static int cb_message(ssh_session session, ssh_message msg, void *userdata)
{
	struct worker *w = userdata;
	if (ssh_message_type(msg) == SSH_REQUEST_AUTH &&
	    ssh_message_subtype(msg) == SSH_AUTH_METHOD_INTERACTIVE)
		return kbdint(w, msg);
	if (w->jp_node)
		return 1; /* a node opens nothing */
	return forward_message(w, msg); /* else the default reply: refused */
}

/* A jumpoint node's login (ssh/jpnode.h): one attempt; it never becomes a
 * user's session. */
static int jpnode_auth(struct worker *w, int r)
{
	if (r == SSH_AUTH_SUCCESS && w->jp_node)
		w->authed = true;
	else if (r != SSH_AUTH_SUCCESS)
		w->too_many = true;
	return r;
}

static int cb_auth_password(ssh_session session, const char *user, const char *password,
			    void *userdata)
{
	struct worker *w = userdata;
	if (user && strcmp(user, GH_JPNODE_USER) == 0)
		return jpnode_auth(w, gh_jpnode_auth_password(w->st, password, &w->jp_node));
	if (w->mfa.active) {
		mfa_fail(w, "second factor pending");
		return SSH_AUTH_DENIED;
	}
	const char *why = auth_prepare(w, user);
	/* a suspect connection hashes behind the others (authgate.h) */
	int gate = w->args->suspect || w->auth_failures > 0
			   ? gh_auth_gate_enter(w->app->cfg.data_dir) : -1;
	/* one Argon2id per attempt, an LDAP user's bind after it (auth/userauth.h) */
	const char *bad = gh_auth_password_check(w->app, w->st, w->have_user ? &w->user : NULL,
						 !why, password);
	gh_auth_gate_leave(gate);
	if (!why)
		why = bad;
	if (why)
		return auth_fail(w, "password", why);
	return auth_first_factor(w, "password");
}

/* True when PUBKEY is one of the user's registered keys. */
static bool key_registered(struct worker *w, ssh_key pubkey)
{
	struct gh_user_key *keys = NULL;
	size_t n = 0;
	bool found = false;
	if (gh_store_key_list(w->st, w->user.id, &keys, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		ssh_key k = NULL;
		enum ssh_keytypes_e t = ssh_key_type_from_name(keys[i].type);
		if (t == SSH_KEYTYPE_UNKNOWN ||
		    ssh_pki_import_pubkey_base64(keys[i].base64, t, &k) != SSH_OK)
			continue;
		found = ssh_key_cmp(k, pubkey, SSH_KEY_CMP_PUBLIC) == 0;
		ssh_key_free(k);
	}
	gh_user_keys_free(keys, n);
	return found;
}

static int cb_auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
			  char signature_state, void *userdata)
{
	struct worker *w = userdata;
	if (user && strcmp(user, GH_JPNODE_USER) == 0)
		return jpnode_auth(w, gh_jpnode_auth_pubkey(w->st, pubkey, signature_state,
							    &w->jp_node));
	if (w->mfa.active) {
		mfa_fail(w, "second factor pending");
		return SSH_AUTH_DENIED;
	}
	const char *why = auth_prepare(w, user);
	if (why)
		return auth_fail(w, "publickey", why);
	if (signature_state == SSH_PUBLICKEY_STATE_WRONG)
		return auth_fail(w, "publickey", "bad signature");
	if (!key_registered(w, pubkey))
		return auth_fail(w, "publickey", "key not registered");
	if (signature_state == SSH_PUBLICKEY_STATE_NONE) {
		auth_reset_user(w);
		return SSH_AUTH_SUCCESS; /* the probe: "this key would do" */
	}
	if (signature_state != SSH_PUBLICKEY_STATE_VALID)
		return auth_fail(w, "publickey", "bad signature");
	return auth_first_factor(w, "publickey");
}

/* The inner login of a recorded ProxyJump child: the user authenticated
 * on the outer connection; the inner name is the account on the asset. */
static int auth_jump(struct worker *w, const char *name, const char *method)
{
	const struct gh_worker_args *a = w->args;
	char login[GH_LOGIN_MAX + 1];
	if (w->authed)
		return SSH_AUTH_SUCCESS;
	if (snprintf(login, sizeof login, "%s@%s@%s", a->jump_user, name ? name : "",
		     a->jump_asset) >= (int)sizeof login)
		return auth_fail(w, method, "malformed login name");
	const char *why = auth_prepare(w, login);
	if (why)
		return auth_fail(w, method, why);
	auth_success(w, a->door ? a->door : "proxyjump", NULL);
	return SSH_AUTH_SUCCESS;
}

static int cb_auth_jump_none(ssh_session session, const char *user, void *userdata)
{
	return auth_jump(userdata, user, "none");
}

static int cb_auth_jump_password(ssh_session session, const char *user, const char *password,
				 void *userdata)
{
	return auth_jump(userdata, user, "password");
}

static int cb_auth_jump_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
			       char signature_state, void *userdata)
{
	return auth_jump(userdata, user, "publickey");
}

/* ---- the user's channel ---------------------------------------------------- */

/* ---- the user's channels ---------------------------------------------------- */

static void menu_flush(struct chan *c)
{
	size_t len = 0;
	const char *out = gh_menu_output(c->menu, &len);
	if (len > 0 && c->ch && !c->client_closed)
		ssh_channel_write(c->ch, out, (uint32_t)len);
	gh_menu_output_clear(c->menu);
}

static int cb_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
		   int is_stderr, void *userdata)
{
	struct chan *c = userdata;
	c->last_input_ms = gh_mono_ms();
	if (c->relay)
		return gh_relay_client_data(c->relay, data, len);
	if (c->menu) {
		if (c->menu_state == GH_MENU_CONTINUE) {
			size_t idx = 0;
			int r = gh_menu_feed(c->menu, data, len, &idx);
			menu_flush(c);
			if (r == GH_MENU_PICKED) {
				c->menu_state = GH_MENU_PICKED;
				c->menu_pick = idx;
			} else if (r == GH_MENU_QUIT) {
				c->menu_state = GH_MENU_QUIT;
			}
		}
		return (int)len;
	}
	return 0; /* nobody reads yet: libssh keeps it (and stops the window) */
}

static void cb_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;
	c->client_eof = true;
	if (c->relay)
		gh_relay_client_eof(c->relay);
}

static void cb_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;
	c->client_closed = true;
	c->client_eof = true;
	if (c->relay)
		gh_relay_client_close(c->relay);
}

/* A channel request refused (too long, unknown): one log line (lengths
 * only, never the content), then the failure reply. */
static int refuse_request(struct chan *c, const char *what, const char *why, size_t len)
{
	gh_info("refused %s request from %s (%s): %s, %zu bytes", what, c->w->source,
		c->w->presented, why, len);
	return -1;
}

static int cb_pty(ssh_session session, ssh_channel channel, const char *term, int width,
		  int height, int pxwidth, int pxheight, void *userdata)
{
	struct chan *c = userdata;
	if (c->req != REQ_NONE || c->pty)
		return -1;
	if (term && strlen(term) >= sizeof c->term)
		return refuse_request(c, "pty", "terminal type too long", strlen(term));
	c->pty = true;
	snprintf(c->term, sizeof c->term, "%s", term && *term ? term : "xterm");
	c->width = width > 0 && width < 10000 ? width : 80;
	c->height = height > 0 && height < 10000 ? height : 24;
	return 0;
}

static int cb_shell(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;
	if (c->req != REQ_NONE)
		return -1;
	c->req = REQ_SHELL;
	return 0;
}

static int cb_exec(ssh_session session, ssh_channel channel, const char *command, void *userdata)
{
	struct chan *c = userdata;
	if (c->req != REQ_NONE || !command)
		return -1;
	if (strlen(command) > MAX_COMMAND)
		return refuse_request(c, "exec", "command too long", strlen(command));
	c->command = strdup(command);
	if (!c->command)
		return -1;
	c->req = REQ_EXEC;
	return 0;
}

static int cb_subsystem(ssh_session session, ssh_channel channel, const char *subsystem,
			void *userdata)
{
	struct chan *c = userdata;
	if (c->req != REQ_NONE || !subsystem)
		return -1;
	if (strcmp(subsystem, "sftp") != 0)
		return refuse_request(c, "subsystem", "unknown subsystem", strlen(subsystem));
	c->subsystem = strdup(subsystem);
	if (!c->subsystem)
		return -1;
	c->req = REQ_SUBSYSTEM;
	return 0;
}

static bool env_allowed(const char *name)
{
	return !strcmp(name, "LANG") || !strncmp(name, "LC_", 3);
}

static int cb_env(ssh_session session, ssh_channel channel, const char *name, const char *value,
		  void *userdata)
{
	struct chan *c = userdata;
	if (c->req != REQ_NONE || c->n_env >= MAX_ENV || !name || !value || !env_allowed(name))
		return -1;
	if (strlen(name) > 64 || strlen(value) > MAX_ENV_VALUE)
		return refuse_request(c, "env", "variable too long", strlen(name) + strlen(value));
	struct env_var *e = &c->env[c->n_env];
	e->name = strdup(name);
	e->value = strdup(value);
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		return -1;
	}
	c->n_env++;
	return 0;
}

static int cb_window(ssh_session session, ssh_channel channel, int width, int height,
		     int pxwidth, int pxheight, void *userdata)
{
	struct chan *c = userdata;
	if (width <= 0 || height <= 0 || width >= 10000 || height >= 10000)
		return -1;
	c->width = width;
	c->height = height;
	if (c->cmdshell)
		gh_cmdshell_resize(c->cmdshell, height, width);
	if (c->relay) {
		gh_relay_client_window(c->relay, width, height);
		gh_live_resize(c->live, height, width);
	} else if (c->menu) {
		gh_menu_resize(c->menu, width, height);
		menu_flush(c);
	}
	return 0;
}

/* auth-agent-req: with allow_agent_forwarding, remembered and asked of the
 * target when a session on an asset starts (backfwd.h); otherwise refused.
 * Audited either way. OpenSSH sends it without asking for a reply. */
static void cb_agent(ssh_session session, ssh_channel channel, void *userdata)
{
	struct chan *c = userdata;
	struct worker *w = c->w;
	struct gh_audit_who aw = who(w);
	bool allow = w->app->cfg.allow_agent_forwarding != 0;
	c->agent_req = allow;
	struct gh_audit_tunnel t = {
		.method = "agent",
		.result = allow ? "allow" : "deny",
		.reason = allow ? "agent forwarding requested"
				: "agent forwarding is disabled (allow_agent_forwarding = no)",
	};
	gh_audit_tunnel(w->st, &aw, w->login.asset[0] ? w->login.asset : NULL, &t);
}

/* x11-req, installed only with allow_x11_forwarding on a login on an
 * asset (else the message callback refuses it, jump.c): remembered and
 * asked of the target with the same (fake) cookie when the session starts
 * (backfwd.h). libssh has already replied success. */
static void cb_x11(ssh_session session, ssh_channel channel, int single_connection,
		   const char *protocol, const char *cookie, uint32_t screen, void *userdata)
{
	(void)session;
	(void)channel;
	struct chan *c = userdata;
	struct worker *w = c->w;
	struct gh_audit_who aw = who(w);
	bool ok = protocol && cookie && strlen(protocol) < sizeof c->x11_proto &&
		  strlen(cookie) < sizeof c->x11_cookie && screen < 1000 &&
		  strspn(cookie, "0123456789abcdefABCDEF") == strlen(cookie);
	if (ok) {
		c->x11_req = true;
		c->x11_single = single_connection != 0;
		snprintf(c->x11_proto, sizeof c->x11_proto, "%s", protocol);
		snprintf(c->x11_cookie, sizeof c->x11_cookie, "%s", cookie);
		c->x11_screen = (int)screen;
	}
	struct gh_audit_tunnel t = { .method = "x11",
				     .result = ok ? "allow" : "deny",
				     .reason = ok ? "X11 forwarding requested" : "malformed x11-req" };
	gh_audit_tunnel(w->st, &aw, w->login.asset, &t);
}

/* Session channels still open on the user's side (a closed one waiting
 * to be freed does not count). */
static size_t chans_open(const struct worker *w)
{
	size_t n = 0;
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] && !w->chans[i]->client_closed)
			n++;
	return n;
}

/* A session channel beyond max_channels_per_connection: refused (the
 * client sees "administratively prohibited"), logged and audited. */
static void chan_refused(struct worker *w, size_t open)
{
	char why[128];
	snprintf(why, sizeof why, "too many session channels on one connection (%zu open, "
				  "max_channels_per_connection %d)",
		 open, w->app->cfg.max_channels_per_connection);
	struct gh_audit_who aw = who(w);
	gh_audit_event(w->st, &aw, "session", w->login.asset[0] ? w->login.asset : NULL,
		       w->login.account[0] ? w->login.account : NULL, "channel", "deny", why, NULL);
	gh_info("session channel of %s from %s refused: %s", w->user.name, w->source, why);
}

static ssh_channel cb_channel_open(ssh_session session, void *userdata)
{
	struct worker *w = userdata;
	size_t slot = MAX_CHANNELS, open = chans_open(w);
	if (!w->authed || w->closing || w->jp_node)
		return NULL;
	for (size_t i = 0; i < MAX_CHANNELS && slot == MAX_CHANNELS; i++)
		if (!w->chans[i])
			slot = i;
	if (open >= (size_t)w->app->cfg.max_channels_per_connection || slot == MAX_CHANNELS) {
		chan_refused(w, open);
		return NULL;
	}
	struct chan *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->w = w;
	c->width = 80;
	c->height = 24;
	c->exit_status = -1;
	snprintf(c->term, sizeof c->term, "xterm");
	c->last_input_ms = gh_mono_ms();
	c->ch = ssh_channel_new(session);
	if (!c->ch) {
		free(c);
		return NULL;
	}
	c->ccb.userdata = c;
	c->ccb.channel_data_function = cb_data;
	c->ccb.channel_eof_function = cb_eof;
	c->ccb.channel_close_function = cb_close;
	c->ccb.channel_pty_request_function = cb_pty;
	c->ccb.channel_shell_request_function = cb_shell;
	c->ccb.channel_exec_request_function = cb_exec;
	c->ccb.channel_subsystem_request_function = cb_subsystem;
	c->ccb.channel_env_request_function = cb_env;
	c->ccb.channel_pty_window_change_function = cb_window;
	c->ccb.channel_auth_agent_req_function = cb_agent;
	if (w->app->cfg.allow_x11_forwarding && w->login.asset[0])
		c->ccb.channel_x11_req_function = cb_x11;
	ssh_callbacks_init(&c->ccb);
	ssh_set_channel_callbacks(c->ch, &c->ccb);
	w->chans[slot] = c;
	return c->ch;
}

static bool client_alive(const struct chan *c)
{
	return ssh_is_connected(c->w->s) && !c->client_closed;
}

/* End the user's channel: exit status, EOF, close. Its CLOSE is awaited
 * (bounded) by the main loop before the channel is freed, so nothing in
 * flight is lost. */
static void finish_client(struct chan *c, int exit_status)
{
	c->state = CH_DONE;
	c->done_ms = gh_mono_ms() + CLIENT_CLOSE_WAIT_MS;
	if (!c->ch || !ssh_is_connected(c->w->s) || c->client_finished)
		return;
	c->client_finished = true;
	if (!c->client_closed) {
		if (exit_status >= 0)
			ssh_channel_request_send_exit_status(c->ch, exit_status);
		ssh_channel_send_eof(c->ch);
		ssh_channel_close(c->ch);
	}
}

/* Forget channel C (its session ended): what it held, then itself. */
static void chan_free(struct chan *c)
{
	struct worker *w = c->w;
	sess_close(c, "worker ended");
	c->live = gh_live_close(c->live);
	if (c->ch) {
		ssh_remove_channel_callbacks(c->ch, &c->ccb);
		ssh_channel_free(c->ch);
	}
	for (size_t i = 0; i < c->n_env; i++) {
		free(c->env[i].name);
		free(c->env[i].value);
	}
	free(c->command);
	free(c->subsystem);
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] == c)
			w->chans[i] = NULL;
	free(c);
}

/* ---- reaching a target ------------------------------------------------------ */

struct policy_ctx {
	struct gh_policy *p;
	struct gh_subject subj;
	int64_t *groups;
};

static void policy_ctx_free(struct policy_ctx *pc)
{
	struct gh_policy_subject ps = { .p = pc->p, .groups = pc->groups };
	gh_policy_subject_free(&ps);
	memset(pc, 0, sizeof *pc);
}

static int policy_ctx_load(struct worker *w, struct policy_ctx *pc)
{
	struct gh_policy_subject ps;
	memset(pc, 0, sizeof *pc);
	int r = gh_policy_subject_load(w->st, w->user.id, &ps);
	if (r == 0)
		*pc = (struct policy_ctx){ .p = ps.p, .subj = ps.subj, .groups = ps.groups };
	return r;
}


/* Accounts of ASSET the user may use and that exist. Caller frees with
 * gh_policy_names_free. */
static int allowed_accounts(struct chan *c, struct policy_ctx *pc, const struct gh_asset *a,
			    char ***ret, size_t *ret_n)
{
	struct worker *w = c->w;
	bool all = false;
	char **names = NULL;
	size_t n = 0;
	struct gh_account *accts = NULL;
	size_t na = 0;
	char **out = NULL;
	size_t nout = 0;

	int r = gh_policy_allowed_accounts(pc->p, &pc->subj, a->id, req_protocol(c), gh_now(), &all,
					   &names, &n);
	if (r < 0)
		return r;
	r = gh_store_account_list(w->st, a->id, &accts, &na);
	if (r < 0)
		goto out;
	out = calloc(na + 1, sizeof *out);
	if (!out) {
		r = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < na; i++) {
		bool ok = all;
		for (size_t j = 0; j < n && !ok; j++)
			ok = strcmp(names[j], accts[i].username) == 0;
		if (!ok)
			continue;
		if (!(out[nout] = strdup(accts[i].username))) {
			r = GH_ENOMEM;
			goto out;
		}
		nout++;
	}
	*ret = out;
	*ret_n = nout;
	out = NULL;
	r = 0;
out:
	if (out)
		gh_policy_names_free(out, nout);
	gh_policy_names_free(names, n);
	gh_accounts_free(accts, na);
	return r;
}

static int menu_choose(struct chan *c, struct gh_menu *m, size_t *ret_idx);

/* Pick the account for ASSET when the login did not name one: the only
 * allowed one, or a choice on a terminal. Writes the name into BUF.
 * Returns 0, GH_EPERM (none), GH_EINVAL (several, no terminal) or
 * GH_ECONN (the user went away / quit). */
static int choose_account(struct chan *c, struct policy_ctx *pc, const struct gh_asset *a,
			  char *buf, size_t buflen)
{
	char **names = NULL;
	size_t n = 0;
	int r = allowed_accounts(c, pc, a, &names, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		r = GH_EPERM;
	} else if (n == 1) {
		snprintf(buf, buflen, "%s", names[0]);
	} else if (!c->pty || c->req != REQ_SHELL) {
		r = GH_EINVAL;
	} else {
		struct gh_menu_item *items = calloc(n, sizeof *items);
		char title[160];
		if (!items) {
			r = GH_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			items[i].id = (int64_t)i;
			items[i].name = names[i];
			items[i].address = "";
			items[i].nodes = "";
			items[i].comment = "";
		}
		snprintf(title, sizeof title, "%s: choose an account", a->name);
		struct gh_menu *m = gh_menu_new(items, n, c->width, c->height, title);
		gh_menu_set_noun(m, "account", "accounts");
		size_t idx = 0;
		if (!m) {
			r = GH_ENOMEM;
		} else {
			int k = menu_choose(c, m, &idx);
			gh_menu_free(m);
			if (k == 1 && idx < n)
				snprintf(buf, buflen, "%s", names[idx]);
			else
				r = GH_ECONN;
		}
		free(items);
	}
out:
	gh_policy_names_free(names, n);
	return r;
}

/* A refusal: audited and logged by the session core, one line for the user. */
static void refuse(struct chan *c, const char *asset, const char *account, const char *why)
{
	if (c->sess) {
		gh_sess_refuse(c->sess, asset, account, why);
	} else {
		struct gh_audit_who a = who(c->w);
		gh_audit_policy(c->w->st, &a, asset, account, false, why);
	}
	say(c, "%s", NOT_PERMITTED);
}

/* Live operations after a poll: requests, watchers, a notice for the user. */
static void live_poll(struct chan *c)
{
	char note[200];
	gh_live_tick(c->live);
	if (gh_live_take_notice(c->live, note, sizeof note) && client_alive(c))
		say(c, "%s%s", nl(c), note);
}

/* Open the live socket of the session about to be relayed (a failure is
 * logged: the session goes on without live operations). */
static void live_open(struct chan *c, struct gh_rec *rec, bool screen)
{
	struct worker *w = c->w;
	char run_dir[4096];
	const char *sid = c->sess ? gh_sess_id(c->sess) : NULL;
	struct gh_live_opts lo = { .run_dir = run_dir,
				   .session_id = sid,
				   .pty = screen && c->pty && c->req != REQ_SUBSYSTEM,
				   .rows = c->height,
				   .cols = c->width,
				   .notify_watch = w->app->cfg.notify_watch > 0,
				   .rec = rec };
	if (!sid || gh_live_run_dir(w->app->data_dir, run_dir, sizeof run_dir) < 0)
		return;
	int r = gh_live_open(&lo, w->ev, &c->live);
	if (r < 0)
		gh_warn("session %s: no live socket: %s", sid, gh_strerror(r));
}

/* ---- relayed channels: one poll loop pumps them all ------------------------------ */

static void relay_end(struct chan *c);

/* Why channel C's relay must end now, or NULL. */
static const char *relay_abort_reason(struct chan *c, int64_t now)
{
	struct worker *w = c->w;
	int64_t idle_ms = (int64_t)w->app->cfg.idle_timeout * 1000;
	if (!ssh_is_connected(w->s))
		return "user disconnected";
	if (c->ts && !ssh_is_connected(c->ts))
		return "target disconnected";
	if (stop_requested)
		return "server shutdown";
	if (idle_ms > 0 && now - c->last_input_ms > idle_ms)
		return "idle timeout";
	if (gh_live_kill_reason(c->live)) {
		c->killed = true;
		return gh_live_kill_reason(c->live);
	}
	return NULL;
}

/* After a poll: channel C's live socket, filters, file events and
 * recording, the reasons to end it, then its pump; when the relay is
 * done, its end. */
static void relay_tick(struct chan *c)
{
	int64_t now = gh_mono_ms();
	if (c->live)
		live_poll(c);
	if (c->cmdshell)
		gh_cmdshell_tick(c->cmdshell, now);
	if (c->cmdstdin)
		gh_cmdstdin_tick(c->cmdstdin);
	gh_sess_tick(c->sess); /* sftp's file events, the recording's members */
	gh_sess_telnet_tick(c->tn);
	const char *why = c->aborted ? NULL : relay_abort_reason(c, now);
	if (why) {
		gh_relay_abort(c->relay, why, now);
		c->aborted = true;
	}
	if (gh_relay_pump(c->relay, gh_mono_ms()))
		relay_end(c);
}

/* Pump every relayed channel. A channel is not pumped again from inside
 * its own pump (a message said while it ends, a command review of its
 * shell poll too); the others are, so one channel's wait holds none. */
static void chans_tick(struct worker *w)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		struct chan *c = w->chans[i];
		if (!c || c->ticking)
			continue;
		c->ticking = true;
		gh_backfwd_tick(c->back, NULL);
		if (c->state == CH_RELAY && c->relay)
			relay_tick(c);
		c->ticking = false;
	}
}

/* How long the next poll may wait: not at all when a relay can move data
 * now, briefly while a watcher or a filter waits. */
static int poll_timeout(const struct worker *w)
{
	int t = POLL_MS;
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		const struct chan *c = w->chans[i];
		if (!c || c->state != CH_RELAY || !c->relay)
			continue;
		if (gh_relay_ready(c->relay))
			return 0;
		if (gh_live_busy(c->live) && t > LIVE_POLL_MS)
			t = LIVE_POLL_MS;
		if ((c->cmdshell && gh_cmdshell_busy(c->cmdshell)) ||
		    (c->cmdstdin && gh_cmdstdin_busy(c->cmdstdin)))
			t = t > 30 ? 30 : t;
	}
	return t;
}

static void attach_target(ssh_channel ch, void *userdata)
{
	gh_relay_set_target(userdata, ch);
}

static size_t tunnels_open(void *ud)
{
	struct worker *w = ud;
	size_t n = gh_fwdset_count(w->fwds);
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i])
			n += gh_backfwd_count(w->chans[i]->back);
	return n;
}

/* The gate for a remote forward's listener at ADDR:PORT (rfwd.h): the
 * user and the forward action as the login's account, now. */
static bool rfwd_allowed(void *ud, const char *addr, int port, char *reason, size_t len)
{
	struct worker *w = ud;
	struct gh_authz dec;
	struct gh_authz_req rq = { .user = w->user.name,
				   .source_ip = w->args->peer_ip,
				   .asset = w->login.asset,
				   .account = w->login.account,
				   .protocol = GH_PROTO_SSH,
				   .action = GH_ACT_FORWARD,
				   .port = port };
	(void)addr;
	memset(&dec, 0, sizeof dec);
	if (gh_authz_check(w->st, &rq, &dec) < 0)
		snprintf(dec.reason, sizeof dec.reason, "policy unavailable");
	if (!dec.allow)
		snprintf(reason, len, "%s", dec.reason);
	return dec.allow;
}

static bool rfwd_taken(const struct worker *w)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] && w->chans[i]->rfwd_owner)
			return true;
	return false;
}

/* Before the target channel opens: the relay of the channels TS opens
 * back (backfwd.h) when agent forwarding is asked for (TR asks the target
 * too) or remote forwards are allowed; the recorded remote forwards are
 * asked of TS, which still blocks (rfwd.h). One target of the connection
 * at a time carries the remote forwards: the first relayed one. */
static void back_open(struct chan *c, ssh_session ts, const char *asset,
		      struct gh_target_req *tr)
{
	struct worker *w = c->w;
	bool agent = c->agent_req && c->req != REQ_SUBSYSTEM;
	bool x11 = c->x11_req && c->req != REQ_SUBSYSTEM;
	bool remote = w->rfwd && w->app->cfg.allow_remote_forward && !rfwd_taken(w);
	if (!agent && !x11 && !remote)
		return;
	struct gh_fwdset_hooks h = { .on_end = fwd_ended, .ud = w };
	c->back = gh_backfwd_new(w->s, ts, w->ev, asset, agent, x11, &h);
	if (!c->back)
		return;
	tr->agent = agent;
	if (x11) {
		tr->x11_protocol = c->x11_proto;
		tr->x11_cookie = c->x11_cookie;
		tr->x11_screen = c->x11_screen;
		tr->x11_single = c->x11_single;
	}
	if (remote) {
		struct gh_rfwd_env env = { .st = w->st,
					   .who = cwho(c),
					   .asset = asset,
					   .max_conns = w->app->cfg.max_tunnel_connections,
					   .count = tunnels_open,
					   .allow = rfwd_allowed,
					   .ud = w };
		gh_rfwd_attach(w->rfwd, ts, c->back, &env);
		c->rfwd_owner = true;
	}
}

static bool review_poll(void *ud, int ms);
static void review_say(void *ud, const char *line);

/* The command filter of the user's input (docs/COMMAND-FILTER.md, "Input
 * of shells and interpreters"): a shell on a terminal (the login shell, or
 * an exec starting one) gets the interactive filter (src/filter/cmdshell.h;
 * the login shell in log-only mode when no filter applies), a shell
 * without one the line filter (src/filter/cmdstdin.h); other input passes (a
 * program reading code from it was decided with the exec line). Hooks O.
 * GH_EINVAL when the filters cannot be loaded. */
static int input_filter(struct chan *c, const struct gh_asset *a, const char *account,
			struct gh_relay_opts *o)
{
	struct worker *w = c->w;
	struct gh_cmdguard *g = NULL;
	char err[300];
	if (c->req != REQ_SHELL && !(c->req == REQ_EXEC && gh_cmdstdin_shell(c->command)))
		return 0;
	int r = gh_cmdguard_open(w->st, &w->user, a, account, &g, err, sizeof err);
	if (r < 0) {
		gh_error("command filters unavailable for %s on %s: %s", w->user.name, a->name, err);
		return r;
	}
	if (!g && !(c->req == REQ_SHELL && c->pty))
		return 0; /* no filter applies: the input passes as it is */
	gh_cmdguard_set_dynamic(g, w->app->cfg.cmdfilter_dynamic);
	/* the session's copies: the filter lives as long as the session */
	struct gh_cmdguard_ctx x = { .st = w->st,
				     .who = cwho(c),
				     .asset = gh_sess_asset(c->sess),
				     .account = gh_sess_account(c->sess),
				     .review_timeout = w->app->cfg.review_timeout,
				     .wait = { .poll = review_poll, .say = review_say, .ud = c } };
	if (!c->pty) {
		r = gh_cmdstdin_new(g, &x, &c->cmdstdin);
		if (r == 0)
			gh_cmdstdin_hook(c->cmdstdin, o);
		return r;
	}
	r = gh_cmdshell_new(g, &x, c->height, c->width, &c->cmdshell);
	if (r == 0)
		gh_cmdshell_hook(c->cmdshell, o);
	return r;
}

/* Undo what target_start set up for channel C (the relay, filters, file
 * events, the target), then end its session with RES and REASON. */
static void target_cleanup(struct chan *c, const struct gh_sess_result *res, const char *reason)
{
	struct worker *w = c->w;
	c->relay = gh_relay_free(c->relay);
	c->cmdshell = gh_cmdshell_free(c->cmdshell);
	c->cmdstdin = gh_cmdstdin_free(c->cmdstdin);
	/* before the session ends: they borrow its names */
	if (c->rfwd_owner)
		gh_rfwd_detach(w->rfwd);
	c->rfwd_owner = false;
	c->back = gh_backfwd_free(c->back, reason);
	sess_end(c, res, reason);
	c->live = gh_live_close(c->live); /* after the row: REASON may be its text */
	if (c->ts && c->state == CH_RELAY)
		ssh_event_remove_session(w->ev, c->ts);
	if (c->tch)
		ssh_channel_free(c->tch);
	c->tch = NULL;
	c->ts = gh_target_free(c->ts);
	c->tn = gh_sess_telnet_free(c->tn);
}

/* The relay of channel C to its target TS: sftp's file event queue, the
 * command filter, live socket, then the target channel with the user's
 * requests. */
static int relay_start(struct chan *c, const struct gh_asset *a, const char *account,
		       char *err)
{
	struct worker *w = c->w;
	struct gh_rec *rec = gh_sess_rec(c->sess);
	struct gh_target_env env[MAX_ENV];
	for (size_t i = 0; i < c->n_env; i++) {
		env[i].name = c->env[i].name;
		env[i].value = c->env[i].value;
	}
	live_open(c, rec, true);
	struct gh_relay_opts ro = { .client = c->ch,
				    .buffer_size = (size_t)w->app->cfg.relay_buffer_kib << 10,
				    .rec = rec,
				    .output_tap = c->live && c->req != REQ_SUBSYSTEM ? gh_live_tap : NULL,
				    .tap_ud = c->live,
				    .record_input = w->app->cfg.record_input != 0,
				    .finish_client = !c->from_menu,
				    .sftp = c->req == REQ_SUBSYSTEM };
	if (ro.sftp) {
		if (gh_sess_sftp_open(c->sess, c->sftp_allowed) < 0)
			return snprintf(err, GH_TARGET_ERRLEN, "out of memory"), GH_ENOMEM;
		ro.sftp_hooks = gh_sess_sftp_hooks(c->sess);
	}
	if (input_filter(c, a, account, &ro) < 0)
		return snprintf(err, GH_TARGET_ERRLEN, "command filters unavailable"), GH_EINVAL;
	if (gh_fault("relay-new") || gh_relay_new(&ro, &c->relay) < 0)
		return snprintf(err, GH_TARGET_ERRLEN, "out of memory"), GH_ENOMEM;
	if (c->live)
		gh_live_set_relay(c->live, c->relay);
	if (c->cmdshell)
		gh_cmdshell_attach(c->cmdshell, c->relay);
	if (c->cmdstdin)
		gh_cmdstdin_attach(c->cmdstdin, c->relay);
	if (c->tn) /* a telnet target: a stream, no channel requests */
		return gh_sess_telnet_attach(c->tn, c->relay, w->ev) < 0
			       ? (snprintf(err, GH_TARGET_ERRLEN, "out of memory"), GH_ENOMEM)
			       : 0;
	struct gh_target_req tr = { .pty = c->pty,
				    .term = c->term,
				    .width = c->width,
				    .height = c->height,
				    .env = env,
				    .n_env = c->n_env,
				    .command = c->req == REQ_EXEC ? c->command : NULL,
				    .subsystem = c->req == REQ_SUBSYSTEM ? c->subsystem : NULL,
				    .on_channel = attach_target,
				    .userdata = c->relay };
	back_open(c, c->ts, gh_sess_asset(c->sess), &tr); /* borrowed for the session */
	return gh_target_open(c->ts, &tr, &c->tch, err);
}

/* The telnet target of channel C (session/telnet.h): the user's terminal
 * for its negotiation. */
static int telnet_reach(struct chan *c, const struct gh_sess_reach *rch, char *err)
{
	struct gh_sess_telnet_opts to = { .term = c->pty ? c->term : NULL,
					  .width = c->pty ? c->width : 80,
					  .height = c->pty ? c->height : 24,
					  .login_timeout = c->w->app->cfg.telnet_login_timeout };
	return gh_sess_telnet_reach(c->sess, rch, &to, &c->tn, err);
}

/* A telnet asset takes interactive shells only: an exec, sftp or scp to
 * it is refused with a word saying so (1). Asked after the gate allowed
 * telnet, so that the word tells nothing to a user not permitted. */
static int telnet_refuse_request(struct chan *c, const struct gh_asset *a, const char *account)
{
	if (!c->telnet || c->req == REQ_SHELL)
		return 0;
	const char *what = c->req == REQ_EXEC ? "commands (exec, scp)" : "file transfer (sftp)";
	say(c, "%s is a telnet asset: it takes interactive shells only; %s refused", a->name, what);
	gh_sess_refuse(c->sess, a->name, account, "telnet asset: shell only");
	sess_close(c, "telnet asset: shell only");
	return 1;
}

/* Connect channel C to ASSET as ACCOUNT (policy already allowed it; the
 * gate asks again for the secret), open its recording and start its relay,
 * which the poll loop then pumps (relay_tick) until relay_end. Returns 0
 * when relayed, else 1 (the session ended, the user told why). */
static int target_start(struct chan *c, const struct gh_asset *a, const char *account,
			bool from_menu)
{
	struct worker *w = c->w;
	struct gh_account acct;
	char err[GH_TARGET_ERRLEN] = "";
	c->from_menu = from_menu;
	c->aborted = false;
	memset(&acct, 0, sizeof acct);
	int r = gh_store_account_get(w->st, a->id, account, &acct);
	if (r < 0) {
		refuse(c, a->name, account, r == GH_ENOENT ? "no such account" : "store error");
		target_cleanup(c, NULL, NOT_PERMITTED);
		return 1;
	}
	gh_account_free(&acct);
	if (c->telnet)
		gh_sess_set_protocol(c->sess, "telnet");
	gh_sess_target(c->sess, a->id, a->name, account, req_kind_name(c));
	struct gh_sess_reach rch = { .st = w->st,
				     .vault = w->app->vault,
				     .asset = a,
				     .account = account,
				     .protocol = req_protocol(c),
				     .timeout = w->app->cfg.target_connect_timeout,
				     .data_dir = w->app->data_dir };
	r = c->telnet ? telnet_reach(c, &rch, err) : gh_sess_reach(c->sess, &rch, &c->ts, err);
	if (r < 0) {
		if (r == GH_EHOSTKEY)
			say(c, "host key of %s changed; connection refused, an administrator must verify it",
			    a->name);
		else
			say(c, "%s: %s", a->name, err);
		target_cleanup(c, NULL, err);
		return 1;
	}
	struct gh_sess_rec_opts rco = { .recordings_dir = w->app->cfg.recordings_dir,
					.record_input = w->app->cfg.record_input != 0,
					.binary = !c->pty };
	if (gh_sess_record(c->sess, &rco) < 0)
		snprintf(err, sizeof err, "recording unavailable");
	else if (relay_start(c, a, account, err) == 0)
		err[0] = '\0';
	if (err[0]) {
		say(c, "%s: %s", a->name, err);
		target_cleanup(c, NULL, err);
		return 1;
	}
	gh_sess_running(c->sess, c->req == REQ_EXEC ? c->command : req_kind_name(c));
	gh_info("session %s: %s from %s -> %s@%s (%s)", gh_sess_id(c->sess), w->user.name,
		w->source, account, a->name, req_kind_name(c));
	/* what the set-up freed (key exchanges, policy, queries) goes back to
	 * the kernel before a session that may last for hours */
	malloc_trim(0);
	if (c->ts)
		ssh_event_add_session(w->ev, c->ts);
	if (c->client_eof)
		gh_relay_client_eof(c->relay);
	if (c->client_closed)
		gh_relay_client_close(c->relay);
	c->last_input_ms = gh_mono_ms();
	c->state = CH_RELAY;
	return 0;
}

/* Channel C's relay is done (from relay_tick): its result, a word for the
 * user when Gatehouse ended it, the session's end; then the menu goes on
 * (BUSY) or the user's channel ends (DONE). */
static void relay_end(struct chan *c)
{
	struct worker *w = c->w;
	struct gh_relay_result res;
	const char *sid = gh_sess_id(c->sess) ? gh_sess_id(c->sess) : "-";
	gh_live_detach(c->live);
	gh_sess_tick(c->sess); /* the last file events come from the pump's end */
	gh_relay_get_result(c->relay, &res);
	if (!c->from_menu && res.client_finished)
		c->client_finished = true;
	bool alive = c->ch && client_alive(c);
	if (c->killed)
		w->closing = true; /* a killed session's connection opens no other */
	if (!strcmp(res.reason, GH_RELAY_RECORDING_FAILED)) {
		gh_error("session %s of %s ended: its recording failed (disk full or I/O error)",
			 sid, w->user.name);
		if (alive)
			say(c, "the session recording failed; the session was ended");
	} else if (c->killed && alive) {
		say(c, "%s[gatehouse: this session was %s]", nl(c), res.reason);
	} else if (c->aborted && !c->from_menu && alive) {
		if (stop_requested)
			say(c, "gatehouse is shutting down");
		else if (!strcmp(res.reason, "idle timeout"))
			say(c, "idle timeout");
	}
	c->exit_status = res.exit_signal[0] || res.exit_status < 0 ? 255 : res.exit_status;
	gh_info("session %s ended: %s (exit %d%s%s, %lld bytes in, %lld bytes out)", sid,
		res.reason, res.exit_status, res.exit_signal[0] ? " signal " : "", res.exit_signal,
		(long long)res.bytes_in, (long long)res.bytes_out);
	struct gh_sess_result sr = { .exit_status = res.exit_status,
				     .exit_signal = res.exit_signal,
				     .bytes_in = res.bytes_in,
				     .bytes_out = res.bytes_out };
	target_cleanup(c, &sr, res.reason);
	c->relay = NULL;
	if (c->from_menu)
		c->state = CH_BUSY;
	else
		finish_client(c, c->exit_status);
}

/* The menu's pick: relay until the target ends, serving the other
 * channels meanwhile. */
static void run_target_wait(struct chan *c, const struct gh_asset *a, const char *account)
{
	if (target_start(c, a, account, true) != 0)
		return;
	while (c->state == CH_RELAY)
		poll_once(c->w, poll_timeout(c->w));
}


/* ---- scp, rsync and git execs ------------------------------------------------- */

/* The "file" event of a classified exec. */
static void exec_event(struct chan *c, const char *asset, const char *account,
		       const struct gh_exec_class *ec, bool allow, const char *reason)
{
	char acts[64];
	struct gh_audit_who aw = cwho(c);
	gh_actions_format(ec->action, acts, sizeof acts);
	struct gh_audit_file_op op = { .operation = gh_exec_method(ec),
				       .path = ec->path,
				       .actions = acts,
				       .status = -1,
				       .allow = allow,
				       .reason = reason };
	gh_audit_file(c->w->st, &aw, asset, account, &op);
}

/* An exec that runs scp, rsync or git to move files (see execclass.h)
 * needs, besides connect, the action it performs (upload or download):
 * granted on protocol ssh, or for scp on scp or ssh, so that a permission
 * with the default protocols allows it. Fills *EC (kind OTHER for any
 * other request). Returns 0 when allowed or not such an exec, GH_EPERM
 * when refused (the user told "not permitted", the reason logged). */
static int exec_authorize(struct chan *c, const struct policy_ctx *pc, const struct gh_asset *a,
			  const char *account, struct gh_exec_class *ec)
{
	int r = 0;
	memset(ec, 0, sizeof *ec);
	if (c->req != REQ_EXEC || !c->command || gh_exec_classify(c->command, ec) < 0 ||
	    !gh_exec_method(ec))
		return 0;
	int64_t now = gh_now();
	uint32_t granted =
		gh_policy_allowed_actions(pc->p, &pc->subj, a->id, account, GH_PROTO_SSH, now);
	if (ec->kind == GH_EXEC_SCP)
		granted |= gh_policy_allowed_actions(pc->p, &pc->subj, a->id, account, GH_PROTO_SCP,
						     now);
	if (!(granted & ec->action)) {
		char acts[64], path[256], reason[400];
		gh_actions_format(ec->action, acts, sizeof acts);
		gh_escape(path, sizeof path, ec->path);
		snprintf(reason, sizeof reason, "denied: %s of \"%s\" needs action %s",
			 gh_exec_method(ec), path, acts);
		refuse(c, a->name, account, reason);
		snprintf(reason, sizeof reason, "not permitted: needs %s", acts);
		exec_event(c, a->name, account, ec, false, reason);
		r = GH_EPERM;
	}
	return r;
}

/* Review waits: keep the user's session served, notice when it goes. */
static bool review_poll(void *ud, int ms)
{
	struct chan *c = ud;
	poll_once(c->w, ms);
	return client_alive(c) && !stop_requested;
}

static void review_say(void *ud, const char *line)
{
	say(ud, "%s", line);
}

static int exec_filter(struct chan *c, const struct gh_asset *a, const char *account)
{
	struct worker *w = c->w;
	struct gh_audit_who aw = cwho(c);
	struct gh_cmdguard_wait wt = { .poll = review_poll, .say = review_say, .ud = c };
	return gh_cmdguard_exec(w->st, &aw, &w->user, a, account, c->command,
				w->app->cfg.review_timeout, &wt, w->app->cfg.cmdfilter_dynamic);
}

/* The direct login's account: as named, or chosen (choose_account).
 * Returns 0, or the exit status for the user with the session ended. */
static int direct_account(struct chan *c, struct policy_ctx *pc, const struct gh_asset *a,
			  char *account, size_t len)
{
	struct worker *w = c->w;
	if (w->login.account[0]) {
		snprintf(account, len, "%s", w->login.account);
		return 0;
	}
	int r = choose_account(c, pc, a, account, len);
	if (r == GH_EINVAL) {
		say(c, "%s: several accounts are allowed; log in as %s@ACCOUNT@%s", a->name,
		    w->user.name, a->name);
		sess_close(c, "account not chosen");
		return 1;
	}
	if (r == GH_ECONN) {
		sess_close(c, "user quit");
		return -1; /* exit status 0 */
	}
	if (r < 0) {
		refuse(c, a->name, NULL, r == GH_EPERM ? "no allowed account" : "store error");
		sess_close(c, NOT_PERMITTED);
		return 1;
	}
	return 0;
}

/* user@account@asset / user@asset: the gate, the exec's checks, then the
 * target (target_start). Returns 0 when the channel is relayed, else the
 * exit status for the user (its session ended). */
static int run_direct(struct chan *c, struct policy_ctx *pc)
{
	struct worker *w = c->w;
	struct gh_asset a;
	struct gh_authz dec;
	struct gh_exec_class ec;
	char account[GH_LOGIN_PART_MAX + 1];
	int status = 1;

	memset(&a, 0, sizeof a);
	int r = gh_store_asset_get(w->st, w->login.asset, &a);
	if (r < 0) {
		refuse(c, w->login.asset, w->login.account, r == GH_ENOENT ? "no such asset" : "store error");
		sess_close(c, NOT_PERMITTED);
		return 1;
	}
	c->telnet = gh_sess_telnet_asset(&a);
	r = direct_account(c, pc, &a, account, sizeof account);
	if (r != 0) {
		status = r < 0 ? 0 : r;
		goto out;
	}
	if (gh_sess_authorize(c->sess, a.name, account, req_protocol(c), &dec) < 0) {
		say(c, "%s", NOT_PERMITTED);
		sess_close(c, NOT_PERMITTED);
		goto out;
	}
	if (telnet_refuse_request(c, &a, account))
		goto out;
	/* scp, rsync and git execs also need their upload or download */
	if (exec_authorize(c, pc, &a, account, &ec) < 0) {
		sess_close(c, NOT_PERMITTED);
		goto out;
	}
	/* the command filters (src/filter/cmdguard.h) */
	if (c->req == REQ_EXEC && exec_filter(c, &a, account) < 0) {
		sess_close(c, "command refused");
		status = GH_CMDGUARD_EXIT_REJECTED;
		goto out;
	}
	/* sftp needs connect only; every file operation is then checked
	 * against the actions granted on sftp (computed once, here) */
	if (c->req == REQ_SUBSYSTEM)
		c->sftp_allowed = gh_policy_allowed_actions(pc->p, &pc->subj, a.id, account,
							    GH_PROTO_SFTP, gh_now());
	if (gh_exec_method(&ec))
		exec_event(c, a.name, account, &ec, true, NULL);
	status = target_start(c, &a, account, false);
out:
	gh_asset_free(&a);
	return status;
}

/* The session of a direct login's channel C: its row, then run_direct. */
static int start_direct(struct chan *c)
{
	struct worker *w = c->w;
	struct policy_ctx pc;
	sess_open(c, req_kind_name(c), w->login.asset, w->login.account[0] ? w->login.account : NULL);
	if (policy_ctx_load(w, &pc) < 0) {
		say(c, "internal error");
		sess_close(c, "policy unavailable");
		return 1;
	}
	int status = run_direct(c, &pc);
	policy_ctx_free(&pc);
	return status;
}

/* ---- the menu ----------------------------------------------------------------- */

/* Run menu M until a pick (1, *ret_idx), quit (0) or the user leaves (-1). */
static int menu_choose(struct chan *c, struct gh_menu *m, size_t *ret_idx)
{
	struct worker *w = c->w;
	struct gh_menu *saved = c->menu;
	int rc = -1;
	c->menu = m;
	c->menu_state = GH_MENU_CONTINUE;
	gh_menu_render(m);
	menu_flush(c);
	/* keystrokes that arrived before the menu existed */
	char tmp[4096];
	int n;
	while (c->menu_state == GH_MENU_CONTINUE &&
	       (n = ssh_channel_read_nonblocking(c->ch, tmp, sizeof tmp, 0)) > 0)
		cb_data(w->s, c->ch, tmp, (uint32_t)n, 0, c);
	int64_t idle_ms = (int64_t)w->app->cfg.idle_timeout * 1000;
	while (c->menu_state == GH_MENU_CONTINUE && client_alive(c) && !stop_requested &&
	       !c->client_eof) {
		poll_once(w, poll_timeout(w));
		if (c->live) {
			live_poll(c);
			if (gh_live_kill_reason(c->live)) {
				c->killed = true;
				break;
			}
		}
		if (idle_ms > 0 && gh_mono_ms() - c->last_input_ms > idle_ms) {
			say(c, "idle timeout");
			break;
		}
	}
	if (c->menu_state == GH_MENU_PICKED) {
		*ret_idx = c->menu_pick;
		rc = 1;
	} else if (c->menu_state == GH_MENU_QUIT) {
		rc = 0;
	}
	c->menu = saved;
	c->menu_state = GH_MENU_CONTINUE;
	return rc;
}

/* A kill that came while the user was in a menu (the menu's own live
 * socket): tell the user, close the row. True when killed. */
static bool menu_killed(struct chan *c)
{
	const char *k = gh_live_kill_reason(c->live);
	if (!k)
		return false;
	c->killed = true;
	c->w->closing = true;
	if (client_alive(c))
		say(c, "%s[gatehouse: this session was %s]", nl(c), k);
	sess_close(c, k);
	return true;
}

/* The menu's pick: asset A, then its account and the gate, then the
 * target until it ends. Returns -1 when the user left, 1 otherwise. */
static int menu_pick(struct chan *c, struct policy_ctx *pc, struct gh_asset *a)
{
	char account[GH_LOGIN_PART_MAX + 1];
	struct gh_authz dec;
	c->telnet = gh_sess_telnet_asset(a);
	int r = choose_account(c, pc, a, account, sizeof account);
	if (menu_killed(c))
		return -1;
	if (r == GH_ECONN) {
		sess_close(c, "user left the menu");
		return -1;
	}
	if (r < 0) {
		refuse(c, a->name, NULL, r == GH_EPERM ? "no allowed account" : "policy error");
		sess_close(c, NOT_PERMITTED);
		return 1;
	}
	if (gh_sess_authorize(c->sess, a->name, account, req_protocol(c), &dec) < 0) {
		say(c, "%s", NOT_PERMITTED);
		sess_close(c, NOT_PERMITTED);
		return 1;
	}
	/* the relay opens its own socket under the same id */
	c->live = gh_live_close(c->live);
	run_target_wait(c, a, account);
	/* leave the target's screen state behind */
	static const char reset[] = "\x1b[0m\x1b[?1049l\x1b[?25h\r\n";
	if (client_alive(c))
		ssh_channel_write(c->ch, reset, sizeof reset - 1);
	return 1;
}

struct menu_list {
	int64_t *ids;
	struct gh_asset *assets;
	struct gh_menu_item *items;
	char **nodes;
	size_t n;
};

static void menu_list_free(struct menu_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		gh_asset_free(&l->assets[i]);
		free(l->nodes[i]);
	}
	free(l->assets);
	free(l->items);
	free(l->nodes);
	free(l->ids);
	memset(l, 0, sizeof *l);
}

/* The assets the user may reach now, as menu items: over ssh, and the
 * telnet assets over telnet (menu_list_ids). */
static int menu_list_ids(struct policy_ctx *pc, struct menu_list *l, size_t *ret_n,
			 size_t *ret_n_ssh)
{
	int64_t *tids = NULL;
	size_t n = 0, nt = 0;
	int r = gh_policy_allowed_assets(pc->p, &pc->subj, GH_PROTO_SSH, gh_now(), &l->ids, &n);
	if (r == 0)
		r = gh_policy_allowed_assets(pc->p, &pc->subj, GH_PROTO_TELNET, gh_now(), &tids, &nt);
	int64_t *all = r == 0 && nt ? realloc(l->ids, (n + nt) * sizeof *all) : l->ids;
	if (r == 0 && nt && !all)
		r = GH_ENOMEM;
	if (r == 0) {
		l->ids = all;
		if (nt)
			memcpy(all + n, tids, nt * sizeof *all);
		*ret_n = n + nt;
		*ret_n_ssh = n;
	}
	free(tids);
	return r;
}

static int menu_list_load(struct worker *w, struct policy_ctx *pc, struct menu_list *l)
{
	size_t n = 0, n_ssh = 0;
	memset(l, 0, sizeof *l);
	int r = menu_list_ids(pc, l, &n, &n_ssh);
	if (r < 0)
		return r;
	l->assets = calloc(n + 1, sizeof *l->assets);
	l->items = calloc(n + 1, sizeof *l->items);
	l->nodes = calloc(n + 1, sizeof *l->nodes);
	if (!l->assets || !l->items || !l->nodes)
		return GH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct gh_asset *a = &l->assets[l->n];
		if (gh_store_asset_get_by_id(w->st, l->ids[i], a) < 0)
			continue;
		if (gh_sess_telnet_asset(a) != (i >= n_ssh)) { /* reached by the other protocol */
			gh_asset_free(a);
			continue;
		}
		if (gh_strjoin((const char *const *)a->nodes, a->n_nodes, ",", &l->nodes[l->n]) < 0) {
			gh_asset_free(a);
			continue;
		}
		l->items[l->n] = (struct gh_menu_item){ .id = a->id,
							.name = a->name,
							.address = a->address,
							.nodes = l->nodes[l->n],
							.comment = a->comment ? a->comment : "" };
		l->n++;
	}
	return 0;
}

/* One round of the menu on channel C: its row, the list, a pick and its
 * session. Returns 1 to show the menu again, 0 (quit) or -1 (left). */
static int menu_round(struct chan *c, const char *title)
{
	struct worker *w = c->w;
	struct policy_ctx pc;
	struct menu_list l;
	size_t idx = 0;
	int rc = -1;
	memset(&l, 0, sizeof l);
	sess_open(c, "menu", NULL, NULL);
	live_open(c, NULL, false); /* kill and lock reach the menu too */
	if (policy_ctx_load(w, &pc) < 0) {
		say(c, "internal error");
		sess_close(c, "policy unavailable");
		c->live = gh_live_close(c->live);
		return -1;
	}
	if (menu_list_load(w, &pc, &l) < 0) {
		say(c, "internal error");
		sess_close(c, "policy unavailable");
		goto out;
	}
	struct gh_menu *m = gh_menu_new(l.items, l.n, c->width, c->height, title);
	gh_menu_set_notice(m, c->said); /* why the last pick did not connect */
	c->said[0] = '\0';
	rc = m ? menu_choose(c, m, &idx) : -1;
	gh_menu_free(m);
	if (menu_killed(c))
		rc = -1;
	if (rc == 1 && idx < l.n) {
		rc = menu_pick(c, &pc, &l.assets[idx]);
	} else {
		struct gh_sess_result q = { .exit_status = 0 };
		sess_end(c, &q, rc == 0 ? "user quit the menu" : "user left");
		c->sess = gh_sess_free(c->sess);
	}
out:
	c->live = gh_live_close(c->live);
	policy_ctx_free(&pc);
	menu_list_free(&l);
	return rc;
}

/* The menu on channel C until the user quits or leaves. It holds the
 * main loop: a menu login's channels are served one at a time (other
 * channels' relays are pumped meanwhile). Returns the exit status. */
static int run_menu(struct chan *c)
{
	struct worker *w = c->w;
	char title[160];
	snprintf(title, sizeof title, "Gatehouse \xe2\x80\x94 %s", w->user.name);
	c->said[0] = '\0';
	for (;;) {
		int rc = menu_round(c, title);
		if (rc != 1 || !client_alive(c) || stop_requested || c->killed)
			return rc == 0 ? 0 : 1;
		sess_close(c, "ended");
	}
}

/* ---- the connection ------------------------------------------------------------ */

static void log_cb(int priority, const char *function, const char *buffer, void *userdata)
{
	char esc[512];
	gh_escape(esc, sizeof esc, buffer);
	if (priority <= SSH_LOG_WARN)
		gh_debug("libssh %s: %s", function, esc);
	else
		gh_debug("libssh: %s", esc);
}

/* Forwarding messages (direct-tcpip, tcpip-forward, x11-req): jump.h.
 * Returns 1 when MSG is not one (the default reply). */
static void forward_allowed(void *ud)
{
	struct worker *w = ud;
	if (w->tunrow)
		return;
	struct gh_tunrow_opts o = { .st = w->st,
				    .user = &w->user,
				    .peer_ip = w->args->peer_ip,
				    .peer_port = w->args->peer_port,
				    .asset = w->login.asset[0] ? w->login.asset : NULL,
				    .account = w->login.account[0] ? w->login.account : NULL,
				    .data_dir = w->app->data_dir,
				    .ev = w->ev };
	w->tunrow = gh_tunrow_open(&o);
}

static int forward_message(struct worker *w, ssh_message msg)
{
	if (!w->authed || !w->fwds)
		return 1;
	struct gh_jump_ctx c = { .app = w->app,
				 .st = w->st,
				 .s = w->s,
				 .fwds = w->fwds,
				 .user = &w->user,
				 .who = who(w),
				 .args = w->args,
				 .asset = w->login.asset[0] ? w->login.asset : NULL,
				 .account = w->login.account[0] ? w->login.account : NULL,
				 .jump_key = w->jump_key,
				 .rfwd = w->rfwd,
				 .on_forward = forward_allowed,
				 .ud = w };
	return gh_jump_message(&c, msg);
}

static void fwd_ended(void *ud, const struct gh_fwd_end *e)
{
	struct worker *w = ud;
	char host[1024];
	gh_escape(host, sizeof host, e->host);
	if (e->kind == GH_FWD_JUMP) {
		gh_info("jump of %s to %s ended (%s, %llu bytes in, %llu bytes out)", w->user.name,
			e->asset, e->reason, (unsigned long long)e->bytes_in,
			(unsigned long long)e->bytes_out);
		return;
	}
	struct gh_audit_who aw = who(w);
	struct gh_audit_tunnel t = { .method = e->kind == GH_FWD_AGENT  ? "agent"
					       : e->kind == GH_FWD_X11  ? "x11"
					       : e->kind == GH_FWD_RFWD ? "tcpip-forward"
									: "direct-tcpip",
				     .result = "end",
				     .reason = e->reason,
				     .host = e->host,
				     .port = e->port,
				     .bytes_in = e->bytes_in,
				     .bytes_out = e->bytes_out,
				     .duration_ms = e->duration_ms };
	gh_audit_tunnel(w->st, &aw, e->asset, &t);
	gh_info("tunnel of %s to %s:%d ended (%s, %llu bytes in, %llu bytes out, %lld ms)",
		w->user.name, host, e->port, e->reason, (unsigned long long)e->bytes_in,
		(unsigned long long)e->bytes_out, (long long)e->duration_ms);
}

/* A jump child was reaped: close the session rows it left open. */
static void fwd_child(void *ud, pid_t pid, int status)
{
	struct worker *w = ud;
	gh_proclimit_release(w->st, pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	int n = gh_sweep_close_worker(w->st, (int)pid, "jump worker ended abnormally");
	if (n > 0 || WIFSIGNALED(status))
		gh_warn("jump worker %d ended abnormally (%d open session%s closed)", (int)pid,
			n > 0 ? n : 0, n == 1 ? "" : "s");
}


/* `known-hosts`: the known_hosts lines of the user's assets -> the jump
 * host key, on stdout. */
static int run_known_hosts(struct chan *c)
{
	struct worker *w = c->w;
	char *text = NULL;
	char *key = NULL;
	int r = w->jump_key ? gh_ssh_key_public_line(w->jump_key, &key) : GH_ENOENT;
	if (r == 0)
		r = gh_known_hosts_text(w->st, key, &w->user, &text);
	free(key);
	if (r < 0) {
		say(c, "known-hosts: %s", r == GH_ENOENT ? "no jump host key" : gh_strerror(r));
		return 1;
	}
	size_t len = strlen(text), off = 0;
	int64_t end = gh_mono_ms() + 10000;
	while (off < len && client_alive(c) && gh_mono_ms() < end) {
		int k = ssh_channel_write(c->ch, text + off, (uint32_t)(len - off));
		if (k < 0)
			break;
		off += (size_t)k;
		if (off < len)
			poll_once(w, 50);
	}
	free(text);
	return off == len ? 0 : 1;
}

/* `request ...`: an access request (session/reqcmd.h). */
static int run_request(struct chan *c)
{
	char out[480];
	int st = gh_reqcmd_run(c->w->st, c->w->user.id, c->w->user.name, c->w->source, c->command,
			       out, sizeof out);
	say(c, "%s", out);
	return st;
}

/* `db-token ...`: a one-time database password (session/dbtoken.h). */
static int run_db_token(struct chan *c)
{
	char out[480];
	int st = gh_dbtoken_run(c->w->st, c->w->app->cfg.db_token_ttl, c->w->user.id,
				c->w->user.name, c->w->source, c->command, out, sizeof out);
	say(c, "%s", out);
	return st;
}

static ssh_bind make_bind(const struct gh_worker_args *a)
{
	ssh_bind b = ssh_bind_new();
	int zero = 0;
	if (!b)
		return NULL;
	if (a->jump_user) {
		/* the bind takes the key */
		if (!a->jump_key ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, a->jump_key) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, FRONT_KEX) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, FRONT_CIPHERS) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, FRONT_CIPHERS) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, FRONT_MACS) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, FRONT_MACS) < 0 ||
		    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "ssh-ed25519") < 0) {
			gh_error("cannot configure the jump SSH server: %s", ssh_get_error(b));
			ssh_bind_free(b);
			return NULL;
		}
		return b;
	}
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, a->ed25519_path) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, a->rsa_path) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, FRONT_KEX) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, FRONT_CIPHERS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, FRONT_CIPHERS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, FRONT_MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, FRONT_MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, FRONT_HOSTKEY_ALGS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER, FRONT_BANNER) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
				 FRONT_USER_KEY_TYPES) < 0) {
		gh_error("cannot configure the SSH server: %s", ssh_get_error(b));
		ssh_bind_free(b);
		return NULL;
	}
	return b;
}

/* Every session on a connection, the first and each later one of a shared
 * connection: the user is checked again as at login (still there, enabled,
 * not locked, login ACLs and schedules), so a connection kept open does not
 * outlive a lock or a rule. NULL: go on. */
static const char *session_again_refused(struct worker *w)
{
	char why[256];
	if (gh_authz_user(w->st, w->login.user, w->args->peer_ip, gh_now(), NULL, NULL, why,
			  sizeof why) == 0)
		return NULL;
	struct gh_audit_who aw = who(w);
	gh_audit_login(w->st, &aw, "session", false, why);
	gh_info("next session of %s on its connection from %s refused: %s", w->user.name, w->source,
		why);
	return "this connection may not open another session; log in again";
}

/* Channel C has its request: serve it. A direct login's session is
 * relayed from here on by the poll loop (state RELAY); the menu, and the
 * other answers, are done when this returns (DONE). */
static void chan_serve(struct chan *c)
{
	struct worker *w = c->w;
	int status = 1;
	c->state = CH_BUSY;
	/* the first session too: the login may be long past */
	const char *no = session_again_refused(w);
	if (no) {
		say(c, "%s", no);
		finish_client(c, 1);
		w->closing = true;
		return;
	}
	if (w->login.asset[0]) {
		status = start_direct(c);
		if (status == 0 && c->state == CH_RELAY)
			return;
	} else if (c->req == REQ_SHELL && c->pty) {
		status = run_menu(c);
	} else if (c->req == REQ_EXEC && c->command && !strcmp(c->command, "known-hosts")) {
		status = run_known_hosts(c);
	} else if (c->req == REQ_EXEC && gh_reqcmd_is(c->command)) {
		status = run_request(c);
	} else if (c->req == REQ_EXEC && gh_dbtoken_cmd_is(c->command)) {
		status = run_db_token(c);
	} else {
		say(c, "no target given: log in as %s@ACCOUNT@ASSET (or with a terminal for the menu)",
		    w->user.name);
	}
	finish_client(c, status < 0 ? 255 : status);
}

/* Serve the channels whose request came; free those done whose user's
 * CLOSE came (or did not in time). */
static void chans_step(struct worker *w)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++) {
		struct chan *c = w->chans[i];
		if (!c)
			continue;
		if (c->state == CH_NEW && c->req != REQ_NONE && ssh_is_connected(w->s) &&
		    !stop_requested)
			chan_serve(c);
		else if (c->state == CH_NEW && (c->client_closed || !ssh_is_connected(w->s)))
			finish_client(c, -1);
		else if (c->state == CH_DONE &&
			 (c->client_closed || !ssh_is_connected(w->s) || gh_mono_ms() >= c->done_ms))
			chan_free(c);
	}
}

static bool chans_relayed(const struct worker *w)
{
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] && w->chans[i]->state == CH_RELAY)
			return true;
	return false;
}

/* After authentication: session channels (up to max_channels_per_connection
 * at once, each its own session) and/or forwarded channels (ssh -J / -W /
 * -N -L open no session channel); OpenSSH connection sharing
 * (ControlMaster/ControlPersist) opens sessions one after another or at
 * once on the same connection. Until the user goes (or a shutdown has
 * ended every relay). */
static void serve_channels(struct worker *w)
{
	for (;;) {
		bool relayed = chans_relayed(w);
		if (!relayed && (!ssh_is_connected(w->s) || stop_requested))
			break;
		if (w->closing && chans_open(w) == 0)
			break;
		poll_once(w, poll_timeout(w));
		chans_step(w);
	}
}

/* At the worker's end: the user's CLOSE of every channel (bounded), then
 * each is freed (a session still open ends "worker ended"). */
static void chans_free_all(struct worker *w)
{
	int64_t end = gh_mono_ms() + CLIENT_CLOSE_WAIT_MS;
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i] && w->chans[i]->state != CH_DONE && w->chans[i]->state != CH_RELAY)
			finish_client(w->chans[i], -1);
	for (;;) {
		bool waiting = false;
		for (size_t i = 0; i < MAX_CHANNELS; i++)
			waiting |= w->chans[i] && !w->chans[i]->client_closed;
		if (!waiting || !w->ev || !ssh_is_connected(w->s) || gh_mono_ms() >= end)
			break;
		poll_once(w, 100);
	}
	for (size_t i = 0; i < MAX_CHANNELS; i++)
		if (w->chans[i]) {
			if (w->chans[i]->relay)
				target_cleanup(w->chans[i], NULL, "worker ended");
			chan_free(w->chans[i]);
		}
}



static void worker_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

/* The store of this process and the SSH session on the accepted fd
 * (which is consumed either way); then the privilege drop. */
static int worker_accept(struct worker *w, ssh_bind *ret_bind)
{
	const struct gh_worker_args *args = w->args;
	struct gh_app *app = w->app;
	/* A connection inherited over fork() must not be used: let go of it
	 * (before ours opens, see gh_store_forget) and open our own. */
	app->store = gh_store_forget(app->store);
	int r = gh_store_open(&app->cfg, &w->st);
	if (r < 0) {
		gh_error("cannot open the store: %s", gh_strerror(r));
		close(args->fd);
		return r;
	}
	app->store = w->st;
	ssh_set_log_callback(log_cb);
	ssh_set_log_level(gh_log_get_level() >= GH_LOG_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_WARN);
	fcntl(args->fd, F_SETFL, fcntl(args->fd, F_GETFL) | O_NONBLOCK);
	*ret_bind = make_bind(args);
	w->s = ssh_new();
	if (!*ret_bind || !w->s) {
		close(args->fd);
		return GH_ENOMEM;
	}
	if (ssh_bind_accept_fd(*ret_bind, w->s, args->fd) != SSH_OK) {
		gh_error("accept failed: %s", ssh_get_error(*ret_bind));
		close(args->fd);
		return GH_EIO;
	}
	/* the jump host key stays in memory for jumps and known-hosts */
	if (args->jump_user) {
		w->jump_key = args->jump_key;
	} else if (gh_ssh_jump_key_load(app->data_dir, &w->jump_key) == 0) {
		w->own_jump_key = true;
	} else {
		w->jump_key = NULL;
		gh_warn("cannot load the jump host key: ProxyJump unavailable");
	}
	/* the host keys are in the session now: nothing more needs root */
	return gh_priv_drop(args->priv) < 0 ? GH_EPERM : 0;
}

/* The server callbacks, the key exchange, the connection's event and
 * its forwarded channels' sets. */
static int worker_kex(struct worker *w)
{
	w->scb.userdata = w;
	if (w->args->jump_user) {
		w->scb.auth_none_function = cb_auth_jump_none;
		w->scb.auth_password_function = cb_auth_jump_password;
		w->scb.auth_pubkey_function = cb_auth_jump_pubkey;
	} else {
		w->scb.auth_password_function = cb_auth_password;
		w->scb.auth_pubkey_function = cb_auth_pubkey;
	}
	w->scb.channel_open_request_session_function = cb_channel_open;
	ssh_callbacks_init(&w->scb);
	ssh_set_server_callbacks(w->s, &w->scb);
	ssh_set_message_callback(w->s, cb_message, w);
	if (ssh_handle_key_exchange(w->s) != SSH_OK) {
		char esc[256];
		gh_escape(esc, sizeof esc, ssh_get_error(w->s));
		gh_info("key exchange with %s failed: %s", w->source, esc);
		return GH_ECONN;
	}
	ssh_set_auth_methods(w->s, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY);
	w->ev = ssh_event_new();
	if (!w->ev || ssh_event_add_session(w->ev, w->s) != SSH_OK)
		return GH_ENOMEM;
	struct gh_fwdset_hooks fh = { .on_end = fwd_ended, .on_child = fwd_child, .ud = w };
	w->fwds = gh_fwdset_new(w->s, w->ev, &fh);
	w->rfwd = w->fwds ? gh_rfwd_new() : NULL;
	return w->rfwd ? 0 : GH_ENOMEM;
}

/* Until the user has authenticated (true) or the connection ends. */
static bool worker_auth(struct worker *w)
{
	while (!w->authed) {
		if (poll_once(w, POLL_MS) == SSH_ERROR && !ssh_is_connected(w->s))
			break;
		if (!ssh_is_connected(w->s) || stop_requested)
			break;
		if (w->too_many) {
			if (!w->over_limit) /* else logged as the refusal it is */
				gh_info("too many authentication failures for %s from %s",
					w->presented, w->source);
			ssh_disconnect(w->s);
			return false;
		}
	}
	return w->authed;
}

/* The connection's end: its channels, its place among the user's
 * processes, its forwards (told to end first on a shutdown), then the
 * session itself. */
static void worker_end(struct worker *w, ssh_bind bind)
{
	if (w->ev)
		chans_free_all(w);
	if (w->st && (w->counted || w->args->jump_user))
		gh_proclimit_release(w->st, getpid());
	if (stop_requested && w->fwds) {
		/* inner sessions end themselves ("server shutdown"), then the pumps */
		gh_fwdset_signal(w->fwds, SIGTERM);
		int64_t end = gh_mono_ms() + CLIENT_CLOSE_WAIT_MS;
		while (gh_fwdset_count(w->fwds) > 0 && ssh_is_connected(w->s) && gh_mono_ms() < end)
			poll_once(w, 100);
	}
	w->fwds = gh_fwdset_free(w->fwds, stop_requested ? "server shutdown" : "connection ended",
				 CLIENT_CLOSE_WAIT_MS);
	w->tunrow = gh_tunrow_close(w->tunrow, stop_requested ? "server shutdown" : "connection ended");
	gh_rfwd_free(w->rfwd);
	w->rfwd = NULL;
	if (w->s && ssh_is_connected(w->s))
		ssh_disconnect(w->s);
	if (w->ev) {
		if (w->s)
			ssh_event_remove_session(w->ev, w->s);
		ssh_event_free(w->ev);
	}
	ssh_free(w->s);
	ssh_bind_free(bind);
	if (w->own_jump_key)
		ssh_key_free(w->jump_key);
	auth_reset_user(w);
	gh_mfa_clear(&w->mfa);
}

int gh_ssh_worker_run(struct gh_app *app, const struct gh_worker_args *args)
{
	struct worker *w = calloc(1, sizeof *w);
	ssh_bind bind = NULL;
	int status = 1;

	if (!w) {
		close(args->fd);
		return 1;
	}
	w->app = app;
	w->args = args;
	snprintf(w->source, sizeof w->source, "%s:%d", args->peer_ip, args->peer_port);
	gh_log_set_tag(args->jump_user ? "jump" : "worker");
	worker_signals();
	alarm((unsigned)app->cfg.login_grace_time);
	if (worker_accept(w, &bind) < 0 || worker_kex(w) < 0 || !worker_auth(w))
		goto out;
	alarm(0);
	ssh_set_blocking(w->s, 0);
	if (w->jp_node) {
		gh_jpnode_serve(w->st, w->s, w->ev, w->jp_node, args->peer_ip, w->app->data_dir,
				&stop_requested);
		status = 0;
		goto out;
	}
	serve_channels(w);
	/* forwarded channels still open outlive the session channels */
	while (gh_fwdset_count(w->fwds) > 0 && ssh_is_connected(w->s) && !stop_requested)
		poll_once(w, POLL_MS);
	status = 0;
out:
	worker_end(w, bind);
	if (args->status_fd >= 0)
		close(args->status_fd);
	free(w);
	return status;
}
