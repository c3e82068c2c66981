/* The vault: the master key, sealed secrets and password hashes.
 *
 * Secrets (account passwords and private keys, TOTP seeds) are sealed with
 * XChaCha20-Poly1305 (libsodium) under the master key; the associated data
 * names the row the secret belongs to, so a sealed blob moved to another
 * row fails to open. Sealed format: version byte (1) | 24-byte nonce |
 * ciphertext+tag.
 *
 * The master key comes from $GATEHOUSE_MASTER_KEY (64 hex chars or base64
 * of 32 bytes) or from DATA/master.key (0600, created at first start).
 * It lives in sodium_malloc'd memory and is wiped on free. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_vault;

#define GH_VAULT_KEYCHECK_AD "gatehouse:keycheck"

/* Load the master key (creating DATA/master.key when CREATE and neither
 * the file nor the variable exists). GH_EKEY with a message in ERR (size
 * 256) when missing or malformed. */
int gh_vault_open(const char *data_dir, bool create, struct gh_vault **ret, char *err);
/* Build a vault from raw key bytes (tests). */
int gh_vault_from_key(const uint8_t key[32], struct gh_vault **ret);
struct gh_vault *gh_vault_free(struct gh_vault *v);
/* True when the key was created by this gh_vault_open call. */
bool gh_vault_is_new(const struct gh_vault *v);

/* Seal LEN bytes of PT bound to AD. *ret is malloc'd (caller frees). */
int gh_vault_seal(struct gh_vault *v, const void *pt, size_t len, const char *ad,
		  uint8_t **ret, size_t *ret_len);
/* Open a sealed blob. *ret is sodium_malloc'd, NUL-terminated (not counted
 * in *ret_len); free with gh_secret_free(). GH_ECRYPTO when the key is
 * wrong, the blob tampered with or AD differs. */
int gh_vault_unseal(struct gh_vault *v, const uint8_t *sealed, size_t len, const char *ad,
		    char **ret, size_t *ret_len);
void gh_secret_free(char *secret);

/* Associated data for an account secret / a user's TOTP seed. BUF >= 128. */
char *gh_vault_ad_account(char *buf, size_t len, int64_t asset_id, const char *username);
char *gh_vault_ad_totp(char *buf, size_t len, int64_t user_id);

/* Key check value: a sealed constant stored once in the store's meta, so a
 * wrong master key is reported as such instead of failing row by row.
 * make: *ret is a malloc'd hex string. verify: 0 or GH_EKEY. */
int gh_vault_keycheck_make(struct gh_vault *v, char **ret);
int gh_vault_keycheck_verify(struct gh_vault *v, const char *check);

/* Argon2id (crypto_pwhash_str). STRENGTH: 0 interactive, 1 moderate, 2 sensitive.
 * *ret is malloc'd. */
int gh_password_hash(const char *password, int strength, char **ret);
/* 0 when PASSWORD matches HASH, GH_EAUTH otherwise. Constant-time. */
int gh_password_verify(const char *hash, const char *password);
/* An Argon2id hash no password is known for, with the parameters
 * gh_password_hash uses at STRENGTH (static): verifying an attempt against
 * it costs what checking a real password does. */
const char *gh_password_dummy_hash(int strength);
/* Random password of LEN chars from an unambiguous alphabet; sodium_malloc'd,
 * free with gh_secret_free(). */
char *gh_password_random(size_t len);

/* Read one secret from FD (a line or up to EOF, max 64 KiB, trailing
 * newline removed) into sodium_malloc'd memory. MULTILINE keeps everything
 * (private keys). */
int gh_secret_read_fd(int fd, bool multiline, char **ret, size_t *ret_len);
