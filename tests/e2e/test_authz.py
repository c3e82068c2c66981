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


# -- item 5: lock, disable and ACLs met by tunnels and menu picks -------------------

@pytest.mark.parametrize("verb", ["lock", "disable"])
def test_lock_and_disable_end_an_open_tunnel(authz, echo, verb):
    """An open `ssh -N -L` is a session row of kind tunnel; `user lock` and
    `user disable` end it (the client exits) and no new tunnel connection is
    allowed afterwards. Before the fix the tunnel had no row ("0 live
    session(s) ended") and kept carrying new connections."""
    g = authz
    f = Forward(g, f"web01:{echo.port}")
    try:
        with f.connect() as s:
            assert _echo_roundtrip(s, b"before") == b"before"
        assert wait_for(lambda: len(_tunnel_rows(g)) == 1, timeout=15), g.sessions()
        n_allow = len(_tunnel_events(g, "allow"))
        p = g.cli("user", verb, "alice")
        assert "1 live session(s) ended" in p.stdout, p.stdout
        assert wait_for(lambda: f.proc.poll() is not None, timeout=20), "the tunnel survived"
        assert not f._listening()
        assert len(_tunnel_events(g, "allow")) == n_allow
        rows = [r for r in g.sessions() if r["kind"] == "tunnel"]
        assert rows and rows[-1]["ended_at"], rows
        want = "killed: user locked" if verb == "lock" else "killed: user disabled"
        assert rows[-1]["close_reason"] == want, rows[-1]
    finally:
        f.stop()


def test_shared_connection_forward_after_lock(authz, echo):
    """A ControlMaster kept open across `user lock`: `ssh -O forward -L` adds a
    listener on the client, but every connection through it is refused (the
    user is re-read at each channel open). Before the fix they were
    allowed and carried data."""
    g = authz
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")
    mux = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C",
           "-o", "ControlPersist=60")
    p = ssh_run(g, DEPLOY, "echo before", password=ALICE_PW, extra=mux)
    assert p.returncode == 0 and p.stdout == "before\n", p.stderr
    lport = free_port()
    try:
        g.cli("user", "lock", "alice")
        p = subprocess.run(ssh_args(g, DEPLOY, extra=mux + (
            "-O", "forward", "-L", f"127.0.0.1:{lport}:web01:{echo.port}")),
            capture_output=True, text=True, timeout=30)
        if p.returncode == 0:  # the master is still there: its channels are refused
            import socket
            try:
                with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
                    s.settimeout(20)
                    s.sendall(b"after")
                    got = s.recv(100)
            except OSError:
                got = b""
            assert got == b""
            deny = _tunnel_events(g, "deny")
            assert deny and deny[-1]["reason"] == "locked", deny
        assert not [e for e in _tunnel_events(g, "allow")]
    finally:
        subprocess.run(ssh_args(g, DEPLOY, extra=mux + ("-O", "exit")), capture_output=True,
                       timeout=20)


def test_menu_pick_checks_the_user_again(authz):
    """A login ACL that denies alice, added while she sits in the menu: her
    pick is refused. Before the fix the pick opened the target."""
    g = authz
    c = ssh_spawn(g, "alice", password=ALICE_PW, dims=(30, 120))
    try:
        c.expect("web01")
        g.cli("loginacl", "add", "no-alice", "--user", "alice", "--action", "deny")
        c.send("web01\r")
        i = c.expect(["not permitted", PROMPT_RE])
        assert i == 0, "the pick reached the target"
    finally:
        c.close(force=True)
    pol = [e for e in g.events("policy") if e["result"] == "deny"]
    assert pol and "acl deny rule=no-alice" in pol[-1]["reason"], pol


def test_disable_ends_the_menu(authz):
    """`user disable` ends the sessions of the user, menus included, so a
    disabled user cannot pick another target. Before the fix the menu stayed
    and its pick opened web01."""
    g = authz
    c = ssh_spawn(g, "alice", password=ALICE_PW, dims=(30, 120))
    try:
        c.expect("web01")
        assert wait_for(lambda: any(r["kind"] == "menu" and not r["ended_at"]
                                    for r in g.sessions()), timeout=15)
        g.cli("user", "disable", "alice")
        c.send("web01\r")
        i = c.expect(["killed: user disabled", "not permitted", PROMPT_RE])
        assert i != 2, "a disabled user opened a target from the menu"
    finally:
        c.close(force=True)


def test_tunnel_row_listed_and_killed(authz, echo):
    """`session list --active` shows a tunnel-only connection (kind tunnel)
    and `session kill` ends it. Before the fix it had no row at all."""
    g = authz
    f = Forward(g, f"web01:{echo.port}")
    try:
        assert wait_for(lambda: len(_tunnel_rows(g)) == 1, timeout=15), g.sessions()
        row = _tunnel_rows(g)[0]
        assert row["user"] == "alice" and row["kind"] == "tunnel"
        out = g.cli("session", "list", "--active").stdout
        assert row["id"] in out and "tunnel" in out
        p = g.cli("session", "kill", row["id"], "--reason", "tunnel audit")
        assert row["id"] in p.stdout
        assert wait_for(lambda: f.proc.poll() is not None, timeout=20), "the tunnel survived"
        r = [x for x in g.sessions() if x["id"] == row["id"]][0]
        assert r["ended_at"] and r["close_reason"] == "killed: tunnel audit", r
        assert not _tunnel_rows(g)
        # a tunnel session starts and ends like any other: exactly one
        # start and one end event (before src/session/end.c it had neither)
        ev = [e for e in g.events("session") if e["session_id"] == row["id"]]
        assert [e["result"] for e in ev] == ["start", "end"], ev
        assert ev[1]["reason"] == "killed: tunnel audit", ev
    finally:
        f.stop()


