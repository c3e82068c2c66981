/* Command guard: the command filters of one session (user, asset,
 * account) loaded from the store, the decision for a command line, its
 * "command" audit event, and the wait for a review decision.
 * Used by the worker for exec requests (cmdguard_exec) and, through
 * gh_cmdguard_settle, by the filters of a shell's input (cmdstdin.h) and
 * of a terminal (cmdshell.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "filter/filter.h"

struct gh_store;
struct gh_user;
struct gh_asset;
struct gh_cmdguard;

/* Exit status of an exec refused by a command filter (as a shell's "found
 * but cannot execute"). */
#define GH_CMDGUARD_EXIT_REJECTED 126

/* Load the filters applying to U on ASSET as ACCOUNT. *RET is NULL when no
 * filter applies (nothing to check). GH_EINVAL when the stored rules do not
 * compile (message in ERR): callers refuse then (fail closed). */
int gh_cmdguard_open(struct gh_store *st, const struct gh_user *u, const struct gh_asset *a,
		     const char *account, struct gh_cmdguard **ret, char *err, size_t errlen);
/* The same for the groups of KIND only ("shell" for gh_cmdguard_open,
 * "sql" or "redis" for the database gateway): filters judge with their
 * groups of that kind, and a filter with none does not apply. */
int gh_cmdguard_open_kind(struct gh_store *st, const struct gh_user *u, const struct gh_asset *a,
			  const char *account, const char *kind, struct gh_cmdguard **ret,
			  char *err, size_t errlen);
struct gh_cmdguard *gh_cmdguard_free(struct gh_cmdguard *g);
/* The verdict for dynamic commands (config cmdfilter_dynamic: an enum
 * gh_filter_action, GH_FILTER_NONE = auto); G may be NULL. */
void gh_cmdguard_set_dynamic(struct gh_cmdguard *g, int dynamic);
/* The "command" event of a verdict RES (reason "dynamic" and the detail's
 * dynamic="..." when no filter decided and the line was not analysable). */
void gh_cmdguard_audit(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		       const char *account, const char *method, const char *result,
		       const struct gh_filter_result *res, const char *cmd);

/* Decide LINE (LEN bytes): see gh_cmdfilter_check. Names in RES are
 * borrowed from G. */
int gh_cmdguard_check(const struct gh_cmdguard *g, const char *line, size_t len,
		      struct gh_filter_result *res);

/* Decide statements already split (filter/sqlsplit.h): see
 * gh_cmdfilter_judge. */
int gh_cmdguard_judge(const struct gh_cmdguard *g, const struct gh_cmdlist *cmds,
		      struct gh_filter_result *res);
/* The verdict for input that cannot be analysed: the setting
 * cmdfilter_dynamic (gh_cmdfilter_dynamic_verdict), marked unanalysable
 * with WHY (static storage, one line). Names in RES are NULL. */
int gh_cmdguard_unanalysable(const struct gh_cmdguard *g, const char *why,
			     struct gh_filter_result *res);

/* The user-facing text of a verdict, e.g. "rejected by command filter
 * no-danger" or "command rejected: it cannot be analysed (dynamic: history
 * expansion re-runs an earlier command)" into BUF. */
const char *gh_cmdguard_reason(const struct gh_filter_result *res, char *buf, size_t len);

/* Review: file a request and wait for its decision. */
struct gh_cmdguard_wait {
	/* Poll the user's session for up to MS milliseconds; false when the
	 * user has gone (the review is then withdrawn as "expired"). */
	bool (*poll)(void *ud, int ms);
	/* One line to the user (e.g. "waiting for approval: request 7"). */
	void (*say)(void *ud, const char *line);
	void *ud;
};

/* Outcome of a review: "review-approved" | "review-denied" | "review-timeout". */
int gh_cmdguard_review(struct gh_store *st, const struct gh_audit_who *who, const char *asset,
		       const char *account, const char *command, const char *filter,
		       int timeout_s, const struct gh_cmdguard_wait *wt, const char **ret_result);

/* What a verdict is carried out with: the session (its store, user, asset,
 * account; strings borrowed for the caller's life), the review timeout and
 * the callbacks a review waits with. */
struct gh_cmdguard_ctx {
	struct gh_store *st;
	struct gh_audit_who who; /* strings borrowed */
	const char *asset, *account;
	int review_timeout; /* seconds */
	struct gh_cmdguard_wait wait;
};

/* Carry out the verdict RES on the command CMD (the text audited and shown
 * to a reviewer) for METHOD ("exec" | "stdin" | "interactive"), the one
 * copy for exec lines, a shell's input and the terminal filter: hold it
 * for review when RES asks (filed with the deciding filter, or "dynamic"
 * when the command could not be analysed), write its "command" event
 * (gh_cmdguard_audit; none for an allowed command when QUIET), and log a
 * refusal or a flag. *RET_RESULT (a static string; RET_RESULT may be
 * NULL): "accept" | "warn" | "reject" | "review-approved" |
 * "review-denied" | "review-timeout". When refused, WHY (caller's buffer)
 * gets the user's line ("command denied by the reviewer (filter F)", "...
 * no review decision in time", or gh_cmdguard_reason); the caller says
 * it, in its own frame. Returns 0 when the command may run, GH_EPERM when
 * refused. */
int gh_cmdguard_settle(const struct gh_cmdguard_ctx *c, const char *method,
		       const struct gh_filter_result *res, const char *cmd, bool quiet, char *why,
		       size_t whylen, const char **ret_result);

/* The whole check of an exec request COMMAND by U on ASSET as ACCOUNT: load
 * the filters, decide, hold for review when asked (TIMEOUT_S), tell the
 * user one line when refused or flagged (WT->say), and write the "command"
 * event (method "exec"). A program that would read code from the input
 * which the filter cannot read (python3 -, perl: filter/inputkind.h) makes
 * the line not analysable. Returns 0 when the command may run, GH_EPERM
 * when refused (rejected, denied, timed out, unanalysable under a reject
 * filter, or the filters could not be loaded). */
int gh_cmdguard_exec(struct gh_store *st, const struct gh_audit_who *who, const struct gh_user *u,
		     const struct gh_asset *a, const char *account, const char *command,
		     int timeout_s, const struct gh_cmdguard_wait *wt, int dynamic);
