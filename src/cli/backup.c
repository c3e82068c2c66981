/* gatehouse backup / restore.
 *
 * A plain backup is a SQLite file: a consistent copy of the store taken
 * with SQLite's online backup API while sessions keep writing
 * (gh_store_backup). With --with-keys the copy travels in a sealed bundle
 * with the configuration and every key (master key, host keys, the jump
 * host key, the web console's certificate and key):
 *
 *   "GHBK1\0\0\0" | salt[16] | opslimit u64le | memlimit u64le | ss header[24]
 *   then crypto_secretstream_xchacha20poly1305 messages, each one of
 *     'F' name-length u8, name, size u64le   a file begins
 *     'D' bytes                              its next bytes (<= 64 KiB)
 *     'E'                                    the end (tag FINAL)
 *
 * The key is Argon2id (crypto_pwhash) of a passphrase read from stdin,
 * never from argv. A truncated, altered or reordered bundle, or a wrong
 * passphrase, fails authentication and nothing is restored. */
#include "app/app.h"
#include "audit/chain.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "ssh/hostkey.h"
#include "store/store.h"
#include "vault/vault.h"
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_backup[] =
	"Usage:\n"
	"  gatehouse backup FILE [--with-keys]\n"
	"      a consistent copy of the store into the new FILE (0600), taken while\n"
	"      serve runs. --with-keys: a bundle of the store, the configuration and\n"
	"      the keys (master key, host keys, web certificate and key), encrypted\n"
	"      with a passphrase read from stdin (Argon2id, XChaCha20-Poly1305).\n";
static const char usage_restore[] =
	"Usage:\n"
	"  gatehouse restore FILE [--force]\n"
	"      restore a backup (or a --with-keys bundle: passphrase on stdin) into\n"
	"      this data directory. Refused while serve runs on it; an existing store\n"
	"      or key is replaced only with --force. The hash chain is verified after.\n";

static const uint8_t MAGIC[8] = { 'G', 'H', 'B', 'K', '1', 0, 0, 0 };
#define CHUNK 65536
#define OPS crypto_pwhash_OPSLIMIT_MODERATE
#define MEM crypto_pwhash_MEMLIMIT_INTERACTIVE
#define HDR_LEN (8 + crypto_pwhash_SALTBYTES + 16 + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define MIN_PASSPHRASE 8

enum { OPT_KEYS = 1000, OPT_FORCE };

/* The files a --with-keys bundle carries besides the store: bundle name
 * and path (empty path: absent from this installation). */
struct bundle_file {
	const char *name;
	char path[4096];
};

static void key_files(struct gh_app *app, struct bundle_file f[7])
{
	static const char *const names[7] = { "gatehouse.conf", "master.key", GH_HOSTKEY_ED25519,
					      GH_HOSTKEY_RSA, GH_HOSTKEY_JUMP, "web_cert.pem",
					      "web_key.pem" };
	for (int i = 0; i < 7; i++) {
		f[i].name = names[i];
		snprintf(f[i].path, sizeof f[i].path, "%s/%s", app->data_dir, names[i]);
	}
	if (app->config_path)
		snprintf(f[0].path, sizeof f[0].path, "%s", app->config_path);
	gh_web_cert_paths(app, f[5].path, f[6].path);
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Argon2id of the passphrase on stdin into KEY. */
static int derive(const uint8_t *salt, uint64_t ops, uint64_t mem, uint8_t *key)
{
	char *pass = NULL;
	int r = gh_cli_read_password("passphrase", &pass);
	if (r < 0)
		return r;
	if (strlen(pass) < MIN_PASSPHRASE) {
		gh_cli_error("the passphrase needs at least %d characters", MIN_PASSPHRASE);
		r = GH_EINVAL;
	} else if (crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, pass,
				 strlen(pass), salt, ops, (size_t)mem,
				 crypto_pwhash_ALG_ARGON2ID13) != 0) {
		r = GH_ENOMEM;
	}
	gh_secret_free(pass);
	return r;
}

struct sealer {
	FILE *out;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *c; /* CHUNK + 1 + ABYTES */
};

