/* Interactive filter: the line read off the screen, held Enter, cancel,
 * pastes line by line, the alternate-screen pause. The target is simulated:
 * the test feeds its echo and prompts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/interactive.h"

struct sim {
	char sent[4096];        /* what went to the target */
	size_t n_sent;
	char screen[8][256];    /* lines decided (screen text) */
	char typed[8][256];     /* and the typed reconstruction ("(null)") */
	int n_decided;
	char notes[4][16];
	int n_notes;
	int n_told;
};

static size_t to_target(void *ud, const void *data, size_t len)
{
	struct sim *s = ud;
	memcpy(s->sent + s->n_sent, data, len);
	s->n_sent += len;
	s->sent[s->n_sent] = 0;
	return len;
}

/* refuse any line holding "rm" */
static bool decide(void *ud, const char *screen, const char *typed)
{
	struct sim *s = ud;
	snprintf(s->screen[s->n_decided], 256, "%s", screen);
	snprintf(s->typed[s->n_decided], 256, "%s", typed ? typed : "(null)");
	s->n_decided++;
	return !strstr(screen, "rm") && !(typed && strstr(typed, "rm"));
}

static void note(void *ud, const char *what)
{
	struct sim *s = ud;
	snprintf(s->notes[s->n_notes++], 16, "%s", what);
}

static void tell(void *ud, const char *line)
{
	((struct sim *)ud)->n_told++;
}

static struct gh_ifilter *mk(struct sim *s, int rows, int cols)
{
	struct gh_ifilter_ops ops = { .to_target = to_target, .decide = decide, .note = note,
				      .tell = tell, .ud = s };
	struct gh_ifilter *f = NULL;
	memset(s, 0, sizeof *s);
	assert_int_equal(gh_ifilter_new(rows, cols, &ops, &f), 0);
	return f;
}

static void out(struct gh_ifilter *f, const char *text, int64_t t)
{
	gh_ifilter_output(f, text, strlen(text), t);
}

static void in(struct gh_ifilter *f, const char *text, int64_t t)
{
	assert_int_equal(gh_ifilter_input(f, text, strlen(text), t), strlen(text));
}

static void test_reject_and_accept(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "GHPROMPT$ ", 0);
	in(f, "rm -rf /tmp/x\r", 10);
	assert_string_equal(s.sent, "rm -rf /tmp/x"); /* Enter held */
	assert_true(gh_ifilter_busy(f));
	out(f, "rm -rf /tmp/x", 20);                  /* the echo */
	gh_ifilter_tick(f, 100);
	assert_int_equal(s.n_decided, 0);             /* not settled yet */
	gh_ifilter_tick(f, 200);
	assert_int_equal(s.n_decided, 1);
	assert_string_equal(s.screen[0], "rm -rf /tmp/x"); /* prompt excluded */
	assert_string_equal(s.typed[0], "rm -rf /tmp/x");
	assert_string_equal(s.sent, "rm -rf /tmp/x\x03"); /* cancelled, no Enter */
	out(f, "^C\r\nGHPROMPT$ ", 210);
	gh_ifilter_tick(f, 400);
	assert_false(gh_ifilter_busy(f));
	s.n_sent = 0;
	in(f, "ls -l\r", 500);
	out(f, "ls -l", 510);
	gh_ifilter_tick(f, 700);
	assert_int_equal(s.n_decided, 2);
	assert_string_equal(s.screen[1], "ls -l");
	assert_string_equal(s.sent, "ls -l\r");
	gh_ifilter_free(f);
}

static void test_screen_not_keystrokes(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	/* Tab completion: the typed text is unreliable, the screen is right */
	in(f, "r\t", 10);
	out(f, "rm ", 20);
	in(f, "x\r", 30);
	out(f, "x", 40);
	gh_ifilter_tick(f, 300);
	assert_int_equal(s.n_decided, 1);
	assert_string_equal(s.screen[0], "rm x");
	assert_string_equal(s.typed[0], "(null)");
	assert_null(strchr(s.sent, '\r'));
	gh_ifilter_free(f);
}