def test_lock_ends_an_idle_shared_connection(authz):
    """A ControlMaster between sessions has no open session for a kill to
    reach; after `user lock` it reads its user again and ends (within the
    5 s re-check), audited as a refused `connection`. Before the fix it
    stayed open until ControlPersist ran out."""
    g = authz
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")
    mux = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C",
           "-o", "ControlPersist=120")
    p = ssh_run(g, DEPLOY, "echo before", password=ALICE_PW, extra=mux)
    assert p.returncode == 0 and p.stdout == "before\n", p.stderr

    def master_alive():
        return subprocess.run(ssh_args(g, DEPLOY, extra=mux + ("-O", "check")),
                              capture_output=True, timeout=20).returncode == 0
    try:
        assert master_alive()
        g.cli("user", "lock", "alice")
        assert wait_for(lambda: not master_alive(), timeout=20, step=0.5), \
            "the shared connection outlived the lock"
        ev = [e for e in g.events("login") if e["method"] == "connection"]
        assert ev and ev[-1]["result"] == "failure" and ev[-1]["reason"] == "locked", ev
    finally:
        subprocess.run(ssh_args(g, DEPLOY, extra=mux + ("-O", "exit")), capture_output=True,
                       timeout=20)


def test_remote_forward_connections_ask_the_gate(authz, echo):
    """A -R listener on the asset outlives the permission that allowed it:
    every connection made there later is a new channel to the user and asks
    the gate again (forward as the login's account, at the listen port).
    Here the permission is disabled between two connections: the second is
    refused and audited. Before the fix src/ssh/rfwd.c relayed every
    connection to a listener without asking (the second got its echo)."""
    g = authz
    port = free_port()
    flag = tempfile.mktemp(prefix="gh-rfwd-flag-", dir="/tmp")
    probe = ("python3 -c \"import socket,sys; "
             f"s=socket.create_connection(('127.0.0.1',{port}),10); s.settimeout(20); "
             "s.sendall(sys.argv[1].encode()); s.shutdown(socket.SHUT_WR); "
             "print('got=' + b''.join(iter(lambda: s.recv(100), b'')).decode())\"")
    command = (f"{probe} first; for i in $(seq 600); do [ -e {flag} ] && break; sleep 0.1; "
               f"done; {probe} second")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=ALICE_PW, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    argv = ssh_args(g, DEPLOY, command, extra=("-o", "ExitOnForwardFailure=yes", "-R",
                                                f"127.0.0.1:{port}:127.0.0.1:{echo.port}"))
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        def first_done():
            return any(e["method"] == "tcpip-forward" for e in _tunnel_events(g, "end"))
        assert wait_for(first_done, timeout=30), (g.events("tunnel"), p.poll())
        g.cli("perm", "disable", "p-deploy")
        open(flag, "w").close()
        out, err = p.communicate(timeout=60)
    finally:
        _stop(p)
        if os.path.exists(flag):
            os.unlink(flag)
    assert "got=first" in out, out + err
    assert "got=second" not in out, "a connection to the -R listener after the permission ended"
    deny = [e for e in _tunnel_events(g, "deny") if e["method"] == "tcpip-forward"]
    assert deny and not deny[-1]["reason"].startswith("allowed"), deny


def test_first_session_after_lock_refused(authz):
    """A connection authenticated before `user lock` opens its first session
    after it: refused like any later one (the user is read again for every
    session, the first included), and no menu row is left open. Before the
    fix only later sessions were checked: the locked user got the menu,
    whose row stayed open (the lock had ended "0 live sessions" before it
    existed) until the client left."""
    import paramiko
    g = authz
    t = paramiko.Transport(("127.0.0.1", g.port))
    try:
        t.start_client(timeout=10)
        t.auth_password("alice", ALICE_PW)
        g.cli("user", "lock", "alice")
        ch = t.open_session(timeout=10)
        ch.get_pty(width=100, height=30)
        ch.invoke_shell()
        ch.settimeout(20)
        seen = b""
        while True:
            try:
                d = ch.recv(4096)
            except OSError:
                break
            if not d:
                break
            seen += d
        assert b"web01" not in seen, seen  # no menu for a locked user
        assert b"may not open another session" in seen, seen
    finally:
        t.close()
    assert not [r for r in g.sessions() if not r["ended_at"]], g.sessions()
    ev = [e for e in g.events("login") if e["method"] == "session"]
    assert ev and ev[-1]["result"] == "failure" and ev[-1]["reason"] == "locked", ev
