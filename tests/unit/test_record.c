#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "core/util.h"
#include "record/record.h"

extern char **environ;

/* ---- helpers ----------------------------------------------------------- */

static char *tmpdir_new(void)
{
	char *d = strdup("/tmp/gh-test-record-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static char *escape(const void *in, size_t len)
{
	struct gh_utf8_state st = { 0 };
	size_t cap = GH_JSON_ESCAPE_BOUND(len) + 1;
	char *out = malloc(cap);
	assert_non_null(out);
	long n = gh_json_escape(&st, in, len, true, out, cap);
	assert_true(n >= 0);
	out[n] = '\0';
	return out;
}

/* Escape IN fed in chunks of CHUNK bytes. */
static char *escape_chunked(const void *in, size_t len, size_t chunk)
{
	struct gh_utf8_state st = { 0 };
	size_t cap = GH_JSON_ESCAPE_BOUND(len) + 1, o = 0;
	char *out = malloc(cap);
	const char *p = in;
	assert_non_null(out);
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;
		long w = gh_json_escape(&st, p + i, n, i + n == len, out + o, cap - o);
		assert_true(w >= 0);
		o += (size_t)w;
	}
	if (len == 0) {
		long w = gh_json_escape(&st, "", 0, true, out, cap);
		assert_true(w >= 0);
		o += (size_t)w;
	}
	out[o] = '\0';
	return out;
}

/* Parse "BODY" as a JSON string: must be valid JSON and valid UTF-8. */
static json_t *parse_body(const char *body)
{
	size_t n = strlen(body);
	char *doc = malloc(n + 3);
	assert_non_null(doc);
	doc[0] = '"';
	memcpy(doc + 1, body, n);
	doc[n + 1] = '"';
	doc[n + 2] = '\0';
	json_error_t err;
	json_t *j = json_loads(doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j)
		fail_msg("not a JSON string: %s (%s)", doc, err.text);
	free(doc);
	return j;
}

static void check_escape(const void *in, size_t len, const char *want)
{
	char *got = escape(in, len);
	if (strcmp(got, want) != 0)
		fail_msg("escape: got '%s', want '%s'", got, want);
	json_decref(parse_body(got));
	free(got);
}

/* Decompress a whole (complete) gzip file with zlib's gz* (multi-member). */
static char *gunzip_file(const char *path, size_t *ret_len)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	int n;
	assert_non_null(g);
	assert_non_null(buf);
	while ((n = gzread(g, buf + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	assert_int_equal(n, 0);
	gzclose(g);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static struct gh_rec *open_rec(const char *path, bool input, size_t member_bytes, int member_ms)
{
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .width = 100, .height = 30, .term = "xterm-256color",
				 .title = "alice \xe2\x86\x92 deploy@web01", .start_ms = 1700000000000,
				 .record_input = input, .member_bytes = member_bytes,
				 .member_ms = member_ms };
	assert_int_equal(gh_rec_open(path, &o, &r), 0);
	assert_non_null(r);
	return r;
}

static void copy_prefix(const char *src, const char *dst, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(gh_read_file(src, 64 << 20, &buf, &len), 0);
	assert_true(n <= len);
	unlink(dst);
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	free(buf);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* ---- the escaper ----------------------------------------------------- */

static void test_escape_ascii_and_controls(void **state)
{
	check_escape("hello", 5, "hello");
	check_escape("a\"b\\c/", 6, "a\\\"b\\\\c/");
	check_escape("\r\n\t\b\f", 5, "\\r\\n\\t\\b\\f");
	check_escape("\x1b[31mred\x1b[0m", 12, "\\u001b[31mred\\u001b[0m");
	check_escape("a\0b", 3, "a\\u0000b");
	check_escape("\x7f\x01\x1f", 3, "\\u007f\\u0001\\u001f");
	check_escape("", 0, "");
}

static void test_escape_utf8_valid(void **state)
{
	check_escape("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9");          /* été */
	check_escape("\xe2\x86\x92", 3, "\xe2\x86\x92");                    /* → */
	check_escape("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");            /* 😀 */
	check_escape("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");            /* U+10FFFF */
	check_escape("\xc2\x9b" "1m", 4, "\\u009b1m");                      /* C1 CSI */
	check_escape("\xc2\xa0", 2, "\xc2\xa0");                            /* NBSP is kept */
}

static void test_escape_utf8_invalid(void **state)
{
	check_escape("\xff", 1, "\xef\xbf\xbd");
	check_escape("a\x80z", 3, "a\xef\xbf\xbdz");
	check_escape("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");                   /* overlong */
	check_escape("\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");   /* overlong */
	check_escape("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");   /* surrogate */
	check_escape("\xf4\x90\x80\x80", 4,
		     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");          /* > U+10FFFF */
	check_escape("\xe2\x86" "A", 3, "\xef\xbf\xbd" "A");                       /* cut short */
	check_escape("\xe2\x86\"", 3, "\xef\xbf\xbd\\\"");
	check_escape("\xf0\x9f\x98", 3, "\xef\xbf\xbd");                           /* final, incomplete */
	check_escape("\xe2\xe2\x86\x92", 4, "\xef\xbf\xbd\xe2\x86\x92");
}

static void test_escape_split_across_chunks(void **state)
{
	static const char text[] = "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80 \"q\" \\ \x1b[0m\x00 "
				   "\xff\xe2\x86 end \xe6\x97\xa5\xe6\x9c\xac";
	size_t len = sizeof text - 1;
	char *whole = escape(text, len);
	for (size_t chunk = 1; chunk <= len; chunk++) {
		char *part = escape_chunked(text, len, chunk);
		if (strcmp(whole, part) != 0)
			fail_msg("chunk %zu: '%s' != '%s'", chunk, part, whole);
		free(part);
	}
	json_decref(parse_body(whole));
	free(whole);

	/* a carried prefix is completed by the next chunk, not written early */
	struct gh_utf8_state st = { 0 };
	char out[64];
	assert_int_equal(gh_json_escape(&st, "x\xf0\x9f", 3, false, out, sizeof out), 1);
	assert_int_equal(gh_json_escape(&st, "\x98", 1, false, out, sizeof out), 0);
	long n = gh_json_escape(&st, "\x80y", 2, false, out, sizeof out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "\xf0\x9f\x98\x80y", 5);
}

static void test_escape_bound_checked(void **state)
{
	struct gh_utf8_state st = { 0 };
	char out[8];
	assert_int_equal(gh_json_escape(&st, "abcdef", 6, true, out, sizeof out), GH_ELIMIT);
}

static void test_escape_random_is_valid_json(void **state)
{
	unsigned seed = 12345;
	for (int round = 0; round < 2000; round++) {
		unsigned char in[64];
		size_t len = (size_t)(rand_r(&seed) % sizeof in);
		for (size_t i = 0; i < len; i++) {
			/* bias towards UTF-8-ish bytes */
			unsigned v = (unsigned)rand_r(&seed);
			in[i] = (unsigned char)((v & 3) == 0 ? 0x80 + (v >> 8) % 0x80 : v >> 8);
		}
		size_t chunk = 1 + (size_t)(rand_r(&seed) % 7);
		char *a = escape(in, len), *b = escape_chunked(in, len, chunk);
		assert_string_equal(a, b);
		json_t *j = parse_body(a);
		/* no raw control byte, DEL or C1 control reaches the file */
		for (const unsigned char *q = (const unsigned char *)a; *q; q++) {
			assert_true(*q >= 0x20 && *q != 0x7f);
			if (q[0] == 0xc2 && q[1] >= 0x80 && q[1] < 0xa0)
				fail_msg("raw C1 control in '%s'", a);
		}
		json_decref(j);
		free(a);
		free(b);
	}
}

/* The table and eight-byte fast paths agree with the byte-by-byte state
 * machine (one-byte chunks take no fast path) on long mixed input: text,
 * escapes, valid and broken UTF-8 of every length, binary. */
static void test_escape_fast_paths_match_bytewise(void **state)
{
	static const char *pieces[] = { "plain text runs longer than eight ", "\"q\\", "\t\r\n",
					"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\x85",
					"\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xf4\x90",
					"\xe0\x80", "\x7f\x1b[0m" };
	unsigned seed = 777;
	size_t cap = 200000, len = 0;
	unsigned char *in = malloc(cap);
	assert_non_null(in);
	while (len < cap - 64) {
		unsigned v = (unsigned)rand_r(&seed);
		if (v % 3 == 0) {
			in[len++] = (unsigned char)(v >> 8);
		} else {
			const char *pc = pieces[(v >> 4) % (sizeof pieces / sizeof *pieces)];
			memcpy(in + len, pc, strlen(pc));
			len += strlen(pc);
		}
	}
	char *a = escape(in, len), *b = escape_chunked(in, len, 1), *c = escape_chunked(in, len, 13);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
	free(in);
}

/* ---- the writer ------------------------------------------------------ */

/* Output of no terminal (binary_events): text stays "o", a binary chunk
 * becomes a "b" event and reads back byte for byte, also when it follows
 * text that ended inside a UTF-8 sequence; both with and without the
 * writer thread. */
static void binary_events_case(bool background)
{
	char *d = tmpdir_new(), path[512], *out = NULL, *z = NULL;
	size_t len = 0, zlen = 0;
	snprintf(path, sizeof path, "%s/b.cast.gz", d);
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .start_ms = 1700000000000, .background = background,
				 .binary_events = true };
	assert_int_equal(gh_rec_open(path, &o, &r), 0);
	unsigned char bin[40000];
	unsigned seed = 99;
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(rand_r(&seed) >> 7);
	int64_t t0 = 1700000000000;
	assert_int_equal(gh_rec_output(r, t0 + 1, "text \xc3\xa9 line\n", 13), 0);
	assert_int_equal(gh_rec_output(r, t0 + 2, "split \xe2\x82", 8), 0);
	assert_int_equal(gh_rec_output(r, t0 + 3, bin, sizeof bin), 0);
	assert_int_equal(gh_rec_output(r, t0 + 4, "done\n", 5), 0);
	assert_int_equal(gh_rec_close(r), 0);

	assert_int_equal(gh_rec_read_output(path, &out, &len), 0);
	assert_int_equal(len, 13 + 8 + sizeof bin + 5);
	assert_memory_equal(out, "text \xc3\xa9 line\nsplit \xe2\x82", 21);
	assert_memory_equal(out + 21, bin, sizeof bin);
	assert_memory_equal(out + 21 + sizeof bin, "done\n", 5);
	free(out);

	z = gunzip_file(path, &zlen);
	size_t n_o = 0, n_b = 0;
	char *save = NULL;
	for (char *line = strtok_r(z, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		n_o += strstr(line, ", \"o\", ") != NULL;
		n_b += strstr(line, ", \"b\", ") != NULL;
	}
	assert_int_equal(n_o, 3); /* the two text chunks and "done" */
	assert_int_equal(n_b, 3); /* 40000 bytes in chunks of at most 16 KiB */
	free(z);
	rm_rf(d);
	free(d);
}

static void test_binary_events(void **state)
{
	binary_events_case(false);
	binary_events_case(true);
}

static void test_round_trip(void **state)
{
	char *d = tmpdir_new(), path[512], *out = NULL, *z = NULL;
	size_t len = 0, zlen = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	struct gh_rec *r = open_rec(path, true, 0, 0);
	int64_t t0 = 1700000000000;
	assert_int_equal(gh_rec_output(r, t0 + 10, "$ ", 2), 0);
	assert_int_equal(gh_rec_input(r, t0 + 500, "ls\r", 3), 0);
	assert_int_equal(gh_rec_output(r, t0 + 520, "ls\r\nfile \xe2\x86", 11), 0);
	assert_int_equal(gh_rec_resize(r, t0 + 1500, 120, 40), 0);
	assert_int_equal(gh_rec_output(r, t0 + 1600, "\x92 \"x\"\r\n", 7), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 5000), 0);
	assert_int_equal(gh_rec_close(r), 0);
	assert_int_equal(gh_rec_close(NULL), 0);

	/* mode 0600 */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(gh_rec_read_output(path, &out, &len), 0);
	assert_int_equal(len, 2 + 11 + 7);
	assert_memory_equal(out, "$ ls\r\nfile \xe2\x86\x92 \"x\"\r\n", len);
	free(out);

	/* line by line: header, then events in order with their codes */
	z = gunzip_file(path, &zlen);
	char *save = NULL, *line = strtok_r(z, "\n", &save);
	json_error_t err;
	json_t *h = json_loads(line, 0, &err);
	assert_non_null(h);
	assert_int_equal(json_integer_value(json_object_get(h, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(h, "width")), 100);
	assert_int_equal(json_integer_value(json_object_get(h, "height")), 30);
	assert_int_equal(json_integer_value(json_object_get(h, "timestamp")), 1700000000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(h, "env"), "TERM")),
			    "xterm-256color");
	assert_string_equal(json_string_value(json_object_get(h, "title")),
			    "alice \xe2\x86\x92 deploy@web01");
	json_decref(h);
	static const struct { double t; const char *code, *data; } want[] = {
		{ 0.010, "o", "$ " },
		{ 0.500, "i", "ls\r" },
		{ 0.520, "o", "ls\r\nfile " }, /* the cut arrow waits for its last byte */
		{ 1.500, "r", "120x40" },
		{ 1.600, "o", "\xe2\x86\x92 \"x\"\r\n" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		line = strtok_r(NULL, "\n", &save);
		assert_non_null(line);
		json_t *ev = json_loads(line, 0, &err);
		assert_non_null(ev);
		assert_int_equal(json_array_size(ev), 3);
		assert_true(json_real_value(json_array_get(ev, 0)) > want[i].t - 1e-9 &&
			    json_real_value(json_array_get(ev, 0)) < want[i].t + 1e-9);
		assert_string_equal(json_string_value(json_array_get(ev, 1)), want[i].code);
		assert_string_equal(json_string_value(json_array_get(ev, 2)), want[i].data);
		json_decref(ev);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	free(z);
	rm_rf(d);
	free(d);
}

static void test_input_off_and_time_monotonic(void **state)
{
	char *d = tmpdir_new(), path[512], *z = NULL;
	size_t zlen = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	struct gh_rec *r = open_rec(path, false, 0, 0);
	int64_t t0 = 1700000000000;
	assert_int_equal(gh_rec_input(r, t0 + 1, "secret\r", 7), 0);
	assert_int_equal(gh_rec_output(r, t0 + 2000, "a", 1), 0);
	assert_int_equal(gh_rec_output(r, t0 + 1000, "b", 1), 0); /* clock stepped back */
	assert_int_equal(gh_rec_output(r, t0 - 5000, "c", 1), 0);
	assert_int_equal(gh_rec_close(r), 0);
	z = gunzip_file(path, &zlen);
	assert_null(strstr(z, "secret"));
	assert_null(strstr(z, "\"i\""));
	assert_non_null(strstr(z, "[2.000, \"o\", \"a\"]\n[2.000, \"o\", \"b\"]\n[2.000, \"o\", \"c\"]\n"));
	free(z);
	rm_rf(d);
	free(d);
}

static void test_large_chunk_and_hostile_bytes(void **state)
{
	char *d = tmpdir_new(), path[512], *out = NULL, *z = NULL;
	size_t len = 0, zlen = 0, n = 300000;
	unsigned char *big = malloc(n);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 8));
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	struct gh_rec *r = open_rec(path, true, 0, 0);
	assert_int_equal(gh_rec_output(r, 1700000000000, big, n), 0);
	assert_int_equal(gh_rec_input(r, 1700000000001, big, n), 0);
	assert_int_equal(gh_rec_close(r), 0);
	/* every line is valid JSON (hence valid UTF-8) */
	z = gunzip_file(path, &zlen);
	size_t lines = 0;
	for (char *save = NULL, *line = strtok_r(z, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *j = json_loads(line, JSON_ALLOW_NUL, &err);
		if (!j)
			fail_msg("line %zu: %s", lines, err.text);
		json_decref(j);
		lines++;
	}
	assert_true(lines > 2 * (n / 16384)); /* split into bounded events */
	free(z);
	assert_int_equal(gh_rec_read_output(path, &out, &len), 0);
	assert_true(len > 0);
	free(out);
	free(big);
	rm_rf(d);
	free(d);
}

/* A file cut anywhere reads back at least everything in the members that
 * were finished before the cut, and never anything else than a prefix. */
static void test_cut_file_reads_up_to_last_member(void **state)
{
	char *d = tmpdir_new(), path[512], cut[512], *full = NULL;
	size_t full_len = 0;
	enum { N = 40 };
	size_t end_of_member[N], out_until[N], total = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	snprintf(cut, sizeof cut, "%s/cut.cast.gz", d);
	/* member_bytes 1: every event finishes its member */
	struct gh_rec *r = open_rec(path, false, 1, 0);
	size_t header_end = (size_t)gh_rec_bytes_written(r);
	for (int i = 0; i < N; i++) {
		char buf[64];
		int n = snprintf(buf, sizeof buf, "line %d \xe2\x86\x92 %s\r\n", i, i % 3 ? "x" : "yy");
		assert_int_equal(gh_rec_output(r, 1700000000000 + i * 10, buf, (size_t)n), 0);
		total += (size_t)n;
		out_until[i] = total;
		end_of_member[i] = (size_t)gh_rec_bytes_written(r);
	}
	assert_int_equal(gh_rec_close(r), 0);
	assert_int_equal(gh_rec_read_output(path, &full, &full_len), 0);
	assert_int_equal(full_len, total);
	size_t size = (size_t)file_size(path);
	assert_int_equal(size, end_of_member[N - 1]);

	for (size_t c = header_end; c <= size; c++) {
		char *got = NULL;
		size_t got_len = 0, want_min = 0;
		for (int i = 0; i < N; i++)
			if (end_of_member[i] <= c)
				want_min = out_until[i];
		copy_prefix(path, cut, c);
		assert_int_equal(gh_rec_read_output(cut, &got, &got_len), 0);
		assert_true(got_len >= want_min);
		assert_true(got_len <= full_len);
		assert_memory_equal(got, full, got_len);
		free(got);
		/* replay tolerates the cut too */
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		assert_int_equal(gh_replay(cut, 0, 0, fd), 0);
		close(fd);
	}
	/* a file cut inside the header member has no header: an error, not a crash */
	copy_prefix(path, cut, header_end / 2);
	char *got = NULL;
	assert_int_equal(gh_rec_read_output(cut, &got, NULL), GH_EINVAL);
	free(full);
	rm_rf(d);
	free(d);
}

/* Output recorded by the writer thread of R shows up in a copy of PATH
 * within a bounded wait (the writer runs on its own). */
static bool bg_shows(const char *path, const char *cut, const char *want, size_t n)
{
	for (int i = 0; i < 500; i++) {
		char *got = NULL;
		size_t got_len = 0;
		copy_prefix(path, cut, (size_t)file_size(path));
		bool ok = gh_rec_read_output(cut, &got, &got_len) == 0 && got_len == n &&
			  memcmp(got, want, n) == 0;
		free(got);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

/* With a writer thread, an idle session's ticks stop waking it once every
 * member is finished, and start again with the next output: members are
 * still finished on time. */
static void test_bg_idle_ticks(void **state)
{
	char *d = tmpdir_new(), path[512], cut[512];
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	snprintf(cut, sizeof cut, "%s/cut.cast.gz", d);
	int64_t t0 = 1700000000000;
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .width = 80, .height = 24, .start_ms = t0, .member_ms = 1000,
				 .background = true };
	assert_int_equal(gh_rec_open(path, &o, &r), 0);
	assert_int_equal(gh_rec_output(r, t0 + 100, "hello", 5), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 600), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 1100), 0); /* due: finishes the member */
	assert_true(bg_shows(path, cut, "hello", 5));
	for (int64_t t = 1200; t < 5000; t += 100) /* idle */
		assert_int_equal(gh_rec_tick(r, t0 + t), 0);
	assert_int_equal(gh_rec_output(r, t0 + 6000, " world", 6), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 6500), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 7000), 0); /* due again */
	assert_true(bg_shows(path, cut, "hello world", 11));
	assert_int_equal(gh_rec_close(r), 0);
	rm_rf(d);
	free(d);
}

/* Nothing of an open member is readable; the member becomes readable once
 * gh_rec_tick finds it due (member_ms after its first event). */
static void test_tick_finishes_member_on_time(void **state)
{
	char *d = tmpdir_new(), path[512], cut[512], *got = NULL;
	size_t got_len = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	snprintf(cut, sizeof cut, "%s/cut.cast.gz", d);
	int64_t t0 = 1700000000000;
	struct gh_rec *r = open_rec(path, false, 0, 1000);
	assert_int_equal(gh_rec_output(r, t0 + 100, "hello", 5), 0);
	assert_int_equal(gh_rec_tick(r, t0 + 600), 0);
	copy_prefix(path, cut, (size_t)file_size(path)); /* as if killed now */
	assert_int_equal(gh_rec_read_output(cut, &got, &got_len), 0);
	assert_int_equal(got_len, 0);
	free(got);
	assert_int_equal(gh_rec_tick(r, t0 + 1100), 0);
	copy_prefix(path, cut, (size_t)file_size(path));
	assert_int_equal(gh_rec_read_output(cut, &got, &got_len), 0);
	assert_int_equal(got_len, 5);
	assert_memory_equal(got, "hello", 5);
	free(got);
	/* size boundary: member_bytes reached finishes without a tick */
	assert_int_equal(gh_rec_close(r), 0);
	unlink(path);
	r = open_rec(path, false, 4096, 60000);
	char chunk[1024];
	memset(chunk, 'z', sizeof chunk);
	for (int i = 0; i < 8; i++)
		assert_int_equal(gh_rec_output(r, t0 + 200, chunk, sizeof chunk), 0);
	copy_prefix(path, cut, (size_t)file_size(path));
	assert_int_equal(gh_rec_read_output(cut, &got, &got_len), 0);
	assert_true(got_len >= 4096 - 64);
	free(got);
	assert_int_equal(gh_rec_close(r), 0);
	rm_rf(d);
	free(d);
}

/* The background writer produces exactly the file the synchronous one does,
 * including member boundaries chosen by ticks and sizes, and stays bounded
 * while being fed faster than it writes. */
static void write_session(const char *path, bool background)
{
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .width = 80, .height = 24, .term = "xterm", .title = "t",
				 .start_ms = 1700000000000, .record_input = true,
				 .member_bytes = 4096, .member_ms = 500, .background = background };
	unsigned char chunk[5000];
	int64_t t = o.start_ms;
	assert_int_equal(gh_rec_open(path, &o, &r), 0);
	for (int i = 0; i < 600; i++) {
		for (size_t k = 0; k < sizeof chunk; k++) /* text, controls, UTF-8, junk */
			chunk[k] = (unsigned char)((k * 31 + (size_t)i * 7) % (i % 3 ? 96 : 256) + (i % 3 ? 32 : 0));
		t += i % 5;
		assert_int_equal(gh_rec_output(r, t, chunk, (size_t)(i % 7) * 700 + 1), 0);
		if (i % 11 == 0)
			assert_int_equal(gh_rec_input(r, t, "ls\r", 3), 0);
		if (i % 37 == 0)
			assert_int_equal(gh_rec_resize(r, t, 80 + i % 40, 24 + i % 10), 0);
		if (i % 3 == 0) {
			t += 150; /* ticks at least BG_TICK_EVERY_MS apart behave the same */
			assert_int_equal(gh_rec_tick(r, t), 0);
		}
	}
	assert_int_equal(gh_rec_close(r), 0);
}

