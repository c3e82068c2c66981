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
					   "vnc", "mysql", "postgresql", "k8s", "tcp" };

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
	return parse_mask(s, proto_names, 10, GH_PROTO_ALL, ret);
}

char *gh_actions_format(uint32_t mask, char *buf, size_t len)
{
	return format_mask(mask, action_names, 8, buf, len);
}

char *gh_protocols_format(uint32_t mask, char *buf, size_t len)
{
	return format_mask(mask, proto_names, 10, buf, len);
}

static const char *bit_name(uint32_t bit, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (bit == (1u << i))
			return names[i];
	return "unknown";
}

const char *gh_action_name(uint32_t bit) { return bit_name(bit, action_names, 8); }
const char *gh_protocol_name(uint32_t bit) { return bit_name(bit, proto_names, 10); }

