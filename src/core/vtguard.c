/* See vtguard.h. */
#include "core/vtguard.h"

enum { ST_NONE = 0, ST_ESC, ST_CSI };

void gh_vtguard_feed(struct gh_vtguard *g, const void *data, size_t len, gh_vtguard_write_fn write,
		     void *ud)
{
	const unsigned char *p = data;
	static const char can = 0x18;
	size_t from = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = p[i];
		if (b == 0x1b) {
			g->state = ST_ESC;
			continue;
		}
		if (b == 0x18 || b == 0x1a) { /* CAN, SUB: the sequence is cancelled */
			g->state = ST_NONE;
			continue;
		}
		if (g->state == ST_ESC) {
			if (b == '[') {
				g->state = ST_CSI;
				g->seps = 0;
			} else if (b >= 0x30 && b <= 0x7e) {
				g->state = ST_NONE;
			}
			/* intermediates, C0 controls and 8-bit bytes do not end it */
			continue;
		}
		if (g->state != ST_CSI)
			continue;
		if (b == ':' || b == ';') {
			if (++g->seps > GH_VTGUARD_MAX_SEPS) {
				if (i > from)
					write(ud, (const char *)p + from, i - from);
				from = i + 1; /* dropped */
			}
		} else if (b >= 0x40 && b <= 0x7e) {
			g->state = ST_NONE; /* final byte */
			if (b == 'b') {   /* REP: cancelled */
				if (i > from)
					write(ud, (const char *)p + from, i - from);
				write(ud, &can, 1);
				from = i + 1;
			}
		}
	}
	if (len > from)
		write(ud, (const char *)p + from, len - from);
}
