/* Live operations from the CLI: session watch|join|kill, user lock|unlock.
 *
 * Who acts: without --as, the OS user running the CLI ("os:NAME"), who can
 * open the store and is therefore an operator with every right; with
 * --as USER, that Gatehouse user (existing, enabled, not locked) and its
 * role: watch needs admin or auditor; join needs admin or a permission
 * granting the "share" action on the session's asset and account (ssh);
 * kill, lock and unlock need admin. The worker serving the session checks
 * the caller's uid (SO_PEERCRED: root or the server's uid). */
#include "app/app.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/clustercli.h"
#include "core/error.h"
#include "core/util.h"
#include "live/live.h"
#include "policy/policy.h"
#include "store/store.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define KILL_WAIT_MS 15000 /* how long kill and lock wait for rows to close */
#define CTRL_RBRACKET 0x1d

enum { OPT_AS = 1000, OPT_REASON };
enum need { NEED_WATCH, NEED_JOIN, NEED_ADMIN };

struct actor {
	char name[160];
	struct gh_user u;
	bool os;                 /* the OS operator (no --as) */
};


static void actor_free(struct actor *a)
{
	if (!a->os)
		gh_user_free(&a->u);
}

/* Who acts (see above). 0 or GH_EXIT_FAIL (message printed). */
static int actor_get(struct gh_app *app, const char *as, struct actor *a)
{
	char esc[80];
	memset(a, 0, sizeof *a);
	if (!as) {
		struct passwd *pw = getpwuid(getuid());
		a->os = true;
		if (pw)
			snprintf(a->name, sizeof a->name, "os:%s", pw->pw_name);
		else
			snprintf(a->name, sizeof a->name, "os:%u", (unsigned)getuid());
		return 0;
	}
	int r = gh_store_user_get(app->store, as, &a->u);
	if (r < 0) {
		gh_cli_error("%s: unknown user '%s'", "--as", gh_escape(esc, sizeof esc, as));
		a->os = true; /* nothing to free */
		return GH_EXIT_FAIL;
	}
	snprintf(a->name, sizeof a->name, "%s", a->u.name);
	if (a->u.disabled || gh_store_user_locked(app->store, a->u.id) != 0) {
		gh_cli_error("user '%s' is disabled or locked", gh_escape(esc, sizeof esc, as));
		return GH_EXIT_FAIL;
	}
	return 0;
}

/* May A do NEED on session S? 0 or GH_EXIT_FAIL (message printed). */
static int actor_may(struct gh_app *app, const struct actor *a, enum need need,
		     const struct gh_session *s)
{
	if (a->os || a->u.role == GH_ROLE_ADMIN)
		return 0;
	if (need == NEED_WATCH && a->u.role == GH_ROLE_AUDITOR)
		return 0;
	if (need == NEED_JOIN && s && s->asset_id > 0 && s->account) {
		struct gh_policy_subject ps;
		uint32_t acts = 0;
		if (gh_policy_subject_load(app->store, a->u.id, &ps) == 0)
			acts = gh_policy_allowed_actions(ps.p, &ps.subj, s->asset_id, s->account,
							 GH_PROTO_SSH, gh_now());
		gh_policy_subject_free(&ps);
		if (acts & GH_ACT_SHARE)
			return 0;
	}
	gh_cli_error("'%s' (%s) may not %s", a->name, gh_role_name(a->u.role),
		     need == NEED_WATCH  ? "watch sessions (admin or auditor only)"
		     : need == NEED_JOIN ? "join this session (admin, or a permission with the share action)"
					 : "do this (admin only)");
	return GH_EXIT_FAIL;
}

static void live_event(struct gh_app *app, const struct actor *a, const struct gh_session *s,
		       const char *method, const char *result, const char *reason,
		       const char *detail)
{
	struct gh_audit_who w = { .user = a->name, .source = "cli",
				  .session_id = s ? s->id : NULL };
	(void)gh_audit_live(app->store, &w, s ? s->asset_name : NULL, s ? s->account : NULL,
			    method, result, reason, detail);
}

/* Parse [--as USER] [--reason TEXT] and one positional. Returns 0, or an
 * exit status (help printed, usage error) with *DONE set. */