static void test_wrapped_line_and_ctrl_c(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 5, 20);
	out(f, "prompt>", 0);
	/* typed "ls", then Ctrl-C: a new line starts after the next prompt */
	in(f, "ls\x03", 10);
	out(f, "ls^C\r\nprompt>", 20);
	gh_ifilter_tick(f, 300);
	const char *cmd = "echo aaaaaaaaaaaaaaaaaaaa rm";
	in(f, cmd, 400);
	in(f, "\n", 401);
	out(f, cmd, 410); /* wraps over two rows */
	gh_ifilter_tick(f, 700);
	assert_int_equal(s.n_decided, 1);
	assert_string_equal(s.screen[0], cmd);
	assert_string_equal(s.typed[0], cmd);
	gh_ifilter_free(f);
}

static void test_paste_line_by_line(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	in(f, "id\nrm -rf /x\nls\n", 10);
	assert_string_equal(s.sent, "id");
	out(f, "id", 20);
	gh_ifilter_tick(f, 200);
	assert_string_equal(s.sent, "id\n"); /* first line allowed */
	out(f, "\r\nuid=0(root)\r\n$ ", 210);
	gh_ifilter_tick(f, 300);             /* waiting for the prompt to settle */
	assert_string_equal(s.sent, "id\n");
	gh_ifilter_tick(f, 400);
	assert_string_equal(s.sent, "id\nrm -rf /x");
	out(f, "rm -rf /x", 410);
	gh_ifilter_tick(f, 600);
	assert_int_equal(s.n_decided, 2);
	assert_string_equal(s.screen[1], "rm -rf /x");
	/* refused: Ctrl-C, and the rest of the paste is dropped */
	assert_string_equal(s.sent, "id\nrm -rf /x\x03");
	assert_int_equal(s.n_told, 1);
	gh_ifilter_tick(f, 2000);
	assert_false(gh_ifilter_busy(f));
	gh_ifilter_free(f);
}

static void test_echo_lost_max_wait(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	/* no echo at all (stty -echo): the keystrokes still tell */
	in(f, "rm x\r", 10);
	gh_ifilter_tick(f, 200);
	assert_int_equal(s.n_decided, 1);
	assert_string_equal(s.screen[0], "");
	assert_string_equal(s.typed[0], "rm x");
	assert_string_equal(s.sent, "rm x\x03");
	/* a target that never goes quiet is bounded by the maximum wait */
	out(f, "$ ", 300);
	gh_ifilter_tick(f, 600);
	in(f, "ls\r", 700);
	for (int64_t t = 700; t < 700 + GH_IFILTER_MAX_WAIT_MS; t += 100) {
		out(f, "x", t);
		gh_ifilter_tick(f, t);
	}
	assert_int_equal(s.n_decided, 1);
	gh_ifilter_tick(f, 700 + GH_IFILTER_MAX_WAIT_MS);
	assert_int_equal(s.n_decided, 2);
	gh_ifilter_free(f);
}

static void test_alt_screen_pause(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	out(f, "\x1b[?1049h", 10);
	assert_int_equal(s.n_notes, 1);
	assert_string_equal(s.notes[0], "paused");
	assert_true(gh_ifilter_paused(f));
	in(f, ":!rm x\r", 20); /* vim: passes untouched */
	assert_string_equal(s.sent, ":!rm x\r");
	assert_int_equal(s.n_decided, 0);
	out(f, "\x1b[?1049l", 30);
	assert_string_equal(s.notes[1], "resumed");
	/* an empty Enter is not checked */
	in(f, "\r", 40);
	assert_string_equal(s.sent, ":!rm x\r\r");
	assert_int_equal(s.n_decided, 0);
	gh_ifilter_free(f);
}

