/* Forwards opened from the target (see viatarget.h). */
#include "relay/viatarget.h"
#include "app/app.h"
#include "core/log.h"
#include "core/util.h"
#include "session/authz.h"
#include "relay/fwd.h"
#include "store/store.h"
#include "target/target.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int child(struct gh_app *app, const struct gh_asset *a, const char *account,
		 struct gh_credential *cred, const char *host, int port, int fd)
{
	ssh_session ts = NULL;
	ssh_channel ch = NULL;
	char err[GH_TARGET_ERRLEN];
	char *hk = NULL, *fp = NULL;
	int rc = 1;

	struct gh_target_conn c = { .address = a->address,
				    .port = a->port,
				    .username = account,
				    .pinned_host_key = a->host_key,
				    .timeout = app->cfg.target_connect_timeout };
	if (gh_target_connect(&c, &ts, err) < 0) {
		gh_info("forward from %s: %s", a->name, err);
		goto out;
	}
	if (gh_target_host_key(ts, &hk, &fp) < 0 || !a->host_key || !*a->host_key ||
	    !gh_target_host_key_equal(a->host_key, hk)) {
		gh_warn("forward from %s refused: its host key is %s", a->name,
			a->host_key && *a->host_key ? "changed" : "not pinned yet (log in once)");
		goto out;
	}
	int r = gh_target_auth(ts, cred->kind, cred->secret, err);
	gh_credential_clear(cred);
	if (r < 0) {
		gh_info("forward from %s: %s", a->name, err);
		goto out;
	}
	ch = ssh_channel_new(ts);
	if (!ch || ssh_channel_open_forward(ch, host, port, "127.0.0.1", 0) != SSH_OK) {
		char esc[1024];
		gh_info("forward from %s to %s:%d refused by the target", a->name,
			gh_escape(esc, sizeof esc, host), port);
		goto out;
	}
	rc = 0;
	gh_target_pump(fd, ts, ch);
	ssh_channel_close(ch);
out:
	gh_credential_clear(cred);
	if (ch)
		ssh_channel_free(ch);
	gh_target_free(ts);
	free(hk);
	free(fp);
	close(fd);
	return rc;
}

pid_t gh_viatarget_spawn(struct gh_app *app, const struct gh_asset *a, const char *account,
			 struct gh_credential *cred, const char *host, int port,
			 struct gh_fwdset *fwds, int parent_fd, int status_fd, int *ret_fd)
{
	int fd = -1;
	pid_t pid = gh_fwd_fork(fwds, parent_fd, status_fd, &fd);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		alarm(0);
		gh_log_set_tag("forward");
		_exit(child(app, a, account, cred, host, port, fd));
	}
	if (pid > 0)
		*ret_fd = fd;
	return pid;
}
