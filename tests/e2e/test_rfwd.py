"""Remote forwards (`ssh -R`) through Gatehouse: with allow_remote_forward
= yes and the forward action on the asset, the target listens and every
connection there comes back to the user's side (here: an echo server the
test runs), audited; refused otherwise."""
import os
import re
import socket

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, PROMPT_RE, running_gatehouse, setup_ghenv, ssh_args
from test_tunnel import echo  # noqa: F401 (fixture)

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


@pytest.fixture
def rfwd_ghenv(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target, "allow_remote_forward = yes\n") as g:
        yield setup_ghenv(g, target)


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
    assert wait_for(lambda: [x for x in g.sessions()
                             if x["asset_name"] == "web01" and x["ended_at"]], timeout=15), \
        g.sessions()


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


def test_remote_forward_connections_limited(gh_bin, tmp_path, target, echo):
    """-R connections count against max_tunnel_connections: with 1, a second
    connection while the first is open is refused and audited."""
    g = Gatehouse(gh_bin, str(tmp_path), target,
                  extra_conf="allow_remote_forward = yes\nmax_tunnel_connections = 1\n")
    g.start()
    try:
        setup_ghenv(g, target)
        g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
              "connect,forward")
        port = free_port()
        script = f"""
import socket
a = socket.create_connection(("127.0.0.1", {port}), 10)
a.settimeout(20)
a.sendall(b"first")
print("first=" + a.recv(100).decode())
b = socket.create_connection(("127.0.0.1", {port}), 10)
b.settimeout(20)
try:
    b.sendall(b"second")
    print("second=" + (b.recv(100).decode() or "closed"))
except OSError as e:
    print("second=error")
a.close()
"""
        p = ssh_run(g, DIRECT, "python3 -", password=ALICE_PW, timeout=60, input=script,
                    extra=("-o", "ExitOnForwardFailure=yes",
                           "-R", f"127.0.0.1:{port}:127.0.0.1:{echo.port}"))
        assert p.returncode == 0, p.stdout + p.stderr
        assert "first=first" in p.stdout, p.stdout
        assert "second=closed" in p.stdout or "second=error" in p.stdout, p.stdout
        deny = _events(g, "deny")
        assert deny and "max_tunnel_connections" in deny[-1]["reason"], deny
    finally:
        assert g.stop() == 0, g.read_log()


def test_remote_forward_cancelled(rfwd_ghenv, echo):
    """~C -KR: cancel-tcpip-forward removes the asset's listener."""
    import pexpect
    g = rfwd_ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    port = free_port()
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env["TERM"] = "xterm"
    a = ssh_args(g, DIRECT, tty=True,
                 extra=("-o", "EnableEscapeCommandline=yes", "-o", "ExitOnForwardFailure=yes",
                        "-R", f"127.0.0.1:{port}:127.0.0.1:{echo.port}"))
    c = pexpect.spawn(a[0], a[1:], env=env, timeout=30, encoding="utf-8",
                      codec_errors="replace")
    try:
        c.expect("[Pp]assword:")
        c.sendline(ALICE_PW)
        c.expect(PROMPT_RE)
        c.sendline(f"python3 - <<'EOF'\n"
                   f"import socket\ntry:\n    s = socket.create_connection(('127.0.0.1', {port}), 5)\n"
                   f"    s.settimeout(10); s.sendall(b'x'); print('probe=' + s.recv(10).decode() + '!')\n"
                   f"except OSError:\n    print('probe=' + 'refused!')\nEOF")
        c.expect("probe=x!")
        c.expect(PROMPT_RE)
        c.send("\r~C")
        c.expect("ssh>")
        c.sendline(f"-KR 127.0.0.1:{port}")
        c.expect(PROMPT_RE)
        assert wait_for(lambda: not port_open_on(port), timeout=15), g.read_log()
        assert "remote forward 127.0.0.1:%d cancelled" % port in g.read_log()
        c.sendline("exit")
        c.expect(pexpect.EOF, timeout=20)
    finally:
        c.close(force=True)


def port_open_on(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
