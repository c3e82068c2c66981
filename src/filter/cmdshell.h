/* Command filtering of an interactive shell: the glue between the relay's
 * input hook, the interactive filter (src/filter/interactive.h) and the
 * command guard (cmdguard.h). Every checked line is a "command" event with
 * method "interactive"; the alternate-screen pause and resumption too
 * (result "paused"/"resumed", reason "alternate screen"). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "relay/relay.h"
#include "filter/cmdguard.h"

struct gh_cmdshell;

/* CTX (cmdguard.h): its strings borrowed for the shell's life; reviews
 * wait with CTX->wait (decisions run in tick). G is taken over (freed with
 * the shell). G NULL (no filter applies): log only, every line an "accept"
 * event, Enter never held. */
int gh_cmdshell_new(struct gh_cmdguard *g, const struct gh_cmdguard_ctx *ctx, int rows, int cols,
		    struct gh_cmdshell **ret);
struct gh_cmdshell *gh_cmdshell_free(struct gh_cmdshell *sh);
/* Fill O's input hook; then, once the relay exists, attach it. */
void gh_cmdshell_hook(struct gh_cmdshell *sh, struct gh_relay_opts *o);
void gh_cmdshell_attach(struct gh_cmdshell *sh, struct gh_relay *r);
void gh_cmdshell_tick(struct gh_cmdshell *sh, int64_t now_ms);
bool gh_cmdshell_busy(const struct gh_cmdshell *sh);
void gh_cmdshell_resize(struct gh_cmdshell *sh, int rows, int cols);
