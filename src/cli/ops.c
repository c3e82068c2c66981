/* gatehouse logs, gatehouse cert: operating a running installation. */
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "web/web.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_MAX (1024 * 1024)
#define FOLLOW_MS 250

static const char usage_logs[] =
	"Usage:\n"
	"  gatehouse logs [-f]\n"
	"      print the log file (log_file); -f: then follow it as it grows, across\n"
	"      a rotation (a new file at the same path). Without log_file serve logs\n"
	"      to stderr: under systemd, journalctl -u gatehouse.\n";

static const char usage_cert[] =
	"Usage:\n"
	"  gatehouse cert install CERT KEY\n"
	"      install the web console's certificate (PEM, may hold its chain) and\n"
	"      key (PEM, unencrypted) after checking that they belong together and\n"
	"      the certificate has not expired; both are written 0600, root's, at\n"
	"      web_cert/web_key (default DATA/web_cert.pem, DATA/web_key.pem). Prints\n"
	"      the certificate's SHA-256 fingerprint. The web process takes it at the\n"
	"      next SIGHUP of serve (systemctl reload gatehouse).\n";

/* Copy what FD has from here to stdout; returns bytes copied or -1. */
static ssize_t drain(int fd)
{
	char buf[65536];
	ssize_t k, total = 0;
	while ((k = read(fd, buf, sizeof buf)) > 0) {
		if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
			return -1;
		total += k;
	}
	fflush(stdout);
	return k < 0 ? -1 : total;
}

static int follow(const char *path, int fd)
{
	struct stat a, b;
	for (;;) {
		if (drain(fd) < 0)
			return GH_EIO;
		poll(NULL, 0, FOLLOW_MS);
		if (stat(path, &b) == 0 && fstat(fd, &a) == 0 &&
		    (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
			drain(fd); /* the rest of the rotated file */
			int nfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nfd >= 0) {
				close(fd);
				fd = nfd;
			}
		}
	}
}

int gh_cmd_logs(struct gh_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gh_app *app = NULL;
	bool fol = false;
	int c, r;
	cli->usage = usage_logs;
	snprintf(cli->cmd, sizeof cli->cmd, "logs");
	gh_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":hf", opts, NULL)) != -1) {
		if (c == 'f')
			fol = true;
		else if (c == 'h')
			return gh_cli_help(cli);
		else
			return gh_cli_bad_option(cli, c, argv);
	}
	if ((r = gh_cli_positional(cli, argc, 0, 0, "")))
		return r;
	if (gh_cli_open(cli, GH_APP_NO_VAULT, &app) < 0)
		return GH_EXIT_FAIL;
	const char *path = app->cfg.log_file;
	r = GH_EXIT_FAIL;
	if (!path || !*path) {
		gh_cli_error("log_file is not set: serve logs to its stderr (under systemd: "
			     "journalctl -u gatehouse)");
		goto out;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gh_cli_error("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	r = (fol ? follow(path, fd) : drain(fd) < 0 ? GH_EIO : 0) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
	close(fd);
out:
	gh_app_close(app);
	return r;
}

/* BUF (LEN bytes) into DST, 0600, replacing it at once (rename). */
static int write_private(const char *dst, const char *buf, size_t len)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.new", dst) >= (int)sizeof tmp)
		return GH_EINVAL;
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), r = GH_EIO;
	if (fd < 0)
		return r;
	if (fchmod(fd, 0600) == 0 && write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0)
		r = 0;
	close(fd);
	if (r == 0 && rename(tmp, dst) < 0)
		r = GH_EIO;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int cert_install(struct gh_cli *cli, int argc, char **argv)
{
	struct gh_app *app = NULL;
	char *cert = NULL, *key = NULL, why[160], cpath[4096], kpath[4096], fp[96];
	size_t clen = 0, klen = 0;
	int r;
	if (!gh_cli_start(cli, argc, argv, NULL, 2, 2, "CERT KEY", GH_APP_NO_VAULT, &app, &r))
		return r;
	r = GH_EXIT_FAIL;
	if (gh_read_file(argv[optind], CERT_MAX, &cert, &clen) < 0 ||
	    gh_read_file(argv[optind + 1], CERT_MAX, &key, &klen) < 0) {
		gh_cli_error("cannot read %s or %s", argv[optind], argv[optind + 1]);
		goto out;
	}
	if (gh_web_cert_check(cert, clen, key, klen, why, sizeof why) < 0) {
		gh_cli_error("not installed: %s", why);
		goto out;
	}
	if (gh_web_cert_paths(app, cpath, kpath) < 0 || write_private(kpath, key, klen) < 0 ||
	    write_private(cpath, cert, clen) < 0 || gh_web_cert_fingerprint(cert, clen, fp) < 0) {
		gh_cli_error("cannot write %s and %s: %s", cpath, kpath, strerror(errno));
		goto out;
	}
	printf("installed %s and %s\nSHA256 fingerprint: %s\n"
	       "the web console serves it after: systemctl reload gatehouse (or kill -HUP the "
	       "master)\n", cpath, kpath, fp);
	r = GH_EXIT_OK;
out:
	if (key) {
		explicit_bzero(key, klen);
		free(key);
	}
	free(cert);
	gh_app_close(app);
	return r;
}

int gh_cmd_cert(struct gh_cli *cli, int argc, char **argv)
{
	static const struct gh_cli_verb verbs[] = {
		{ "install", cert_install },
		{ NULL, NULL },
	};
	return gh_cli_dispatch(cli, "cert", usage_cert, verbs, argc, argv);
}