static void test_log_only(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	gh_ifilter_set_log_only(f, true);
	out(f, "$ ", 0);
	/* a paste: every Enter passes at once, the lines are reported once
	 * the echo settled, with the screen from their start */
	in(f, "echo a\nrm x\n", 10);
	assert_string_equal(s.sent, "echo a\nrm x\n");
	assert_int_equal(s.n_decided, 0);
	assert_true(gh_ifilter_busy(f));
	out(f, "echo a\r\nrm x\r\na\r\n$ ", 20);
	gh_ifilter_tick(f, 100);
	assert_int_equal(s.n_decided, 0);
	gh_ifilter_tick(f, 200);
	assert_int_equal(s.n_decided, 2);
	assert_string_equal(s.typed[0], "echo a");
	assert_string_equal(s.typed[1], "rm x");
	assert_non_null(strstr(s.screen[1], "rm x"));
	assert_false(gh_ifilter_busy(f));
	gh_ifilter_free(f);
}

/* libvterm 0.1.4 overruns its CSI argument array on long parameter lists
 * (found by fuzz_ifilter): the filter drops the excess separators. */
static void test_hostile_output(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	char buf[600];
	static const char *const heads[] = { "\x1b[", "\x1b\x00[", "\x1b\x01\xc8[", "\x1b([",
					     "\x1b[1" };
	for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
		for (int sep = 0; sep < 2; sep++) {
			size_t n = (size_t)snprintf(buf, sizeof buf, "%s", heads[h]);
			if (h == 1) /* the NUL */
				n = 3;
			for (int i = 0; i < 200; i++)
				buf[n++] = sep ? ';' : ':';
			buf[n++] = 'm';
			gh_ifilter_output(f, buf, n, 0);
		}
	}
	/* split across chunks */
	gh_ifilter_output(f, "\x1b", 1, 0);
	for (int i = 0; i < 100; i++)
		gh_ifilter_output(f, i ? "1:" : "[", i ? 2 : 1, 0);
	gh_ifilter_output(f, "m$ ", 3, 0);
	in(f, "rm x\r", 10);
	out(f, "rm x", 20);
	gh_ifilter_tick(f, 300);
	assert_int_equal(s.n_decided, 1);
	assert_non_null(strstr(s.screen[0], "rm x"));
	gh_ifilter_free(f);
}

/* libvterm 0.1.4 loops forever on REP before any glyph; the guard cancels
 * REP (an alarm fails the test instead of hanging it). */
static void test_rep_before_any_glyph(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	alarm(10);
	gh_ifilter_output(f, "\x1b[3b", 4, 0);
	gh_ifilter_output(f, "\x1b[", 2, 0); /* split across chunks */
	gh_ifilter_output(f, "99999b$ ", 8, 0);
	alarm(0);
	in(f, "rm x\r", 10);
	out(f, "rm x", 20);
	gh_ifilter_tick(f, 300);
	assert_int_equal(s.n_decided, 1);
	assert_non_null(strstr(s.screen[0], "rm x"));
	gh_ifilter_free(f);
}

static void test_ctrl_c_never_waits(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	in(f, "ping x\r", 10);
	out(f, "ping x", 20);
	gh_ifilter_tick(f, 200);
	assert_string_equal(s.sent, "ping x\r");
	/* the program prints all the time: the next prompt never settles */
	out(f, "\r\n64 bytes\r\n", 210);
	in(f, "\x03", 220);
	assert_string_equal(s.sent, "ping x\r\x03"); /* at once */
	gh_ifilter_free(f);
}

/* Issue 11 item 4: readline runs the line on Ctrl-O (operate-and-get-next)
 * and Ctrl-J as well as on CR; each must be held and decided like an
 * Enter. Without the fix Ctrl-O passed as a plain key: the line ran
 * unchecked and no command was decided. */
