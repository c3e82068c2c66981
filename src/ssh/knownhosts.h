/* known_hosts lines for recorded ProxyJump.
 *
 * Behind `ssh -J`, the client checks the key of the inner server against
 * the name it asked for (web01, or [web01]:2022). Gatehouse answers every
 * jump with its jump host key, so a user trusts it with one line per
 * reachable asset: its name and address (the `[host]:port` form when the
 * port is not 22) -> the jump host public key. */
#pragma once

struct gh_store;
struct gh_user;

/* The lines, with KEY ("TYPE BASE64", the jump host public key), for the
 * assets USER may connect to over ssh now (USER NULL:
 * every asset with the ssh protocol), sorted by asset name, each ending in
 * '\n'. *ret is malloc'd (caller frees; "" when none). */
int gh_known_hosts_text(struct gh_store *st, const char *key, const struct gh_user *user,
			char **ret);
