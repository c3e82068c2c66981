/* Telnet targets: the protocol side of one connection (libtelnet option
 * negotiation) and the login machine that answers the target's login and
 * password prompts with the stored credentials (credential injection).
 *
 * No sockets here: bytes from the target go in with gh_telnet_recv, bytes
 * for the target come out through the SEND callback, and once logged in
 * the target's output comes out through the OUTPUT callback. The caller
 * owns the connection (src/session/telnet.c).
 *
 * Negotiation: we offer TTYPE (the user's TERM) and NAWS (the user's
 * window, again at every resize), ask the target to ECHO and both sides to
 * suppress go-ahead; everything else is refused.
 *
 * Login machine (GH_TN_*): WAIT_LOGIN -> (login prompt) user sent ->
 * WAIT_PASSWORD -> (password prompt) secret sent -> WAIT_SHELL -> (shell
 * prompt) READY; a failure message or a login prompt after the secret ->
 * FAILED. Prompts are PCRE2 patterns matched against the end of what the
 * target printed since the last answer (a bounded window). Nothing the
 * target prints before READY goes to OUTPUT except what follows the secret,
 * and that with every copy of the secret removed (a target that echoes it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_telnet;

enum gh_telnet_phase {
	GH_TN_WAIT_LOGIN = 0,
	GH_TN_WAIT_PASSWORD,
	GH_TN_WAIT_SHELL,
	GH_TN_READY,
	GH_TN_FAILED,
};

/* PCRE2 patterns; NULL or "" takes the platform's default. */
struct gh_telnet_prompts {
	const char *login, *password, *shell, *failure;
};

struct gh_telnet_opts {
	const char *platform;    /* asset platform: picks the default prompts */
	struct gh_telnet_prompts prompts;
	const char *term;        /* TTYPE answer; NULL: "xterm" */
	int width, height;       /* NAWS; 0: 80x24 */
	/* raw bytes for the target; returns 0 or a negative GH_E* */
	int (*send)(void *ud, const void *data, size_t len);
	/* the target's output once READY (and the tail after the login) */
	void (*output)(void *ud, const void *data, size_t len);
	void *ud;
};

/* 0 when PATTERN compiles as a prompt pattern; GH_EINVAL with ERR. */
int gh_telnet_prompt_check(const char *pattern, char *err, size_t len);

/* *RET is the caller's (gh_telnet_free). GH_EINVAL with ERR (LEN bytes)
 * naming the bad pattern. */
int gh_telnet_new(const struct gh_telnet_opts *o, struct gh_telnet **ret, char *err, size_t len);
struct gh_telnet *gh_telnet_free(struct gh_telnet *t);

/* The account to log in as and its secret, both borrowed until the phase
 * leaves WAIT_SHELL or gh_telnet_forget (call it before wiping them). */
void gh_telnet_login(struct gh_telnet *t, const char *user, const char *secret);
void gh_telnet_forget(struct gh_telnet *t);

/* Bytes from the target: negotiation answered, prompts answered. Returns
 * 0, or GH_EIO when libtelnet reports a fatal protocol error or SEND
 * failed. */
int gh_telnet_recv(struct gh_telnet *t, const void *data, size_t len);
enum gh_telnet_phase gh_telnet_phase(const struct gh_telnet *t);
/* FAILED: why (static text), e.g. "login incorrect". */
const char *gh_telnet_failure(const struct gh_telnet *t);

/* The user's bytes for the target (IAC doubled, CR sent as CR NUL). */
int gh_telnet_send(struct gh_telnet *t, const void *data, size_t len);
/* The user's window changed: NAWS when the target accepted it. */
int gh_telnet_resize(struct gh_telnet *t, int width, int height);
