#include "vault/vault.h"
#include "core/error.h"
#include "core/safefile.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEAL_VERSION 1
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define KEYCHECK_PLAINTEXT "gatehouse master key check v1"

struct gh_vault {
	unsigned char *key; /* sodium_malloc, KEY_LEN */
	bool created;
};

static int sodium_ready(void)
{
	return sodium_init() < 0 ? GH_ECRYPTO : 0;
}

/* Decode 64 hex chars or base64 (standard or URL-safe, padded or not) of 32 bytes. */
static int decode_key(const char *text, unsigned char *out)
{
	size_t n = strlen(text);
	size_t bin_len = 0;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	if (n == 2 * KEY_LEN &&
	    sodium_hex2bin(out, KEY_LEN, text, n, NULL, &bin_len, NULL) == 0 && bin_len == KEY_LEN)
		return 0;
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
					sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
					sodium_base64_VARIANT_URLSAFE,
					sodium_base64_VARIANT_URLSAFE_NO_PADDING };
	for (size_t i = 0; i < 4; i++) {
		if (sodium_base642bin(out, KEY_LEN, text, n, NULL, &bin_len, NULL, variants[i]) == 0 &&
		    bin_len == KEY_LEN)
			return 0;
	}
	return GH_EKEY;
}

static struct gh_vault *vault_new(void)
{
	struct gh_vault *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->key = sodium_malloc(KEY_LEN);
	if (!v->key) {
		free(v);
		return NULL;
	}
	return v;
}

int gh_vault_from_key(const uint8_t key[32], struct gh_vault **ret)
{
	if (sodium_ready() < 0)
		return GH_ECRYPTO;
	struct gh_vault *v = vault_new();
	if (!v)
		return GH_ENOMEM;
	memcpy(v->key, key, KEY_LEN);
	sodium_mprotect_readonly(v->key);
	*ret = v;
	return 0;
}

/* The key file: only root's (or the effective uid's), mode 0600, not a
 * symlink (core/safefile.h). GH_ENOENT when absent, GH_EKEY with ERR. */
static int read_key_file(const char *path, char **ret, size_t *ret_len, char *err)
{
	char why[GH_SAFE_WHYLEN] = "";
	int r = gh_trusted_read(path, 4096, true, ret, ret_len, why, sizeof why);
	if (r == GH_EPERM)
		snprintf(err, 256, "%s %s: refused (it must be root's, mode 0600: run chown root %s; "
				   "chmod 600 %s)", path, why, path, path);
	else if (r < 0 && r != GH_ENOENT)
		snprintf(err, 256, "cannot read %s: %s", path, why[0] ? why : gh_strerror(r));
	return r == 0 || r == GH_ENOENT ? r : GH_EKEY;
}

