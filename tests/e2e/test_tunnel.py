"""TCP tunnels (`ssh -L`) through Gatehouse to a loopback echo server started
here: allowed with the forward action only, audited with bytes and duration,
limited per connection; -R, agent and X11 forwarding refused."""
import os
import re
import signal
import socket
import subprocess
import threading

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True


class EchoServer:
    """A threaded TCP echo server on loopback (stopped by the fixture)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = []
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        c.settimeout(60)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopping = True
        self.t.join(timeout=5)
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def echo():
    e = EchoServer()
    yield e
    e.stop()


class Forward:
    """`ssh -N -L LPORT:HOST:PORT alice@gatehouse` in the background."""

    def __init__(self, g, spec, extra=(), login="alice", argv=None):
        self.lport = free_port()
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
                   DISPLAY=env.get("DISPLAY", ":0"))
        a = argv or ssh_args(g, login, extra=("-N", "-L", f"127.0.0.1:{self.lport}:{spec}", *extra))
        if argv:
            a = [*argv[:-1], "-N", "-L", f"127.0.0.1:{self.lport}:{spec}", argv[-1]]
        self.proc = subprocess.Popen(a, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        assert wait_for(lambda: self._listening() or self.proc.poll() is not None, timeout=20)
        assert self.proc.poll() is None, self.proc.stderr.read()

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.lport), timeout=0.5):
                return True
        except OSError:
            return False

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.lport), timeout=20)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _echo_roundtrip(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got


def _assert_refused(f):
    """A connection to the forward's local port is closed without an echo:
    the channel open was refused."""
    with f.connect() as s:
        s.settimeout(20)
        try:
            s.sendall(b"hello")
            got = s.recv(100)
        except OSError:
            got = b""
    assert got == b""


def _tunnel_events(g, result=None):
    return [e for e in g.events("tunnel") if result is None or e["result"] == result]


def _detail(e):
    return dict(re.findall(r"(\w+)=(\S+)", e["detail"] or ""))


def test_local_forward_with_forward_action(ghenv, echo):
    g = ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    f = Forward(g, f"web01:{echo.port}")
    try:
        # the probe connection of Forward() is already one tunnel; now real data
        data = os.urandom(300000)
        with f.connect() as s:
            assert _echo_roundtrip(s, data) == data
        assert wait_for(lambda: any(_detail(e).get("bytes_in") == str(len(data))
                                    for e in _tunnel_events(g, "end")), timeout=20), \
            _tunnel_events(g)
    finally:
        f.stop()
    allow = _tunnel_events(g, "allow")
    assert allow and allow[-1]["asset_name"] == "web01" and allow[-1]["method"] == "direct-tcpip"
    assert "p-fwd" in allow[-1]["reason"]
    end = [e for e in _tunnel_events(g, "end") if _detail(e).get("bytes_in") == str(len(data))][0]
    d = _detail(end)
    assert d["bytes_out"] == str(len(data)) and d["host"] == "web01"
    assert d["port"] == str(echo.port) and int(d["duration_ms"]) >= 0
    assert end["user_name"] == "alice"


def test_local_forward_refused_without_forward(ghenv, echo):
    g = ghenv  # p-alice-web01 has the default actions: no forward
    f = Forward(g, f"web01:{echo.port}")
    try:
        _assert_refused(f)
    finally:
        f.stop()
    deny = _tunnel_events(g, "deny")
    assert deny and deny[-1]["asset_name"] == "web01"
    assert "does not grant action forward" in deny[-1]["reason"], deny[-1]
    assert not _tunnel_events(g, "allow")


def test_tunnel_limit_per_connection(ghenv, echo):
    """max_tunnel_connections (default 256) forwarded channels at once: the
    257th is refused and logged, the others keep working."""
    g = ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    f = Forward(g, f"web01:{echo.port}")
    socks = []
    try:
        # wait until the probe connection of Forward() has ended
        assert wait_for(lambda: len(_tunnel_events(g, "end")) >= 1, timeout=20)
        for i in range(256):
            s = f.connect()
            socks.append(s)
            assert _echo_roundtrip(s, b"x%03d" % i) == b"x%03d" % i, i
        _assert_refused(f)
        # the first ones still work
        assert _echo_roundtrip(socks[0], b"still") == b"still"
    finally:
        for s in socks:
            s.close()
        f.stop()
    deny = [e for e in _tunnel_events(g, "deny") if "max_tunnel_connections" in e["reason"]]
    assert len(deny) == 1, _tunnel_events(g, "deny")
    assert len(_tunnel_events(g, "allow")) == 257  # the probe and 256


def test_remote_forward_refused(ghenv, echo):
    g = ghenv
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    p = ssh_run(g, "alice", password=ALICE_PW, timeout=30,
                extra=("-N", "-o", "ExitOnForwardFailure=yes", "-R",
                       f"127.0.0.1:{free_port()}:127.0.0.1:{echo.port}"))
    assert p.returncode == 255
    assert "remote port forwarding failed" in p.stderr, p.stderr
    deny = [e for e in _tunnel_events(g, "deny") if e["method"] == "tcpip-forward"]
    assert deny and "allow_remote_forward" in deny[-1]["reason"]


def test_agent_and_x11_refused_by_default(ghenv, tmp_path):
    g = ghenv
    sock = str(tmp_path / "agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: os.path.exists(sock), timeout=10)
        env = dict(os.environ)
        env.update(SSH_AUTH_SOCK=sock, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
                   GH_TEST_PASSWORD=ALICE_PW, DISPLAY=":0")
        a = ssh_args(g, f"alice@{UNIX_DEPLOY}@web01",
                     "echo agent=${SSH_AUTH_SOCK:-none} display=${DISPLAY:-none}",
                     extra=("-o", "ForwardAgent=yes", "-o", "ForwardX11=yes",
                            "-o", "ForwardX11Trusted=yes"))
        a = [f"IdentityAgent={sock}" if x == "IdentityAgent=none" else x for x in a]
        p = subprocess.run(a, env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    assert p.returncode == 0, p.stderr
    assert "agent=none display=none" in p.stdout
    methods = {e["method"]: e for e in _tunnel_events(g, "deny")}
    assert "allow_agent_forwarding" in methods["agent"]["reason"]
    assert "allow_x11_forwarding" in methods["x11"]["reason"]


def test_forward_limited_to_listed_ports(ghenv, echo):
    g = ghenv
    other = echo.port + 1 if echo.port < 65535 else echo.port - 1
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward", "--ports", f"{other},22")
    assert f"22,{other}" in g.cli("perm", "show", "p-fwd").stdout
    f = Forward(g, f"web01:{echo.port}")
    try:
        _assert_refused(f)
    finally:
        f.stop()
    deny = _tunnel_events(g, "deny")
    assert deny and f"does not list port {echo.port}" in deny[-1]["reason"], deny
    g.cli("perm", "add", "p-fwd2", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward", "--ports", str(echo.port))
    f = Forward(g, f"web01:{echo.port}")
    try:
        with f.connect() as s:
            assert _echo_roundtrip(s, b"ok-port") == b"ok-port"
    finally:
        f.stop()
    assert "p-fwd2" in _tunnel_events(g, "allow")[-1]["reason"]
    p = g.cli("perm", "add", "p-bad", "--user", "alice", "--asset", "web01", "--ports", "0,70000",
              check=2)
    assert "--ports" in p.stderr


def test_forward_from_the_target(ghenv, echo, tmp_path):
    """On a session with a target (direct login or ProxyJump), a host that
    names no asset is connected to from the target, as OpenSSH's -L would
    (what VS Code Remote-SSH does)."""
    g = ghenv
    login = f"alice@{UNIX_DEPLOY}@web01"
    assert ssh_run(g, login, "true", password=ALICE_PW).returncode == 0  # pins the host key
    f = Forward(g, f"localhost:{echo.port}", login=login)
    try:
        _assert_refused(f)
    finally:
        f.stop()
    deny = _tunnel_events(g, "deny")
    assert deny and "does not grant action forward" in deny[-1]["reason"]
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    f = Forward(g, f"localhost:{echo.port}", login=login)
    try:
        with f.connect() as s:
            data = os.urandom(200000)
            assert _echo_roundtrip(s, data) == data
    finally:
        f.stop()
    allow = _tunnel_events(g, "allow")
    assert "connected from web01" in allow[-1]["reason"]
    assert wait_for(lambda: any(_detail(e).get("bytes_in") == "200000"
                                for e in _tunnel_events(g, "end")), timeout=20)
    # the same behind ProxyJump
    from test_jump import _setup
    cfg, _ = _setup(g, tmp_path)
    f = Forward(g, f"localhost:{echo.port}", argv=["ssh", "-F", cfg, "web01"])
    try:
        with f.connect() as s:
            assert _echo_roundtrip(s, b"via-jump") == b"via-jump"
    finally:
        f.stop()
