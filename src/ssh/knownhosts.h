/* known_hosts lines for recorded ProxyJump.
 *
 * Behind `ssh -J`, the client checks the key of the inner server against
 * the name it asked for (web01, or [web01]:2022). Gatehouse answers every
 * jump with its jump host key, so a user trusts it with one line per
 * reachable asset -> the jump host public key: its name plain (a channel
 * to the name on port 22 is a jump to the asset's SSH service, jump.c) and
 * as [name]:port, and its address at its SSH port only ([addr]:port; plain
 * when that is 22: the address on another port is another service). */
#pragma once

struct gh_store;
struct gh_user;

/* The lines, with KEY ("TYPE BASE64", the jump host public key), for the
 * assets USER may connect to over ssh now (USER NULL:
 * every asset with the ssh protocol), sorted by asset name, each ending in
 * '\n'. *ret is malloc'd (caller frees; "" when none). */
int gh_known_hosts_text(struct gh_store *st, const char *key, const struct gh_user *user,
			char **ret);
