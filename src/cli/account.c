/* gatehouse account: accounts on assets and their sealed secrets. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "vault/vault.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse account add ASSET USERNAME (--password-stdin | --key-file PRIVATE_KEY)\n"
	"  gatehouse account set ASSET USERNAME (--password-stdin | --key-file PRIVATE_KEY)\n"
	"  gatehouse account list ASSET [--json]\n"
	"  gatehouse account del ASSET USERNAME\n"
	"\n"
	"The secret (a password read as one line from stdin, or an unencrypted private\n"
	"key file) is sealed with the master key and never shown again. 'account add'\n"
	"creates DATA/master.key when there is none yet; 'account set' never does.\n";

enum { OPT_PASSWORD_STDIN = 1000, OPT_KEY_FILE };

static int get_asset(struct gh_app *app, const char *name, struct gh_asset *ret)
{
	char esc[80];
	int r = gh_store_asset_get(app->store, name, ret);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown asset '%s'", gh_escape(esc, sizeof esc, name));
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot read asset '%s'", gh_escape(esc, sizeof esc, name));
	return 0;
}

/* add (SET false) or replace (SET true) an account's secret. */
/* Seal SECRET for (ASSET_ID, USERNAME) and store it: a new account, or
 * the new secret of account ACCOUNT_ID when it is not 0 (cli.h). */
int gh_account_seal_store(struct gh_store *st, struct gh_vault *v, int64_t asset_id,
			  int64_t account_id, const char *username, int kind, const char *secret,
			  size_t secret_len)
{
	char ad[256];
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	gh_vault_ad_account(ad, sizeof ad, asset_id, username);
	int r = gh_vault_seal(v, secret, secret_len, ad, &sealed, &sealed_len);
	if (r < 0)
		return r;
	if (account_id) {
		r = gh_store_account_set_secret(st, account_id, kind, sealed, sealed_len);
	} else {
		struct gh_account na = { .asset_id = asset_id, .username = (char *)username,
					 .secret_kind = kind, .sealed = sealed, .sealed_len = sealed_len };
		r = gh_store_account_add(st, &na, NULL);
	}
	free(sealed);
	return r;
}

static int account_write(struct gh_cli *cli, int argc, char **argv, bool set)
{
	static const struct option opts[] = {
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	struct gh_account acc = { 0 };
	const char *key_file = NULL;
	bool want_pw = false;
	char *secret = NULL;
	size_t secret_len = 0;
	char esc[80], err[512];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_PASSWORD_STDIN)
			want_pw = true;
		else if (c == OPT_KEY_FILE)
			key_file = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 2, 2,
				   "ASSET USERNAME (--password-stdin | --key-file PRIVATE_KEY)")))
		return r;
	const char *asset = argv[optind], *username = argv[optind + 1];
	if (!gh_valid_name(username))
		return gh_cli_usage_error(cli, "bad account name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, username));
	if (want_pw == (key_file != NULL))
		return gh_cli_usage_error(cli, "give the secret with exactly one of --password-stdin "
					       "or --key-file PRIVATE_KEY");
	if (key_file) {
		if (gh_privkey_read_file(key_file, &secret, &secret_len, err, sizeof err) < 0) {
			gh_cli_error("%s", err);
			return GH_EXIT_FAIL;
		}
	} else if ((r = gh_cli_read_password("account password", &secret))) {
		return r;
	} else {
		secret_len = strlen(secret);
	}
	if (gh_cli_open(cli, set ? 0 : GH_APP_CREATE, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = get_asset(app, asset, &a)))
		goto out;
	if (set) {
		r = gh_store_account_get(app->store, a.id, username, &acc);
		if (r == GH_ENOENT) {
			gh_cli_error("unknown account '%s' on asset '%s'", username, a.name);
			r = GH_EXIT_FAIL;
			goto out;
		}
		if (r < 0) {
			r = gh_cli_fail(app, r, "cannot read account '%s'", username);
			goto out;
		}
	}
	int kind = key_file ? GH_SECRET_KEY : GH_SECRET_PASSWORD;
	r = gh_account_seal_store(app->store, app->vault, a.id, set ? acc.id : 0, username, kind,
				  secret, secret_len);
	if (r == GH_ECRYPTO || r == GH_EKEY) {
		r = gh_cli_fail(app, r, "cannot seal the secret");
		goto out;
	}
	if (r == GH_EEXIST) {
		gh_cli_error("account '%s' already exists on asset '%s' (change its secret with "
			     "'gatehouse account set')", username, a.name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot store account '%s'", username);
		goto out;
	}
	printf("%s account '%s' on asset '%s' (secret: %s)\n", set ? "updated" : "added", username,
	       a.name, key_file ? "key" : "password");
	r = GH_EXIT_OK;
out:
	gh_secret_free(secret);
	gh_account_free(&acc);
	gh_asset_free(&a);
	gh_app_close(app);
	return r;
}

static int account_add(struct gh_cli *cli, int argc, char **argv)
{
	return account_write(cli, argc, argv, false);
}

static int account_set(struct gh_cli *cli, int argc, char **argv)
{
	return account_write(cli, argc, argv, true);
}

static int account_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	struct gh_account *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "ASSET [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_asset(app, argv[optind], &a)))
		goto out;
	r = gh_store_account_list(app->store, a.id, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list accounts");
		goto out;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "id", json_integer(v[i].id));
			json_object_set_new(o, "asset", json_string(a.name));
			json_object_set_new(o, "username", json_string(v[i].username));
			json_object_set_new(o, "secret", json_string(v[i].secret_kind == GH_SECRET_KEY
									  ? "key" : "password"));
			json_object_set_new(o, "created_at", gh_cli_json_time(v[i].created_at));
			json_array_append_new(arr, o);
		}
		r = gh_cli_json_print(arr) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(3, "USERNAME", "SECRET", "CREATED");
	for (size_t i = 0; t && i < n; i++)
		gh_table_add(t, v[i].username, v[i].secret_kind == GH_SECRET_KEY ? "key" : "password",
			     gh_cli_time_text(v[i].created_at, tb, sizeof tb));
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_accounts_free(v, n);
	gh_asset_free(&a);
	gh_app_close(app);
	return r;
}

static int account_del(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_asset a = { 0 };
	char esc[80];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 2, 2, "ASSET USERNAME",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = get_asset(app, argv[optind], &a)))
		goto out;
	const char *username = argv[optind + 1];
	r = gh_store_account_del(app->store, a.id, username);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown account '%s' on asset '%s'", gh_escape(esc, sizeof esc, username),
			     a.name);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot delete account '%s'", username);
	} else {
		printf("deleted account '%s' on asset '%s'\n", username, a.name);
		r = GH_EXIT_OK;
	}
out:
	gh_asset_free(&a);
	gh_app_close(app);
	return r;
}

int gh_cmd_account(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", account_add }, { "set", account_set }, { "list", account_list },
		{ "del", account_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "account", usage, verbs, argc, argv);
}
