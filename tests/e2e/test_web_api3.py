"""The REST API's login ACLs, command groups and filters, command review
requests and user lock/unlock/disable/enable (docs/API.md), against a real
`gatehouse serve`: 401, 403 for roles that may not, 400 for a bad body,
the CLI's JSON shapes, the change events with actor token:NAME, and the
contract end to end with a real ssh client."""
import json
import os
import threading
import uuid

import pexpect
import pytest

from sshenv import (ALICE_PW, PROMPT_RE, UNIX_DEPLOY, running_gatehouse,  # noqa: F401
                    setup_ghenv, ssh_run, ssh_spawn, target, wait_for)
from test_web_api import Web

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


@pytest.fixture
def web(gh_bin, tmp_path, target):  # noqa: F811
    with running_gatehouse(gh_bin, tmp_path, target,
                           extra_conf="per_source_penalty_failures = 50\n") as g:
        yield Web(g, str(tmp_path))


def tokens(web):
    """An admin, an auditor and a user token."""
    web.g.cli("user", "add", "aud", "--role", "auditor")
    web.g.cli("user", "add", "bob")
    return web.token("adm", "admin"), web.token("aud", "aud"), web.token("bob", "bob")


def changes(web):
    return [(e["user_name"], e["method"], e["result"]) for e in web.g.events("change")]


def check_gates(web, aud, usr, reads, writes):
    """401 without credentials everywhere; users get 403 everywhere;
    auditors read but may not write."""
    for m, p in reads + writes:
        assert web.req(m, p, json={}).status_code == 401, (m, p)
        assert web.req(m, p, token=usr, json={}).status_code == 403, (m, p)
    for m, p in writes:
        assert web.req(m, p, token=aud, json={}).status_code == 403, (m, p)
    for m, p in reads:
        assert web.req(m, p, token=aud).status_code in (200, 404), (m, p)


