/* A guard in front of libvterm 0.1.4 (Debian 12) for output that comes
 * from a target, which Gatehouse must never trust:
 *   - CSI sequences with more than 16 parameters overrun libvterm's
 *     argument array (memory corruption): separators beyond
 *     GH_VTGUARD_MAX_SEPS are dropped;
 *   - REP ("ESC [ N b") before any glyph has been drawn loops forever in
 *     libvterm (the repeated glyph has width 0): every CSI ending in 'b' is
 *     cancelled with CAN instead.
 * Only the shadow screens (command filter, live watch) see the rewritten
 * bytes; the user's terminal and the recording get the output unchanged.
 * The guard must be the only path into its VTerm so both parse alike. */
#pragma once
#include <stddef.h>

#define GH_VTGUARD_MAX_SEPS 12

struct gh_vtguard {
	unsigned char state; /* 0 normal, 1 after ESC, 2 in CSI */
	unsigned seps;       /* parameter separators seen in this CSI */
};

typedef void (*gh_vtguard_write_fn)(void *ud, const char *p, size_t n);

/* Pass LEN bytes of P to WRITE (one or more calls), rewritten as above. */
void gh_vtguard_feed(struct gh_vtguard *g, const void *p, size_t len, gh_vtguard_write_fn write,
		     void *ud);
