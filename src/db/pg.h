/* The PostgreSQL door's parts (pg.c: handshake, pgrelay.c: relay). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/door.h"
#include "db/pgwire.h"

struct gh_db_io;

struct pg {
	struct gh_db *db;
	struct gh_db_io *cli, *srv;
	struct gh_pg_startup su;
	char txstatus;           /* the server's last ReadyForQuery status */
	size_t max_stmt;         /* db_max_statement */
	/* client -> server framing */
	uint8_t chdr[5];
	size_t chdr_got;
	uint32_t cleft;          /* body bytes still to come */
	enum { C_FORWARD, C_DISCARD, C_KEEP } cmode;
	struct gh_buf cmsg;      /* a kept message's body (Query, Parse, FunctionCall) */
	bool skip_to_sync;       /* a rejected Parse: drop until Sync */
	bool terminate;          /* the client said Terminate */
	/* server -> client scanning */
	uint8_t shdr[5];
	size_t shdr_got;
	uint32_t sleft;
	bool skeep;
	struct gh_buf smsg;
	/* our ErrorResponse for a rejected statement, written right before
	 * the server's next ReadyForQuery */
	struct gh_buf pending;
	struct gh_buf out_srv, out_cli;
};

/* The relay after the login (pgrelay.c). 0 when the client ended it. */
int gh_pg_relay(struct pg *p);
/* A whole message of TYPE with BODY into the client's output (pg.c). */
int gh_pg_send(struct gh_db_io *io, struct gh_buf *b);