static void test_background_writer_same_file(void **state)
{
	char *d = tmpdir_new(), a[512], b[512];
	snprintf(a, sizeof a, "%s/sync.cast.gz", d);
	snprintf(b, sizeof b, "%s/bg.cast.gz", d);
	write_session(a, false);
	write_session(b, true);
	char *x = NULL, *y = NULL;
	size_t xn = 0, yn = 0;
	assert_int_equal(gh_read_file(a, 64 << 20, &x, &xn), 0);
	assert_int_equal(gh_read_file(b, 64 << 20, &y, &yn), 0);
	assert_int_equal(xn, yn);
	assert_memory_equal(x, y, xn); /* byte for byte: same events, same members */
	size_t zl = 0;
	char *z = gunzip_file(b, &zl);
	assert_true(zl > 600 * 1000);
	free(z);
	free(x);
	free(y);
	unlink(a);
	unlink(b);
	rmdir(d);
	free(d);
}

/* Output that switches between text and incompressible bytes moves the
 * compressor between its tiers; every tier must still decode to exactly
 * what was printed, and text must end up compressed again. */
static void test_compression_tiers_round_trip(void **state)
{
	char *d = tmpdir_new(), path[512];
	snprintf(path, sizeof path, "%s/tiers.cast.gz", d);
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .start_ms = 1700000000000, .member_bytes = 64 * 1024 };
	assert_int_equal(gh_rec_open(path, &o, &r), 0);
	size_t total = 0, cap = 64 << 20;
	char *want = malloc(cap);
	unsigned char chunk[8192];
	uint32_t x = 12345;
	uint64_t before_text = 0;
	assert_non_null(want);
	for (int phase = 0; phase < 3; phase++) {
		if (phase == 1)
			before_text = gh_rec_bytes_written(r);
		int chunks = phase == 1 ? 3000 : 200; /* text long enough for probes to succeed */
		for (int i = 0; i < chunks; i++) {
			for (size_t k = 0; k < sizeof chunk; k++) {
				x = x * 1103515245u + 12345u;
				/* printable random bytes never need escaping: exact round trip */
				chunk[k] = phase == 1 ? (unsigned char)("hello world, all is fine\n"[k % 25])
						      : (unsigned char)(0x20 + (x >> 16) % 95);
			}
			if (phase == 1 && chunk[0] == '\n')
				chunk[0] = 'x';
			assert_int_equal(gh_rec_output(r, o.start_ms + total / 1000, chunk, sizeof chunk), 0);
			memcpy(want + total, chunk, sizeof chunk);
			total += sizeof chunk;
		}
		if (phase == 1) {
			/* 24 MiB of repetitive text: LZ77 came back (stored throughout
			 * would be over 24 MiB) */
			uint64_t text_gz = gh_rec_bytes_written(r) - before_text;
			assert_true(text_gz < (uint64_t)chunks * sizeof chunk / 5);
		}
	}
	assert_int_equal(gh_rec_close(r), 0);
	char *got = NULL;
	size_t gl = 0;
	assert_int_equal(gh_rec_read_output(path, &got, &gl), 0);
	assert_int_equal(gl, total);
	assert_memory_equal(got, want, total);
	free(got);
	free(want);
	rm_rf(d);
	free(d);
}

