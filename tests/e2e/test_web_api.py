"""The HTTPS server and REST API (docs/API.md) against a real `gatehouse
serve`: TLS verified against the fingerprint Gatehouse printed, every route
for 401 / 403 / a bad body, the assets contract, cookie sessions with CSRF,
API tokens, audit events, and the privilege drop of the web process."""
import gzip
import hashlib
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import time

import pytest
import requests

from dropenv import drop_tmp, gatehouse_drop  # noqa: F401 (fixtures)
from sshenv import (ALICE_PW, PROMPT_RE, UNIX_DEPLOY, port_open, running_gatehouse,  # noqa: F401
                    setup_ghenv, ssh_run, ssh_spawn,
                    target, wait_for)

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "API.md")


class Web:
    """requests against one Gatehouse's web port, TLS pinned to the
    certificate whose fingerprint `gatehouse serve` printed."""

    def __init__(self, g, tmp):
        self.g = g
        assert wait_for(lambda: port_open(g.web_port), timeout=30), g.read_log()
        fp = re.compile(r"certificate SHA-256 ([0-9A-F:]{95})")
        assert wait_for(lambda: fp.search(g.read_log())), "no fingerprint:\n" + g.read_log()
        m = fp.search(g.read_log())
        printed = m.group(1)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", g.web_port), timeout=10) as s:
            with ctx.wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
        got = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        assert got == printed, f"served certificate {got} is not the printed {printed}"
        self.ca = os.path.join(tmp, "web-ca.pem")
        with open(self.ca, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        self.base = f"https://127.0.0.1:{g.web_port}"
        with open(os.path.join(g.data, "initial-admin-password")) as f:
            self.admin_pw = f.read().strip()

    def req(self, method, path, token=None, session=None, **kw):
        h = kw.pop("headers", {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        s = session or requests
        return s.request(method, self.base + path, headers=h, verify=self.ca, timeout=20, **kw)

    def token(self, name, user):
        p = self.g.cli("token", "add", name, "--user", user)
        tok = p.stdout.strip()
        assert re.fullmatch(r"ghp_[0-9a-f]{64}", tok), p.stdout
        return tok

    def openapi(self):
        r = self.req("GET", "/api/v1/openapi.json")
        assert r.status_code == 200, r.text
        return r.json()

    def routes(self):
        return [(m.upper(), path, op) for path, item in self.openapi()["paths"].items()
                for m, op in item.items()]


@pytest.fixture
def web(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target,
                           extra_conf="per_source_penalty_failures = 5\n") as g:
        yield Web(g, str(tmp_path))


def concrete(path):
    return re.sub(r"\{[^}]+\}", "no-such-thing", path)


def test_tls_pinned_health_and_headers(web):
    """The certificate is the printed one (Web() checks), health answers, and
    every answer carries the secure headers."""
    r = web.req("GET", "/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    h = r.headers
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert "script-src 'self'" in h["Content-Security-Policy"]
    # no inline script (the terminal's renderer needs inline styles, which run nothing)
    script_src = re.search(r"script-src ([^;]*)", h["Content-Security-Policy"]).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src.replace(
        "wasm-unsafe-eval", "")
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    key = os.stat(os.path.join(web.g.data, "web_key.pem"))
    assert key.st_uid == 0 and stat.S_IMODE(key.st_mode) == 0o600
    with pytest.raises(requests.exceptions.SSLError):  # not trusted without the pin
        requests.get(web.base + "/api/health", timeout=10)


def test_every_route_needs_credentials(web):
    """Each non-public route answers 401 {"error"} without credentials, with
    a wrong token and with a forged cookie; the refused token is a login event."""
    routes = [(m, p) for m, p, op in web.routes() if op["x-role"] != "public"]
    assert len(routes) >= 8
    for m, p in routes:
        for kw in ({}, {"token": "ghp_" + "0" * 64}, {"cookies": {"gh_session": "f" * 64}}):
            r = web.req(m, concrete(p), json={}, **kw)
            assert r.status_code == 401, (m, p, kw, r.status_code, r.text)
            assert "error" in r.json()
    ev = [e for e in web.g.events("login") if e["method"] == "token"]
    assert ev and ev[-1]["result"] == "failure" and ev[-1]["reason"] == "unknown token"


def test_roles_are_enforced_on_every_route(web):
    """An auditor reads but changes nothing; a user gets neither; admins
    everything (403 {"error"} otherwise)."""
    web.g.cli("user", "add", "aud", "--role", "auditor")
    web.g.cli("user", "add", "bob")
    toks = {"auditor": web.token("t-aud", "aud"), "user": web.token("t-bob", "bob")}
    rank = {"public": -1, "user": 0, "auditor": 1, "admin": 2}
    checked = 0
    for m, p, op in web.routes():
        for role, tok in toks.items():
            if rank[op["x-role"]] <= rank[role] or p == "/api/v1/logout":
                continue
            r = web.req(m, concrete(p), token=tok, json={})
            assert r.status_code == 403, (role, m, p, r.status_code, r.text)
            assert "error" in r.json()
            checked += 1
    assert checked >= 10
    assert web.req("GET", "/api/v1/assets", token=toks["auditor"]).status_code == 200
    assert web.req("GET", "/api/v1/me", token=toks["user"]).json()["role"] == "user"


def test_bad_bodies_are_400_and_the_server_keeps_serving(web):
    tok = web.token("ci", "admin")
    body_routes = [(m, p, op["requestBody"]["required"]) for m, p, op in web.routes()
                   if "requestBody" in op]
    assert len(body_routes) >= 4
    bad = [b"{", b"[]", b'"x"', b'{"a":1,"a":2}', b"\xff\xfe", b"[" * 5000, b""]
    for m, p, required in body_routes:
        for body in bad if required else bad[:-1]:
            r = web.req(m, concrete(p).replace("no-such-thing", "web01"), token=tok, data=body,
                        headers={"Content-Type": "application/json"})
            if p == "/api/v1/login":
                assert r.status_code in (400, 401), (m, p, body[:20], r.text)
            else:
                assert r.status_code == 400, (m, p, body[:20], r.status_code, r.text)
            assert "error" in r.json()
    assert web.req("GET", "/api/health").status_code == 200


def test_body_too_large_is_413(web):
    """A body announced larger than web_max_body_kib is refused before it is
    read: 413 and the connection closed."""
    tok = web.token("ci", "admin")
    ctx = ssl.create_default_context(cafile=web.ca)
    with socket.create_connection(("127.0.0.1", web.g.web_port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(f"POST /api/v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}"
                      f"\r\nContent-Length: {1024 * 1024 + 1}\r\n\r\n{{".encode())
            head = t.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert web.req("GET", "/api/health").status_code == 200


def test_assets_contract(web):
    """POST -> 201 and the asset; list {items, next} with limit/cursor; GET,
    PATCH, DELETE; errors 4xx {"error"}; each change a chained change event
    with actor token:NAME."""
    tok = web.token("ci", "admin")
    r = web.req("POST", "/api/v1/assets", token=tok,
                json={"name": "web02", "address": "127.0.0.1", "port": 22})
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["name"], a["address"], a["port"]) == ("web02", "127.0.0.1", 22)
    assert a == json.loads(web.g.cli("asset", "show", "web02", "--json").stdout) | {} or \
        {k: v for k, v in json.loads(web.g.cli("asset", "show", "web02", "--json").stdout).items()
         if k in a} == a
    for n in ("web03", "web04"):
        assert web.req("POST", "/api/v1/assets", token=tok,
                       json={"name": n, "address": "127.0.0.1"}).status_code == 201
    assert web.req("POST", "/api/v1/assets", token=tok,
                   json={"name": "web02", "address": "127.0.0.1"}).status_code == 409
    assert web.req("POST", "/api/v1/assets", token=tok,
                   json={"name": "bad name", "address": "127.0.0.1"}).status_code == 400
    assert web.req("POST", "/api/v1/assets", token=tok,
                   json={"name": "x1", "address": "127.0.0.1", "platform": "toaster"}
                   ).status_code == 400
    seen, cursor = [], None
    for _ in range(5):
        r = web.req("GET", "/api/v1/assets", token=tok,
                    params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [x["name"] for x in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ["web02", "web03", "web04"]
    assert web.req("GET", "/api/v1/assets?limit=0", token=tok).status_code == 400
    r = web.req("GET", "/api/v1/assets/web02", token=tok)
    assert r.status_code == 200 and r.json()["name"] == "web02"
    r = web.req("PATCH", "/api/v1/assets/web02", token=tok, json={"port": 2202, "comment": "c"})
    assert r.status_code == 200 and r.json()["port"] == 2202 and r.json()["comment"] == "c"
    assert web.req("PATCH", "/api/v1/assets/web02", token=tok,
                   json={"name": "other"}).status_code == 400
    assert web.req("DELETE", "/api/v1/assets/web03", token=tok).status_code == 200
    r = web.req("GET", "/api/v1/assets/web03", token=tok)
    assert r.status_code == 404 and "error" in r.json()
    ch = [e for e in web.g.events("change") if e["user_name"] == "token:ci"]
    assert [e["method"] for e in ch] == ["asset add"] * 4 + ["asset set", "asset del"], ch
    assert web.g.cli("audit", "verify").returncode == 0


def test_cookie_session_csrf_and_logout(web):
    s = requests.Session()
    r = web.req("POST", "/api/v1/login", session=s, json={"user": "admin", "password": "wrong"})
    assert r.status_code == 401 and "error" in r.json()
    r = web.req("POST", "/api/v1/login", session=s,
                json={"user": "admin", "password": web.admin_pw})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf"]
    sc = r.headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Max-Age="):
        assert flag in sc, sc
    assert web.req("GET", "/api/v1/me", session=s).json()["actor"] == "web:admin"
    body = {"name": "web05", "address": "127.0.0.1"}
    assert web.req("POST", "/api/v1/assets", session=s, json=body).status_code == 403
    assert web.req("POST", "/api/v1/assets", session=s, json=body,
                   headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    r = web.req("POST", "/api/v1/assets", session=s, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert web.g.events("change")[-1]["user_name"] == "web:admin"
    assert web.req("POST", "/api/v1/logout", session=s,
                   headers={"X-CSRF-Token": csrf}).status_code == 200
    assert web.req("GET", "/api/v1/me", session=s).status_code == 401
    logins = [(e["user_name"], e["result"], e["reason"]) for e in web.g.events("login")
              if e["method"] == "web"]
    assert logins == [("admin", "failure", "bad password"), ("admin", "success", None),
                      ("admin", "success", "logout")], logins


def test_failed_logins_get_the_source_refused(web):
    """per_source_penalty_failures (5 here) failed logins: 429 even for the
    right password, like the SSH door's per-source penalty."""
    for _ in range(5):
        r = web.req("POST", "/api/v1/login", json={"user": "admin", "password": "nope"})
        assert r.status_code == 401
    r = web.req("POST", "/api/v1/login", json={"user": "admin", "password": web.admin_pw})
    assert r.status_code == 429 and "error" in r.json()


def test_tokens_cli_and_api(web):
    tok = web.token("ci", "admin")
    web.g.cli("user", "add", "bob")
    p = web.g.cli("token", "add", "ci", "--user", "admin", check=1)
    assert "already exists" in p.stderr
    web.g.cli("token", "add", "old", "--user", "bob", "--expires", "2000-01-01", check=2)
    lst = json.loads(web.g.cli("token", "list", "--json").stdout)
    assert [t["name"] for t in lst] == ["ci"] and tok not in json.dumps(lst)
    assert set(lst[0]) == {"name", "user", "created_at", "expires_at", "last_used"}
    r = web.req("POST", "/api/v1/tokens", token=tok, json={"name": "bobs", "user": "bob"})
    assert r.status_code == 201, r.text
    bobs = r.json()["token"]
    assert web.req("GET", "/api/v1/me", token=bobs).json()["user"] == "bob"
    names = [t["name"] for t in web.req("GET", "/api/v1/tokens", token=tok).json()["items"]]
    assert names == ["bobs", "ci"]
    assert web.req("DELETE", "/api/v1/tokens/bobs", token=tok).status_code == 200
    assert web.req("GET", "/api/v1/me", token=bobs).status_code == 401
    web.g.cli("token", "del", "ci")
    assert web.req("GET", "/api/v1/me", token=tok).status_code == 401


def test_openapi_both_ways(web):
    """Every described route answers (not the router's 404/405), and the
    routes docs/API.md lists are exactly the described ones."""
    tok = web.token("ci", "admin")
    described = set()
    for m, p, op in web.routes():
        described.add(f"{m} {p}")
        if p == "/api/v1/logout":
            continue
        r = web.req(m, concrete(p), token=tok, json={})
        assert r.status_code != 405 and r.text != '{"error":"not found"}', (m, p, r.text)
    documented = set(re.findall(r"^\| `((?:GET|POST|PATCH|PUT|DELETE) /[^`]+)` \|",
                                open(DOC).read(), re.M))
    assert documented == described, (documented ^ described)
    r = web.req("GET", "/api/v1/no-such-route", token=tok)
    assert r.status_code == 404 and r.json() == {"error": "not found"}
    assert web.req("PUT", "/api/v1/assets", token=tok).status_code == 405


def test_web_process_drops_privileges(gatehouse_drop, drop_tmp):  # noqa: F811
    """With the default privilege drop (what `make run` gives), the web
    process serves as the worker user; the key stays root-only."""
    w = Web(gatehouse_drop, drop_tmp)
    assert w.req("GET", "/api/health").json()["status"] == "ok"
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(gatehouse_drop.proc.pid)],
                         capture_output=True, text=True).stdout
    kids = [int(ln.split()[0]) for ln in out.splitlines() if ln.split()[1:] == ["gh-web"]]
    assert len(kids) == 1, out
    # web_processes (2 by default): the first forks the others
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(kids[0])],
                         capture_output=True, text=True).stdout
    sibs = [int(ln.split()[0]) for ln in out.splitlines() if ln.split()[1:] == ["gh-web"]]
    assert len(sibs) == 1, out
    for pid in kids + sibs:
        with open(f"/proc/{pid}/status") as f:
            uids = [ln for ln in f if ln.startswith("Uid:")][0].split()[1:]
        assert "0" not in uids, (pid, uids)
    key = os.stat(os.path.join(gatehouse_drop.data, "web_key.pem"))
    assert key.st_uid == 0 and stat.S_IMODE(key.st_mode) == 0o600


def test_permission_granted_through_the_api_lets_ssh_in(web, target):
    """No permission: the real ssh is refused. POST /api/v1/permissions (the
    shape of `perm show --json`): the same login works; permissions/check
    answers as the gate does; DELETE takes it back."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01")
    g.add_account("web01", UNIX_DEPLOY)
    tok = web.token("ci", "admin")
    login = f"alice@{UNIX_DEPLOY}@web01"
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    chk = {"user": "alice", "asset": "web01", "account": UNIX_DEPLOY}
    r = web.req("POST", "/api/v1/permissions/check", token=tok, json=chk)
    assert r.status_code == 200 and r.json()["allow"] is False, r.text
    body = {"name": "p-alice", "users": ["alice"], "assets": ["web01"],
            "accounts": [UNIX_DEPLOY], "actions": ["connect"], "protocols": ["ssh"]}
    r = web.req("POST", "/api/v1/permissions", token=tok, json=body)
    assert r.status_code == 201, r.text
    p = r.json()
    assert {k: p[k] for k in body} == body
    assert p == json.loads(g.cli("perm", "show", "p-alice", "--json").stdout)
    r = web.req("POST", "/api/v1/permissions/check", token=tok, json=chk)
    assert r.json() == {"allow": True, "permission": "p-alice",
                        "reason": r.json()["reason"]}, r.text
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode == 0 and out.stdout.strip() == "in", out.stderr
    assert web.req("POST", "/api/v1/permissions", token=tok,
                   json=body | {"name": "p2", "users": ["nobody"]}).status_code == 404
    assert web.req("POST", "/api/v1/permissions", token=tok,
                   json=body | {"name": "p-alice"}).status_code == 409
    names = [x["name"] for x in web.req("GET", "/api/v1/permissions", token=tok).json()["items"]]
    assert names == ["p-alice"]
    ses = web.req("GET", "/api/v1/sessions", token=tok).json()["items"]
    assert ses and ses[0]["user"] == "alice" and ses[0]["asset"] == "web01"
    assert ses == json.loads(g.cli("session", "list", "--json").stdout)
    one = web.req("GET", f"/api/v1/sessions/{ses[0]['id']}", token=tok).json()
    assert one == json.loads(g.cli("session", "show", ses[0]["id"], "--json").stdout)
    # the session that ran the command (the refused login may have a row too)
    rec = lambda: [x for x in g.sessions() if x["recording_path"] and x["ended_at"]]  # noqa
    assert wait_for(lambda: len(rec()) == 1), g.sessions()
    sid, path = rec()[0]["id"], rec()[0]["recording_path"]
    with open(path, "rb") as f:
        cast = gzip.decompress(f.read())
    r = web.req("GET", f"/api/v1/sessions/{sid}/recording", token=tok)
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.content == cast and json.loads(cast.splitlines()[0])["version"] == 2
    r = web.req("GET", f"/api/v1/sessions/{sid}/recording", token=tok,
                headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers and r.content == cast
    assert b"in" in cast
    mine = web.req("GET", "/api/v1/me/sessions", token=web.token("t-alice", "alice")).json()
    assert [x["id"] for x in mine["items"]] == [x["id"] for x in ses]
    theirs = web.req("GET", "/api/v1/me/sessions", token=tok).json()
    assert theirs["items"] == []
    assert web.req("DELETE", "/api/v1/permissions/p-alice", token=tok).status_code == 200
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    assert [(e["method"], e["result"]) for e in g.events("change")
            if e["user_name"] == "token:ci"] == [("perm add", "ok"), ("perm add", "error"),
                                                 ("perm del", "ok")]


def test_users_and_groups_have_the_cli_shapes(web):
    g = web.g
    g.cli("user", "add", "carol", "--role", "auditor")
    g.cli("group", "add", "ops")
    g.cli("group", "set", "ops", "--member", "carol", check=None)
    tok = web.token("ci", "admin")
    assert web.req("GET", "/api/v1/users", token=tok).json()["items"] == \
        json.loads(g.cli("user", "list", "--json").stdout)
    assert web.req("GET", "/api/v1/users/carol", token=tok).json()["role"] == "auditor"
    assert web.req("GET", "/api/v1/groups", token=tok).json()["items"] == \
        json.loads(g.cli("group", "list", "--json").stdout)
    assert web.req("GET", "/api/v1/groups/ops", token=tok).json() == \
        json.loads(g.cli("group", "show", "ops", "--json").stdout)
    assert web.req("GET", "/api/v1/users/nobody", token=tok).status_code == 404


def test_metrics(web):
    """GET /metrics: Prometheus text for an auditor's token, 401 without,
    403 for a user; the login counter follows the login events."""
    tok = web.token("ci", "admin")
    web.g.cli("user", "add", "bob")
    assert web.req("GET", "/metrics").status_code == 401
    assert web.req("GET", "/metrics", token=web.token("t-bob", "bob")).status_code == 403
    web.req("POST", "/api/v1/login", json={"user": "admin", "password": "wrong"})
    r = web.req("GET", "/metrics", token=tok)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert "# TYPE gatehouse_logins_total counter" in lines
    fails = sum(1 for e in web.g.events("login") if e["result"] == "failure")
    assert f'gatehouse_logins_total{{result="failure"}} {fails}' in lines, r.text
    assert 'gatehouse_bytes_relayed_total{direction="in"} 0' in lines
    assert any(ln.startswith("gatehouse_events_total{kind=\"change\"}") for ln in lines)


def test_session_kill_through_the_api(web, target):
    """An admin's token ends a live interactive session (the worker's live
    socket, as `session kill`); an auditor's may not; the kill is audited
    with the API actor; a second kill is 409."""
    import pexpect
    g = setup_ghenv(web.g, target)
    tok = web.token("ci", "admin")
    g.cli("user", "add", "aud", "--role", "auditor")
    c = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@web01", password=ALICE_PW)
    c.expect(PROMPT_RE)
    live = web.req("GET", "/api/v1/sessions?active=1", token=tok).json()["items"]
    assert len(live) == 1, live
    sid = live[0]["id"]
    r = web.req("POST", f"/api/v1/sessions/{sid}/kill", token=web.token("t-aud", "aud"))
    assert r.status_code == 403
    r = web.req("POST", f"/api/v1/sessions/{sid}/kill", token=tok, json={"reason": "api test"})
    assert r.status_code == 200, r.text
    c.expect(pexpect.EOF, timeout=20)
    c.close()
    assert wait_for(lambda: [s for s in g.sessions() if s["id"] == sid][0]["ended_at"] != 0)
    ev = [e for e in g.events("live") if e["session_id"] == sid]
    assert ev and ev[-1]["user_name"] == "token:ci" and ev[-1]["result"] == "ok", ev
    assert web.req("POST", f"/api/v1/sessions/{sid}/kill", token=tok).status_code == 409


def test_web_login_needs_totp_like_ssh(web, target):
    """The SSH login's second-factor rules: a user who must use TOTP and has
    not enrolled cannot sign in on the web; once enrolled over SSH, the web
    login needs a current code, and a code used once is refused again."""
    from test_mfa import enrol, finish, password_step, spawn, totp
    g = setup_ghenv(web.g, target)
    g.cli("user", "set", "alice", "--mfa", "required")
    body = {"user": "alice", "password": ALICE_PW}
    r = web.req("POST", "/api/v1/login", json=body)
    assert r.status_code == 401
    assert g.events("login")[-1]["reason"].startswith("totp not enrolled")
    c = spawn(g)
    password_step(g, c)
    secret = enrol(g, c)
    assert finish(c)[1] == 0
    assert web.req("POST", "/api/v1/login", json=body).status_code == 401
    assert g.events("login")[-1]["reason"] == "totp code required"
    assert web.req("POST", "/api/v1/login", json=body | {"totp": "000000"}).status_code == 401
    code = totp(secret, offset=30)
    r = web.req("POST", "/api/v1/login", json=body | {"totp": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"] == "alice" and r.json()["role"] == "user"
    assert web.req("POST", "/api/v1/login", json=body | {"totp": code}).status_code == 401
    assert g.events("login")[-1]["reason"] == "totp code replayed"


def test_connection_header_and_time_bounds(gh_bin, tmp_path, target):
    """web_max_connections: connections past it are closed at once;
    web_max_header_bytes: a larger request gets no answer but an end;
    web_request_timeout: a request that never completes is dropped. The
    server keeps serving after each. One web process here: the limit is
    each process's (docs/CONFIG.md)."""
    conf = ("web_max_connections = 3\nweb_max_header_bytes = 2048\n"
            "web_request_timeout = 2\nweb_processes = 1\n")
    with running_gatehouse(gh_bin, tmp_path, target, extra_conf=conf) as g:
        web = Web(g, str(tmp_path))
        ctx = ssl.create_default_context(cafile=web.ca)

        def tls():
            s = socket.create_connection(("127.0.0.1", g.web_port), timeout=10)
            return ctx.wrap_socket(s, server_hostname="127.0.0.1")

        held = [tls() for _ in range(3)]
        with pytest.raises((ssl.SSLError, OSError)):
            extra = tls()
            extra.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            if not extra.recv(100):
                raise OSError("closed")
        for t in held:
            t.close()

        def healthy():
            try:
                return web.req("GET", "/api/health").status_code == 200
            except requests.exceptions.ConnectionError:  # the closes not yet seen
                return False
        assert wait_for(healthy)

        t = tls()
        t.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
        got = b""
        try:
            while len(got) < 100000:
                k = t.recv(4096)
                if not k:
                    break
                got += k
        except (ssl.SSLError, OSError):
            pass
        assert b"200 OK" not in got, got[:200]
        t.close()

        t = tls()
        t.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")  # never finished
        t0 = time.monotonic()
        t.settimeout(15)
        try:
            answer = t.recv(100)
        except socket.timeout:
            pytest.fail("an unfinished request was not dropped within 15 s")
        except (ssl.SSLError, ConnectionError):
            answer = b""
        assert b"200 OK" not in answer and time.monotonic() - t0 < 12, answer
        t.close()
        assert web.req("GET", "/api/health").status_code == 200


def test_access_request_approved_through_the_api(web, target):
    """A user asks through the API; an admin approves through the API: the
    permission access-ID lets the user's next ssh in, until the minutes
    asked have passed. Denied and decided requests make no permission."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01")
    g.add_account("web01", UNIX_DEPLOY)
    g.cli("user", "add", "bob")
    admin, alice = web.token("ci", "admin"), web.token("t-alice", "alice")
    login = f"alice@{UNIX_DEPLOY}@web01"
    ask = {"asset": "web01", "account": UNIX_DEPLOY, "reason": "deploy fix",
           "ticket": "CHG-123", "minutes": 1}
    # 2**32 + 60 would be 60 once cast to int: refused before the cast
    for bad in ({**ask, "minutes": 0}, {**ask, "minutes": 2**32 + 60},
                {**ask, "account": "a b"}, {**ask, "reason": "x\ny"}):
        assert web.req("POST", "/api/v1/access-requests", token=alice, json=bad).status_code == 400
    assert web.req("POST", "/api/v1/access-requests", token=alice,
                   json={**ask, "asset": "nope"}).status_code == 404
    r = web.req("POST", "/api/v1/access-requests", token=alice, json=ask)
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["user"], req["status"], req["ticket"]) == ("alice", "pending", "CHG-123")
    rid = req["id"]
    assert web.req("GET", "/api/v1/access-requests", token=web.token("t-bob", "bob")
                   ).json()["items"] == []
    assert [x["id"] for x in web.req("GET", "/api/v1/access-requests", token=alice
                                     ).json()["items"]] == [rid]
    assert web.req("POST", f"/api/v1/access-requests/{rid}/approve", token=alice
                   ).status_code == 403
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    r = web.req("POST", f"/api/v1/access-requests/{rid}/approve", token=admin)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert r.json()["permission"] == f"access-{rid}" and r.json()["decided_by"] == "token:ci"
    perm = json.loads(g.cli("perm", "show", f"access-{rid}", "--json").stdout)
    assert perm["users"] == ["alice"] and perm["accounts"] == [UNIX_DEPLOY]
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode == 0 and out.stdout.strip() == "in", out.stderr
    assert web.req("POST", f"/api/v1/access-requests/{rid}/deny", token=admin
                   ).status_code == 409
    r2 = web.req("POST", "/api/v1/access-requests", token=alice, json=ask).json()["id"]
    assert web.req("POST", f"/api/v1/access-requests/{r2}/deny", token=admin).status_code == 200
    assert g.cli("perm", "show", f"access-{r2}", check=1)
    p = g.cli("access", "approve", str(r2), check=1)
    assert "already decided" in p.stderr
    lst = json.loads(g.cli("access", "list", "--json").stdout)
    assert [(x["id"], x["status"]) for x in lst] == [(r2, "denied"), (rid, "approved")]
    assert [e["method"] for e in g.events("change") if e["user_name"] == "token:ci"] == \
        ["access approve", "access deny", "access deny"]
    # the minute asked passes: the next login is refused again
    assert wait_for(lambda: ssh_run(g, login, "true", password=ALICE_PW).returncode != 0,
                    timeout=150, step=5)


def test_account_secrets_are_write_only(web, target):
    """An account added through the API with its password: the gate injects
    it (a real ssh gets in); no answer, list or log ever shows it; a wrong
    replacement secret makes the login fail."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01")
    g.add_perm("p-alice", "alice", "web01")
    tok = web.token("ci", "admin")
    secret = target.passwords[UNIX_DEPLOY]
    r = web.req("POST", "/api/v1/assets/web01/accounts", token=tok,
                json={"username": UNIX_DEPLOY, "password": secret})
    assert r.status_code == 201 and secret not in r.text, r.text
    assert web.req("POST", "/api/v1/assets/web01/accounts", token=tok,
                   json={"username": UNIX_DEPLOY, "password": "x"}).status_code == 409
    assert web.req("POST", "/api/v1/assets/web01/accounts", token=tok,
                   json={"username": "u1", "password": "x", "extra": 1}).status_code == 400
    r = web.req("GET", "/api/v1/assets/web01/accounts", token=tok)
    assert r.json()["items"] == [{"username": UNIX_DEPLOY, "secret": "password"}]
    login = f"alice@{UNIX_DEPLOY}@web01"
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode == 0 and out.stdout.strip() == "in", out.stderr
    r = web.req("PUT", f"/api/v1/assets/web01/accounts/{UNIX_DEPLOY}", token=tok,
                json={"password": "wrong-" + secret})
    assert r.status_code == 200, r.text
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    assert web.req("DELETE", f"/api/v1/assets/web01/accounts/{UNIX_DEPLOY}",
                   token=tok).status_code == 200
    assert web.req("GET", "/api/v1/assets/web01/accounts", token=tok).json()["items"] == []
    assert secret not in g.read_log()
    assert not any(secret in json.dumps(e) for e in g.events())
    assert [e["method"] for e in g.events("change") if e["user_name"] == "token:ci"] == \
        ["account add", "account add", "account set", "account del"]


def test_audit_queries_are_the_clis(web):
    tok = web.token("ci", "admin")
    web.req("POST", "/api/v1/login", json={"user": "admin", "password": "wrong"})
    web.req("POST", "/api/v1/assets", token=tok, json={"name": "w1", "address": "127.0.0.1"})
    for q in ("logins", "changes", "sessions"):
        r = web.req("GET", f"/api/v1/audit/{q}", token=tok)
        assert r.status_code == 200, r.text
        assert r.json()["items"] == json.loads(web.g.cli("audit", q, "--json").stdout), q
    r = web.req("GET", "/api/v1/audit/changes", token=tok, params={"user": "token:ci"})
    assert [e["method"] for e in r.json()["items"]] == ["asset add"]
    r = web.req("GET", "/api/v1/audit/logins", token=tok, params={"limit": 1})
    assert len(r.json()["items"]) == 1
    assert web.req("GET", "/api/v1/audit/nope", token=tok).status_code == 404
    assert web.req("GET", "/api/v1/audit/logins?limit=0", token=tok).status_code == 400
    assert web.req("GET", "/api/v1/audit/logins?since=yesterday", token=tok).status_code == 400
    r = web.req("GET", "/api/v1/audit/verify", token=tok)
    assert r.status_code == 200 and r.json()["clean"] is True, r.text
    assert r.json() == json.loads(web.g.cli("audit", "verify", "--json").stdout)


def test_web_process_ends_with_its_master(gh_bin, tmp_path, target):
    """A master killed outright (SIGKILL) takes its web process with it: no
    orphan keeps the port and answers for a Gatehouse that is gone. Fails
    without the parent-death signal set after the privilege drop."""
    from sshenv import Gatehouse
    g = Gatehouse(gh_bin, str(tmp_path), target)
    g.start()
    try:
        assert wait_for(lambda: port_open(g.web_port), timeout=30), g.read_log()
        out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(g.proc.pid)],
                             capture_output=True, text=True).stdout
        web_pid = [int(ln.split()[0]) for ln in out.splitlines() if ln.split()[1:] == ["gh-web"]]
        assert len(web_pid) == 1, out
        g.proc.kill()
        g.proc.wait(timeout=10)
        assert wait_for(lambda: not os.path.exists(f"/proc/{web_pid[0]}")
                        or open(f"/proc/{web_pid[0]}/stat").read().split()[2] == "Z",
                        timeout=10), "the web process outlived its master"
        assert wait_for(lambda: not port_open(g.web_port), timeout=10)
    finally:
        g.stop()
