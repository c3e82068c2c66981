"""The one authorize call behind every way to a target (src/session/authz.h),
tried as a user permitted less would: a permission for alice on web01 as
ghtest-deploy only (actions connect,forward), and the other account,
ghtest-ops, tried through every door that logs into a target -- a forward
"from the asset" on a direct login, the same behind a jump's inner login,
and -R. Then lock, disable and login ACLs met by tunnels, connection
sharing and menu picks, and tunnel-only connections in `session list`.

Each test here failed before the fix it guards (named in its docstring)."""
import json
import os
import signal
import subprocess
import tempfile

import pexpect
import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, running_gatehouse, ssh_args
from test_jump import _setup as jump_config
from test_tunnel import Forward, _assert_refused, _echo_roundtrip, _tunnel_events
from test_tunnel import echo  # noqa: F401 (fixture)

DEPLOY = f"alice@{UNIX_DEPLOY}@web01"
OPS = f"alice@{UNIX_OPS}@web01"


@pytest.fixture
def authz(gh_bin, tmp_path, target):
    """alice may use web01 only as ghtest-deploy (connect, forward); both
    accounts exist on web01, whose host key is pinned by a first login."""
    with running_gatehouse(gh_bin, tmp_path, target, "allow_remote_forward = yes\n") as g:
        g.alice_pw = ALICE_PW
        g.add_user("alice", password=ALICE_PW)
        g.add_asset("web01", nodes=("/prod/web",))
        g.add_account("web01", UNIX_DEPLOY)
        g.add_account("web01", UNIX_OPS, key_file=target.ops_key)
        g.cli("perm", "add", "p-deploy", "--user", "alice", "--asset", "web01", "--account",
              UNIX_DEPLOY, "--actions", "connect,forward")
        p = ssh_run(g, DEPLOY, "true", password=ALICE_PW)
        assert p.returncode == 0, p.stderr
        yield g


def _target_logins(target, account):
    """How many logins as ACCOUNT the target's sshd has accepted so far."""
    with open(os.path.join(target.dir, "sshd.log"), errors="replace") as f:
        return sum(1 for l in f if "Accepted " in l and f" for {account} from" in l)


def _ops_denied(g):
    deny = _tunnel_events(g, "deny")
    assert deny, _tunnel_events(g)
    assert f"does not name account '{UNIX_OPS}'" in deny[-1]["reason"], deny[-1]
    return deny[-1]


def _tunnel_rows(g, active=True):
    rows = json.loads(g.cli("session", "list", "--json", "--active" if active else "--json")
                      .stdout)
    return [r for r in rows if r["kind"] == "tunnel"]


