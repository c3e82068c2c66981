/* Telnet targets: negotiation and the login machine (see telnet.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "target/telnet.h"
#include "core/error.h"

#include <libtelnet.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_CAP 4096   /* prompt window: what the target printed since the last answer */
#define WINDOW_KEEP 1024  /* kept when it overflows: a prompt is at its end */

enum { RE_LOGIN, RE_PASSWORD, RE_SHELL, RE_FAILURE, RE_N };

/* The default prompts of a platform (asset platform names, src/cli/asset.c). */
struct platform_prompts {
	const char *platform;
	const char *re[RE_N];
};

static const struct platform_prompts defaults[] = {
	{ "network-device",
	  { "(?i)(user ?name|login|user)\\s*:\\s*$", "(?i)password\\s*:\\s*$", "[>#]\\s*$",
	    "(?i)(authentication failed|login invalid|bad passwords?|access denied|login incorrect)" } },
	{ "windows",
	  { "(?i)(login|user ?name)\\s*:\\s*$", "(?i)password\\s*:\\s*$", ">\\s*$",
	    "(?i)(logon failure|login incorrect|access denied|authentication failed)" } },
	/* linux, unix, macos and anything else */
	{ NULL,
	  { "(?i)(login|user ?name)\\s*:\\s*$", "(?i)password\\s*:\\s*$", "[$#%>]\\s*$",
	    "(?i)(login incorrect|incorrect login|authentication fail|access denied|login failed)" } },
};

static const telnet_telopt_t telopts[] = {
	{ TELNET_TELOPT_TTYPE, TELNET_WILL, TELNET_DONT },
	{ TELNET_TELOPT_NAWS, TELNET_WILL, TELNET_DONT },
	{ TELNET_TELOPT_ECHO, TELNET_WONT, TELNET_DO },
	{ TELNET_TELOPT_SGA, TELNET_WILL, TELNET_DO },
	{ -1, 0, 0 },
};

struct gh_telnet {
	struct gh_telnet_opts o;
	char term[64];
	telnet_t *tn;
	pcre2_code *re[RE_N];
	pcre2_match_data *md;
	enum gh_telnet_phase phase;
	const char *failure;
	const char *user, *secret;  /* borrowed during the login */
	char win[WINDOW_CAP];
	size_t win_len;
	bool naws;                  /* the target said DO NAWS */
	bool last_cr;               /* output: the last byte was CR (drop a NUL after it) */
	int err;                    /* first send error */
};

static const struct platform_prompts *platform_defaults(const char *platform)
{
	size_t i = 0;
	for (; defaults[i].platform; i++)
		if (platform && !strcmp(defaults[i].platform, platform))
			break;
	return &defaults[i];
}

/* WHAT names the pattern in ERR (NULL: after WHICH). */
static int compile(struct gh_telnet *t, int which, const char *pat, const char *what, char *err,
		   size_t len)
{
	int ec = 0;
	PCRE2_SIZE off = 0;
	/* bytes, not UTF-8: the window holds whatever the target sent (in
	 * UTF mode an invalid sequence would need a check per match) */
	t->re[which] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF, &ec,
				     &off, NULL);
	if (t->re[which])
		return 0;
	char msg[120];
	pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
	static const char *const names[RE_N] = { "login prompt", "password prompt", "shell prompt",
						 "failure" };
	snprintf(err, len, "bad %s pattern at offset %zu: %s", what ? what : names[which],
		 (size_t)off, msg);
	return GH_EINVAL;
}

int gh_telnet_prompt_check(const char *pattern, char *err, size_t len)
{
	struct gh_telnet t = { 0 };
	int r = compile(&t, RE_LOGIN, pattern, "the", err, len);
	pcre2_code_free(t.re[RE_LOGIN]);
	return r;
}

static bool window_matches(struct gh_telnet *t, int which)
{
	int rc = pcre2_match(t->re[which], (PCRE2_SPTR)t->win, t->win_len, 0, 0, t->md, NULL);
	return rc >= 0;
}

