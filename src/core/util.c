#include "core/util.h"
#include "core/error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *gh_strstrip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int gh_parse_ll(const char *s, long long *ret)
{
	char *end = NULL;
	if (!s || !*s || isspace((unsigned char)*s))
		return GH_EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return GH_EINVAL;
	*ret = v;
	return 0;
}

int gh_parse_hostport(const char *s, char **ret_host, int *ret_port)
{
	const char *hs, *he, *ps = NULL;
	if (!s || !*s)
		return GH_EINVAL;
	if (s[0] == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he)
			return GH_EINVAL;
		if (he[1] == ':')
			ps = he + 2;
		else if (he[1] != '\0')
			return GH_EINVAL;
	} else {
		hs = s;
		const char *c = strrchr(s, ':');
		if (c && strchr(s, ':') == c) {
			he = c;
			ps = c + 1;
		} else {
			he = s + strlen(s);
			if (c) /* bare IPv6 without brackets */
				ps = NULL;
		}
	}
	if (he == hs)
		return GH_EINVAL;
	int port = *ret_port;
	if (ps) {
		long long p;
		if (gh_parse_ll(ps, &p) < 0 || p < 1 || p > 65535)
			return GH_EINVAL;
		port = (int)p;
	} else if (port <= 0) {
		return GH_EINVAL;
	}
	char *h = strndup(hs, (size_t)(he - hs));
	if (!h)
		return GH_ENOMEM;
	*ret_host = h;
	*ret_port = port;
	return 0;
}

int gh_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return GH_EIO;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return GH_ENOMEM;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return GH_EINVAL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return GH_ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return GH_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		free(buf);
		errno = EFBIG;
		return GH_EINVAL;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int gh_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = NULL;
	int r = GH_EIO;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return GH_ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		goto out;
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	free(tmp);
	return r;
}

int gh_mkdir_p(const char *path, int mode)
{
	char *p = strdup(path);
	if (!p)
		return GH_ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
				free(p);
				return GH_EIO;
			}
			*s = '/';
		}
	}
	int r = (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) ? GH_EIO : 0;
	free(p);
	return r;
}

char *gh_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return dst;
	for (const unsigned char *p = (const unsigned char *)(src ? src : "(null)"); *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)*p;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

int gh_strjoin(const char *const *v, size_t n, const char *sep, char **ret)
{
	size_t seplen = sep ? strlen(sep) : 0, len = 1, o = 0;
	char *s = NULL;

	if (!ret || !sep || (n && !v))
		return GH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			return GH_EINVAL;
		len += strlen(v[i]) + (i ? seplen : 0);
	}
	s = malloc(len);
	if (!s)
		return GH_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (i) {
			memcpy(s + o, sep, seplen);
			o += seplen;
		}
		memcpy(s + o, v[i], l);
		o += l;
	}
	s[o] = '\0';
	*ret = s;
	return 0;
}

int64_t gh_now(void)
{
	return (int64_t)time(NULL);
}

int64_t gh_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int gh_parse_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	const char *p = s;

	if (!s)
		return GH_EINVAL;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return GH_EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return GH_EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se))
				return GH_EINVAL;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh))
				return GH_EINVAL;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om) || oh > 23 || om > 59)
				return GH_EINVAL;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p != '\0')
		return GH_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		return GH_EINVAL;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return GH_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*ret = (int64_t)timegm(&tm) - off;
	return 0;
}

char *gh_format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

bool gh_valid_name(const char *s)
{
	size_t n = 0;
	if (!s || !*s || *s == '-')
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return false;
		if (n >= 64)
			return false;
	}
	return true;
}
