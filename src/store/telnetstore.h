/* A telnet asset's prompt patterns (PCRE2), overriding its platform's
 * defaults (src/target/telnet.h). */
#pragma once
#include <stdint.h>

struct gh_store;

struct gh_asset_telnet {
	char *login_prompt, *password_prompt, *shell_prompt; /* NULL: the platform's */
};

/* All NULL when the asset has none. Caller frees with gh_asset_telnet_free. */
int gh_store_asset_telnet_get(struct gh_store *st, int64_t asset_id, struct gh_asset_telnet *ret);
/* Each field: NULL leaves it as it is, "" goes back to the default. */
int gh_store_asset_telnet_set(struct gh_store *st, int64_t asset_id, const struct gh_asset_telnet *t);
void gh_asset_telnet_free(struct gh_asset_telnet *t);
