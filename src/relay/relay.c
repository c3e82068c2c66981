#include "relay/relay.h"
#include "core/error.h"
#include "core/log.h"
#include "record/record.h"

#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BUFFER (1u << 20)
#define CLOSE_WAIT_MS 3000
#define EOF_HOLD_MS 300 /* EOF to the user waits this long for the exit status */
/* sftp: most bytes handed to the engine at once; its output may exceed the
 * high-water mark (the buffer size) by a few chunks plus the engine's held
 * back local replies (4 x max packet), hence the caps. */
#define SFTP_CHUNK 65536u
#define SFTP_UP_CAP(hwm) ((hwm) + 4 * SFTP_CHUNK)
#define SFTP_DOWN_CAP(hwm) ((hwm) + 16 * SFTP_CHUNK + 4 * GH_SFTP_DEFAULT_PACKET)

struct rbuf {
	char *p;
	size_t cap, off, len;
};

struct gh_relay {
	struct gh_relay_opts o;
	struct ssh_channel_callbacks_struct tcb;
	struct rbuf up;          /* user -> target */
	struct rbuf down;        /* target stdout -> user */
	struct rbuf down_err;    /* target stderr -> user */
	bool client_held;        /* libssh holds user data we could not take */
	bool target_held;        /* ... target data */
	bool client_eof, client_closed;
	bool target_eof, target_closed;
	bool eof_to_target, eof_to_client, closed_target, finished_client;
	bool status_to_client;   /* exit status or signal passed on */
	int64_t eof_hold_until;  /* EOF to the user waits for the status until then */
	bool done;
	int64_t close_deadline;  /* waiting for a peer's CLOSE until then */
	int exit_status;
	char exit_signal[32];
	int64_t bytes_in, bytes_out;
	const char *reason;
	bool in_pull;            /* inside ssh_channel_read_nonblocking: callbacks take nothing */
	bool rec_failed;         /* the recorder reported an error: end the session */
	bool rec_aborted;
	bool input_ended;        /* gh_relay_end_input: the user's input is refused */

	/* sftp mode: the engine and its output; up/down stay unused */
	struct gh_sftp *sftp;
	struct gh_sftp_buf s_up;   /* engine -> target */
	struct gh_sftp_buf s_down; /* engine -> user (replies and local refusals) */
	size_t hwm;                /* take no input while an output is above this */
	int sftp_err;              /* first engine error (the stream is dead), or 0 */
	bool sftp_failed;          /* sftp_err acted on */
	bool sftp_finished;        /* gh_sftp_finish called */

	struct gh_relay_stream stream; /* a stream target (stream.write set) */
};

static size_t rb_room(const struct rbuf *b) { return b->cap - b->len; }

/* Ring buffer: OFF is the head, LEN bytes wrap around CAP. No copying
 * inside the buffer, ever. */
static size_t rb_put(struct rbuf *b, const void *data, size_t len)
{
	size_t n = len < rb_room(b) ? len : rb_room(b);
	size_t tail = (b->off + b->len) % b->cap;
	size_t first = n < b->cap - tail ? n : b->cap - tail;
	memcpy(b->p + tail, data, first);
	memcpy(b->p, (const char *)data + first, n - first);
	b->len += n;
	return n;
}

/* Contiguous bytes at the head. */
static size_t rb_head_len(const struct rbuf *b)
{
	return b->len < b->cap - b->off ? b->len : b->cap - b->off;
}