static int parse(struct gh_cli *cli, int argc, char **argv, bool with_reason, const char **as,
		 const char **reason, bool *done)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, OPT_AS },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;
	*done = true;
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_AS)
			*as = optarg;
		else if (c == OPT_REASON && with_reason)
			*reason = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1,
				   with_reason ? "ID [--reason TEXT] [--as USER]" : "ID [--as USER]")))
		return r;
	*done = false;
	return 0;
}

/* The session row of ID, which must still be open. 0 or GH_EXIT_FAIL. */
static int open_session(struct gh_app *app, const char *id, struct gh_session *s)
{
	char esc[80];
	int r = gh_store_session_get(app->store, id, s);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown session '%s' (see 'gatehouse session list --open')",
			     gh_escape(esc, sizeof esc, id));
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot read session");
	if (s->ended_at) {
		gh_cli_error("session %s has ended", s->id);
		return GH_EXIT_FAIL;
	}
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Connect to the session's socket (only the workers' user's own socket,
 * reached without following links: DATA/run is theirs). The fd, or -1
 * (message printed). */
static int live_connect(struct gh_app *app, const char *id)
{
	char run_dir[4096], why[GH_LIVE_WHYLEN] = "";
	uid_t owner;
	int fd = -1;
	if (gh_live_run_dir(app->data_dir, run_dir, sizeof run_dir) < 0)
		return -1;
	if (gh_live_owner(app->cfg.worker_user, &owner) < 0) {
		gh_cli_error("worker_user %s does not exist: cannot tell its sockets",
			     app->cfg.worker_user);
		return -1;
	}
	int r = gh_live_connect(run_dir, id, owner, &fd, why, sizeof why);
	if (r == GH_ENOENT)
		gh_cli_error("session %s is not relaying now (no live socket: still "
			     "connecting, in the menu, or ended)", id);
	else if (r == GH_EPERM)
		gh_cli_error("session %s: refused to connect to %s/%s.sock: %s (not the "
			     "workers' own socket)", id, run_dir, id, why);
	else if (r < 0)
		gh_cli_error("cannot reach session %s: %s", id, gh_strerror(r));
	return r < 0 ? -1 : fd;
}

/* Connect to the session's socket, send REQUEST, read the one-line answer.
 * Returns the fd (answer "ok") or a negative value (message printed). */
static int request(struct gh_app *app, const char *id, const char *req)
{
	char line[256];
	int fd = live_connect(app, id);
	if (fd < 0)
		return -1;
	if (write_all(fd, req, strlen(req)) < 0) {
		gh_cli_error("cannot reach session %s: %s", id, strerror(errno));
		close(fd);
		return -1;
	}
	if (gh_live_read_answer(fd, line, sizeof line) < 0) {
		gh_cli_error("session %s: %s", id, line[0] ? line : "no answer (session ended?)");
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- watch / join ---------------------------------------------------------- */

/* The terminal's settings while attached, to put back on detach. */
struct tty_state {
	struct termios saved;
	bool raw;
};

static void tty_restore(struct tty_state *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t->saved);
	t->raw = false;
}

static void tty_make_raw(struct tty_state *t)
{
	struct termios raw;
	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
		t->raw = true;
}

/* Copy the session's output to stdout; from a terminal (or, when JOIN,
 * any stdin) read keys: Ctrl-] and "~." after a newline detach, the rest
 * goes to the session when JOIN. Returns when the session or the user
 * ends it. */
static void attach(int fd, bool join)
{
	bool tty = isatty(STDIN_FILENO);
	bool read_stdin = tty || join;
	bool at_line_start = true, tilde = false;
	struct tty_state ts = { .raw = false };
	char buf[16384];

	if (tty) {
		fprintf(stderr, "[gatehouse: %s; Ctrl-] or ~. detaches]\r\n",
			join ? "joined read-write" : "watching read-only");
		tty_make_raw(&ts);
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = STDIN_FILENO, .events = POLLIN } };
		int r = poll(p, read_stdin ? 2 : 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (p[0].revents) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (read_stdin && p[1].revents) {
			char in[4096], out[4097];
			size_t o = 0;
			ssize_t n = read(STDIN_FILENO, in, sizeof in);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* input ended: a joiner detaches once it is delivered */
				if (join)
					break;
				read_stdin = false;
				continue;
			}
			bool detach = false;
			for (ssize_t i = 0; i < n && !detach; i++) {
				char ch = in[i];
				if (tty && ch == CTRL_RBRACKET) {
					detach = true;
				} else if (tty && tilde) {
					tilde = false;
					if (ch == '.')
						detach = true;
					else {
						out[o++] = '~';
						if (ch != '~')
							out[o++] = ch;
						if (o >= sizeof out - 2) {
							if (join)
								(void)write_all(fd, out, o);
							o = 0;
						}
					}
				} else if (tty && at_line_start && ch == '~') {
					tilde = true;
				} else {
					out[o++] = ch;
				}
				at_line_start = ch == '\r' || ch == '\n';
				if (o >= sizeof out - 2) {
					if (join)
						(void)write_all(fd, out, o);
					o = 0;
				}
			}
			if (join && o && write_all(fd, out, o) < 0)
				break;
			if (detach)
				break;
		}
	}
	tty_restore(&ts);
	if (tty)
		fprintf(stderr, "\r\n[gatehouse: detached]\r\n");
}

