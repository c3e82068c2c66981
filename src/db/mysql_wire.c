/* MySQL/MariaDB wire: framing, greeting, handshake response, OK/ERR,
 * commands, prepared statement texts (src/db/mysql_wire.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "db/mysql_wire.h"
#include "db/wire_rd.h"

/* ---- framing ------------------------------------------------------------- */

int gh_my_frame_head(const uint8_t *buf, size_t len, size_t *ret_payload, uint8_t *ret_seq)
{
	if (len < 4)
		return GH_EINVAL;
	*ret_payload = (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16;
	*ret_seq = buf[3];
	return 0;
}

int gh_my_msg_scan(const uint8_t *buf, size_t len, size_t max, struct gh_my_msg *ret)
{
	struct gh_my_msg m = { 0 };
	size_t off = 0, total = 0, flen = 0;
	uint8_t seq = 0, expect = 0;
	bool first = true;

	for (;;) {
		if (gh_my_frame_head(buf + off, len - off, &flen, &seq) < 0)
			goto incomplete;
		if (!first && seq != expect)
			return GH_EINVAL;
		if (first)
			m.seq = seq;
		first = false;
		expect = (uint8_t)(seq + 1);
		if (flen > max || total > max - flen)
			return GH_ELIMIT;
		total += flen;
		if (len - off - 4 < flen)
			goto incomplete;
		off += 4 + flen;
		if (flen < GH_MY_FRAME_MAX)
			break;
	}
	m.used = off;
	m.len = total;
	m.next_seq = expect;
	*ret = m;
	return 0;
incomplete:
	*ret = (struct gh_my_msg){ 0 };
	return 0;
}

int gh_my_msg_payload(const uint8_t *buf, const struct gh_my_msg *m, struct gh_buf *out)
{
	size_t off = 0, flen = 0;
	uint8_t seq = 0;
	int r = 0;

	while (off < m->used) {
		if ((r = gh_my_frame_head(buf + off, m->used - off, &flen, &seq)) < 0)
			return r;
		if (flen > m->used - off - 4)
			return GH_EINVAL;
		if ((r = gh_buf_put(out, buf + off + 4, flen)) < 0)
			return r;
		off += 4 + flen;
	}
	return 0;
}

int gh_my_put_msg(struct gh_buf *out, uint8_t seq, const void *payload, size_t n,
		  uint8_t *ret_next_seq)
{
	const uint8_t *p = payload;
	int r = 0;

	for (;;) {
		size_t chunk = n < GH_MY_FRAME_MAX ? n : GH_MY_FRAME_MAX;
		uint8_t h[4] = { (uint8_t)chunk, (uint8_t)(chunk >> 8), (uint8_t)(chunk >> 16), seq };
		if ((r = gh_buf_put(out, h, 4)) < 0 || (r = gh_buf_put(out, p, chunk)) < 0)
			return r;
		seq++;
		p += chunk;
		n -= chunk;
		if (chunk < GH_MY_FRAME_MAX)
			break;
	}
	if (ret_next_seq)
		*ret_next_seq = seq;
	return 0;
}

int gh_my_lenenc_get(const uint8_t *p, size_t n, uint64_t *ret, size_t *ret_used)
{
	size_t w = 0;
	uint64_t v = 0;

	if (n < 1)
		return GH_EINVAL;
	if (p[0] < 0xfb) {
		*ret = p[0];
		*ret_used = 1;
		return 0;
	}
	switch (p[0]) {
	case 0xfc: w = 2; break;
	case 0xfd: w = 3; break;
	case 0xfe: w = 8; break;
	default: return GH_EINVAL;
	}
	if (n < 1 + w)
		return GH_EINVAL;
	for (size_t i = 0; i < w; i++)
		v |= (uint64_t)p[1 + i] << (8 * i);
	*ret = v;
	*ret_used = 1 + w;
	return 0;
}

int gh_my_lenenc_put(struct gh_buf *out, uint64_t v)
{
	uint8_t b[9];
	size_t w = 0;

	if (v < 0xfb) {
		b[0] = (uint8_t)v;
		return gh_buf_put(out, b, 1);
	}
	if (v <= 0xffff) {
		b[0] = 0xfc;
		w = 2;
	} else if (v <= 0xffffff) {
		b[0] = 0xfd;
		w = 3;
	} else {
		b[0] = 0xfe;
		w = 8;
	}
	for (size_t i = 0; i < w; i++)
		b[1 + i] = (uint8_t)(v >> (8 * i));
	return gh_buf_put(out, b, 1 + w);
}

/* ---- greeting ------------------------------------------------------------ */

void gh_my_scramble_new(uint8_t scramble[GH_MY_SCRAMBLE_LEN])
{
	for (size_t i = 0; i < GH_MY_SCRAMBLE_LEN; i++) {
		uint8_t c = 0;
		do
			c = (uint8_t)(0x21 + randombytes_uniform(0x7e - 0x21));
		while (c == '$');
		scramble[i] = c;
	}
}

static void put_u16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

int gh_my_greeting_build(const struct gh_my_greeting *g, struct gh_buf *out)
{
	uint8_t b[32] = { 0 };
	size_t sl = g->scramble_len;

	if (!g->version || !g->plugin || sl < 8 || sl > GH_MY_SCRAMBLE_LEN ||
	    strlen(g->version) > 200 || strlen(g->plugin) > 64)
		return GH_EINVAL;
	gh_buf_putc(out, 10);
	gh_buf_put(out, g->version, strlen(g->version) + 1);
	put_u32(b, g->conn_id);
	gh_buf_put(out, b, 4);
	gh_buf_put(out, g->scramble, 8);
	gh_buf_putc(out, 0);
	put_u16(b, (uint16_t)g->caps);
	b[2] = g->charset;
	put_u16(b + 3, g->status);
	put_u16(b + 5, (uint16_t)(g->caps >> 16));
	b[7] = (uint8_t)(sl + 1);
	memset(b + 8, 0, 10);
	gh_buf_put(out, b, 18);
	/* part 2: at least 13 bytes, NUL-terminated */
	gh_buf_put(out, g->scramble + 8, sl - 8);
	for (size_t i = sl - 8; i < 13; i++)
		gh_buf_putc(out, 0);
	gh_buf_put(out, g->plugin, strlen(g->plugin) + 1);
	return out->err;
}

static int dup_view(const uint8_t *s, size_t n, char **ret)
{
	char *c = NULL;
	if (n > GH_MY_MAX_NAME || memchr(s, 0, n))
		return n > GH_MY_MAX_NAME ? GH_ELIMIT : GH_EINVAL;
	if (!(c = malloc(n + 1)))
		return GH_ENOMEM;
	if (n)
		memcpy(c, s, n);
	c[n] = 0;
	*ret = c;
	return 0;
}

/* Copy the greeting's second part of the scramble: up to 12 bytes before a NUL. */
static int greeting_part2(struct gh_rd *rd, uint8_t alen, struct gh_my_greeting *g)
{
	size_t want = alen > 8 ? (size_t)alen - 8 : 13;
	const uint8_t *s = NULL;
	size_t keep = 0;
	int r = 0;

	if (want < 13)
		want = 13;
	if (want > gh_rd_left(rd))
		want = gh_rd_left(rd); /* some servers end without the trailing NUL */
	if ((r = gh_rd_bytes(rd, want, &s)) < 0)
		return r;
	keep = want;
	if (keep && s[keep - 1] == 0)
		keep--;
	if (keep > GH_MY_SCRAMBLE_LEN - 8)
		keep = GH_MY_SCRAMBLE_LEN - 8;
	memcpy(g->scramble + 8, s, keep);
	g->scramble_len = 8 + keep;
	return 0;
}

int gh_my_greeting_parse(const uint8_t *p, size_t n, struct gh_my_greeting *ret)
{
	struct gh_rd rd = GH_RD(p, n);
	struct gh_my_greeting g = { 0 };
	const uint8_t *s = NULL;
	size_t sl = 0;
	uint8_t proto = 0, alen = 0, filler = 0;
	uint16_t lo = 0, hi = 0;
	int r = GH_EINVAL;

	if (n > 0 && p[0] == 0xff)
		return GH_ECONN;
	if (gh_rd_u8(&rd, &proto) < 0 || proto != 10)
		goto out;
	if ((r = gh_rd_cstr(&rd, &s, &sl)) < 0 || (r = dup_view(s, sl, &g.version)) < 0)
		goto out;
	r = GH_EINVAL;
	if (gh_rd_u32(&rd, &g.conn_id) < 0 || gh_rd_bytes(&rd, 8, &s) < 0 ||
	    gh_rd_u8(&rd, &filler) < 0 || gh_rd_u16(&rd, &lo) < 0)
		goto out;
	memcpy(g.scramble, s, 8);
	g.scramble_len = 8;
	g.caps = lo;
	if (gh_rd_left(&rd) > 0) {
		if (gh_rd_u8(&rd, &g.charset) < 0 || gh_rd_u16(&rd, &g.status) < 0 ||
		    gh_rd_u16(&rd, &hi) < 0 || gh_rd_u8(&rd, &alen) < 0 ||
		    gh_rd_bytes(&rd, 10, &s) < 0)
			goto out;
		g.caps |= (uint32_t)hi << 16;
		if ((g.caps & GH_MY_CLIENT_SECURE_CONNECTION) &&
		    (r = greeting_part2(&rd, alen, &g)) < 0)
			goto out;
	}
	r = GH_EINVAL;
	if ((g.caps & GH_MY_CLIENT_PLUGIN_AUTH) && gh_rd_left(&rd) > 0) {
		/* the name ends with a NUL or (a known bug of old servers) the packet */
		s = p + rd.off;
		sl = gh_rd_left(&rd);
		const uint8_t *z = memchr(s, 0, sl);
		if (z)
			sl = (size_t)(z - s);
		if ((r = dup_view(s, sl, &g.plugin)) < 0)
			goto out;
	} else if ((r = dup_view((const uint8_t *)"", 0, &g.plugin)) < 0) {
		goto out;
	}
	*ret = g;
	g = (struct gh_my_greeting){ 0 };
	r = 0;
out:
	gh_my_greeting_free(&g);
	return r;
}

void gh_my_greeting_free(struct gh_my_greeting *g)
{
	if (!g)
		return;
	free(g->version);
	free(g->plugin);
	*g = (struct gh_my_greeting){ 0 };
}

/* ---- handshake response -------------------------------------------------- */

static int copy_secret(const uint8_t *s, size_t n, uint8_t **ret)
{
	uint8_t *c = NULL;
	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	if (n > 4096)
		return GH_ELIMIT;
	if (!(c = sodium_malloc(n)))
		return GH_ENOMEM;
	memcpy(c, s, n);
	*ret = c;
	return 0;
}

static int parse_attrs(const uint8_t *p, size_t n, struct gh_my_hsresp *h)
{
	struct gh_rd rd = GH_RD(p, n);
	const uint8_t *k = NULL, *v = NULL;
	size_t kl = 0, vl = 0;
	int r = 0;

	if (!(h->attrs_raw = malloc(n ? n : 1)))
		return GH_ENOMEM;
	if (n)
		memcpy(h->attrs_raw, p, n);
	h->attrs_raw_len = n;
	while (gh_rd_left(&rd) > 0) {
		if (h->n_attrs >= GH_MY_MAX_ATTRS)
			return GH_ELIMIT;
		if ((r = gh_rd_lenstr(&rd, GH_MY_MAX_NAME, &k, &kl)) < 0 ||
		    (r = gh_rd_lenstr(&rd, GH_MY_MAX_NAME, &v, &vl)) < 0)
			return r;
		if (!h->attrs && !(h->attrs = calloc(GH_MY_MAX_ATTRS, sizeof *h->attrs)))
			return GH_ENOMEM;
		struct gh_my_attr *a = &h->attrs[h->n_attrs];
		if ((r = dup_view(k, kl, &a->key)) < 0)
			return r;
		if ((r = dup_view(v, vl, &a->value)) < 0) {
			free(a->key);
			a->key = NULL;
			return r;
		}
		h->n_attrs++;
	}
	return 0;
}

/* The fields after the fixed 32 bytes. */
static int hsresp_tail(struct gh_rd *rd, struct gh_my_hsresp *h)
{
	const uint8_t *s = NULL;
	size_t sl = 0;
	uint8_t l8 = 0;
	int r = 0;

	if ((r = gh_rd_cstr(rd, &s, &sl)) < 0 || (r = dup_view(s, sl, &h->user)) < 0)
		return r;
	if (h->caps & GH_MY_CLIENT_PLUGIN_AUTH_LENENC)
		r = gh_rd_lenstr(rd, 4096, &s, &sl);
	else if (h->caps & GH_MY_CLIENT_SECURE_CONNECTION)
		r = gh_rd_u8(rd, &l8) < 0 ? GH_EINVAL : gh_rd_bytes(rd, (sl = l8), &s);
	else
		r = gh_rd_cstr(rd, &s, &sl);
	if (r < 0 || (r = copy_secret(s, sl, &h->auth)) < 0)
		return r;
	h->auth_len = sl;
	if ((h->caps & GH_MY_CLIENT_CONNECT_WITH_DB) && gh_rd_left(rd) > 0) {
		if ((r = gh_rd_cstr(rd, &s, &sl)) < 0 || (r = dup_view(s, sl, &h->database)) < 0)
			return r;
	}
	sl = 0;
	s = (const uint8_t *)"";
	if ((h->caps & GH_MY_CLIENT_PLUGIN_AUTH) && gh_rd_left(rd) > 0 &&
	    (r = gh_rd_cstr(rd, &s, &sl)) < 0)
		return r;
	if ((r = dup_view(s, sl, &h->plugin)) < 0)
		return r;
	if ((h->caps & GH_MY_CLIENT_CONNECT_ATTRS) && gh_rd_left(rd) > 0) {
		if ((r = gh_rd_lenstr(rd, 65536, &s, &sl)) < 0 || (r = parse_attrs(s, sl, h)) < 0)
			return r;
	}
	return 0;
}

int gh_my_hsresp_parse(const uint8_t *p, size_t n, struct gh_my_hsresp *ret)
{
	struct gh_rd rd = GH_RD(p, n);
	struct gh_my_hsresp h = { 0 };
	const uint8_t *s = NULL;
	int r = GH_EINVAL;

	if (gh_rd_u32(&rd, &h.caps) < 0 || !(h.caps & GH_MY_CLIENT_PROTOCOL_41) ||
	    gh_rd_u32(&rd, &h.max_packet) < 0 || gh_rd_u8(&rd, &h.charset) < 0 ||
	    gh_rd_bytes(&rd, 23, &s) < 0)
		goto out;
	if (gh_rd_left(&rd) == 0) {
		if (!(h.caps & GH_MY_CLIENT_SSL))
			goto out;
		h.ssl_request = true;
	} else if ((r = hsresp_tail(&rd, &h)) < 0) {
		goto out;
	}
	*ret = h;
	h = (struct gh_my_hsresp){ 0 };
	r = 0;
out:
	gh_my_hsresp_free(&h);
	return r;
}

void gh_my_hsresp_free(struct gh_my_hsresp *h)
{
	if (!h)
		return;
	free(h->user);
	if (h->auth) {
		sodium_memzero(h->auth, h->auth_len);
		sodium_free(h->auth);
	}
	free(h->database);
	free(h->plugin);
	for (size_t i = 0; h->attrs && i < h->n_attrs; i++) {
		free(h->attrs[i].key);
		free(h->attrs[i].value);
	}
	free(h->attrs);
	free(h->attrs_raw);
	*h = (struct gh_my_hsresp){ 0 };
}

int gh_my_hsresp_build(const struct gh_my_hsresp *h, struct gh_buf *out)
{
	uint8_t b[32] = { 0 };

	put_u32(b, h->caps);
	put_u32(b + 4, h->max_packet);
	b[8] = h->charset;
	gh_buf_put(out, b, 32);
	if (h->ssl_request)
		return out->err;
	if (!h->user || (h->auth_len && !h->auth))
		return GH_EINVAL;
	gh_buf_put(out, h->user, strlen(h->user) + 1);
	gh_my_lenenc_put(out, h->auth_len);
	gh_buf_put(out, h->auth, h->auth_len);
	if (h->caps & GH_MY_CLIENT_CONNECT_WITH_DB)
		gh_buf_put(out, h->database ? h->database : "", strlen(h->database ? h->database : "") + 1);
	if (h->caps & GH_MY_CLIENT_PLUGIN_AUTH)
		gh_buf_put(out, h->plugin ? h->plugin : "", strlen(h->plugin ? h->plugin : "") + 1);
	if (h->caps & GH_MY_CLIENT_CONNECT_ATTRS) {
		gh_my_lenenc_put(out, h->attrs_raw_len);
		gh_buf_put(out, h->attrs_raw, h->attrs_raw_len);
	}
	return out->err;
}

/* ---- server side of the password exchange -------------------------------- */

int gh_my_auth_switch_build(const char *plugin, const uint8_t *data, size_t n,
			    struct gh_buf *out)
{
	gh_buf_putc(out, (char)0xfe);
	gh_buf_put(out, plugin, strlen(plugin) + 1);
	gh_buf_put(out, data, n);
	gh_buf_putc(out, 0);
	return out->err;
}

int gh_my_auth_more_build(const uint8_t *data, size_t n, struct gh_buf *out)
{
	gh_buf_putc(out, 1);
	gh_buf_put(out, data, n);
	return out->err;
}

int gh_my_clear_password_parse(const uint8_t *p, size_t n, char **ret)
{
	const uint8_t *z = memchr(p, 0, n);
	size_t len = z ? (size_t)(z - p) : n;
	char *c = NULL;

	if (len > 1024)
		return GH_ELIMIT;
	if (!(c = sodium_malloc(len + 1)))
		return GH_ENOMEM;
	memcpy(c, p, len);
	c[len] = 0;
	*ret = c;
	return 0;
}

char *gh_my_secret_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		sodium_free(s);
	}
	return NULL;
}

