/* The web terminal's WebSocket in the web process (term_ws.c): like
 * server.c, it knows libwebsockets. See term.h for the processes. */
#pragma once
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

struct gh_web_ctx;
struct gh_web_req;
struct gh_term_ws;

#define GH_TERM_RAW_PROTOCOL "gh-term-fd"

/* The upgrade of RQ (path, query, cookie, authorization and peer filled):
 * authenticated (a cookie only from a page of ORIGIN == https://HOST),
 * asset and account given: a terminal is asked of the spawner and *SLOT
 * holds it. -1: refused (audited as a "login" event, method web-terminal). */
int gh_term_ws_open(struct gh_web_ctx *ctx, struct gh_web_req *rq, const char *origin,
		    const char *host, struct gh_term_ws **slot);

/* The WebSocket's callbacks (ESTABLISHED, RECEIVE, SERVER_WRITEABLE,
 * CLOSED: *SLOT is freed) for the terminal in *SLOT. */
int gh_term_ws(struct lws *wsi, int reason, struct gh_term_ws **slot, void *in, size_t len);

/* The protocol of the terminal's socket adopted into the loop. */
int gh_term_raw_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);
