/* gatehouse user: users, passwords, SSH public keys. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "ssh/jpnode.h"
#include "store/access.h"
#include "store/store.h"
#include "vault/vault.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage:\n"
	"  gatehouse user add NAME [--role admin|auditor|user] [--password-stdin] [--key-file PUB]\n"
	"                     [--mfa required|optional]\n"
	"  gatehouse user set NAME --mfa required|optional\n"
	"  gatehouse user mfa reset NAME | user mfa show NAME [--json]\n"
	"  gatehouse user list [--json]\n"
	"  gatehouse user show NAME [--json]\n"
	"  gatehouse user del NAME\n"
	"  gatehouse user passwd NAME --password-stdin\n"
	"  gatehouse user disable NAME | user enable NAME\n"
	"  gatehouse user lock NAME [--as USER]   refuse logins, end the user's live sessions\n"
	"  gatehouse user unlock NAME [--as USER]\n"
	"  gatehouse user key add NAME --key-file PUB\n"
	"  gatehouse user key list NAME [--json]\n"
	"  gatehouse user key del NAME FINGERPRINT\n"
	"\n"
	"Passwords are read from stdin (one line), never from the command line, and\n"
	"stored as Argon2id hashes. --key-file takes an OpenSSH public key (KEY.pub).\n";

enum { OPT_JSON = 1000, OPT_ROLE, OPT_PASSWORD_STDIN, OPT_KEY_FILE, OPT_MFA };

int gh_cli_user_get(struct gh_app *app, const char *name, struct gh_user *ret)
{
	char esc[80];
	int r = gh_store_user_get(app->store, name, ret);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown user '%s'", gh_escape(esc, sizeof esc, name));
		return GH_EXIT_FAIL;
	}
	if (r < 0)
		return gh_cli_fail(app, r, "cannot read user '%s'", gh_escape(esc, sizeof esc, name));
	return 0;
}

static int check_name(const struct gh_cli *cli, const char *name)
{
	char esc[80];
	if (!gh_valid_name(name))
		return gh_cli_usage_error(cli, "bad user name '%s': use 1-64 of A-Z a-z 0-9 . _ - "
					       "(not starting with -)",
					  gh_escape(esc, sizeof esc, name));
	if (strcmp(name, GH_JPNODE_USER) == 0) /* the jumpoint nodes' SSH login */
		return gh_cli_usage_error(cli, "user name '%s' is reserved", name);
	return 0;
}

