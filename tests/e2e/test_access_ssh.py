"""Access requests over SSH (docs/SSH.md `request`): a user asks Gatehouse
itself on a plain login; an approver decides through the REST API (TLS
pinned as in test_web_api.py); the user's next login works until the minutes
asked have passed."""
import http.server
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading

from test_web_api import Web, web  # noqa: F401 (fixture)
from sshenv import (ALICE_PW, UNIX_DEPLOY, running_gatehouse, ssh_run, target,  # noqa: F401
                    wait_for)


def test_access_request_over_ssh_approved_through_the_api(web, target):  # noqa: F811
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01")
    g.add_account("web01", UNIX_DEPLOY)
    admin = web.token("ci", "admin")
    login = f"alice@{UNIX_DEPLOY}@web01"
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode != 0 and "in" not in out.stdout.split(), out
    ask = (f"request web01 --account {UNIX_DEPLOY} --minutes 1 --ticket CHG-123 "
           "--reason 'disk \"full\" on $(hostname)'")
    p = ssh_run(g, "alice", ask, password=ALICE_PW)
    assert p.returncode == 0, p.stderr
    lst = json.loads(g.cli("access", "list", "--json").stdout)
    assert len(lst) == 1, lst
    rid = lst[0]["id"]
    assert f"access request {rid} stored" in p.stderr and "approver" in p.stderr, p.stderr
    assert {k: lst[0][k] for k in ("user", "asset", "account", "minutes", "ticket", "reason",
                                    "status")} == {
        "user": "alice", "asset": "web01", "account": UNIX_DEPLOY, "minutes": 1,
        "ticket": "CHG-123", "reason": 'disk "full" on $(hostname)', "status": "pending"}
    # the same request through the API sees it as the user's own
    r = web.req("GET", "/api/v1/access-requests", token=web.token("t-alice", "alice"))
    assert [x["id"] for x in r.json()["items"]] == [rid]
    # still refused while pending
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    r = web.req("POST", f"/api/v1/access-requests/{rid}/approve", token=admin)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode == 0 and out.stdout.strip() == "in", out.stderr
    ch = [(e["user_name"], e["method"], e["result"]) for e in g.events("change")
          if e["method"].startswith("access")]
    assert ch == [("ssh:alice", "access request", "ok"), ("token:ci", "access approve", "ok")]
    # the minute asked passes: the next login is refused again
    assert wait_for(lambda: ssh_run(g, login, "true", password=ALICE_PW).returncode != 0,
                    timeout=150, step=5)


def test_bad_request_over_ssh_is_usage_and_exit_2(web, target):  # noqa: F811
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01")
    for bad, why in (("request", "give the asset"),
                     ("request web01", "give --account"),
                     ("request web01 --account root --minutes 0", "--minutes"),
                     ("request web01 --account root --minutes 99999", "minutes"),
                     ("request web01 --account root --bogus x", "unknown option"),
                     ("request web01 --account 'root", "unbalanced"),
                     ("request nope --account root", "unknown asset")):
        p = ssh_run(g, "alice", bad, password=ALICE_PW)
        assert p.returncode == 2, (bad, p.returncode, p.stderr)
        assert why in p.stderr and "usage: request ASSET --account ACCOUNT" in p.stderr, \
            (bad, p.stderr)
    assert json.loads(g.cli("access", "list", "--json").stdout) == []
    # refused arguments store nothing; an unknown asset is audited as no change either
    assert [e for e in g.events("change") if e["method"] == "access request"] == []


