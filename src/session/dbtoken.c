/* One-time database tokens (dbtoken.h). */
#include "session/dbtoken.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/util.h"
#include "store/dbtoken.h"
#include "store/model.h"
#include "store/store.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define DB_PROTOS (GH_PROTO_MYSQL | GH_PROTO_POSTGRESQL | GH_PROTO_REDIS)
#define USAGE "usage: db-token ASSET [--account ACCOUNT]"

bool gh_dbtoken_cmd_is(const char *line)
{
	return line && !strncmp(line, "db-token", 8) && (line[8] == '\0' || line[8] == ' ');
}

bool gh_dbtoken_looks(const char *password)
{
	return password && strlen(password) == GH_DBTOKEN_LEN &&
	       !strncmp(password, GH_DBTOKEN_PREFIX, strlen(GH_DBTOKEN_PREFIX));
}

static int token_hash(const char *token, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return GH_ECRYPTO;
	sodium_bin2hex(hex, 65, md, 32);
	return 0;
}

int gh_dbtoken_take(struct gh_store *st, const char *token, int64_t user_id, const char *asset,
		    const char *account)
{
	char h[65];
	int r = token_hash(token, h);
	return r < 0 ? r : gh_store_dbtoken_take(st, h, user_id, asset, account, gh_now());
}

/* "db-token ASSET [--account ACCOUNT]" into its words (BUF is cut). */
static int parse(char *buf, const char **asset, const char **account)
{
	const char *w[5];
	int n = 0;
	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == 4)
			return GH_EINVAL;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	*account = "";
	if (n == 2 || (n == 4 && !strcmp(w[2], "--account"))) {
		*asset = w[1];
		if (n == 4)
			*account = w[3];
		return gh_valid_name(*asset) && (!**account || gh_valid_name(*account)) ? 0
											 : GH_EINVAL;
	}
	return GH_EINVAL;
}

int gh_dbtoken_run(struct gh_store *st, int ttl, int64_t user_id, const char *user,
		   const char *source, const char *line, char *out, size_t outlen)
{
	char buf[512], tok[GH_DBTOKEN_LEN + 1], h[65];
	unsigned char raw[24];
	const char *asset = NULL, *account = NULL;
	struct gh_asset a = { 0 };
	struct gh_audit_who who = { .user = user, .source = source };
	if (strlen(line) >= sizeof buf) {
		snprintf(out, outlen, "%s", USAGE);
		return 2;
	}
	snprintf(buf, sizeof buf, "%s", line);
	if (parse(buf, &asset, &account) < 0) {
		snprintf(out, outlen, "%s", USAGE);
		return 2;
	}
	int r = gh_store_asset_get(st, asset, &a);
	bool db = r == 0 && (a.protocols & DB_PROTOS);
	gh_asset_free(&a);
	if (!db) {
		snprintf(out, outlen, "db-token: no database asset %s", asset);
		return 1;
	}
	randombytes_buf(raw, sizeof raw);
	memcpy(tok, GH_DBTOKEN_PREFIX, 5);
	sodium_bin2hex(tok + 5, sizeof tok - 5, raw, sizeof raw);
	r = token_hash(tok, h);
	if (r == 0)
		r = gh_store_dbtoken_add(st, h, user_id, asset, account, gh_now(), gh_now() + ttl);
	gh_audit_event(st, &who, "token", asset, account[0] ? account : NULL, "db-token",
		       r == 0 ? "issued" : "error", NULL, NULL);
	if (r < 0) {
		snprintf(out, outlen, "db-token: cannot store the token");
		return 1;
	}
	snprintf(out, outlen, "%s\r\n(one database login to %s%s%s within %d s: use it as the "
			      "password)",
		 tok, asset, account[0] ? " as " : "", account, ttl);
	sodium_memzero(tok, sizeof tok);
	return 0;
}
