/* The database gateway's statements: judged, audited, recorded with their
 * outcome (see door.h). */
#include "db/dbpriv.h"
#include "app/app.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "filter/cmdguard.h"
#include "filter/sqlsplit.h"
#include "record/record.h"
#include "session/session.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define AUDIT_TEXT_MAX 4096 /* bytes of a statement in its event */

/* Recordings count in wall-clock milliseconds. */
static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rec_line(struct gh_db *db, const char *prefix, const char *text, size_t len)
{
	struct gh_rec *rec = db->sess ? gh_sess_rec(db->sess) : NULL;
	if (!rec)
		return;
	int64_t now = wall_ms();
	gh_rec_output(rec, now, prefix, strlen(prefix));
	/* a statement's own newlines become the terminal's */
	size_t from = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || text[i] == '\n') {
			gh_rec_output(rec, now, text + from, i - from);
			gh_rec_output(rec, now, "\r\n", 2);
			from = i + 1;
		}
	}
	gh_rec_tick(rec, now);
}

void gh_db_running(struct gh_db *db, const char *server_version)
{
	char detail[160];
	snprintf(detail, sizeof detail, "%s%s%s", db->door->name, server_version ? " " : "",
		 server_version ? server_version : "");
	gh_sess_running(db->sess, detail);
	rec_line(db, "-- connected: ", detail, strlen(detail));
}

/* The client has gone while a statement waits for its review. */
static bool review_poll(void *ud, int ms)
{
	struct gh_db *db = ud;
	struct pollfd p = { .fd = db->client.fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return true;
	char c;
	if (p.revents & (POLLHUP | POLLERR))
		return false;
	return recv(db->client.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
}

static void review_say(void *ud, const char *line)
{
	gh_info("%s", line); /* the protocol has no place for it mid-statement */
}

/* The verdict of the filters on TEXT (the most severe over its statements). */
static int judge(struct gh_db *db, const char *text, size_t len, struct gh_filter_result *res)
{
	struct gh_cmdlist *cmds = NULL;
	int r;
	if (!strcmp(db->door->filter_kind, "redis")) {
		const char *argv[1] = { text };
		r = gh_redis_words(argv, &len, 1, &cmds);
	} else {
		r = gh_sql_split(text, len,
				 db->door->id == GH_DB_DOOR_MYSQL ? GH_SQL_MYSQL : GH_SQL_POSTGRESQL,
				 &cmds);
	}
	if (r == GH_ELIMIT)
		return gh_cmdguard_unanalysable(db->guard, "too many statements", res);
	if (r == 0)
		r = gh_cmdguard_judge(db->guard, cmds, res);
	gh_cmdlist_free(cmds);
	return r;
}

static void fill_reject(struct gh_db_judged *ret, const char *rule)
{
	ret->verdict = GH_DB_REJECT;
	snprintf(ret->rule, sizeof ret->rule, "%s", rule ? rule : "");
	snprintf(ret->message, sizeof ret->message, "rejected by Gatehouse: rule %s",
		 rule && rule[0] ? rule : "-");
}

int gh_db_statement(struct gh_db *db, const char *text, size_t len, const char *database,
		    struct gh_db_judged *ret)
{
	struct gh_audit_who who = gh_sess_who(db->sess);
	size_t shown = len > AUDIT_TEXT_MAX ? AUDIT_TEXT_MAX : len;
	char *cmd = strndup(text, shown);
	char why[256];
	const char *result = "accept";
	int r = 0;
	memset(ret, 0, sizeof *ret);
	if (!cmd)
		return GH_ENOMEM;
	db->n_statements++;
	db->stmt_start_ms = gh_mono_ms();
	rec_line(db, database && database[0] ? database : db->database, "", 0);
	rec_line(db, "> ", text, shown);
	if (len > (size_t)db->app->cfg.db_max_statement) {
		gh_audit_command(db->st, &who, db->asset.name, db->account, db->door->name,
				 "reject", "size limit", cmd, NULL);
		fill_reject(ret, "size limit");
		r = GH_ELIMIT;
		goto out;
	}
	if (!db->guard) {
		gh_audit_command(db->st, &who, db->asset.name, db->account, db->door->name,
				 "accept", NULL, cmd, NULL);
		goto out;
	}
	struct gh_filter_result res;
	if (judge(db, text, len, &res) < 0)
		gh_cmdguard_unanalysable(db->guard, "statement cannot be judged", &res);
	struct gh_cmdguard_ctx c = { .st = db->st,
				     .who = who,
				     .asset = db->asset.name,
				     .account = db->account,
				     .review_timeout = db->app->cfg.review_timeout,
				     .wait = { .poll = review_poll, .say = review_say, .ud = db } };
	if (gh_cmdguard_settle(&c, db->door->name, &res, cmd, false, why, sizeof why, &result) < 0) {
		fill_reject(ret, res.filter_name ? res.filter_name : "dynamic");
		goto out;
	}
	ret->verdict = !strcmp(result, "warn")		    ? GH_DB_WARN
		       : !strcmp(result, "review-approved") ? GH_DB_REVIEW_OK
							    : GH_DB_ACCEPT;
	snprintf(ret->rule, sizeof ret->rule, "%s", res.filter_name ? res.filter_name : "");
out:
	if (ret->verdict == GH_DB_REJECT) {
		rec_line(db, "-- ", ret->message, strlen(ret->message));
		db->stmt_start_ms = 0;
	}
	free(cmd);
	return r;
}

void gh_db_outcome(struct gh_db *db, const struct gh_db_outcome *o)
{
	char line[512];
	int64_t ms = db->stmt_start_ms ? gh_mono_ms() - db->stmt_start_ms : 0;
	char esc[300];
	if (o->error)
		snprintf(line, sizeof line, "ERROR %s (%lld ms)", gh_escape(esc, sizeof esc, o->error),
			 (long long)ms);
	else if (o->rows >= 0)
		snprintf(line, sizeof line, "%s%s%lld rows (%lld ms)",
			 o->tag ? gh_escape(esc, sizeof esc, o->tag) : "", o->tag ? ", " : "",
			 (long long)o->rows, (long long)ms);
	else
		snprintf(line, sizeof line, "%s (%lld ms)",
			 o->tag ? gh_escape(esc, sizeof esc, o->tag) : "done", (long long)ms);
	rec_line(db, "-- ", line, strlen(line));
	db->stmt_start_ms = 0;
}

size_t gh_db_max_statement(const struct gh_db *db)
{
	return (size_t)db->app->cfg.db_max_statement;
}

int gh_db_idle_ms(const struct gh_db *db)
{
	return db->client.idle_ms;
}

/* Is NAME in the comma-separated LIST? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !memcmp(p, name, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

int gh_db_database(struct gh_db *db, const char *name, char *err, size_t errlen)
{
	if (!name)
		name = "";
	if (db->databases && name[0] && !in_list(db->databases, name)) {
		char why[200];
		snprintf(why, sizeof why, "database %s not permitted", name);
		gh_sess_refuse(db->sess, db->asset.name, db->account, why);
		snprintf(err, errlen, "database \"%s\" is not permitted", name);
		return GH_EPERM;
	}
	snprintf(db->database, sizeof db->database, "%s", name);
	return 0;
}
