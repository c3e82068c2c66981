/* gatehouse jumpoint run: the agent inside a remote network (docs/JUMPOINTS.md).
 *
 * State in DIR (0700): key (the node's Ed25519 private key, 0600), bastion
 * ("HOST:PORT"), bastion_key (the front door's host key, pinned at first
 * contact) and registered (present once the token is spent). The token
 * travels only in the SSH password of the registration (ssh/jpnode.h). */
#include "cli/cli.h"
#include "cli/jumpoint_run.h"
#include "core/error.h"
#include "core/util.h"
#include "relay/fwd.h"
#include "ssh/jpnode.h"
#include "target/target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define KEEPALIVE_MS 5000
#define CONNECT_TIMEOUT_S 10
#define DIAL_TIMEOUT_S 5

static volatile sig_atomic_t agent_stop;

static void on_stop(int sig)
{
	(void)sig;
	agent_stop = 1;
}

struct agent {
	const char *dir;
	ssh_session s;
	struct gh_fwdset *fwds;
	char *dests;             /* "HOST PORT\n" lines the bastion pushed */
	ssh_channel dests_ch;    /* a new list being received */
	char *dests_new;
	size_t dests_len;
	bool dests_bad, dests_done;
	struct ssh_channel_callbacks_struct dests_cb;
	char *host;
	int port;
	const char *token;
	ssh_key key;
	bool registered;
};

/* A fatal answer (no retry): GH_EXIT_FAIL. A transient one: <0. */
#define FATAL 1

static int state_path(const struct agent *a, const char *name, char *out, size_t len)
{
	return snprintf(out, len, "%s/%s", a->dir, name) >= (int)len ? GH_EINVAL : 0;
}

static bool state_exists(const struct agent *a, const char *name)
{
	char p[PATH_MAX];
	return state_path(a, name, p, sizeof p) == 0 && access(p, F_OK) == 0;
}

static int state_write(const struct agent *a, const char *name, const char *text)
{
	char p[PATH_MAX];
	int r = state_path(a, name, p, sizeof p);
	return r < 0 ? r : gh_write_file_atomic(p, text, strlen(text), 0600);
}

/* DIR 0700, then the node's key: loaded, or made once (0600). */
static int state_open(struct agent *a)
{
	char p[PATH_MAX];
	struct stat sb;
	char *b64 = NULL;
	if (mkdir(a->dir, 0700) < 0 && errno != EEXIST)
		return GH_EIO;
	if (stat(a->dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    chmod(a->dir, 0700) < 0 || state_path(a, "key", p, sizeof p) < 0)
		return GH_EPERM;
	a->registered = state_exists(a, "registered");
	if (access(p, F_OK) == 0)
		return ssh_pki_import_privkey_file(p, NULL, NULL, NULL, &a->key) == SSH_OK
			       ? 0 : GH_EIO;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &a->key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(a->key, NULL, NULL, NULL, &b64) != SSH_OK)
		return GH_EIO;
	int r = gh_write_file_atomic(p, b64, strlen(b64), 0600);
	ssh_string_free_char(b64);
	return r;
}

/* "TYPE BASE64" of a public key. */
static int key_line(ssh_key k, char *out, size_t len)
{
	char *b64 = NULL;
	int r = GH_EINVAL;
	if (ssh_pki_export_pubkey_base64(k, &b64) == SSH_OK &&
	    snprintf(out, len, "%s %s", ssh_key_type_to_char(ssh_key_type(k)), b64) < (int)len)
		r = 0;
	ssh_string_free_char(b64);
	return r;
}

/* The front door's key against the pin; pinned at the first contact,
 * which only a registration may be. */
static int check_bastion_key(const struct agent *a, ssh_session s)
{
	ssh_key k = NULL;
	char line[1024], p[PATH_MAX], *pin = NULL;
	int r = GH_EIO;
	if (ssh_get_server_publickey(s, &k) != SSH_OK || key_line(k, line, sizeof line) < 0 ||
	    state_path(a, "bastion_key", p, sizeof p) < 0)
		goto out;
	if (gh_read_file(p, 4096, &pin, NULL) == 0) {
		pin[strcspn(pin, "\n")] = '\0';
		r = strcmp(pin, line) == 0 ? 0 : FATAL;
		if (r)
			gh_cli_error("the bastion's host key is not the one pinned in %s: refusing "
				     "(remove that file only if the bastion's key really changed)", p);
	} else if (!a->registered && a->token) {
		size_t n = strlen(line);
		if (n + 1 < sizeof line) {
			line[n] = '\n';
			line[n + 1] = '\0';
		}
		r = state_write(a, "bastion_key", line);
	} else {
		gh_cli_error("no pinned host key for the bastion in %s", a->dir);
		r = FATAL;
	}
out:
	free(pin);
	ssh_key_free(k);
	return r;
}

