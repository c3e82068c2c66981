"""OpenSSH connection sharing (ControlMaster/ControlPersist, what Ansible
uses by default) through Gatehouse."""
import os
import subprocess

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_args, ssh_run, target_copy, wait_for

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

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
    # one login: the later commands were sessions on the shared connection
    logins = [e for e in g.events("login") if e["result"] == "success"]
    assert len(logins) == 1, logins
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"]
    assert len(rows) == 3, rows


def test_controlmaster_concurrent_channels(ghenv):
    """A second session while the first runs: Gatehouse serves both session
    channels of the shared connection at once (max_channels_per_connection),
    so OpenSSH needs no fallback connection of its own."""
    g = ghenv
    import tempfile
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")
    extra = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C", "-o", "ControlPersist=30")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=g.alice_pw, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    with target_copy("second-done") as flag:
        # the first command runs until the second one is done (bounded)
        wait = f"for i in $(seq 600); do [ -e {flag} ] && break; sleep 0.1; done; echo first"
        first = subprocess.Popen(ssh_args(g, DIRECT, wait, extra=extra),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, start_new_session=True)
        # the second starts once the first's session runs on the master connection
        assert wait_for(lambda: os.listdir(cpdir) and any(not r["ended_at"]
                                                          for r in g.sessions()), timeout=30)
        p = ssh_run(g, DIRECT, f"echo second; touch {flag}", password=g.alice_pw, extra=extra,
                    timeout=60)
        out, err = first.communicate(timeout=90)
    subprocess.run(ssh_args(g, DIRECT, extra=extra + ("-O", "exit")), capture_output=True, timeout=20)
    assert out == "first\n", err
    assert p.returncode == 0 and p.stdout == "second\n", (p.returncode, p.stderr)
    assert "refused" not in p.stderr and "failed" not in p.stderr, p.stderr


def test_shared_connection_checks_the_user_again(ghenv):
    """A connection kept open does not outlive a lock: the next session on it
    is refused (and logged), and the connection ends."""
    g = ghenv
    import tempfile
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")
    extra = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C", "-o", "ControlPersist=30")
    p = ssh_run(g, DIRECT, "echo before", password=g.alice_pw, extra=extra, timeout=60)
    assert p.returncode == 0 and p.stdout == "before\n", p.stderr
    g.cli("user", "lock", "alice")
    try:
        p = ssh_run(g, DIRECT, "echo after", password=g.alice_pw, extra=extra, timeout=60)
        assert p.returncode != 0 and "after" not in p.stdout, (p.returncode, p.stdout, p.stderr)
        assert "may not open another session" in p.stdout + p.stderr, (p.stdout, p.stderr)
        ev = [e for e in g.events("login") if e["method"] == "session"]
        assert ev and ev[-1]["result"] == "failure" and ev[-1]["reason"] == "locked", ev
    finally:
        g.cli("user", "unlock", "alice")
        subprocess.run(ssh_args(g, DIRECT, extra=extra + ("-O", "exit")), capture_output=True,
                       timeout=20)
