/* Paths root acts on (core/safefile.h). These guard the recording
 * removal and reads done as root (sessions.recording_path is writable by
 * the worker user) and the trust checks on configuration and keys; the
 * functions did not exist before, and unlink()/open() on the row's path
 * fail every "refused" case below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/safefile.h"

struct fx {
	char root[PATH_MAX];  /* temp dir */
	char base[PATH_MAX];  /* root/rec: the "recordings_dir" */
	char outside[PATH_MAX]; /* root/outside.txt: a file that must survive */
};

static void put(const char *path, const char *text, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static char *cat(char *buf, const char *a, const char *b)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", a, b);
	assert_true(n > 0 && n < PATH_MAX);
	return buf;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char p[PATH_MAX];
	snprintf(f->root, sizeof f->root, "/tmp/gh-safefile-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	chmod(f->root, 0755);
	cat(f->base, f->root, "rec");
	assert_int_equal(mkdir(f->base, 0700), 0);
	assert_int_equal(mkdir(cat(p, f->base, "2026"), 0700), 0);
	put(cat(p, f->base, "2026/s1.cast.gz"), "rec", 0600);
	cat(f->outside, f->root, "outside.txt");
	put(f->outside, "keep me", 0600);
	/* a symlink to a file outside and one to a directory outside */
	assert_int_equal(symlink(f->outside, cat(p, f->base, "2026/evil.cast.gz")), 0);
	assert_int_equal(symlink(f->root, cat(p, f->base, "up")), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_path_beneath(void **state)
{
	(void)state;
	const char *rel = NULL;
	assert_int_equal(gh_path_beneath("/d/rec", "/d/rec/2026/01/a.gz", &rel), 0);
	assert_string_equal(rel, "2026/01/a.gz");
	assert_int_equal(gh_path_beneath("/d/rec/", "/d/rec/a.gz", &rel), 0);
	assert_string_equal(rel, "a.gz");
	assert_int_equal(gh_path_beneath("./data/rec", "./data/rec/a.gz", &rel), 0);
	const char *bad[] = { "/etc/passwd", "/d/rec", "/d/rec/", "/d/recx/a.gz", "/d/rec/../x",
			      "/d/rec/a/../../x", "/d/rec//a", "/d/rec/./a", "/d/rec/a/", "d/rec/a",
			      "/d/rec/..", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gh_path_beneath("/d/rec", bad[i], &rel), GH_EPERM);
}

static void test_open_beneath(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], why[GH_SAFE_WHYLEN];
	int fd = -1;
	assert_int_equal(gh_open_beneath(f->base, cat(p, f->base, "2026/s1.cast.gz"), &fd, why,
					 sizeof why), 0);
	char b[8] = { 0 };
	assert_int_equal(read(fd, b, sizeof b - 1), 3);
	assert_string_equal(b, "rec");
	close(fd);
	/* a symlink as the file, as a directory on the way, a path outside */
	assert_int_equal(gh_open_beneath(f->base, cat(p, f->base, "2026/evil.cast.gz"), &fd, why,
					 sizeof why), GH_EPERM);
	assert_int_equal(gh_open_beneath(f->base, cat(p, f->base, "up/outside.txt"), &fd, why,
					 sizeof why), GH_EPERM);
	assert_int_equal(gh_open_beneath(f->base, f->outside, &fd, why, sizeof why), GH_EPERM);
	assert_int_equal(gh_open_beneath(f->base, cat(p, f->base, "2026/none.gz"), &fd, why,
					 sizeof why), GH_ENOENT);
	/* a FIFO is not a regular file (and opening it does not block) */
	assert_int_equal(mkfifo(cat(p, f->base, "2026/fifo"), 0600), 0);
	assert_int_equal(gh_open_beneath(f->base, p, &fd, why, sizeof why), GH_EPERM);
}

static void test_unlink_beneath(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], why[GH_SAFE_WHYLEN];
	struct stat st;
	assert_int_equal(gh_unlink_beneath(f->base, cat(p, f->base, "2026/evil.cast.gz"), why,
					   sizeof why), GH_EPERM);
	assert_int_equal(lstat(p, &st), 0); /* the link stays, and its target */
	assert_int_equal(gh_unlink_beneath(f->base, cat(p, f->base, "up/outside.txt"), why,
					   sizeof why), GH_EPERM);
	assert_int_equal(gh_unlink_beneath(f->base, f->outside, why, sizeof why), GH_EPERM);
	assert_int_equal(gh_unlink_beneath(f->base, cat(p, f->base, "2026/../../outside.txt"), why,
					   sizeof why), GH_EPERM);
	assert_int_equal(stat(f->outside, &st), 0);
	assert_int_equal(gh_unlink_beneath(f->base, cat(p, f->base, "2026/s1.cast.gz"), why,
					   sizeof why), 0);
	assert_int_equal(lstat(p, &st), -1);
	assert_int_equal(gh_unlink_beneath(f->base, p, why, sizeof why), GH_ENOENT);
	/* the base itself reached through a symlink in a directory others can write */
	char open_dir[PATH_MAX], base2[PATH_MAX];
	assert_int_equal(mkdir(cat(open_dir, f->root, "open"), 0777), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(symlink(f->base, cat(base2, open_dir, "rec")), 0);
	put(cat(p, f->base, "2026/s2.cast.gz"), "x", 0600);
	assert_int_equal(gh_unlink_beneath(base2, cat(p, base2, "2026/s2.cast.gz"), why, sizeof why),
			 GH_EPERM);
	assert_non_null(strstr(why, "symlink"));
	/* an administrator's link (in a directory only we can write) is followed */
	assert_int_equal(symlink(f->base, cat(base2, f->root, "admin-link")), 0);
	assert_int_equal(gh_unlink_beneath(base2, cat(p, base2, "2026/s2.cast.gz"), why, sizeof why),
			 0);
}

static void test_safe_append(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], why[GH_SAFE_WHYLEN];
	struct stat st;
	int fd = -1;
	assert_int_equal(gh_safe_append(cat(p, f->root, "log/a.log"), 0640, &fd, why, sizeof why),
			 GH_ENOENT);
	assert_int_equal(gh_safe_append(cat(p, f->root, "a.log"), 0640, &fd, why, sizeof why), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	close(fd);
	/* the last component a symlink; a directory on the way a symlink
	 * others could have planted */
	assert_int_equal(symlink(f->outside, cat(p, f->root, "b.log")), 0);
	assert_int_equal(gh_safe_append(p, 0640, &fd, why, sizeof why), GH_EPERM);
	char open_dir[PATH_MAX];
	assert_int_equal(mkdir(cat(open_dir, f->root, "open2"), 0777), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(symlink(f->base, cat(p, open_dir, "x")), 0);
	assert_int_equal(gh_safe_append(cat(p, open_dir, "x/new.log"), 0640, &fd, why, sizeof why),
			 GH_EPERM);
	assert_int_equal(stat(cat(p, f->base, "new.log"), &st), -1);
	if (geteuid() == 0) { /* a file of another user is refused */
		assert_int_equal(chown(cat(p, f->root, "a.log"), 12345, 12345), 0);
		assert_int_equal(gh_safe_append(p, 0640, &fd, why, sizeof why), GH_EPERM);
	}
}

static void test_trusted_read(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], why[GH_SAFE_WHYLEN];
	char *buf = NULL;
	size_t len = 0;
	put(cat(p, f->root, "ok.conf"), "a = b\n", 0644);
	assert_int_equal(gh_trusted_read(p, 100, false, &buf, &len, why, sizeof why), 0);
	assert_string_equal(buf, "a = b\n");
	free(buf);
	assert_int_equal(gh_trusted_read(p, 100, true, &buf, &len, why, sizeof why), GH_EPERM);
	assert_non_null(strstr(why, "readable by group or others"));
	assert_int_equal(gh_trusted_read(p, 3, false, &buf, &len, why, sizeof why), GH_ELIMIT);
	put(cat(p, f->root, "gw.conf"), "a = b\n", 0664);
	assert_int_equal(gh_trusted_read(p, 100, false, &buf, &len, why, sizeof why), GH_EPERM);
	assert_non_null(strstr(why, "writable by group or others"));
	char q[PATH_MAX];
	assert_int_equal(symlink(cat(q, f->root, "ok.conf"), cat(p, f->root, "ln.conf")), 0);
	assert_int_equal(gh_trusted_read(p, 100, false, &buf, &len, why, sizeof why), GH_EPERM);
	assert_int_equal(gh_trusted_read(cat(p, f->root, "none.conf"), 100, false, &buf, &len, why,
					 sizeof why), GH_ENOENT);
	if (geteuid() == 0) {
		put(cat(p, f->root, "other.conf"), "a = b\n", 0600);
		assert_int_equal(chown(p, 12345, 12345), 0);
		assert_int_equal(gh_trusted_read(p, 100, false, &buf, &len, why, sizeof why),
				 GH_EPERM);
		assert_non_null(strstr(why, "owned by uid 12345"));
	}
}

/* A listening unix socket at DIR/NAME (non-blocking accept). */
static int listen_at(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Guards the CLI's connect (as root) to a live session's socket in the
 * worker user's DATA/run: a symlink there (to a socket of root's), a file
 * or someone else's socket is refused and nothing connects to the other
 * socket. Before gh_safe_connect, connect() by name followed the link. */
static void test_safe_connect(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], q[PATH_MAX], why[GH_SAFE_WHYLEN];
	int fd = -1;
	int lfd = listen_at(f->root, "svc.sock");
	int gone = listen_at(f->root, "gone.sock");
	close(gone); /* its file stays, nobody listens */
	assert_int_equal(symlink(cat(p, f->root, "svc.sock"), cat(q, f->base, "link.sock")), 0);
	put(cat(p, f->base, "file.sock"), "x", 0600);
	int dfd = open(f->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0 && rfd >= 0);

	why[0] = '\0';
	assert_int_equal(gh_safe_connect(dfd, "link.sock", geteuid(), &fd, why, sizeof why),
			 GH_EPERM);
	assert_non_null(strstr(why, "symlink"));
	assert_int_equal(accept(lfd, NULL, NULL), -1); /* nothing reached it */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(gh_safe_connect(dfd, "file.sock", geteuid(), &fd, why, sizeof why),
			 GH_EPERM);
	assert_non_null(strstr(why, "not a socket"));
	assert_int_equal(gh_safe_connect(rfd, "svc.sock", geteuid() + 1, &fd, why, sizeof why),
			 GH_EPERM);
	assert_non_null(strstr(why, "owned by uid"));
	assert_int_equal(accept(lfd, NULL, NULL), -1);
	assert_int_equal(gh_safe_connect(dfd, "none.sock", geteuid(), &fd, why, sizeof why),
			 GH_ENOENT);
	assert_int_equal(gh_safe_connect(rfd, "gone.sock", geteuid(), &fd, why, sizeof why),
			 GH_ENOENT);
	assert_int_equal(gh_safe_connect(dfd, "../svc.sock", geteuid(), &fd, why, sizeof why),
			 GH_EINVAL);
	/* the socket itself, owned by the expected user: connected */
	assert_int_equal(gh_safe_connect(rfd, "svc.sock", geteuid(), &fd, why, sizeof why), 0);
	int afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(fd, "k", 1), 1);
	char ch = 0;
	assert_int_equal(read(afd, &ch, 1), 1);
	assert_int_equal(ch, 'k');
	close(afd);
	close(fd);
	close(dfd);
	close(rfd);
	close(lfd);
}

