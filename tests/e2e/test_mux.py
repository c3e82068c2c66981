"""OpenSSH connection sharing (ControlMaster/ControlPersist, what Ansible
uses by default) through Gatehouse."""
import os
import subprocess
import time

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_args, ssh_run

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def test_controlpersist_sequential_commands(ghenv, tmp_path):
    """Commands one after another with ControlPersist all work."""
    g = ghenv
    import tempfile
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")  # socket paths are short
    cp = os.path.join(cpdir, "%C")
    extra = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cp}", "-o", "ControlPersist=30")
    outs = []
    for i in range(3):
        p = ssh_run(g, DIRECT, f"echo run-{i}", password=g.alice_pw, extra=extra, timeout=60)
        outs.append((p.returncode, p.stdout, p.stderr))
    subprocess.run(ssh_args(g, DIRECT, key=None, extra=extra + ("-O", "exit")), capture_output=True, timeout=20)
    assert [o[1] for o in outs] == ["run-0\n", "run-1\n", "run-2\n"], outs


def test_controlmaster_concurrent_channels(ghenv):
    """A second session while the first runs: Gatehouse serves one session
    channel per connection, refuses the shared one, and OpenSSH falls back
    to a connection of its own (with a warning): both commands work."""
    g = ghenv
    import tempfile
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")
    extra = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C", "-o", "ControlPersist=30")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=g.alice_pw, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    first = subprocess.Popen(ssh_args(g, DIRECT, "sleep 3; echo first", extra=extra),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True)
    time.sleep(1.5)
    p = ssh_run(g, DIRECT, "echo second", password=g.alice_pw, extra=extra, timeout=60)
    out, err = first.communicate(timeout=30)
    subprocess.run(ssh_args(g, DIRECT, extra=extra + ("-O", "exit")), capture_output=True, timeout=20)
    assert out == "first\n", err
    assert p.returncode == 0 and p.stdout == "second\n", (p.returncode, p.stderr)
