#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/util.h"
#include "store/store.h"
#include "vault/vault.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_KEYCHECK "vault_keycheck"
#define INITIAL_PASSWORD_FILE "initial-admin-password"

int gh_app_open(const char *data_dir, const char *config, int flags, struct gh_app **ret, char *err)
{
	struct gh_app *app = NULL;
	char cerr[GH_CONFIG_ERRLEN];
	char verr[256];
	char *check = NULL;
	int r;

	err[0] = '\0';
	if (!data_dir || !*data_dir)
		data_dir = getenv("GATEHOUSE_DATA");
	if (!data_dir || !*data_dir)
		data_dir = "./data";
	app = calloc(1, sizeof *app);
	if (!app || !(app->data_dir = strdup(data_dir)) ||
	    (config && !(app->config_path = strdup(config)))) {
		if (app)
			free(app->data_dir);
		free(app);
		return GH_ENOMEM;
	}
	gh_config_init(&app->cfg);

	struct stat stbuf;
	if (stat(data_dir, &stbuf) < 0) {
		if (!(flags & GH_APP_CREATE)) {
			snprintf(err, GH_APP_ERRLEN,
				 "data directory %s does not exist (start 'gatehouse serve' once, or pass --data DIR)",
				 data_dir);
			r = GH_ENOENT;
			goto out;
		}
		if (gh_mkdir_p(data_dir, 0700) < 0) {
			snprintf(err, GH_APP_ERRLEN, "cannot create data directory %s: %s", data_dir,
				 strerror(errno));
			r = GH_EIO;
			goto out;
		}
	} else if (!S_ISDIR(stbuf.st_mode)) {
		snprintf(err, GH_APP_ERRLEN, "%s is not a directory", data_dir);
		r = GH_EINVAL;
		goto out;
	}

	gh_config_free(&app->cfg);
	r = gh_config_load(&app->cfg, data_dir, config, cerr);
	if (r < 0) {
		snprintf(err, GH_APP_ERRLEN, "%s", cerr);
		goto out;
	}
	int lvl = gh_log_level_parse(app->cfg.log_level);
	if (lvl >= 0)
		gh_log_set_level(lvl);
	r = gh_app_layout(&app->cfg, err);
	if (r < 0)
		goto out;

	r = gh_store_open(&app->cfg, &app->store);
	if (r < 0) {
		snprintf(err, GH_APP_ERRLEN, "cannot open the database %s: %s", app->cfg.database_path,
			 gh_strerror(r));
		goto out;
	}

	if (flags & GH_APP_NO_VAULT)
		goto out;
	/* The key check tells a wrong master key apart from a damaged secret.
	 * A key is only ever created for a store that has no key check yet: a
	 * lost master.key must be reported, not silently replaced. */
	r = gh_store_meta_get(app->store, META_KEYCHECK, &check);
	if (r < 0 && r != GH_ENOENT) {
		snprintf(err, GH_APP_ERRLEN, "cannot read the database: %s", gh_strerror(r));
		goto out;
	}
	bool may_create = (flags & GH_APP_CREATE) && r == GH_ENOENT;
	r = gh_vault_open(data_dir, may_create, &app->vault, verr);
	if (r < 0) {
		snprintf(err, GH_APP_ERRLEN, "%s%s", verr,
			 check ? " (the database holds secrets sealed with a master key: restore "
				 "master.key or set GATEHOUSE_MASTER_KEY)"
			       : "");
		goto out;
	}
	if (!check) {
		r = gh_vault_keycheck_make(app->vault, &check);
		if (r == 0)
			r = gh_store_meta_set(app->store, META_KEYCHECK, check);
		if (r < 0)
			snprintf(err, GH_APP_ERRLEN, "cannot record the master key check: %s", gh_strerror(r));
	} else {
		r = gh_vault_keycheck_verify(app->vault, check);
		if (r < 0)
			snprintf(err, GH_APP_ERRLEN,
				 "wrong master key: it does not open the secrets in %s (check "
				 "GATEHOUSE_MASTER_KEY or %s/master.key)",
				 app->cfg.database_path, data_dir);
	}
out:
	free(check);
	if (r < 0) {
		gh_app_close(app);
		return r;
	}
	*ret = app;
	return 0;
}

int gh_app_log_open(struct gh_app *app)
{
	char why[GH_SAFE_WHYLEN] = "";
	int r = gh_log_set_file(app->cfg.log_file, why, sizeof why);
	if (r < 0)
		gh_error("log_file %s: cannot append to it: %s", app->cfg.log_file, why);
	else if (*app->cfg.log_file)
		gh_info("logging to %s", app->cfg.log_file);
	return r;
}

struct gh_app *gh_app_close(struct gh_app *app)
{
	if (!app)
		return NULL;
	gh_store_close(app->store);
	gh_vault_free(app->vault);
	gh_secret_free(app->ldap_secret);
	gh_config_free(&app->cfg);
	free(app->data_dir);
	free(app->config_path);
	free(app);
	return NULL;
}

int gh_app_first_start(struct gh_app *app, char **ret_password)
{
	struct gh_user *users = NULL;
	size_t n = 0;
	char *pw = NULL, *hash = NULL, *path = NULL;
	int r = gh_store_user_list(app->store, &users, &n);
	if (r < 0)
		return r;
	gh_users_free(users, n);
	if (n > 0) {
		*ret_password = NULL;
		return 0;
	}
	pw = gh_password_random(20);
	if (!pw)
		return GH_ENOMEM;
	r = gh_password_hash(pw, app->cfg.password_hash_strength, &hash);
	if (r < 0)
		goto out;
	r = gh_store_user_add(app->store, "admin", GH_ROLE_ADMIN, hash, NULL);
	if (r == GH_EEXIST) { /* another process won the race */
		r = 0;
		gh_secret_free(pw);
		pw = NULL;
		goto out;
	}
	if (r < 0)
		goto out;
	if (asprintf(&path, "%s/%s", app->data_dir, INITIAL_PASSWORD_FILE) < 0) {
		path = NULL;
		r = GH_ENOMEM;
		goto out;
	}
	char line[64];
	int len = snprintf(line, sizeof line, "%s\n", pw);
	r = gh_write_file_atomic(path, line, (size_t)len, 0600);
	memset(line, 0, sizeof line);
out:
	free(hash);
	free(path);
	if (r < 0) {
		gh_secret_free(pw);
		return r;
	}
	*ret_password = pw;
	return 0;
}

void gh_app_helper_begin(struct gh_app *app, const char *tag, void (*on_term)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term; /* no SA_RESTART: a poll returns on the signal */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	gh_log_set_tag(tag);
	app->store = gh_store_forget(app->store); /* the master's, see gh_store_forget */
}

int gh_app_helper_start(struct gh_app *app, const char *tag, void (*on_term)(int),
			struct gh_store **ret_st)
{
	gh_app_helper_begin(app, tag, on_term);
	int r = gh_store_open(&app->cfg, ret_st);
	if (r < 0)
		gh_error("%s: cannot open the store: %s", tag, gh_strerror(r));
	return r;
}
