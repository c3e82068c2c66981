/* Shared helpers of the admin CLI: messages, options, tables, JSON, keys. */
#include "cli/cli.h"
#include "app/app.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "vault/vault.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void gh_cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("gatehouse: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int gh_cli_usage_error(const struct gh_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fputs("gatehouse: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli && cli->cmd[0]) {
		const char *sp = strchr(cli->cmd, ' ');
		int n = sp ? (int)(sp - cli->cmd) : (int)strlen(cli->cmd);
		fprintf(stderr, "Try 'gatehouse %.*s --help'.\n", n, cli->cmd);
	} else {
		fputs("Try 'gatehouse help'.\n", stderr);
	}
	return GH_EXIT_USAGE;
}

int gh_cli_help(const struct gh_cli *cli)
{
	fputs(cli->usage ? cli->usage : "", stdout);
	return GH_EXIT_OK;
}

static bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

int gh_cli_take_global_options(struct gh_cli *cli, int *argc, char **argv)
{
	int out = 1, i = 1;
	for (; i < *argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		const char *val = NULL;
		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--data") || !strcmp(a, "--config")) {
			dst = a[2] == 'd' ? &cli->data_dir : &cli->config;
			if (i + 1 >= *argc || !*argv[i + 1]) {
				gh_cli_error("option '%s' needs a value", a);
				return GH_EINVAL;
			}
			val = argv[++i];
		} else if (!strncmp(a, "--data=", 7)) {
			dst = &cli->data_dir;
			val = a + 7;
		} else if (!strncmp(a, "--config=", 9)) {
			dst = &cli->config;
			val = a + 9;
		}
		if (dst) {
			if (!*val) {
				gh_cli_error("option '%.*s' needs a value", (int)(strchr(a, '=') - a), a);
				return GH_EINVAL;
			}
			*dst = val;
			continue;
		}
		argv[out++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int gh_cli_dispatch(struct gh_cli *cli, const char *noun, const char *usage,
		    const struct gh_cli_verb *verbs, int argc, char **argv)
{
	cli->usage = usage;
	snprintf(cli->cmd, sizeof cli->cmd, "%s", noun);
	if (argc < 2)
		return gh_cli_usage_error(cli, "'%s' needs a command", noun);
	if (is_help(argv[1]))
		return gh_cli_help(cli);
	for (const struct gh_cli_verb *v = verbs; v->name; v++) {
		if (strcmp(v->name, argv[1]))
			continue;
		snprintf(cli->cmd, sizeof cli->cmd, "%s %s", noun, v->name);
		/* the innermost verb (user key add, not user key) is audited */
		int d = cli->deepest = ++cli->depth;
		int rc = v->fn(cli, argc - 1, argv + 1);
		cli->depth--;
		if (cli->deepest == d)
			gh_cli_audit_change(cli, noun, v->name, argc - 1, argv + 1, rc);
		return rc;
	}
	char esc[128];
	return gh_cli_usage_error(cli, "unknown command '%s %s'", noun,
				  gh_escape(esc, sizeof esc, argv[1]));
}

void gh_cli_getopt_reset(void)
{
	optind = 0; /* GNU: full re-initialisation */
	opterr = 0;
}

int gh_cli_bad_option(const struct gh_cli *cli, int c, char **argv)
{
	char esc[128];
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	if (c == ':')
		return gh_cli_usage_error(cli, "option '%s' needs a value",
					  gh_escape(esc, sizeof esc, arg));
	if (optopt && optopt < 128 && !(arg[0] == '-' && arg[1] == '-'))
		return gh_cli_usage_error(cli, "unknown option '-%c' for '%s'", optopt, cli->cmd);
	return gh_cli_usage_error(cli, "unknown option '%s' for '%s'", gh_escape(esc, sizeof esc, arg),
				  cli->cmd);
}

int gh_cli_simple_opts(const struct gh_cli *cli, int argc, char **argv, bool *json)
{
	static const struct option with_json[] = { { "json", no_argument, NULL, 'j' },
						   { "help", no_argument, NULL, 'h' },
						   { NULL, 0, NULL, 0 } };
	int c;
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", json ? with_json : with_json + 1, NULL)) != -1) {
		if (c == 'j' && json)
			*json = true;
		else if (c == 'h')
			return -1;
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	return 0;
}

int gh_cli_positional(const struct gh_cli *cli, int argc, int min, int max, const char *synopsis)
{
	int n = argc - optind;
	if (n < min)
		return gh_cli_usage_error(cli, "missing argument: usage: gatehouse %s %s", cli->cmd,
					  synopsis);
	if (n > max)
		return gh_cli_usage_error(cli, "too many arguments: usage: gatehouse %s %s", cli->cmd,
					  synopsis);
	return 0;
}

int gh_cli_open(const struct gh_cli *cli, int flags, struct gh_app **ret)
{
	char err[GH_APP_ERRLEN];
	struct gh_app *app = NULL;
	int r = gh_app_open(cli->data_dir, cli->config, flags, &app, err);
	if (r < 0) {
		gh_cli_error("%s", err[0] ? err : gh_strerror(r));
		return r;
	}
	*ret = app;
	return 0;
}

int gh_cli_fail(struct gh_app *app, int err, const char *fmt, ...)
{
	va_list ap;
	fputs("gatehouse: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err == GH_ESTORE && app && app->store)
		fprintf(stderr, ": %s\n", gh_store_errmsg(app->store));
	else
		fprintf(stderr, ": %s\n", gh_strerror(err));
	return GH_EXIT_FAIL;
}

int gh_cli_parse_int(const struct gh_cli *cli, const char *opt, const char *s, long long min,
		     long long max, long long *ret)
{
	long long v = 0;
	char esc[64];
	if (gh_parse_ll(s, &v) < 0 || v < min || v > max)
		return gh_cli_usage_error(cli, "bad value '%s' for %s: expected a number from %lld to %lld",
					  gh_escape(esc, sizeof esc, s), opt, min, max);
	*ret = v;
	return 0;
}

int gh_cli_parse_time(const struct gh_cli *cli, const char *opt, const char *s, int64_t *ret)
{
	int64_t t = 0;
	char esc[64];
	if (gh_parse_time(s, &t) < 0)
		return gh_cli_usage_error(cli,
					  "bad date '%s' for %s: expected ISO 8601 like 2026-12-01T08:00Z",
					  gh_escape(esc, sizeof esc, s), opt);
	*ret = t;
	return 0;
}

/* Parse a comma list with PARSE; on error find the first bad word. */
static int parse_list(const struct gh_cli *cli, const char *opt, const char *s, const char *what,
		      const char *choices, int (*parse)(const char *, uint32_t *), uint32_t *ret)
{
	uint32_t mask = 0;
	char esc[64];
	char *dup = NULL, *save = NULL;
	int r = parse(s, &mask);
	if (r == 0) {
		*ret = mask;
		return 0;
	}
	dup = strdup(s);
	if (!dup)
		return gh_cli_usage_error(cli, "out of memory");
	const char *bad = NULL;
	for (char *w = strtok_r(dup, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		uint32_t m = 0;
		w = gh_strstrip(w);
		if (parse(w, &m) < 0) {
			bad = w;
			break;
		}
	}
	if (!bad || !*bad)
		r = gh_cli_usage_error(cli, "empty list for %s: expected %s", opt, choices);
	else
		r = gh_cli_usage_error(cli, "unknown %s '%s' in %s: expected %s", what,
				       gh_escape(esc, sizeof esc, bad), opt, choices);
	free(dup);
	return r;
}

int gh_cli_parse_actions(const struct gh_cli *cli, const char *opt, const char *s, uint32_t *ret)
{
	return parse_list(cli, opt, s, "action",
			  "connect,upload,download,delete,copy,paste,share,forward or all",
			  gh_actions_parse, ret);
}

int gh_cli_parse_protocols(const struct gh_cli *cli, const char *opt, const char *s, uint32_t *ret)
{
	return parse_list(cli, opt, s, "protocol",
			  "ssh,sftp,scp,telnet,rdp,vnc,mysql,postgresql,k8s,tcp or all",
			  gh_protocols_parse, ret);
}

int gh_cli_read_password(const char *what, char **ret)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *pw = NULL;
	size_t len = 0;
	int r;

	if (tty) {
		fprintf(stderr, "%s: ", what);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	r = gh_secret_read_fd(STDIN_FILENO, false, &pw, &len);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (r < 0) {
		gh_cli_error("cannot read the %s from stdin: %s", what,
			     r == GH_EINVAL ? "too long or contains a NUL byte" : gh_strerror(r));
		return GH_EXIT_FAIL;
	}
	if (len == 0) {
		gh_secret_free(pw);
		gh_cli_error("empty %s on stdin (give it as one line on stdin)", what);
		return GH_EXIT_FAIL;
	}
	*ret = pw;
	return 0;
}

/* ---- keys ---------------------------------------------------------------- */

void gh_pubkey_clear(struct gh_pubkey *k)
{
	if (!k)
		return;
	free(k->type);
	free(k->base64);
	free(k->comment);
	free(k->fingerprint);
	memset(k, 0, sizeof *k);
}

static bool looks_private(const char *text)
{
	return strstr(text, "PRIVATE KEY-----") != NULL;
}

int gh_pubkey_parse_line(const char *line, struct gh_pubkey *ret, char *err, size_t errlen)
{
	struct gh_pubkey k = { 0 };
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, *b64 = NULL, *dup = NULL;
	int r = GH_EINVAL;

	dup = strdup(line);
	if (!dup)
		return GH_ENOMEM;
	char *p = gh_strstrip(dup);
	char *type = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	char *blob = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	char *comment = gh_strstrip(p);

	enum ssh_keytypes_e kt = ssh_key_type_from_name(type);
	if (kt == SSH_KEYTYPE_UNKNOWN || !*blob) {
		snprintf(err, errlen, "expected 'TYPE BASE64 [COMMENT]' with TYPE like ssh-ed25519");
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(blob, kt, &key) != SSH_OK || !key) {
		snprintf(err, errlen, "the key data does not decode as a %s key", type);
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || strcmp(b64, blob) != 0) {
		snprintf(err, errlen, "the key data does not match its type %s", type);
		goto out;
	}
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0) {
		snprintf(err, errlen, "cannot compute the key fingerprint");
		goto out;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (!fp) {
		r = GH_ENOMEM;
		goto out;
	}
	k.type = strdup(ssh_key_type_to_char(ssh_key_type(key)));
	/* certificates and sk keys keep the name given; plain types are canonical */
	if (k.type && strcmp(k.type, type) != 0) {
		free(k.type);
		k.type = strdup(type);
	}
	k.base64 = strdup(blob);
	k.comment = strdup(comment);
	k.fingerprint = strdup(fp);
	if (!k.type || !k.base64 || !k.comment || !k.fingerprint) {
		r = GH_ENOMEM;
		goto out;
	}
	*ret = k;
	memset(&k, 0, sizeof k);
	r = 0;
out:
	gh_pubkey_clear(&k);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	free(dup);
	return r;
}

int gh_pubkey_read_file(const char *path, struct gh_pubkey *ret, char *err, size_t errlen)
{
	char *buf = NULL, *save = NULL;
	size_t len = 0;
	char perr[160];
	const char *first = NULL;
	int r = gh_read_file(path, 64 * 1024, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
			 errno ? strerror(errno) : gh_strerror(r));
		return r;
	}
	if (looks_private(buf)) {
		snprintf(err, errlen,
			 "%s is a private key; give the public key (usually %s.pub)", path, path);
		r = GH_EINVAL;
		goto out;
	}
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = gh_strstrip(l);
		if (!*l || *l == '#')
			continue;
		if (first) {
			snprintf(err, errlen, "%s holds more than one key; add one key at a time", path);
			r = GH_EINVAL;
			goto out;
		}
		first = l;
	}
	if (!first) {
		snprintf(err, errlen, "%s is not a public key: it is empty", path);
		r = GH_EINVAL;
		goto out;
	}
	r = gh_pubkey_parse_line(first, ret, perr, sizeof perr);
	if (r == GH_EINVAL)
		snprintf(err, errlen, "%s is not a public key: %s", path, perr);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", path, gh_strerror(r));
out:
	free(buf);
	return r;
}

/* An OpenSSH-format private key names its cipher after the magic; "none"
 * means unencrypted. Returns 1 when encrypted, 0 when not or unknown. */
static int openssh_key_encrypted(const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char magic[] = "openssh-key-v1";
	const char *s = strstr(text, begin);
	const char *e = NULL;
	unsigned char *bin = NULL;
	size_t n = 0;
	int enc = 0;
	if (!s)
		return 0;
	s += sizeof begin - 1;
	e = strstr(s, "-----END");
	if (!e)
		return 0;
	bin = sodium_malloc((size_t)(e - s));
	if (!bin)
		return 0;
	if (sodium_base642bin(bin, (size_t)(e - s), s, (size_t)(e - s), " \t\r\n", &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    n > sizeof magic + 4 && memcmp(bin, magic, sizeof magic) == 0) {
		const unsigned char *c = bin + sizeof magic;
		uint32_t clen = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
		if (clen > 0 && sizeof magic + 4 + clen <= n &&
		    !(clen == 4 && memcmp(c + 4, "none", 4) == 0))
			enc = 1;
	}
	sodium_free(bin);
	return enc;
}

int gh_privkey_read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	ssh_key key = NULL;
	int fd = -1, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
		r = GH_EIO;
		goto out;
	}
	r = gh_secret_read_fd(fd, true, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
			 r == GH_EINVAL ? "larger than 64 KiB or binary" : gh_strerror(r));
		goto out;
	}
	r = GH_EINVAL;
	if (!looks_private(text)) {
		char *dup = strdup(text);
		struct gh_pubkey pk = { 0 };
		char perr[128];
		if (dup && gh_pubkey_parse_line(gh_strstrip(dup), &pk, perr, sizeof perr) == 0)
			snprintf(err, errlen,
				 "%s is a public key; give the private key (without .pub)", path);
		else
			snprintf(err, errlen, "%s is not a private key (expected an OpenSSH or PEM "
					      "private key file)", path);
		gh_pubkey_clear(&pk);
		free(dup);
		goto out;
	}
	if (openssh_key_encrypted(text) || strstr(text, "ENCRYPTED")) {
		snprintf(err, errlen,
			 "%s is protected by a passphrase; store a key without one (ssh-keygen -p -N '' "
			 "-f COPY on a copy)", path);
		goto out;
	}
	if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &key) != SSH_OK || !key) {
		snprintf(err, errlen, "%s is not a private key libssh can load", path);
		goto out;
	}
	*ret = text;
	text = NULL;
	if (ret_len)
		*ret_len = len;
	r = 0;