static int seal(struct sealer *s, const uint8_t *m, size_t n, uint8_t tag)
{
	unsigned long long cl = 0;
	crypto_secretstream_xchacha20poly1305_push(&s->st, s->c, &cl, m, n, NULL, 0, tag);
	uint8_t len[4] = { (uint8_t)cl, (uint8_t)(cl >> 8), (uint8_t)(cl >> 16), (uint8_t)(cl >> 24) };
	return fwrite(len, 1, 4, s->out) == 4 && fwrite(s->c, 1, cl, s->out) == cl ? 0 : GH_EIO;
}

static int seal_file(struct sealer *s, const char *name, const char *path, uint8_t *m)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r = GH_EIO;
	struct stat sb;
	if (fd < 0)
		return errno == ENOENT ? GH_ENOENT : GH_EIO;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		goto out;
	size_t nl = strlen(name);
	m[0] = 'F';
	m[1] = (uint8_t)nl;
	memcpy(m + 2, name, nl);
	le64(m + 2 + nl, (uint64_t)sb.st_size);
	if ((r = seal(s, m, 10 + nl, 0)) < 0)
		goto out;
	for (off_t left = sb.st_size; left > 0;) {
		ssize_t k = read(fd, m + 1, left < CHUNK ? (size_t)left : CHUNK);
		if (k <= 0) {
			r = GH_EIO;
			goto out;
		}
		m[0] = 'D';
		if ((r = seal(s, m, 1 + (size_t)k, 0)) < 0)
			goto out;
		left -= k;
	}
out:
	close(fd);
	return r;
}

