/* libFuzzer target: a dial request line and the list of destinations the
 * bastion pushes to a jumpoint agent (ssh/jpnode.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssh/jpnode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), host[256];
	int port = 0;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gh_jpnode_req_parse(s, host, sizeof host, &port) == 0) {
		if (!gh_jpnode_host_ok(host) || port < 1 || port > 65535)
			__builtin_trap();
	}
	(void)gh_jpnode_dest_listed(s, "db01.example", 5432);
	(void)gh_jpnode_dest_listed(s, host[0] ? host : "x", 22);
	free(s);
	return 0;
}
