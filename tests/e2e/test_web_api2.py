"""The REST API's nodes, the caller's own keys and assets, and web login
failures feeding the master's per-source penalties (docs/API.md), against
a real `gatehouse serve`: 401, 403 for roles that may not, 400 for a bad
body, the contract, and the change events with actor web:USER/token:NAME."""
import os
import re
import socket
import ssl
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from sshenv import ALICE_PW, running_gatehouse, setup_ghenv, ssh_run, target, wait_for  # noqa: F401
from test_web_api import Web

pytestmark_protocol = True

KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl "
       "laptop")


@pytest.fixture
def web(gh_bin, tmp_path, target):  # noqa: F811
    with running_gatehouse(gh_bin, tmp_path, target,
                           extra_conf="per_source_penalty_failures = 3\n") as g:
        yield Web(g, str(tmp_path))


def tokens(web):
    """An admin, an auditor and a user token."""
    web.g.cli("user", "add", "aud", "--role", "auditor")
    web.g.cli("user", "add", "bob")
    return web.token("adm", "admin"), web.token("aud", "aud"), web.token("bob", "bob")


def changes(web):
    return [e for e in web.g.events("change")]


def test_nodes_routes_roles_and_contract(web):
    adm, aud, usr = tokens(web)
    for m, p in (("GET", "/api/v1/nodes"), ("POST", "/api/v1/nodes"),
                 ("PATCH", "/api/v1/nodes/1"), ("DELETE", "/api/v1/nodes/1")):
        assert web.req(m, p, json={}).status_code == 401, (m, p)
        assert web.req(m, p, token=usr, json={}).status_code == 403, (m, p)
    assert web.req("POST", "/api/v1/nodes", token=aud, json={"path": "/x"}).status_code == 403
    for bad in ({}, {"path": 5}, {"path": "/"}, {"path": "/a b"}, {"path": "/p", "x": 1},
                {"path": "/p", "approvers": 3}):
        r = web.req("POST", "/api/v1/nodes", token=adm, json=bad)
        assert r.status_code == 400 and "error" in r.json(), (bad, r.text)
    assert web.req("POST", "/api/v1/nodes", token=adm, data=b"{nope",
                   headers={"Content-Type": "application/json"}).status_code == 400
    web.g.cli("group", "add", "ops")
    r = web.req("POST", "/api/v1/nodes", token=adm, json={"path": "/prod/web", "approvers": "ops"})
    assert r.status_code == 201, r.text
    node = r.json()
    assert node["path"] == "/prod/web" and node["approvers"] == "ops" and node["assets"] == 0
    assert web.req("POST", "/api/v1/nodes", token=adm,
                   json={"path": "/prod/web"}).status_code == 409
    listed = web.req("GET", "/api/v1/nodes", token=aud).json()
    assert {n["path"] for n in listed["items"]} == {"/prod", "/prod/web"}
    assert listed["next"] is None
    # the CLI's own JSON is the shape
    cli = {n["path"]: n for n in __import__("json").loads(web.g.cli("node", "list",
                                                                     "--json").stdout)}
    assert cli["/prod/web"] == node
    nid = node["id"]
    assert web.req("GET", f"/api/v1/nodes/{nid}", token=aud).json() == node
    assert web.req("GET", "/api/v1/nodes/99999", token=aud).status_code == 404
    assert web.req("PATCH", f"/api/v1/nodes/{nid}", token=adm,
                   json={"approvers": "nogroup"}).status_code == 400
    assert web.req("PATCH", f"/api/v1/nodes/{nid}", token=adm, json={}).status_code == 400
    r = web.req("PATCH", f"/api/v1/nodes/{nid}", token=adm, json={"approvers": None})
    assert r.status_code == 200 and r.json()["approvers"] is None, r.text
    parent = [n for n in listed["items"] if n["path"] == "/prod"][0]["id"]
    assert web.req("DELETE", f"/api/v1/nodes/{parent}", token=adm).status_code == 409
    r = web.req("DELETE", f"/api/v1/nodes/{nid}", token=adm)
    assert r.status_code == 200 and r.json() == {"deleted": "/prod/web"}
    ch = [(e["user_name"], e["method"]) for e in changes(web)]
    for what in ("node add", "node set", "node del"):
        assert ("token:adm", what) in ch, ch
    assert web.g.cli("audit", "verify").returncode == 0


