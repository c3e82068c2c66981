/* UTF-8 encoding of one code point: the one copy (the shell parser's
 * $'\u...', the command filter's screen text, the live screen). Pure
 * logic, no allocation. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Longest encoding of one code point. */
#define GH_UTF8_MAX 4

/* Write CP as UTF-8 into OUT (room for GH_UTF8_MAX bytes). Returns the
 * number of bytes written (1 to 4), or 0 (nothing written) when CP is not
 * a Unicode scalar value: above U+10FFFF or a surrogate (U+D800..U+DFFF).
 * U+0000 is encoded as one NUL byte; callers that refuse it say so. */
size_t gh_utf8_encode(uint32_t cp, char *out);
