"""Access requests over SSH (docs/SSH.md `request`): a user asks Gatehouse
itself on a plain login; an approver decides through the REST API (TLS
pinned as in test_web_api.py); the user's next login works until the minutes
asked have passed."""
import json

from test_web_api import Web, web  # noqa: F401 (fixture)
from sshenv import ALICE_PW, UNIX_DEPLOY, ssh_run, target, wait_for  # noqa: F401


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
    assert web.req("POST", "/api/v1/access-requests/999/approve",
                   token=tok["carol"]).status_code == 404
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
                  ("token:t-carol", "access approve", "ok"),
                  ("token:ci", "access deny", "ok")], ch
    # no approvers any more: carol decides nothing under /prod
    g.cli("node", "set", "/prod", "--no-approvers")
    r3 = web.req("POST", "/api/v1/access-requests", token=tok["alice"],
                 json={"asset": "db01", "account": UNIX_DEPLOY}).json()["id"]
    assert web.req("POST", f"/api/v1/access-requests/{r3}/deny",
                   token=tok["carol"]).status_code == 403
