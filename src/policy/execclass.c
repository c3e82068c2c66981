/* Classifier of file-transfer exec requests (see execclass.h). */
#include "policy/execclass.h"
#include "core/error.h"
#include "store/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The command split into words: NUL-terminated words packed in buf. */
struct words {
	char buf[GH_EXEC_CMD_MAX + 1];
	size_t used;
	size_t off[GH_EXEC_WORDS_MAX];
	size_t n;
};

/* Bytes the shell takes literally outside quotes. Bytes >= 0x80 (UTF-8
 * names) are literal too. */
static bool plain_byte(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-_./=,:+@%", c) != NULL;
}

static bool put(struct words *w, char c)
{
	if (w->used >= sizeof w->buf)
		return false;
	w->buf[w->used++] = c;
	return true;
}

/* Split CMD into plain and single-quoted words. False when it holds
 * anything else the shell would interpret, or is past the bounds. */
static bool split(const char *cmd, struct words *w)
{
	const unsigned char *p = (const unsigned char *)cmd;
	bool in_word = false;
	bool ok = true;

	w->used = 0;
	w->n = 0;
	if (strnlen(cmd, GH_EXEC_CMD_MAX + 1) > GH_EXEC_CMD_MAX)
		return false;
	while (ok && *p) {
		unsigned char c = *p;
		if (c == ' ' || c == '\t') {
			if (in_word)
				ok = put(w, '\0');
			in_word = false;
			p++;
			continue;
		}
		if (!in_word) {
			if (w->n >= GH_EXEC_WORDS_MAX) {
				ok = false;
				break;
			}
			w->off[w->n++] = w->used;
			in_word = true;
		}
		if (c == '\'') {
			p++;
			while (ok && *p && *p != '\'')
				ok = put(w, (char)*p++);
			if (!*p)
				ok = false; /* unterminated */
			else
				p++;
		} else if (plain_byte(c)) {
			ok = put(w, (char)c);
			p++;
		} else {
			ok = false;
		}
	}
	if (ok && in_word)
		ok = put(w, '\0');
	return ok;
}

static const char *word(const struct words *w, size_t i)
{
	return w->buf + w->off[i];
}

/* WORD names the tool NAME, bare or as an absolute path ending in /NAME. */
static bool is_tool(const char *word, const char *name)
{
	if (!strcmp(word, name))
		return true;
	if (word[0] != '/')
		return false;
	const char *slash = strrchr(word, '/');
	return !strcmp(slash + 1, name);
}

/* Words FROM..n-1 joined by single spaces into RET's path; each non-empty. */
static bool operands(const struct words *w, size_t from, struct gh_exec_class *ret)
{
	size_t len = 0;
	if (from >= w->n)
		return false;
	for (size_t i = from; i < w->n; i++) {
		const char *s = word(w, i);
		size_t sl = strlen(s);
		if (!sl || len + sl + (i > from) > GH_EXEC_PATH_MAX)
			return false;
		if (i > from)
			ret->path[len++] = ' ';
		memcpy(ret->path + len, s, sl);
		len += sl;
	}
	ret->path[len] = '\0';
	return true;
}

/* scp [-v] [-r] [-p] [-d] (-t|-f) [--] PATH... */
static bool classify_scp(const struct words *w, struct gh_exec_class *ret)
{
	uint32_t action = 0;
	size_t i = 1;
	for (; i < w->n; i++) {
		const char *s = word(w, i);
		if (!strcmp(s, "--")) {
			i++;
			break;
		}
		if (s[0] != '-' || !s[1])
			break;
		for (size_t j = 1; s[j]; j++) {
			uint32_t a = 0;
			switch (s[j]) {
			case 't': a = GH_ACT_UPLOAD; break;
			case 'f': a = GH_ACT_DOWNLOAD; break;
			case 'r': case 'p': case 'd': case 'v': case 'q': break;
			default: return false;
			}
			if (a && action && a != action)
				return false;
			if (a)
				action = a;
		}
	}
	if (!action || !operands(w, i, ret))
		return false;
	ret->kind = GH_EXEC_SCP;
	ret->action = action;
	return true;
}

/* rsync --server [--sender] OPTION... . PATH... */
static bool classify_rsync(const struct words *w, struct gh_exec_class *ret)
{
	bool sender = false;
	size_t i = 2;
	if (w->n < 2 || strcmp(word(w, 1), "--server") != 0)
		return false;
	for (; i < w->n; i++) {
		const char *s = word(w, i);
		if (!strcmp(s, "."))
			break;
		if (s[0] != '-' || !strcmp(s, "--daemon") || !strcmp(s, "--server"))
			return false;
		if (!strcmp(s, "--sender"))
			sender = true;
	}
	if (i >= w->n || !operands(w, i + 1, ret))
		return false;
	ret->kind = GH_EXEC_RSYNC;
	ret->action = sender ? GH_ACT_DOWNLOAD : GH_ACT_UPLOAD;
	return true;
}

/* git-upload-pack REPO | git-receive-pack REPO | git upload-pack REPO | ... */
static bool classify_git(const struct words *w, struct gh_exec_class *ret)
{
	const char *sub = NULL;
	size_t i = 0;
	const char *w0 = word(w, 0);
	if (is_tool(w0, "git-upload-pack") || is_tool(w0, "git-receive-pack")) {
		sub = strrchr(w0, '/') ? strrchr(w0, '/') + 5 : w0 + 4;
		i = 1;
	} else if (is_tool(w0, "git") && w->n > 1) {
		sub = word(w, 1);
		i = 2;
	}
	if (!sub || (strcmp(sub, "upload-pack") != 0 && strcmp(sub, "receive-pack") != 0))
		return false;
	if (w->n != i + 1 || word(w, i)[0] == '-' || !operands(w, i, ret))
		return false;
	ret->kind = GH_EXEC_GIT;
	ret->action = !strcmp(sub, "upload-pack") ? GH_ACT_DOWNLOAD : GH_ACT_UPLOAD;
	return true;
}

int gh_exec_classify(const char *command, struct gh_exec_class *ret)
{
	struct words w;
	struct gh_exec_class c;
	bool found = false;

	if (!command || !ret)
		return GH_EINVAL;
	memset(&c, 0, sizeof c);
	if (split(command, &w) && w.n > 0) {
		const char *w0 = word(&w, 0);
		if (is_tool(w0, "scp"))
			found = classify_scp(&w, &c);
		else if (is_tool(w0, "rsync"))
			found = classify_rsync(&w, &c);
		else
			found = classify_git(&w, &c);
	}
	if (!found)
		memset(&c, 0, sizeof c);
	*ret = c;
	return 0;
}

const char *gh_exec_method(const struct gh_exec_class *c)
{
	const char *m = NULL;
	if (!c)
		return NULL;
	bool up = c->action == GH_ACT_UPLOAD, down = c->action == GH_ACT_DOWNLOAD;
	switch (c->kind) {
	case GH_EXEC_SCP: m = up ? "scp-upload" : down ? "scp-download" : NULL; break;
	case GH_EXEC_RSYNC: m = up ? "rsync-upload" : down ? "rsync-download" : NULL; break;
	case GH_EXEC_GIT: m = up ? "git-push" : down ? "git-fetch" : NULL; break;
	default: break;
	}
	return m;
}
