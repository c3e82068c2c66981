/* Gatehouse's own SSH host keys: DATA/ssh_host_ed25519_key and
 * DATA/ssh_host_rsa_key (RSA 3072), created 0600 at first start, and the
 * jump host key DATA/ssh_jump_ed25519_key: the key the inner SSH server of
 * a recorded ProxyJump presents for every asset (users trust it through
 * the known_hosts lines of `known-hosts`). */
#pragma once

#define GH_HOSTKEY_ED25519 "ssh_host_ed25519_key"
#define GH_HOSTKEY_RSA "ssh_host_rsa_key"
#define GH_HOSTKEY_JUMP "ssh_jump_ed25519_key"

/* Create the missing keys in DATA_DIR and check the present ones load.
 * Logs what it creates (with fingerprints). */
int gh_ssh_hostkeys_ensure(const char *data_dir);

/* The jump host public key as "ssh-ed25519 BASE64" (*ret, caller frees).
 * GH_ENOENT when the key cannot be read. */
int gh_ssh_jump_pubkey(const char *data_dir, char **ret);

struct ssh_key_struct;
/* Load the jump host private key (*ret: caller frees with ssh_key_free). */
int gh_ssh_jump_key_load(const char *data_dir, struct ssh_key_struct **ret);
/* KEY's public half as "TYPE BASE64" (*ret, caller frees). */
int gh_ssh_key_public_line(struct ssh_key_struct *key, char **ret);
