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
#include "ssh/cmdguard.h"
#include "ssh/cmdshell.h"
#include "ssh/cmdstdin.h"
#include "ssh/execclass.h"
#include "ssh/backfwd.h"
#include "ssh/fwd.h"
#include "ssh/hostkey.h"
#include "ssh/jump.h"
#include "ssh/rfwd.h"
#include "ssh/knownhosts.h"
#include "ssh/login.h"
#include "ssh/loginpolicy.h"
#include "ssh/menu.h"
#include "ssh/priv.h"
#include "ssh/proclimit.h"
#include "ssh/sweep.h"
#include "ssh/tunrow.h"
#include "session/end.h"
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
/* sftp file events waiting to be written (per poll iteration) */
#define MAX_FILE_EVENTS 1024

static volatile sig_atomic_t stop_requested;

enum req_kind { REQ_NONE = 0, REQ_SHELL, REQ_EXEC, REQ_SUBSYSTEM };

struct env_var {
	char *name, *value;
};

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

struct worker {
	struct gh_app *app;
	struct gh_store *st;
	const struct gh_worker_args *args;
	char source[96];
	ssh_session s;
	ssh_event ev;
	ssh_channel ch;
	struct ssh_server_callbacks_struct scb;
	struct ssh_channel_callbacks_struct ccb;

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

	/* the user's channel */
	bool pty;
	char term[64];
	int width, height;
	struct env_var env[MAX_ENV];
	size_t n_env;
	enum req_kind req;
	char *command;
	char *subsystem;
	bool client_eof, client_closed;
	bool client_finished;    /* exit status, EOF and close already sent */
	int64_t last_input_ms;

	/* what currently consumes the user's input */
	struct gh_relay *relay;
	struct gh_menu *menu;
	int menu_state;          /* GH_MENU_CONTINUE / PICKED / QUIT */
	size_t menu_pick;
	char said[160];          /* the last line said: the next menu shows it */

	/* the current session row: its asset and account (for its end
	 * event), and whether it was relayed (its end then tells the exit
	 * status and bytes) */
	char sid[33];
	bool row_open;
	char *row_asset, *row_account;
	bool row_relayed;

	/* live operations on the relayed session (src/live) */
	struct gh_live *live;
	bool killed;             /* ended by gatehouse session kill */

	/* sftp: actions granted on protocol sftp, and the file events the
	 * engine reported inside libssh callbacks, written after each poll */
	uint32_t sftp_allowed;
	struct file_event *fev;  /* MAX_FILE_EVENTS slots */
	size_t n_fev;
	uint64_t fev_dropped;
	const char *fev_asset, *fev_account; /* borrowed for the session */

	/* direct-tcpip channels (ProxyJump, tunnels): see fwd.h, jump.h */
	struct gh_fwdset *fwds;
	ssh_key jump_key;        /* the jump host key in memory (NULL: none) */
	bool own_jump_key;       /* loaded here (an inner worker's bind owns it) */
	/* the command filter of an interactive shell (NULL: none applies) */
	struct gh_cmdshell *cmdshell;
	/* ... of a shell reading its input without a terminal (NULL: none) */
	struct gh_cmdstdin *cmdstdin;
	/* agent forwarding asked for and allowed, remote forwards (-R): the
	 * channels the target opens back are relayed while on a target */
	bool agent_req;
	/* X11 forwarding asked for and allowed: the user's (fake) cookie */
	bool x11_req, x11_single;
	char x11_proto[64], x11_cookie[256];
	int x11_screen;
	struct gh_backfwd *back;
	struct gh_rfwd *rfwd;
	/* the row (kind "tunnel") of this connection's forwards: tunrow.h */
	struct gh_tunrow *tunrow;
	int64_t recheck_ms;      /* next check of an idle connection's user */
};

/* ---- small helpers -------------------------------------------------------- */

static int poll_once(struct worker *w, int timeout_ms);
static void idle_recheck(struct worker *w);
static void fwd_ended(void *ud, const struct gh_fwd_end *e);

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

static const char *nl(const struct worker *w)
{
	return w->pty ? "\r\n" : "\n";
}