/* ---- OK / ERR ------------------------------------------------------------ */

int gh_my_err_build(uint16_t code, const char *sqlstate, const char *msg, struct gh_buf *out)
{
	uint8_t b[3] = { 0xff, (uint8_t)code, (uint8_t)(code >> 8) };
	size_t n = strlen(msg);

	if (!sqlstate || strlen(sqlstate) != 5)
		return GH_EINVAL;
	gh_buf_put(out, b, 3);
	gh_buf_putc(out, '#');
	gh_buf_put(out, sqlstate, 5);
	if (n > 400)
		n = 400;
	for (size_t i = 0; i < n; i++)
		gh_buf_putc(out, (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i]);
	return out->err;
}

int gh_my_err_rejected(const char *rule, struct gh_buf *out)
{
	char msg[160];
	int k = snprintf(msg, sizeof msg, "rejected by Gatehouse: rule %s", rule ? rule : "?");
	if (k < 0)
		return GH_EINVAL;
	return gh_my_err_build(1227, "42000", msg, out);
}

int gh_my_err_parse(const uint8_t *p, size_t n, uint16_t *ret_code, char *msg, size_t msglen)
{
	size_t off = 3, len = 0;

	if (n < 3 || p[0] != 0xff || msglen == 0)
		return GH_EINVAL;
	if (n >= 9 && p[3] == '#')
		off = 9;
	len = n - off;
	if (len >= msglen)
		len = msglen - 1;
	for (size_t i = 0; i < len; i++)
		msg[i] = p[off + i] < 0x20 || p[off + i] == 0x7f ? '?' : (char)p[off + i];
	msg[len] = 0;
	*ret_code = (uint16_t)(p[1] | p[2] << 8);
	return 0;
}