int gh_vault_open(const char *data_dir, bool create, struct gh_vault **ret, char *err)
{
	struct gh_vault *v = NULL;
	char *path = NULL;
	char *text = NULL;
	size_t len = 0;
	bool retried = false;
	int r;

	err[0] = '\0';
	if (sodium_ready() < 0) {
		snprintf(err, 256, "libsodium failed to initialise");
		return GH_ECRYPTO;
	}
	v = vault_new();
	if (!v)
		return GH_ENOMEM;

	const char *env = getenv("GATEHOUSE_MASTER_KEY");
	if (env && *env) {
		if (decode_key(env, v->key) < 0) {
			snprintf(err, 256, "GATEHOUSE_MASTER_KEY is malformed: expected 64 hex characters "
					   "or base64 of 32 bytes");
			r = GH_EKEY;
			goto out;
		}
		r = 0;
		goto out;
	}

	if (asprintf(&path, "%s/master.key", data_dir) < 0) {
		path = NULL;
		r = GH_ENOMEM;
		goto out;
	}
again:
	r = read_key_file(path, &text, &len, err);
	if (r == 0 && len == 0 && create) {
		/* another process is writing it right now */
		free(text);
		text = NULL;
		usleep(20000);
		r = read_key_file(path, &text, &len, err);
	}
	if (r == 0 && decode_key(text, v->key) < 0) {
		snprintf(err, 256, "%s is malformed: expected 64 hex characters", path);
		r = GH_EKEY;
	}
	if (r != GH_ENOENT)
		goto out;
	if (!create) {
		snprintf(err, 256, "no master key: %s does not exist and GATEHOUSE_MASTER_KEY is not set",
			 path);
		r = GH_EKEY;
		goto out;
	}
	/* First start: generate the key. */
	char hex[2 * KEY_LEN + 2];
	randombytes_buf(v->key, KEY_LEN);
	sodium_bin2hex(hex, sizeof hex - 1, v->key, KEY_LEN);
	strcat(hex, "\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST && !retried) {
		/* lost the race to another first start: use its key */
		retried = true;
		sodium_memzero(hex, sizeof hex);
		usleep(20000);
		goto again;
	}
	if (fd < 0) {
		snprintf(err, 256, "cannot create %s: %s", path, strerror(errno));
		sodium_memzero(hex, sizeof hex);
		r = GH_EKEY;
		goto out;
	}
	ssize_t w = write(fd, hex, strlen(hex));
	int saved = errno;
	sodium_memzero(hex, sizeof hex);
	if (w != (ssize_t)(2 * KEY_LEN + 1) || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		snprintf(err, 256, "cannot write %s: %s", path, strerror(saved));
		r = GH_EKEY;
		goto out;
	}
	close(fd);
	v->created = true;
	r = 0;
out:
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	free(path);
	if (r < 0) {
		gh_vault_free(v);
		return r;
	}
	sodium_mprotect_readonly(v->key);
	*ret = v;
	return 0;
}

struct gh_vault *gh_vault_free(struct gh_vault *v)
{
	if (!v)
		return NULL;
	sodium_free(v->key); /* wipes */
	free(v);
	return NULL;
}

bool gh_vault_is_new(const struct gh_vault *v)
{
	return v && v->created;
}

int gh_vault_seal(struct gh_vault *v, const void *pt, size_t len, const char *ad,
		  uint8_t **ret, size_t *ret_len)
{
	if (!v || !ad || (!pt && len))
		return GH_EINVAL;
	size_t out_len = 1 + NONCE_LEN + len + TAG_LEN;
	uint8_t *out = malloc(out_len);
	if (!out)
		return GH_ENOMEM;
	out[0] = SEAL_VERSION;
	randombytes_buf(out + 1, NONCE_LEN);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE_LEN, &clen, pt, len,
						   (const unsigned char *)ad, strlen(ad), NULL,
						   out + 1, v->key);
	*ret = out;
	*ret_len = out_len;
	return 0;
}

int gh_vault_unseal(struct gh_vault *v, const uint8_t *sealed, size_t len, const char *ad,
		    char **ret, size_t *ret_len)
{
	if (!v || !sealed || !ad)
		return GH_EINVAL;
	if (len < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEAL_VERSION)
		return GH_ECRYPTO;
	size_t pt_cap = len - 1 - NONCE_LEN - TAG_LEN;
	char *pt = sodium_malloc(pt_cap + 1);
	if (!pt)
		return GH_ENOMEM;
	unsigned long long pt_len = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)pt, &pt_len, NULL,
						       sealed + 1 + NONCE_LEN, len - 1 - NONCE_LEN,
						       (const unsigned char *)ad, strlen(ad),
						       sealed + 1, v->key) != 0) {
		sodium_free(pt);
		return GH_ECRYPTO;
	}
	pt[pt_len] = '\0';
	*ret = pt;
	if (ret_len)
		*ret_len = (size_t)pt_len;
	return 0;
}

void gh_secret_free(char *secret)
{
	if (secret)
		sodium_free(secret);
}

char *gh_vault_ad_account(char *buf, size_t len, int64_t asset_id, const char *username)
{
	snprintf(buf, len, "gatehouse:account:%lld:%s", (long long)asset_id, username);
	return buf;
}

char *gh_vault_ad_totp(char *buf, size_t len, int64_t user_id)
{
	snprintf(buf, len, "gatehouse:totp:%lld", (long long)user_id);
	return buf;
}

