/* libFuzzer target: the exec command classifier (scp -O, rsync, git),
 * which reads the command a client sends before any policy applies. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "policy/execclass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd = malloc(size + 1);
	struct gh_exec_class c;
	if (!cmd)
		return 0;
	memcpy(cmd, data, size);
	cmd[size] = 0;
	if (gh_exec_classify(cmd, &c) == 0) {
		/* the operand is NUL-terminated within bounds; OTHER has none */
		size_t n = strnlen(c.path, sizeof c.path);
		if (n == sizeof c.path || (c.kind == GH_EXEC_OTHER && (n || c.action)))
			__builtin_trap();
		const char *m = gh_exec_method(&c);
		if (c.kind == GH_EXEC_OTHER && m)
			__builtin_trap();
	}
	free(cmd);
	return 0;
}
