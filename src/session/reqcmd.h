/* `request`: the exec command a user sends to Gatehouse itself on a plain
 * login to ask for access (session/access.h):
 *   request ASSET --account ACCOUNT [--minutes N] [--ticket ID] [--reason TEXT]
 * Words are split at blanks; '...' keeps its text as is, "..." too except
 * that \" and \\ stand for " and \. Nothing is expanded: no shell runs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

#define GH_REQCMD_LINE_MAX 2048 /* bytes of the whole command */
#define GH_REQCMD_WORDS_MAX 16
#define GH_REQCMD_USAGE                                                                      \
	"usage: request ASSET --account ACCOUNT [--minutes N] [--ticket ID] [--reason TEXT]"

/* What a request line asks; the strings point into the parsed copy. */
struct gh_reqcmd {
	const char *asset;
	const char *account;
	const char *ticket; /* "" when not given */
	const char *reason; /* "" when not given */
	int minutes;        /* 60 when not given */
	char buf[GH_REQCMD_LINE_MAX + 1];
};

/* Is LINE the `request` command (its first word)? */
bool gh_reqcmd_is(const char *line);

/* Parse LINE into RET (RET owns its strings). GH_EINVAL with WHY saying
 * what is wrong (quotes unbalanced, unknown option, missing value, too
 * long, too many words, minutes not a number). Ranges and text rules are
 * checked by gh_access_request. */
int gh_reqcmd_parse(const char *line, struct gh_reqcmd *ret, char *why, size_t whylen);

/* Serve LINE for user USER_ID named USER, from SOURCE ("ip:port"),
 * audited as the change "access request" of actor "ssh:USER": the
 * request is stored and OUT says its id and what happens next, or why
 * not. Returns the command's exit status: 0 stored, 2 bad arguments, 1
 * other failures. */
int gh_reqcmd_run(struct gh_store *st, int64_t user_id, const char *user, const char *source,
		  const char *line, char *out, size_t outlen);