out:
	ssh_key_free(key);
	gh_secret_free(text);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- output -------------------------------------------------------------- */

int gh_cli_json_print(json_t *j)
{
	if (!j) {
		gh_cli_error("out of memory");
		return GH_ENOMEM;
	}
	int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(j);
	fputc('\n', stdout);
	return r == 0 ? 0 : GH_EIO;
}

json_t *gh_cli_json_time(int64_t t)
{
	char buf[32];
	if (!t)
		return json_null();
	return json_string(gh_format_time(t, buf, sizeof buf));
}

json_t *gh_cli_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_mask(uint32_t mask, const char *(*name)(uint32_t), int bits)
{
	json_t *a = json_array();
	for (int i = 0; a && i < bits; i++) {
		const char *n = NULL;
		if ((mask & (1u << i)) && (n = name(1u << i)))
			json_array_append_new(a, json_string(n));
	}
	return a;
}

json_t *gh_cli_json_actions(uint32_t mask)
{
	return json_mask(mask, gh_action_name, 8);
}

json_t *gh_cli_json_protocols(uint32_t mask)
{
	return json_mask(mask, gh_protocol_name, 10);
}

const char *gh_cli_time_text(int64_t t, char *buf, size_t len)
{
	if (!t) {
		snprintf(buf, len, "-");
		return buf;
	}
	return gh_format_time(t, buf, len);
}