static void test_replay_speed0_exact(void **state)
{
	char *d = tmpdir_new(), path[512], outp[512], *back = NULL;
	size_t back_len = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	snprintf(outp, sizeof outp, "%s/out", d);
	struct gh_rec *r = open_rec(path, true, 200, 0);
	static const char *parts[] = { "\x1b[?1049h\x1b[H", "caf\xc3", "\xa9\r\n", "\ttab \\ \"q\"",
				       "\x00nul\x7f", "\xc2\x9b\x63\x31", "\xf0\x9f\x98\x80\r\n" };
	static const size_t lens[] = { 12, 4, 3, 11, 5, 4, 6 };
	char want[256];
	size_t wl = 0;
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(gh_rec_output(r, 1700000000000 + (int64_t)i * 3000, parts[i], lens[i]), 0);
		assert_int_equal(gh_rec_input(r, 1700000000000 + (int64_t)i * 3000 + 1, "k", 1), 0);
		memcpy(want + wl, parts[i], lens[i]);
		wl += lens[i];
	}
	assert_int_equal(gh_rec_close(r), 0);
	int fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(gh_replay(path, 0, 0, fd), 0);
	close(fd);
	assert_int_equal(gh_read_file(outp, 1 << 20, &back, &back_len), 0);
	assert_int_equal(back_len, wl);
	assert_memory_equal(back, want, wl);
	free(back);
	assert_int_equal(gh_replay("/nonexistent/x.cast.gz", 0, 0, 1), GH_ENOENT);
	rm_rf(d);
	free(d);
}