int gh_my_ok_parse(const uint8_t *p, size_t n, uint64_t *ret_affected, uint16_t *ret_status)
{
	uint64_t aff = 0, id = 0;
	size_t u1 = 0, u2 = 0;

	if (n < 1 || (p[0] != 0x00 && p[0] != 0xfe))
		return GH_EINVAL;
	if (p[0] == 0xfe && n < 9) { /* an EOF packet: warnings, status */
		*ret_affected = 0;
		*ret_status = n >= 5 ? (uint16_t)(p[3] | p[4] << 8) : 0;
		return 0;
	}
	if (gh_my_lenenc_get(p + 1, n - 1, &aff, &u1) < 0 ||
	    gh_my_lenenc_get(p + 1 + u1, n - 1 - u1, &id, &u2) < 0)
		return GH_EINVAL;
	if (n - 1 - u1 - u2 < 2) {
		*ret_status = 0;
	} else {
		const uint8_t *s = p + 1 + u1 + u2;
		*ret_status = (uint16_t)(s[0] | s[1] << 8);
	}
	*ret_affected = aff;
	return 0;
}

/* ---- commands ------------------------------------------------------------ */

int gh_my_command_parse(const uint8_t *p, size_t n, struct gh_my_command *ret)
{
	struct gh_my_command c = { 0 };

	if (n < 1)
		return GH_EINVAL;
	c.cmd = p[0];
	switch (c.cmd) {
	case GH_MY_COM_QUERY:
	case GH_MY_COM_STMT_PREPARE:
	case GH_MY_COM_INIT_DB:
		c.text = p + 1;
		c.text_len = n - 1;
		break;
	case GH_MY_COM_STMT_EXECUTE:
	case GH_MY_COM_STMT_CLOSE:
	case GH_MY_COM_STMT_RESET:
	case GH_MY_COM_STMT_SEND_LONG_DATA:
	case GH_MY_COM_STMT_FETCH:
		if (n < 5)
			return GH_EINVAL;
		c.stmt_id = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
			    (uint32_t)p[4] << 24;
		break;
	default:
		break;
	}
	*ret = c;
	return 0;
}