/* Copy S with control characters and backslashes escaped (for terminals). */
static char *escape_dup(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(4 * n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

struct gh_table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row 0 is the header */
};

struct gh_table *gh_table_free(struct gh_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}

static int table_addv(struct gh_table *t, va_list ap)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
		if (!c)
			return GH_ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	int r = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		row[i] = escape_dup(s && *s ? s : "-");
		if (!row[i])
			r = GH_ENOMEM;
	}
	t->nrows++;
	return r;
}

struct gh_table *gh_table_new(size_t ncols, ...)
{
	struct gh_table *t = calloc(1, sizeof *t);
	va_list ap;
	if (!t)
		return NULL;
	t->ncols = ncols;
	va_start(ap, ncols);
	int r = table_addv(t, ap);
	va_end(ap);
	if (r < 0)
		t = gh_table_free(t);
	return t;
}

int gh_table_add(struct gh_table *t, ...)
{
	va_list ap;
	va_start(ap, t);
	int r = table_addv(t, ap);
	va_end(ap);
	return r;
}

void gh_table_print(const struct gh_table *t, FILE *f)
{
	size_t w[32] = { 0 };
	size_t nc = t->ncols < 32 ? t->ncols : 32;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < nc; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < nc; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == nc)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
	}
}

void gh_cli_field(const char *key, const char *value)
{
	char *v = escape_dup(value && *value ? value : "-");
	printf("%-12s %s\n", key, v ? v : "-");
	free(v);
}

