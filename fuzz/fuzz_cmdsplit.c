/* libFuzzer target: the command line splitter and a filter decision. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "filter/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_cmdlist *l = NULL;
	int r = gh_cmd_split((const char *)data, size, &l);

	if (r == 0) {
		for (size_t i = 0; i < l->n; i++) {
			const struct gh_cmd *c = &l->v[i];
			/* every command has words, a NUL-terminated argv, text and
			 * a span inside the input */
			if (c->argc == 0 || c->argv[c->argc] != NULL || !c->text ||
			    c->off > size || c->len > size - c->off ||
			    c->depth > GH_CMD_MAX_DEPTH)
				__builtin_trap();
			for (size_t k = 0; k < c->argc; k++)
				if (!c->argv[k])
					__builtin_trap();
			/* a dynamic command says why, and only a dynamic one */
			if (!(c->flags & GH_CMD_DYNAMIC) != !c->why || (c->why && !c->why[0]))
				__builtin_trap();
		}
		if (l->n > GH_CMD_MAX_CMDS)
			__builtin_trap();
		gh_cmdlist_free(l);
	} else if (r != GH_EINVAL && r != GH_ELIMIT && r != GH_ENOMEM) {
		__builtin_trap();
	}
	return 0;
}
