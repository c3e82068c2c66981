/* GET /api/v1/sessions/{id}/recording: the asciicast v2 recording, as
 * stored (gzip members) when the client accepts gzip, else inflated. */
#include "web/http.h"
#include "app/app.h"
#include "core/error.h"
#include "core/safefile.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define STORED_MAX ((size_t)64 << 20)   /* compressed bytes sent from memory */
#define PLAIN_MAX ((size_t)512 << 20)   /* inflated bytes */

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return GH_EIO;
	if ((size_t)st.st_size > STORED_MAX)
		return GH_ELIMIT;
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	if (!buf)
		return GH_ENOMEM;
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
		if (k <= 0) {
			free(buf);
			return GH_EIO;
		}
		n += (size_t)k;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* Every gzip member of IN, inflated, into *RET. */
static int inflate_all(const char *in, size_t len, char **ret, size_t *ret_len)
{
	z_stream z = { 0 };
	size_t cap = len * 4 + 4096, n = 0;
	char *out = malloc(cap);
	int r = 0, zr = Z_OK;
	if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		return GH_ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	while (r == 0 && z.avail_in > 0) {
		if (n == cap) {
			char *nb = cap * 2 <= PLAIN_MAX ? realloc(out, cap * 2) : NULL;
			if (!nb) {
				r = GH_ELIMIT;
				break;
			}
			out = nb;
			cap *= 2;
		}
		z.next_out = (Bytef *)out + n;
		z.avail_out = (uInt)(cap - n);
		zr = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (zr == Z_STREAM_END)
			zr = inflateReset(&z); /* the next member */
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			r = GH_EIO;
		else if (zr == Z_BUF_ERROR && z.avail_out > 0)
			break; /* a member cut short (crash): keep what reads */
	}
	inflateEnd(&z);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

int gh_web_h_recording(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_session s = { 0 };
	char why[256];
	char *data = NULL, *plain = NULL;
	size_t len = 0, plen = 0;
	int fd = -1;
	int r = gh_store_session_get(ctx->st, req->params[0], &s);
	if (r < 0)
		return gh_web_store_error(resp, r, "session");
	if (!s.recording_path) {
		gh_session_free(&s);
		return gh_web_error(resp, 404, "session has no recording");
	}
	r = gh_open_beneath(ctx->app->cfg.recordings_dir, s.recording_path, &fd, why, sizeof why);
	if (r == 0)
		r = read_fd(fd, &data, &len);
	if (fd >= 0)
		close(fd);
	gh_session_free(&s);
	/* ?plain=1: inflated whatever the client accepts (the console's
	 * player: a browser's fetch inflates only the first gzip member) */
	char plain_q[8];
	bool gz = req->accept_gzip && gh_web_query(req, "plain", plain_q, sizeof plain_q) < 0;
	if (r == 0 && !gz)
		r = inflate_all(data, len, &plain, &plen);
	if (r < 0) {
		free(data);
		return r == GH_ELIMIT ? gh_web_error(resp, 413, "recording too large to send")
		       : r == GH_ENOENT ? gh_web_error(resp, 404, "recording file not found")
					: gh_web_store_error(resp, r, "recording");
	}
	free(resp->body);
	resp->status = 200;
	resp->ctype = "application/x-asciicast";
	if (gz) {
		resp->body = data;
		resp->len = len;
		resp->encoding = "gzip";
	} else {
		free(data);
		resp->body = plain;
		resp->len = plen;
	}
	return 0;
}