def test_my_keys(web):
    adm, aud, usr = tokens(web)
    for m, p in (("GET", "/api/v1/me/keys"), ("POST", "/api/v1/me/keys"),
                 ("DELETE", "/api/v1/me/keys/1")):
        assert web.req(m, p, json={}).status_code == 401, (m, p)
    for bad in ({}, {"key": "ssh-ed25519 notbase64"}, {"key": KEY, "x": 1}, {"key": 7}):
        r = web.req("POST", "/api/v1/me/keys", token=usr, json=bad)
        assert r.status_code == 400 and "error" in r.json(), (bad, r.text)
    r = web.req("POST", "/api/v1/me/keys", token=usr, json={"key": KEY})
    assert r.status_code == 201, r.text
    k = r.json()
    assert k["type"] == "ssh-ed25519" and k["comment"] == "laptop"
    assert k["fingerprint"].startswith("SHA256:")
    assert web.req("POST", "/api/v1/me/keys", token=usr, json={"key": KEY}).status_code == 409
    assert web.req("GET", "/api/v1/me/keys", token=usr).json()["items"] == [k]
    # the CLI sees the same key on bob; another user does not see or delete it
    assert k["fingerprint"] in web.g.cli("user", "key", "list", "bob").stdout
    assert web.req("GET", "/api/v1/me/keys", token=aud).json()["items"] == []
    assert web.req("DELETE", f"/api/v1/me/keys/{k['id']}", token=aud).status_code == 404
    r = web.req("DELETE", f"/api/v1/me/keys/{k['id']}", token=usr)
    assert r.status_code == 200, r.text
    assert web.req("GET", "/api/v1/me/keys", token=usr).json()["items"] == []
    ch = [(e["user_name"], e["method"]) for e in changes(web)]
    assert ("token:bob", "user key add") in ch and ("token:bob", "user key del") in ch, ch