def test_node_approvers_decide_requests_under_their_node(web, target):  # noqa: F811
    """`node set /prod --approvers dba`: a member of dba approves a request
    for an asset under /prod (and the login works); a user outside dba, an
    approver for their own request, and an approver of another node get
    403; admins decide everything."""
    g = web.g
    g.add_user("alice", password=ALICE_PW)
    for u in ("carol", "dave", "erin"):
        g.cli("user", "add", u)
    g.add_asset("db01", nodes=["/prod/db"])
    g.add_asset("web09", nodes=["/test"])
    g.add_account("db01", UNIX_DEPLOY)
    g.cli("group", "add", "dba")
    g.cli("group", "add", "testers")
    g.cli("group", "member", "add", "dba", "carol")
    g.cli("group", "member", "add", "dba", "erin")
    g.cli("group", "member", "add", "testers", "dave")
    g.cli("node", "set", "/prod", "--approvers", "dba")
    g.cli("node", "set", "/test", "--approvers", "testers")
    assert g.cli("node", "set", "/nope", "--approvers", "dba", check=1)
    assert g.cli("node", "set", "/prod", "--approvers", "nogroup", check=1)
    assert g.cli("node", "set", "/prod", check=2)
    nodes = {n["path"]: n["approvers"] for n in json.loads(g.cli("node", "list", "--json").stdout)}
    assert nodes == {"/prod": "dba", "/prod/db": None, "/test": "testers"}, nodes
    tok = {u: web.token(f"t-{u}", u) for u in ("alice", "carol", "dave", "erin")}
    admin = web.token("ci", "admin")
    login = f"alice@{UNIX_DEPLOY}@db01"
    p = ssh_run(g, "alice", f"request db01 --account {UNIX_DEPLOY} --minutes 5",
                password=ALICE_PW)
    assert p.returncode == 0, p.stderr
    rid = json.loads(g.cli("access", "list", "--json").stdout)[0]["id"]
    # erin (dba) asks too: her own request is not hers to decide
    r = web.req("POST", "/api/v1/access-requests", token=tok["erin"],
                json={"asset": "db01", "account": UNIX_DEPLOY, "minutes": 5})
    own = r.json()["id"]
    # approvers see the requests they decide; others only their own
    seen = lambda u: sorted(x["id"] for x in web.req(  # noqa: E731
        "GET", "/api/v1/access-requests", token=tok[u]).json()["items"])
    assert seen("carol") == sorted([rid, own]) and seen("dave") == [] and seen("alice") == [rid]
    for u in ("dave", "alice"):
        r = web.req("POST", f"/api/v1/access-requests/{rid}/approve", token=tok[u])
        assert r.status_code == 403 and "error" in r.json(), (u, r.text)
    r = web.req("POST", f"/api/v1/access-requests/{own}/approve", token=tok["erin"])
    assert r.status_code == 403, r.text
    # below admin an unknown id answers as a request one may not decide
    assert web.req("POST", "/api/v1/access-requests/999/approve",
                   token=tok["carol"]).status_code == 403
    assert web.req("POST", "/api/v1/access-requests/999/approve",
                   token=admin).status_code == 404
    assert ssh_run(g, login, "echo in", password=ALICE_PW).returncode != 0
    r = web.req("POST", f"/api/v1/access-requests/{rid}/approve", token=tok["carol"])
    assert r.status_code == 200 and r.json()["decided_by"] == "token:t-carol", r.text
    out = ssh_run(g, login, "echo in", password=ALICE_PW)
    assert out.returncode == 0 and out.stdout.strip() == "in", out.stderr
    r = web.req("POST", f"/api/v1/access-requests/{own}/deny", token=admin)
    assert r.status_code == 200 and r.json()["status"] == "denied", r.text
    ch = [(e["user_name"], e["method"], e["result"]) for e in g.events("change")
          if e["method"] in ("access approve", "access deny")]
    assert ch == [("token:t-dave", "access approve", "error"),
                  ("token:t-alice", "access approve", "error"),
                  ("token:t-erin", "access approve", "error"),
                  ("token:t-carol", "access approve", "error"),
                  ("token:ci", "access approve", "error"),
                  ("token:t-carol", "access approve", "ok"),
                  ("token:ci", "access deny", "ok")], ch
    # no approvers any more: carol decides nothing under /prod
    g.cli("node", "set", "/prod", "--no-approvers")
    r3 = web.req("POST", "/api/v1/access-requests", token=tok["alice"],
                 json={"asset": "db01", "account": UNIX_DEPLOY}).json()["id"]
    assert web.req("POST", f"/api/v1/access-requests/{r3}/deny",
                   token=tok["carol"]).status_code == 403


