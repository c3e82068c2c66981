#include "ssh/login.h"
#include "core/error.h"

#include <stdbool.h>
#include <string.h>

static bool part_char_ok(char c, bool account)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || (account && c == '$');
}

/* Copy S[0..LEN) into DST (GH_LOGIN_PART_MAX + 1 bytes) after checking it. */
static int take_part(char *dst, const char *s, size_t len, bool account)
{
	if (len == 0 || len > GH_LOGIN_PART_MAX || s[0] == '-')
		return GH_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!part_char_ok(s[i], account))
			return GH_EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int gh_login_parse(const char *s, size_t len, struct gh_login *ret)
{
	struct gh_login l;
	size_t cut[3];
	size_t nparts = 1;
	char sep;

	if (!s || len == 0 || len > GH_LOGIN_MAX)
		return GH_EINVAL;
	sep = memchr(s, '#', len) ? '#' : '@';
	cut[0] = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != sep)
			continue;
		if (nparts == 3)
			return GH_EINVAL;
		cut[nparts++] = i + 1;
	}
	memset(&l, 0, sizeof l);
	size_t end0 = nparts > 1 ? cut[1] - 1 : len;
	if (take_part(l.user, s, end0, false) < 0)
		return GH_EINVAL;
	if (nparts == 2) {
		if (take_part(l.asset, s + cut[1], len - cut[1], false) < 0)
			return GH_EINVAL;
	} else if (nparts == 3) {
		if (take_part(l.account, s + cut[1], cut[2] - 1 - cut[1], true) < 0 ||
		    take_part(l.asset, s + cut[2], len - cut[2], false) < 0)
			return GH_EINVAL;
	}
	*ret = l;
	return 0;
}
