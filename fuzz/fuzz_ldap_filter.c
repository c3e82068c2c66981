/* libFuzzer target: RFC 4515 escaping of LDAP filter values and the
 * filling of a filter template (auth/ldap.h). Whatever the input, the
 * filled filter holds no unescaped '*', '(', ')' or NUL of the value, every
 * '\\' starts a two-digit hex escape, and unescaping gives the input back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ldap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *filter = NULL;
	char out[512];
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0'; /* the value ends at the first NUL, as a C string does */
	size_t inlen = strlen(in);
	if (gh_ldap_escape_filter_value(in, out, sizeof out) == 0) {
		size_t k = 0;
		for (size_t i = 0; out[i]; i++) {
			if (out[i] == '*' || out[i] == '(' || out[i] == ')')
				abort();
			int c = (unsigned char)out[i];
			if (out[i] == '\\') {
				int hi = hexval(out[i + 1]), lo = hi < 0 ? -1 : hexval(out[i + 2]);
				if (hi < 0 || lo < 0)
					abort();
				c = hi * 16 + lo;
				i += 2;
			}
			if (k >= inlen || (unsigned char)in[k] != c)
				abort();
			k++;
		}
		if (k != inlen)
			abort();
	}
	if (gh_ldap_filter_fill("(&(objectClass=inetOrgPerson)(uid=%s))", in, &filter) == 0) {
		int depth = 0;
		for (size_t i = 0; filter[i]; i++) {
			depth += filter[i] == '(' ? 1 : filter[i] == ')' ? -1 : 0;
			if (depth < 0)
				abort();
		}
		if (depth != 0 || strchr(filter, '*'))
			abort();
		free(filter);
	}
	free(in);
	return 0;
}
