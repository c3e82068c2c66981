/* Session recording: asciicast v2 in a multi-member gzip file, and replay.
 *
 * A recording is written as it happens. Events are JSON lines deflated into
 * the current gzip member; the member is finished (deflate Z_FINISH, gzip
 * trailer written) when it is due:
 *   - member_ms after the first event that went into it (checked by every
 *     gh_rec_output/input/resize and by gh_rec_tick, which the relay loop
 *     calls even when the session is idle),
 *   - once member_bytes of JSON text went into it,
 *   - on gh_rec_close.
 * The header line is a member of its own, finished by gh_rec_open. Every
 * finished member is a valid gzip member, so after a crash (kill -9) the
 * file reads back (zcat, Python gzip, gh_replay) up to the last finished
 * member: at most member_ms / member_bytes of activity is lost. Nothing is
 * fsync'ed: a process crash loses nothing already written; a host crash
 * may lose what the kernel had not yet written back.
 *
 * Memory per recording is bounded (zlib state plus ~200 KiB of buffers),
 * whatever the session length. Output and input bytes are arbitrary: they
 * are turned into valid UTF-8 (invalid bytes become U+FFFD, a sequence cut
 * at the end of a chunk is completed by the next chunk) and JSON-escaped
 * (control characters, C1 controls and DEL as \u00XX).
 *
 * Ownership: struct gh_rec is owned by the caller of gh_rec_open and freed
 * by gh_rec_close. Strings in gh_rec_opts are borrowed during gh_rec_open
 * only. Not thread-safe: one recording is driven by one thread (with
 * opts.background it owns a writer thread of its own, joined by close). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GH_REC_MEMBER_BYTES_DEFAULT (256 * 1024)
#define GH_REC_MEMBER_MS_DEFAULT 1000

struct gh_rec;

struct gh_rec_opts {
	int width, height;   /* terminal size; <= 0: 80x24 */
	const char *term;    /* TERM of the pty, NULL: no env in the header */
	const char *title;   /* NULL: no title */
	int64_t start_ms;    /* wall clock ms at session start; event times are relative to it */
	bool record_input;   /* record "i" events */
	size_t member_bytes; /* 0: GH_REC_MEMBER_BYTES_DEFAULT */
	int member_ms;       /* <= 0: GH_REC_MEMBER_MS_DEFAULT */
	bool background;     /* escape, compress and write on a writer thread; the
			      * calls only queue (bounded: they wait when it is full) */
	bool binary_events;  /* output that is not a terminal's (no pty): a chunk that
			      * looks binary becomes a "b" event, its bytes in base64,
			      * instead of "o" with U+FFFD for what is not UTF-8 */
};

/* RECORDINGS_DIR/YYYY/MM/DD/SESSION_ID.cast.gz for the UTC date of
 * START_SEC; creates the directories (0700). SESSION_ID must be a valid
 * name (gh_valid_name, not starting with '.'). Caller frees *ret_path. */
int gh_rec_path(const char *recordings_dir, const char *session_id, int64_t start_sec,
		char **ret_path);

/* Create PATH (O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600), write and finish
 * the header member. GH_EEXIST if PATH exists, GH_EIO on other errors. */
int gh_rec_open(const char *path, const struct gh_rec_opts *o, struct gh_rec **ret);

/* Record DATA as output / input / a resize at wall clock NOW_MS. Event
 * times never go backwards (a clock step back repeats the last time).
 * Returns 0 or GH_EIO / GH_ENOMEM; after the first write error every call
 * returns that error (the recording stays valid up to its last member). */
int gh_rec_output(struct gh_rec *r, int64_t now_ms, const void *data, size_t len);
int gh_rec_input(struct gh_rec *r, int64_t now_ms, const void *data, size_t len); /* no-op unless record_input */
int gh_rec_resize(struct gh_rec *r, int64_t now_ms, int width, int height);
/* An asciicast marker ("m") with LABEL (at most 200 bytes kept). */
int gh_rec_marker(struct gh_rec *r, int64_t now_ms, const char *label);

/* Finish the current gzip member when it is due (see above). Cheap when
 * nothing is due: call it from the relay loop at every wake-up. */
int gh_rec_tick(struct gh_rec *r, int64_t now_ms);

/* Flush any carried partial UTF-8 sequence, finish the member, close and
 * free. Returns the first error met during the recording's life or on
 * close. Accepts NULL (returns 0). */
int gh_rec_close(struct gh_rec *r);

/* gh_rec_close, and with SHA256_HEX (65 bytes) not NULL, the lowercase hex
 * SHA-256 of every byte written to the file (what sha256sum prints for it,
 * unless a write failed part way). */
int gh_rec_close_digest(struct gh_rec *r, char *sha256_hex);

/* Bytes of gzip data written to the file so far (finished members and
 * whatever zlib has emitted of the current one). */
uint64_t gh_rec_bytes_written(const struct gh_rec *r);

/* Write the output events of the recording at PATH to OUT_FD with their
 * timing divided by SPEED (<= 0: no waiting), idle gaps capped at
 * MAX_IDLE_MS (0: no cap). Tolerates a truncated last member (reads every
 * complete line before the cut). GH_EINVAL on a corrupt file or a bad
 * header, GH_EIO on read/write errors, GH_ENOENT if PATH does not exist. */
int gh_replay(const char *path, double speed, int max_idle_ms, int out_fd);
/* gh_replay of the recording open on IN_FD (not closed). */
int gh_replay_fd(int in_fd, double speed, int max_idle_ms, int out_fd);

/* Decode the whole output stream of a recording into *RET (malloc'd, NUL
 * terminated, *RET_LEN bytes without the NUL). Caller frees. */
int gh_rec_read_output(const char *path, char **ret, size_t *ret_len);

/* ---- the escaper (exposed for tests and the fuzzer) -------------------- */

/* Streaming UTF-8 validator and JSON string escaper state: the bytes of
 * a sequence not yet complete at the end of the previous chunk. Zero it
 * before first use. */
struct gh_utf8_state {
	unsigned char buf[4];
	uint8_t have;   /* bytes in buf */
	uint8_t need;   /* continuation bytes still expected */
	uint8_t lo, hi; /* allowed range of the next continuation byte */
};

/* Largest output gh_json_escape can produce for LEN input bytes (with up to
 * 3 carried bytes), not counting a NUL. */
#define GH_JSON_ESCAPE_BOUND(len) (6 * ((size_t)(len) + 4))

/* Append the JSON string body (no quotes) for IN[0..LEN) to OUT (capacity
 * OUTLEN), continuing the sequence carried in ST. With FINAL, a carried
 * incomplete sequence is written as U+FFFD and ST is reset. Returns the
 * number of bytes written, or GH_ELIMIT if OUTLEN could be too small (it
 * must be at least GH_JSON_ESCAPE_BOUND(LEN)); nothing is written then. */
long gh_json_escape(struct gh_utf8_state *st, const void *in, size_t len, bool final, char *out,
		    size_t outlen);
