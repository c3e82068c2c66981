/* Where a MySQL/MariaDB response ends, judged frame by frame from each
 * frame's first bytes, so a result set streams through without being held
 * (src/db/mysql_wire.h). */
#include <string.h>

#include "core/error.h"
#include "db/mysql_wire.h"

enum {
	ST_FIRST = 1, /* a result's first packet: OK, ERR or a column count */
	ST_DEFS,      /* column (or parameter) definitions */
	ST_DEFS_EOF,  /* the EOF after them (without DEPRECATE_EOF) */
	ST_ROWS,      /* rows until EOF/OK or ERR */
	ST_PREP_COLS, /* PREPARE: after the parameters, the columns */
	ST_END,       /* PREPARE: everything seen */
	ST_ANY,       /* one packet, whatever */
};

enum gh_my_resp_kind gh_my_resp_kind_of(uint8_t cmd)
{
	switch (cmd) {
	case GH_MY_COM_QUIT:
	case GH_MY_COM_STMT_CLOSE:
	case GH_MY_COM_STMT_SEND_LONG_DATA:
		return GH_MY_RESP_NONE;
	case GH_MY_COM_QUERY:
	case GH_MY_COM_STMT_EXECUTE:
		return GH_MY_RESP_RESULT;
	case GH_MY_COM_STMT_PREPARE:
		return GH_MY_RESP_PREPARE;
	case GH_MY_COM_FIELD_LIST:
		return GH_MY_RESP_FIELDS;
	case GH_MY_COM_STMT_FETCH:
		return GH_MY_RESP_ROWS;
	default:
		return GH_MY_RESP_SIMPLE;
	}
}

void gh_my_resp_init(struct gh_my_resp *r, enum gh_my_resp_kind kind, bool deprecate_eof)
{
	*r = (struct gh_my_resp){ .kind = kind, .deprecate_eof = deprecate_eof };
	switch (kind) {
	case GH_MY_RESP_RESULT:
	case GH_MY_RESP_PREPARE:
		r->state = ST_FIRST;
		break;
	case GH_MY_RESP_FIELDS:
		r->state = ST_DEFS;
		r->cols_left = UINT64_MAX; /* until the EOF */
		break;
	case GH_MY_RESP_ROWS:
		r->state = ST_ROWS;
		break;
	case GH_MY_RESP_SIMPLE:
		r->state = ST_ANY;
		break;
	default:
		r->done = true;
		break;
	}
}

static void set_error(struct gh_my_resp *r, const uint8_t *h, size_t n)
{
	r->error = true;
	if (gh_my_err_parse(h, n, &r->err_code, r->err_msg, sizeof r->err_msg) < 0) {
		r->err_code = 0;
		r->err_msg[0] = 0;
	}
	r->done = true;
}

/* An EOF or OK ending a result: more results follow, or the end. */
static int end_of_result(struct gh_my_resp *r, const uint8_t *h, size_t n)
{
	uint64_t aff = 0;
	uint16_t status = 0;

	if (gh_my_ok_parse(h, n, &aff, &status) < 0)
		return GH_EINVAL;
	r->affected += aff;
	if (r->kind == GH_MY_RESP_RESULT && (status & GH_MY_STATUS_MORE_RESULTS))
		r->state = ST_FIRST;
	else
		r->done = true;
	return 0;
}

/* Whether H starts the EOF (or its DEPRECATE_EOF OK) that ends rows. */
static bool is_terminator(const struct gh_my_resp *r, const uint8_t *h, size_t frame_len)
{
	return h[0] == 0xfe && frame_len < (r->deprecate_eof ? GH_MY_FRAME_MAX : 9);
}

