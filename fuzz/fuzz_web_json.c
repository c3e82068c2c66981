/* libFuzzer target: decoding a request's JSON body (depth bound, objects
 * only, duplicate keys refused) and reading its fields as handlers do. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	char err[256];
	if (gh_web_json_decode((const char *)data, size, &j, err, sizeof err) < 0) {
		if (strnlen(err, sizeof err) == sizeof err)
			__builtin_trap();
		return 0;
	}
	if (!json_is_object(j))
		__builtin_trap();
	static const char *const keys[] = { "name", "address", "port", "user", "password", "totp",
					    "protocols", "nodes", "expires", NULL };
	for (int i = 0; keys[i]; i++) {
		json_t *v = json_object_get(j, keys[i]);
		(void)json_string_value(v);
		(void)json_integer_value(v);
	}
	char *back = json_dumps(j, JSON_COMPACT);
	free(back);
	json_decref(j);
	return 0;
}