static void test_ctrl_o_and_ctrl_j_are_enter(void **state)
{
	static const char *const keys[] = { "\x0f", "\n", "\r" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		struct sim s;
		struct gh_ifilter *f = mk(&s, 24, 80);
		char line[64];
		out(f, "$ ", 0);
		snprintf(line, sizeof line, "rm -f F%s", keys[i]);
		in(f, line, 10);
		assert_true(gh_ifilter_busy(f));
		assert_string_equal(s.sent, "rm -f F"); /* the key held */
		out(f, "rm -f F", 20);
		gh_ifilter_tick(f, 300);
		assert_int_equal(s.n_decided, 1);
		assert_string_equal(s.sent, "rm -f F\x03"); /* refused: Ctrl-C instead */
		out(f, "^C\r\n$ ", 310);
		gh_ifilter_tick(f, 600);
		s.n_sent = 0;
		snprintf(line, sizeof line, "ls%s", keys[i]);
		in(f, line, 700);
		out(f, "ls", 710);
		gh_ifilter_tick(f, 1000);
		assert_int_equal(s.n_decided, 2);
		/* allowed: Ctrl-O goes on as CR (no history line pre-filled next) */
		assert_string_equal(s.sent, keys[i][0] == '\n' ? "ls\n" : "ls\r");
		gh_ifilter_free(f);
	}
}

/* Ctrl-X Ctrl-E (edit-and-execute-command) runs an editor's buffer the
 * filter never sees: under a filter its Ctrl-E goes as Ctrl-G (abort), also
 * when the two keys come in separate reads; log-only passes it. Fails
 * without the fix (Ctrl-E sent). */
static void test_edit_and_execute_aborted(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 24, 80);
	out(f, "$ ", 0);
	in(f, "echo hi\x18\x05", 10);
	assert_string_equal(s.sent, "echo hi\x18\x07");
	assert_int_equal(s.n_told, 1);
	in(f, "\x18", 20);
	in(f, "\x05", 30);
	assert_string_equal(s.sent, "echo hi\x18\x07\x18\x07");
	in(f, "\x05", 40); /* a lone Ctrl-E (end of line) passes */
	assert_string_equal(s.sent, "echo hi\x18\x07\x18\x07\x05");
	gh_ifilter_free(f);

	f = mk(&s, 24, 80);
	gh_ifilter_set_log_only(f, true);
	out(f, "$ ", 0);
	in(f, "ls\x18\x05", 10);
	assert_string_equal(s.sent, "ls\x18\x05");
	gh_ifilter_free(f);
}

/* A scroll region set before a resize to fewer rows: libvterm 0.1.4 kept
 * it and its next scroll did a memmove of a negative size (found by
 * fuzz_ifilter; the target prints the region, the user's client resizes).
 * Crashes without the reset in gh_ifilter_resize. */
static void test_scroll_region_then_resize(void **state)
{
	struct sim s;
	struct gh_ifilter *f = mk(&s, 18, 4);
	out(f, "ideeee\x1b[6r", 0);
	gh_ifilter_resize(f, 2, 8);
	out(f, "q\r\n\n$ \n \n\n\n", 10);
	out(f, "$ ", 20);
	in(f, "ls\r", 30);
	out(f, "ls", 40);
	gh_ifilter_tick(f, 300);
	assert_int_equal(s.n_decided, 1);
	assert_string_equal(s.screen[0], "ls");
	gh_ifilter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reject_and_accept),
		cmocka_unit_test(test_rep_before_any_glyph),
		cmocka_unit_test(test_screen_not_keystrokes),
		cmocka_unit_test(test_wrapped_line_and_ctrl_c),
		cmocka_unit_test(test_paste_line_by_line),
		cmocka_unit_test(test_echo_lost_max_wait),
		cmocka_unit_test(test_alt_screen_pause),
		cmocka_unit_test(test_log_only),
		cmocka_unit_test(test_hostile_output),
		cmocka_unit_test(test_ctrl_c_never_waits),
		cmocka_unit_test(test_ctrl_o_and_ctrl_j_are_enter),
		cmocka_unit_test(test_edit_and_execute_aborted),
		cmocka_unit_test(test_scroll_region_then_resize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
