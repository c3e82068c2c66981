"""The listener: algorithms, pre-auth limits, login grace, SIGHUP reload,
SIGTERM with live sessions."""
import os
import signal
import socket
import subprocess
import time

import pexpect

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, PROMPT_RE, port_open, ssh_run, ssh_spawn, wait_for

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def test_host_keys_created_private(gatehouse):
    for name in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        st = os.stat(os.path.join(gatehouse.data, name))
        assert st.st_mode & 0o777 == 0o600
    out = subprocess.run(["ssh-keygen", "-l", "-f",
                          os.path.join(gatehouse.data, "ssh_host_rsa_key")],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("3072 ")


def test_algorithms(ghenv):
    g = ghenv
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw, extra=("-vvv",))
    assert p.returncode == 0
    assert "kex: algorithm: curve25519-sha256" in p.stderr
    assert "strict KEX" in p.stderr, "no strict key exchange (Terrapin)"
    ok = [("-o", "HostKeyAlgorithms=rsa-sha2-256"), ("-o", "HostKeyAlgorithms=rsa-sha2-512"),
          ("-o", "Ciphers=aes128-gcm@openssh.com"),
          ("-o", "Ciphers=aes256-ctr", "-o", "MACs=hmac-sha2-512-etm@openssh.com")]
    bad = [("-o", "KexAlgorithms=diffie-hellman-group14-sha256"),
           ("-o", "KexAlgorithms=ecdh-sha2-nistp256"),
           ("-o", "HostKeyAlgorithms=ssh-rsa"),
           ("-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256"),
           ("-o", "Ciphers=aes128-cbc"),
           ("-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256"),
           ("-o", "MACs=hmac-sha1-etm@openssh.com", "-o", "Ciphers=aes128-ctr")]
    for extra in ok:
        if os.path.exists(g.known_hosts):  # the RSA key is another key for the same host
            os.unlink(g.known_hosts)
        p = ssh_run(g, DIRECT, "true", password=g.alice_pw, extra=extra)
        assert p.returncode == 0, (extra, p.stderr)
    for extra in bad:
        p = ssh_run(g, DIRECT, "true", password=g.alice_pw, extra=extra)
        assert p.returncode == 255, (extra, p.stderr)
    assert not [e for e in g.events("login") if e["result"] == "failure"]
    assert len(g.sessions()) == len(ok) + 1


def _hold_unauth(g, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        s.recv(100)  # banner: the worker is up
        socks.append(s)
    return socks


def _closed_at_once(g):
    s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    s.settimeout(5)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True
    finally:
        s.close()


def test_max_startups_and_auth_frees_the_slot(ghenv):
    g = ghenv
    g.write_conf("max_startups = 3\nper_source_max_startups = 3\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "config: max_startups 64 -> 3" in g.read_log(), timeout=10)
    socks = _hold_unauth(g, 2)
    try:
        # an authenticated session does not count as a startup
        c = ssh_spawn(g, DIRECT, password=g.alice_pw)
        c.expect(PROMPT_RE)
        socks += _hold_unauth(g, 1)
        assert _closed_at_once(g)
        socks.pop().close()
        assert wait_for(lambda: not _closed_at_once(g), timeout=10)
        c.sendline("exit")
        c.expect(pexpect.EOF)
        c.close()
    finally:
        for s in socks:
            s.close()
    assert "max_startups reached" in g.read_log()


def test_per_source_limit(ghenv):
    g = ghenv
    g.write_conf("per_source_max_startups = 2\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "per_source_max_startups 10 -> 2" in g.read_log(), timeout=10)
    socks = _hold_unauth(g, 2)
    try:
        assert _closed_at_once(g)
    finally:
        for s in socks:
            s.close()
    assert "per_source_max_startups reached" in g.read_log()


def test_login_grace_time(gatehouse):
    g = gatehouse
    g.stop()
    g.write_conf("login_grace_time = 1\n")
    g.start()
    s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    s.recv(100)
    s.settimeout(10)
    t0 = time.time()
    while s.recv(100):
        pass
    assert time.time() - t0 < 5
    s.close()


def test_sighup_bad_config_keeps_old(ghenv):
    g = ghenv
    g.write_conf("max_auth_tries = banana\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration not reloaded" in g.read_log(), timeout=10)
    p = ssh_run(g, DIRECT, "echo alive", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "alive\n"
    g.write_conf("")


def test_sigterm_lets_sessions_finish_then_ends_them(ghenv):
    g = ghenv
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    g.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "stopping:" in g.read_log(), timeout=10)  # listeners closed
    # no new connections, the live session still works
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw, extra=("-o", "ConnectTimeout=3"))
    assert p.returncode == 255
    c.sendline("echo still-$((1+1))")
    c.expect("still-2")
    # shutdown_grace = 5 in the test config: then the session is ended
    c.expect(pexpect.EOF, timeout=20)
    c.close()
    assert g.proc.wait(timeout=20) == 0
    rows = g.sessions()
    assert rows and all(r["ended_at"] for r in rows)
    assert rows[-1]["close_reason"] == "server shutdown"


def test_sighup_rereads_the_config_named_by_option(gh_bin, tmp_path, target):
    """serve --config FILE: SIGHUP re-reads FILE (not DATA/gatehouse.conf)."""
    from sshenv import Gatehouse
    g = Gatehouse(gh_bin, str(tmp_path), target)
    conf = tmp_path / "elsewhere.conf"
    os.rename(os.path.join(g.data, "gatehouse.conf"), conf)
    g.log = open(g.log_path, "a")
    g.proc = subprocess.Popen([g.bin, "--data", g.data, "--config", str(conf), "serve"],
                              stdout=g.log, stderr=g.log, env=g.env)
    try:
        assert wait_for(lambda: port_open(g.port), timeout=30), g.read_log()
        with open(conf, "a") as f:
            f.write("max_auth_tries = banana\n")
        g.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "configuration not reloaded" in g.read_log(), timeout=10)
        assert f"{conf}:" in g.read_log()
    finally:
        assert g.stop() == 0


def test_max_sessions(ghenv):
    g = ghenv
    g.write_conf("max_sessions = 1\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "max_sessions 1000 -> 1" in g.read_log(), timeout=10)
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    try:
        assert wait_for(lambda: _closed_at_once(g), timeout=10)
        assert "max_sessions reached" in g.read_log()
    finally:
        c.sendline("exit")
        c.expect(pexpect.EOF)
        c.close()
    # the slot is free again
    assert wait_for(lambda: not _closed_at_once(g), timeout=10)


def test_idle_timeout_ends_the_session(ghenv):
    g = ghenv
    g.write_conf("idle_timeout = 2\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "idle_timeout 0 -> 2" in g.read_log(), timeout=10)
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    t0 = time.time()
    c.expect("idle timeout", timeout=15)
    c.expect(pexpect.EOF, timeout=10)
    c.close()
    assert 1.5 < time.time() - t0 < 12
    assert wait_for(lambda: any(r["close_reason"] == "idle timeout" and r["ended_at"]
                                for r in g.sessions()), timeout=10), g.sessions()