static void test_replay_timing(void **state)
{
	char *d = tmpdir_new(), path[512];
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	struct gh_rec *r = open_rec(path, false, 0, 0);
	assert_int_equal(gh_rec_output(r, 1700000000000, "a", 1), 0);
	assert_int_equal(gh_rec_output(r, 1700000001000, "b", 1), 0);  /* +1 s */
	assert_int_equal(gh_rec_output(r, 1700000061000, "c", 1), 0);  /* +60 s idle */
	assert_int_equal(gh_rec_close(r), 0);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int64_t t = gh_mono_ms();
	/* speed 10: the 1 s gap -> 100 ms, the 60 s gap capped at 1 s -> 100 ms */
	assert_int_equal(gh_replay(path, 10, 1000, fd), 0);
	int64_t el = gh_mono_ms() - t;
	close(fd);
	assert_true(el >= 190);
	assert_true(el < 1500);
	rm_rf(d);
	free(d);
}

static void test_path_and_open_safety(void **state)
{
	char *d = tmpdir_new(), *p = NULL, sub[512], link[600];
	struct gh_rec *r = NULL;
	struct gh_rec_opts o = { .start_ms = 0 };
	snprintf(sub, sizeof sub, "%s/rec", d);
	/* 2024-02-29 23:59:59 UTC */
	assert_int_equal(gh_rec_path(sub, "s-42", 1709251199, &p), 0);
	char want[600];
	snprintf(want, sizeof want, "%s/2024/02/29/s-42.cast.gz", sub);
	assert_string_equal(p, want);
	snprintf(want, sizeof want, "%s/2024/02/29", sub);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(gh_rec_open(p, &o, &r), 0);
	assert_int_equal(gh_rec_close(r), 0);
	r = NULL;
	assert_int_equal(gh_rec_open(p, &o, &r), GH_EEXIST); /* never overwritten */
	assert_null(r);
	/* a symlink planted at the path is not followed */
	snprintf(link, sizeof link, "%s/2024/02/29/s-43.cast.gz", sub);
	assert_int_equal(symlink("/tmp/gh-should-not-exist", link), 0);
	assert_true(gh_rec_open(link, &o, &r) < 0);
	assert_int_equal(access("/tmp/gh-should-not-exist", F_OK), -1);
	free(p);
	p = NULL;
	assert_int_equal(gh_rec_path(sub, "../x", 0, &p), GH_EINVAL);
	assert_int_equal(gh_rec_path(sub, "a/b", 0, &p), GH_EINVAL);
	assert_int_equal(gh_rec_path(sub, ".hidden", 0, &p), GH_EINVAL);
	assert_int_equal(gh_rec_path(sub, "", 0, &p), GH_EINVAL);
	assert_null(p);
	rm_rf(d);
	free(d);
}

