"""Jumpoints: the administration (tokens: one per node, hashed, 24 h) and the
rule that an asset assigned to a jumpoint is reached only through it (never
directly, even when its address is reachable from Gatehouse)."""
import json
import os
import re
import stat
import subprocess

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, UNIX_DEPLOY, ssh_run, wait_for


def _token(out):
    m = re.search(r"^token: (ghj_[0-9a-f]{64})$", out, re.M)
    assert m, out
    return m.group(1)


def test_add_prints_token_stored_hashed(ghenv):
    g = ghenv
    p = g.cli("jumpoint", "add", "jp1", "--comment", "dc east")
    tok = _token(p.stdout)
    assert f"gatehouse jumpoint run --bastion 127.0.0.1:{g.port} --token {tok}" in p.stdout
    with open(g.db_path(), "rb") as f:
        assert tok.encode() not in f.read()
    with g.db() as c:
        rows = c.execute("SELECT token_hash, token_expires, created_at FROM jumpoint_nodes").fetchall()
    assert len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0][0])
    assert 24 * 3600 - 60 <= rows[0][1] - rows[0][2] <= 24 * 3600
    # not clustered: one node only
    p = g.cli("jumpoint", "token", "jp1", check=None)
    assert p.returncode != 0 and "--clustered" in p.stderr


def test_clustered_ten_nodes_and_list_json(ghenv):
    g = ghenv
    toks = {_token(g.cli("jumpoint", "add", "jpc", "--clustered").stdout)}
    for _ in range(9):
        toks.add(_token(g.cli("jumpoint", "token", "jpc").stdout))
    assert len(toks) == 10
    p = g.cli("jumpoint", "token", "jpc", check=None)
    assert p.returncode != 0 and "(10)" in p.stderr
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    jp = [j for j in lst if j["name"] == "jpc"][0]
    assert jp["clustered"] is True and jp["enabled"] is True and len(jp["nodes"]) == 10
    for n in jp["nodes"]:
        for k in ("host", "version", "connected", "connected_since", "last_seen", "sessions"):
            assert k in n, n
        assert n["connected"] is False
    g.cli("jumpoint", "disable", "jpc")
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    assert [j for j in lst if j["name"] == "jpc"][0]["enabled"] is False
    g.cli("jumpoint", "enable", "jpc")
    g.cli("jumpoint", "del", "jpc")
    assert "jpc" not in g.cli("jumpoint", "list").stdout


def test_asset_behind_jumpoint_never_reached_directly(ghenv):
    """web01's address is reachable from here, but once it is assigned to a
    jumpoint with no node connected, a login fails with that reason instead
    of connecting directly; the jumpoint cannot be deleted while used."""
    g = ghenv
    g.cli("jumpoint", "add", "jp2")
    g.cli("asset", "set", "web01", "--jumpoint", "jp2")
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=ALICE_PW)
    assert p.returncode != 0
    assert "no jumpoint node connected" in p.stderr
    assert g.cli("jumpoint", "del", "jp2", check=None).returncode != 0
    p = g.cli("asset", "set", "web01", "--gateway", "x", "--jumpoint", "jp2", check=None)
    assert p.returncode != 0
    g.cli("asset", "set", "web01", "--jumpoint", "")
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=ALICE_PW)
    assert p.returncode == 0, p.stderr


# ---- the agent (gatehouse jumpoint run) and the front door's side -------------

pytestmark_protocol = True


