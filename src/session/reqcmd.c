/* The `request` exec command (see reqcmd.h). */
#include "session/reqcmd.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "session/access.h"

#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), GH_EINVAL)

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

bool gh_reqcmd_is(const char *line)
{
	return line && !strncmp(line, "request", 7) && (!line[7] || blank(line[7]));
}

/* Split LEN bytes of S into words in DST (same size plus one): each word
 * ends with a NUL; WORDS[] point to them. */
static int split(const char *s, char *dst, char **words, size_t *ret_n, char *why, size_t whylen)
{
	size_t n = 0;
	char *o = dst;
	while (*s) {
		while (blank(*s))
			s++;
		if (!*s)
			break;
		if (n == GH_REQCMD_WORDS_MAX)
			return WHY("too many words (at most %d)", GH_REQCMD_WORDS_MAX);
		words[n++] = o;
		while (*s && !blank(*s)) {
			char q = *s;
			if (q != '\'' && q != '"') {
				*o++ = *s++;
				continue;
			}
			for (s++; *s && *s != q; s++) {
				if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*o++ = *s;
			}
			if (!*s)
				return WHY("unbalanced %c quote", q);
			s++;
		}
		*o++ = '\0';
	}
	*ret_n = n;
	return 0;
}

int gh_reqcmd_parse(const char *line, struct gh_reqcmd *ret, char *why, size_t whylen)
{
	char *w[GH_REQCMD_WORDS_MAX];
	size_t n = 0;
	long long minutes = 60;
	if (!line || strlen(line) > GH_REQCMD_LINE_MAX)
		return WHY("the command is longer than %d bytes", GH_REQCMD_LINE_MAX);
	memset(ret, 0, sizeof *ret);
	int r = split(line, ret->buf, w, &n, why, whylen);
	if (r < 0)
		return r;
	if (n < 2 || strcmp(w[0], "request") || w[1][0] == '-')
		return WHY("give the asset");
	ret->asset = w[1];
	ret->ticket = ret->reason = "";
	for (size_t i = 2; i < n; i += 2) {
		const char *opt = w[i], *val = i + 1 < n ? w[i + 1] : NULL;
		if (strcmp(opt, "--account") && strcmp(opt, "--ticket") && strcmp(opt, "--reason") &&
		    strcmp(opt, "--minutes"))
			return WHY("unknown option");
		if (!val)
			return WHY("%s needs a value", opt);
		if (!strcmp(opt, "--account"))
			ret->account = val;
		else if (!strcmp(opt, "--ticket"))
			ret->ticket = val;
		else if (!strcmp(opt, "--reason"))
			ret->reason = val;
		else if (gh_parse_ll(val, &minutes) < 0 || minutes < 1 || minutes > 1000000)
			return WHY("--minutes: a number of minutes");
	}
	if (!ret->account)
		return WHY("give --account");
	ret->minutes = (int)minutes;
	return 0;
}

int gh_reqcmd_run(struct gh_store *st, int64_t user_id, const char *user, const char *source,
		  const char *line, char *out, size_t outlen)
{
	struct gh_reqcmd q;
	char why[160], detail[32], actor[96];
	snprintf(actor, sizeof actor, "ssh:%s", user);
	struct gh_audit_who who = { .user = actor, .source = source };
	int64_t id = 0;
	int r = gh_reqcmd_parse(line, &q, why, sizeof why);
	if (r == 0)
		r = gh_access_request(st, user_id, q.asset, q.account, q.reason, q.ticket,
				      q.minutes, &id, why, sizeof why);
	if (r == GH_EINVAL || r == GH_ENOENT) {
		snprintf(out, outlen, "request: %s\n%s", why, GH_REQCMD_USAGE);
		return 2;
	}
	snprintf(detail, sizeof detail, "%lld", (long long)id);
	if (gh_audit_change(st, &who, "access request", r == 0, detail) < 0)
		gh_warn("the change 'access request' by %s could not be audited", actor);
	if (r < 0) {
		snprintf(out, outlen, "request: cannot store the request (%s)", gh_strerror(r));
		return 1;
	}
	snprintf(out, outlen,
		 "access request %lld stored: %s on %s for %d minutes.\n"
		 "An approver decides it; once approved, log in to %s@%s as usual within those "
		 "minutes.",
		 (long long)id, q.account, q.asset, q.minutes, q.account, q.asset);
	return 0;
}