static void rb_drop(struct rbuf *b, size_t n)
{
	b->off = (b->off + n) % b->cap;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sftp ---------------------------------------------------------------- */

/* No more input for the engine from the user (FROM_TARGET false) or the
 * target until the output drains. */
static bool sftp_full(const struct gh_relay *r, bool from_target)
{
	if (r->s_down.len >= r->hwm)
		return true;
	return !from_target && r->s_up.len >= r->hwm;
}

/* Feed LEN (<= SFTP_CHUNK) bytes to the engine. On error the stream is
 * dead: the pump closes it; later input is dropped. */
static void sftp_feed(struct gh_relay *r, bool from_target, const void *data, size_t len)
{
	int e = 0;
	if (r->sftp_err)
		return;
	if (from_target)
		e = gh_sftp_from_target(r->sftp, data, len, &r->s_down);
	else
		e = gh_sftp_from_client(r->sftp, data, len, &r->s_up, &r->s_down);
	if (e < 0)
		r->sftp_err = e;
}

/* A data callback's share: how many of LEN bytes the engine took (all of
 * them once the stream is dead: they are dropped). */
static size_t sftp_take(struct gh_relay *r, bool from_target, const void *data, size_t len)
{
	size_t n = 0;
	if (r->sftp_err)
		n = len;
	else if (!sftp_full(r, from_target)) {
		n = len < SFTP_CHUNK ? len : SFTP_CHUNK;
		sftp_feed(r, from_target, data, n);
	}
	return n;
}

/* A session is never relayed unrecorded: the first recorder error ends it
 * (fail closed; the pump aborts, the worker tells the user and audits it). */
static void rec_note(struct gh_relay *r, int rc)
{
	if (rc < 0)
		r->rec_failed = true;
}

/* ---- target channel callbacks ----------------------------------------- */

static size_t take_target(struct gh_relay *r, const void *data, size_t len, int is_stderr);

static int target_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
		       int is_stderr, void *userdata)
{
	struct gh_relay *r = userdata;
	if (r->in_pull) { /* see pull() */
		r->target_held = true;
		return 0;
	}
	size_t n = take_target(r, data, len, is_stderr);
	if (n < len)
		r->target_held = true;
	return (int)n;
}

/* The target's output into the buffer towards the user, recorded,
 * tapped, shown to the input hook. Returns how many bytes fit. */
static size_t take_target(struct gh_relay *r, const void *data, size_t len, int is_stderr)
{
	struct rbuf *b = is_stderr ? &r->down_err : &r->down;
	size_t n = r->sftp && !is_stderr ? sftp_take(r, true, data, len) : rb_put(b, data, len);
	if (n > 0 && r->o.rec)
		rec_note(r, gh_rec_output(r->o.rec, wall_ms(), data, n));
	if (n > 0 && r->o.output_tap)
		r->o.output_tap(r->o.tap_ud, data, n);
	if (n > 0 && r->o.input.output)
		r->o.input.output(r->o.input.ud, data, n);
	return n;
}

static void target_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct gh_relay *r = userdata;
	r->target_eof = true;
}

static void target_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct gh_relay *r = userdata;
	r->target_closed = true;
	r->target_eof = true;
}

static void target_exit_status(ssh_session session, ssh_channel channel, int status,
			       void *userdata)
{
	struct gh_relay *r = userdata;
	if (!r->sftp_failed && !r->input_ended) /* we ended it: the target's word does not count */
		r->exit_status = status;
}

static void target_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
			       int core, const char *errmsg, const char *lang, void *userdata)
{
	struct gh_relay *r = userdata;
	if (!r->input_ended)
		snprintf(r->exit_signal, sizeof r->exit_signal, "%s", signal ? signal : "");
}

int gh_relay_new(const struct gh_relay_opts *o, struct gh_relay **ret)
{
	struct gh_relay *r = calloc(1, sizeof *r);
	if (!r)
		return GH_ENOMEM;
	r->o = *o;
	size_t cap = o->buffer_size ? o->buffer_size : DEFAULT_BUFFER;
	r->up.cap = cap;
	r->down.cap = cap;
	r->down_err.cap = cap / 4 > 4096 ? cap / 4 : 4096;
	r->up.p = malloc(r->up.cap);
	r->down.p = malloc(r->down.cap);
	r->down_err.p = malloc(r->down_err.cap);
	if (!r->up.p || !r->down.p || !r->down_err.p) {
		free(r->up.p);
		free(r->down.p);
		free(r->down_err.p);
		free(r);
		return GH_ENOMEM;
	}
	r->hwm = cap;
	gh_sftp_buf_init(&r->s_up, SFTP_UP_CAP(cap));
	gh_sftp_buf_init(&r->s_down, SFTP_DOWN_CAP(cap));
	if (o->sftp) {
		int e = gh_sftp_new(&o->sftp_hooks, NULL, &r->sftp);
		if (e < 0) {
			free(r->up.p);
			free(r->down.p);
			free(r->down_err.p);
			free(r);
			return e;
		}
	}
	r->exit_status = -1;
	r->tcb.userdata = r;
	r->tcb.channel_data_function = target_data;
	r->tcb.channel_eof_function = target_eof;
	r->tcb.channel_close_function = target_close;
	r->tcb.channel_exit_status_function = target_exit_status;
	r->tcb.channel_exit_signal_function = target_exit_signal;
	ssh_callbacks_init(&r->tcb);
	r->o.target = NULL;
	if (o->target)
		gh_relay_set_target(r, o->target);
	/* user data that arrived while the target was being reached */
	r->client_held = true;
	*ret = r;
	return 0;
}

