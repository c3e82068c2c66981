/* libFuzzer target: the configuration parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char err[GH_CONFIG_ERRLEN];
	struct gh_config c;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	gh_config_init(&c);
	if (gh_config_parse_buffer(&c, "fuzz.conf", buf, err) == 0)
		gh_config_fill_defaults(&c, "/data");
	gh_config_free(&c);
	free(buf);
	return 0;
}
