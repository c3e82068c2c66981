/* libFuzzer target: bytes from a telnet target (negotiation, prompt
 * detection, the login machine, the output after it). The secret must
 * never reach the output. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "target/telnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "Zq9-secret-7Wx"

static int sink_send(void *ud, const void *data, size_t len)
{
	(void)ud;
	(void)data;
	(void)len;
	return 0;
}

static void sink_output(void *ud, const void *data, size_t len)
{
	(void)ud;
	if (len >= sizeof SECRET - 1 && memmem(data, len, SECRET, sizeof SECRET - 1))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_telnet *t = NULL;
	char err[128];
	struct gh_telnet_opts o = { .platform = size > 0 && data[0] & 1 ? "network-device" : "linux",
				    .send = sink_send, .output = sink_output };
	if (gh_telnet_new(&o, &t, err, sizeof err) < 0)
		return 0;
	gh_telnet_login(t, "fuzz", SECRET);
	/* in pieces, as a socket delivers them */
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < 97 ? size - off : 97;
		(void)gh_telnet_recv(t, data + off, n);
		off += n;
	}
	gh_telnet_resize(t, 100, 40);
	gh_telnet_send(t, "x\r", 2);
	gh_telnet_free(t);
	return 0;
}
