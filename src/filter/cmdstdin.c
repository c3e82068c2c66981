/* Command filtering of a shell reading its input (cmdstdin.h). */
#include "filter/cmdstdin.h"
#include "core/error.h"
#include "core/log.h"
#include "filter/inputkind.h"
#include "filter/linefilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCARD_ROOM 65536u /* taken at once (and dropped) after a refusal */

struct gh_cmdstdin {
	struct gh_cmdguard_ctx c;
	struct gh_cmdguard *g;
	struct gh_linefilter *lf;
	struct gh_relay *r;
	size_t pass;    /* bytes at the head allowed, not yet sent */
	bool eof;       /* the user's input has ended */
	bool refused;   /* a command was refused: the rest is dropped */
	bool deciding;  /* a review is polling the session */
};

bool gh_cmdstdin_shell(const char *command)
{
	struct gh_cmdlist *l = NULL;
	bool shell = false;
	if (command && gh_cmd_split(command, strlen(command), &l) == 0)
		shell = gh_input_kind(l, NULL) == GH_INPUT_SHELL;
	gh_cmdlist_free(l);
	return shell;
}

int gh_cmdstdin_new(struct gh_cmdguard *g, const struct gh_cmdguard_ctx *ctx,
		    struct gh_cmdstdin **ret)
{
	struct gh_cmdstdin *in = calloc(1, sizeof *in);
	int r = in ? gh_linefilter_new(&in->lf) : GH_ENOMEM;
	if (r < 0) {
		free(in);
		gh_cmdguard_free(g);
		return r;
	}
	in->c = *ctx;
	in->g = g;
	*ret = in;
	return 0;
}

struct gh_cmdstdin *gh_cmdstdin_free(struct gh_cmdstdin *in)
{
	if (!in)
		return NULL;
	gh_linefilter_free(in->lf);
	gh_cmdguard_free(in->g);
	free(in);
	return NULL;
}

/* ---- deciding ------------------------------------------------------------ */

/* The verdict for TEXT (LEN bytes) of kind T. */
static void verdict(struct gh_cmdstdin *in, const char *text, size_t len,
		    enum gh_linefilter_unit t, struct gh_filter_result *res)
{
	static const char too_long[] = "a command longer than the line filter holds (64 KiB)";
	int r = t == GH_LINEFILTER_TOO_LONG ? gh_cmdguard_unanalysable(in->g, too_long, res)
					    : gh_cmdguard_check(in->g, text, len, res);
	if (r < 0) { /* out of memory: fail closed */
		memset(res, 0, sizeof *res);
		res->action = GH_FILTER_REJECT;
	}
}

/* Decide a command (UNIT, LEN bytes). True: it may go to the target. */
static bool decide(struct gh_cmdstdin *in, const char *unit, size_t len, enum gh_linefilter_unit t)
{
	struct gh_filter_result res;
	char why[300], line[400];
	size_t shown = len > 0 && unit[len - 1] == '\n' ? len - 1 : len;
	size_t blank = 0;
	while (blank < len && strchr(" \t\n", unit[blank]) && unit[blank])
		blank++;
	if (blank == len)
		return true; /* blank lines */
	char *text = malloc(len + 1);
	if (!text)
		return false;
	memcpy(text, unit, len); /* UNIT moves when input arrives during a review */
	text[len] = '\0';
	memset(&res, 0, sizeof res);
	verdict(in, text, len, t, &res);
	text[shown] = '\0';
	in->deciding = true; /* a review polls the session */
	bool allow = gh_cmdguard_settle(&in->c, "stdin", &res, text, false, why, sizeof why,
					NULL) == 0;
	in->deciding = false;
	if (!allow) {
		snprintf(line, sizeof line, "gatehouse: %s; the rest of the input was not run", why);
		in->c.wait.say(in->c.wait.ud, line);
	}
	free(text);
	return allow;
}

/* Refused: nothing more goes to the target but EOF. */
static void refuse(struct gh_cmdstdin *in)
{
	in->refused = true;
	in->pass = 0;
	gh_linefilter_consume(in->lf, gh_linefilter_held(in->lf));
	gh_relay_end_input(in->r, GH_CMDGUARD_EXIT_REJECTED, "command refused");
}

/* Send allowed bytes; false when the relay's buffer is full. */
static bool send_allowed(struct gh_cmdstdin *in)
{
	size_t n = gh_relay_send_target(in->r, gh_linefilter_data(in->lf), in->pass);
	gh_linefilter_consume(in->lf, n);
	in->pass -= n;
	return in->pass == 0;
}

void gh_cmdstdin_tick(struct gh_cmdstdin *in)
{
	if (!in->r || in->deciding)
		return;
	while (!in->refused) {
		if (in->pass > 0) {
			if (!send_allowed(in))
				break;
			continue;
		}
		const char *unit = NULL;
		size_t len = 0;
		enum gh_linefilter_unit t = gh_linefilter_next(in->lf, &unit, &len);
		if (t == GH_LINEFILTER_NONE)
			break;
		if (!decide(in, unit, len, t)) {
			refuse(in);
			break;
		}
		in->pass = len;
	}
}

bool gh_cmdstdin_busy(const struct gh_cmdstdin *in)
{
	return !in->refused && (in->pass > 0 || (in->eof && gh_linefilter_held(in->lf) > 0));
}

/* ---- the relay's input hook -------------------------------------------------- */

static size_t hook_take(void *ud, const void *data, size_t len)
{
	struct gh_cmdstdin *in = ud;
	return in->refused ? len : gh_linefilter_put(in->lf, data, len);
}

static size_t hook_room(void *ud)
{
	struct gh_cmdstdin *in = ud;
	return in->refused ? DISCARD_ROOM : gh_linefilter_room(in->lf);
}

static bool hook_eof(void *ud)
{
	struct gh_cmdstdin *in = ud;
	if (!in->eof) {
		in->eof = true;
		gh_linefilter_eof(in->lf);
	}
	return in->refused || (in->pass == 0 && gh_linefilter_held(in->lf) == 0);
}

void gh_cmdstdin_hook(struct gh_cmdstdin *in, struct gh_relay_opts *o)
{
	o->input.take = hook_take;
	o->input.room = hook_room;
	o->input.eof = hook_eof;
	o->input.ud = in;
}

void gh_cmdstdin_attach(struct gh_cmdstdin *in, struct gh_relay *r)
{
	in->r = r;
}