/* A line for the user on stderr (stdout on a terminal, where it is the same). */
static void say(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct worker *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 3)
		n = (int)sizeof buf - 3;
	snprintf(w->said, sizeof w->said, "%.*s", n, buf);
	memcpy(buf + n, nl(w), strlen(nl(w)) + 1);
	if (!w->ch || w->client_closed)
		return;
	/* The session is non-blocking once the relay runs, and a write with a
	 * closed window sends nothing: wait (bounded) for the user's window. */
	size_t len = strlen(buf), off = 0;
	int64_t end = gh_mono_ms() + SAY_WAIT_MS;
	while (off < len) {
		int k = w->pty ? ssh_channel_write(w->ch, buf + off, (uint32_t)(len - off))
			       : ssh_channel_write_stderr(w->ch, buf + off, (uint32_t)(len - off));
		if (k < 0)
			return;
		off += (size_t)k;
		if (off == len || !w->ev || w->client_closed || !ssh_is_connected(w->s) ||
		    gh_mono_ms() >= end)
			return;
		poll_once(w, 50);
	}
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One poll of the connection's event, then the forwarded channels' pump. */
static int poll_once(struct worker *w, int timeout_ms)
{
	int r = ssh_event_dopoll(w->ev, timeout_ms);
	gh_fwdset_tick(w->fwds, NULL);
	gh_rfwd_tick(w->rfwd);
	gh_backfwd_tick(w->back, NULL);
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

/* Before authentication events are filed under the user part of the
 * login name (the name as presented when it does not parse). */
static struct gh_audit_who who(const struct worker *w)
{
	struct gh_audit_who a = { .user = w->authed	       ? w->user.name
					  : w->login.user[0] ? w->login.user
							     : w->presented,
				  .source = w->source,
				  .session_id = w->row_open ? w->sid : NULL };
	return a;
}

/* A connection with no open row (between sessions of a shared
 * connection, or with only jumps) cannot be reached by a kill: read its
 * user again now and then, and end it when the gate refuses the user
 * (locked, disabled, login ACL). */
static void idle_recheck(struct worker *w)
{
	char why[256];
	if (!w->authed || w->row_open || w->tunrow || gh_mono_ms() < w->recheck_ms ||
	    !ssh_is_connected(w->s))
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

/* ---- session rows ------------------------------------------------------- */

/* The asset and account the session end event names (copies). */
static void row_names(struct worker *w, const char *asset, const char *account)
{
	char *a = asset ? strdup(asset) : NULL, *c = account ? strdup(account) : NULL;
	free(w->row_asset);
	free(w->row_account);
	w->row_asset = a;
	w->row_account = c;
}

static void row_open(struct worker *w, const char *kind, const char *asset, const char *account)
{
	struct gh_session s;
	memset(&s, 0, sizeof s);
	gh_session_id_new(w->sid);
	s.id = w->sid;
	s.user_id = w->user.id;
	s.user_name = w->user.name;
	s.source_addr = (char *)w->args->peer_ip;
	s.source_port = w->args->peer_port;
	s.asset_name = (char *)asset;
	s.account = (char *)account;
	s.protocol = (char *)(w->req == REQ_SUBSYSTEM ? "sftp" : "ssh");
	s.kind = (char *)kind;
	s.started_at = gh_now();
	s.worker_pid = (int)getpid();
	int r = gh_store_session_open(w->st, &s);
	if (r < 0) {
		gh_error("cannot record session: %s (%s)", gh_strerror(r), gh_store_errmsg(w->st));
		return;
	}
	w->row_open = true;
	w->row_relayed = false;
	row_names(w, asset, account);
}

static void row_update(struct worker *w, int64_t asset_id, const char *asset,
		       const char *account, const char *kind, const char *recording)
{
	if (!w->row_open)
		return;
	struct gh_session s;
	memset(&s, 0, sizeof s);
	s.id = w->sid;
	s.asset_id = asset_id;
	s.asset_name = (char *)asset;
	s.account = (char *)account;
	s.protocol = (char *)(w->req == REQ_SUBSYSTEM ? "sftp" : "ssh");
	s.kind = (char *)kind;
	s.recording_path = (char *)recording;
	int r = gh_store_session_update_target(w->st, &s);
	if (r < 0)
		gh_error("cannot update session %s: %s", w->sid, gh_strerror(r));
	row_names(w, asset, account);
}

/* The session's end: the one way a row of this worker closes. Closes the
 * row and writes exactly one session event, result "end", with REASON
 * (and, for a relayed session, the exit status and bytes as detail), so
 * that no way out of a session can leave a row without its event. */
static void row_close(struct worker *w, int exit_status, const char *exit_signal,
		      int64_t bytes_in, int64_t bytes_out, const char *reason)
{
	if (!w->row_open)
		return;
	const char *sig = exit_signal && *exit_signal ? exit_signal : NULL;
	char detail[200];
	int dn = snprintf(detail, sizeof detail, "exit %d%s%s, %lld bytes in, %lld bytes out",
			  exit_status, sig ? " signal " : "", sig ? sig : "", (long long)bytes_in,
			  (long long)bytes_out);
	if (w->fev_dropped && dn > 0 && (size_t)dn < sizeof detail)
		snprintf(detail + dn, sizeof detail - (size_t)dn, ", %llu file events not recorded",
			 (unsigned long long)w->fev_dropped);
	struct gh_audit_who aw = who(w);
	struct gh_session_end e = { .id = w->sid, .asset = w->row_asset, .account = w->row_account,
				    .exit_status = exit_status, .exit_signal = sig,
				    .bytes_in = bytes_in, .bytes_out = bytes_out, .reason = reason,
				    .detail = w->row_relayed ? detail : NULL };
	gh_session_end(w->st, &aw, &e);
	w->row_open = false;
	w->row_relayed = false;
	w->fev_dropped = 0;
	row_names(w, NULL, NULL);
}

/* ---- authentication ------------------------------------------------------ */

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

/* The user NAME as the store has it now, into U (*FOUND: U is filled and
 * must be freed): NULL, or why they may not log in. */
static const char *user_refusal(struct worker *w, const char *name, struct gh_user *u, bool *found)
{
	return gh_auth_user_refusal(w->st, name, u, found); /* auth/userauth.h */
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
	return user_refusal(w, w->login.user, &w->user, &w->have_user);
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
	return forward_message(w, msg); /* else the default reply: refused */
}

/* One Argon2id verification per attempt, whoever it names (auth/userauth.h). */
static bool password_matches(struct worker *w, const char *password)
{
	return gh_auth_password_matches(w->have_user ? w->user.password_hash : NULL,
					w->app->cfg.password_hash_strength, password);
}

static int cb_auth_password(ssh_session session, const char *user, const char *password,
			    void *userdata)
{
	struct worker *w = userdata;
	if (w->mfa.active) {
		mfa_fail(w, "second factor pending");
		return SSH_AUTH_DENIED;
	}
	const char *why = auth_prepare(w, user);
	/* a suspect connection hashes behind the others (authgate.h) */
	int gate = w->args->suspect || w->auth_failures > 0
			   ? gh_auth_gate_enter(w->app->cfg.data_dir) : -1;
	bool ok = password_matches(w, password);
	gh_auth_gate_leave(gate);
	if (!why && !w->user.password_hash)
		why = "no password set";
	else if (!why && !ok)
		why = "bad password";
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
	auth_success(w, "proxyjump", NULL);
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

static void menu_flush(struct worker *w)
{
	size_t len = 0;
	const char *out = gh_menu_output(w->menu, &len);
	if (len > 0 && w->ch && !w->client_closed)
		ssh_channel_write(w->ch, out, (uint32_t)len);
	gh_menu_output_clear(w->menu);
}

static int cb_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
		   int is_stderr, void *userdata)
{
	struct worker *w = userdata;
	w->last_input_ms = gh_mono_ms();
	if (w->relay)
		return gh_relay_client_data(w->relay, data, len);
	if (w->menu) {
		if (w->menu_state == GH_MENU_CONTINUE) {
			size_t idx = 0;
			int r = gh_menu_feed(w->menu, data, len, &idx);
			menu_flush(w);
			if (r == GH_MENU_PICKED) {
				w->menu_state = GH_MENU_PICKED;
				w->menu_pick = idx;
			} else if (r == GH_MENU_QUIT) {
				w->menu_state = GH_MENU_QUIT;
			}
		}
		return (int)len;
	}
	return 0; /* nobody reads yet: libssh keeps it (and stops the window) */
}

static void cb_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct worker *w = userdata;
	w->client_eof = true;
	if (w->relay)
		gh_relay_client_eof(w->relay);
}

static void cb_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct worker *w = userdata;
	w->client_closed = true;
	w->client_eof = true;
	if (w->relay)
		gh_relay_client_close(w->relay);
}

/* A channel request refused (too long, unknown): one log line (lengths
 * only, never the content), then the failure reply. */
static int refuse_request(struct worker *w, const char *what, const char *why, size_t len)
{
	gh_info("refused %s request from %s (%s): %s, %zu bytes", what, w->source, w->presented,
		why, len);
	return -1;
}

static int cb_pty(ssh_session session, ssh_channel channel, const char *term, int width,
		  int height, int pxwidth, int pxheight, void *userdata)
{
	struct worker *w = userdata;
	if (w->req != REQ_NONE || w->pty)
		return -1;
	if (term && strlen(term) >= sizeof w->term)
		return refuse_request(w, "pty", "terminal type too long", strlen(term));
	w->pty = true;
	snprintf(w->term, sizeof w->term, "%s", term && *term ? term : "xterm");
	w->width = width > 0 && width < 10000 ? width : 80;
	w->height = height > 0 && height < 10000 ? height : 24;
	return 0;
}

static int cb_shell(ssh_session session, ssh_channel channel, void *userdata)
{
	struct worker *w = userdata;
	if (w->req != REQ_NONE)
		return -1;
	w->req = REQ_SHELL;
	return 0;
}

static int cb_exec(ssh_session session, ssh_channel channel, const char *command, void *userdata)
{
	struct worker *w = userdata;
	if (w->req != REQ_NONE || !command)
		return -1;
	if (strlen(command) > MAX_COMMAND)
		return refuse_request(w, "exec", "command too long", strlen(command));
	w->command = strdup(command);
	if (!w->command)
		return -1;
	w->req = REQ_EXEC;
	return 0;
}

static int cb_subsystem(ssh_session session, ssh_channel channel, const char *subsystem,
			void *userdata)
{
	struct worker *w = userdata;
	if (w->req != REQ_NONE || !subsystem)
		return -1;
	if (strcmp(subsystem, "sftp") != 0)
		return refuse_request(w, "subsystem", "unknown subsystem", strlen(subsystem));
	w->subsystem = strdup(subsystem);
	if (!w->subsystem)
		return -1;
	w->req = REQ_SUBSYSTEM;
	return 0;
}

static bool env_allowed(const char *name)
{
	return !strcmp(name, "LANG") || !strncmp(name, "LC_", 3);
}

static int cb_env(ssh_session session, ssh_channel channel, const char *name, const char *value,
		  void *userdata)
{
	struct worker *w = userdata;
	if (w->req != REQ_NONE || w->n_env >= MAX_ENV || !name || !value || !env_allowed(name))
		return -1;
	if (strlen(name) > 64 || strlen(value) > MAX_ENV_VALUE)
		return refuse_request(w, "env", "variable too long", strlen(name) + strlen(value));
	struct env_var *e = &w->env[w->n_env];
	e->name = strdup(name);
	e->value = strdup(value);
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		return -1;
	}
	w->n_env++;
	return 0;
}