void gh_relay_set_target(struct gh_relay *r, ssh_channel target)
{
	if (r->o.target)
		ssh_remove_channel_callbacks(r->o.target, &r->tcb);
	r->o.target = target;
	if (target)
		ssh_set_channel_callbacks(target, &r->tcb);
}

void gh_relay_set_stream(struct gh_relay *r, const struct gh_relay_stream *s)
{
	r->stream = *s;
}

size_t gh_relay_target_room(const struct gh_relay *r)
{
	if (r->target_closed || r->closed_target)
		return 0;
	return rb_room(&r->down);
}

size_t gh_relay_target_data(struct gh_relay *r, const void *data, size_t len)
{
	size_t room = gh_relay_target_room(r);
	return take_target(r, data, len < room ? len : room, 0);
}

void gh_relay_target_closed(struct gh_relay *r, int exit_status)
{
	r->target_closed = true;
	r->target_eof = true;
	if (exit_status >= 0 && !r->input_ended)
		r->exit_status = exit_status;
}

/* The target side's controls: its channel, or the stream's. */
static void target_send_eof(struct gh_relay *r)
{
	if (r->stream.write)
		r->stream.eof(r->stream.ud);
	else
		ssh_channel_send_eof(r->o.target);
}

static void target_close_now(struct gh_relay *r)
{
	if (r->stream.write)
		r->stream.close(r->stream.ud);
	else
		ssh_channel_close(r->o.target);
}

struct gh_relay *gh_relay_free(struct gh_relay *r)
{
	if (!r)
		return NULL;
	if (r->o.target)
		ssh_remove_channel_callbacks(r->o.target, &r->tcb);
	if (r->sftp && !r->sftp_finished)
		gh_sftp_finish(r->sftp);
	gh_sftp_free(r->sftp);
	gh_sftp_buf_release(&r->s_up);
	gh_sftp_buf_release(&r->s_down);
	free(r->up.p);
	free(r->down.p);
	free(r->down_err.p);
	free(r);
	return NULL;
}

/* ---- user side hooks --------------------------------------------------- */

/* User bytes for the target: through the input hook when there is one. */
static size_t up_room_bytes(const struct gh_relay *r)
{
	return r->o.input.take ? r->o.input.room(r->o.input.ud) : rb_room(&r->up);
}

static size_t up_put(struct gh_relay *r, const void *data, size_t len)
{
	if (!r->o.input.take)
		return rb_put(&r->up, data, len);
	size_t room = up_room_bytes(r);
	return r->o.input.take(r->o.input.ud, data, len < room ? len : room);
}

size_t gh_relay_send_target(struct gh_relay *r, const void *data, size_t len)
{
	return rb_put(&r->up, data, len);
}

size_t gh_relay_send_client(struct gh_relay *r, const void *data, size_t len)
{
	size_t n = rb_put(&r->down, data, len);
	if (n > 0 && r->o.rec)
		rec_note(r, gh_rec_output(r->o.rec, wall_ms(), data, n));
	return n;
}

int gh_relay_client_data(struct gh_relay *r, const void *data, size_t len)
{
	if (r->eof_to_target || r->closed_target || r->input_ended) /* nowhere to go: drop */
		return (int)len;
	if (r->in_pull) { /* see pull() */
		r->client_held = true;
		return 0;
	}
	size_t n = r->sftp ? sftp_take(r, false, data, len) : up_put(r, data, len);
	if (n > 0 && r->o.rec && r->o.record_input)
		rec_note(r, gh_rec_input(r->o.rec, wall_ms(), data, n));
	if (n < len)
		r->client_held = true;
	return (int)n;
}

size_t gh_relay_inject_input(struct gh_relay *r, const void *data, size_t len)
{
	if (r->sftp || r->eof_to_target || r->closed_target || r->target_closed)
		return 0;
	/* through the session's command filter, as the user's own typing */
	size_t n = up_put(r, data, len);
	if (n > 0 && r->o.rec && r->o.record_input)
		rec_note(r, gh_rec_input(r->o.rec, wall_ms(), data, n));
	return n;
}

