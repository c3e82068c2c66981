/* Small helpers: strings, numbers, time, files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Strip leading/trailing whitespace in place; returns the first non-space. */
char *gh_strstrip(char *s);

/* Whole-string base-10 integer; GH_EINVAL on junk, empty or overflow. */
int gh_parse_ll(const char *s, long long *ret);

/* "host:port", "[v6]:port" or "host" (port stays untouched when absent
 * and *ret_port is preset; otherwise GH_EINVAL). Caller frees *ret_host. */
int gh_parse_hostport(const char *s, char **ret_host, int *ret_port);

/* Read a whole file of at most MAX bytes (NUL-terminated). Caller frees. */
int gh_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Write DATA to PATH atomically (temp file + rename) with MODE. */
int gh_write_file_atomic(const char *path, const void *data, size_t len, int mode);

/* mkdir -p with MODE for created directories. */
int gh_mkdir_p(const char *path, int mode);

/* Copy SRC into DST (size DSTLEN, always NUL-terminated) with every
 * non-printable byte, backslash and quote written as \xHH; truncates.
 * For putting user-controlled text into logs. Returns DST. */
char *gh_escape(char *dst, size_t dstlen, const char *src);

/* The N strings of V joined with SEP between them, in a new string
 * (caller frees); "" when N is 0. GH_ENOMEM or GH_EINVAL (a NULL
 * argument or string). */
int gh_strjoin(const char *const *v, size_t n, const char *sep, char **ret);

/* Seconds since the epoch (wall clock). */
int64_t gh_now(void);
/* Monotonic milliseconds. */
int64_t gh_mono_ms(void);

/* Parse ISO 8601: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM|-HH:MM]"
 * (a space may replace T; no zone means UTC). */
int gh_parse_time(const char *s, int64_t *ret);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into BUF (at least 21 bytes). */
char *gh_format_time(int64_t t, char *buf, size_t len);

/* Valid object name: 1..64 chars of [A-Za-z0-9._-], not starting with '-'. */
bool gh_valid_name(const char *s);