static int user_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "mfa", required_argument, NULL, OPT_MFA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_pubkey pk = { 0 };
	int mfa = -1;
	char *pw = NULL, *hash = NULL;
	const char *key_file = NULL;
	char esc[80], err[512];
	bool want_pw = false;
	int role = GH_ROLE_USER, c, r = 0;
	int64_t uid = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROLE:
			role = gh_role_parse(optarg);
			if (role < 0) {
				r = gh_cli_usage_error(cli, "unknown role '%s': expected admin, auditor or user",
						       gh_escape(esc, sizeof esc, optarg));
				goto out;
			}
			break;
		case OPT_PASSWORD_STDIN:
			want_pw = true;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_MFA:
			if ((r = gh_cli_parse_mfa(cli, optarg, &mfa)))
				goto out;
			break;
		case 'h':
			r = gh_cli_help(cli);
			goto out;
		default:
			r = gh_cli_bad_option(cli, c, argv);
			goto out;
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME [options]")) || (r = check_name(cli, argv[optind])))
		goto out;
	const char *name = argv[optind];
	if (key_file && gh_pubkey_read_file(key_file, &pk, err, sizeof err) < 0) {
		gh_cli_error("%s", err);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (want_pw && (r = gh_cli_read_password("password", &pw)))
		goto out;
	if (gh_cli_open(cli, GH_APP_CREATE | GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (pw && (r = gh_password_hash(pw, app->cfg.password_hash_strength, &hash)) < 0) {
		r = gh_cli_fail(app, r, "cannot hash the password");
		goto out;
	}
	r = gh_store_user_add(app->store, name, role, hash, &uid);
	if (r == GH_EEXIST) {
		gh_cli_error("user '%s' already exists", name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add user '%s'", name);
		goto out;
	}
	if (key_file) {
		struct gh_user_key k = { .user_id = uid, .type = pk.type, .base64 = pk.base64,
					 .comment = pk.comment, .fingerprint = pk.fingerprint };
		r = gh_store_key_add(app->store, &k, NULL);
		if (r < 0) {
			gh_store_user_del(app->store, name); /* all or nothing */
			r = gh_cli_fail(app, r, "cannot add the key of user '%s'", name);
			goto out;
		}
	}
	if (mfa >= 0 && (r = gh_store_user_mfa_set_mode(app->store, uid, mfa)) < 0) {
		gh_store_user_del(app->store, name);
		r = gh_cli_fail(app, r, "cannot set the mfa mode of user '%s'", name);
		goto out;
	}
	printf("added user '%s' (role %s%s%s%s%s)\n", name, gh_role_name(role),
	       pw ? ", password set" : "", key_file ? ", key " : "", key_file ? pk.fingerprint : "",
	       mfa == GH_MFA_REQUIRED ? ", mfa required" : "");
	r = GH_EXIT_OK;
out:
	gh_secret_free(pw);
	free(hash);
	gh_pubkey_clear(&pk);
	gh_app_close(app);
	return r;
}

json_t *gh_cli_user_json(const struct gh_user *u)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "id", json_integer(u->id));
	json_object_set_new(j, "name", json_string(u->name));
	json_object_set_new(j, "role", json_string(gh_role_name(u->role)));
	json_object_set_new(j, "disabled", json_boolean(u->disabled));
	json_object_set_new(j, "source", json_string(u->ldap ? "ldap" : "local"));
	json_object_set_new(j, "password", json_boolean(u->password_hash != NULL));
	json_object_set_new(j, "totp", json_boolean(u->totp_sealed != NULL));
	json_object_set_new(j, "created_at", gh_cli_json_time(u->created_at));
	return j;
}

json_t *gh_cli_key_json(const struct gh_user_key *k)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "id", json_integer(k->id));
	json_object_set_new(j, "type", json_string(k->type));
	json_object_set_new(j, "fingerprint", json_string(k->fingerprint));
	json_object_set_new(j, "comment", json_string(k->comment ? k->comment : ""));
	json_object_set_new(j, "created_at", gh_cli_json_time(k->created_at));
	return j;
}