static void raw_send(struct gh_telnet *t, const void *data, size_t len)
{
	if (t->err == 0 && len > 0) {
		int r = t->o.send(t->o.ud, data, len);
		if (r < 0)
			t->err = r;
	}
}

static void send_naws(struct gh_telnet *t)
{
	int w = t->o.width > 0 && t->o.width < 65536 ? t->o.width : 80;
	int h = t->o.height > 0 && t->o.height < 65536 ? t->o.height : 24;
	unsigned char sz[4] = { (unsigned char)(w >> 8), (unsigned char)w, (unsigned char)(h >> 8),
				(unsigned char)h };
	telnet_subnegotiation(t->tn, TELNET_TELOPT_NAWS, (const char *)sz, sizeof sz);
}

/* Output for the user: a NUL after CR (NVT line ending) is dropped. */
static void emit(struct gh_telnet *t, const char *p, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0' && t->last_cr) {
			if (i > start && t->o.output)
				t->o.output(t->o.ud, p + start, i - start);
			start = i + 1;
		}
		t->last_cr = p[i] == '\r';
	}
	if (len > start && t->o.output)
		t->o.output(t->o.ud, p + start, len - start);
}

/* The window after the secret went: hand it out without the secret. */
static void emit_tail(struct gh_telnet *t)
{
	size_t sl = t->secret ? strlen(t->secret) : 0;
	size_t i = 0, start = 0;
	while (sl > 0 && i + sl <= t->win_len) {
		if (memcmp(t->win + i, t->secret, sl) == 0) {
			emit(t, t->win + start, i - start);
			i += sl;
			start = i;
		} else {
			i++;
		}
	}
	emit(t, t->win + start, t->win_len - start);
}

static void answer(struct gh_telnet *t, const char *what)
{
	size_t n = what ? strlen(what) : 0;
	telnet_send(t->tn, what ? what : "", n);
	telnet_send(t->tn, "\r\n", 2);
	t->win_len = 0;
}

static void fail(struct gh_telnet *t, const char *why)
{
	t->phase = GH_TN_FAILED;
	t->failure = why;
	t->win_len = 0;
}

/* After new text in the window: the prompt the phase waits for. */
static void login_step(struct gh_telnet *t)
{
	switch (t->phase) {
	case GH_TN_WAIT_LOGIN:
		if (!t->user)
			return;
		if (window_matches(t, RE_PASSWORD)) { /* asks for a password only */
			answer(t, t->secret);
			t->phase = GH_TN_WAIT_SHELL;
		} else if (window_matches(t, RE_LOGIN)) {
			answer(t, t->user);
			t->phase = GH_TN_WAIT_PASSWORD;
		}
		return;
	case GH_TN_WAIT_PASSWORD:
		if (window_matches(t, RE_FAILURE))
			fail(t, "login incorrect");
		else if (window_matches(t, RE_PASSWORD)) {
			answer(t, t->secret);
			t->phase = GH_TN_WAIT_SHELL;
		}
		return;
	case GH_TN_WAIT_SHELL:
		if (window_matches(t, RE_FAILURE) || window_matches(t, RE_LOGIN) ||
		    window_matches(t, RE_PASSWORD))
			fail(t, "login incorrect");
		else if (window_matches(t, RE_SHELL)) {
			t->phase = GH_TN_READY;
			emit_tail(t);
			t->win_len = 0;
			t->user = t->secret = NULL;
		}
		return;
	default:
		return;
	}
}

/* Text from the target before READY: into the window (NULs left out). */
static void login_data(struct gh_telnet *t, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0')
			continue;
		if (t->win_len == WINDOW_CAP) {
			memmove(t->win, t->win + WINDOW_CAP - WINDOW_KEEP, WINDOW_KEEP);
			t->win_len = WINDOW_KEEP;
		}
		t->win[t->win_len++] = p[i];
	}
	login_step(t);
}