def _spawn_forward(g, login, spec, extra=()):
    """`ssh -N` with EXTRA forwards, password through askpass."""
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=env.get("DISPLAY", ":0"))
    return subprocess.Popen(ssh_args(g, login, extra=("-N", *extra, spec)), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


# -- item 1: every credential goes through the one authorize call ------------------

def test_forward_from_the_asset_needs_the_account(authz, echo, target):
    """`ssh -N -L PORT:localhost:ECHO alice@ghtest-ops@web01` with a permission
    for ghtest-deploy only: refused, and the target sees no login as
    ghtest-ops. Before the fix the forward decision named no account: the
    tunnel logged into web01 as ghtest-ops and carried data."""
    g = authz
    assert g.cli("perm", "check", "alice", "web01", UNIX_OPS, "--action", "forward",
                 check=1).stdout.startswith("deny")
    before = _target_logins(target, UNIX_OPS)
    f = Forward(g, f"localhost:{echo.port}", login=OPS)
    try:
        _assert_refused(f)
    finally:
        f.stop()
    _ops_denied(g)
    assert _target_logins(target, UNIX_OPS) == before
    assert not [e for e in _tunnel_events(g, "allow") if "connected from" in e["reason"]]
    # the permitted account still forwards
    f = Forward(g, f"localhost:{echo.port}", login=DEPLOY)
    try:
        with f.connect() as s:
            assert _echo_roundtrip(s, b"as-deploy") == b"as-deploy"
    finally:
        f.stop()
    assert "connected from web01" in _tunnel_events(g, "allow")[-1]["reason"]


def test_forward_behind_a_jump_needs_the_account(authz, echo, target, tmp_path):
    """`ssh -J gh -N -L ... ghtest-ops@web01`: the jump's inner login names an
    account the user may not use; its forward is refused. Before the fix it
    logged into web01 as ghtest-ops and carried data."""
    g = authz
    cfg, _ = jump_config(g, tmp_path)
    before = _target_logins(target, UNIX_OPS)
    f = Forward(g, f"localhost:{echo.port}", argv=["ssh", "-F", cfg, "-l", UNIX_OPS, "web01"])
    try:
        _assert_refused(f)
    finally:
        f.stop()
    _ops_denied(g)
    assert _target_logins(target, UNIX_OPS) == before
    f = Forward(g, f"localhost:{echo.port}", argv=["ssh", "-F", cfg, "web01"])
    try:
        with f.connect() as s:
            assert _echo_roundtrip(s, b"via-jump") == b"via-jump"
    finally:
        f.stop()


def test_remote_forward_needs_the_account(authz, echo):
    """`ssh -N -R ... alice@ghtest-ops@web01`: refused (ExitOnForwardFailure
    ends the client). Before the fix the -R decision named no account and
    was allowed."""
    g = authz
    p = _spawn_forward(g, OPS, f"127.0.0.1:{free_port()}:127.0.0.1:{echo.port}",
                       extra=("-o", "ExitOnForwardFailure=yes", "-R"))
    try:
        assert wait_for(lambda: p.poll() is not None, timeout=30), "-R was accepted"
        assert p.returncode == 255 and "remote port forwarding failed" in p.stderr.read()
    finally:
        _stop(p)
    deny = [e for e in _tunnel_events(g, "deny") if e["method"] == "tcpip-forward"]
    assert deny and f"does not name account '{UNIX_OPS}'" in deny[-1]["reason"], deny


def test_sessions_with_the_other_account_refused(authz, target):
    """Shell, exec, sftp, agent and X11 requests on alice@ghtest-ops@web01 are
    refused before the target is reached (they share the credential call)."""
    g = authz
    before = _target_logins(target, UNIX_OPS)
    p = ssh_run(g, OPS, "id", password=ALICE_PW,
                extra=("-o", "ForwardAgent=yes", "-o", "ForwardX11=yes"))
    assert p.returncode != 0 and "not permitted" in p.stdout + p.stderr
    p = subprocess.run(["sftp", "-b", "-", *ssh_args(g, OPS)[1:-1], OPS + "@127.0.0.1"],
                       input="ls\n", capture_output=True, text=True, timeout=60,
                       env={**os.environ, "SSH_ASKPASS": g.askpass, "SSH_ASKPASS_REQUIRE": "force",
                            "GH_TEST_PASSWORD": ALICE_PW, "DISPLAY": ":0"})
    assert p.returncode != 0
    assert _target_logins(target, UNIX_OPS) == before


def test_perm_check_is_the_gate(authz):
    """`perm check` asks the gate's own function: a locked user is denied
    there as at the door. Before the fix the CLI ignored locks (it said
    allow while every login was refused)."""
    g = authz
    assert g.cli("perm", "check", "alice", "web01", UNIX_DEPLOY).stdout.startswith("allow")
    g.cli("user", "lock", "alice")
    p = g.cli("perm", "check", "alice", "web01", UNIX_DEPLOY, check=1)
    assert p.stdout.startswith("deny") and "locked" in p.stdout, p.stdout
    g.cli("user", "unlock", "alice")
    g.cli("user", "disable", "alice")
    p = g.cli("perm", "check", "alice", "web01", UNIX_DEPLOY, check=1)
    assert "disabled" in p.stdout, p.stdout