int gh_my_prepare_ok_parse(const uint8_t *p, size_t n, uint32_t *ret_id, uint16_t *ret_cols,
			   uint16_t *ret_params)
{
	if (n < 9 || p[0] != 0x00)
		return GH_EINVAL;
	*ret_id = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
	*ret_cols = (uint16_t)(p[5] | p[6] << 8);
	*ret_params = (uint16_t)(p[7] | p[8] << 8);
	return 0;
}

/* ---- prepared statement texts -------------------------------------------- */

#define STMT_TEXT_MAX 65536 /* longer texts are kept cut (the audit bounds them anyway) */

struct stmt_slot {
	uint32_t id;
	char *text;
};

struct gh_my_stmts {
	struct stmt_slot *v;
	size_t n, max;
	uint32_t last;
	bool have_last;
};

int gh_my_stmts_new(size_t max_count, struct gh_my_stmts **ret)
{
	struct gh_my_stmts *s = NULL;

	if (max_count == 0)
		return GH_EINVAL;
	if (!(s = calloc(1, sizeof *s)) || !(s->v = calloc(max_count, sizeof *s->v))) {
		free(s);
		return GH_ENOMEM;
	}
	s->max = max_count;
	*ret = s;
	return 0;
}

struct gh_my_stmts *gh_my_stmts_free(struct gh_my_stmts *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].text);
	free(s->v);
	free(s);
	return NULL;
}

