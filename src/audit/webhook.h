/* notify_webhook: a JSON POST over HTTPS for each access request and
 * decision (session/access.h). The export process delivers them from the
 * events table like its other sinks (audit/export.h): retried with
 * backoff, failures logged, nothing else waits for the receiver. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_event;

/* A parsed https://HOST[:PORT][/PATH] ([v6] in brackets). */
struct gh_webhook_url {
	char host[256];
	char port[8];
	char path[1024];
};

/* GH_EINVAL when URL is not such an https URL. */
int gh_webhook_url_parse(const char *url, struct gh_webhook_url *ret);

/* Does the webhook receive event E (a change event of an access request
 * or decision)? */
bool gh_webhook_wants(const struct gh_event *e);

/* POST BODY (JSON) to U, the server's certificate verified for U's host
 * against CA_FILE (empty or NULL: the system's trust store); connect,
 * write and read each bounded by TIMEOUT_MS. 0 on a 2xx answer; GH_ECONN
 * (no connection), GH_ECRYPTO (TLS or certificate refused), GH_EIO (no
 * or another answer); WHY says which. */
int gh_webhook_post(const struct gh_webhook_url *u, const char *ca_file, const char *body,
		    int timeout_ms, char *why, size_t whylen);
