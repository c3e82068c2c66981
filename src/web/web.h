/* The HTTPS server of the web console and the REST API (docs/API.md).
 *
 * `gatehouse serve` (root) makes sure a certificate exists before it
 * forks anything (gh_web_prepare: DATA/web_cert.pem and DATA/web_key.pem,
 * self-signed at first start, unless web_cert/web_key name real ones) and
 * says its SHA-256 fingerprint. The master then forks the web process
 * (gh_web_run): still root, it reads the certificate and the private key
 * into memory and binds web_listen, then drops to the worker user
 * (ssh/priv.h) before it serves a byte. The web process terminates TLS,
 * so it is the one process that needs the key; it holds it only in
 * memory. The key file stays root's, mode 0600: no process running as
 * the worker user can read it, and a compromised web process cannot
 * replace it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct gh_app;
struct gh_priv;

/* True when web_listen is not empty. */
bool gh_web_wanted(const struct gh_app *app);

/* Master, at serve start (root): create the self-signed pair when
 * web_cert/web_key are empty and DATA/web_cert.pem is missing; print and
 * log "web console: https://HOST:PORT/ (certificate SHA-256 XX:XX:...)".
 * Returns 0 or a negative GH_E* (logged). */
int gh_web_prepare(struct gh_app *app);

/* The web process (forked by the master, still root): load the pair,
 * listen, drop to P, serve until SIGTERM. CHANS (N, one per web process,
 * web_processes of them; owned, closed here) are the web ends of the
 * channels to the master's penalties (penalty_ch.h). Returns an exit
 * status. */
int gh_web_run(struct gh_app *app, const struct gh_priv *p, int *chans, int n);

/* ---- certificate (cert.c) ---------------------------------------------- */

/* Paths of the pair CFG uses (DATA defaults when web_cert/web_key are
 * empty) into CERT and KEY (each 4096 bytes). */
int gh_web_cert_paths(const struct gh_app *app, char *cert, char *key);

/* Create a self-signed P-256 certificate (CN=gatehouse, 10 years) and its
 * key at CERT_PATH and KEY_PATH (both 0600, the key first). */
int gh_web_cert_create(const char *cert_path, const char *key_path);

/* "AB:CD:..." (95 characters + NUL) of the DER of the first certificate
 * in PEM (LEN bytes). */
int gh_web_cert_fingerprint(const char *pem, size_t len, char ret[96]);
/* A certificate and its key (PEM, CLEN/KLEN bytes) fit for the console:
 * both parse, the key is the certificate's, the certificate has not
 * expired. 0, or GH_ECRYPTO with WHY (WLEN bytes) saying what is wrong. */
int gh_web_cert_check(const char *cert, size_t clen, const char *key, size_t klen, char *why,
		      size_t wlen);
