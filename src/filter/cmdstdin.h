/* Command filtering of a shell reading its input without a terminal
 * (`ssh -T host`, `ssh host bash`, `ssh host 'sh -s'`): the glue between
 * the relay's input hook, the line filter (src/filter/linefilter.h) and the
 * command guard (cmdguard.h). docs/COMMAND-FILTER.md, "Input of shells and
 * interpreters".
 *
 * The user's bytes are held until the command they complete is decided
 * (the relay's input buffer is bounded: a full one stops the user's
 * window); an allowed command goes on to the target byte for byte, in
 * order. Every command is a "command" event with method "stdin". A
 * refused one (rejected, review denied or timed out, not analysable under
 * a reject filter) is never sent: the user reads one line on stderr, the
 * rest of the input is dropped, the target gets EOF after the commands
 * already allowed, and the session ends with exit status 126 (reason
 * "command refused"). */
#pragma once
#include <stdbool.h>

#include "relay/relay.h"
#include "filter/cmdguard.h"
#include "filter/cmdshell.h"

struct gh_cmdstdin;

/* Does the exec COMMAND start a shell reading its input (inputkind.h)? */
bool gh_cmdstdin_shell(const char *command);

/* G (not NULL) is taken over, freed with the filter. CTX as for
 * gh_cmdshell_new (its wait.say tells the user one line). */
int gh_cmdstdin_new(struct gh_cmdguard *g, const struct gh_cmdguard_ctx *ctx,
		    struct gh_cmdstdin **ret);
struct gh_cmdstdin *gh_cmdstdin_free(struct gh_cmdstdin *in);
/* Fill O's input hook; then, once the relay exists, attach it. */
void gh_cmdstdin_hook(struct gh_cmdstdin *in, struct gh_relay_opts *o);
void gh_cmdstdin_attach(struct gh_cmdstdin *in, struct gh_relay *r);
/* Decide what is complete and pass on what was allowed. Call after every
 * poll; a review blocks here (polling the session through ctx.wait). */
void gh_cmdstdin_tick(struct gh_cmdstdin *in);
/* True while input is held (call tick again soon). */
bool gh_cmdstdin_busy(const struct gh_cmdstdin *in);
