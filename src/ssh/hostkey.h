/* Gatehouse's own SSH host keys: DATA/ssh_host_ed25519_key and
 * DATA/ssh_host_rsa_key (RSA 3072), created 0600 at first start. */
#pragma once

#define GH_HOSTKEY_ED25519 "ssh_host_ed25519_key"
#define GH_HOSTKEY_RSA "ssh_host_rsa_key"

/* Create the missing keys in DATA_DIR and check the present ones load.
 * Logs what it creates (with fingerprints). */
int gh_ssh_hostkeys_ensure(const char *data_dir);