int gh_cli_delete_named(struct gh_cli *cli, int argc, char **argv, const char *noun,
			int (*del)(struct gh_store *st, const char *name))
{
	struct gh_app *app = NULL;
	char esc[80];
	int r = 0;

	if (!gh_cli_start(cli, argc, argv, NULL, 1, 1, "NAME",
			  GH_APP_NO_VAULT, &app, &r))
		return r;
	const char *name = argv[optind];
	gh_escape(esc, sizeof esc, name);
	r = del(app->store, name);
	if (r == GH_ENOENT) {
		gh_cli_error("unknown %s '%s'", noun, esc);
		r = GH_EXIT_FAIL;
	} else if (r < 0) {
		r = gh_cli_fail(app, r, "cannot delete %s '%s'", noun, esc);
	} else {
		printf("deleted %s '%s'\n", noun, esc);
		r = GH_EXIT_OK;
	}
	gh_app_close(app);
	return r;
}

bool gh_cli_start(struct gh_cli *cli, int argc, char **argv, bool *json, int min, int max,
		  const char *synopsis, int flags, struct gh_app **ret_app, int *ret_status)
{
	int r = gh_cli_simple_opts(cli, argc, argv, json);

	if (r < 0)
		*ret_status = gh_cli_help(cli);
	else if (r || (r = gh_cli_positional(cli, argc, min, max, synopsis)))
		*ret_status = r;
	else if (gh_cli_open(cli, flags, ret_app) < 0)
		*ret_status = GH_EXIT_FAIL;
	else
		return true;
	return false;
}