/* A write error (here: file size limit) is reported, and stays reported. */
static void test_write_error_reported(void **state)
{
	char *d = tmpdir_new(), path[512];
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 4096, .rlim_max = 4096 };
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		struct gh_rec *r = NULL;
		struct gh_rec_opts o = { .start_ms = 0, .member_bytes = 1024 };
		if (gh_rec_open(path, &o, &r) < 0)
			_exit(11);
		unsigned seed = 1;
		unsigned char buf[2048];
		int e = 0;
		for (int i = 0; i < 100 && e == 0; i++) {
			for (size_t j = 0; j < sizeof buf; j++)
				buf[j] = (unsigned char)rand_r(&seed);
			e = gh_rec_output(r, i, buf, sizeof buf);
		}
		if (e != GH_EIO)
			_exit(12);
		if (gh_rec_tick(r, 100000) != GH_EIO || gh_rec_output(r, 0, "x", 1) != GH_EIO)
			_exit(13);
		if (gh_rec_close(r) != GH_EIO)
			_exit(14);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* what was written still reads back */
	char *got = NULL;
	assert_int_equal(gh_rec_read_output(path, &got, NULL), 0);
	free(got);
	rm_rf(d);
	free(d);
}

/* asciinema itself accepts the decompressed file. */
static void test_asciinema_cat(void **state)
{
	if (access("/usr/bin/asciinema", X_OK) != 0)
		fail_msg("/usr/bin/asciinema missing (scripts/deps.sh installs it)");
	char *d = tmpdir_new(), path[512], cast[512], outp[512], *z = NULL, *got = NULL;
	size_t zlen = 0, got_len = 0;
	snprintf(path, sizeof path, "%s/s.cast.gz", d);
	snprintf(cast, sizeof cast, "%s/s.cast", d);
	snprintf(outp, sizeof outp, "%s/out", d);
	struct gh_rec *r = open_rec(path, true, 64, 0);
	static const char text[] = "hello \xe2\x86\x92 w\xc3\xb6rld\r\n\x1b[1mbold\x1b[0m \"q\" \\\r\n";
	assert_int_equal(gh_rec_output(r, 1700000000000, text, 10), 0);
	assert_int_equal(gh_rec_input(r, 1700000000100, "x", 1), 0);
	assert_int_equal(gh_rec_resize(r, 1700000000200, 90, 20), 0);
	assert_int_equal(gh_rec_output(r, 1700000000300, text + 10, sizeof text - 1 - 10), 0);
	assert_int_equal(gh_rec_close(r), 0);
	z = gunzip_file(path, &zlen);
	int fd = open(cast, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, z, zlen), (ssize_t)zlen);
	close(fd);
	free(z);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* `asciinema cat` insists on /dev/tty; run the loader it (and `play`)
	 * uses: asciicast.open_from_url(...).stdout_events() */
	char *argv[] = { "python3", "-c",
			 "import sys\n"
			 "from asciinema import asciicast\n"
			 "with asciicast.open_from_url(sys.argv[1]) as a:\n"
			 "    for _, _t, text in a.stdout_events():\n"
			 "        sys.stdout.write(text)\n",
			 cast, NULL };
	char home[600];
	snprintf(home, sizeof home, "HOME=%s", d);
	char *envp[] = { home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	pid_t pid = 0;
	assert_int_equal(posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(gh_read_file(outp, 1 << 20, &got, &got_len), 0);
	assert_int_equal(got_len, sizeof text - 1);
	assert_memory_equal(got, text, got_len);
	free(got);
	rm_rf(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii_and_controls),
		cmocka_unit_test(test_escape_utf8_valid),
		cmocka_unit_test(test_escape_utf8_invalid),
		cmocka_unit_test(test_escape_split_across_chunks),
		cmocka_unit_test(test_escape_bound_checked),
		cmocka_unit_test(test_escape_random_is_valid_json),
		cmocka_unit_test(test_escape_fast_paths_match_bytewise),
		cmocka_unit_test(test_binary_events),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_input_off_and_time_monotonic),
		cmocka_unit_test(test_large_chunk_and_hostile_bytes),
		cmocka_unit_test(test_cut_file_reads_up_to_last_member),
		cmocka_unit_test(test_tick_finishes_member_on_time),
		cmocka_unit_test(test_bg_idle_ticks),
		cmocka_unit_test(test_background_writer_same_file),
		cmocka_unit_test(test_compression_tiers_round_trip),
		cmocka_unit_test(test_replay_speed0_exact),
		cmocka_unit_test(test_replay_timing),
		cmocka_unit_test(test_path_and_open_safety),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_asciinema_cat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
