/* libFuzzer target: the `request` exec command's parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "session/reqcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_reqcmd q;
	char why[64];
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	int r = gh_reqcmd_parse(line, &q, why, sizeof why);
	/* a parsed request has an asset, an account and minutes in range */
	if (r == 0 && (!q.asset || !q.account || !q.ticket || !q.reason || q.minutes < 1 ||
		       strlen(q.reason) > strlen(line)))
		__builtin_trap();
	if (r != 0 && r != GH_EINVAL)
		__builtin_trap();
	free(line);
	return 0;
}