def _agent(g, state, *args):
    """A real agent process on loopback, without the bastion's data dir."""
    env = {k: v for k, v in g.env.items() if k != "GATEHOUSE_DATA"}
    return subprocess.Popen([g.bin, "jumpoint", "run", "--state", state, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _stop(p):
    if p.poll() is None:
        p.kill()
    return p.communicate(timeout=20)


def _node(g, name):
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    nodes = [j for j in lst if j["name"] == name][0]["nodes"]
    assert len(nodes) == 1, nodes
    return nodes[0]


def _log(g):
    with open(g.log_path) as f:
        t = f.read()[-3000:]
    return t


def _connected(g, name, want):
    return wait_for(lambda: _node(g, name)["connected"] is want, timeout=30)


def test_agent_registers_reconnects_and_drops(ghenv, tmp_path):
    g = ghenv
    tok = _token(g.cli("jumpoint", "add", "jpa").stdout)
    state = str(tmp_path / "state")
    p = _agent(g, state, "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
    try:
        assert _connected(g, "jpa", True), (_stop(p), _log(g))
        n = _node(g, "jpa")
        assert n["registered"] is True and n["host"] == "127.0.0.1" and n["version"]
        assert n["connected_since"] and n["last_seen"] >= n["connected_since"], n
        assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(os.path.join(state, "key")).st_mode) == 0o600
        for f in os.listdir(state):
            with open(os.path.join(state, f), "rb") as fh:
                assert tok.encode() not in fh.read(), f
        with open(g.log_path, "rb") as fh:
            assert tok.encode() not in fh.read()
        # the token is not left in the agent's command line
        with open(f"/proc/{p.pid}/cmdline", "rb") as fh:
            assert tok.encode() not in fh.read()
    finally:
        p.terminate()
        _stop(p)
    assert _connected(g, "jpa", False)
    # a later run: --state alone, the key logs in; a kill drops the node
    p = _agent(g, state)
    try:
        assert _connected(g, "jpa", True), _stop(p)
    finally:
        p.kill()
        _stop(p)
    assert _connected(g, "jpa", False)


def test_agent_token_used_twice_refused(ghenv, tmp_path):
    g = ghenv
    tok = _token(g.cli("jumpoint", "add", "jpb").stdout)
    p1 = _agent(g, str(tmp_path / "s1"), "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
    try:
        assert _connected(g, "jpb", True), _stop(p1)
        p2 = _agent(g, str(tmp_path / "s2"), "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
        out, err = p2.communicate(timeout=30)
        assert p2.returncode == 1, err
        assert "refused the install token" in err
        assert tok not in err
        assert _node(g, "jpb")["connected"] is True
    finally:
        _stop(p1)


def test_agent_refuses_wrong_bastion_key(ghenv, tmp_path):
    g = ghenv
    tok = _token(g.cli("jumpoint", "add", "jpk").stdout)
    state = str(tmp_path / "state")
    p = _agent(g, state, "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
    try:
        assert _connected(g, "jpk", True), _stop(p)
    finally:
        _stop(p)
    assert _connected(g, "jpk", False)
    pin = os.path.join(state, "bastion_key")
    with open(pin, "w") as f:  # another server's key
        f.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc0aXJ5bXBsZXN0YW5kaW5nZm9yYW5vdGhlcmtl\n")
    p = _agent(g, state)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, err
    assert "not the one pinned" in err
    assert _node(g, "jpk")["connected"] is False


def test_agent_print_unit(ghenv, tmp_path):
    g = ghenv
    state = tmp_path / "st"
    state.mkdir()
    p = subprocess.run([g.bin, "jumpoint", "run", "--state", str(state), "--print-unit"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert f"jumpoint run --state {state}" in p.stdout and "User=" in p.stdout
    assert "[Install]" in p.stdout


def test_agent_reconnects_and_node_gets_no_channel(ghenv, tmp_path):
    """The front door restarts: the agent reconnects by itself (backoff).
    The node's own key logs in as 'jumpoint' but gets no shell, no exec and
    no forward."""
    g = ghenv
    tok = _token(g.cli("jumpoint", "add", "jpr").stdout)
    state = str(tmp_path / "state")
    p = _agent(g, state, "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
    try:
        assert _connected(g, "jpr", True), (_stop(p), _log(g))
        g.stop()
        assert _node(g, "jpr")["connected"] is False
        g.start()
        assert _connected(g, "jpr", True), (_stop(p), _log(g))
        assert p.poll() is None
        key = os.path.join(state, "key")
        # logged in (-v says so), then every channel refused
        r = ssh_run(g, "jumpoint", "echo", "shell-reached", key=key, timeout=30, extra=("-v",))
        assert r.returncode != 0 and "shell-reached" not in r.stdout, r
        assert "Authenticated to" in r.stderr, r.stderr[-2000:]
        r = ssh_run(g, "jumpoint", key=key, timeout=30,
                    extra=("-v", "-W", f"127.0.0.1:{g.target.port}"))
        assert r.returncode != 0 and "Authenticated to" in r.stderr, r.stderr[-2000:]
        assert "open failed" in r.stderr, r.stderr[-2000:]
        # one connection per node: those logins took the node over; the
        # agent's connection ended at its next heartbeat and it came back
        assert _connected(g, "jpr", True), (_stop(p), _log(g))
        assert p.poll() is None
        assert "taken over by a newer connection" in _log(g)
    finally:
        _stop(p)


def test_agent_ends_when_jumpoint_disabled(ghenv, tmp_path):
    """Disabling the jumpoint ends its node's connection at the next
    heartbeat; the agent's key is then refused: status 1, no retry."""
    g = ghenv
    tok = _token(g.cli("jumpoint", "add", "jpd").stdout)
    p = _agent(g, str(tmp_path / "s"), "--bastion", f"127.0.0.1:{g.port}", "--token", tok)
    try:
        assert _connected(g, "jpd", True), (_stop(p), _log(g))
        g.cli("jumpoint", "disable", "jpd")
        out, err = p.communicate(timeout=60)
        assert p.returncode == 1, err
        assert "refused this node's key" in err
        assert _node(g, "jpd")["connected"] is False
    finally:
        _stop(p)


def test_jumpoint_login_name_reserved(ghenv):
    p = ghenv.cli("user", "add", "jumpoint", check=None)
    assert p.returncode != 0 and "reserved" in p.stderr


# ---- through the agent: a remote network Gatehouse cannot route to ----------

import contextlib  # noqa: E402

import pytest  # noqa: E402

from netns import Nets, NsTarget  # noqa: E402
from sshenv import free_port, running_gatehouse, ssh_spawn  # noqa: E402
from test_telnet import tn_user  # noqa: E402,F401 (fixture)


@contextlib.contextmanager
def _remote(gh_bin, tmp_path, nodes=1):
    """A namespace holding a real sshd, joined to this host by one veth
    pair; Gatehouse stays on loopback and a socat on this host's end of the
    pair (the front door's port as a firewall would let it through) carries
    the agent's connection to it. The agent runs inside the namespace."""
    nets = Nets()
    relay = None
    try:
        ns = nets.ns("j")
        near, far = nets.link(None, ns)
        d = tmp_path / "sshd"
        d.mkdir()
        t = NsTarget(str(d))
        t.start_in(nets, ns, far)
        with running_gatehouse(gh_bin, tmp_path, t) as g:
            fport = free_port()
            relay = subprocess.Popen(["socat", f"TCP-LISTEN:{fport},bind={near},reuseaddr,fork",
                                      f"TCP:127.0.0.1:{g.port}"], stderr=subprocess.DEVNULL)
            g.add_user("alice", password=ALICE_PW)
            toks = [_token(g.cli("jumpoint", "add", "jpn",
                                 *(["--clustered"] if nodes > 1 else [])).stdout)]
            toks += [_token(g.cli("jumpoint", "token", "jpn").stdout) for _ in range(nodes - 1)]
            g.cli("asset", "add", "far01", "--address", far, "--jumpoint", "jpn")
            g.add_account("far01", UNIX_DEPLOY)
            g.add_perm("p-far01", "alice", "far01")
            g.nets, g.ns, g.far, g.t = nets, ns, far, t
            env = {k: v for k, v in g.env.items() if k != "GATEHOUSE_DATA"}
            g.agents, g.agent_logs = [], []
            for i, tok in enumerate(toks):
                g.agent_logs.append(str(tmp_path / f"agent{i}.log"))
                with open(g.agent_logs[i], "w") as log:
                    g.agents.append(nets.popen(
                        ns, g.bin, "jumpoint", "run", "--state", str(tmp_path / f"state{i}"),
                        "--bastion", f"{near}:{fport}", "--token", tok, stdout=log, stderr=log,
                        env=env))
            g.agent, g.agent_log = g.agents[0], g.agent_logs[0]
            for lg in g.agent_logs:
                assert wait_for(lambda: "1 destination(s) assigned" in open(lg).read(),
                                timeout=30), (open(lg).read(), _log(g))
            assert _n_connected(g) == nodes
            yield g
            if relay.poll() is None:
                relay.terminate()
                relay.wait(timeout=10)
    finally:
        if relay and relay.poll() is None:
            relay.kill()
            relay.wait(timeout=10)
        nets.close()


def _n_connected(g):
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    return sum(n["connected"] for n in [j for j in lst if j["name"] == "jpn"][0]["nodes"])


@pytest.fixture
def remote(gh_bin, tmp_path):
    with _remote(gh_bin, tmp_path) as g:
        yield g


def test_remote_unreachable_directly(remote):
    p = subprocess.run(["ssh", "-o", "ConnectTimeout=2", "-o", "BatchMode=yes",
                        f"x@{remote.far}", "true"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 255


def test_exec_through_jumpoint(remote):
    g = remote
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@far01", "ip -4 -o addr show", password=ALICE_PW)
    assert p.returncode == 0, p.stderr + _log(g) + open(g.agent_log).read()
    assert g.far in p.stdout  # ran on the host inside the namespace
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@far01", "exit 5", password=ALICE_PW)
    assert p.returncode == 5, p.stderr
    ev = [e for e in g.events("route") if e["result"] == "ok"]
    assert ev and 'path="jumpoint jpn > far01"' in ev[-1]["detail"], ev
    assert g.sessions()[-1]["close_reason"] != "jumpoint node lost"


def test_interactive_through_jumpoint(remote):
    import pexpect
    g = remote
    child = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@far01", password=ALICE_PW, timeout=30)
    child.sendline("echo $((6*7))-marker")
    child.expect("42-marker")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    assert wait_for(lambda: g.sessions()[-1]["ended_at"] > 0)


def test_sftp_through_jumpoint(remote, tmp_path):
    g = remote
    blob = os.urandom(300 * 1024)
    src = tmp_path / "up.bin"
    src.write_bytes(blob)
    a = ["sftp", "-F", "/dev/null", "-P", str(g.port), "-o", "StrictHostKeyChecking=no",
         "-o", f"UserKnownHostsFile={g.known_hosts}", "-o", "BatchMode=no",
         "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
         f"alice@{UNIX_DEPLOY}@far01@127.0.0.1"]
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=ALICE_PW)
    env.pop("SSH_AUTH_SOCK", None)
    p = subprocess.run(a, input=f"put {src} jp-up.bin\nget jp-up.bin {tmp_path}/down.bin\n"
                       "rm jp-up.bin\n", capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr + _log(g)
    assert (tmp_path / "down.bin").read_bytes() == blob


def _ask_node(g, line):
    """A dial request on the node's socket, as a worker (the workers' user)."""
    with g.db() as c:
        node = c.execute("SELECT id FROM jumpoint_nodes").fetchone()[0]
    path = os.path.join(g.data, "run", f"jp-{node}.sock")
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
            "s.sendall(sys.argv[2].encode()+b'\\n')\nprint(s.recv(200).decode())")
    return subprocess.run(["setpriv", "--reuid=gatehouse", "--regid=gatehouse", "--clear-groups",
                           "/usr/bin/python3", "-c", code, path, line],
                          capture_output=True, text=True, timeout=30)


def test_jumpoint_refuses_unassigned(remote):
    g = remote
    p = _ask_node(g, f"{g.far} 80")  # the asset's host, not its port
    assert p.stdout.startswith("E not an asset of this jumpoint"), (p, _log(g))
    p = _ask_node(g, "127.0.0.1 22")
    assert p.stdout.startswith("E not an asset of this jumpoint"), (p, _log(g))
    p = _ask_node(g, f"{g.far} 22")
    assert p.stdout.startswith("O"), (p, _log(g))
    assert "dial to 127.0.0.1:22 refused" in _log(g)
    # root (not the workers' user) is refused by SO_PEERCRED
    with g.db() as c:
        node = c.execute("SELECT id FROM jumpoint_nodes").fetchone()[0]
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(g.data, "run", f"jp-{node}.sock"))
    s.settimeout(10)
    try:
        s.sendall(f"{g.far} 22\n".encode())
        assert s.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    assert "dial request from uid 0 refused" in _log(g)


def test_node_killed_mid_session(remote):
    g = remote
    child = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@far01", password=ALICE_PW, timeout=30)
    child.sendline("echo ready-$((1+1))")
    child.expect("ready-2")
    assert wait_for(lambda: _node(g, "jpn")["sessions"] == 1, timeout=30), _node(g, "jpn")
    g.agent.kill()
    g.agent.wait(timeout=10)
    assert wait_for(lambda: g.sessions()[-1]["ended_at"] > 0, timeout=60), _log(g)
    row = g.sessions()[-1]
    assert row["close_reason"] == "jumpoint node lost", (row, _log(g))
    ev = [e for e in g.events("session") if e["session_id"] == row["id"] and e["result"] == "end"]
    assert len(ev) == 1 and ev[0]["reason"] == "jumpoint node lost", ev
    rec = [e for e in g.events() if e["session_id"] == row["id"] and e["kind"] == "recording"]
    assert rec, g.events()
    child.close()
    assert _connected(g, "jpn", False)
    assert _node(g, "jpn")["sessions"] == 0
    # the next login: no node, a clear refusal
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@far01", "true", password=ALICE_PW)
    assert p.returncode != 0 and "no jumpoint node connected" in p.stderr, p.stderr


def test_cluster_node_killed_next_login_uses_other(gh_bin, tmp_path):
    """Two nodes of a clustered jumpoint: one killed mid-session. A session
    it carried ends with `jumpoint node lost` (one it did not carry goes on);
    the next logins go through the other node."""
    import pexpect
    with _remote(gh_bin, tmp_path, nodes=2) as g:
        kids = []
        for i in range(4):  # random picks: most likely both nodes carry one
            c = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@far01", password=ALICE_PW, timeout=30)
            c.sendline(f"echo up-$((40+{i}))")
            c.expect(f"up-{40 + i}")
            kids.append(c)
        g.agents[0].kill()
        g.agents[0].wait(timeout=10)
        assert wait_for(lambda: _n_connected(g) == 1, timeout=30)
        ended = 0
        for c in kids:  # each either still works or was ended
            c.sendline("echo still-$((2*21))")
            i = c.expect(["still-42", pexpect.EOF], timeout=30)
            ended += i == 1
            if i == 0:
                c.sendline("exit")
                c.expect(pexpect.EOF)
        assert wait_for(lambda: all(r["ended_at"] > 0 for r in g.sessions()), timeout=30)
        reasons = [r["close_reason"] for r in g.sessions()]
        assert set(reasons) <= {"jumpoint node lost", "exit", "closed", "ended",
                                "user disconnected", "target closed the channel"}, reasons
        lost = [r for r in g.sessions() if r["close_reason"] == "jumpoint node lost"]
        assert len(lost) == ended, (reasons, ended)  # exactly those the lost node carried
        for r in lost:
            ev = [e for e in g.events("session") if e["session_id"] == r["id"] and
                  e["result"] == "end"]
            assert len(ev) == 1 and ev[0]["reason"] == "jumpoint node lost", ev
        for _ in range(3):
            p = ssh_run(g, f"alice@{UNIX_DEPLOY}@far01", "echo via-other", password=ALICE_PW)
            assert p.returncode == 0 and "via-other" in p.stdout, p.stderr + _log(g)


def test_telnet_through_jumpoint(remote, tn_user, tmp_path):
    """A telnet server inside the namespace (inetutils telnetd under the
    telnet tests' small inetd, on the far address): assigned to the
    jumpoint after the node connected, so the node gets the new list right
    before the connection; the login prompts are answered through it."""
    import pexpect
    from test_telnet import INETD, TN_PASSWORD, TN_PROMPT_RE
    g = remote
    pidfile = str(tmp_path / "tn.pids")
    inetd = INETD.replace('s.bind(("127.0.0.1", port))', 's.bind((sys.argv[3], port))')
    assert inetd != INETD
    g.nets.popen(g.ns, "/usr/bin/python3", "-c", inetd, "23", pidfile, g.far,
                 start_new_session=True)
    probe = f"import socket; socket.create_connection(('{g.far}', 23), timeout=1).close()"
    assert wait_for(lambda: g.nets.run(g.ns, "/usr/bin/python3", "-c", probe,
                                       capture_output=True).returncode == 0, timeout=10)
    g.cli("asset", "add", "tn09", "--address", g.far, "--port", "23", "--protocols", "telnet",
          "--jumpoint", "jpn")
    g.cli("account", "add", "tn09", tn_user, "--password-stdin", stdin=TN_PASSWORD + "\n")
    g.cli("perm", "add", "p-tn09", "--user", "alice", "--asset", "tn09", "--protocols", "telnet")
    c = ssh_spawn(g, f"alice@{tn_user}@tn09", password=ALICE_PW, timeout=30)
    c.expect(TN_PROMPT_RE)
    c.sendline("echo tn-$((40+2)) $SSH_CONNECTION")
    c.expect("tn-42")
    c.expect(TN_PROMPT_RE)
    c.sendline("exit")
    c.expect(pexpect.EOF)
    assert "2 destination(s) assigned" in open(g.agent_log).read()
    ev = [e for e in g.events("route") if e["result"] == "ok"]
    assert ev and 'path="jumpoint jpn > tn09"' in ev[-1]["detail"], ev