/* The bundle of DB_COPY and the key files into OUT. */
static int write_bundle(struct gh_app *app, const char *db_copy, FILE *out)
{
	uint8_t hdr[HDR_LEN], key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	struct sealer s = { .out = out };
	struct bundle_file f[7];
	uint8_t *m = malloc(CHUNK + 1);
	int r = GH_ENOMEM;
	s.c = malloc(CHUNK + 1 + crypto_secretstream_xchacha20poly1305_ABYTES);
	if (!m || !s.c)
		goto out;
	memcpy(hdr, MAGIC, 8);
	randombytes_buf(hdr + 8, crypto_pwhash_SALTBYTES);
	le64(hdr + 8 + crypto_pwhash_SALTBYTES, OPS);
	le64(hdr + 16 + crypto_pwhash_SALTBYTES, MEM);
	if ((r = derive(hdr + 8, OPS, MEM, key)) < 0)
		goto out;
	crypto_secretstream_xchacha20poly1305_init_push(&s.st, hdr + HDR_LEN - 24, key);
	r = GH_EIO;
	if (fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr)
		goto out;
	if ((r = seal_file(&s, "gatehouse.db", db_copy, m)) < 0)
		goto out;
	key_files(app, f);
	for (int i = 0; i < 7; i++) {
		r = seal_file(&s, f[i].name, f[i].path, m);
		if (r == GH_ENOENT)
			continue; /* not part of this installation (GATEHOUSE_MASTER_KEY, no web) */
		if (r < 0) {
			gh_cli_error("cannot read %s", f[i].path);
			goto out;
		}
	}
	m[0] = 'E';
	r = seal(&s, m, 1, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(&s.st, sizeof s.st);
	if (m)
		sodium_memzero(m, CHUNK + 1);
	free(m);
	free(s.c);
	return r;
}

int gh_cmd_backup(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with-keys", no_argument, NULL, OPT_KEYS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	bool keys = false;
	char tmp[4200] = "";
	int c, r;
	cli->usage = usage_backup;
	snprintf(cli->cmd, sizeof cli->cmd, "backup");
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_KEYS)
			keys = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "FILE")))
		return r;
	const char *file = argv[optind];
	if (gh_cli_open(cli, keys ? 0 : GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	if (access(file, F_OK) == 0) {
		gh_cli_error("%s exists: not overwritten", file);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (keys && snprintf(tmp, sizeof tmp, "%s.db-XXXXXX", file) >= (int)sizeof tmp) {
		r = gh_cli_fail(app, GH_EINVAL, "backup: path too long");
		goto out;
	}
	if (keys) { /* the store's copy first, beside FILE, removed after */
		int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
	}
	r = gh_store_backup(app->store, keys ? tmp : file);
	if (r == GH_EINVAL) {
		gh_cli_error("backup: a %s store is backed up with its own tools (pg_dump); "
			     "docs/OPERATIONS.md", app->cfg.database);
		r = GH_EXIT_FAIL;
		goto out;
	}
	if (r < 0) {
		r = gh_cli_fail(app, r, "backup: cannot copy the store");
		goto out;
	}
	if (keys) {
		int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
		r = out ? write_bundle(app, tmp, out) : GH_EIO;
		if (out && fclose(out) != 0 && r == 0)
			r = GH_EIO;
		else if (!out && fd >= 0)
			close(fd);
		unlink(tmp);
		if (r < 0) {
			if (fd >= 0)
				unlink(file);
			r = gh_cli_fail(app, r, "backup: cannot write %s", file);
			goto out;
		}
	}
	printf("backup written to %s%s\n", file, keys ? " (with the configuration and keys, encrypted)" : "");
	r = GH_EXIT_OK;
out:
	gh_app_close(app);
	return r;
}

/* ---- restore ------------------------------------------------------------ */

struct opener {
	FILE *in;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t *c;
};

/* The next message into M (CHUNK + 10 + 255 bytes); GH_ECRYPTO when it
 * does not authenticate (wrong passphrase, altered or cut bundle). */
static int unseal(struct opener *o, uint8_t *m, size_t *ret_n, uint8_t *ret_tag)
{
	uint8_t len[4];
	unsigned long long ml = 0;
	if (fread(len, 1, 4, o->in) != 4)
		return GH_ECRYPTO;
	size_t cl = (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 | (size_t)len[3] << 24;
	if (cl < crypto_secretstream_xchacha20poly1305_ABYTES + 1 ||
	    cl > CHUNK + 1 + crypto_secretstream_xchacha20poly1305_ABYTES ||
	    fread(o->c, 1, cl, o->in) != cl)
		return GH_ECRYPTO;
	if (crypto_secretstream_xchacha20poly1305_pull(&o->st, m, &ml, ret_tag, o->c, cl, NULL, 0))
		return GH_ECRYPTO;
	*ret_n = (size_t)ml;
	return 0;
}

static bool bundle_name_ok(const uint8_t *p, size_t n)
{
	static const char *const ok[] = { "gatehouse.db", "gatehouse.conf", "master.key",
					  GH_HOSTKEY_ED25519, GH_HOSTKEY_RSA, GH_HOSTKEY_JUMP,
					  "web_cert.pem", "web_key.pem" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strlen(ok[i]) == n && !memcmp(ok[i], p, n))
			return true;
	return false;
}

/* Decrypt the bundle IN into the directory STAGE (0700), every file 0600.
 * Nothing is used unless the whole stream authenticates to its end. */
static int open_bundle(FILE *in, int stage_fd)
{
	uint8_t hdr[HDR_LEN], key[crypto_secretstream_xchacha20poly1305_KEYBYTES], tag = 0;
	struct opener o = { .in = in };
	uint8_t *m = malloc(CHUNK + 1);
	int r = GH_ENOMEM, fd = -1;
	uint64_t left = 0;
	o.c = malloc(CHUNK + 1 + crypto_secretstream_xchacha20poly1305_ABYTES);
	if (!m || !o.c)
		goto out;
	r = GH_ECRYPTO;
	if (fread(hdr, 1, sizeof hdr, in) != sizeof hdr || memcmp(hdr, MAGIC, 8))
		goto out;
	uint64_t ops = get_le64(hdr + 8 + crypto_pwhash_SALTBYTES);
	uint64_t mem = get_le64(hdr + 16 + crypto_pwhash_SALTBYTES);
	r = GH_EINVAL; /* a crafted header must not make us spend more than this */
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		goto out;
	if ((r = derive(hdr + 8, ops, mem, key)) < 0)
		goto out;
	r = GH_ECRYPTO;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&o.st, hdr + HDR_LEN - 24, key))
		goto out;
	for (;;) {
		size_t n = 0;
		if ((r = unseal(&o, m, &n, &tag)) < 0)
			goto out;
		r = GH_ECRYPTO;
		if (n == 0 || (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != (m[0] == 'E'))
			goto out;
		if (m[0] == 'E') {
			r = left ? GH_ECRYPTO : 0;
			goto out;
		}
		if (m[0] == 'F' && !left && n >= 10 && n == 10 + (size_t)m[1] &&
		    bundle_name_ok(m + 2, m[1])) {
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)m[1], (const char *)m + 2);
			left = get_le64(m + 2 + m[1]);
			if (fd >= 0)
				close(fd);
			fd = openat(stage_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0)
				goto out;
		} else if (m[0] == 'D' && fd >= 0 && n - 1 <= left) {
			if (write(fd, m + 1, n - 1) != (ssize_t)(n - 1)) {
				r = GH_EIO;
				goto out;
			}
			left -= n - 1;
		} else {
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(key, sizeof key);
	if (m)
		sodium_memzero(m, CHUNK + 1);
	free(m);
	free(o.c);
	return r;
}

/* Copy SRC to DST (0600), replacing it only when FORCE. */
static int install_file(const char *src, const char *dst, bool force)
{
	char tmp[4200];
	uint8_t buf[CHUNK];
	int in = -1, out = -1, r = GH_EEXIST;
	if (!force && access(dst, F_OK) == 0)
		return r;
	r = GH_EIO;
	if (snprintf(tmp, sizeof tmp, "%s.restore", dst) >= (int)sizeof tmp)
		return GH_EINVAL;
	unlink(tmp);
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		goto out;
	ssize_t k;
	while ((k = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)k) != k)
			goto out;
	if (k == 0 && fsync(out) == 0 && rename(tmp, dst) == 0)
		r = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The store copy DB into the configured database_path, then its chain. */
static int restore_db(const struct gh_config *cfg, const char *db, bool force)
{
	struct gh_store *src = NULL, *dst = NULL;
	struct gh_chain_report rep;
	char side[4200];
	int r = GH_EEXIST;
	if (access(cfg->database_path, F_OK) == 0) {
		if (!force) {
			gh_cli_error("%s exists: restore with --force to replace it", cfg->database_path);
			return r;
		}
		for (int i = 0; i < 3; i++) {
			static const char *const ext[] = { "", "-wal", "-shm" };
			snprintf(side, sizeof side, "%s%s", cfg->database_path, ext[i]);
			unlink(side);
		}
	}
	snprintf(side, sizeof side, "%s", cfg->database_path);
	char *slash = strrchr(side, '/');
	if (slash) {
		*slash = '\0';
		gh_mkdir_p(side, 0700);
	}
	r = gh_store_open_sqlite(db, cfg->store_busy_timeout_ms, &src);
	if (r == 0)
		r = gh_store_backup(src, cfg->database_path);
	gh_store_close(src);
	if (r == 0)
		r = gh_store_open(cfg, &dst);
	if (r < 0) {
		gh_cli_error("cannot restore the store into %s: %s", cfg->database_path, gh_strerror(r));
		goto out;
	}
	r = gh_chain_verify(dst, &rep);
	if (r < 0)
		gh_cli_error("restored, but the event chain does NOT verify: %s (event %lld)",
			     r == GH_ECRYPTO ? rep.problem : gh_strerror(r), (long long)rep.bad_id);
	else
		printf("store restored into %s; event chain verified (%lld events)\n",
		       cfg->database_path, (long long)rep.checked);
out:
	gh_store_close(dst);
	return r;
}

/* The bundle's files out of STAGE: the configuration first (it may move
 * database_path and the web pair), then the keys, then the store. */
static int restore_bundle(const char *data_dir, const char *config, const char *stage, bool force)
{
	struct gh_app a = { .data_dir = (char *)data_dir, .config_path = (char *)config };
	struct bundle_file f[7];
	char src[4400], err[GH_CONFIG_ERRLEN];
	int r = 0;
	snprintf(src, sizeof src, "%s/gatehouse.conf", stage);
	key_files(&a, f);
	if (access(src, F_OK) == 0 && (r = install_file(src, f[0].path, force)) < 0)
		goto fail0;
	gh_config_init(&a.cfg);
	if ((r = gh_config_load(&a.cfg, data_dir, config, err)) < 0) {
		gh_cli_error("%s", err);
		goto out;
	}
	key_files(&a, f);
	for (int i = 1; i < 7; i++) {
		snprintf(src, sizeof src, "%s/%s", stage, f[i].name);
		if (access(src, F_OK) == 0 && (r = install_file(src, f[i].path, force)) < 0) {
			gh_cli_error("cannot install %s: %s%s", f[i].path, gh_strerror(r),
				     r == GH_EEXIST ? " (--force replaces it)" : "");
			goto out;
		}
	}
	snprintf(src, sizeof src, "%s/gatehouse.db", stage);
	r = restore_db(&a.cfg, src, force);
	goto out;
fail0:
	gh_cli_error("cannot install %s: %s%s", f[0].path, gh_strerror(r),
		     r == GH_EEXIST ? " (--force replaces it)" : "");
	return r;
out:
	gh_config_free(&a.cfg);
	return r;
}

static void stage_remove(const char *stage)
{
	static const char *const names[] = { "gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm",
					     "gatehouse.conf", "master.key", GH_HOSTKEY_ED25519,
					     GH_HOSTKEY_RSA, GH_HOSTKEY_JUMP, "web_cert.pem",
					     "web_key.pem" };
	char p[4400];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", stage, names[i]);
		unlink(p);
	}
	rmdir(stage);
}

static int restore_plain(const char *data_dir, const char *config, const char *file,
			 const char *stage, bool force)
{
	struct gh_config cfg;
	char err[GH_CONFIG_ERRLEN], db[4400];
	snprintf(db, sizeof db, "%s/gatehouse.db", stage);
	gh_config_init(&cfg);
	int r = gh_config_load(&cfg, data_dir, config, err);
	if (r < 0)
		gh_cli_error("%s", err);
	else if ((r = install_file(file, db, false)) < 0)
		gh_cli_error("cannot copy %s: %s", file, gh_strerror(r));
	else
		r = restore_db(&cfg, db, force);
	gh_config_free(&cfg);
	return r;
}

static int restore_run(const char *data_dir, const char *config, const char *file, bool force)
{
	uint8_t magic[16] = { 0 };
	char stage[4200];
	int r = GH_EIO;
	FILE *in = fopen(file, "rbe");
	if (!in || fread(magic, 1, sizeof magic, in) != sizeof magic) {
		gh_cli_error("cannot read %s", file);
		goto out;
	}
	bool plain = !memcmp(magic, "SQLite format 3", 16);
	if (!plain && memcmp(magic, MAGIC, 8)) {
		gh_cli_error("%s is neither a store backup nor a --with-keys bundle", file);
		r = GH_EINVAL;
		goto out;
	}
	rewind(in);
	snprintf(stage, sizeof stage, "%s/.restore-XXXXXX", data_dir);
	if (!mkdtemp(stage))
		goto out;
	if (plain) { /* opened from a copy: the backup file itself stays untouched */
		r = restore_plain(data_dir, config, file, stage, force);
		stage_remove(stage);
		goto out;
	}
	int sfd = open(stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = sfd < 0 ? GH_EIO : open_bundle(in, sfd);
	if (sfd >= 0)
		close(sfd);
	if (r == GH_ECRYPTO)
		gh_cli_error("%s: wrong passphrase, or the bundle is damaged: nothing restored", file);
	else if (r == 0)
		r = restore_bundle(data_dir, config, stage, force);
	stage_remove(stage);
out:
	if (in)
		fclose(in);
	return r;
}

int gh_cmd_restore(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c, r;
	cli->usage = usage_restore;
	snprintf(cli->cmd, sizeof cli->cmd, "restore");
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_FORCE)
			force = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 1, 1, "FILE")))
		return r;
	const char *data_dir = cli->data_dir;
	if (!data_dir || !*data_dir)
		data_dir = getenv("GATEHOUSE_DATA");
	if (!data_dir || !*data_dir)
		data_dir = "./data";
	if (gh_mkdir_p(data_dir, 0700) < 0) {
		gh_cli_error("cannot create the data directory %s", data_dir);
		return GH_EXIT_FAIL;
	}
	if (gh_app_serve_running(data_dir)) {
		gh_cli_error("gatehouse serve runs on %s: stop it before a restore", data_dir);
		return GH_EXIT_FAIL;
	}
	r = restore_run(data_dir, cli->config, argv[optind], force);
	return r < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
}