/* Register with the token or log in with the key. */
static int agent_login(struct agent *a, ssh_session s)
{
	char pub[512], pw[768], hp[300];
	if (!a->registered) {
		ssh_key pk = NULL;
		int r = ssh_pki_export_privkey_to_pubkey(a->key, &pk) == SSH_OK
				? key_line(pk, pub, sizeof pub) : GH_EIO;
		ssh_key_free(pk);
		if (r < 0 || snprintf(pw, sizeof pw, "%s %s", a->token, pub) >= (int)sizeof pw)
			return FATAL;
		r = ssh_userauth_password(s, GH_JPNODE_USER, pw);
		sodium_memzero(pw, sizeof pw);
		if (r == SSH_AUTH_ERROR)
			return GH_ECONN;
		if (r != SSH_AUTH_SUCCESS) {
			gh_cli_error("the bastion refused the install token (unknown, already used, "
				     "expired, or its jumpoint is disabled)");
			return FATAL;
		}
		if (snprintf(hp, sizeof hp, "%s:%d\n", a->host, a->port) >= (int)sizeof hp ||
		    state_write(a, "bastion", hp) < 0 || state_write(a, "registered", "") < 0)
			return FATAL;
		a->registered = true;
		fprintf(stderr, "gatehouse jumpoint: registered with %s:%d\n", a->host, a->port);
		return 0;
	}
	int r = ssh_userauth_publickey(s, GH_JPNODE_USER, a->key);
	if (r == SSH_AUTH_ERROR)
		return GH_ECONN;
	if (r != SSH_AUTH_SUCCESS) {
		gh_cli_error("the bastion refused this node's key (node deleted or jumpoint disabled)");
		return FATAL;
	}
	return 0;
}

/* A connection the bastion asks for: HOST:PORT on the pushed list, else
 * refused (the default reply). Connects here (bounded by DIAL_TIMEOUT_S). */
static int agent_dial(struct agent *a, ssh_message msg, const char *host, int port)
{
	char err[GH_TARGET_ERRLEN];
	int fd = -1;
	if (!gh_jpnode_dest_listed(a->dests, host, port)) {
		fprintf(stderr, "gatehouse jumpoint: refused a connection to %.255s:%d: not a "
			"destination the bastion assigned to this jumpoint\n", host, port);
		return 1;
	}
	if (!a->fwds || gh_fwdset_count(a->fwds) >= GH_JPNODE_MAX_CHANNELS) {
		fprintf(stderr, "gatehouse jumpoint: refused a connection to %s:%d: %d open\n",
			host, port, GH_JPNODE_MAX_CHANNELS);
		return 1;
	}
	if (gh_target_tcp_connect(host, port, DIAL_TIMEOUT_S, &fd, err) < 0) {
		fprintf(stderr, "gatehouse jumpoint: cannot connect to %s:%d: %s\n", host, port, err);
		return 1;
	}
	ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch) {
		close(fd);
		return 0;
	}
	gh_fwd_add(a->fwds, ch, fd, GH_FWD_TUNNEL, "jumpoint", host, port, 0);
	return 0;
}

/* Only forwarded-tcpip opens: the list channel, or a destination on it. */
static int agent_message(ssh_session s, ssh_message msg, void *ud)
{
	struct agent *a = ud;
	(void)s;
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_FORWARDED_TCPIP) {
		fprintf(stderr, "gatehouse jumpoint: refused a request of type %d/%d from the "
			"bastion (only forwarded-tcpip channels are accepted)\n",
			ssh_message_type(msg), ssh_message_subtype(msg));
		return 1;
	}
	const char *host = ssh_message_channel_request_open_destination(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	if (!gh_jpnode_host_ok(host)) {
		fprintf(stderr, "gatehouse jumpoint: refused a connection to a malformed host\n");
		return 1;
	}
	if (port == 0 && !strcmp(host, GH_JPNODE_DESTS_HOST)) {
		if (a->dests_ch)
			return 1; /* one list at a time */
		a->dests_ch = ssh_message_channel_request_open_reply_accept(msg);
		a->dests_len = 0;
		a->dests_bad = a->dests_done = false;
		if (a->dests_ch)
			ssh_set_channel_callbacks(a->dests_ch, &a->dests_cb);
		return 0;
	}
	return agent_dial(a, msg, host, port);
}

