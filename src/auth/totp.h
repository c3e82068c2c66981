/* TOTP (RFC 6238, HMAC-SHA1, 30 s steps) for second-factor logins, plus
 * what enrolment needs: base32 (RFC 4648), secret generation, the
 * otpauth:// URI and a QR code drawn with Unicode half blocks.
 *
 * Secrets are raw bytes in caller-owned buffers; callers keep them in
 * sodium_malloc memory and wipe them. Nothing here logs or keeps state
 * besides liboath's one-time library initialisation. Strings returned
 * through ret_* hold the secret: the caller wipes (sodium_memzero) and
 * frees them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GH_TOTP_SECRET_LEN 20     /* bytes made by gh_totp_secret_generate */
#define GH_TOTP_STEP 30           /* seconds */
#define GH_TOTP_DIGITS 6
#define GH_TOTP_ISSUER "Gatehouse"
#define GH_TOTP_MAX_SECRET 64     /* bytes accepted anywhere here */

/* The time step holding T: floor(T / 30). */
int64_t gh_totp_step(int64_t t);

/* Code (DIGITS = 6..8 characters and a NUL, into OUT of OUTLEN bytes) for
 * time step STEP. GH_EINVAL on bad arguments, GH_ECRYPTO if liboath fails. */
int gh_totp_code(const uint8_t *secret, size_t len, int64_t step, unsigned digits,
		 char *out, size_t outlen);

/* Check CODE (exactly DIGITS decimal digits) at time NOW against the
 * steps NOW-WINDOW .. NOW+WINDOW (WINDOW 0..10; 1 = the usual +-30 s).
 * Replay protection: steps <= LAST_STEP are refused (pass -1 when no code
 * was used yet); store *ret_step as the new LAST_STEP after a success.
 * Every candidate is compared in constant time.
 * 0 and *ret_step on success; GH_EAUTH for a wrong code; GH_EPERM when
 * the code is right but its step was already used (replay); GH_EINVAL on
 * malformed input. */
int gh_totp_verify(const uint8_t *secret, size_t len, const char *code, unsigned digits,
		   int64_t now, unsigned window, int64_t last_step, int64_t *ret_step);

/* Fill BUF with LEN (1..GH_TOTP_MAX_SECRET) random bytes (libsodium). */
int gh_totp_secret_generate(uint8_t *buf, size_t len);

/* RFC 4648 base32, upper case, without '=' padding, NUL-terminated into
 * OUT (OUTLEN >= ceil(N*8/5)+1). *ret_len = characters written.
 * GH_ELIMIT when OUT is too small. */
int gh_base32_encode(const uint8_t *in, size_t n, char *out, size_t outlen, size_t *ret_len);

/* Decode IN: case-insensitive, padding optional (when present it must be
 * complete), spaces and '-' between groups ignored. Impossible lengths,
 * stray characters and non-zero trailing bits are GH_EINVAL; GH_ELIMIT
 * when OUT (OUTLEN bytes) is too small. *ret_len = bytes written. */
int gh_base32_decode(const char *in, uint8_t *out, size_t outlen, size_t *ret_len);

/* otpauth://totp/Gatehouse:ACCOUNT?secret=B32&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30
 * ACCOUNT is percent-encoded (everything but RFC 3986 unreserved
 * characters). Caller wipes and frees *ret. GH_EINVAL on an empty account
 * or a secret outside 1..GH_TOTP_MAX_SECRET bytes. */
int gh_totp_uri(const char *account, const uint8_t *secret, size_t len, char **ret);

/* Draw TEXT as a QR code (error correction M, quiet zone of 2 modules)
 * with two modules per character cell: '█' '▀' '▄' and ' ', one line per
 * two module rows, each line ending in '\n'. By default the light modules
 * are drawn (for light-on-dark terminals); DARK_ON_LIGHT draws the dark
 * ones instead. The same text always gives the same drawing. GH_ELIMIT
 * when it would be wider than 80 columns. Caller wipes and frees *ret;
 * *ret_cols and *ret_lines (may be NULL) give its size in cells. */
int gh_totp_qr_render(const char *text, bool dark_on_light, char **ret, size_t *ret_cols,
		      size_t *ret_lines);