/* Guards the store's open by root: database_path resolved as an
 * administrator's path (a link root made in its own directory followed, one
 * in a directory others can write refused), and the database's files taken
 * only as regular files with one link. */
static void test_resolve_and_lone_file(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], q[PATH_MAX], why[GH_SAFE_WHYLEN];
	char *out = NULL;
	struct stat st;
	cat(q, f->base, "2026/s1.cast.gz");
	assert_int_equal(symlink(q, cat(p, f->root, "abs.db")), 0);
	assert_int_equal(symlink("rec/2026/s1.cast.gz", cat(p, f->root, "rel.db")), 0);
	assert_int_equal(gh_safe_resolve(cat(p, f->root, "abs.db"), &out, why, sizeof why), 0);
	assert_string_equal(out, q);
	free(out);
	assert_int_equal(gh_safe_resolve(cat(p, f->root, "rel.db"), &out, why, sizeof why), 0);
	assert_string_equal(out, q);
	free(out);
	/* not there yet: the path itself */
	assert_int_equal(gh_safe_resolve(cat(p, f->root, "new.db"), &out, why, sizeof why), 0);
	assert_string_equal(out, p);
	free(out);
	/* a link in a directory others can write is not followed */
	assert_int_equal(mkdir(cat(p, f->root, "open"), 0700), 0);
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(symlink(q, cat(p, f->root, "open/x.db")), 0);
	why[0] = '\0';
	assert_int_equal(gh_safe_resolve(p, &out, why, sizeof why), GH_EPERM);
	assert_non_null(strstr(why, "others could have made"));
	assert_int_equal(symlink("loop.db", cat(p, f->root, "loop.db")), 0);
	assert_int_equal(gh_safe_resolve(p, &out, why, sizeof why), GH_EPERM);

	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(gh_safe_lone_file_check(&st, why, sizeof why), 0);
	assert_int_equal(link(q, cat(p, f->root, "hard.db")), 0);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(gh_safe_lone_file_check(&st, why, sizeof why), GH_EPERM);
	assert_non_null(strstr(why, "2 links"));
	assert_int_equal(lstat(cat(p, f->root, "abs.db"), &st), 0);
	assert_int_equal(gh_safe_lone_file_check(&st, why, sizeof why), GH_EPERM);
	assert_non_null(strstr(why, "symlink"));
	assert_int_equal(stat(f->base, &st), 0);
	assert_int_equal(gh_safe_lone_file_check(&st, why, sizeof why), GH_EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_beneath),
		cmocka_unit_test_setup_teardown(test_open_beneath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_beneath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safe_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safe_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_and_lone_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