static void on_event(telnet_t *tn, telnet_event_t *ev, void *ud)
{
	struct gh_telnet *t = ud;
	(void)tn;
	switch (ev->type) {
	case TELNET_EV_DATA:
		if (t->phase == GH_TN_READY)
			emit(t, ev->data.buffer, ev->data.size);
		else if (t->phase != GH_TN_FAILED)
			login_data(t, ev->data.buffer, ev->data.size);
		break;
	case TELNET_EV_SEND:
		raw_send(t, ev->data.buffer, ev->data.size);
		break;
	case TELNET_EV_DO:
		if (ev->neg.telopt == TELNET_TELOPT_NAWS) {
			t->naws = true;
			send_naws(t);
		}
		break;
	case TELNET_EV_DONT:
		if (ev->neg.telopt == TELNET_TELOPT_NAWS)
			t->naws = false;
		break;
	case TELNET_EV_TTYPE:
		if (ev->ttype.cmd == TELNET_TTYPE_SEND)
			telnet_ttype_is(t->tn, t->term);
		break;
	case TELNET_EV_ERROR:
		if (t->err == 0)
			t->err = GH_EIO;
		break;
	default:
		break;
	}
}

int gh_telnet_new(const struct gh_telnet_opts *o, struct gh_telnet **ret, char *err, size_t len)
{
	int r = GH_ENOMEM;
	struct gh_telnet *t = calloc(1, sizeof *t);
	if (!t || !o->send)
		goto out;
	t->o = *o;
	t->o.prompts = (struct gh_telnet_prompts){ 0 }; /* borrowed: not kept */
	snprintf(t->term, sizeof t->term, "%s", o->term && o->term[0] ? o->term : "xterm");
	const struct platform_prompts *d = platform_defaults(o->platform);
	const char *given[RE_N] = { o->prompts.login, o->prompts.password, o->prompts.shell,
				    o->prompts.failure };
	for (int i = 0; i < RE_N; i++) {
		r = compile(t, i, given[i] && given[i][0] ? given[i] : d->re[i], NULL, err, len);
		if (r < 0)
			goto out;
	}
	r = GH_ENOMEM;
	t->md = pcre2_match_data_create(4, NULL);
	t->tn = telnet_init(telopts, on_event, 0, t);
	if (!t->md || !t->tn)
		goto out;
	*ret = t;
	t = NULL;
	r = 0;
out:
	if (r == GH_ENOMEM && err)
		snprintf(err, len, "out of memory");
	gh_telnet_free(t);
	return r;
}

struct gh_telnet *gh_telnet_free(struct gh_telnet *t)
{
	if (!t)
		return NULL;
	if (t->tn)
		telnet_free(t->tn);
	for (int i = 0; i < RE_N; i++)
		pcre2_code_free(t->re[i]);
	pcre2_match_data_free(t->md);
	/* the window may hold what followed the secret */
	memset(t->win, 0, sizeof t->win);
	free(t);
	return NULL;
}

void gh_telnet_login(struct gh_telnet *t, const char *user, const char *secret)
{
	t->user = user;
	t->secret = secret;
	login_step(t); /* a prompt already seen */
}

void gh_telnet_forget(struct gh_telnet *t)
{
	if (t)
		t->user = t->secret = NULL;
}

int gh_telnet_recv(struct gh_telnet *t, const void *data, size_t len)
{
	if (len > 0)
		telnet_recv(t->tn, data, len);
	return t->err;
}

enum gh_telnet_phase gh_telnet_phase(const struct gh_telnet *t) { return t->phase; }

const char *gh_telnet_failure(const struct gh_telnet *t)
{
	return t->failure ? t->failure : "login failed";
}

int gh_telnet_send(struct gh_telnet *t, const void *data, size_t len)
{
	const char *p = data;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\r')
			continue;
		telnet_send(t->tn, p + start, i - start);
		telnet_send(t->tn, "\r\0", 2);
		start = i + 1;
	}
	if (len > start)
		telnet_send(t->tn, p + start, len - start);
	return t->err;
}

int gh_telnet_resize(struct gh_telnet *t, int width, int height)
{
	t->o.width = width;
	t->o.height = height;
	if (t->naws)
		send_naws(t);
	return t->err;
}
