/* USE statements inside a MySQL query text (src/db/sqluse.h). */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "db/sqluse.h"

/* Skip whitespace and comments from I; returns the new index. */
static size_t skip_space(const char *t, size_t n, size_t i)
{
	for (;;) {
		while (i < n && isspace((unsigned char)t[i]))
			i++;
		if (i + 1 < n && t[i] == '/' && t[i + 1] == '*') {
			const char *e = memmem(t + i + 2, n - i - 2, "*/", 2);
			i = e ? (size_t)(e - t) + 2 : n;
		} else if (i < n && (t[i] == '#' || (i + 2 < n && t[i] == '-' && t[i + 1] == '-' &&
						     isspace((unsigned char)t[i + 2])))) {
			const char *e = memchr(t + i, '\n', n - i);
			i = e ? (size_t)(e - t) + 1 : n;
		} else {
			return i;
		}
	}
}

/* The end of the statement starting at I: the index of its ';' or N. */
static size_t statement_end(const char *t, size_t n, size_t i)
{
	while (i < n) {
		char c = t[i];
		if (c == ';')
			return i;
		if (c == '\'' || c == '"' || c == '`') {
			i++;
			while (i < n && t[i] != c)
				i += (t[i] == '\\' && c != '`' && i + 1 < n) ? 2 : 1;
			i++;
			continue;
		}
		size_t j = skip_space(t, n, i);
		i = j > i ? j : i + 1;
	}
	return n;
}

static int use_name(const char *t, size_t n, char *name, size_t namelen)
{
	size_t i = skip_space(t, n, 0), o = 0;

	if (i < n && t[i] == '`') {
		for (i++; i < n; i++) {
			if (t[i] == '`') {
				if (i + 1 < n && t[i + 1] == '`')
					i++;
				else
					break;
			}
			if (o + 1 >= namelen)
				return GH_EINVAL;
			name[o++] = t[i];
		}
		if (i >= n)
			return GH_EINVAL;
	} else {
		while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '$' ||
				 (unsigned char)t[i] >= 0x80)) {
			if (o + 1 >= namelen)
				return GH_EINVAL;
			name[o++] = t[i++];
		}
	}
	if (o == 0)
		return GH_EINVAL;
	name[o] = 0;
	return 0;
}

int gh_sql_next_use(const char *text, size_t len, size_t *pos, char *name, size_t namelen)
{
	size_t i = *pos;

	while (i < len) {
		size_t s = skip_space(text, len, i), e = statement_end(text, len, s);
		i = e < len ? e + 1 : len;
		if (e - s >= 4 && strncasecmp(text + s, "USE", 3) == 0 &&
		    (isspace((unsigned char)text[s + 3]) || text[s + 3] == '`' || text[s + 3] == '/' ||
		     text[s + 3] == '#')) {
			*pos = i;
			return use_name(text + s + 3, e - s - 3, name, namelen) < 0 ? GH_EINVAL : 1;
		}
	}
	*pos = len;
	return 0;
}