void gh_relay_client_eof(struct gh_relay *r) { r->client_eof = true; }

void gh_relay_client_close(struct gh_relay *r)
{
	r->client_closed = true;
	r->client_eof = true;
}

void gh_relay_client_window(struct gh_relay *r, int width, int height)
{
	if (!r->closed_target && !r->target_closed && r->stream.write)
		r->stream.window(r->stream.ud, width, height);
	else if (!r->closed_target && !r->target_closed)
		ssh_channel_change_pty_size(r->o.target, width, height);
	if (r->o.rec)
		rec_note(r, gh_rec_resize(r->o.rec, wall_ms(), width, height));
}

/* ---- pump -------------------------------------------------------------- */

/* Write as much of B to CH as its window allows. */
static void flush(struct gh_relay *r, struct rbuf *b, ssh_channel ch, bool is_stderr,
		  int64_t *counter)
{
	while (b->len > 0) {
		uint32_t win = ssh_channel_window_size(ch);
		if (win == 0)
			return;
		size_t head = rb_head_len(b);
		size_t n = head < win ? head : win;
		int w = is_stderr ? ssh_channel_write_stderr(ch, b->p + b->off, (uint32_t)n)
				  : ssh_channel_write(ch, b->p + b->off, (uint32_t)n);
		if (w <= 0)
			return;
		rb_drop(b, (size_t)w);
		*counter += w;
	}
}

/* sftp: write as much of B to CH as its window allows. */
static void flush_sftp(struct gh_sftp_buf *b, ssh_channel ch, int64_t *counter)
{
	while (b->len > 0) {
		uint32_t win = ssh_channel_window_size(ch);
		if (win == 0)
			return;
		size_t n = b->len < win ? b->len : win;
		int w = ssh_channel_write(ch, gh_sftp_buf_data(b), (uint32_t)n);
		if (w <= 0)
			return;
		gh_sftp_buf_consume(b, (size_t)w);
		*counter += w;
	}
}

/* sftp: pull what libssh kept back on CH (stdout) through the engine, as
 * pull() below does for the plain buffers. */
static void pull_sftp(struct gh_relay *r, ssh_channel ch, bool *held, bool from_target)
{
	char tmp[SFTP_CHUNK];
	if (r->in_pull)
		return;
	r->in_pull = true;
	while (!r->sftp_err) {
		if (sftp_full(r, from_target)) {
			*held = true;
			break;
		}
		int n = ssh_channel_read_nonblocking(ch, tmp, sizeof tmp, 0);
		if (n <= 0)
			break;
		if (from_target && r->o.rec)
			rec_note(r, gh_rec_output(r->o.rec, wall_ms(), tmp, (size_t)n));
		else if (!from_target && r->o.rec && r->o.record_input)
			rec_note(r, gh_rec_input(r->o.rec, wall_ms(), tmp, (size_t)n));
		sftp_feed(r, from_target, tmp, (size_t)n);
	}
	r->in_pull = false;
}

/* A stream target takes what its buffer holds room for. */
static void flush_stream(struct gh_relay *r)
{
	while (r->up.len > 0) {
		size_t w = r->stream.write(r->stream.ud, r->up.p + r->up.off, rb_head_len(&r->up));
		if (w == 0)
			return;
		rb_drop(&r->up, w);
		r->bytes_in += (int64_t)w;
	}
}

static void flush_up(struct gh_relay *r)
{
	if (r->stream.write)
		flush_stream(r);
	else if (r->sftp)
		flush_sftp(&r->s_up, r->o.target, &r->bytes_in);
	else
		flush(r, &r->up, r->o.target, false, &r->bytes_in);
}

static void flush_down(struct gh_relay *r)
{
	if (r->sftp)
		flush_sftp(&r->s_down, r->o.client, &r->bytes_out);
	else
		flush(r, &r->down, r->o.client, false, &r->bytes_out);
	flush(r, &r->down_err, r->o.client, true, &r->bytes_out);
}

static bool up_room(const struct gh_relay *r)
{
	return r->sftp ? !sftp_full(r, false) : up_room_bytes(r) > 0;
}

static bool down_room(const struct gh_relay *r)
{
	return (r->sftp ? !sftp_full(r, true) : rb_room(&r->down) > 0) && rb_room(&r->down_err) > 0;
}

