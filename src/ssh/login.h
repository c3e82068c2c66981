/* The SSH login name: who authenticates and where they want to go.
 *
 *   alice                    the menu of alice's targets
 *   alice@deploy@web01       account deploy on asset web01
 *   alice#deploy#web01       the same ('#' for clients that dislike '@')
 *   alice@web01              asset web01 with the one allowed account (or a choice)
 *
 * The user part is what authenticates. The parser does no I/O and never
 * reads past LEN; each part is 1..GH_LOGIN_PART_MAX bytes of
 * [A-Za-z0-9._-] (plus '$' in account names), not starting with '-'. */
#pragma once
#include <stddef.h>

#define GH_LOGIN_PART_MAX 64
#define GH_LOGIN_MAX 256

struct gh_login {
	char user[GH_LOGIN_PART_MAX + 1];
	char account[GH_LOGIN_PART_MAX + 1]; /* "" when absent */
	char asset[GH_LOGIN_PART_MAX + 1];   /* "" when absent */
};

/* Parse S (LEN bytes, need not be NUL-terminated; a NUL inside is an
 * error). Returns 0 and fills *ret, or GH_EINVAL leaving *ret untouched. */
int gh_login_parse(const char *s, size_t len, struct gh_login *ret);