static int watch_or_join(struct gh_cli *cli, int argc, char **argv, bool join)
{
	const char *as = NULL, *reason = NULL;
	struct gh_app *app = NULL;
	struct gh_session s = { 0 };
	struct actor a = { .os = true };
	bool done;
	char req[200];
	int r = parse(cli, argc, argv, false, &as, &reason, &done);
	if (done)
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	const char *method = join ? "join" : "watch";
	if ((r = actor_get(app, as, &a)) || (r = open_session(app, argv[optind], &s)) ||
	    (r = actor_may(app, &a, join ? NEED_JOIN : NEED_WATCH, &s))) {
		if (s.id)
			live_event(app, &a, &s, method, "error", "refused", NULL);
		goto out;
	}
	snprintf(req, sizeof req, "%s %s\n", method, a.name);
	int fd = request(app, s.id, req);
	if (fd < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	live_event(app, &a, &s, method, "start", NULL, NULL);
	attach(fd, join);
	close(fd);
	live_event(app, &a, &s, method, "end", NULL, NULL);
	r = GH_EXIT_OK;
out:
	actor_free(&a);
	gh_session_free(&s);
	gh_app_close(app);
	return r;
}

int gh_cli_session_watch(struct gh_cli *cli, int argc, char **argv)
{
	return watch_or_join(cli, argc, argv, false);
}

int gh_cli_session_join(struct gh_cli *cli, int argc, char **argv)
{
	return watch_or_join(cli, argc, argv, true);
}

/* ---- kill / lock ----------------------------------------------------------- */

/* Ask session S to end with REASON (printable text kept, newlines out).
 * 0, or -1 (message printed). */
static int kill_one(struct gh_app *app, const struct actor *a, const struct gh_session *s,
		    const char *reason)
{
	char req[GH_LIVE_REASON_MAX + 200];
	char why[GH_LIVE_REASON_MAX + 1];
	size_t o = 0;
	for (size_t i = 0; reason && reason[i] && o < GH_LIVE_REASON_MAX; i++)
		why[o++] = reason[i] == '\n' || reason[i] == '\r' ? ' ' : reason[i];
	why[o] = '\0';
	if (s->node && *s->node && strcmp(s->node, gh_store_node(app->store)) != 0)
		return gh_cli_kill_remote(app, s, a->name, why);
	snprintf(req, sizeof req, "kill %s %s\n", a->name, why);
	int fd = request(app, s->id, req);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Wait (bounded) until session ID's row is closed. */
static bool wait_closed(struct gh_app *app, const char *id)
{
	int64_t end = gh_mono_ms() + KILL_WAIT_MS;
	while (gh_mono_ms() < end) {
		struct gh_session s = { 0 };
		int r = gh_store_session_get(app->store, id, &s);
		bool closed = r < 0 || s.ended_at != 0;
		gh_session_free(&s);
		if (closed)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

int gh_cli_session_kill(struct gh_cli *cli, int argc, char **argv)
{
	const char *as = NULL, *reason = NULL;
	struct gh_app *app = NULL;
	struct gh_session s = { 0 };
	struct actor a = { .os = true };
	bool done;
	int r = parse(cli, argc, argv, true, &as, &reason, &done);
	if (done)
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = actor_get(app, as, &a)) || (r = open_session(app, argv[optind], &s)) ||
	    (r = actor_may(app, &a, NEED_ADMIN, &s))) {
		if (s.id)
			live_event(app, &a, &s, "kill", "error", "refused", NULL);
		goto out;
	}
	if (kill_one(app, &a, &s, reason) < 0) {
		live_event(app, &a, &s, "kill", "error", reason, "session not reachable");
		r = GH_EXIT_FAIL;
		goto out;
	}
	live_event(app, &a, &s, "kill", "ok", reason, NULL);
	if (!wait_closed(app, s.id)) {
		gh_cli_error("session %s was told to end but is still open", s.id);
		r = GH_EXIT_FAIL;
		goto out;
	}
	printf("killed session %s\n", s.id);
	r = GH_EXIT_OK;
out:
	actor_free(&a);
	gh_session_free(&s);
	gh_app_close(app);
	return r;
}

/* End every open session of USER_ID as A (see cli.h). */
static size_t end_user_sessions(struct gh_app *app, const struct actor *a, int64_t user_id,
				const char *reason, size_t *ret_failed)
{
	struct gh_session *v = NULL;
	size_t n = 0, killed = 0, failed = 0;
	if (gh_store_session_list(app->store, true, 1000000, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].user_id != user_id)
				continue;
			if (kill_one(app, a, &v[i], reason) == 0) {
				live_event(app, a, &v[i], "kill", "ok", reason, NULL);
				killed++;
			} else {
				failed++;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (v[i].user_id == user_id)
				(void)wait_closed(app, v[i].id);
	}
	gh_sessions_free(v, n);
	*ret_failed = failed;
	return killed;
}

size_t gh_cli_end_user_sessions(struct gh_app *app, int64_t user_id, const char *reason,
				size_t *ret_failed)
{
	struct actor a;
	size_t n = 0;
	*ret_failed = 0;
	if (actor_get(app, NULL, &a) == 0)
		n = end_user_sessions(app, &a, user_id, reason, ret_failed);
	actor_free(&a);
	return n;
}

size_t gh_cli_end_user_sessions_as(struct gh_app *app, const char *actor, int64_t user_id,
				   const char *reason, size_t *ret_failed)
{
	struct actor a = { .os = true };
	snprintf(a.name, sizeof a.name, "%s", actor);
	*ret_failed = 0;
	return end_user_sessions(app, &a, user_id, reason, ret_failed);
}

static int lock_or_unlock(struct gh_cli *cli, int argc, char **argv, bool lock)
{
	const char *as = NULL, *reason = NULL;
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct actor a = { .os = true };
	bool done, have_user = false;
	char esc[80], detail[200];
	int r = parse(cli, argc, argv, false, &as, &reason, &done);
	if (done)
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = actor_get(app, as, &a)) || (r = actor_may(app, &a, NEED_ADMIN, NULL)))
		goto out;
	r = gh_store_user_get(app->store, argv[optind], &u);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown user '%s'", gh_escape(esc, sizeof esc, argv[optind]));
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot read user");
		goto out;
	}
	have_user = true;
	r = gh_store_user_lock(app->store, u.id, lock);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot %s user", lock ? "lock" : "unlock");
		goto out;
	}
	size_t killed = 0, failed = 0;
	if (lock)
		killed = end_user_sessions(app, &a, u.id, "user locked", &failed);
	snprintf(detail, sizeof detail, "user=%s sessions_ended=%zu", u.name, killed);
	struct gh_audit_who w = { .user = a.name, .source = "cli" };
	(void)gh_audit_live(app->store, &w, NULL, NULL, lock ? "lock" : "unlock", "ok", NULL,
			    detail);
	if (lock)
		printf("locked user %s; %zu live session(s) ended\n", u.name, killed);
	else
		printf("unlocked user %s\n", u.name);
	if (failed)
		gh_cli_error("%zu session(s) of %s could not be reached (not relaying now)", failed,
			     u.name);
	r = GH_EXIT_OK;
out:
	if (have_user)
		gh_user_free(&u);
	actor_free(&a);
	gh_app_close(app);
	return r;
}

int gh_cli_user_lock(struct gh_cli *cli, int argc, char **argv)
{
	return lock_or_unlock(cli, argc, argv, true);
}

int gh_cli_user_unlock(struct gh_cli *cli, int argc, char **argv)
{
	return lock_or_unlock(cli, argc, argv, false);
}