static int cb_window(ssh_session session, ssh_channel channel, int width, int height,
		     int pxwidth, int pxheight, void *userdata)
{
	struct worker *w = userdata;
	if (width <= 0 || height <= 0 || width >= 10000 || height >= 10000)
		return -1;
	w->width = width;
	w->height = height;
	if (w->cmdshell)
		gh_cmdshell_resize(w->cmdshell, height, width);
	if (w->relay) {
		gh_relay_client_window(w->relay, width, height);
		gh_live_resize(w->live, height, width);
	} else if (w->menu) {
		gh_menu_resize(w->menu, width, height);
		menu_flush(w);
	}
	return 0;
}

/* auth-agent-req: with allow_agent_forwarding, remembered and asked of the
 * target when a session on an asset starts (backfwd.h); otherwise refused.
 * Audited either way. OpenSSH sends it without asking for a reply. */
static void cb_agent(ssh_session session, ssh_channel channel, void *userdata)
{
	struct worker *w = userdata;
	struct gh_audit_who aw = who(w);
	bool allow = w->app->cfg.allow_agent_forwarding != 0;
	w->agent_req = allow;
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
	struct worker *w = userdata;
	struct gh_audit_who aw = who(w);
	bool ok = protocol && cookie && strlen(protocol) < sizeof w->x11_proto &&
		  strlen(cookie) < sizeof w->x11_cookie && screen < 1000 &&
		  strspn(cookie, "0123456789abcdefABCDEF") == strlen(cookie);
	if (ok) {
		w->x11_req = true;
		w->x11_single = single_connection != 0;
		snprintf(w->x11_proto, sizeof w->x11_proto, "%s", protocol);
		snprintf(w->x11_cookie, sizeof w->x11_cookie, "%s", cookie);
		w->x11_screen = (int)screen;
	}
	struct gh_audit_tunnel t = { .method = "x11",
				     .result = ok ? "allow" : "deny",
				     .reason = ok ? "X11 forwarding requested" : "malformed x11-req" };
	gh_audit_tunnel(w->st, &aw, w->login.asset, &t);
}

static ssh_channel cb_channel_open(ssh_session session, void *userdata)
{
	struct worker *w = userdata;
	if (!w->authed || w->ch)
		return NULL; /* one session channel per connection */
	w->ch = ssh_channel_new(session);
	if (!w->ch)
		return NULL;
	memset(&w->ccb, 0, sizeof w->ccb);
	w->ccb.userdata = w;
	w->ccb.channel_data_function = cb_data;
	w->ccb.channel_eof_function = cb_eof;
	w->ccb.channel_close_function = cb_close;
	w->ccb.channel_pty_request_function = cb_pty;
	w->ccb.channel_shell_request_function = cb_shell;
	w->ccb.channel_exec_request_function = cb_exec;
	w->ccb.channel_subsystem_request_function = cb_subsystem;
	w->ccb.channel_env_request_function = cb_env;
	w->ccb.channel_pty_window_change_function = cb_window;
	w->ccb.channel_auth_agent_req_function = cb_agent;
	if (w->app->cfg.allow_x11_forwarding && w->login.asset[0])
		w->ccb.channel_x11_req_function = cb_x11;
	ssh_callbacks_init(&w->ccb);
	ssh_set_channel_callbacks(w->ch, &w->ccb);
	return w->ch;
}

static bool client_alive(const struct worker *w)
{
	return ssh_is_connected(w->s) && !w->client_closed;
}

/* End the user's channel: exit status, EOF, close, then wait (bounded)
 * for the user's CLOSE so nothing in flight is lost. */
static void finish_client(struct worker *w, int exit_status)
{
	if (!w->ch || !ssh_is_connected(w->s) || w->client_finished)
		return;
	w->client_finished = true;
	if (!w->client_closed) {
		if (exit_status >= 0)
			ssh_channel_request_send_exit_status(w->ch, exit_status);
		ssh_channel_send_eof(w->ch);
		ssh_channel_close(w->ch);
	}
	int64_t end = gh_mono_ms() + CLIENT_CLOSE_WAIT_MS;
	while (!w->client_closed && ssh_is_connected(w->s) && gh_mono_ms() < end)
		poll_once(w, 100);
}

/* ---- reaching a target ------------------------------------------------------ */

struct policy_ctx {
	struct gh_policy *p;
	struct gh_subject subj;
	int64_t *groups;
};

static void policy_ctx_free(struct policy_ctx *pc)
{
	gh_policy_free(pc->p);
	free(pc->groups);
	memset(pc, 0, sizeof *pc);
}

static int policy_ctx_load(struct worker *w, struct policy_ctx *pc)
{
	size_t ng = 0;
	memset(pc, 0, sizeof *pc);
	int r = gh_store_user_groups(w->st, w->user.id, &pc->groups, &ng);
	if (r < 0)
		return r;
	r = gh_policy_load(w->st, &pc->p);
	if (r < 0) {
		free(pc->groups);
		pc->groups = NULL;
		return r;
	}
	pc->subj.user_id = w->user.id;
	pc->subj.group_ids = pc->groups;
	pc->subj.n_groups = ng;
	return 0;
}

static uint32_t req_protocol(const struct worker *w)
{
	return w->req == REQ_SUBSYSTEM ? GH_PROTO_SFTP : GH_PROTO_SSH;
}

static const char *req_kind_name(const struct worker *w)
{
	switch (w->req) {
	case REQ_EXEC: return "exec";
	case REQ_SUBSYSTEM: return "sftp";
	default: return "shell";
	}
}

/* Accounts of ASSET the user may use and that exist. Caller frees with
 * gh_policy_names_free. */