class Receiver:
    """An HTTPS server on loopback (its own self-signed certificate) that
    answers the first FAIL POSTs with 500, then 200, and keeps the bodies
    it accepted."""

    def __init__(self, fail=1):
        d = tempfile.mkdtemp(prefix="gh-hook-")
        os.chmod(d, 0o755)  # the export process may run as the workers' user
        self.cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", self.cert], check=True, capture_output=True)
        os.chmod(self.cert, 0o644)
        self.got, self.tries, self.fail = [], 0, fail
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers["Content-Length"])
                body = self.rfile.read(n)
                outer.tries += 1
                ok = outer.tries > outer.fail
                if ok:
                    outer.got.append((self.path, self.headers["Content-Type"],
                                      json.loads(body)))
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()
        self.dir = d

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_notify_webhook_posts_requests_and_decisions(gh_bin, tmp_path, target):  # noqa: F811
    """notify_webhook receives a JSON POST for the request (made over SSH)
    and for its approval; the first POST is answered 500, logged and
    retried."""
    rcv = Receiver(fail=1)
    try:
        conf = (f"notify_webhook = https://127.0.0.1:{rcv.port}/hook?x=1\n"
                f"notify_webhook_ca = {rcv.cert}\n")
        with running_gatehouse(gh_bin, tmp_path, target, extra_conf=conf) as g:
            web = Web(g, str(tmp_path))
            g.add_user("alice", password=ALICE_PW)
            g.add_asset("web01")
            p = ssh_run(g, "alice", f"request web01 --account {UNIX_DEPLOY} --ticket CHG-9",
                        password=ALICE_PW)
            assert p.returncode == 0, p.stderr
            rid = json.loads(g.cli("access", "list", "--json").stdout)[0]["id"]
            assert wait_for(lambda: len(rcv.got) == 1, timeout=30), (rcv.tries, g.read_log())
            r = web.req("POST", f"/api/v1/access-requests/{rid}/approve",
                        token=web.token("ci", "admin"))
            assert r.status_code == 200, r.text
            assert wait_for(lambda: len(rcv.got) == 2, timeout=30), (rcv.tries, g.read_log())
            assert rcv.tries == 3
            assert "notify_webhook: event" in g.read_log() and "answered 500" in g.read_log()
    finally:
        rcv.close()
    (p1, ct1, b1), (p2, _, b2) = rcv.got
    assert p1 == "/hook?x=1" and ct1 == "application/json"
    assert (b1["method"], b1["user"], b1["detail"], b1["result"]) == \
        ("access request", "ssh:alice", str(rid), "ok")
    assert (b2["method"], b2["user"], b2["detail"]) == ("access approve", "token:ci", str(rid))


def test_notify_webhook_refuses_a_certificate_it_does_not_trust(gh_bin, tmp_path,  # noqa: F811
                                                               target):
    """A receiver whose certificate does not chain to notify_webhook_ca
    gets nothing; the refusal is logged, and the request over SSH is served
    as usual."""
    rcv, other = Receiver(fail=0), Receiver(fail=0)
    try:
        conf = (f"notify_webhook = https://127.0.0.1:{rcv.port}/hook\n"
                f"notify_webhook_ca = {other.cert}\n")
        with running_gatehouse(gh_bin, tmp_path, target, extra_conf=conf) as g:
            g.add_user("alice", password=ALICE_PW)
            g.add_asset("web01")
            p = ssh_run(g, "alice", f"request web01 --account {UNIX_DEPLOY}", password=ALICE_PW)
            assert p.returncode == 0, p.stderr
            assert wait_for(lambda: "TLS with 127.0.0.1 refused" in g.read_log(), timeout=30), \
                g.read_log()
            assert rcv.tries == 0 and rcv.got == []
    finally:
        rcv.close()
        other.close()
