/* Fault injection for tests (see fault.h). */
#include "core/fault.h"

#ifdef GH_FAULT_INJECTION
#include <stdlib.h>
#include <string.h>

bool gh_fault(const char *point)
{
	const char *list = getenv("GATEHOUSE_FAULT");
	size_t n = strlen(point);
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, point, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}
#endif