int gh_vault_keycheck_make(struct gh_vault *v, char **ret)
{
	uint8_t *sealed = NULL;
	size_t n = 0;
	int r = gh_vault_seal(v, KEYCHECK_PLAINTEXT, strlen(KEYCHECK_PLAINTEXT),
			      GH_VAULT_KEYCHECK_AD, &sealed, &n);
	if (r < 0)
		return r;
	char *hex = malloc(2 * n + 1);
	if (!hex) {
		free(sealed);
		return GH_ENOMEM;
	}
	sodium_bin2hex(hex, 2 * n + 1, sealed, n);
	free(sealed);
	*ret = hex;
	return 0;
}

int gh_vault_keycheck_verify(struct gh_vault *v, const char *check)
{
	size_t hexlen = strlen(check), n = 0;
	uint8_t *bin = malloc(hexlen / 2 + 1);
	char *pt = NULL;
	int r = GH_EKEY;
	if (!bin)
		return GH_ENOMEM;
	if (sodium_hex2bin(bin, hexlen / 2 + 1, check, hexlen, NULL, &n, NULL) == 0 &&
	    gh_vault_unseal(v, bin, n, GH_VAULT_KEYCHECK_AD, &pt, NULL) == 0 &&
	    strcmp(pt, KEYCHECK_PLAINTEXT) == 0)
		r = 0;
	gh_secret_free(pt);
	free(bin);
	return r;
}

int gh_password_hash(const char *password, int strength, char **ret)
{
	unsigned long long ops;
	size_t mem;
	if (sodium_ready() < 0)
		return GH_ECRYPTO;
	switch (strength) {
	case 2:
		ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	case 1:
		ops = crypto_pwhash_OPSLIMIT_MODERATE;
		mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	default:
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
	char *out = malloc(crypto_pwhash_STRBYTES);
	if (!out)
		return GH_ENOMEM;
	/* crypto_pwhash_str uses Argon2id13 by default in libsodium >= 1.0.15 */
	if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		free(out);
		return GH_ENOMEM;
	}
	*ret = out;
	return 0;
}

int gh_password_verify(const char *hash, const char *password)
{
	if (!hash || !password || sodium_ready() < 0)
		return GH_EAUTH;
	if (strncmp(hash, "$argon2id$", 10) != 0)
		return GH_EAUTH;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 ? 0 : GH_EAUTH;
}

const char *gh_password_dummy_hash(int strength)
{
	/* made by gh_password_hash from random passwords that were then
	 * forgotten; the parameters are those of the switch above */
	static const char *const dummy[] = {
		"$argon2id$v=19$m=65536,t=2,p=1$2n/5ni9P6SbDDPjXie/1sA$"
		"TbWRmzZ4jMDh4lp5bwRpYrdUCDty65h9uFl4kreqt8A",
		"$argon2id$v=19$m=262144,t=3,p=1$YAKbGqRfuOUhSZwzJndRbA$"
		"fZSMVROZ/B5qCZGjZzLilTUHnsR/RVODKIdue3tdncg",
		"$argon2id$v=19$m=1048576,t=4,p=1$KC0ROJSyf2Ebo1hr/lqG+g$"
		"upETa8GxtPDQjBoaxCzudPf0XKSwdwR9Fd7ancT8vzk",
	};
	return dummy[strength == 2 ? 2 : strength == 1 ? 1 : 0];
}

char *gh_password_random(size_t len)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	if (sodium_ready() < 0)
		return NULL;
	char *p = sodium_malloc(len + 1);
	if (!p)
		return NULL;
	for (size_t i = 0; i < len; i++)
		p[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	p[len] = '\0';
	return p;
}

int gh_secret_read_fd(int fd, bool multiline, char **ret, size_t *ret_len)
{
	const size_t cap = 64 * 1024;
	if (sodium_ready() < 0)
		return GH_ECRYPTO;
	char *buf = sodium_malloc(cap + 1);
	size_t len = 0;
	if (!buf)
		return GH_ENOMEM;
	for (;;) {
		if (len == cap) {
			sodium_free(buf);
			return GH_EINVAL;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sodium_free(buf);
			return GH_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (!multiline && memchr(buf, '\n', len))
			break;
	}
	if (!multiline) {
		char *nl = memchr(buf, '\n', len);
		if (nl)
			len = (size_t)(nl - buf);
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (memchr(buf, '\0', len)) {
		sodium_free(buf);
		return GH_EINVAL;
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}
