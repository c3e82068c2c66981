"""Remote forwards (`ssh -R`) through Gatehouse: with allow_remote_forward
= yes and the forward action on the asset, the target listens and every
connection there comes back to the user's side (here: an echo server the
test runs), audited; refused otherwise."""
import re

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, Gatehouse, setup_ghenv
from test_tunnel import echo  # noqa: F401 (fixture)

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


@pytest.fixture
def rfwd_ghenv(gh_bin, tmp_path, target):
    g = Gatehouse(gh_bin, str(tmp_path), target, extra_conf="allow_remote_forward = yes\n")
    g.start()
    yield setup_ghenv(g, target)
    rc = g.stop()
    assert rc == 0, f"serve exited {rc}\n{g.read_log()}"


def _client(port, payload):
    """A command for the target: connect to PORT on its loopback, send
    PAYLOAD, print what comes back."""
    return ("python3 -c \"import socket; "
            f"s=socket.create_connection(('127.0.0.1',{port}),10); s.settimeout(20); "
            f"s.sendall(b'{payload}'); s.shutdown(socket.SHUT_WR); "
            "print('got=' + b''.join(iter(lambda: s.recv(100), b'')).decode())\"")


def _rfwd(g, port, echo_port, command, login=DIRECT):
    return ssh_run(g, login, command, password=ALICE_PW, timeout=60,
                   extra=("-o", "ExitOnForwardFailure=yes",
                          "-R", f"127.0.0.1:{port}:127.0.0.1:{echo_port}"))


def _events(g, result):
    return [e for e in g.events("tunnel") if e["method"] == "tcpip-forward"
            and e["result"] == result]


def test_remote_forward_relayed(rfwd_ghenv, echo):
    g = rfwd_ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    port = free_port()
    p = _rfwd(g, port, echo.port, _client(port, "ping-rfwd") + "; " + _client(port, "second"))
    assert p.returncode == 0, p.stderr
    assert "got=ping-rfwd" in p.stdout, p.stdout + p.stderr
    assert "got=second" in p.stdout, p.stdout + p.stderr
    allow = _events(g, "allow")
    assert allow and allow[-1]["asset_name"] == "web01", allow
    assert f"port={port}" in allow[-1]["detail"]
    assert wait_for(lambda: len(_events(g, "end")) >= 2, timeout=15), g.events("tunnel")
    for end in _events(g, "end"):
        assert end["asset_name"] == "web01"
        assert re.search(r"bytes_in=[1-9]", end["detail"]), end["detail"]
        assert re.search(r"bytes_out=[1-9]", end["detail"]), end["detail"]
        assert "duration_ms=" in end["detail"]
    # the session itself is a normal recorded session
    s = [x for x in g.sessions() if x["asset_name"] == "web01"]
    assert s and s[-1]["ended_at"]


def test_remote_forward_refused_without_forward(rfwd_ghenv, echo):
    g = rfwd_ghenv  # p-alice-web01 has the default actions: no forward
    port = free_port()
    p = _rfwd(g, port, echo.port, "echo should-not-run")
    assert p.returncode == 255, p.stdout + p.stderr
    assert "remote port forwarding failed" in p.stderr, p.stderr
    deny = _events(g, "deny")
    assert deny and "does not grant action forward" in deny[-1]["reason"], deny
    assert not _events(g, "allow")


def test_remote_forward_port_not_listed(rfwd_ghenv, echo):
    g = rfwd_ghenv
    port, other = free_port(), free_port()
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward", "--ports", str(other))
    p = _rfwd(g, port, echo.port, "echo should-not-run")
    assert p.returncode == 255, p.stdout + p.stderr
    assert _events(g, "deny") and not _events(g, "allow")


def test_remote_forward_refused_when_disabled(ghenv, echo):
    g = ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    port = free_port()
    p = _rfwd(g, port, echo.port, "echo should-not-run")
    assert p.returncode == 255, p.stdout + p.stderr
    assert "remote port forwarding failed" in p.stderr, p.stderr
    deny = _events(g, "deny")
    assert deny and "allow_remote_forward = no" in deny[-1]["reason"], deny


def test_remote_forward_through_a_jump(rfwd_ghenv, echo, tmp_path):
    """`ssh -J gh -R ...`: the -R request comes on the inner (recorded)
    login, whose asset listens."""
    from test_jump import _setup, _ssh
    g = rfwd_ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    cfg, _ = _setup(g, tmp_path)
    port = free_port()
    p = _ssh(g, cfg, "web01", _client(port, "via-jump"),
             extra=("-o", "ExitOnForwardFailure=yes",
                    "-R", f"127.0.0.1:{port}:127.0.0.1:{echo.port}"))
    assert p.returncode == 0, p.stderr
    assert "got=via-jump" in p.stdout, p.stdout + p.stderr
    assert wait_for(lambda: _events(g, "end"), timeout=15), g.events("tunnel")
    assert re.search(r"bytes_out=[1-9]", _events(g, "end")[-1]["detail"])
