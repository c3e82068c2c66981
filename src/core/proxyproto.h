/* The PROXY protocol (HAProxy's, versions 1 and 2): the header a load
 * balancer sends first on a TCP connection to tell the server who the
 * client is. Pure parsing over bytes, no I/O, no logging.
 *
 * Version 2 (binary): a 12-byte signature, version/command, family, a
 * 16-bit length and that many bytes (addresses, then TLVs, ignored).
 * Version 1 (text): "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or
 * "PROXY UNKNOWN ...\r\n", at most 107 bytes.
 *
 * A PROXY command must carry a TCP client over IPv4 or IPv6; anything
 * else (UDP, unix sockets, an unspecified family) is refused, as a
 * connection whose client is unknown. A LOCAL command (v2) or UNKNOWN
 * (v1) is the balancer speaking for itself (a health check): no address. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the longest header accepted (v2 with TLVs included) */
#define GH_PROXY_MAX_LEN 1024
#define GH_PROXY_IPLEN 46 /* INET6_ADDRSTRLEN */

struct gh_proxy_hdr {
	bool local;                   /* LOCAL / UNKNOWN: no client address */
	int version;                  /* 1 or 2 */
	char src_ip[GH_PROXY_IPLEN];  /* the client; IPv4-mapped IPv6 as IPv4 */
	int src_port;
	char dst_ip[GH_PROXY_IPLEN];  /* the address the client connected to */
	int dst_port;
	size_t len;                   /* bytes of the header */
};

/* Parses the header at the start of BUF (LEN bytes; bytes after the header
 * are left alone). 0 and *RET when a whole valid header is there;
 * GH_EBUSY when BUF is a valid beginning and at least *RET_NEED bytes
 * (> LEN, <= GH_PROXY_MAX_LEN) are needed to go on (reading exactly that
 * many never reads past the header); GH_EINVAL when it is not one. */
int gh_proxy_parse(const uint8_t *buf, size_t len, struct gh_proxy_hdr *ret, size_t *ret_need);
