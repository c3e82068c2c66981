/* Fault injection for tests: failures no client can provoke (an
 * allocation, a libssh call) made to happen on demand.
 *
 * gh_fault("point") is true when the comma-separated list in the
 * GATEHOUSE_FAULT environment variable names POINT. Only builds made with
 * GH_FAULT_INJECTION (every buildtype but release, minsize and plain; see
 * meson.build) read the variable; in the others gh_fault() is constant
 * false and the points compile away. Points: target-hostkey (the target's
 * host key cannot be read), sftp-queue (the sftp event queue is not
 * allocated), relay-new (the relay is not allocated). */
#pragma once
#include <stdbool.h>

#ifdef GH_FAULT_INJECTION
bool gh_fault(const char *point);
#else
static inline bool gh_fault(const char *point)
{
	(void)point;
	return false;
}
#endif
