/* Names of roles, actions and protocols (the model's vocabulary).
 * Kept apart from store.c so logic modules (policy) can use them without
 * pulling in the database code. */
#include "store/store.h"
#include "core/error.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = { "user", "auditor", "admin" };

const char *gh_role_name(int role)
{
	return role >= 0 && role <= 2 ? role_names[role] : "unknown";
}

int gh_role_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, role_names[i]))
			return i;
	return -1;
}

static const char *const action_names[] = { "connect", "upload", "download", "delete",
					     "copy", "paste", "share", "forward" };
static const char *const proto_names[] = { "ssh", "sftp", "scp", "telnet", "rdp",
					   "vnc", "mysql", "postgresql", "k8s", "tcp", "redis" };

static int parse_mask(const char *s, const char *const *names, int count, uint32_t all,
		      uint32_t *ret)
{
	uint32_t mask = 0;
	if (!s || !*s)
		return GH_EINVAL;
	char *dup = strdup(s), *save = NULL;
	if (!dup)
		return GH_ENOMEM;
	for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		w = gh_strstrip(w);
		int found = 0;
		if (!strcmp(w, "all")) {
			mask |= all;
			continue;
		}
		for (int i = 0; i < count; i++) {
			if (!strcmp(w, names[i])) {
				mask |= 1u << i;
				found = 1;
			}
		}
		if (!found) {
			free(dup);
			return GH_EINVAL;
		}
	}
	free(dup);
	if (!mask)
		return GH_EINVAL;
	*ret = mask;
	return 0;
}

static char *format_mask(uint32_t mask, const char *const *names, int count, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < count; i++) {
		if (!(mask & (1u << i)))
			continue;
		int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i]);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	return buf;
}

int gh_actions_parse(const char *s, uint32_t *ret)
{
	return parse_mask(s, action_names, 8, GH_ACT_ALL, ret);
}

int gh_protocols_parse(const char *s, uint32_t *ret)
{
	return parse_mask(s, proto_names, 11, GH_PROTO_ALL, ret);
}

char *gh_actions_format(uint32_t mask, char *buf, size_t len)
{
	return format_mask(mask, action_names, 8, buf, len);
}

char *gh_protocols_format(uint32_t mask, char *buf, size_t len)
{
	return format_mask(mask, proto_names, 11, buf, len);
}

static const char *bit_name(uint32_t bit, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (bit == (1u << i))
			return names[i];
	return "unknown";
}

const char *gh_action_name(uint32_t bit) { return bit_name(bit, action_names, 8); }
const char *gh_protocol_name(uint32_t bit) { return bit_name(bit, proto_names, 11); }


static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int gh_ports_parse(const char *s, uint16_t **ret, size_t *ret_n)
{
	uint16_t v[GH_PORTS_MAX];
	size_t n = 0;
	const char *p = s;
	if (!s || !*s)
		return GH_EINVAL;
	for (;;) {
		long x = 0;
		size_t digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 6) {
			x = x * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (!digits || x < 1 || x > 65535 || n == GH_PORTS_MAX)
			return GH_EINVAL;
		v[n++] = (uint16_t)x;
		if (*p == '\0')
			break;
		if (*p != ',')
			return GH_EINVAL;
		p++;
	}
	qsort(v, n, sizeof v[0], cmp_u16);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (!o || v[o - 1] != v[i])
			v[o++] = v[i];
	uint16_t *out = malloc(o * sizeof *out);
	if (!out)
		return GH_ENOMEM;
	memcpy(out, v, o * sizeof *out);
	*ret = out;
	*ret_n = o;
	return 0;
}

int gh_ports_normalize(const char *s, char **ret)
{
	uint16_t *v = NULL;
	size_t n = 0;
	int r = gh_ports_parse(s, &v, &n);
	if (r < 0)
		return r;
	char *out = malloc(n * 6 + 1);
	if (!out) {
		free(v);
		return GH_ENOMEM;
	}
	size_t pos = 0;
	for (size_t i = 0; i < n; i++)
		pos += (size_t)snprintf(out + pos, n * 6 + 1 - pos, "%s%u", i ? "," : "", v[i]);
	free(v);
	*ret = out;
	return 0;
}
