"""Two Gatehouse nodes behind a real HAProxy (packaging/haproxy.cfg.tmpl,
as docs/HA.md shows it): SSH in TCP mode with send-proxy-v2, the console's
TLS passed through with /api/health checks. The nodes share the keys
(master key, host keys, jump key), the store and the recordings, as a
cluster does. With SQLite both nodes run on one host and share the store
file (WAL: several processes write, busy locks are waited for); with
PostgreSQL they share its database (docs/HA.md)."""
import os
import re
import shutil
import socket
import subprocess

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, Gatehouse, setup_ghenv, ssh_run, wait_for
from haenv import HAProxy, TEMPLATE
import proxyhdr

pytestmark_protocol = True

PROXY_CONF = ("proxy_protocol = yes\n"
              "proxy_trusted = 127.0.0.1\n"
              "proxy_header_timeout = 2\n")
SHARED = ("master.key", "ssh_host_ed25519_key", "ssh_host_rsa_key", "ssh_jump_ed25519_key",
          "web_cert.pem", "web_key.pem")


@pytest.fixture
def cluster(gh_bin, tmp_path, target):
    """Node A (ghenv set-up), node B with A's keys, store and recordings,
    and HAProxy in front of both; yields (haproxy, a, b)."""
    ta, tb = tmp_path / "a", tmp_path / "b"
    ta.mkdir()
    tb.mkdir()
    a = Gatehouse(gh_bin, str(ta), target, extra_conf=PROXY_CONF)
    pg = getattr(a, "pg", None)  # GATEHOUSE_TEST_DB=postgresql: nodes share its database
    if pg:
        a.write_conf(PROXY_CONF + "node_name = a\n")
    a.start()
    b = ha = None
    try:
        setup_ghenv(a, target)
        b = Gatehouse(gh_bin, str(tb), target)
        for name in SHARED:
            shutil.copy2(os.path.join(a.data, name), os.path.join(b.data, name))
        if pg:
            b.pg = pg
            b.write_conf(PROXY_CONF + "node_name = b\n"
                         f"recordings_dir = {a.data}/recordings\n")
        else:  # one host: the SQLite file is shared (WAL, busy locks waited for)
            b.write_conf(PROXY_CONF + f"database_path = {a.db_path()}\n"
                         f"recordings_dir = {a.data}/recordings\n")
        b.start()
        ha = HAProxy(str(tmp_path), a.askpass)
        ha.start([("a", f"127.0.0.1:{a.port}"), ("b", f"127.0.0.1:{b.port}")],
                 [("a", f"127.0.0.1:{a.web_port}"), ("b", f"127.0.0.1:{b.web_port}")])
        assert wait_for(lambda: ha.all_up("gatehouse_ssh", ("a", "b")) and
                        ha.all_up("gatehouse_web", ("a", "b")), timeout=30), \
            (ha.stat() if ha.proc else None, open(ha.log_path).read())
        ha.alice_pw = a.alice_pw
        yield ha, a, b
    finally:
        if ha:
            ha.stop()
        for g in (b, a):
            if g:
                rc = g.stop()
                assert rc in (0, None), g.read_log()


def test_docs_show_the_template():
    """docs/HA.md shows the template the tests use, verbatim."""
    doc = open(os.path.join(os.path.dirname(TEMPLATE), "..", "docs", "HA.md")).read()
    assert open(TEMPLATE).read().strip() in doc


def test_logins_through_haproxy(cluster):
    """Logins through HAProxy land on both nodes, carry the client's real
    address (127.0.0.5, not HAProxy's 127.0.0.1) in login events and
    session rows, and the client never sees a host key change: one
    known_hosts, strict checking after the first login."""
    ha, a, b = cluster
    src = ("-o", "BindAddress=127.0.0.5")
    p = ssh_run(ha, f"alice@{UNIX_DEPLOY}@web01", "echo hi", password=ha.alice_pw, extra=src)
    assert p.returncode == 0 and "hi" in p.stdout, p.stderr
    strict = src + ("-o", "StrictHostKeyChecking=yes")
    for _ in range(5):
        p = ssh_run(ha, f"alice@{UNIX_DEPLOY}@web01", "echo hi", password=ha.alice_pw,
                    extra=strict)
        assert p.returncode == 0 and "hi" in p.stdout, p.stderr
    on = {n: len(re.findall(r"login of alice@\S+ from 127\.0\.0\.5:", g.read_log()))
          for n, g in (("a", a), ("b", b))}
    assert on["a"] >= 1 and on["b"] >= 1 and on["a"] + on["b"] == 6, on
    logins = [e for e in a.events("login") if e["result"] == "success"]
    assert len(logins) == 6
    assert all(e["source"].startswith("127.0.0.5:") for e in logins), logins
    assert all(s["source_addr"] == "127.0.0.5" for s in a.sessions())
    v = a.cli("audit", "verify", check=None)
    assert "chain intact" in v.stdout, v.stdout


def test_health_checks_quiet_and_console(cluster):
    """HAProxy's checks (a PROXY v2 LOCAL header on SSH, GET /api/health
    over TLS on the console) keep both nodes UP without a refusal or a
    penalty; the console answers through HAProxy."""
    ha, a, b = cluster
    assert wait_for(lambda: ha.all_up("gatehouse_ssh", ("a", "b")), timeout=10)
    for g in (a, b):
        assert "refusing" not in g.read_log(), g.read_log()
    r = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                        f"https://127.0.0.1:{ha.web_port}/api/health"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "200", r


def test_direct_connections_refused(cluster):
    """Behind the balancer, a node refuses a connection with no header, and
    one with a header from a source outside proxy_trusted."""
    ha, a, b = cluster

    def first(payload, source):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", a.port))
        try:
            if payload:
                s.sendall(payload)
            return s.recv(64)
        except ConnectionResetError:
            return b""
        finally:
            s.close()

    assert first(proxyhdr.v2("192.0.2.1"), "127.0.0.5") == b""
    assert first(b"", "127.0.0.1") == b""  # nothing within proxy_header_timeout
    log = a.read_log()
    assert "refusing connection from 127.0.0.5: proxy_protocol: source not in proxy_trusted" \
        in log
    assert wait_for(lambda: "no PROXY header in time" in a.read_log(), timeout=5)