/* Pull what libssh kept back on CH into B (our callbacks returned short).
 * The caller clears *HELD first; it is set again when B fills up before
 * libssh is drained, either here or by a callback that libssh runs from
 * inside ssh_channel_read_nonblocking (clearing it after that call would
 * lose the mark and stall the channel: its window never reopens).
 *
 * That call may read packets of every session in the worker's event, the
 * user's and the target's, and run our data callbacks. While IN_PULL they
 * take nothing and only set their mark: a callback that filled B's room
 * would leave no room for the bytes the read then returns (they were
 * dropped, corrupting the stream). */
static void pull(struct gh_relay *r, ssh_channel ch, struct rbuf *b, int is_stderr, bool *held,
		 bool from_target)
{
	char tmp[65536];
	if (r->in_pull)
		return;
	r->in_pull = true;
	for (;;) {
		bool hook = !from_target && b == &r->up && r->o.input.take;
		size_t room = hook ? up_room_bytes(r) : rb_room(b);
		if (room == 0) {
			*held = true;
			break;
		}
		size_t want = room < sizeof tmp ? room : sizeof tmp;
		int n = ssh_channel_read_nonblocking(ch, tmp, (uint32_t)want, is_stderr);
		if (n <= 0)
			break;
		size_t put = hook ? up_put(r, tmp, (size_t)n) : rb_put(b, tmp, (size_t)n);
		if (from_target && r->o.output_tap)
			r->o.output_tap(r->o.tap_ud, tmp, put);
		if (from_target && r->o.rec)
			rec_note(r, gh_rec_output(r->o.rec, wall_ms(), tmp, put));
		if (from_target && put > 0 && r->o.input.output)
			r->o.input.output(r->o.input.ud, tmp, put);
		else if (!from_target && r->o.rec && r->o.record_input)
			rec_note(r, gh_rec_input(r->o.rec, wall_ms(), tmp, put));
		if (put < (size_t)n) {
			/* cannot happen: B had room for WANT and callbacks take
			 * nothing while IN_PULL */
			gh_warn("relay buffer overrun; %zu bytes dropped", (size_t)n - put);
			*held = true;
			break;
		}
	}
	r->in_pull = false;
}

/* The user's input has ended: does the input hook still hold some? */
static bool input_eof(struct gh_relay *r)
{
	return !r->o.input.eof || r->o.input.eof(r->o.input.ud);
}

void gh_relay_end_input(struct gh_relay *r, int exit_status, const char *reason)
{
	r->input_ended = true;
	r->exit_status = exit_status;
	r->exit_signal[0] = '\0';
	if (!r->reason)
		r->reason = reason;
}

/* The target's exit signal or status to the user, once. */
static void send_status(struct gh_relay *r)
{
	if (r->status_to_client)
		return;
	if (r->exit_signal[0])
		ssh_channel_request_send_exit_signal(r->o.client, r->exit_signal, 0, "", "");
	else if (r->exit_status >= 0)
		ssh_channel_request_send_exit_status(r->o.client, r->exit_status);
	else
		return;
	r->status_to_client = true;
}

