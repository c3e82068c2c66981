/* What a login needs besides its first factor: the login ACL (source
 * address and time) and the TOTP second factor (enrolment and codes).
 * Used by the worker between the password/key and SSH_AUTH_SUCCESS; kept
 * out of worker.c so that the SSH plumbing stays there and the decisions
 * here. Nothing here talks to the client or writes audit events: the
 * caller does, with the reasons returned. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_config;
struct gh_store;
struct gh_user;
struct gh_vault;

/* May user U log in from PEER_IP (as the socket gave it) at NOW under the
 * login ACL rules naming U or one of its groups? 0: allowed. GH_EPERM:
 * refused, REASON "acl deny rule=NAME", followed by " (outside schedule of
 * rule ALLOW)" when an allow rule would have matched but for its schedule.
 * Any other error also refuses
 * (fail closed) with REASON saying why ("acl error: ..."). REASON is for
 * the audit log only, never for the client. */
int gh_login_acl_check(struct gh_store *st, const struct gh_user *u, const char *peer_ip,
		       int64_t now, char *reason, size_t reasonlen);

/* The second factor of one connection. Zero-initialise. */
struct gh_mfa {
	bool active;        /* a code is needed from this user */
	bool enrol;         /* ... to confirm a new seed (first use) */
	bool asked;         /* a keyboard-interactive request is outstanding */
	int64_t user_id;
	uint8_t *secret;    /* sodium_malloc'd seed; NULL before gh_mfa_start */
	size_t secret_len;
};

/* Does U need a second factor under CFG ("mfa" setting), its own mode,
 * or because it is already enrolled? */
int gh_mfa_needed(const struct gh_config *cfg, struct gh_store *st, const struct gh_user *u,
		  bool *ret);

/* Get the seed ready: unseal U's (V) or make a new one (enrolment). */
int gh_mfa_start(struct gh_mfa *m, struct gh_vault *v, const struct gh_user *u);

/* The keyboard-interactive request. Enrolment: the instruction gives the
 * base32 secret and the otpauth:// URI (ASCII: OpenSSH's client prints
 * instructions through its logger, which escapes non-ASCII bytes and cuts
 * at 1 KiB), and the prompt carries the QR code (UTF-8 half blocks; the
 * client prints prompts as they are) before "Verification code: ".
 * Later logins: no instruction, the bare prompt. Both strings may hold
 * the secret: the caller frees them with gh_mfa_text_free (wipes). */
int gh_mfa_challenge(const struct gh_mfa *m, const char *account, char **ret_instruction,
		     char **ret_prompt);
void gh_mfa_text_free(char *s);

/* Check CODE (spaces ignored) at NOW with a +-1 step window. On success
 * (0) the step is stored as used (and for enrolment the sealed seed).
 * Errors: GH_EAUTH (*REASON "bad totp code"), GH_EPERM ("totp code
 * replayed"), others ("totp error"). */
int gh_mfa_check(struct gh_mfa *m, struct gh_store *st, struct gh_vault *v, const char *code,
		 int64_t now, const char **reason);

/* Wipe and free the seed; M can be started again. */
void gh_mfa_clear(struct gh_mfa *m);
