"""log_file: diagnostic lines of the master and of the workers go to the
file, which is reopened on SIGHUP (logrotate), in the default set-up
(master as root, workers as the gatehouse user)."""
import os
import signal
import stat
import subprocess

from sshenv import *  # noqa: F401,F403 (fixtures)
from dropenv import *  # noqa: F401,F403 (fixtures: drop_tmp)
from sshenv import UNIX_DEPLOY, Gatehouse, setup_ghenv, ssh_run, wait_for

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
LOGIN = "login of alice@"


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def test_log_file_gets_the_lines_and_is_reopened_on_sighup(gh_bin, drop_tmp, target):
    """Guards: log_file was accepted and documented but never applied (every
    line went to stderr). The master's lines and the workers' (running as the
    gatehouse user, which cannot open the file: they inherit it) land in the
    file; after a rename and SIGHUP the master reopens it and workers forked
    later write to the new file. Fails without the fix (no file is created)."""
    log = os.path.join(drop_tmp, "gatehouse.log")
    g = Gatehouse(gh_bin, drop_tmp, target, extra_conf=f"log_file = {log}\n", drop=True)
    g.start()
    try:
        setup_ghenv(g, target)
        assert wait_for(lambda: "listening for SSH" in read(log), timeout=10), g.read_log()
        st = os.stat(log)
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
        assert "listening for SSH" not in g.read_log()  # not on stderr any more
        p = ssh_run(g, DIRECT, "echo one", password=g.alice_pw)
        assert p.returncode == 0, p.stderr
        assert wait_for(lambda: LOGIN in read(log), timeout=10), read(log)
        assert any(" worker[" in ln and LOGIN in ln for ln in read(log).splitlines())
        # the worker user cannot open it itself
        w = subprocess.run(["setpriv", "--reuid=gatehouse", "--regid=gatehouse",
                            "--clear-groups", "--", "sh", "-c", f"echo forged >> {log}"],
                           capture_output=True, text=True, timeout=30)
        assert w.returncode != 0 and "forged" not in read(log)
        # logrotate: rename, then SIGHUP
        os.rename(log, log + ".1")
        g.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: f"logging to {log}" in read(log), timeout=10), \
            read(log + ".1")
        p = ssh_run(g, DIRECT, "echo two", password=g.alice_pw)
        assert p.returncode == 0, p.stderr
        assert wait_for(lambda: LOGIN in read(log), timeout=10), read(log)
        assert read(log + ".1").count(LOGIN) == 1
        assert stat.S_IMODE(os.stat(log).st_mode) == 0o640
    finally:
        assert g.stop() == 0, g.read_log()


def test_log_file_that_cannot_be_opened_stops_serve(gh_bin, drop_tmp, target):
    """A log_file root may not append to (here a symlink, as someone could
    plant) stops serve with an error naming it, instead of logging nowhere.
    Fails without the fix (serve started and ignored the setting)."""
    log = os.path.join(drop_tmp, "planted.log")
    os.symlink("/etc/gatehouse-never-this", log)
    g = Gatehouse(gh_bin, drop_tmp, target, extra_conf=f"log_file = {log}\n", drop=True)
    p = subprocess.run([gh_bin, "--data", g.data, "serve"], capture_output=True, text=True,
                       timeout=60, env=g.env)
    assert p.returncode == 1, p.stderr
    assert log in p.stderr and "symlink" in p.stderr, p.stderr
    assert not os.path.exists("/etc/gatehouse-never-this")
