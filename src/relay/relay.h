/* Relay: a manual pump between the user's channel and the target's channel
 * of one worker (both sessions in the worker's one ssh_event).
 *
 * ssh_connector is not used: channel<->channel connectors stall in libssh
 * 0.10.6. Instead data callbacks copy into bounded buffers and return less
 * than offered when full (libssh then keeps the rest and stops growing the
 * window: backpressure); gh_relay_pump(), called after every
 * ssh_event_dopoll, writes up to the peer's window and pulls what libssh
 * held back. EOF, close and exit-status/exit-signal travel both ways, and
 * the relay waits for the peer's CLOSE before it reports done, so the tail
 * of the output is never lost.
 *
 * The relay installs its own callbacks on the target channel. The user's
 * channel callbacks belong to the worker, which forwards to the
 * gh_relay_client_* hooks. Target output is teed into the recorder (and the
 * input too when record_input).
 *
 * With opts.sftp the channel carries the sftp subsystem: both directions go
 * through the SFTP engine (src/sftp/sftp.h), which asks sftp_hooks.authorize
 * about every file operation, answers refused requests itself and reports
 * finished operations to sftp_hooks.event. The hooks run inside libssh
 * callbacks: they must not block (queue events, write them later). The
 * engine's output buffers are bounded the same way: above a high-water mark
 * the data callbacks take nothing and the pump pulls later. A malformed
 * stream ends the relay (reason "malformed sftp stream", the engine's
 * explanation logged). When the relay is done, files still open are reported
 * (gh_sftp_finish) before gh_relay_pump returns true. */
#pragma once

/* Close reason of a session ended because its recording failed. */
#define GH_RELAY_RECORDING_FAILED "recording failed"
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sftp/sftp.h"

struct gh_rec;
struct gh_relay;

/* A target that is a byte stream rather than an SSH channel (a telnet
 * connection, src/session/telnet.h): the relay writes the user's bytes
 * with write (returns how many it took; fewer when its buffer is full, the
 * rest is offered again at the next pump), passes EOF, close and window
 * changes; the stream hands the target's output in with
 * gh_relay_target_data (at most gh_relay_target_room bytes) and its end
 * with gh_relay_target_closed. */
struct gh_relay_stream {
	size_t (*write)(void *ud, const void *data, size_t len);
	void (*eof)(void *ud);
	void (*close)(void *ud);
	void (*window)(void *ud, int width, int height);
	void *ud;
};

struct gh_relay_opts {
	ssh_channel client;     /* borrowed */
	ssh_channel target;     /* borrowed, or NULL and set later with gh_relay_set_target;
				 * callbacks removed by gh_relay_free */
	struct gh_rec *rec;     /* borrowed, may be NULL */
	bool record_input;
	/* Pass exit status, EOF and close on to the user's channel when the
	 * target ends (false in the menu: the user's channel lives on). */
	bool finish_client;
	size_t buffer_size;     /* per direction; 0 = default (1 MiB) */
	bool sftp;              /* the sftp subsystem: relay through the SFTP engine */
	struct gh_sftp_hooks sftp_hooks; /* copied; authorize and event, see above */
	/* Live operations (src/live): target output the relay takes is also
	 * handed to output_tap (inside libssh callbacks: must not block).
	 * NULL: none. */
	void (*output_tap)(void *ud, const void *data, size_t len);
	void *tap_ud;
	/* Input interception (the interactive command filter): when
	 * input.take is set, the user's bytes go to it instead of the target
	 * buffer (at most input.room() at a time); it passes on what may go
	 * with gh_relay_send_target. input.output sees the target's output as
	 * it arrives. Called inside libssh callbacks: must not block. */
	struct {
		size_t (*take)(void *ud, const void *data, size_t len);
		size_t (*room)(void *ud);
		void (*output)(void *ud, const void *data, size_t len);
		/* Optional: the user's input has ended and all of it was
		 * taken. True once the hook holds nothing more (EOF then goes
		 * to the target); false while it still does (asked again at
		 * every pump). NULL: EOF goes once the target buffer drained. */
		bool (*eof)(void *ud);
		void *ud;
	} input;
};

struct gh_relay_result {
	int64_t bytes_in;       /* user -> target */
	int64_t bytes_out;      /* target -> user */
	int exit_status;        /* -1 when none */
	char exit_signal[32];   /* "" when none */
	const char *reason;     /* static text: why it ended */
	bool client_finished;   /* exit status, EOF and close went to the user */
};

int gh_relay_new(const struct gh_relay_opts *o, struct gh_relay **ret);
/* Attach the target channel right after ssh_channel_new(), before any
 * request is sent, so no data, EOF, exit status or close can arrive before
 * the relay's callbacks are in place. */
void gh_relay_set_target(struct gh_relay *r, ssh_channel target);
/* Make the target the byte stream S (copied) instead of a channel. */
void gh_relay_set_stream(struct gh_relay *r, const struct gh_relay_stream *s);
/* A stream target's output: taken like a channel's (recorded, tapped,
 * seen by the input hook); returns how many bytes fit. */
size_t gh_relay_target_data(struct gh_relay *r, const void *data, size_t len);
/* How many bytes gh_relay_target_data takes now. */
size_t gh_relay_target_room(const struct gh_relay *r);
/* The stream target ended (EXIT_STATUS: -1 when unknown). */
void gh_relay_target_closed(struct gh_relay *r, int exit_status);
/* Removes the target channel callbacks; frees nothing else. Returns NULL. */
struct gh_relay *gh_relay_free(struct gh_relay *r);

/* Hooks for the worker's user-channel callbacks. client_data returns the
 * number of bytes taken (less than LEN when the buffer is full). */
int gh_relay_client_data(struct gh_relay *r, const void *data, size_t len);
void gh_relay_client_eof(struct gh_relay *r);
void gh_relay_client_close(struct gh_relay *r);
void gh_relay_client_window(struct gh_relay *r, int width, int height);
/* Input from elsewhere than the user's channel (a joined live session):
 * queued towards the target like the user's input, through the input
 * interception (the session's command filter) when set, and recorded as
 * input when record_input. Returns the bytes taken (less than LEN when the input
 * buffer is full, 0 once the target's input is closed or in sftp mode). */
size_t gh_relay_inject_input(struct gh_relay *r, const void *data, size_t len);
/* For an input hook: queue bytes for the target (returns how many fit) /
 * a message for the user (recorded as output like the target's). */
size_t gh_relay_send_target(struct gh_relay *r, const void *data, size_t len);
size_t gh_relay_send_client(struct gh_relay *r, const void *data, size_t len);

/* For an input hook that refused the user's input: later input is
 * dropped, EOF goes to the target once what was queued has gone, and the
 * user gets EXIT_STATUS instead of the target's; REASON (static text) is
 * the session's end reason. */
void gh_relay_end_input(struct gh_relay *r, int exit_status, const char *reason);

/* Move data after a poll. NOW_MS: monotonic milliseconds. Returns true
 * when the relay is finished (see gh_relay_get_result). */
bool gh_relay_pump(struct gh_relay *r, int64_t now_ms);
/* End now (client gone, shutdown, idle): close the target channel and stop
 * waiting for anything but its CLOSE (bounded). REASON: static text. */
void gh_relay_abort(struct gh_relay *r, const char *reason, int64_t now_ms);
/* True when the next pump can move data at once: libssh holds data for
 * which there is room now (the worker then polls without waiting). */
bool gh_relay_ready(const struct gh_relay *r);
void gh_relay_get_result(const struct gh_relay *r, struct gh_relay_result *ret);
