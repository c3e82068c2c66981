/* libFuzzer target: the PROXY protocol v1/v2 header parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_proxy_hdr h;
	size_t need = 0;
	int r = gh_proxy_parse(data, size, &h, &need);
	if (r == 0) {
		/* the header lies within the input and within the bound */
		if (h.len == 0 || h.len > size || h.len > GH_PROXY_MAX_LEN ||
		    strnlen(h.src_ip, sizeof h.src_ip) == sizeof h.src_ip ||
		    strnlen(h.dst_ip, sizeof h.dst_ip) == sizeof h.dst_ip ||
		    (!h.local && (!h.src_ip[0] || h.src_port < 0 || h.src_port > 65535)))
			__builtin_trap();
		/* a prefix of a header is never a header */
		if (gh_proxy_parse(data, h.len - 1, &h, &need) == 0)
			__builtin_trap();
	} else if (r == GH_EBUSY) {
		if (need <= size || need > GH_PROXY_MAX_LEN)
			__builtin_trap();
	} else if (r != GH_EINVAL) {
		__builtin_trap();
	}
	return 0;
}
