/* The database gateway core's own state (not for doors: they see door.h). */
#pragma once
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/door.h"
#include "store/model.h"

struct gh_app;
struct gh_store;
struct gh_sess;
struct gh_cmdguard;

struct gh_db_io {
	int fd;                  /* -1: none */
	SSL *ssl;                /* NULL: plain */
	SSL_CTX *ctx;            /* client side: ours; server side: borrowed */
	int idle_ms;             /* default wait for gh_db_io_read (-1 argument) */
};

struct gh_db {
	struct gh_app *app;
	struct gh_store *st;
	const struct gh_db_door *door;
	struct gh_db_io client, target;
	SSL_CTX *tls_server;     /* the web certificate, loaded before the drop */
	char peer_ip[64];
	int peer_port;
	char source[96];         /* "ip:port" */
	int status_fd;
	struct gh_user user;
	bool have_user;
	struct gh_asset asset;
	bool have_asset;
	char account[128];
	char database[128];      /* the current database, "" when none */
	char *databases;         /* the permission's list ("a,b"), NULL: any */
	struct gh_sess *sess;
	struct gh_cmdguard *guard;
	int64_t stmt_start_ms;   /* the last statement's time, 0: none pending */
	int64_t n_statements;
	char end_reason[160];
	char target_ca[4096];    /* asset TLS: CA file or "" */
};

/* io.c: set up IO on FD (non-blocking from here on). */
void gh_db_io_init(struct gh_db_io *io, int fd, int idle_ms);
void gh_db_io_close(struct gh_db_io *io);
/* The server context with CERT and KEY (PEM files, read now). */
int gh_db_tls_server_ctx(const char *cert, const char *key, SSL_CTX **ret);