static int allowed_accounts(struct worker *w, struct policy_ctx *pc, const struct gh_asset *a,
			    char ***ret, size_t *ret_n)
{
	bool all = false;
	char **names = NULL;
	size_t n = 0;
	struct gh_account *accts = NULL;
	size_t na = 0;
	char **out = NULL;
	size_t nout = 0;

	int r = gh_policy_allowed_accounts(pc->p, &pc->subj, a->id, req_protocol(w), gh_now(), &all,
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

static int menu_choose(struct worker *w, struct gh_menu *m, size_t *ret_idx);

/* Pick the account for ASSET when the login did not name one: the only
 * allowed one, or a choice on a terminal. Writes the name into BUF.
 * Returns 0, GH_EPERM (none), GH_EINVAL (several, no terminal) or
 * GH_ECONN (the user went away / quit). */
static int choose_account(struct worker *w, struct policy_ctx *pc, const struct gh_asset *a,
			  char *buf, size_t buflen)
{
	char **names = NULL;
	size_t n = 0;
	int r = allowed_accounts(w, pc, a, &names, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		r = GH_EPERM;
	} else if (n == 1) {
		snprintf(buf, buflen, "%s", names[0]);
	} else if (!w->pty || w->req != REQ_SHELL) {
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
		struct gh_menu *m = gh_menu_new(items, n, w->width, w->height, title);
		gh_menu_set_noun(m, "account", "accounts");
		size_t idx = 0;
		if (!m) {
			r = GH_ENOMEM;
		} else {
			int c = menu_choose(w, m, &idx);
			gh_menu_free(m);
			if (c == 1 && idx < n)
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

struct target_result {
	int exit_status;
	char exit_signal[32];
	bool ended_by_client;
};

/* The gate (session/authz.h): may this user, from this address, connect
 * to ASSET as ACCOUNT over PROTOCOL now? The user is read again. */
static int gate_check(struct worker *w, const char *asset, const char *account, uint32_t protocol,
		      struct gh_authz *ret)
{
	struct gh_authz_req rq = { .user = w->user.name,
				   .source_ip = w->args->peer_ip,
				   .asset = asset,
				   .account = account,
				   .protocol = protocol,
				   .action = GH_ACT_CONNECT };
	return gh_authz_check(w->st, &rq, ret);
}

/* The user-facing one-liner and the session close reason for a refusal. */
static void refuse(struct worker *w, const char *asset, const char *account, const char *why)
{
	struct gh_audit_who a = who(w);
	gh_audit_policy(w->st, &a, asset, account, false, why);
	gh_info("%s from %s refused %s@%s: %s", w->user.name, w->source, account ? account : "-",
		asset ? asset : "-", why);
	say(w, "%s", NOT_PERMITTED);
}

/* ---- sftp file operations ------------------------------------------------------- */

/* The engine's authorize hook: the actions the permission grants on sftp. */
static int sftp_authorize(void *ud, const struct gh_sftp_op *op)
{
	const struct worker *w = ud;
	return (op->action & ~w->sftp_allowed) ? GH_EPERM : 0;
}

static void file_event_clear(struct file_event *f)
{
	free(f->ext);
	free(f->path);
	free(f->path2);
	memset(f, 0, sizeof *f);
}

/* The engine's event hook (inside libssh callbacks): copy and queue. */
static void sftp_event(void *ud, const struct gh_sftp_event *ev)
{
	struct worker *w = ud;
	if (!w->fev || w->n_fev >= MAX_FILE_EVENTS) {
		w->fev_dropped++;
		return;
	}
	struct file_event *f = &w->fev[w->n_fev];
	memset(f, 0, sizeof *f);
	f->op = ev->op.op;
	f->ext = ev->op.ext ? strdup(ev->op.ext) : NULL;
	f->path = ev->op.path ? strdup(ev->op.path) : NULL;
	f->path2 = ev->op.path2 ? strdup(ev->op.path2) : NULL;
	if ((ev->op.ext && !f->ext) || (ev->op.path && !f->path) || (ev->op.path2 && !f->path2)) {
		file_event_clear(f);
		w->fev_dropped++;
		return;
	}
	f->action = ev->op.action;
	f->denied = ev->denied;
	f->status = ev->status;
	f->bytes_read = ev->bytes_read;
	f->bytes_written = ev->bytes_written;
	w->n_fev++;
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

/* Write the queued file events to the store (outside libssh callbacks). */
static void file_events_flush(struct worker *w)
{
	struct gh_audit_who aw = who(w);
	for (size_t i = 0; i < w->n_fev; i++) {
		struct file_event *f = &w->fev[i];
		char acts[128], missing[128], reason[160];
		const char *why = NULL;
		gh_actions_format(f->action, acts, sizeof acts);
		if (f->denied) {
			gh_actions_format(f->action & ~w->sftp_allowed, missing, sizeof missing);
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
		gh_audit_file(w->st, &aw, w->fev_asset, w->fev_account, &op);
		file_event_clear(f);
	}
	w->n_fev = 0;
}

/* Live operations after a poll: requests, watchers, a notice for the user. */
static void live_poll(struct worker *w)
{
	char note[200];
	gh_live_tick(w->live);
	if (gh_live_take_notice(w->live, note, sizeof note) && client_alive(w))
		say(w, "%s%s", nl(w), note);
}

/* Open the live socket of the session about to be relayed (a failure is
 * logged: the session goes on without live operations). */
static void live_open(struct worker *w, struct gh_rec *rec, bool screen)
{
	char run_dir[4096];
	struct gh_live_opts lo = { .run_dir = run_dir,
				   .session_id = w->sid,
				   .pty = screen && w->pty && w->req != REQ_SUBSYSTEM,
				   .rows = w->height,
				   .cols = w->width,
				   .notify_watch = w->app->cfg.notify_watch > 0,
				   .rec = rec };
	if (!w->row_open || gh_live_run_dir(w->app->data_dir, run_dir, sizeof run_dir) < 0)
		return;
	int r = gh_live_open(&lo, w->ev, &w->live);
	if (r < 0)
		gh_warn("session %s: no live socket: %s", w->sid, gh_strerror(r));
}

/* Relay between the user's channel and the target (R, its target channel
 * attached) until one side ends. */
static void relay_loop(struct worker *w, ssh_session ts, struct gh_relay *r, struct gh_rec *rec,
		       bool from_menu, struct gh_relay_result *res)
{
	memset(res, 0, sizeof *res);
	res->exit_status = -1;
	/* what the set-up freed (key exchanges, policy, queries) goes back to
	 * the kernel before a session that may last for hours */
	malloc_trim(0);
	ssh_event_add_session(w->ev, ts);
	w->relay = r;
	if (w->client_eof)
		gh_relay_client_eof(r);
	if (w->client_closed)
		gh_relay_client_close(r);
	w->last_input_ms = gh_mono_ms();
	int64_t idle_ms = (int64_t)w->app->cfg.idle_timeout * 1000;
	bool aborted = false;
	for (;;) {
		int64_t now = gh_mono_ms();
		if (gh_relay_pump(r, now))
			break;
		poll_once(w, gh_relay_ready(r)                                  ? 0
			     : gh_live_busy(w->live)                          ? LIVE_POLL_MS
			     : w->cmdshell && gh_cmdshell_busy(w->cmdshell) ? 30
			     : w->cmdstdin && gh_cmdstdin_busy(w->cmdstdin) ? 30
									    : POLL_MS);
		now = gh_mono_ms();
		if (w->live)
			live_poll(w);
		if (w->cmdshell)
			gh_cmdshell_tick(w->cmdshell, now);
		if (w->cmdstdin)
			gh_cmdstdin_tick(w->cmdstdin);
		if (w->n_fev)
			file_events_flush(w);
		if (rec)
			gh_rec_tick(rec, wall_ms());
		if (aborted)
			continue;
		if (!ssh_is_connected(w->s)) {
			gh_relay_abort(r, "user disconnected", now);
			aborted = true;
		} else if (!ssh_is_connected(ts)) {
			gh_relay_abort(r, "target disconnected", now);
			aborted = true;
		} else if (stop_requested) {
			gh_relay_abort(r, "server shutdown", now);
			aborted = true;
		} else if (idle_ms > 0 && now - w->last_input_ms > idle_ms) {
			gh_relay_abort(r, "idle timeout", now);
			aborted = true;
		} else if (gh_live_kill_reason(w->live)) {
			gh_relay_abort(r, gh_live_kill_reason(w->live), now);
			aborted = true;
			w->killed = true;
		}
	}
	gh_live_detach(w->live);
	file_events_flush(w); /* the last ones come from the pump's end */
	gh_relay_get_result(r, res);
	if (!from_menu && res->client_finished)
		w->client_finished = true;
	w->relay = NULL;
	gh_rfwd_detach(w->rfwd);
	w->back = gh_backfwd_free(w->back, res->reason);
	ssh_event_remove_session(w->ev, ts);
	bool rec_failed = !strcmp(res->reason, GH_RELAY_RECORDING_FAILED);
	if (rec_failed) {
		gh_error("session %s of %s ended: its recording failed (disk full or I/O error)",
			 w->sid, w->user.name);
		if (w->ch && ssh_is_connected(w->s) && !w->client_closed)
			say(w, "the session recording failed; the session was ended");
	} else if (w->killed && w->ch && ssh_is_connected(w->s) && !w->client_closed) {
		say(w, "%s[gatehouse: this session was %s]", nl(w), res->reason);
	} else if (aborted && !from_menu && w->ch && ssh_is_connected(w->s) && !w->client_closed) {
		if (stop_requested)
			say(w, "gatehouse is shutting down");
		else if (idle_ms > 0 && !strcmp(res->reason, "idle timeout"))
			say(w, "idle timeout");
	}
}

static void attach_target(ssh_channel ch, void *userdata)
{
	gh_relay_set_target(userdata, ch);
}

static size_t tunnels_open(void *ud)
{
	struct worker *w = ud;
	return gh_fwdset_count(w->fwds) + gh_backfwd_count(w->back);
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

/* Before the target channel opens: the relay of the channels TS opens
 * back (backfwd.h) when agent forwarding is asked for (TR asks the target
 * too) or remote forwards are allowed; the recorded remote forwards are
 * asked of TS, which still blocks (rfwd.h). */
static void back_open(struct worker *w, ssh_session ts, const char *asset,
		      struct gh_target_req *tr)
{
	bool agent = w->agent_req && w->req != REQ_SUBSYSTEM;
	bool x11 = w->x11_req && w->req != REQ_SUBSYSTEM;
	bool remote = w->rfwd && w->app->cfg.allow_remote_forward;
	if (!agent && !x11 && !remote)
		return;
	struct gh_fwdset_hooks h = { .on_end = fwd_ended, .ud = w };
	w->back = gh_backfwd_new(w->s, ts, w->ev, asset, agent, x11, &h);
	if (!w->back)
		return;
	tr->agent = agent;
	if (x11) {
		tr->x11_protocol = w->x11_proto;
		tr->x11_cookie = w->x11_cookie;
		tr->x11_screen = w->x11_screen;
		tr->x11_single = w->x11_single;
	}
	if (remote) {
		struct gh_rfwd_env env = { .st = w->st,
					   .who = who(w),
					   .asset = asset,
					   .max_conns = w->app->cfg.max_tunnel_connections,
					   .count = tunnels_open,
					   .allow = rfwd_allowed,
					   .ud = w };
		gh_rfwd_attach(w->rfwd, ts, w->back, &env);
	}
}

static bool review_poll(void *ud, int ms);
static void review_say(void *ud, const char *line);

/* The command filter of the user's input (docs/COMMAND-FILTER.md, "Input
 * of shells and interpreters"): a shell on a terminal (the login shell, or
 * an exec starting one) gets the interactive filter (src/ssh/cmdshell.h;
 * the login shell in log-only mode when no filter applies), a shell
 * without one the line filter (src/ssh/cmdstdin.h); other input passes (a
 * program reading code from it was decided with the exec line). Hooks O.
 * GH_EINVAL when the filters cannot be loaded. */
static int input_filter(struct worker *w, const struct gh_asset *a, const char *account,
			struct gh_relay_opts *o)
{
	struct gh_cmdguard *g = NULL;
	char err[300];
	if (w->req != REQ_SHELL && !(w->req == REQ_EXEC && gh_cmdstdin_shell(w->command)))
		return 0;
	int r = gh_cmdguard_open(w->st, &w->user, a, account, &g, err, sizeof err);
	if (r < 0) {
		gh_error("command filters unavailable for %s on %s: %s", w->user.name, a->name, err);
		return r;
	}
	if (!g && !(w->req == REQ_SHELL && w->pty))
		return 0; /* no filter applies: the input passes as it is */
	gh_cmdguard_set_dynamic(g, w->app->cfg.cmdfilter_dynamic);
	struct gh_cmdguard_ctx c = { .st = w->st,
				     .who = who(w),
				     .asset = a->name,
				     .account = account,
				     .review_timeout = w->app->cfg.review_timeout,
				     .wait = { .poll = review_poll, .say = review_say, .ud = w } };
	if (!w->pty) {
		r = gh_cmdstdin_new(g, &c, &w->cmdstdin);
		if (r == 0)
			gh_cmdstdin_hook(w->cmdstdin, o);
		return r;
	}
	r = gh_cmdshell_new(g, &c, w->height, w->width, &w->cmdshell);
	if (r == 0)
		gh_cmdshell_hook(w->cmdshell, o);
	return r;
}

/* Log in to the target TS as ACCOUNT with the secret the gate gives
 * (session/authz.h: the user and the permission as they are now). ERR
 * gets the user's one-liner on failure. */
static int target_login(struct worker *w, ssh_session ts, const struct gh_asset *a,
			const char *account, char *err)
{
	struct gh_credential cred = { 0 };
	struct gh_authz dec;
	struct gh_authz_req rq = { .user = w->user.name,
				   .source_ip = w->args->peer_ip,
				   .asset = a->name,
				   .account = account,
				   .protocol = req_protocol(w),
				   .action = GH_ACT_CONNECT };
	int r = gh_authz_credential(w->st, w->app->vault, &rq, &dec, &cred);
	if (r == GH_EPERM) {
		struct gh_audit_who aw = who(w);
		gh_audit_policy(w->st, &aw, a->name, account, false, dec.reason);
		snprintf(err, GH_TARGET_ERRLEN, NOT_PERMITTED);
	} else if (r < 0) {
		gh_error("cannot unseal the secret of %s@%s: %s", account, a->name, gh_strerror(r));
		snprintf(err, GH_TARGET_ERRLEN, "the stored credentials cannot be used");
	} else {
		r = gh_target_auth(ts, cred.kind, cred.secret, err);
	}
	gh_credential_clear(&cred);
	return r;
}

/* Connect to ASSET as ACCOUNT (policy already allowed it; the gate asks
 * again for the secret), relay, record, and close the session row.
 * Returns the exit status for the user. */
static int run_target(struct worker *w, const struct gh_asset *a, const char *account,
		      bool from_menu)
{
	struct gh_account acct;
	ssh_session ts = NULL;
	ssh_channel tch = NULL;
	struct gh_rec *rec = NULL;
	char err[GH_TARGET_ERRLEN];
	char *hk = NULL, *fp = NULL, *rec_path = NULL;
	const char *close_reason = NULL;
	int exit_status = 1;
	bool have_acct = false;
	struct gh_relay_result res;
	struct gh_relay *relay = NULL;
	struct gh_audit_who aw;

	memset(&acct, 0, sizeof acct);
	memset(&res, 0, sizeof res);
	res.exit_status = -1;
	int r = gh_store_account_get(w->st, a->id, account, &acct);
	if (r < 0) {
		refuse(w, a->name, account, r == GH_ENOENT ? "no such account" : "store error");
		close_reason = NOT_PERMITTED;
		goto out;
	}
	have_acct = true;
	row_update(w, a->id, a->name, account, req_kind_name(w), NULL);

	struct gh_target_conn c = { .address = a->address,
				    .port = a->port,
				    .username = account,
				    .pinned_host_key = a->host_key,
				    .timeout = w->app->cfg.target_connect_timeout };
	r = gh_target_connect(&c, &ts, err);
	if (r < 0) {
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}
	r = gh_fault("target-hostkey") ? GH_EIO : gh_target_host_key(ts, &hk, &fp);
	if (r < 0) {
		snprintf(err, sizeof err, "cannot read the host key");
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}
	aw = who(w);
	if (a->host_key && *a->host_key) {
		if (!gh_target_host_key_equal(a->host_key, hk)) {
			char detail[512];
			snprintf(detail, sizeof detail, "presented %s (%.40s...)", fp, hk);
			gh_audit_hostkey(w->st, &aw, a->name, "mismatch", detail);
			gh_warn("host key of asset %s changed: now %s; refused", a->name, fp);
			say(w, "host key of %s changed; connection refused, an administrator must verify it",
			    a->name);
			close_reason = "host key changed";
			goto out;
		}
	} else {
		r = gh_store_asset_set_host_key(w->st, a->id, hk);
		if (r < 0)
			gh_error("cannot pin host key of %s: %s", a->name, gh_strerror(r));
		gh_audit_hostkey(w->st, &aw, a->name, "pinned", fp);
		gh_info("pinned host key of %s: %s", a->name, fp);
	}

	/* the gate decides again and only then gives the secret, which
	 * exists in clear only between these lines */
	if (target_login(w, ts, a, account, err) < 0) {
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}

	/* recording */
	int64_t start_ms = wall_ms();
	/* An sftp session is audited per file (kind "file" events); its binary
	 * packets would make a useless terminal recording. */
	r = w->req == REQ_SUBSYSTEM
		    ? 0
		    : gh_rec_path(w->app->cfg.recordings_dir, w->sid, start_ms / 1000, &rec_path);
	if (r == 0 && rec_path) {
		char title[256];
		snprintf(title, sizeof title, "%s \xe2\x86\x92 %s@%s", w->user.name, account, a->name);
		struct gh_rec_opts ro = { .width = w->pty ? w->width : 80,
					  .height = w->pty ? w->height : 24,
					  .term = w->pty ? w->term : NULL,
					  .title = title,
					  .start_ms = start_ms,
					  .record_input = w->app->cfg.record_input != 0,
					  /* compression off the relay's CPU */
					  .background = true,
					  /* a stream, not a screen: binary kept byte for byte */
					  .binary_events = !w->pty };
		r = gh_rec_open(rec_path, &ro, &rec);
	}
	if (r < 0) {
		gh_error("cannot open the recording for session %s: %s", w->sid, gh_strerror(r));
		snprintf(err, sizeof err, "recording unavailable");
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}
	row_update(w, a->id, a->name, account, req_kind_name(w), rec_path);
	struct gh_target_env env[MAX_ENV];
	for (size_t i = 0; i < w->n_env; i++) {
		env[i].name = w->env[i].name;
		env[i].value = w->env[i].value;
	}
	live_open(w, rec, true);
	struct gh_relay_opts ro_relay = { .client = w->ch,
					  .buffer_size = (size_t)w->app->cfg.relay_buffer_kib << 10,
					  .rec = rec,
					  .output_tap = w->live && w->req != REQ_SUBSYSTEM ? gh_live_tap : NULL,
					  .tap_ud = w->live,
					  .record_input = w->app->cfg.record_input != 0,
					  .finish_client = !from_menu,
					  .sftp = w->req == REQ_SUBSYSTEM,
					  .sftp_hooks = { .authorize = sftp_authorize,
							  .event = sftp_event,
							  .ud = w } };
	if (ro_relay.sftp) {
		w->fev = gh_fault("sftp-queue") ? NULL : calloc(MAX_FILE_EVENTS, sizeof *w->fev);
		w->n_fev = 0;
		w->fev_dropped = 0;
		w->fev_asset = a->name;
		w->fev_account = account;
		if (!w->fev) {
			snprintf(err, sizeof err, "out of memory");
			say(w, "%s: %s", a->name, err);
			close_reason = err;
			goto out;
		}
	}
	if (input_filter(w, a, account, &ro_relay) < 0) {
		snprintf(err, sizeof err, "command filters unavailable");
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}
	if (gh_fault("relay-new") || gh_relay_new(&ro_relay, &relay) < 0) {
		snprintf(err, sizeof err, "out of memory");
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}
	if (w->live)
		gh_live_set_relay(w->live, relay);
	if (w->cmdshell)
		gh_cmdshell_attach(w->cmdshell, relay);
	if (w->cmdstdin)
		gh_cmdstdin_attach(w->cmdstdin, relay);
	struct gh_target_req tr = { .pty = w->pty,
				    .term = w->term,
				    .width = w->width,
				    .height = w->height,
				    .env = env,
				    .n_env = w->n_env,
				    .command = w->req == REQ_EXEC ? w->command : NULL,
				    .subsystem = w->req == REQ_SUBSYSTEM ? w->subsystem : NULL,
				    .on_channel = attach_target,
				    .userdata = relay };
	back_open(w, ts, a->name, &tr);
	r = gh_target_open(ts, &tr, &tch, err);
	if (r < 0) {
		say(w, "%s: %s", a->name, err);
		close_reason = err;
		goto out;
	}

	gh_audit_session(w->st, &aw, a->name, account, "start", NULL,
			 w->req == REQ_EXEC ? w->command : req_kind_name(w));
	w->row_relayed = true;
	gh_info("session %s: %s from %s -> %s@%s (%s)", w->sid, w->user.name, w->source, account,
		a->name, req_kind_name(w));

	relay_loop(w, ts, relay, rec, from_menu, &res);
	close_reason = res.reason;
	exit_status = res.exit_signal[0] || res.exit_status < 0 ? 255 : res.exit_status;
	if (w->fev_dropped)
		gh_warn("session %s: %llu file events not recorded (queue full)", w->sid,
			(unsigned long long)w->fev_dropped);
	gh_info("session %s ended: %s (exit %d%s%s, %lld bytes in, %lld bytes out)", w->sid,
		res.reason, res.exit_status, res.exit_signal[0] ? " signal " : "", res.exit_signal,
		(long long)res.bytes_in, (long long)res.bytes_out);
out:
	gh_relay_free(relay);
	w->cmdshell = gh_cmdshell_free(w->cmdshell);
	w->cmdstdin = gh_cmdstdin_free(w->cmdstdin);
	if (w->fev) {
		/* files still open if the relay ended early */
		file_events_flush(w);
		free(w->fev);
		w->fev = NULL;
		w->fev_asset = w->fev_account = NULL;
	}
	if (rec) {
		char rec_sha[65];
		uint64_t rec_bytes = gh_rec_bytes_written(rec);
		int rec_err = gh_rec_close_digest(rec, rec_sha);
		gh_audit_recording_closed(w->st, &aw, a->name, account, rec_bytes, rec_err, rec_sha);
	}
	row_close(w, res.exit_status, res.exit_signal, res.bytes_in, res.bytes_out,
		  close_reason ? close_reason : "ended");
	w->live = gh_live_close(w->live); /* after the row: close_reason may be its text */
	gh_rfwd_detach(w->rfwd);
	w->back = gh_backfwd_free(w->back, close_reason ? close_reason : "ended");
	if (tch) {
		ssh_channel_free(tch);
	}
	gh_target_free(ts);
	free(rec_path);
	free(hk);
	free(fp);
	if (have_acct)
		gh_account_free(&acct);
	return exit_status;
}

/* ---- scp, rsync and git execs ------------------------------------------------- */

/* The "file" event of a classified exec. */
static void exec_event(struct worker *w, const char *asset, const char *account,
		       const struct gh_exec_class *ec, bool allow, const char *reason)
{
	char acts[64];
	struct gh_audit_who aw = who(w);
	gh_actions_format(ec->action, acts, sizeof acts);
	struct gh_audit_file_op op = { .operation = gh_exec_method(ec),
				       .path = ec->path,
				       .actions = acts,
				       .status = -1,
				       .allow = allow,
				       .reason = reason };
	gh_audit_file(w->st, &aw, asset, account, &op);
}

/* An exec that runs scp, rsync or git to move files (see execclass.h)
 * needs, besides connect, the action it performs (upload or download):
 * granted on protocol ssh, or for scp on scp or ssh, so that a permission
 * with the default protocols allows it. Fills *EC (kind OTHER for any
 * other request). Returns 0 when allowed or not such an exec, GH_EPERM
 * when refused (the user told "not permitted", the reason logged). */
static int exec_authorize(struct worker *w, const struct policy_ctx *pc, const struct gh_asset *a,
			  const char *account, struct gh_exec_class *ec)
{
	int r = 0;
	memset(ec, 0, sizeof *ec);
	if (w->req != REQ_EXEC || !w->command || gh_exec_classify(w->command, ec) < 0 ||
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
		refuse(w, a->name, account, reason);
		snprintf(reason, sizeof reason, "not permitted: needs %s", acts);
		exec_event(w, a->name, account, ec, false, reason);
		r = GH_EPERM;
	}
	return r;
}

/* Review waits: keep the user's session served, notice when it goes. */
static bool review_poll(void *ud, int ms)
{
	struct worker *w = ud;
	poll_once(w, ms);
	return client_alive(w) && !stop_requested;
}

static void review_say(void *ud, const char *line)
{
	say(ud, "%s", line);
}

static int exec_filter(struct worker *w, const struct gh_asset *a, const char *account)
{
	struct gh_audit_who aw = who(w);
	struct gh_cmdguard_wait wt = { .poll = review_poll, .say = review_say, .ud = w };
	return gh_cmdguard_exec(w->st, &aw, &w->user, a, account, w->command,
				w->app->cfg.review_timeout, &wt, w->app->cfg.cmdfilter_dynamic);
}

/* user@account@asset / user@asset: straight to the target. */
static int run_direct(struct worker *w)
{
	struct policy_ctx pc;
	struct gh_asset a;
	struct gh_authz dec;
	struct gh_exec_class ec;
	char account[GH_LOGIN_PART_MAX + 1];
	int status = 1;
	bool have_asset = false;

	memset(&a, 0, sizeof a);
	row_open(w, req_kind_name(w), w->login.asset, w->login.account[0] ? w->login.account : NULL);
	if (policy_ctx_load(w, &pc) < 0) {
		say(w, "internal error");
		row_close(w, -1, NULL, 0, 0, "policy unavailable");
		return 1;
	}
	int r = gh_store_asset_get(w->st, w->login.asset, &a);
	if (r < 0) {
		refuse(w, w->login.asset, w->login.account, r == GH_ENOENT ? "no such asset" : "store error");
		row_close(w, -1, NULL, 0, 0, NOT_PERMITTED);
		goto out;
	}
	have_asset = true;
	if (w->login.account[0]) {
		snprintf(account, sizeof account, "%s", w->login.account);
	} else {
		r = choose_account(w, &pc, &a, account, sizeof account);
		if (r == GH_EINVAL) {
			say(w, "%s: several accounts are allowed; log in as %s@ACCOUNT@%s", a.name,
			    w->user.name, a.name);
			row_close(w, -1, NULL, 0, 0, "account not chosen");
			goto out;
		}
		if (r == GH_ECONN) {
			row_close(w, -1, NULL, 0, 0, "user quit");
			status = 0;
			goto out;
		}
		if (r < 0) {
			refuse(w, a.name, NULL, r == GH_EPERM ? "no allowed account" : "store error");
			row_close(w, -1, NULL, 0, 0, NOT_PERMITTED);
			goto out;
		}
	}
	r = gate_check(w, a.name, account, req_protocol(w), &dec);
	if (r < 0 || !dec.allow) {
		refuse(w, a.name, account, r < 0 ? "policy error" : dec.reason);
		row_close(w, -1, NULL, 0, 0, NOT_PERMITTED);
		goto out;
	}
	/* scp, rsync and git execs also need their upload or download */
	if (exec_authorize(w, &pc, &a, account, &ec) < 0) {
		row_close(w, -1, NULL, 0, 0, NOT_PERMITTED);
		goto out;
	}
	/* the command filters (src/ssh/cmdguard.h) */
	if (w->req == REQ_EXEC && exec_filter(w, &a, account) < 0) {
		row_close(w, -1, NULL, 0, 0, "command refused");
		status = GH_CMDGUARD_EXIT_REJECTED;
		goto out;
	}
	/* sftp needs connect only; every file operation is then checked
	 * against the actions granted on sftp (computed once, here) */
	if (w->req == REQ_SUBSYSTEM)
		w->sftp_allowed = gh_policy_allowed_actions(pc.p, &pc.subj, a.id, account,
							    GH_PROTO_SFTP, gh_now());
	struct gh_audit_who aw = who(w);
	gh_audit_policy(w->st, &aw, a.name, account, true, dec.perm_name);
	if (gh_exec_method(&ec))
		exec_event(w, a.name, account, &ec, true, NULL);
	policy_ctx_free(&pc);
	status = run_target(w, &a, account, false);
	gh_asset_free(&a);
	return status;
out:
	policy_ctx_free(&pc);
	if (have_asset)
		gh_asset_free(&a);
	return status;
}

/* ---- the menu ----------------------------------------------------------------- */

/* Run menu M until a pick (1, *ret_idx), quit (0) or the user leaves (-1). */
static int menu_choose(struct worker *w, struct gh_menu *m, size_t *ret_idx)
{
	struct gh_menu *saved = w->menu;
	int rc = -1;
	w->menu = m;
	w->menu_state = GH_MENU_CONTINUE;
	gh_menu_render(m);
	menu_flush(w);
	/* keystrokes that arrived before the menu existed */
	char tmp[4096];
	int n;
	while (w->menu_state == GH_MENU_CONTINUE &&
	       (n = ssh_channel_read_nonblocking(w->ch, tmp, sizeof tmp, 0)) > 0)
		cb_data(w->s, w->ch, tmp, (uint32_t)n, 0, w);
	int64_t idle_ms = (int64_t)w->app->cfg.idle_timeout * 1000;
	while (w->menu_state == GH_MENU_CONTINUE && client_alive(w) && !stop_requested &&
	       !w->client_eof) {
		poll_once(w, POLL_MS);
		if (w->live) {
			live_poll(w);
			if (gh_live_kill_reason(w->live)) {
				w->killed = true;
				break;
			}
		}
		if (idle_ms > 0 && gh_mono_ms() - w->last_input_ms > idle_ms) {
			say(w, "idle timeout");
			break;
		}
	}
	if (w->menu_state == GH_MENU_PICKED) {
		*ret_idx = w->menu_pick;
		rc = 1;
	} else if (w->menu_state == GH_MENU_QUIT) {
		rc = 0;
	}
	w->menu = saved;
	w->menu_state = GH_MENU_CONTINUE;
	return rc;
}

/* A kill that came while the user was in a menu (the menu's own live
 * socket): tell the user, close the row. True when killed. */
static bool menu_killed(struct worker *w)
{
	const char *k = gh_live_kill_reason(w->live);
	if (!k)
		return false;
	w->killed = true;
	if (client_alive(w))
		say(w, "%s[gatehouse: this session was %s]", nl(w), k);
	row_close(w, -1, NULL, 0, 0, k);
	return true;
}

static int run_menu(struct worker *w)
{
	char title[160];
	snprintf(title, sizeof title, "Gatehouse \xe2\x80\x94 %s", w->user.name);
	w->said[0] = '\0';
	for (;;) {
		struct policy_ctx pc;
		int64_t *ids = NULL;
		size_t n = 0;
		struct gh_asset *assets = NULL;
		struct gh_menu_item *items = NULL;
		char **nodes = NULL;
		size_t na = 0;
		int rc = -1;

		row_open(w, "menu", NULL, NULL);
		live_open(w, NULL, false); /* kill and lock reach the menu too */
		if (policy_ctx_load(w, &pc) < 0 ||
		    gh_policy_allowed_assets(pc.p, &pc.subj, GH_PROTO_SSH, gh_now(), &ids, &n) < 0) {
			say(w, "internal error");
			policy_ctx_free(&pc);
			row_close(w, -1, NULL, 0, 0, "policy unavailable");
			w->live = gh_live_close(w->live);
			return 1;
		}
		assets = calloc(n + 1, sizeof *assets);
		items = calloc(n + 1, sizeof *items);
		nodes = calloc(n + 1, sizeof *nodes);
		if (!assets || !items || !nodes)
			goto next;
		for (size_t i = 0; i < n; i++) {
			if (gh_store_asset_get_by_id(w->st, ids[i], &assets[na]) < 0)
				continue;
			struct gh_asset *a = &assets[na];
			if (gh_strjoin((const char *const *)a->nodes, a->n_nodes, ",", &nodes[na]) < 0) {
				gh_asset_free(a);
				continue;
			}
			items[na].id = a->id;
			items[na].name = a->name;
			items[na].address = a->address;
			items[na].nodes = nodes[na];
			items[na].comment = a->comment ? a->comment : "";
			na++;
		}
		struct gh_menu *m = gh_menu_new(items, na, w->width, w->height, title);
		size_t idx = 0;
		gh_menu_set_notice(m, w->said); /* why the last pick did not connect */
		w->said[0] = '\0';
		rc = m ? menu_choose(w, m, &idx) : -1;
		gh_menu_free(m);
		if (menu_killed(w))
			rc = -1;
		if (rc == 1 && idx < na) {
			struct gh_asset *a = &assets[idx];
			char account[GH_LOGIN_PART_MAX + 1];
			int r = choose_account(w, &pc, a, account, sizeof account);
			if (menu_killed(w))
				r = GH_ECONN;
			struct gh_authz dec;
			memset(&dec, 0, sizeof dec);
			if (r == 0)
				r = gate_check(w, a->name, account, GH_PROTO_SSH, &dec);
			if (r == GH_ECONN) {
				row_close(w, -1, NULL, 0, 0, "user left the menu");
				rc = -1;
			} else if (r < 0 || !dec.allow) {
				refuse(w, a->name, r == 0 ? account : NULL,
				       r == GH_EPERM ? "no allowed account"
				       : r < 0	     ? "policy error"
						     : dec.reason);
				row_close(w, -1, NULL, 0, 0, NOT_PERMITTED);
			} else {
				struct gh_audit_who aw = who(w);
				gh_audit_policy(w->st, &aw, a->name, account, true, dec.perm_name);
				/* the relay opens its own socket under the same id */
				w->live = gh_live_close(w->live);
				run_target(w, a, account, true);
				/* leave the target's screen state behind */
				static const char reset[] = "\x1b[0m\x1b[?1049l\x1b[?25h\r\n";
				if (client_alive(w))
					ssh_channel_write(w->ch, reset, sizeof reset - 1);
			}
		} else {
			row_close(w, 0, NULL, 0, 0, rc == 0 ? "user quit the menu" : "user left");
		}
	next:
		w->live = gh_live_close(w->live);
		policy_ctx_free(&pc);
		for (size_t i = 0; i < na; i++) {
			gh_asset_free(&assets[i]);
			free(nodes[i]);
		}
		free(assets);
		free(items);
		free(nodes);
		free(ids);
		if (rc != 1 || !client_alive(w) || stop_requested || w->killed)
			return rc == 0 ? 0 : 1;
		if (w->row_open)
			row_close(w, -1, NULL, 0, 0, "ended");
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
static int run_known_hosts(struct worker *w)
{
	char *text = NULL;
	char *key = NULL;
	int r = w->jump_key ? gh_ssh_key_public_line(w->jump_key, &key) : GH_ENOENT;
	if (r == 0)
		r = gh_known_hosts_text(w->st, key, &w->user, &text);
	free(key);
	if (r < 0) {
		say(w, "known-hosts: %s", r == GH_ENOENT ? "no jump host key" : gh_strerror(r));
		return 1;
	}
	size_t len = strlen(text), off = 0;
	int64_t end = gh_mono_ms() + 10000;
	while (off < len && client_alive(w) && gh_mono_ms() < end) {
		int k = ssh_channel_write(w->ch, text + off, (uint32_t)(len - off));
		if (k < 0)
			break;
		off += (size_t)k;
		if (off < len)
			poll_once(w, 50);
	}
	free(text);
	return off == len ? 0 : 1;
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

/* The session channel is done: forget it and what its requests set, so
 * that the next session on this connection starts afresh. */
static void session_reset(struct worker *w)
{
	if (w->ch) {
		ssh_remove_channel_callbacks(w->ch, &w->ccb);
		ssh_channel_free(w->ch);
		w->ch = NULL;
	}
	for (size_t i = 0; i < w->n_env; i++) {
		free(w->env[i].name);
		free(w->env[i].value);
	}
	w->n_env = 0;
	free(w->command);
	free(w->subsystem);
	w->command = w->subsystem = NULL;
	w->req = REQ_NONE;
	w->pty = false;
	snprintf(w->term, sizeof w->term, "xterm"); /* the defaults of a new worker */
	w->width = 80;
	w->height = 24;
	w->client_eof = w->client_closed = w->client_finished = false;
	w->menu_state = 0;
	w->menu_pick = 0;
	w->sid[0] = '\0';
	w->sftp_allowed = 0;
	w->agent_req = false;
	w->x11_req = w->x11_single = false;
	w->x11_proto[0] = w->x11_cookie[0] = '\0';
	w->x11_screen = 0;
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

int gh_ssh_worker_run(struct gh_app *app, const struct gh_worker_args *args)
{
	struct worker *w = calloc(1, sizeof *w);
	ssh_bind bind = NULL;
	int status = 1, r;

	if (!w) {
		close(args->fd);
		return 1;
	}
	w->app = app;
	w->args = args;
	w->width = 80;
	w->height = 24;
	snprintf(w->term, sizeof w->term, "xterm");
	snprintf(w->source, sizeof w->source, "%s:%d", args->peer_ip, args->peer_port);
	gh_log_set_tag(args->jump_user ? "jump" : "worker");

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
	alarm((unsigned)app->cfg.login_grace_time);

	/* A connection inherited over fork() must not be used: let go of it
	 * (before ours opens, see gh_store_forget) and open our own. */
	app->store = gh_store_forget(app->store);
	r = gh_store_open(&app->cfg, &w->st);
	if (r < 0) {
		gh_error("cannot open the store: %s", gh_strerror(r));
		close(args->fd);
		goto out;
	}
	app->store = w->st;

	ssh_set_log_callback(log_cb);
	ssh_set_log_level(gh_log_get_level() >= GH_LOG_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_WARN);
	fcntl(args->fd, F_SETFL, fcntl(args->fd, F_GETFL) | O_NONBLOCK);
	bind = make_bind(args);
	w->s = ssh_new();
	if (!bind || !w->s) {
		close(args->fd);
		goto out;
	}
	if (ssh_bind_accept_fd(bind, w->s, args->fd) != SSH_OK) {
		gh_error("accept failed: %s", ssh_get_error(bind));
		close(args->fd);
		goto out;
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
	if (gh_priv_drop(args->priv) < 0)
		goto out;
	w->scb.userdata = w;
	if (args->jump_user) {
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
		goto out;
	}
	ssh_set_auth_methods(w->s, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY);
	w->ev = ssh_event_new();
	if (!w->ev || ssh_event_add_session(w->ev, w->s) != SSH_OK)
		goto out;
	struct gh_fwdset_hooks fh = { .on_end = fwd_ended, .on_child = fwd_child, .ud = w };
	w->fwds = gh_fwdset_new(w->s, w->ev, &fh);
	if (!w->fwds)
		goto out;
	w->rfwd = gh_rfwd_new();
	if (!w->rfwd)
		goto out;

	/* authentication */
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
			goto out;
		}
	}
	if (!w->authed)
		goto out;
	alarm(0);
	ssh_set_blocking(w->s, 0);

	/* a session channel with its request, and/or forwarded channels
	 * (ssh -J / -W / -N -L open no session channel); OpenSSH connection
	 * sharing (ControlMaster/ControlPersist) opens one session after
	 * another on the same connection */
	for (;;) {
		while (!(w->ch && w->req != REQ_NONE)) {
			if (poll_once(w, POLL_MS) == SSH_ERROR && !ssh_is_connected(w->s))
				break;
			if (!ssh_is_connected(w->s) || stop_requested || w->client_closed)
				break;
		}
		if (!(w->ch && w->req != REQ_NONE && ssh_is_connected(w->s) && !stop_requested))
			break;
		/* the first session too: the login may be long past */
		const char *no = session_again_refused(w);
		if (no) {
			say(w, "%s", no);
			finish_client(w, 1);
			break;
		}
		if (w->login.asset[0]) {
			status = run_direct(w);
			if (status < 0)
				status = 255;
			finish_client(w, status);
		} else if (w->req == REQ_SHELL && w->pty) {
			status = run_menu(w);
			finish_client(w, status);
		} else if (w->req == REQ_EXEC && w->command && !strcmp(w->command, "known-hosts")) {
			status = run_known_hosts(w);
			finish_client(w, status);
		} else {
			say(w, "no target given: log in as %s@ACCOUNT@ASSET (or with a terminal for the menu)",
			    w->user.name);
			status = 1;
			finish_client(w, status);
		}
		if (w->killed || !ssh_is_connected(w->s) || stop_requested)
			break;
		session_reset(w);
	}
	/* forwarded channels still open outlive the session channel */
	while (gh_fwdset_count(w->fwds) > 0 && ssh_is_connected(w->s) && !stop_requested)
		poll_once(w, POLL_MS);
	status = 0;
out:
	if (w->row_open)
		row_close(w, -1, NULL, 0, 0, "worker ended");
	if (w->st && (w->counted || args->jump_user))
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
	session_reset(w);
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
	if (args->status_fd >= 0)
		close(args->status_fd);
	free(w);
	return status;
}
