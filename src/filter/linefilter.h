/* Line filter: the input of a shell that reads commands without a
 * terminal (`ssh -T host`, `ssh host bash`, `sh -s`), cut into the
 * commands the shell will read, so that each can be decided with
 * gh_cmdfilter_check before the shell sees a byte of it.
 *
 * A shell reading a script executes it one complete command at a time: a
 * line, or several when the command goes on (a backslash before the
 * newline, an open quote, a line ending in | || && |&, an unfinished
 * compound command: if/while/until/for/select/case, { }, ( ), $( ), [[ ]],
 * (( )), ${ }, a function header waiting for its body, a here-document
 * whose body and delimiter line have not arrived). The cutter follows
 * exactly that and nothing more: it decides where a command ends, never
 * what it runs (that is the splitter's job, filter.h). Where it cannot
 * follow the input (a token bash would refuse, nesting or here-documents
 * past the limits below) it finds no further end: the rest is decided as
 * one text when the input ends or the buffer is full, which the splitter
 * then refuses or judges as a whole (fail closed).
 *
 * The buffer is bounded (GH_LINEFILTER_MAX bytes): a command longer than
 * that is handed out as GH_LINEFILTER_TOO_LONG (not analysable).
 * Pure logic: no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "filter/filter.h"

#define GH_LINEFILTER_MAX GH_CMD_MAX_INPUT /* bytes held at most (one command) */
#define GH_LINEFILTER_MAX_NEST 64u          /* open constructs */
#define GH_LINEFILTER_MAX_HEREDOCS 16u      /* pending here-documents */
#define GH_LINEFILTER_MAX_DELIM 256u        /* bytes of a here-document delimiter */

/* What gh_linefilter_next found. */
enum gh_linefilter_unit {
	GH_LINEFILTER_NONE = 0,     /* no complete command yet: more input needed */
	GH_LINEFILTER_COMMAND = 1,  /* a complete command, ending with its newline */
	GH_LINEFILTER_AT_EOF = 2,   /* the rest of the input, which has ended */
	GH_LINEFILTER_TOO_LONG = 3, /* GH_LINEFILTER_MAX bytes without an end */
};

struct gh_linefilter;

/* Caller frees with gh_linefilter_free (accepts NULL, returns NULL). */
int gh_linefilter_new(struct gh_linefilter **ret);
struct gh_linefilter *gh_linefilter_free(struct gh_linefilter *f);

/* Bytes gh_linefilter_put takes now. */
size_t gh_linefilter_room(const struct gh_linefilter *f);
/* Append up to room() bytes of input; returns how many were taken. */
size_t gh_linefilter_put(struct gh_linefilter *f, const void *data, size_t len);
/* The input has ended (later puts take nothing). */
void gh_linefilter_eof(struct gh_linefilter *f);

/* The next command at the head of the input: *RET (borrowed, valid until
 * the next call that changes F) and *RET_LEN, or GH_LINEFILTER_NONE. The
 * same unit is returned until gh_linefilter_consume drops it. */
enum gh_linefilter_unit gh_linefilter_next(struct gh_linefilter *f, const char **ret,
					   size_t *ret_len);
/* Drop N bytes from the head (at most the current unit: the bytes passed
 * on, or the whole unit when refused). */
void gh_linefilter_consume(struct gh_linefilter *f, size_t n);
/* Bytes held (undecided or not yet consumed), and where they start
 * (borrowed, valid until the next call that changes F). */
size_t gh_linefilter_held(const struct gh_linefilter *f);
const char *gh_linefilter_data(const struct gh_linefilter *f);
