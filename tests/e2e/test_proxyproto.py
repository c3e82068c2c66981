"""proxy_protocol = yes: the SSH front door behind a balancer that opens
each connection with a PROXY header (v2 binary, v1 text). The header's
client address is the client's address everywhere (login events, session
rows, per-source penalties); a connection from a source not in
proxy_trusted, or without a valid header in time, is refused; a LOCAL
header (a health check) is closed quietly with no penalty."""
import socket
import time

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, running_gatehouse, setup_ghenv, ssh_run, wait_for
import proxyhdr

pytestmark_protocol = True


@pytest.fixture
def proxied(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target,
                           "proxy_protocol = yes\n"
                           "proxy_trusted = 127.0.0.1/32, ::1\n"
                           "proxy_header_timeout = 1\n"
                           "per_source_penalty_failures = 2\n"
                           "per_source_penalty_time = 120\n") as g:
        yield setup_ghenv(g, target)


def first_bytes(g, payload, source="127.0.0.1", timeout=5):
    """Connect from SOURCE, send PAYLOAD, return what the server sends
    before it closes or TIMEOUT (b"" = closed with nothing)."""
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", g.port))
    try:
        if payload:
            s.sendall(payload)
        out = b""
        while not out.endswith(b"\n"):
            d = s.recv(256)
            if not d:
                break
            out += d
        return out
    except socket.timeout:
        return None
    except ConnectionResetError:  # closed with our bytes unread
        return b""
    finally:
        s.close()


def via(g, src, version=2):
    return ("-o", "ProxyCommand=" + proxyhdr.relay_command(g.port, src, version))


def test_login_carries_header_address(proxied):
    """A login through the balancer is filed under the client's address
    from the header (v2 and v1), in the login event and the session row."""
    g = proxied
    for src, ver in (("192.0.2.7", 2), ("198.51.100.9", 1), ("2001:db8::42", 2)):
        p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo hi", password=g.alice_pw,
                    extra=via(g, src, ver))
        assert p.returncode == 0 and "hi" in p.stdout, p.stderr
    logins = [e for e in g.events("login") if e["result"] == "success"]
    sources = [e["source"].rsplit(":", 1)[0] for e in logins]
    assert sources == ["192.0.2.7", "198.51.100.9", "2001:db8::42"], sources
    rows = [s["source_addr"] for s in g.sessions()]
    assert "192.0.2.7" in rows and "198.51.100.9" in rows, rows
    assert not any(e["source"].startswith("127.0.0.1") for e in g.events("login"))


def test_penalty_applies_to_header_address(proxied):
    """Failed logins count against the client's address, not the balancer's:
    after 2 failures from 192.0.2.66 it is refused, while 192.0.2.67 (same
    balancer) still logs in."""
    g = proxied
    for _ in range(2):
        p = ssh_run(g, "alice", "true", password="wrong-password",
                    extra=via(g, "192.0.2.66") + ("-o", "NumberOfPasswordPrompts=1"))
        assert p.returncode != 0
    assert wait_for(lambda: "192.0.2.66: 2 failed logins" in g.read_log(), timeout=10), \
        g.read_log()
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo hi", password=g.alice_pw,
                extra=via(g, "192.0.2.66"))
    assert p.returncode != 0
    assert "per-source penalty (failed logins) reached; refusing connection from 192.0.2.66" \
        in g.read_log()
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo hi", password=g.alice_pw,
                extra=via(g, "192.0.2.67"))
    assert p.returncode == 0, p.stderr


def test_login_acl_checks_header_address(proxied):
    """Login ACL source rules judge the header's client address: alice is
    allowed from 192.0.2.0/24 only; through the same balancer (127.0.0.1)
    192.0.2.10 logs in and 198.51.100.10 is refused by the rule."""
    g = proxied
    g.cli("loginacl", "add", "lan", "--user", "alice", "--source", "192.0.2.0/24",
          "--action", "allow", "--priority", "10")
    g.cli("loginacl", "add", "rest", "--user", "alice", "--action", "deny", "--priority", "90")
    ok = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo in", password=g.alice_pw,
                 extra=via(g, "192.0.2.10"))
    assert ok.returncode == 0 and "in" in ok.stdout, ok.stderr
    bad = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo in", password=g.alice_pw,
                  extra=via(g, "198.51.100.10"))
    assert bad.returncode != 0
    refused = [e for e in g.events("login") if e["result"] == "failure"]
    assert refused and refused[-1]["source"].startswith("198.51.100.10:"), refused
    assert refused[-1]["reason"] == "acl deny rule=rest"


def test_untrusted_source_refused(proxied):
    """A valid header from a source outside proxy_trusted (127.0.0.5) is
    refused before any SSH byte, and logged."""
    g = proxied
    assert first_bytes(g, proxyhdr.v2("192.0.2.1"), source="127.0.0.5") == b""
    assert wait_for(lambda: "refusing connection from 127.0.0.5: proxy_protocol: source not "
                    "in proxy_trusted" in g.read_log(), timeout=5), g.read_log()
    # the trusted source with the same header gets the SSH banner
    assert first_bytes(g, proxyhdr.v2("192.0.2.1")).startswith(b"SSH-2.0-")


def test_missing_or_bad_header_refused(proxied):
    """A plain SSH client, malformed headers, and no header within
    proxy_header_timeout (1 s) are all closed without an SSH banner, and
    logged; the master keeps serving meanwhile (a silent connection does
    not block it)."""
    g = proxied
    assert first_bytes(g, b"SSH-2.0-OpenSSH_9.2\r\n") == b""
    assert wait_for(lambda: "refusing connection from 127.0.0.1: invalid PROXY header"
                    in g.read_log(), timeout=5), g.read_log()
    bad = proxyhdr.v2("192.0.2.1")
    assert first_bytes(g, bad[:12] + b"\x22" + bad[13:]) == b""  # command 2
    assert first_bytes(g, b"PROXY TCP4 192.0.2.1 127.0.0.1 70000 2222\r\n") == b""
    assert first_bytes(g, b"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\n") == b""
    silent = socket.create_connection(("127.0.0.1", g.port))
    try:
        # while one connection sends nothing, another is served at once
        t0 = time.monotonic()
        assert first_bytes(g, proxyhdr.v1("192.0.2.3")).startswith(b"SSH-2.0-")
        assert time.monotonic() - t0 < 0.9
        silent.settimeout(5)
        assert silent.recv(64) == b""  # closed after the timeout
    finally:
        silent.close()
    assert wait_for(lambda: "refusing connection from 127.0.0.1: no PROXY header in time"
                    in g.read_log(), timeout=5), g.read_log()


def test_local_health_check_quiet(proxied):
    """A LOCAL header (HAProxy's check) is accepted and closed, with no
    refusal line and no failed-login penalty even after many of them."""
    g = proxied
    for _ in range(10):
        assert first_bytes(g, proxyhdr.v2(None)) == b""
    assert "refusing" not in g.read_log()
    assert not g.events("login")
    # the balancer's own address is not penalised: a login still works
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "echo ok", password=g.alice_pw,
                extra=via(g, "192.0.2.8"))
    assert p.returncode == 0, p.stderr


def test_off_by_default_header_is_not_taken(gatehouse):
    """Without proxy_protocol a header is not believed: it is just bytes
    before the SSH banner (libssh refuses them), never an address."""
    g = gatehouse
    out = first_bytes(g, proxyhdr.v2("192.0.2.1"))
    assert out is None or b"192.0.2.1" not in out
    assert "192.0.2.1" not in g.read_log()
