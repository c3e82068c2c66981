#include "ssh/hostkey.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void log_fingerprint(const char *path, ssh_key key, const char *what)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return;
	char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	gh_info("%s host key %s (%s) %s", what, path, ssh_key_type_to_char(ssh_key_type(key)),
		fp ? fp : "");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
}

/* Load the private key at PATH: only a file root (or the effective uid)
 * owns, not writable by group or others, not a symlink (core/safefile.h).
 * GH_ENOENT when absent; other errors are logged naming the file. */
static int load_trusted(const char *path, ssh_key *ret)
{
	char why[GH_SAFE_WHYLEN] = "";
	char *text = NULL;
	size_t len = 0;
	int r = gh_trusted_read(path, 64 * 1024, false, &text, &len, why, sizeof why);
	if (r == GH_EPERM)
		gh_error("host key %s %s: refused (it must be root's, mode 0600, not a symlink)", path,
			 why);
	else if (r < 0 && r != GH_ENOENT)
		gh_error("cannot read host key %s: %s", path, why[0] ? why : gh_strerror(r));
	if (r == 0 && ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, ret) != SSH_OK) {
		gh_error("cannot load host key %s", path);
		r = GH_EKEY;
	}
	if (text) {
		memset(text, 0, len);
		free(text);
	}
	return r;
}

static int ensure_one(const char *data_dir, const char *name, enum ssh_keytypes_e type, int bits)
{
	char path[4096];
	ssh_key key = NULL;
	int r = 0;

	if (snprintf(path, sizeof path, "%s/%s", data_dir, name) >= (int)sizeof path)
		return GH_EINVAL;
	r = load_trusted(path, &key);
	if (r == 0) {
		struct stat sb;
		if (stat(path, &sb) == 0 && (sb.st_mode & 077))
			gh_warn("host key %s is readable by others (mode %03o)", path,
				(unsigned)(sb.st_mode & 0777));
		ssh_key_free(key);
		return 0;
	}
	if (r != GH_ENOENT)
		return r < 0 ? r : GH_EKEY;
	r = 0;
	if (ssh_pki_generate(type, bits, &key) != SSH_OK) {
		gh_error("cannot generate host key %s", path);
		return GH_ECRYPTO;
	}
	mode_t old = umask(077);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK) {
		gh_error("cannot write host key %s", path);
		r = GH_EIO;
	} else if (chmod(path, 0600) < 0) {
		gh_error("cannot chmod %s: %s", path, strerror(errno));
		r = GH_EIO;
	} else {
		log_fingerprint(path, key, "created");
	}
	umask(old);
	ssh_key_free(key);
	return r;
}

int gh_ssh_hostkeys_ensure(const char *data_dir)
{
	int r = ensure_one(data_dir, GH_HOSTKEY_ED25519, SSH_KEYTYPE_ED25519, 0);
	if (r == 0)
		r = ensure_one(data_dir, GH_HOSTKEY_RSA, SSH_KEYTYPE_RSA, 3072);
	if (r == 0)
		r = ensure_one(data_dir, GH_HOSTKEY_JUMP, SSH_KEYTYPE_ED25519, 0);
	return r;
}

int gh_ssh_jump_key_load(const char *data_dir, ssh_key *ret)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", data_dir, GH_HOSTKEY_JUMP) >= (int)sizeof path)
		return GH_EINVAL;
	int r = load_trusted(path, ret);
	return r == 0 ? 0 : GH_ENOENT;
}

int gh_ssh_key_public_line(ssh_key key, char **ret)
{
	char *b64 = NULL;
	int r = GH_EKEY;
	if (ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK) {
		const char *type = ssh_key_type_to_char(ssh_key_type(key));
		size_t n = strlen(type) + strlen(b64) + 2;
		char *s = malloc(n);
		if (!s) {
			r = GH_ENOMEM;
		} else {
			snprintf(s, n, "%s %s", type, b64);
			*ret = s;
			r = 0;
		}
	}
	ssh_string_free_char(b64);
	return r;
}

int gh_ssh_jump_pubkey(const char *data_dir, char **ret)
{
	ssh_key key = NULL;
	int r = gh_ssh_jump_key_load(data_dir, &key);
	if (r == 0)
		r = gh_ssh_key_public_line(key, ret);
	ssh_key_free(key);
	return r;
}