/* The list channel's bytes (bounded; more marks the list malformed). */
static int dests_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
		      void *ud)
{
	struct agent *a = ud;
	(void)s, (void)ch;
	if (is_stderr || a->dests_len + len >= GH_JPNODE_DESTS_MAX)
		a->dests_bad = true;
	else {
		memcpy(a->dests_new + a->dests_len, data, len);
		a->dests_len += len;
	}
	return (int)len;
}

/* At the list's EOF it replaces the list, at once: a connection asked for
 * right after it (the next packet) is checked against the new one. */
static void dests_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct agent *a = ud;
	(void)s, (void)ch;
	if (a->dests_done)
		return;
	a->dests_done = true;
	a->dests_new[a->dests_len] = '\0';
	if (a->dests_bad || memchr(a->dests_new, '\0', a->dests_len)) {
		fprintf(stderr, "gatehouse jumpoint: ignored a malformed list of destinations\n");
		return;
	}
	size_t lines = 0;
	memcpy(a->dests, a->dests_new, a->dests_len + 1);
	for (const char *p = a->dests; (p = strchr(p, '\n')); p++)
		lines++;
	fprintf(stderr, "gatehouse jumpoint: %zu destination(s) assigned\n", lines);
}

/* After a poll: a list channel done (EOF or closed) is closed and freed. */
static void agent_dests(struct agent *a)
{
	if (!a->dests_ch || (!a->dests_done && ssh_channel_is_open(a->dests_ch)))
		return;
	ssh_remove_channel_callbacks(a->dests_ch, &a->dests_cb);
	ssh_channel_close(a->dests_ch);
	ssh_channel_free(a->dests_ch);
	a->dests_ch = NULL;
}

/* One connection: until it drops (<0), a fatal answer (FATAL) or a stop (0). */
static int agent_session(struct agent *a, bool *ret_up)
{
	ssh_session s = ssh_new();
	ssh_event ev = NULL;
	long timeout = CONNECT_TIMEOUT_S;
	int zero = 0, r = GH_ECONN;
	*ret_up = false;
	if (!s || ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, a->host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &a->port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0)
		goto out;
	/* before the login: the bastion sends the destinations right after it */
	ssh_set_message_callback(s, agent_message, a);
	if (ssh_connect(s) != SSH_OK) {
		fprintf(stderr, "gatehouse jumpoint: cannot connect to %s:%d: %s\n", a->host,
			a->port, ssh_get_error(s));
		goto out;
	}
	if ((r = check_bastion_key(a, s)) != 0 || (r = agent_login(a, s)) != 0)
		goto out;
	fprintf(stderr, "gatehouse jumpoint: connected to %s:%d\n", a->host, a->port);
	*ret_up = true;
	ev = ssh_event_new();
	struct gh_fwdset_hooks h = { 0 };
	a->dests[0] = '\0'; /* nothing until the bastion says */
	if (!ev || ssh_event_add_session(ev, s) != SSH_OK ||
	    !(a->fwds = gh_fwdset_new(s, ev, &h)))
		goto out;
	ssh_set_blocking(s, 0);
	int64_t next = gh_mono_ms() + KEEPALIVE_MS;
	while (!agent_stop && ssh_is_connected(s)) {
		if (ssh_event_dopoll(ev, 1000) == SSH_ERROR && !ssh_is_connected(s))
			break;
		agent_dests(a);
		gh_fwdset_tick(a->fwds, NULL);
		if (gh_mono_ms() < next)
			continue;
		next = gh_mono_ms() + KEEPALIVE_MS;
		if (ssh_send_ignore(s, "") != SSH_OK)
			break;
	}
	r = agent_stop ? 0 : GH_ECONN;
	if (!agent_stop)
		fprintf(stderr, "gatehouse jumpoint: connection to %s:%d lost: %s\n", a->host,
			a->port, ssh_get_error(s));
out:
	a->fwds = gh_fwdset_free(a->fwds, "connection to the bastion lost", 1000);
	if (a->dests_ch) {
		ssh_remove_channel_callbacks(a->dests_ch, &a->dests_cb);
		ssh_channel_free(a->dests_ch);
		a->dests_ch = NULL;
	}
	if (ev) {
		ssh_event_remove_session(ev, s);
		ssh_event_free(ev);
	}
	if (s && ssh_is_connected(s))
		ssh_disconnect(s);
	ssh_free(s);
	return r;
}

