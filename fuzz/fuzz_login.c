/* libFuzzer target: the SSH login name parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "ssh/login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_login l;
	if (gh_login_parse((const char *)data, size, &l) == 0) {
		/* every part is NUL-terminated within bounds */
		if (strnlen(l.user, sizeof l.user) == sizeof l.user ||
		    strnlen(l.account, sizeof l.account) == sizeof l.account ||
		    strnlen(l.asset, sizeof l.asset) == sizeof l.asset || l.user[0] == '\0')
			__builtin_trap();
	}
	return 0;
}
