/* gatehouse status: what a running installation is doing, at a glance.
 *
 * The report is built as one JSON object of sections (a table below: a new
 * part -- cluster nodes, jumpoints -- is one more row) and printed either
 * as JSON or as text derived from it. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/metrics.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse status [--json]\n"
	"      whether serve runs on this data directory, its listeners (and whether\n"
	"      they accept connections), open sessions by protocol, the store, the\n"
	"      audit export's lag per sink. Exit status 0 when serve runs, 1 when not.\n";

/* Whether something accepts TCP connections on LISTEN ("host:port";
 * 0.0.0.0 and :: are asked on loopback), within 1 s. */
static bool accepting(const char *listen)
{
	char *host = NULL, port_s[16];
	int port = 0, fd = -1;
	bool ok = false;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	if (!listen || !*listen || gh_parse_hostport(listen, &host, &port) < 0)
		goto out;
	const char *h = !*host || !strcmp(host, "0.0.0.0") ? "127.0.0.1"
			: !strcmp(host, "::") ? "::1" : host;
	snprintf(port_s, sizeof port_s, "%d", port);
	if (getaddrinfo(h, port_s, &hints, &res) != 0)
		goto out;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto out;
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto out;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof err;
	ok = poll(&p, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
	     err == 0;
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	free(host);
	return ok;
}

static json_t *listener(const char *proto, const char *addr)
{
	json_t *j = json_object();
	json_object_set_new(j, "protocol", json_string(proto));
	json_object_set_new(j, "address", json_string(addr));
	json_object_set_new(j, "accepting", json_boolean(accepting(addr)));
	return j;
}

static int sec_listeners(struct gh_app *app, json_t *out)
{
	json_t *a = json_array();
	json_array_append_new(a, listener("ssh", app->cfg.ssh_listen));
	if (app->cfg.web_listen && *app->cfg.web_listen)
		json_array_append_new(a, listener("https", app->cfg.web_listen));
	json_object_set_new(out, "listeners", a);
	return 0;
}

/* The store's counters (store/metrics.h) sorted into sections. */
struct metric_ud {
	json_t *sessions, *export_lag;
	int64_t events;
};

static void on_metric(void *ud, const char *metric, const char *label, const char *value,
		      int64_t n)
{
	struct metric_ud *m = ud;
	(void)label;
	if (!strcmp(metric, "gatehouse_sessions_active") && value)
		json_object_set_new(m->sessions, value, json_integer(n));
	else if (!strcmp(metric, "gatehouse_export_lag_events") && value)
		json_object_set_new(m->export_lag, value, json_integer(n));
	else if (!strcmp(metric, "gatehouse_events_total"))
		m->events += n;
}

static int sec_store(struct gh_app *app, json_t *out)
{
	struct metric_ud m = { json_object(), json_object(), 0 };
	int r = gh_store_metrics(app->store, on_metric, &m);
	int64_t total = 0;
	const char *k;
	json_t *v;
	json_object_foreach(m.sessions, k, v)
		total += json_integer_value(v);
	json_t *s = json_object();
	json_object_set_new(s, "open", json_integer(total));
	json_object_set_new(s, "by_protocol", m.sessions);
	json_object_set_new(out, "sessions", s);
	json_t *st = json_object();
	struct stat sb;
	json_object_set_new(st, "backend", json_string(app->cfg.database));
	json_object_set_new(st, "path", json_string(app->cfg.database_path));
	json_object_set_new(st, "bytes", json_integer(stat(app->cfg.database_path, &sb) == 0
							  ? (json_int_t)sb.st_size : 0));
	json_object_set_new(st, "schema_version",
			    json_integer(gh_store_schema_version(app->store)));
	json_object_set_new(st, "events", json_integer(m.events));
	json_object_set_new(out, "store", st);
	json_object_set_new(out, "export_lag", m.export_lag);
	return r;
}

static const struct {
	const char *name;
	int (*fill)(struct gh_app *app, json_t *out);
} sections[] = {
	{ "listeners", sec_listeners },
	{ "store", sec_store }, /* also: sessions, export_lag */
};

static void print_text(json_t *j)
{
	printf("serve: %s\n", json_is_true(json_object_get(j, "running")) ? "running" : "not running");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(j, "listeners"), i, v)
		printf("listener: %s %s %s\n", json_string_value(json_object_get(v, "protocol")),
		       json_string_value(json_object_get(v, "address")),
		       json_is_true(json_object_get(v, "accepting")) ? "accepting" : "not accepting");
	json_t *s = json_object_get(j, "sessions");
	printf("sessions: %lld open", (long long)json_integer_value(json_object_get(s, "open")));
	const char *k;
	json_object_foreach(json_object_get(s, "by_protocol"), k, v)
		printf(", %s %lld", k, (long long)json_integer_value(v));
	printf("\n");
	json_t *st = json_object_get(j, "store");
	printf("store: %s %s (%lld bytes, schema %lld, %lld events)\n",
	       json_string_value(json_object_get(st, "backend")),
	       json_string_value(json_object_get(st, "path")),
	       (long long)json_integer_value(json_object_get(st, "bytes")),
	       (long long)json_integer_value(json_object_get(st, "schema_version")),
	       (long long)json_integer_value(json_object_get(st, "events")));
	json_object_foreach(json_object_get(j, "export_lag"), k, v)
		printf("export: %s %lld event%s behind\n", k, (long long)json_integer_value(v),
		       json_integer_value(v) == 1 ? "" : "s");
}

int gh_cmd_status(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	bool json = false;
	int r;
	cli->usage = usage;
	snprintf(cli->cmd, sizeof cli->cmd, "status");
	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "", GH_APP_NO_VAULT, &app, &r))
		return r;
	json_t *j = json_object();
	bool running = gh_app_serve_running(app->data_dir);
	json_object_set_new(j, "running", json_boolean(running));
	json_object_set_new(j, "data_dir", json_string(app->data_dir));
	r = 0;
	for (size_t i = 0; i < sizeof sections / sizeof sections[0] && r == 0; i++)
		r = sections[i].fill(app, j);
	if (r < 0) {
		json_decref(j);
		r = gh_cli_fail(app, r, "status: cannot read the store");
	} else {
		if (json)
			gh_cli_json_print(j);
		else {
			print_text(j);
			json_decref(j);
		}
		r = running ? GH_EXIT_OK : GH_EXIT_FAIL;
	}
	gh_app_close(app);
	return r;
}
