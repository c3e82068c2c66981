/* Command filtering of an interactive shell (cmdshell.h). */
#include "filter/cmdshell.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "filter/interactive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gh_cmdshell {
	struct gh_cmdguard_ctx c;
	struct gh_cmdguard *g;
	struct gh_ifilter *f;
	struct gh_relay *r;
};

static size_t to_target(void *ud, const void *data, size_t len)
{
	struct gh_cmdshell *sh = ud;
	return sh->r ? gh_relay_send_target(sh->r, data, len) : 0;
}

static void tell(void *ud, const char *line)
{
	struct gh_cmdshell *sh = ud;
	char buf[512];
	int n = snprintf(buf, sizeof buf, "\r\ngatehouse: %s\r\n", line);
	if (sh->r && n > 0)
		gh_relay_send_client(sh->r, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void note(void *ud, const char *what)
{
	struct gh_cmdshell *sh = ud;
	gh_audit_command(sh->c.st, &sh->c.who, sh->c.asset, sh->c.account, "interactive", what,
			 "alternate screen", "", NULL);
}

static bool decide(void *ud, const char *screen, const char *typed)
{
	struct gh_cmdshell *sh = ud;
	struct gh_filter_result a, b, *res = &a;
	const char *line = screen;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	if (!*screen && (!typed || !*typed))
		return true; /* nothing on the line */
	if (!sh->g) { /* log only */
		/* keystrokes are logged only when the screen shows them (echoed:
		 * not a password); an edited line as the screen shows it */
		const char *seen = typed ? (strstr(screen, typed) ? typed : NULL) : screen;
		if (seen && *seen)
			gh_audit_command(sh->c.st, &sh->c.who, sh->c.asset, sh->c.account,
					 "interactive", "accept", NULL, seen, NULL);
		return true;
	}
	if (gh_cmdguard_check(sh->g, screen, strlen(screen), &a) < 0)
		a.action = GH_FILTER_REJECT; /* out of memory: fail closed */
	/* the keystrokes too (an echo that has not arrived, stty -echo): the
	 * more severe verdict wins */
	if (typed && *typed && strcmp(typed, screen)) {
		if (gh_cmdguard_check(sh->g, typed, strlen(typed), &b) < 0)
			b.action = GH_FILTER_REJECT;
		if (b.action > a.action || !*screen) {
			res = &b;
			line = typed;
		}
	}
	/* Nothing on the screen but keys typed: input not echoed, typically a
	 * password. Its text is never logged nor shown to a reviewer, and an
	 * accepted one is not logged at all. */
	bool hidden = !*screen;
	const char *shown = hidden ? "(input not echoed)" : line;
	char msg[300];
	bool allow = gh_cmdguard_settle(&sh->c, "interactive", res, shown, hidden, msg, sizeof msg,
					NULL) == 0;
	if (!allow)
		tell(sh, msg);
	return allow;
}

int gh_cmdshell_new(struct gh_cmdguard *g, const struct gh_cmdguard_ctx *ctx, int rows, int cols,
		    struct gh_cmdshell **ret)
{
	struct gh_cmdshell *sh = calloc(1, sizeof *sh);
	if (!sh) {
		gh_cmdguard_free(g);
		return GH_ENOMEM;
	}
	sh->c = *ctx;
	sh->g = g;
	struct gh_ifilter_ops ops = { .to_target = to_target,
				      .decide = decide,
				      .note = note,
				      .tell = tell,
				      .ud = sh };
	int r = gh_ifilter_new(rows, cols, &ops, &sh->f);
	if (r < 0) {
		gh_cmdshell_free(sh);
		return r;
	}
	gh_ifilter_set_log_only(sh->f, !g);
	*ret = sh;
	return 0;
}

struct gh_cmdshell *gh_cmdshell_free(struct gh_cmdshell *sh)
{
	if (!sh)
		return NULL;
	if (sh->f)
		gh_ifilter_flush(sh->f); /* log only: the last lines */
	gh_ifilter_free(sh->f);
	gh_cmdguard_free(sh->g);
	free(sh);
	return NULL;
}

static size_t hook_take(void *ud, const void *data, size_t len)
{
	return gh_ifilter_input(((struct gh_cmdshell *)ud)->f, data, len, gh_mono_ms());
}

static size_t hook_room(void *ud)
{
	return gh_ifilter_room(((struct gh_cmdshell *)ud)->f);
}

static void hook_output(void *ud, const void *data, size_t len)
{
	gh_ifilter_output(((struct gh_cmdshell *)ud)->f, data, len, gh_mono_ms());
}

void gh_cmdshell_hook(struct gh_cmdshell *sh, struct gh_relay_opts *o)
{
	o->input.take = hook_take;
	o->input.room = hook_room;
	o->input.output = hook_output;
	o->input.ud = sh;
}

void gh_cmdshell_attach(struct gh_cmdshell *sh, struct gh_relay *r)
{
	sh->r = r;
}

void gh_cmdshell_tick(struct gh_cmdshell *sh, int64_t now_ms)
{
	if (sh->r)
		gh_ifilter_tick(sh->f, now_ms);
}

bool gh_cmdshell_busy(const struct gh_cmdshell *sh)
{
	return gh_ifilter_busy(sh->f);
}

void gh_cmdshell_resize(struct gh_cmdshell *sh, int rows, int cols)
{
	gh_ifilter_resize(sh->f, rows, cols);
}
