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