static int user_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user *v = NULL;
	struct gh_table *t = NULL;
	size_t n = 0;
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 0, 0, "[--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	r = gh_store_user_list(app->store, &v, &n);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list users");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, gh_cli_user_json(&v[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(5, "NAME", "ROLE", "STATUS", "PASSWORD", "CREATED");
	for (size_t i = 0; t && i < n; i++)
		gh_table_add(t, v[i].name, gh_role_name(v[i].role), v[i].disabled ? "disabled" : "enabled",
			     v[i].password_hash ? "set" : "none",
			     gh_cli_time_text(v[i].created_at, tb, sizeof tb));
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_users_free(v, n);
	gh_app_close(app);
	return r;
}

/* Names of the groups of user UID, as a JSON array. */
static json_t *user_groups_json(struct gh_app *app, int64_t uid)
{
	int64_t *ids = NULL;
	size_t nids = 0, ng = 0;
	struct gh_group *g = NULL;
	json_t *a = json_array();
	if (a && gh_store_user_groups(app->store, uid, &ids, &nids) == 0 &&
	    gh_store_group_list(app->store, &g, &ng) == 0) {
		for (size_t i = 0; i < ng; i++)
			for (size_t k = 0; k < nids; k++)
				if (g[i].id == ids[k])
					json_array_append_new(a, json_string(g[i].name));
	}
	free(ids);
	gh_groups_free(g, ng);
	return a;
}

static int user_show(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct gh_user_key *keys = NULL;
	size_t nk = 0;
	bool json = false;
	json_t *j = NULL;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_key_list(app->store, u.id, &keys, &nk);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list keys");
		goto out;
	}
	j = gh_cli_user_json(&u);
	json_t *ka = json_array();
	for (size_t i = 0; ka && i < nk; i++)
		json_array_append_new(ka, gh_cli_key_json(&keys[i]));
	if (j) {
		struct gh_user_mfa um = { GH_MFA_OPTIONAL, -1, 0 };
		gh_store_user_mfa_get(app->store, u.id, &um);
		json_object_set_new(j, "mfa", json_string(gh_mfa_mode_name(um.mode)));
		json_object_set_new(j, "groups", user_groups_json(app, u.id));
		json_object_set_new(j, "keys", ka);
	} else {
		json_decref(ka);
	}
	if (json) {
		r = gh_cli_json_print(j) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		j = NULL;
		goto out;
	}
	gh_cli_field("name:", u.name);
	gh_cli_field("role:", gh_role_name(u.role));
	gh_cli_field("status:", u.disabled ? "disabled" : "enabled");
	gh_cli_field("source:", u.ldap ? "ldap (the directory holds the password)" : "local");
	gh_cli_field("password:", u.password_hash ? "set" : "none");
	gh_cli_field("totp:", u.totp_sealed ? "enrolled" : "none");
	const char *mfa = j ? json_string_value(json_object_get(j, "mfa")) : NULL;
	gh_cli_field("mfa:", mfa ? mfa : "?");
	gh_cli_field("created:", gh_cli_time_text(u.created_at, tb, sizeof tb));
	json_t *groups = j ? json_object_get(j, "groups") : NULL;
	size_t gi;
	json_t *gv;
	printf("%-12s", "groups:");
	json_array_foreach(groups, gi, gv)
		printf(" %s", json_string_value(gv));
	printf("%s\n", json_array_size(groups) ? "" : " -");
	printf("keys:%s\n", nk ? "" : "        -");
	for (size_t i = 0; i < nk; i++) {
		char esc[256];
		printf("  %s %s %s\n", keys[i].fingerprint, keys[i].type,
		       gh_escape(esc, sizeof esc, keys[i].comment ? keys[i].comment : ""));
	}
	r = GH_EXIT_OK;
out:
	json_decref(j);
	gh_user_keys_free(keys, nk);
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int user_del(struct gh_cli *cli, int argc, char **argv)
{
	return gh_cli_delete_named(cli, argc, argv, "user", gh_store_user_del);
}

static int user_passwd(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	char *pw = NULL, *hash = NULL;
	bool want_pw = false;
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_PASSWORD_STDIN) {
			want_pw = true;
		} else if (c == 'h') {
			return gh_cli_help(cli);
		} else {
			return gh_cli_bad_option(cli, c, argv);
		}
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --password-stdin")))
		return r;
	if (!want_pw)
		return gh_cli_usage_error(cli, "give the new password on stdin with --password-stdin");
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = gh_cli_user_get(app, argv[optind], &u)) || (r = gh_cli_read_password("password", &pw)))
		goto out;
	r = gh_password_hash(pw, app->cfg.password_hash_strength, &hash);
	if (r == 0)
		r = gh_store_user_set_password(app->store, u.id, hash);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot set the password of '%s'", u.name);
		goto out;
	}
	printf("password of user '%s' changed\n", u.name);
	r = GH_EXIT_OK;
out:
	gh_secret_free(pw);
	free(hash);
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int set_disabled(struct gh_cli *cli, int argc, char **argv, bool disabled)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_user_set_disabled(app->store, u.id, disabled);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot update user '%s'", u.name);
		goto out;
	}
	if (disabled) {
		/* a disabled user keeps no connection open (tunnels included) */
		size_t failed = 0;
		size_t n = gh_cli_end_user_sessions(app, u.id, "user disabled", &failed);
		printf("user '%s' disabled; %zu live session(s) ended\n", u.name, n);
		if (failed)
			gh_cli_error("%zu session(s) of %s could not be reached (not relaying now)",
				     failed, u.name);
	} else {
		printf("user '%s' enabled\n", u.name);
	}
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int user_disable(struct gh_cli *cli, int argc, char **argv)
{
	return set_disabled(cli, argc, argv, true);
}

