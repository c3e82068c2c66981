/* Audit export: every event, as one JSON object, to a syslog receiver
 * (RFC 5424 over UDP, TCP or a unix socket) and/or a JSON-lines file.
 *
 * The store is the queue: the export process (gh_export_run, started by
 * the master of `gatehouse serve`) tails the events table by id, delivers,
 * and only then moves its cursor (table audit_cursors, one row per sink).
 * A sink that is down is retried with backoff; sessions never wait for it,
 * and what was written meanwhile is delivered when it returns (at least
 * once: a crash between delivery and the cursor update repeats events;
 * receivers can drop repeats by "id"/"hash"). See docs/AUDIT.md. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_app;
struct gh_event;

/* The operator's name of an event kind: login -> login_log, session ->
 * session_log, command -> command_log, file -> ftp_log, change ->
 * operate_log; other kinds keep their name. */
const char *gh_export_event_name(const char *kind);

/* {"event": NAME, "id", "ts" (RFC 3339 UTC), "kind", "user", "source",
 * "session", "asset", "account", "method", "result", "reason", "detail",
 * "hash"}; absent fields are null. NULL when out of memory. */
json_t *gh_export_event_json(const struct gh_event *e);

/* A parsed syslog_target. */
enum gh_syslog_proto { GH_SYSLOG_UDP, GH_SYSLOG_TCP, GH_SYSLOG_UNIX };
struct gh_syslog_target {
	int proto;
	char host[256];   /* UDP/TCP */
	int port;
	char path[108];   /* UNIX */
};
/* "udp:HOST:PORT", "tcp:HOST:PORT" ([v6] in brackets), "unix:PATH".
 * GH_EINVAL when malformed. */
int gh_syslog_target_parse(const char *s, struct gh_syslog_target *ret);
/* Facility number of NAME ("authpriv" 10, "local0" 16, ...), -1 if unknown. */
int gh_syslog_facility(const char *name);

/* Format one RFC 5424 message for E into BUF (without TCP framing):
 * <PRI>1 TS HOST gatehouse PID EVENTNAME - JSON. Returns its length, or a
 * negative GH_E* (GH_ELIMIT when it does not fit). */
long gh_syslog_format(const struct gh_event *e, int facility, const char *hostname, int pid,
		      char *buf, size_t len);

/* True when the configuration asks for the export/retention process. */
bool gh_export_wanted(const struct gh_app *app);

/* The export/retention process: opens its own store, runs until SIGTERM.
 * Returns an exit status. */
int gh_export_run(struct gh_app *app);

/* Deliver what is pending once (tests, tools): returns the number of
 * events delivered, or a negative GH_E* when a sink failed. */
int gh_export_once(struct gh_app *app);
