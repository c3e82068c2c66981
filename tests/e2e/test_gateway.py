"""Gateways: assets in networks Gatehouse cannot route to, reached through a
chain of SSH gateways (each a real sshd in its own network namespace, one
veth link from the previous one: hop1 is reachable from this host, hop2
only from hop1, the target only from hop2)."""
import os
import subprocess

import pytest

from netns import Nets, NsTarget
from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, UNIX_DEPLOY, UNIX_OPS, running_gatehouse, ssh_run

pytestmark_protocol = True


@pytest.fixture
def chain(gh_bin, tmp_path):
    """Three namespaces in a row and an sshd in each; Gatehouse on loopback."""
    nets = Nets()
    try:
        a = nets.ns("a")
        b = nets.ns("b")
        c = nets.ns("c")
        _, hop1 = nets.link(None, a)
        _, hop2 = nets.link(a, b)
        _, db = nets.link(b, c)
        ts = []
        for i, (ns, addr) in enumerate(((a, hop1), (b, hop2), (c, db))):
            d = tmp_path / f"sshd{i}"
            d.mkdir()
            t = NsTarget(str(d))
            t.start_in(nets, ns, addr)
            ts.append(t)
        with running_gatehouse(gh_bin, tmp_path, ts[0]) as g:
            g.nets, g.addrs, g.ts = nets, (hop1, hop2, db), ts
            g.add_user("alice", password=ALICE_PW)
            for name, addr in (("hop1", hop1), ("hop2", hop2), ("db01", db)):
                g.cli("asset", "add", name, "--address", addr)
                g.add_account(name, UNIX_DEPLOY)
            g.add_account("db01", UNIX_OPS, key_file=ts[0].ops_key)
            g.cli("gateway", "add", "gw1", "--asset", "hop1", "--account", UNIX_DEPLOY)
            g.cli("gateway", "add", "gw2", "--asset", "hop2", "--account", UNIX_DEPLOY)
            g.cli("asset", "set", "hop2", "--gateway", "gw1")
            g.cli("asset", "add", "db02", "--address", db, "--gateway", "gw2")
            g.cli("asset", "set", "db01", "--gateway", "gw2")
            g.add_perm("p-db01", "alice", "db01")
            yield g
    finally:
        nets.close()