/* Sleep MS, woken by a stop. */
static void pause_ms(int64_t ms)
{
	int64_t end = gh_mono_ms() + ms;
	while (!agent_stop && gh_mono_ms() < end) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Connect, serve, reconnect with backoff (1 s doubling to 60 s, jitter
 * up to half of it) until a fatal answer or a stop. */
static int agent_loop(struct agent *a)
{
	int64_t backoff = BACKOFF_MIN_MS;
	while (!agent_stop) {
		bool up = false;
		int r = agent_session(a, &up);
		if (r == FATAL)
			return GH_EXIT_FAIL;
		if (agent_stop)
			break;
		if (up)
			backoff = BACKOFF_MIN_MS;
		int64_t wait = backoff / 2 + randombytes_uniform((uint32_t)(backoff / 2 + 1));
		fprintf(stderr, "gatehouse jumpoint: retrying in %lld ms\n", (long long)wait);
		pause_ms(wait);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return GH_EXIT_OK;
}

static int print_unit(const char *dir)
{
	char exe[PATH_MAX], sdir[PATH_MAX];
	struct passwd *pw = getpwuid(geteuid());
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || !pw || !realpath(dir, sdir)) {
		gh_cli_error("cannot resolve the binary, the user or the state directory "
			     "(run once first)");
		return GH_EXIT_FAIL;
	}
	exe[n] = '\0';
	printf("[Unit]\nDescription=Gatehouse jumpoint agent\n"
	       "After=network-online.target\nWants=network-online.target\n\n"
	       "[Service]\nUser=%s\nExecStart=%s jumpoint run --state %s\n"
	       "Restart=on-failure\nRestartSec=30\nNoNewPrivileges=yes\n\n"
	       "[Install]\nWantedBy=multi-user.target\n", pw->pw_name, exe, sdir);
	return GH_EXIT_OK;
}

/* The bastion from --bastion, else from the state of a registered node. */
static int agent_bastion(struct agent *a, const char *opt)
{
	char p[PATH_MAX], *saved = NULL;
	int r;
	if (!opt) {
		if (state_path(a, "bastion", p, sizeof p) < 0 || gh_read_file(p, 512, &saved, NULL) < 0)
			return GH_ENOENT;
		saved[strcspn(saved, "\n")] = '\0';
		opt = saved;
	}
	r = gh_parse_hostport(opt, &a->host, &a->port);
	free(saved);
	return r;
}

int gh_cli_jumpoint_run(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bastion", required_argument, NULL, 'b' }, { "token", required_argument, NULL, 't' },
		{ "state", required_argument, NULL, 's' },   { "print-unit", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent a = { .port = -1 };
	const char *bastion = NULL;
	char *token = NULL;
	bool unit = false;
	int c, r = GH_EXIT_FAIL;
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'b')
			bastion = optarg;
		else if (c == 't') {
			free(token);
			token = strdup(optarg);
			sodium_memzero(optarg, strlen(optarg)); /* not in ps from here on */
		} else if (c == 's')
			a.dir = optarg;
		else if (c == 'u')
			unit = true;
		else
			return gh_cli_usage_error(cli, "bad option");
	}
	if (!a.dir || optind != argc) {
		r = gh_cli_usage_error(cli, "jumpoint run needs --state DIR");
		goto out;
	}
	if (unit) {
		r = print_unit(a.dir);
		goto out;
	}
	a.token = token;
	if (state_open(&a) < 0) {
		gh_cli_error("cannot use the state directory %s (owned by this user, 0700)", a.dir);
		goto out;
	}
	if (a.registered && token) {
		gh_cli_error("%s already holds a registered node: run with --state alone", a.dir);
		goto out;
	}
	if (!a.registered && !token) {
		gh_cli_error("%s holds no registered node: give --bastion and --token", a.dir);
		goto out;
	}
	if (agent_bastion(&a, bastion) < 0 || a.port <= 0) {
		r = gh_cli_usage_error(cli, "--bastion HOST:PORT needed");
		goto out;
	}
	a.dests_cb = (struct ssh_channel_callbacks_struct){ .userdata = &a,
							     .channel_data_function = dests_data,
							     .channel_eof_function = dests_eof };
	ssh_callbacks_init(&a.dests_cb);
	a.dests = malloc(GH_JPNODE_DESTS_MAX);
	a.dests_new = malloc(GH_JPNODE_DESTS_MAX);
	if (!a.dests || !a.dests_new)
		goto out;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	r = agent_loop(&a);
out:
	if (token)
		sodium_memzero(token, strlen(token));
	free(token);
	free(a.host);
	free(a.dests);
	free(a.dests_new);
	ssh_key_free(a.key);
	return r;
}
