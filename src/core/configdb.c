/* The shared store's settings (see configdb.h). */
#include "core/configdb.h"
#include "core/config.h"
#include "core/error.h"
#include "core/safefile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

/* True when the query string Q (after '?') has a password parameter. */
static bool query_has_password(const char *q)
{
	while (q && *q) {
		size_t n = strcspn(q, "&");
		if (n >= 9 && !strncasecmp(q, "password=", 9))
			return true;
		q += n + (q[n] == '&');
	}
	return false;
}

int gh_config_db_url_check(const char *url, char *msg, size_t msglen)
{
	const char *rest = NULL;
	if (!*url)
		return 0;
	if (!strncmp(url, "postgresql://", 13))
		rest = url + 13;
	else if (!strncmp(url, "postgres://", 11))
		rest = url + 11;
	if (!rest) {
		snprintf(msg, msglen, "database_url must start with postgresql://");
		return GH_EINVAL;
	}
	size_t auth = strcspn(rest, "/?");
	const char *at = memchr(rest, '@', auth);
	if ((at && memchr(rest, ':', (size_t)(at - rest))) || query_has_password(strchr(rest, '?'))) {
		/* the value is not echoed: it holds a secret */
		snprintf(msg, msglen, "database_url holds a password: put it in database_password_file "
				      "(root's, mode 0600) and remove it from the URL");
		return GH_EINVAL;
	}
	return 0;
}

static int read_password(struct gh_config *cfg, char *err)
{
	char why[GH_SAFE_WHYLEN] = "";
	char *buf = NULL;
	size_t len = 0;
	int r = gh_trusted_read(cfg->database_password_file, PASSWORD_MAX, true, &buf, &len, why,
				sizeof why);
	if (r < 0) {
		snprintf(err, GH_CONFIG_ERRLEN,
			 "database_password_file %s: %s%s", cfg->database_password_file,
			 r == GH_EPERM ? "refused: it " : "cannot read: ",
			 r == GH_ELIMIT ? "too large" : why[0] ? why : gh_strerror(r));
		return r;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (!len || memchr(buf, '\n', len) || memchr(buf, '\0', len)) {
		explicit_bzero(buf, len);
		free(buf);
		snprintf(err, GH_CONFIG_ERRLEN, "database_password_file %s: expected one line",
			 cfg->database_password_file);
		return GH_EINVAL;
	}
	cfg->database_password = buf;
	return 0;
}

static int default_node_name(struct gh_config *cfg)
{
	char host[256] = "";
	if (cfg->node_name && *cfg->node_name)
		return 0;
	if (gethostname(host, sizeof host - 1) < 0 || !host[0])
		snprintf(host, sizeof host, "node");
	char *s = strdup(host);
	if (!s)
		return GH_ENOMEM;
	free(cfg->node_name);
	cfg->node_name = s;
	return 0;
}

int gh_config_db_load(struct gh_config *cfg, char *err)
{
	int r = default_node_name(cfg);
	if (r < 0 || strcmp(cfg->database, "postgresql") != 0)
		return r;
	if (!cfg->database_url || !*cfg->database_url) {
		snprintf(err, GH_CONFIG_ERRLEN, "database = postgresql needs database_url");
		return GH_EINVAL;
	}
	if (cfg->database_password_file && *cfg->database_password_file &&
	    !cfg->database_password)
		r = read_password(cfg, err);
	return r;
}

void gh_config_db_free(struct gh_config *cfg)
{
	if (cfg->database_password) {
		explicit_bzero(cfg->database_password, strlen(cfg->database_password));
		free(cfg->database_password);
		cfg->database_password = NULL;
	}
}