static struct stmt_slot *stmt_find(const struct gh_my_stmts *s, uint32_t id)
{
	if (id == 0xffffffffu) {
		if (!s->have_last)
			return NULL;
		id = s->last;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return &s->v[i];
	return NULL;
}

int gh_my_stmts_put(struct gh_my_stmts *s, uint32_t id, const uint8_t *text, size_t n)
{
	struct stmt_slot *slot = stmt_find(s, id);
	char *t = NULL;

	if (n > STMT_TEXT_MAX)
		n = STMT_TEXT_MAX;
	if (!slot && s->n >= s->max)
		return GH_ELIMIT;
	if (!(t = malloc(n + 1)))
		return GH_ENOMEM;
	if (n)
		memcpy(t, text, n);
	t[n] = 0;
	if (!slot) {
		slot = &s->v[s->n++];
		slot->id = id;
	} else {
		free(slot->text);
	}
	slot->text = t;
	s->last = id;
	s->have_last = true;
	return 0;
}

const char *gh_my_stmts_get(const struct gh_my_stmts *s, uint32_t id)
{
	const struct stmt_slot *slot = s ? stmt_find(s, id) : NULL;
	return slot ? slot->text : NULL;
}

void gh_my_stmts_drop(struct gh_my_stmts *s, uint32_t id)
{
	struct stmt_slot *slot = stmt_find(s, id);

	if (!slot)
		return;
	if (s->have_last && s->last == slot->id)
		s->have_last = false;
	free(slot->text);
	*slot = s->v[--s->n];
}