static int on_first(struct gh_my_resp *r, const uint8_t *h, size_t n)
{
	uint64_t count = 0;
	size_t used = 0;

	if (h[0] == 0xff) {
		set_error(r, h, n);
		return 0;
	}
	if (r->kind == GH_MY_RESP_PREPARE) {
		uint16_t cols = 0, params = 0;
		if (gh_my_prepare_ok_parse(h, n, &r->stmt_id, &cols, &params) < 0)
			return GH_EINVAL;
		r->after_cols = cols ? ST_PREP_COLS : ST_END;
		r->cols_left = params ? params : cols;
		if (!params)
			r->after_cols = ST_END;
		r->rows = cols; /* stashed: the columns still to come after the parameters */
		r->state = ST_DEFS;
		if (!params && !cols)
			r->done = true;
		return 0;
	}
	if (h[0] == 0x00)
		return end_of_result(r, h, n);
	if (h[0] == 0xfb)
		return GH_EINVAL; /* LOCAL INFILE: never offered */
	if (gh_my_lenenc_get(h, n, &count, &used) < 0 || count == 0)
		return GH_EINVAL;
	r->cols_left = count;
	r->after_cols = ST_ROWS;
	r->state = ST_DEFS;
	return 0;
}

/* The state after a block of definitions (and its EOF). */
static void after_defs(struct gh_my_resp *r)
{
	if (r->after_cols == ST_PREP_COLS) {
		r->cols_left = r->rows;
		r->rows = 0;
		r->after_cols = ST_END;
		r->state = ST_DEFS;
		return;
	}
	if (r->after_cols == ST_END) {
		r->rows = 0;
		r->done = true;
		return;
	}
	r->state = r->after_cols;
}

static int on_defs(struct gh_my_resp *r, const uint8_t *h, size_t n, size_t frame_len)
{
	if (h[0] == 0xff) {
		set_error(r, h, n);
		return 0;
	}
	if (r->kind == GH_MY_RESP_FIELDS && is_terminator(r, h, frame_len)) {
		r->done = true;
		return 0;
	}
	if (r->kind == GH_MY_RESP_FIELDS)
		return 0;
	if (--r->cols_left == 0) {
		if (r->deprecate_eof)
			after_defs(r);
		else
			r->state = ST_DEFS_EOF;
	}
	return 0;
}

int gh_my_resp_frame(struct gh_my_resp *r, const uint8_t *head, size_t head_len,
		     size_t frame_len)
{
	size_t n = head_len < frame_len ? head_len : frame_len;
	bool cont = r->cont;

	if (r->done)
		return GH_EINVAL;
	if (frame_len > GH_MY_FRAME_MAX || (n < frame_len && n < GH_MY_HEAD))
		return GH_EINVAL;
	r->cont = frame_len == GH_MY_FRAME_MAX;
	if (cont)
		return 0; /* the rest of a long packet */
	if (frame_len == 0) {
		if (r->state != ST_ANY)
			return GH_EINVAL;
		r->done = true;
		return 0;
	}
	switch (r->state) {
	case ST_ANY:
		if (head[0] == 0xff)
			set_error(r, head, n);
		else if (head[0] == 0x00 && gh_my_ok_parse(head, n, &r->affected, &(uint16_t){ 0 }) < 0)
			r->affected = 0;
		r->done = true;
		return 0;
	case ST_FIRST:
		return on_first(r, head, n);
	case ST_DEFS:
		return on_defs(r, head, n, frame_len);
	case ST_DEFS_EOF:
		if (!is_terminator(r, head, frame_len))
			return GH_EINVAL;
		if (n >= 5 && (head[3] | head[4] << 8) & GH_MY_STATUS_CURSOR_EXISTS &&
		    r->after_cols == ST_ROWS) {
			r->done = true; /* rows come with COM_STMT_FETCH */
			return 0;
		}
		after_defs(r);
		return 0;
	case ST_ROWS:
		if (head[0] == 0xff) {
			set_error(r, head, n);
			return 0;
		}
		if (is_terminator(r, head, frame_len))
			return end_of_result(r, head, n);
		r->rows++;
		return 0;
	default:
		return GH_EINVAL;
	}
}
