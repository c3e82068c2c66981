/* libFuzzer target: bytes from a telnet target (negotiation, prompt
 * detection, the login machine, the output after it). Nothing the target
 * sends before the shell prompt may bring the secret to the output (after
 * it, the target's output is the user's session, whatever it prints). */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
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

struct state {
	bool was_ready; /* READY before the byte being fed */
};

static void sink_output(void *ud, const void *data, size_t len)
{
	struct state *st = ud;
	if (!st->was_ready && len >= sizeof SECRET - 1 && memmem(data, len, SECRET, sizeof SECRET - 1))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_telnet *t = NULL;
	struct state st = { false };
	char err[128];
	struct gh_telnet_opts o = { .platform = size > 0 && data[0] & 1 ? "network-device" : "linux",
				    .send = sink_send, .output = sink_output, .ud = &st };
	if (gh_telnet_new(&o, &t, err, sizeof err) < 0)
		return 0;
	gh_telnet_login(t, "fuzz", SECRET);
	/* byte by byte until the login is over (the oracle knows which byte
	 * ended it), then in pieces as a socket delivers them */
	size_t off = 0;
	while (off < size) {
		st.was_ready = gh_telnet_phase(t) == GH_TN_READY;
		size_t n = !st.was_ready ? 1 : size - off < 97 ? size - off : 97;
		(void)gh_telnet_recv(t, data + off, n);
		off += n;
	}
	gh_telnet_resize(t, 100, 40);
	gh_telnet_send(t, "x\r", 2);
	gh_telnet_free(t);
	return 0;
}