static int user_enable(struct gh_cli *cli, int argc, char **argv)
{
	return set_disabled(cli, argc, argv, false);
}

static int key_add(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, OPT_KEY_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct gh_pubkey pk = { 0 };
	const char *key_file = NULL;
	char err[512];
	int c, r = 0;

	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_KEY_FILE)
			key_file = optarg;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "NAME --key-file PUB")))
		return r;
	if (!key_file)
		return gh_cli_usage_error(cli, "give the public key with --key-file PUB");
	if (gh_pubkey_read_file(key_file, &pk, err, sizeof err) < 0) {
		gh_cli_error("%s", err);
		return GH_EXIT_FAIL;
	}
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0) {
		r = GH_EXIT_FAIL;
		goto out;
	}
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	struct gh_user_key k = { .user_id = u.id, .type = pk.type, .base64 = pk.base64,
				 .comment = pk.comment, .fingerprint = pk.fingerprint };
	r = gh_store_key_add(app->store, &k, NULL);
	if (r == GH_EEXIST) {
		gh_cli_error("key %s is already registered for user '%s'", pk.fingerprint, u.name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot add the key");
		goto out;
	}
	printf("added key %s (%s) to user '%s'\n", pk.fingerprint, pk.type, u.name);
	r = GH_EXIT_OK;
out:
	gh_pubkey_clear(&pk);
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int key_list(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	struct gh_user_key *keys = NULL;
	struct gh_table *t = NULL;
	size_t nk = 0;
	bool json = false;
	char tb[32];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, &json, 1, 1, "NAME [--json]",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_key_list(app->store, u.id, &keys, &nk);
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot list keys");
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < nk; i++)
			json_array_append_new(a, gh_cli_key_json(&keys[i]));
		r = gh_cli_json_print(a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
		goto out;
	}
	t = gh_table_new(4, "FINGERPRINT", "TYPE", "COMMENT", "ADDED");
	for (size_t i = 0; t && i < nk; i++)
		gh_table_add(t, keys[i].fingerprint, keys[i].type, keys[i].comment,
			     gh_cli_time_text(keys[i].created_at, tb, sizeof tb));
	if (t)
		gh_table_print(t, stdout);
	r = GH_EXIT_OK;
out:
	gh_table_free(t);
	gh_user_keys_free(keys, nk);
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int key_del(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	struct gh_user u = { 0 };
	char esc[128];
	int r = gh_cli_simple_opts(cli, argc, argv, NULL);

	if (r < 0)
		return gh_cli_help(cli);
	if (r || (r = gh_cli_positional(cli, argc, 2, 2, "NAME FINGERPRINT")))
		return r;
	const char *fp = argv[optind + 1];
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if ((r = gh_cli_user_get(app, argv[optind], &u)))
		goto out;
	r = gh_store_key_del(app->store, u.id, fp);
	if (r == GH_ENOENT) {
		gh_cli_error("user '%s' has no key %s (see 'gatehouse user key list %s')", u.name,
			     gh_escape(esc, sizeof esc, fp), u.name);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "cannot delete the key");
		goto out;
	}
	printf("deleted key %s of user '%s'\n", fp, u.name);
	r = GH_EXIT_OK;
out:
	gh_user_free(&u);
	gh_app_close(app);
	return r;
}

static int user_key(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", key_add }, { "list", key_list }, { "del", key_del }, { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "user key", usage, verbs, argc, argv);
}

int gh_cmd_user(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "add", user_add },	     { "list", user_list },	  { "show", user_show },
		{ "del", user_del },	     { "passwd", user_passwd },	  { "disable", user_disable },
		{ "enable", user_enable },   { "key", user_key },	  { "lock", gh_cli_user_lock },
		{ "unlock", gh_cli_user_unlock }, { "set", gh_cmd_user_set },
		{ "mfa", gh_cmd_user_mfa },  { NULL, NULL },
	};
	return gh_cli_dispatch(cli, "user", usage, verbs, argc, argv);
}
