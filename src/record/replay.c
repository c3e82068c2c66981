/* Reading recordings back: multi-member gzip, asciicast v2 lines. */
#include "record/record.h"

#include "core/buf.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h> /* isfinite, isnan: macros, no libm */
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Longest line accepted: the writer produces lines of at most ~100 KiB. */
#define MAX_LINE (4u * 1024 * 1024)
#define IN_CAP 65536
#define OUT_CAP 65536

/* Called for every "o" event with its time in ms and the decoded bytes. */
typedef int (*event_fn)(void *ud, int64_t t_ms, const char *data, size_t len);

struct reader {
	int fd;
	z_stream zs;
	bool zs_init;
	unsigned char *in, *out;
	struct gh_buf line;          /* the line being read, capped at MAX_LINE */
	bool header_seen;
	event_fn fn;
	void *ud;
};

static int parse_header(const char *line, size_t len)
{
	json_error_t jerr;
	json_t *h = json_loadb(line, len, 0, &jerr);
	int r = GH_EINVAL;
	if (h && json_is_object(h)) {
		json_t *v = json_object_get(h, "version");
		if (json_is_integer(v) && json_integer_value(v) == 2)
			r = 0;
	}
	json_decref(h);
	return r;
}

static int parse_event(struct reader *rd, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	int r = GH_EINVAL;

	if (!ev || !json_is_array(ev) || json_array_size(ev) < 3)
		goto out;
	json_t *t = json_array_get(ev, 0), *code = json_array_get(ev, 1), *data = json_array_get(ev, 2);
	if (!json_is_number(t) || !json_is_string(code) || !json_is_string(data))
		goto out;
	double secs = json_number_value(t);
	if (!isfinite(secs) || secs < 0 || secs > 1e10)
		goto out;
	r = 0;
	int64_t t_ms = (int64_t)(secs * 1000.0 + 0.5);
	if (strcmp(json_string_value(code), "o") == 0) {
		r = rd->fn(rd->ud, t_ms, json_string_value(data), json_string_length(data));
	} else if (strcmp(json_string_value(code), "b") == 0) {
		/* output that was not a terminal's, byte for byte (base64) */
		size_t blen = json_string_length(data), n = 0;
		unsigned char *bin = malloc(blen / 4 * 3 + 3);
		if (!bin) {
			r = GH_ENOMEM;
			goto out;
		}
		if (sodium_base642bin(bin, blen / 4 * 3 + 3, json_string_value(data), blen, NULL, &n,
				      NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
			r = GH_EINVAL;
		else
			r = rd->fn(rd->ud, t_ms, (const char *)bin, n);
		free(bin);
	}
out:
	json_decref(ev);
	return r;
}

static int handle_line(struct reader *rd, const char *line, size_t len)
{
	if (len == 0)
		return 0;
	if (!rd->header_seen) {
		rd->header_seen = true;
		return parse_header(line, len);
	}
	return parse_event(rd, line, len);
}

/* Split decompressed bytes into lines. */
static int feed(struct reader *rd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		const unsigned char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		int r = gh_buf_put(&rd->line, p, take);
		if (r < 0)
			return r == GH_ELIMIT ? GH_EINVAL : r;
		p += take;
		n -= take;
		if (nl) {
			r = handle_line(rd, rd->line.p, rd->line.len);
			if (r < 0)
				return r;
			gh_buf_reset(&rd->line);
			p++;
			n--;
		}
	}
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* Inflate member after member; a file cut inside a member ends the read
 * quietly (the incomplete last line is dropped). */
static int read_all(struct reader *rd)
{
	bool eof = false;
	int r = 0;

	rd->zs.avail_in = 0;
	for (;;) {
		if (rd->zs.avail_in == 0 && !eof) {
			ssize_t n = read_some(rd->fd, rd->in, IN_CAP);
			if (n < 0)
				return GH_EIO;
			if (n == 0)
				eof = true;
			rd->zs.next_in = rd->in;
			rd->zs.avail_in = (uInt)n;
		}
		if (rd->zs.avail_in == 0 && eof)
			break; /* at a member boundary: clean end; inside one: truncated */
		rd->zs.next_out = rd->out;
		rd->zs.avail_out = OUT_CAP;
		int zr = inflate(&rd->zs, Z_NO_FLUSH);
		size_t have = OUT_CAP - rd->zs.avail_out;
		if (have > 0 && (r = feed(rd, rd->out, have)) < 0)
			return r;
		if (zr == Z_STREAM_END) {
			if (inflateReset(&rd->zs) != Z_OK)
				return GH_EIO;
		} else if (zr == Z_BUF_ERROR) {
			if (eof && rd->zs.avail_in == 0)
				break;
		} else if (zr != Z_OK) {
			return GH_EINVAL; /* corrupt data, not a cut */
		}
	}
	if (!rd->header_seen)
		return GH_EINVAL;
	return 0;
}

static int read_recording_fd(int fd, event_fn fn, void *ud)
{
	struct reader rd = { .fd = fd, .fn = fn, .ud = ud, .line = { .max = MAX_LINE } };
	int r;

	rd.in = malloc(IN_CAP);
	rd.out = malloc(OUT_CAP);
	if (!rd.in || !rd.out) {
		r = GH_ENOMEM;
		goto out;
	}
	if (inflateInit2(&rd.zs, 15 + 16) != Z_OK) {
		r = GH_ENOMEM;
		goto out;
	}
	rd.zs_init = true;
	r = read_all(&rd);
out:
	if (rd.zs_init)
		inflateEnd(&rd.zs);
	free(rd.in);
	free(rd.out);
	gh_buf_free(&rd.line);
	return r;
}

static int read_recording(const char *path, event_fn fn, void *ud)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GH_ENOENT : GH_EIO;
	int r = read_recording_fd(fd, fn, ud);
	close(fd);
	return r;
}

/* ---- gh_rec_read_output -------------------------------------------------- */

static int collect(void *ud, int64_t t_ms, const char *data, size_t len)
{
	return gh_buf_put(ud, data, len);
}

int gh_rec_read_output(const char *path, char **ret, size_t *ret_len)
{
	struct gh_buf b = { 0 };
	size_t len = 0;
	char *text = NULL;
	if (!path || !ret)
		return GH_EINVAL;
	int r = read_recording(path, collect, &b);
	if (r == 0 && !(text = gh_buf_take(&b, &len)))
		r = b.err;
	gh_buf_free(&b);
	if (r < 0)
		return r;
	*ret = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* ---- gh_replay ------------------------------------------------------------ */

struct player {
	int fd;
	double speed;
	int64_t max_idle_ms;
	int64_t prev_ms;
};

static int write_fd(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				(void)poll(&pfd, 1, -1);
				continue;
			}
			return GH_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sleep_ms(double ms)
{
	if (!(ms > 0))
		return;
	int64_t us = (int64_t)(ms * 1000.0);
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int play(void *ud, int64_t t_ms, const char *data, size_t len)
{
	struct player *pl = ud;
	int64_t gap = t_ms - pl->prev_ms;
	if (gap < 0)
		gap = 0;
	if (pl->max_idle_ms > 0 && gap > pl->max_idle_ms)
		gap = pl->max_idle_ms;
	pl->prev_ms = t_ms;
	if (pl->speed > 0)
		sleep_ms((double)gap / pl->speed);
	return write_fd(pl->fd, data, len);
}

int gh_replay(const char *path, double speed, int max_idle_ms, int out_fd)
{
	struct player pl = { .fd = out_fd, .speed = speed,
			     .max_idle_ms = max_idle_ms > 0 ? max_idle_ms : 0 };
	if (!path || out_fd < 0 || isnan(speed))
		return GH_EINVAL;
	return read_recording(path, play, &pl);
}

int gh_replay_fd(int in_fd, double speed, int max_idle_ms, int out_fd)
{
	struct player pl = { .fd = out_fd, .speed = speed,
			     .max_idle_ms = max_idle_ms > 0 ? max_idle_ms : 0 };
	if (in_fd < 0 || out_fd < 0 || isnan(speed))
		return GH_EINVAL;
	return read_recording_fd(in_fd, play, &pl);
}