def bad_bodies(web, adm, path, bads):
    for bad in bads:
        r = web.req("POST", path, token=adm, json=bad)
        assert r.status_code == 400 and "error" in r.json(), (bad, r.text)
    r = web.req("POST", path, token=adm, data=b"{nope",
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert web.req("GET", "/api/health").status_code == 200  # still serving


def test_login_acls_routes_roles_and_contract(web, target):  # noqa: F811
    g = setup_ghenv(web.g, target)
    adm, aud, usr = tokens(web)
    check_gates(web, aud, usr, [("GET", "/api/v1/login-acls"), ("GET", "/api/v1/login-acls/x")],
                [("POST", "/api/v1/login-acls"), ("DELETE", "/api/v1/login-acls/x")])
    bad_bodies(web, adm, "/api/v1/login-acls", (
        {}, {"name": "r", "action": "deny"},                       # for nobody
        {"name": "r", "users": ["alice"]},                         # no action
        {"name": "r", "users": ["alice"], "action": "maybe"},
        {"name": "r", "users": "alice", "action": "deny"},
        {"name": "r", "users": ["nobody"], "action": "deny"},      # unknown user
        {"name": "r", "users": ["alice"], "action": "deny", "sources": ["not-an-ip"]},
        {"name": "r", "users": ["alice"], "action": "deny", "schedule": "Funday 25:00"},
        {"name": "r", "users": ["alice"], "action": "deny", "priority": 0},
        {"name": "bad name", "users": ["alice"], "action": "deny"},
        {"name": "r", "users": ["alice"], "action": "deny", "extra": 1}))
    # alice may log in; a deny rule from 127.0.0.0/8 created through the API refuses her
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode == 0
    r = web.req("POST", "/api/v1/login-acls", token=adm,
                json={"name": "no-lo", "users": ["alice"], "action": "deny",
                      "sources": ["127.0.0.1/8"], "priority": 10})
    assert r.status_code == 201, r.text
    acl = r.json()
    assert acl["sources"] == ["127.0.0.0/8"] and acl["users"] == ["alice"], acl
    cli = json.loads(g.cli("loginacl", "list", "--json").stdout)
    assert cli == [acl]
    assert web.req("GET", "/api/v1/login-acls", token=aud).json() == {"items": [acl],
                                                                       "next": None}
    assert web.req("GET", "/api/v1/login-acls/no-lo", token=aud).json() == acl
    assert web.req("GET", "/api/v1/login-acls/nope", token=aud).status_code == 404
    assert web.req("POST", "/api/v1/login-acls", token=adm,
                   json={"name": "no-lo", "users": ["alice"],
                         "action": "allow"}).status_code == 409
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode != 0
    r = web.req("DELETE", "/api/v1/login-acls/no-lo", token=adm)
    assert r.status_code == 200 and r.json() == {"deleted": "no-lo"}
    assert web.req("DELETE", "/api/v1/login-acls/no-lo", token=adm).status_code == 404
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode == 0
    ch = changes(web)
    for what in ("loginacl add", "loginacl del"):
        assert ("token:adm", what, "ok") in ch, ch
    assert g.cli("audit", "verify").returncode == 0


def test_cmdgroups_and_filters_routes_roles_and_contract(web, target):  # noqa: F811
    g = setup_ghenv(web.g, target)
    adm, aud, usr = tokens(web)
    check_gates(web, aud, usr,
                [("GET", "/api/v1/cmdgroups"), ("GET", "/api/v1/cmdgroups/x"),
                 ("GET", "/api/v1/cmdfilters"), ("GET", "/api/v1/cmdfilters/x")],
                [("POST", "/api/v1/cmdgroups"), ("DELETE", "/api/v1/cmdgroups/x"),
                 ("POST", "/api/v1/cmdfilters"), ("DELETE", "/api/v1/cmdfilters/x")])
    cmd = [{"type": "command", "pattern": "rm"}]
    bad_bodies(web, adm, "/api/v1/cmdgroups", (
        {}, {"name": "g"}, {"name": "g", "patterns": []},
        {"name": "g", "patterns": ["rm"]},
        {"name": "g", "patterns": [{"type": "glob", "pattern": "rm"}]},
        {"name": "g", "patterns": [{"type": "regex", "pattern": "("}]},
        {"name": "g", "patterns": cmd, "kind": "ftp"},
        {"name": "g g", "patterns": cmd}, {"name": "g", "patterns": cmd, "x": 1}))
    r = web.req("POST", "/api/v1/cmdgroups", token=adm,
                json={"name": "danger", "patterns": cmd + [{"type": "regex",
                                                            "pattern": r"^shutdown\b"}]})
    assert r.status_code == 201, r.text
    grp = r.json()
    assert grp["kind"] == "shell" and not grp["ignore_case"]
    r = web.req("POST", "/api/v1/cmdgroups", token=adm,
                json={"name": "ddl", "kind": "sql",
                      "patterns": [{"type": "command", "pattern": "DROP TABLE"}]})
    assert r.status_code == 201 and r.json()["ignore_case"], r.text  # the CLI's sql rule
    cli = {x["name"]: x for x in json.loads(g.cli("cmdgroup", "list", "--json").stdout)}
    assert cli["danger"] == grp
    assert web.req("GET", "/api/v1/cmdgroups/danger", token=aud).json() == grp
    assert len(web.req("GET", "/api/v1/cmdgroups", token=aud).json()["items"]) == 2
    assert web.req("POST", "/api/v1/cmdgroups", token=adm,
                   json={"name": "danger", "patterns": cmd}).status_code == 409
    bad_bodies(web, adm, "/api/v1/cmdfilters", (
        {}, {"name": "f", "cmdgroups": ["danger"]},
        {"name": "f", "cmdgroups": ["danger"], "action": "explode"},
        {"name": "f", "cmdgroups": [], "action": "reject"},
        {"name": "f", "cmdgroups": ["nogroup"], "action": "reject"},
        {"name": "f", "cmdgroups": ["danger"], "action": "reject", "users": ["nobody"]},
        {"name": "f", "cmdgroups": ["danger"], "action": "reject", "nodes": ["//"]},
        {"name": "f", "cmdgroups": ["danger"], "action": "reject", "priority": 101},
        {"name": "f", "cmdgroups": "danger", "action": "reject"}))
    # the filter created through the API makes a real ssh command refused
    path = f"/tmp/ghapi-{uuid.uuid4().hex[:12]}"
    open(path, "w").close()
    os.chmod(path, 0o666)
    try:
        r = web.req("POST", "/api/v1/cmdfilters", token=adm,
                    json={"name": "no-danger", "cmdgroups": ["danger"], "action": "reject",
                          "priority": 10, "users": ["alice"], "assets": ["web01"]})
        assert r.status_code == 201, r.text
        flt = r.json()
        cli = json.loads(g.cli("cmdfilter", "list", "--json").stdout)
        assert cli == [flt]
        assert web.req("GET", "/api/v1/cmdfilters/no-danger", token=aud).json() == flt
        p = ssh_run(g, DIRECT, f"rm -f {path}", password=ALICE_PW)
        assert p.returncode == 126 and "rejected by command filter no-danger" in p.stderr, p
        assert os.path.exists(path)
        assert web.req("DELETE", "/api/v1/cmdgroups/danger", token=adm).status_code == 409
        assert web.req("DELETE", "/api/v1/cmdfilters/no-danger", token=adm).status_code == 200
        assert web.req("DELETE", "/api/v1/cmdfilters/no-danger", token=adm).status_code == 404
        assert web.req("DELETE", "/api/v1/cmdgroups/danger", token=adm).status_code == 200
        assert web.req("GET", "/api/v1/cmdgroups/danger", token=aud).status_code == 404
    finally:
        if os.path.exists(path):
            os.unlink(path)
    ch = changes(web)
    for what in ("cmdgroup add", "cmdgroup del", "cmdfilter add", "cmdfilter del"):
        assert ("token:adm", what, "ok") in ch, ch


def test_review_request_approved_and_denied_through_the_api(web, target):  # noqa: F811
    g = setup_ghenv(web.g, target)
    adm, aud, usr = tokens(web)
    check_gates(web, aud, usr, [("GET", "/api/v1/review-requests")],
                [("POST", "/api/v1/review-requests/1/approve"),
                 ("POST", "/api/v1/review-requests/1/deny")])
    g.cli("cmdgroup", "add", "hold", "touch")
    g.cli("cmdfilter", "add", "hold-touch", "--cmdgroup", "hold", "--action", "review")
    assert web.req("POST", "/api/v1/review-requests/abc/approve", token=adm).status_code == 404
    assert web.req("POST", "/api/v1/review-requests/999/approve", token=adm).status_code == 404
    for decision, rc in (("approve", 0), ("deny", 126)):
        path = f"/tmp/ghapi-{uuid.uuid4().hex[:12]}"
        res = {}
        t = threading.Thread(target=lambda: res.update(
            p=ssh_run(g, DIRECT, f"touch {path}", password=ALICE_PW, timeout=120)))
        t.start()
        try:
            pending = []
            assert wait_for(lambda: pending.extend(
                web.req("GET", "/api/v1/review-requests", token=aud).json()["items"])
                or pending, timeout=30), g.read_log()
            rq = pending[0]
            assert rq["state"] == "pending" and rq["command"] == f"touch {path}"
            assert not os.path.exists(path)
            r = web.req("POST", f"/api/v1/review-requests/{rq['id']}/{decision}", token=adm)
            assert r.status_code == 200, r.text
            done = r.json()
            state = "approved" if decision == "approve" else "denied"
            assert done["state"] == state and done["decided_by"] == "token:adm", done
            t.join(90)
            assert res["p"].returncode == rc, res["p"].stderr
            assert os.path.exists(path) == (decision == "approve")
            r = web.req("POST", f"/api/v1/review-requests/{rq['id']}/deny", token=adm)
            assert r.status_code == 409 and "not pending" in r.json()["error"]
            cli = json.loads(g.cli("request", "list", "--all", "--json").stdout)
            assert [x for x in cli if x["id"] == rq["id"]] == [done]
        finally:
            t.join(90)
            if os.path.exists(path):
                os.unlink(path)
    every = web.req("GET", "/api/v1/review-requests?all=1", token=aud).json()["items"]
    assert len(every) == 2
    ch = changes(web)
    for what in ("request approve", "request deny"):
        assert ("token:adm", what, "ok") in ch, ch


def test_user_lock_and_disable_through_the_api(web, target):  # noqa: F811
    g = setup_ghenv(web.g, target)
    adm, aud, usr = tokens(web)
    acts = ("lock", "unlock", "disable", "enable")
    check_gates(web, aud, usr, [], [("POST", f"/api/v1/users/alice/{a}") for a in acts])
    for a in acts:
        assert web.req("POST", f"/api/v1/users/nobody/{a}", token=adm).status_code == 404
    # a live interactive session ends when the user is locked through the API
    c = ssh_spawn(g, DIRECT, password=ALICE_PW)
    c.expect(PROMPT_RE)
    r = web.req("POST", "/api/v1/users/alice/lock", token=adm)
    assert r.status_code == 200, r.text
    assert r.json()["sessions_ended"] == 1, r.json()
    c.expect(pexpect.EOF, timeout=20)
    c.close()
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode != 0
    ev = [e for e in g.events("live") if e["method"] == "kill"]
    assert ev and ev[-1]["user_name"] == "token:adm", ev
    assert web.req("POST", "/api/v1/users/alice/unlock", token=adm).status_code == 200
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode == 0
    # disable likewise
    c = ssh_spawn(g, DIRECT, password=ALICE_PW)
    c.expect(PROMPT_RE)
    r = web.req("POST", "/api/v1/users/alice/disable", token=adm)
    assert r.status_code == 200 and r.json()["sessions_ended"] == 1, r.text
    c.expect(pexpect.EOF, timeout=20)
    c.close()
    u = web.req("GET", "/api/v1/users/alice", token=aud).json()
    assert u["disabled"] is True
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode != 0
    assert web.req("POST", "/api/v1/users/alice/enable", token=adm).status_code == 200
    assert ssh_run(g, DIRECT, "true", password=ALICE_PW).returncode == 0
    ch = changes(web)
    for a in acts:
        assert ("token:adm", f"user {a}", "ok") in ch, ch
    assert g.cli("audit", "verify").returncode == 0
