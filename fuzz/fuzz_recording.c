/* libFuzzer target: a session's output, as a target could send it, through
 * the recorder (binary events on, as for sessions without a terminal) and
 * read back.
 *
 * The first input byte picks the read size. Checks that every chunk is
 * accepted (input events too), that the file reads back, and that what
 * reads back is never longer than the input could become (U+FFFD, three
 * bytes, for a byte that is not UTF-8; "b" events decode byte for byte);
 * ASan/UBSan check the line bounds on the way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (size == 0)
		return 0;
	if (!path[0])
		snprintf(path, sizeof path, "%s/fuzz-recording-%d.cast.gz",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
	size_t chunk = 1 + (size_t)data[0] * 97;
	data++;
	size--;
	unlink(path);
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .start_ms = 1700000000000, .binary_events = true,
				 .record_input = true };
	if (gh_rec_open(path, &o, &r) != 0)
		abort();
	int64_t t = 1700000000000;
	for (size_t i = 0; i < size; i += chunk) {
		size_t n = size - i < chunk ? size - i : chunk;
		if (gh_rec_output(r, t++, data + i, n) != 0 || gh_rec_input(r, t, data + i, n) != 0)
			abort();
	}
	if (gh_rec_close(r) != 0)
		abort();
	char *out = NULL;
	size_t len = 0;
	if (gh_rec_read_output(path, &out, &len) != 0)
		abort();
	/* at most 3 bytes (U+FFFD) for each byte of input */
	if (len > 3 * size)
		abort();
	free(out);
	unlink(path);
	return 0;
}
