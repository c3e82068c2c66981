/* Classifier of exec requests that run the stock file-transfer tools
 * through a login: legacy scp (`scp -t`/`scp -f`), rsync over ssh
 * (`rsync --server [--sender] ... . PATH`) and git
 * (`git-upload-pack 'repo'`, `git-receive-pack 'repo'`, or the
 * `git upload-pack`/`git receive-pack` spellings).
 *
 * Pure logic, no libssh. The command is split into words as a POSIX shell
 * would for plain and single-quoted words only: anything else the shell
 * would interpret (`;`, `|`, `&`, `$`, backquotes, redirections, globs,
 * double quotes, backslashes, `~`, `#`, control characters, an unterminated
 * quote) makes the whole command kind OTHER, as does an unknown option, a
 * missing operand or a command past the bounds below. */
#pragma once
#include <stdint.h>

#define GH_EXEC_CMD_MAX 16384  /* longer commands are kind OTHER */
#define GH_EXEC_WORDS_MAX 128  /* more words: kind OTHER */
#define GH_EXEC_PATH_MAX 4096  /* longer operands: kind OTHER */

enum gh_exec_kind {
	GH_EXEC_OTHER = 0,
	GH_EXEC_SCP,
	GH_EXEC_RSYNC,
	GH_EXEC_GIT,
};

struct gh_exec_class {
	enum gh_exec_kind kind;
	uint32_t action; /* GH_ACT_UPLOAD | GH_ACT_DOWNLOAD; 0 for OTHER */
	/* The operand(s) as the remote shell passes them, quotes removed;
	 * several (scp -f a b, rsync --sender . a b) are joined by one space.
	 * "" for OTHER. */
	char path[GH_EXEC_PATH_MAX + 1];
};

/* Classify COMMAND (NUL-terminated). Returns 0 with *ret filled (kind
 * OTHER when it is not one of the tools above), GH_EINVAL when an argument
 * is NULL. */
int gh_exec_classify(const char *command, struct gh_exec_class *ret);

/* "scp-upload", "scp-download", "rsync-upload", "rsync-download",
 * "git-push", "git-fetch"; NULL for OTHER or no action. */
const char *gh_exec_method(const struct gh_exec_class *c);