def test_my_assets_are_the_gates_answer(web):
    adm, aud, usr = tokens(web)
    assert web.req("GET", "/api/v1/me/assets").status_code == 401
    for q in ("limit=0", "limit=x", "cursor=-1", "protocol=nope"):
        assert web.req("GET", f"/api/v1/me/assets?{q}", token=usr).status_code == 400, q
    assert web.req("GET", "/api/v1/me/assets", token=usr).json() == {"items": [], "next": None}
    web.g.cli("node", "add", "/prod")
    for i in range(5):
        web.g.cli("asset", "add", f"web{i}", "--address", "127.0.0.1", "--node", "/prod")
        web.g.cli("account", "add", f"web{i}", "deploy", "--password-stdin", stdin="x\n")
    web.g.cli("asset", "add", "other", "--address", "127.0.0.1")
    web.g.cli("perm", "add", "p1", "--user", "bob", "--node", "/prod", "--account", "deploy")
    seen, cursor = [], None
    while True:
        r = web.req("GET", "/api/v1/me/assets?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                    token=usr)
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next"]
        if cursor is None:
            break
    assert sorted(a["name"] for a in seen) == [f"web{i}" for i in range(5)]
    assert all(a["nodes"] == ["/prod"] and a["accounts"] == ["deploy"] for a in seen), seen
    # an auditor with no permission gets nothing
    assert web.req("GET", "/api/v1/me/assets", token=aud).json()["items"] == []


def test_web_login_failures_refuse_ssh(web):
    """Failed web logins count in the master's per-source table: after 3
    (per_source_penalty_failures), the SSH front door refuses the source
    before the banner."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    for _ in range(3):
        r = web.req("POST", "/api/v1/login", json={"user": "admin", "password": "nope"})
        assert r.status_code == 401
    p = ssh_run(g, "alice", "true", password=ALICE_PW, timeout=30)
    assert p.returncode == 255 and "Permission denied" not in p.stderr, p.stderr
    assert wait_for(lambda: "per-source penalty" in g.read_log(), timeout=10), g.read_log()[-2000:]
    assert re.search(r"127\.0\.0\.1: 3 failed logins: refused", g.read_log())


def test_ssh_login_failures_refuse_web(web):
    """And the other way: failed SSH logins make the web login answer 429,
    even with the right password."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    for _ in range(3):
        ssh_run(g, "alice", "true", password="wrong", timeout=30,
                extra=("-o", "NumberOfPasswordPrompts=1"))
        if "refused for" in g.read_log():
            break
    assert wait_for(lambda: "failed logins: refused" in g.read_log(), timeout=10)
    r = web.req("POST", "/api/v1/login", json={"user": "admin", "password": web.admin_pw})
    assert r.status_code == 429, r.text


def test_user_and_group_writes(web):
    adm, aud, usr = tokens(web)
    writes = (("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/bob"),
              ("DELETE", "/api/v1/users/bob"), ("POST", "/api/v1/groups"),
              ("DELETE", "/api/v1/groups/g"), ("POST", "/api/v1/groups/g/members"),
              ("DELETE", "/api/v1/groups/g/members/bob"))
    for m, p in writes:
        assert web.req(m, p, json={}).status_code == 401, (m, p)
        assert web.req(m, p, token=aud, json={"name": "x"}).status_code == 403, (m, p)
        assert web.req(m, p, token=usr, json={"name": "x"}).status_code == 403, (m, p)
    for bad in ({}, {"name": "a b"}, {"name": "c", "role": "god"}, {"name": "c", "x": 1},
                {"name": "c", "password": ""}):
        r = web.req("POST", "/api/v1/users", token=adm, json=bad)
        assert r.status_code == 400 and "error" in r.json(), (bad, r.text)
    r = web.req("POST", "/api/v1/users", token=adm,
                json={"name": "carol", "role": "auditor", "password": "Carol-pw-1234"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "carol" and r.json()["role"] == "auditor" and r.json()["password"]
    assert web.req("POST", "/api/v1/users", token=adm, json={"name": "carol"}).status_code == 409
    # carol's password works for a web login
    assert web.req("POST", "/api/v1/login",
                   json={"user": "carol", "password": "Carol-pw-1234"}).status_code == 200
    for bad in ({}, {"role": "god"}, {"mfa": "maybe"}, {"name": "x"}):
        assert web.req("PATCH", "/api/v1/users/carol", token=adm, json=bad).status_code == 400
    r = web.req("PATCH", "/api/v1/users/carol", token=adm, json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    assert "admin" in web.g.cli("user", "show", "carol").stdout
    assert web.req("PATCH", "/api/v1/users/nobody", token=adm,
                   json={"role": "user"}).status_code == 404
    # groups and members
    assert web.req("POST", "/api/v1/groups", token=adm, json={"name": "a b"}).status_code == 400
    r = web.req("POST", "/api/v1/groups", token=adm, json={"name": "ops"})
    assert r.status_code == 201, r.text
    assert web.req("POST", "/api/v1/groups/ops/members", token=adm, json={}).status_code == 400
    assert web.req("POST", "/api/v1/groups/ops/members", token=adm,
                   json={"user": "nobody"}).status_code == 400
    r = web.req("POST", "/api/v1/groups/ops/members", token=adm, json={"user": "bob"})
    assert r.status_code == 200 and "bob" in r.text, r.text
    assert web.req("GET", "/api/v1/groups/ops", token=aud).json() == r.json()
    assert web.req("DELETE", "/api/v1/groups/ops/members/bob", token=adm).status_code == 200
    assert web.req("DELETE", "/api/v1/groups/ops/members/bob", token=adm).status_code == 404
    assert web.req("DELETE", "/api/v1/groups/ops", token=adm).status_code == 200
    assert web.req("POST", "/api/v1/users/carol/mfa-reset").status_code == 401
    assert web.req("POST", "/api/v1/users/carol/mfa-reset", token=aud).status_code == 403
    assert web.req("POST", "/api/v1/users/nobody/mfa-reset", token=adm).status_code == 404
    r = web.req("POST", "/api/v1/users/carol/mfa-reset", token=adm)
    assert r.status_code == 200 and r.json()["totp"] is False, r.text
    assert web.req("DELETE", "/api/v1/users/admin", token=adm).status_code == 409
    assert web.req("DELETE", "/api/v1/users/carol", token=adm).status_code == 200
    assert web.req("DELETE", "/api/v1/users/carol", token=adm).status_code == 404
    ch = [(e["user_name"], e["method"]) for e in changes(web)]
    for what in ("user add", "user set", "user mfa reset", "user del", "group add", "group member add",
                 "group member del", "group del"):
        assert ("token:adm", what) in ch, (what, ch)
    assert web.g.cli("audit", "verify").returncode == 0


def test_permission_patch_active(web):
    adm, aud, usr = tokens(web)
    web.g.cli("asset", "add", "db1", "--address", "127.0.0.1")
    web.g.cli("perm", "add", "p1", "--user", "bob", "--asset", "db1")
    assert web.req("PATCH", "/api/v1/permissions/p1", json={"active": False}).status_code == 401
    assert web.req("PATCH", "/api/v1/permissions/p1", token=aud,
                   json={"active": False}).status_code == 403
    for bad in ({}, {"active": "no"}, {"active": False, "name": "x"}):
        r = web.req("PATCH", "/api/v1/permissions/p1", token=adm, json=bad)
        assert r.status_code == 400 and "error" in r.json(), bad
    assert web.req("PATCH", "/api/v1/permissions/nope", token=adm,
                   json={"active": False}).status_code == 404
    r = web.req("PATCH", "/api/v1/permissions/p1", token=adm, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    # the gate sees it at once: bob's assets are gone
    assert web.req("GET", "/api/v1/me/assets", token=usr).json()["items"] == []
    r = web.req("PATCH", "/api/v1/permissions/p1", token=adm, json={"active": True})
    assert r.json()["active"] is True
    assert [a["name"] for a in web.req("GET", "/api/v1/me/assets",
                                       token=usr).json()["items"]] == ["db1"]
    assert ("token:adm", "perm set") in [(e["user_name"], e["method"]) for e in changes(web)]


def test_metrics_listen_plain_without_auth(gh_bin, tmp_path, target):  # noqa: F811
    """metrics_listen: GET /metrics over plain HTTP with no credentials on
    that address only; nothing else is served there; /metrics on the HTTPS
    port still needs a token."""
    import requests
    from sshenv import free_port
    port = free_port()
    with running_gatehouse(gh_bin, tmp_path, target,
                           extra_conf=f"metrics_listen = 127.0.0.1:{port}\n") as g:
        web = Web(g, str(tmp_path))
        assert web.req("POST", "/api/v1/login",
                       json={"user": "admin", "password": "nope"}).status_code == 401
        r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert r.status_code == 200, r.text
        for m in ('gatehouse_logins_total{result="failure"} 1', "gatehouse_bytes_relayed_total",
                  "gatehouse_recordings_total", "gatehouse_events_total"):
            assert m in r.text, (m, r.text)
        for p in ("/api/v1/me", "/api/v1/users", "/api/health", "/metrics/x"):
            assert requests.get(f"http://127.0.0.1:{port}{p}", timeout=10).status_code == 404, p
        assert requests.post(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404
        assert web.req("GET", "/metrics").status_code == 401


def tls_status(web, path, source, token=None):
    """One request on a fresh TLS connection from SOURCE (a loopback
    address), pinned to the printed certificate: the answer's status code.
    A TLS error (e.g. `wrong version number`) raises ssl.SSLError."""
    ctx = ssl.create_default_context(cafile=web.ca)
    ctx.check_hostname = False
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    with socket.create_connection(("127.0.0.1", web.g.web_port), timeout=20,
                                  source_address=(source, 0)) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(f"GET {path} HTTP/1.1\r\nHost: gh\r\n{auth}Connection: close\r\n\r\n"
                      .encode())
            head = b""
            while b"\r\n" not in head:
                chunk = t.recv(4096)
                if not chunk:
                    break
                head += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    assert m, head[:200]
    return int(m.group(1))


def web_pids(g):
    """The web processes: the master's gh-web child and its siblings."""
    def kids(ppid):
        out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(ppid)],
                             capture_output=True, text=True).stdout
        return [int(ln.split()[0]) for ln in out.splitlines() if ln.split()[1:] == ["gh-web"]]
    first = kids(g.proc.pid)
    return first + [p for f in first for p in kids(f)]


def eventfd_ids(pid):
    """The eventfds (their kernel ids) process PID holds."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[eventfd]":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                ids |= {ln.split()[1] for ln in f if ln.startswith("eventfd-id:")}
        except FileNotFoundError:
            pass
    return ids


def test_two_web_processes_keep_tls_streams_clean(gh_bin, tmp_path, target):  # noqa: F811
    """web_processes = 2 and failed tokens from one source (the per-source
    penalty answered over the master's channel): every later connection,
    from that source and another, is well-formed TLS with a 401/429 (or
    health's 200) answer. Guards the sibling whose lws event-loop fds were
    closed before it served, so that accept() reused the wake-up eventfd's
    number and lws wrote its wake-up value into a client's TLS stream
    (`wrong version number`); it fails without the fix."""
    with running_gatehouse(gh_bin, tmp_path, target,
                           extra_conf="web_processes = 2\n"
                                      "per_source_penalty_failures = 3\n") as g:
        web = Web(g, str(tmp_path))
        assert wait_for(lambda: len(web_pids(g)) == 2, timeout=30), web_pids(g)
        # each event loop wakes up on its own eventfd, never on a sibling's
        first, sib = (eventfd_ids(p) for p in web_pids(g))
        assert first and sib and not first & sib, (first, sib)
        bad = "ghp_" + "0" * 64
        # concurrent clients keep both event loops waking at once
        with ThreadPoolExecutor(8) as pool:
            seen = list(pool.map(lambda i: tls_status(web, "/api/v1/assets", "127.0.0.1",
                                                      token=bad), range(100)))
            assert set(seen) <= {401, 429}, seen
            # the master's table refuses the source now
            r = web.req("POST", "/api/v1/login", json={"user": "admin",
                                                       "password": web.admin_pw})
            assert r.status_code == 429, r.text
            calls = [("/api/health", "127.0.0.1", None), ("/api/health", "127.0.0.2", None),
                     ("/api/v1/assets", "127.0.0.1", bad), ("/api/v1/assets", "127.0.0.2", bad)]
            got = list(pool.map(lambda c: (c, tls_status(web, *c[:2], token=c[2])), calls * 40))
        for (path, src, tok), status in got:
            assert status in ((200,) if tok is None else (401, 429)), (path, src, status)
        assert len(web_pids(g)) == 2, "a web process ended:\n" + g.read_log()[-3000:]