def test_unreachable_without_gateway(chain):
    """The target's network is not routed from here: only the chain reaches it."""
    p = subprocess.run(["ssh", "-o", "ConnectTimeout=2", "-o", "BatchMode=yes",
                        f"x@{chain.addrs[2]}", "true"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 255


def test_two_hop_chain_reaches_target(chain):
    g = chain
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@db01", "ip -4 -o addr show", password=ALICE_PW)
    assert p.returncode == 0, p.stderr + g.read_log()
    assert g.addrs[2] in p.stdout  # ran on the host only hop2 can reach
    p = ssh_run(g, f"alice@{UNIX_OPS}@db01", "exit 7", password=ALICE_PW)
    assert p.returncode == 7, p.stderr
    # host keys pinned at every hop
    keys = {r[0]: r[1] for r in g.db().execute("SELECT name, host_key FROM assets")}
    for name, t in (("hop1", g.ts[0]), ("hop2", g.ts[1]), ("db01", g.ts[2])):
        assert keys[name] and keys[name].split()[1] == t.host_key_line().split()[1], name
    # the audit names the path
    ev = [e for e in g.events("route") if e["result"] == "ok"]
    assert ev and 'path="hop1 > hop2 > db01"' in ev[-1]["detail"], ev


def test_gateway_host_key_change_refused(chain):
    g = chain
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@db01", "true", password=ALICE_PW)
    assert p.returncode == 0, p.stderr
    g.cli("asset", "set", "hop2", "--host-key", g.ts[0].host_key_line())
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@db01", "true", password=ALICE_PW)
    assert p.returncode != 0
    assert "gateway hop2: host key changed" in p.stderr
    assert any(e["asset_name"] == "hop2" and e["result"] == "mismatch"
               for e in g.events("hostkey"))


def test_cycles_and_deletion_refused(chain):
    g = chain
    p = g.cli("asset", "set", "hop1", "--gateway", "gw2", check=None)
    assert p.returncode != 0 and "cycle" in p.stderr
    p = g.cli("asset", "set", "hop1", "--gateway", "gw1", check=None)
    assert p.returncode != 0
    p = g.cli("gateway", "del", "gw1", check=None)
    assert p.returncode != 0
    out = g.cli("gateway", "list", "--json").stdout
    assert '"gw1"' in out and '"gw2"' in out


def test_sftp_through_chain(chain, tmp_path):
    """sftp (and so OpenSSH's scp) to an asset behind the chain."""
    g = chain
    key = str(tmp_path / "bob_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    g.add_user("bob", key_pub=key + ".pub")
    g.add_perm("p-bob", "bob", "db01")
    blob = os.urandom(300000)
    src = tmp_path / "blob"
    src.write_bytes(blob)
    dst = tmp_path / "back"
    cmds = f"put {src} /tmp/gh-gw-blob\nget /tmp/gh-gw-blob {dst}\n"
    p = subprocess.run(["sftp", "-F", "/dev/null", "-P", str(g.port), "-i", key,
                        "-o", f"UserKnownHostsFile={g.known_hosts}",
                        "-o", "StrictHostKeyChecking=accept-new", "-o", "IdentitiesOnly=yes",
                        "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-b", "-",
                        f"bob@{UNIX_DEPLOY}@db01@127.0.0.1"], input=cmds,
                       capture_output=True, text=True, timeout=120, start_new_session=True)
    assert p.returncode == 0, p.stderr
    assert dst.read_bytes() == blob


def test_proxyjump_two_hop_through_gateway(chain, tmp_path):
    """`ssh -J gh,deploy@hop1 ops@db01`, db01 behind the gateways: the first
    hop is Gatehouse's own inner server (jump host key, no login on hop1 and
    no session row for it); the second ends in a recorded session on db01,
    reached from Gatehouse through the gateway chain."""
    g = chain
    g.add_perm("p-hop1", "alice", "hop1")
    kh = tmp_path / "kh"
    pub = subprocess.run(["ssh-keygen", "-y", "-f", os.path.join(g.data, "ssh_host_ed25519_key")],
                         capture_output=True, text=True, check=True).stdout.split()
    khl = ssh_run(g, "alice", "known-hosts", password=ALICE_PW)
    assert khl.returncode == 0, khl.stderr
    kh.write_text(f"[127.0.0.1]:{g.port} {pub[0]} {pub[1]}\n" + khl.stdout)
    cfg = tmp_path / "ssh_config"
    cfg.write_text(f"""
Host gh
    HostName 127.0.0.1
    Port {g.port}
    User alice
Host *
    UserKnownHostsFile {kh}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    PreferredAuthentications password
    PubkeyAuthentication no
    IdentityAgent none
    ConnectTimeout 10
    LogLevel ERROR
""")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=ALICE_PW, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    p = subprocess.run(["ssh", "-F", str(cfg), "-J", f"gh,{UNIX_DEPLOY}@hop1",
                        f"{UNIX_DEPLOY}@db01", "ip -4 -o addr show; exit 3"],
                       capture_output=True, text=True, env=env, timeout=120,
                       stdin=subprocess.DEVNULL, start_new_session=True)
    assert p.returncode == 3, p.stderr + g.read_log()
    assert g.addrs[2] in p.stdout
    assert wait_for(lambda: any(r["asset_name"] == "db01" and r["ended_at"]
                                for r in g.sessions()), timeout=20)
    assert not [r for r in g.sessions() if r["asset_name"] == "hop1"]
    hops = [e["asset_name"] for e in g.events("jump") if e["result"] == "allow"]
    assert hops[-2:] == ["hop1", "db01"]
    assert any('path="hop1 > hop2 > db01"' in (e["detail"] or "") for e in g.events("route"))


def test_tunnel_through_chain(chain):
    """`ssh -L` to a port of an asset behind the gateways: bytes flow through
    the chain, the tunnel is audited with its bytes."""
    import sys
    sys.path.insert(0, os.path.dirname(__file__))
    from test_tunnel import Forward, _echo_roundtrip
    g = chain
    ns_c = g.nets.namespaces[2]
    code = ("import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            f"s.bind(('{g.addrs[2]}',7777));s.listen(8)\n"
            "while True:\n c,_=s.accept()\n while True:\n  d=c.recv(65536)\n  if not d: break\n"
            "  c.sendall(d)\n c.close()\n")
    g.nets.popen(ns_c, "/usr/bin/python3", "-c", code)
    assert wait_for(lambda: g.nets.run(ns_c, "ss", "-ltn", capture_output=True,
                                       text=True).stdout.count(":7777") > 0, timeout=10)
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "db01", "--actions",
          "connect,forward", "--ports", "7777")
    f = Forward(g, "db01:7777")
    try:
        with f.connect() as s:
            data = os.urandom(200000)
            assert _echo_roundtrip(s, data) == data
    finally:
        f.stop()
    assert wait_for(lambda: any(e["result"] == "end" and "bytes_in=200000" in (e["detail"] or "")
                                for e in g.events("tunnel")), timeout=20), g.events("tunnel")
