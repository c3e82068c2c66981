"""X11 forwarding (`ssh -Y`) through Gatehouse with allow_x11_forwarding =
yes: the target (an sshd with X11Forwarding yes and xauth) gets the user's
X11 request, and an X11 client there reaches a fake X server the test runs
on the user's side (a TCP listener DISPLAY points at). Audited; refused
when the setting is off."""
import os
import re
import socket
import struct
import subprocess
import threading

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, UNIX_DEPLOY, Gatehouse, free_port, port_open, setup_ghenv, ssh_args, wait_for

# runs on the target: an X11 connection set-up with the cookie xauth holds
# for $DISPLAY, then whatever the X server answers
X_CLIENT = r"""
import os, socket, struct, subprocess, sys

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True
disp = os.environ.get("DISPLAY", "")
print("display=" + (disp or "none"))
if not disp:
    sys.exit(3)
host, num = disp.rsplit(":", 1)
num = int(num.split(".")[0])
line = subprocess.run(["xauth", "list", disp], capture_output=True, text=True).stdout.split()
name, data = line[-2].encode(), bytes.fromhex(line[-1])
pad = lambda b: b + b"\0" * (-len(b) % 4)
s = socket.create_connection((host or "127.0.0.1", 6000 + num), 10)
s.settimeout(20)
s.sendall(b"l\0" + struct.pack("<HHHH", 11, 0, len(name), len(data)) + b"\0\0" + pad(name) + pad(data))
got = b""
while True:
    d = s.recv(100)
    if not d:
        break
    got += d
print("got=" + got.decode())
"""


class FakeX:
    """A TCP listener on 127.0.0.1:6000+N: reads an X11 set-up request,
    answers FAKE-X-OK and closes."""

    def __init__(self):
        self.sock = None
        for n in range(60, 100):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", 6000 + n))
            except OSError:
                s.close()
                continue
            self.sock, self.display = s, n
            break
        assert self.sock, "no free X display port"
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.setups = []
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with c:
                c.settimeout(20)
                try:
                    head = self._read(c, 12)
                    n, d = struct.unpack("<HH", head[6:10])
                    self._read(c, n + (-n % 4) + d + (-d % 4))
                    self.setups.append(head)
                    c.sendall(b"FAKE-X-OK")
                except OSError:
                    pass

    @staticmethod
    def _read(c, n):
        b = b""
        while len(b) < n:
            d = c.recv(n - len(b))
            if not d:
                raise OSError("short")
            b += d
        return b

    def stop(self):
        self.stopping = True
        self.t.join(timeout=5)
        self.sock.close()


@pytest.fixture
def fake_x():
    x = FakeX()
    yield x
    x.stop()


@pytest.fixture
def x11_sshd(target, tmp_path):
    """An sshd like the target's, with X11 forwarding on."""
    port = free_port()
    cfg = tmp_path / "sshd_x11_config"
    lines = [f"Port {port}" if ln.startswith("Port ") else
             f"PidFile {tmp_path}/sshd_x11.pid" if ln.startswith("PidFile ") else ln
             for ln in open(os.path.join(target.dir, "sshd_config")).read().splitlines()]
    lines += ["X11Forwarding yes", "X11UseLocalhost yes", "X11DisplayOffset 20",
              "XAuthLocation /usr/bin/xauth"]
    cfg.write_text("\n".join(lines) + "\n")
    log = open(tmp_path / "sshd_x11.log", "a")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], stdout=log,
                            stderr=log)
    try:
        assert wait_for(lambda: port_open(port), timeout=10)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _ghenv(gh_bin, tmp_path, target, x11_sshd, conf):
    g = Gatehouse(gh_bin, str(tmp_path), target, extra_conf=conf)
    g.start()
    setup_ghenv(g, target)
    g.add_asset("webx", port=x11_sshd)
    g.add_account("webx", UNIX_DEPLOY)
    g.add_perm("p-webx", "alice", "webx")
    return g


def _ssh_x(g, fake_x):
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=f"127.0.0.1:{fake_x.display}", XAUTHORITY="/nonexistent")
    a = ssh_args(g, f"alice@{UNIX_DEPLOY}@webx", "python3 -", extra=("-Y",))
    return subprocess.run(a, env=env, input=X_CLIENT, capture_output=True, text=True,
                          timeout=60, start_new_session=True)


def _events(g, result):
    return [e for e in g.events("tunnel") if e["method"] == "x11" and e["result"] == result]


def test_x11_relayed(gh_bin, tmp_path, target, x11_sshd, fake_x):
    g = _ghenv(gh_bin, tmp_path, target, x11_sshd, "allow_x11_forwarding = yes\n")
    try:
        p = _ssh_x(g, fake_x)
        assert p.returncode == 0, p.stdout + p.stderr + g.read_log()
        assert "got=FAKE-X-OK" in p.stdout, p.stdout + p.stderr
        assert fake_x.setups and fake_x.setups[0][:4] == b"l\0\x0b\0"
        assert _events(g, "allow")
        assert wait_for(lambda: _events(g, "end"), timeout=15), g.events("tunnel")
        end = _events(g, "end")[-1]
        assert end["asset_name"] == "webx"
        assert re.search(r"bytes_in=[1-9]", end["detail"]), end["detail"]
        assert re.search(r"bytes_out=[1-9]", end["detail"]), end["detail"]
    finally:
        assert g.stop() == 0, g.read_log()


def test_x11_refused_when_disabled(gh_bin, tmp_path, target, x11_sshd, fake_x):
    g = _ghenv(gh_bin, tmp_path, target, x11_sshd, "")
    try:
        p = _ssh_x(g, fake_x)
        assert "display=none" in p.stdout, p.stdout + p.stderr
        assert not fake_x.setups
        deny = _events(g, "deny")
        assert deny and "allow_x11_forwarding = no" in deny[-1]["reason"], deny
    finally:
        assert g.stop() == 0, g.read_log()
