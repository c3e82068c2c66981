/* PROXY protocol v1/v2 header parser (see proxyproto.h). */
#include "core/proxyproto.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
#define V1_PREFIX "PROXY "
#define V1_MAX 107
#define V1_MIN 15 /* "PROXY UNKNOWN\r\n"; also below v2's 16 */

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* An address (network order) as text; IPv4-mapped IPv6 as IPv4. */
static int addr_text(int family, const uint8_t *a, char *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == AF_INET6 && !memcmp(a, mapped, sizeof mapped)) {
		family = AF_INET;
		a += 12;
	}
	return inet_ntop(family, a, out, GH_PROXY_IPLEN) ? 0 : GH_EINVAL;
}

static int parse_v2(const uint8_t *buf, size_t len, struct gh_proxy_hdr *h, size_t *need)
{
	if (len < 16) {
		*need = 16;
		return GH_EBUSY;
	}
	uint8_t ver = buf[12] >> 4, cmd = buf[12] & 0x0f, fam = buf[13];
	size_t body = ((size_t)buf[14] << 8) | buf[15];
	if (ver != 2 || cmd > 1 || 16 + body > GH_PROXY_MAX_LEN)
		return GH_EINVAL;
	if (len < 16 + body) {
		*need = 16 + body;
		return GH_EBUSY;
	}
	memset(h, 0, sizeof *h);
	h->version = 2;
	h->len = 16 + body;
	if (cmd == 0) { /* LOCAL: addresses, if any, are ignored */
		h->local = true;
		return 0;
	}
	const uint8_t *p = buf + 16;
	if (fam == 0x11 && body >= 12) { /* TCP over IPv4 */
		if (addr_text(AF_INET, p, h->src_ip) < 0 || addr_text(AF_INET, p + 4, h->dst_ip) < 0)
			return GH_EINVAL;
		h->src_port = (p[8] << 8) | p[9];
		h->dst_port = (p[10] << 8) | p[11];
		return 0;
	}
	if (fam == 0x21 && body >= 36) { /* TCP over IPv6 */
		if (addr_text(AF_INET6, p, h->src_ip) < 0 ||
		    addr_text(AF_INET6, p + 16, h->dst_ip) < 0)
			return GH_EINVAL;
		h->src_port = (p[32] << 8) | p[33];
		h->dst_port = (p[34] << 8) | p[35];
		return 0;
	}
	return GH_EINVAL; /* UNSPEC, UDP, unix, or too short for its family */
}

/* The next space-separated field of [*p, end) into OUT (< CAP bytes). */
static int v1_field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e = s;
	while (e < end && *e != ' ')
		e++;
	size_t n = (size_t)(e - s);
	if (n == 0 || n >= cap)
		return GH_EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e < end ? e + 1 : e;
	return 0;
}

/* A port: 1-5 digits, no sign, no leading zero (but "0"), <= 65535. */
static int v1_port(const char *s, int *ret)
{
	size_t n = strlen(s);
	long v = 0;
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return GH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return GH_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return GH_EINVAL;
	*ret = (int)v;
	return 0;
}

static int v1_addr(int family, const char *s, char *out)
{
	uint8_t a[16];
	if (inet_pton(family, s, a) != 1)
		return GH_EINVAL;
	return addr_text(family, a, out);
}

/* LINE is the header without its "\r\n", after "PROXY ". */
static int parse_v1_line(const char *line, const char *end, struct gh_proxy_hdr *h)
{
	char proto[8], src[GH_PROXY_IPLEN], dst[GH_PROXY_IPLEN], sp[8], dp[8];
	const char *p = line;
	if (v1_field(&p, end, proto, sizeof proto) < 0)
		return GH_EINVAL;
	if (!strcmp(proto, "UNKNOWN")) {
		h->local = true;
		return 0;
	}
	int family = !strcmp(proto, "TCP4") ? AF_INET : !strcmp(proto, "TCP6") ? AF_INET6 : 0;
	if (!family || p >= end || v1_field(&p, end, src, sizeof src) < 0 ||
	    v1_field(&p, end, dst, sizeof dst) < 0 || v1_field(&p, end, sp, sizeof sp) < 0 ||
	    v1_field(&p, end, dp, sizeof dp) < 0 || p != end || end[-1] == ' ')
		return GH_EINVAL;
	if (v1_addr(family, src, h->src_ip) < 0 || v1_addr(family, dst, h->dst_ip) < 0 ||
	    v1_port(sp, &h->src_port) < 0 || v1_port(dp, &h->dst_port) < 0)
		return GH_EINVAL;
	return 0;
}

static int parse_v1(const uint8_t *buf, size_t len, struct gh_proxy_hdr *h, size_t *need)
{
	const char *s = (const char *)buf;
	size_t scan = min_sz(len, V1_MAX);
	for (size_t i = 0; i < scan; i++) {
		if (s[i] != '\r' && (s[i] < 0x20 || s[i] > 0x7e))
			return GH_EINVAL; /* only printable ASCII; no bare LF, no NUL */
		if (s[i] != '\r')
			continue;
		if (i + 1 == len)
			break; /* "\r" as the last byte so far */
		if (s[i + 1] != '\n')
			return GH_EINVAL;
		memset(h, 0, sizeof *h);
		h->version = 1;
		h->len = i + 2;
		return parse_v1_line(s + strlen(V1_PREFIX), s + i, h);
	}
	if (len >= V1_MAX)
		return GH_EINVAL;
	*need = len < V1_MIN ? V1_MIN : len + 1;
	return GH_EBUSY;
}

int gh_proxy_parse(const uint8_t *buf, size_t len, struct gh_proxy_hdr *ret, size_t *ret_need)
{
	struct gh_proxy_hdr h;
	size_t need = 0;
	int r;
	if (!buf && len)
		return GH_EINVAL;
	bool v2 = !memcmp(buf ? buf : v2_sig, v2_sig, min_sz(len, sizeof v2_sig));
	bool v1 = !memcmp(buf ? buf : (const uint8_t *)V1_PREFIX, V1_PREFIX,
			  min_sz(len, strlen(V1_PREFIX)));
	if (len < strlen(V1_PREFIX) && (v1 || v2)) {
		need = V1_MIN; /* both are at least that long */
		r = GH_EBUSY;
	} else if (v2 && len >= sizeof v2_sig) {
		r = parse_v2(buf, len, &h, &need);
	} else if (v1) {
		r = parse_v1(buf, len, &h, &need);
	} else if (v2) {
		need = sizeof v2_sig;
		r = GH_EBUSY;
	} else {
		r = GH_EINVAL;
	}
	if (r == GH_EBUSY && ret_need)
		*ret_need = need;
	if (r == 0 && ret)
		*ret = h;
	return r;
}