static bool pump(struct gh_relay *r, int64_t now_ms)
{
	if (r->done)
		return true;

	if (r->sftp_err && !r->sftp_failed) {
		r->sftp_failed = true;
		r->exit_status = -1;
		gh_warn("sftp stream closed: %s",
			r->sftp_err == GH_EINVAL ? gh_sftp_error(r->sftp) : gh_strerror(r->sftp_err));
		gh_relay_abort(r, r->sftp_err == GH_EINVAL ? "malformed sftp stream" : "sftp relay error",
			       now_ms);
	}

	/* user -> target */
	if (!r->closed_target && !r->target_closed) {
		flush_up(r);
		if (r->client_held && !r->client_closed && up_room(r)) {
			r->client_held = false;
			if (r->sftp)
				pull_sftp(r, r->o.client, &r->client_held, false);
			else
				pull(r, r->o.client, &r->up, 0, &r->client_held, false);
			flush_up(r);
		}
		if ((r->input_ended || (r->client_eof && !r->client_held && input_eof(r))) &&
		    r->up.len == 0 && r->s_up.len == 0 && !r->eof_to_target) {
			target_send_eof(r);
			r->eof_to_target = true;
		}
	}

	/* target -> user */
	if (!r->finished_client && !r->client_closed) {
		flush_down(r);
		if (r->target_held && down_room(r)) {
			r->target_held = false;
			if (r->sftp)
				pull_sftp(r, r->o.target, &r->target_held, true);
			else
				pull(r, r->o.target, &r->down, 0, &r->target_held, true);
			pull(r, r->o.target, &r->down_err, 1, &r->target_held, true);
			flush_down(r);
		}
	} else {
		/* nobody to deliver to: discard so the target is not stalled */
		r->down.len = r->down.off = 0;
		r->down_err.len = r->down_err.off = 0;
		gh_sftp_buf_consume(&r->s_down, r->s_down.len);
	}
	bool down_drained = r->down.len == 0 && r->down_err.len == 0 && r->s_down.len == 0 &&
			    !r->target_held;

	/* the user went away: close the target and wait (bounded) for its CLOSE */
	if (r->client_closed) {
		if (!r->closed_target) {
			target_close_now(r);
			r->closed_target = true;
			r->close_deadline = now_ms + CLOSE_WAIT_MS;
			if (!r->reason)
				r->reason = "user closed the channel";
		}
		if (r->target_closed || now_ms >= r->close_deadline)
			r->done = true;
		return r->done;
	}

	/* the target ended: pass the tail, status, EOF and close to the user.
	 * The exit status goes before EOF, as sshd does: an OpenSSH client
	 * whose side is done closes the channel at EOF, and a status after
	 * that is lost (a shared connection's client then exits 255). EOF
	 * waits a little for the status (a program that closes its output
	 * and runs on still gets its EOF passed on). */
	if (r->target_eof && down_drained && !r->eof_to_client && r->o.finish_client) {
		if (!r->eof_hold_until)
			r->eof_hold_until = now_ms + EOF_HOLD_MS;
		if (r->exit_signal[0] || r->exit_status >= 0 || now_ms >= r->eof_hold_until) {
			send_status(r);
			ssh_channel_send_eof(r->o.client);
			r->eof_to_client = true;
		}
	}
	if (r->target_closed && down_drained) {
		if (!r->reason)
			r->reason = "target closed the channel";
		if (!r->closed_target) {
			target_close_now(r);
			r->closed_target = true;
		}
		if (!r->o.finish_client) {
			r->done = true;
			return true;
		}
		if (!r->finished_client) {
			send_status(r);
			if (!r->eof_to_client) {
				ssh_channel_send_eof(r->o.client);
				r->eof_to_client = true;
			}
			ssh_channel_close(r->o.client);
			r->finished_client = true;
			r->close_deadline = now_ms + CLOSE_WAIT_MS;
		}
		/* the user's CLOSE arrives through gh_relay_client_close */
		if (now_ms >= r->close_deadline)
			r->done = true;
	}
	if (r->closed_target && !r->target_closed && r->close_deadline &&
	    now_ms >= r->close_deadline)
		r->done = true;
	return r->done;
}

bool gh_relay_pump(struct gh_relay *r, int64_t now_ms)
{
	if (r->rec_failed && !r->rec_aborted) {
		r->rec_aborted = true;
		gh_relay_abort(r, GH_RELAY_RECORDING_FAILED, now_ms);
	}
	bool done = pump(r, now_ms);
	if (done && r->sftp && !r->sftp_finished) {
		/* files still open become events while the caller still listens */
		r->sftp_finished = true;
		gh_sftp_finish(r->sftp);
	}
	return done;
}

void gh_relay_abort(struct gh_relay *r, const char *reason, int64_t now_ms)
{
	if (!r->reason)
		r->reason = reason;
	r->client_closed = true; /* nothing more goes to the user */
	if (!r->closed_target) {
		target_close_now(r);
		r->closed_target = true;
		r->close_deadline = now_ms + CLOSE_WAIT_MS;
	}
}

bool gh_relay_ready(const struct gh_relay *r)
{
	if (r->done || r->client_closed)
		return false;
	if (r->client_held && !r->closed_target && !r->target_closed && up_room(r))
		return true;
	return r->target_held && !r->finished_client && down_room(r);
}

void gh_relay_get_result(const struct gh_relay *r, struct gh_relay_result *ret)
{
	ret->bytes_in = r->bytes_in;
	ret->bytes_out = r->bytes_out;
	ret->exit_status = r->exit_status;
	snprintf(ret->exit_signal, sizeof ret->exit_signal, "%s", r->exit_signal);
	ret->reason = r->reason ? r->reason : "ended";
	ret->client_finished = r->finished_client;
}
