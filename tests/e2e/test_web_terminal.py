"""The web terminal (GET /api/v1/terminal, docs/WEB.md) without a browser:
python3-websocket against the real `gatehouse serve` and a real sshd target.
The terminal goes through the session core as SSH does: the gate, credential
injection, recording, the command filter, kill with the operator's reason,
audit; the session row's protocol is `web`."""
import json
import os

import pytest
import websocket

from cmdfilterenv import REJECTED, victim  # noqa: F401 (fixture)
from sshenv import (PROMPT_RE, UNIX_DEPLOY, running_gatehouse, setup_ghenv,  # noqa: F401
                    target, wait_for)
from test_web_api import Web
from webterm import WebTerm

pytestmark_protocol = True


@pytest.fixture
def wt(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target) as g:
        setup_ghenv(g, target)
        w = Web(g, str(tmp_path))
        w.alice = w.token("t-alice", "alice")
        yield w


def term(w, token=None, account=UNIX_DEPLOY, **kw):
    return WebTerm(w.g.web_port, w.ca, "web01", account, token=token or w.alice, **kw)


def web_rows(g):
    return [s for s in g.sessions() if s["protocol"] == "web"]


def test_terminal_runs_a_command_resizes_and_is_recorded(wt):
    """Open with a token, run a command and read its output, resize (stty
    size follows), the row shows protocol web in `session list`, and the
    recording replays the command."""
    g = wt.g
    t = term(wt, cols=100, rows=30)
    try:
        t.expect(PROMPT_RE)
        t.send("stty size\r")
        t.expect(r"30 100")
        t.expect(PROMPT_RE)
        t.resize(123, 45)
        t.send("echo web-$((6*7))\r")
        t.expect(r"web-42")
        t.expect(PROMPT_RE)
        t.send("stty size\r")
        t.expect(r"45 123")
        t.expect(PROMPT_RE)
        rows = web_rows(g)
        assert len(rows) == 1 and not rows[0]["ended_at"], g.sessions()
        assert rows[0]["asset_name"] == "web01" and rows[0]["account"] == UNIX_DEPLOY
        assert rows[0]["user_name"] == "alice"
        listed = g.cli("session", "list", "--active").stdout.splitlines()
        head = listed[0].split()
        line = next(x.split() for x in listed if x.startswith(rows[0]["id"][:8]))
        assert line[head.index("PROTO")] == "web" and line[head.index("ASSET")] == "web01", listed
        t.send("exit\r")
        closed = t.wait_closed()
        assert closed["killed"] is False and closed["session"] == rows[0]["id"], closed
    finally:
        t.close()
    sid = rows[0]["id"]
    assert wait_for(lambda: web_rows(g)[0]["ended_at"], timeout=15)
    replay = g.cli("replay", sid, "--speed", "1000", check=0).stdout
    assert "web-42" in replay and "echo web-$((6*7))" in replay, replay[-2000:]
    starts = [e for e in g.events("session") if e.get("session_id") == sid]
    assert starts, g.events("session")
    logins = [e for e in g.events("login") if e["method"] == "web" and e["result"] == "success"]
    assert logins and logins[-1]["user_name"] == "alice", g.events("login")


def test_kill_sends_the_operators_reason(wt):
    """`gatehouse session kill ID --reason X` ends the browser's terminal with
    {"type":"closed","reason":"X"} and then the socket closes."""
    g = wt.g
    t = term(wt)
    try:
        t.expect(PROMPT_RE)
        assert wait_for(lambda: web_rows(g) and os.path.exists(
            os.path.join(g.data, "run", web_rows(g)[0]["id"] + ".sock")), timeout=20)
        sid = web_rows(g)[0]["id"]
        g.cli("session", "kill", sid, "--reason", "maintenance window", check=0)
        closed = t.wait_closed()
        assert closed == {"type": "closed", "reason": "maintenance window", "killed": True,
                          "session": sid}, closed
        assert wait_for(lambda: t._read_one(0.5) is False and t.eof, timeout=10)
    finally:
        t.close()
    assert web_rows(g)[0]["close_reason"] == "killed: maintenance window"


def test_rejected_command_is_refused_as_over_ssh(wt, victim):  # noqa: F811
    """The interactive command filter sees the web terminal's input: a
    rejected `rm` is refused with the same message, the file stays."""
    g = wt.g
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    t = term(wt)
    try:
        t.expect(PROMPT_RE)
        t.send(f"rm -rf {victim}\r")
        t.expect(REJECTED)
        t.expect(PROMPT_RE)
        t.send(f"cat {victim}\r")
        t.expect("keep")
    finally:
        t.close()
    assert os.path.exists(victim)
    ev = [e for e in g.events("command") if e.get("result") == "reject"]
    assert ev, g.events("command")


def test_unauthenticated_is_refused_with_an_event(wt):
    """No credentials, a wrong token, or a cookie from another origin: the
    upgrade is refused and audited; no session row, no target connection."""
    g = wt.g
    for kw in ({"token": "ghp_" + "0" * 64},):
        with pytest.raises(websocket.WebSocketException):
            term(wt, **kw)
    with pytest.raises(websocket.WebSocketException):
        WebTerm(g.web_port, wt.ca, "web01", UNIX_DEPLOY)
    r = wt.req("POST", "/api/v1/login", json={"user": "alice", "password": g.alice_pw})
    assert r.status_code == 200, r.text
    cookie = "; ".join(f"{k}={v}" for k, v in r.cookies.items())
    with pytest.raises(websocket.WebSocketException):
        WebTerm(g.web_port, wt.ca, "web01", UNIX_DEPLOY, cookie=cookie,
                origin="https://evil.example")
    t = WebTerm(g.web_port, wt.ca, "web01", UNIX_DEPLOY, cookie=cookie,
                origin=f"https://127.0.0.1:{g.web_port}")
    t.expect(PROMPT_RE)
    t.close()
    ev = [e for e in g.events("login") if e["method"] == "web-terminal"]
    reasons = sorted({e["reason"] for e in ev})
    assert all(e["result"] == "failure" for e in ev), ev
    assert "authentication required" in reasons and "cross-origin WebSocket" in reasons, ev


def test_unpermitted_is_refused_by_the_gate(wt):
    """A user without a permission on the asset: the gate refuses (a policy
    event) before any target connection, and the terminal says why."""
    g = wt.g
    g.add_user("bob", password="bob-pw-5Rt9x")
    tok = wt.token("t-bob", "bob")
    t = term(wt, token=tok)
    try:
        closed = t.wait_closed()
    finally:
        t.close()
    assert "not permitted" in closed["reason"] and closed["killed"] is False, closed
    deny = [e for e in g.events("policy") if e["user_name"] == "bob"]
    assert deny and deny[-1]["result"] == "deny", g.events("policy")
    rows = [s for s in g.sessions() if s["user_name"] == "bob"]
    assert all(not s["bytes_out"] for s in rows), rows
    # a plain GET is told to upgrade
    r = wt.req("GET", "/api/v1/terminal?asset=web01&account=x", token=tok)
    assert r.status_code == 426 and "WebSocket" in json.dumps(r.json()), r.text


def test_browser_going_ends_the_session(wt):
    """A terminal left open outlives the master's sweep of lost workers
    (every 10 s: its SSH worker has the workers' process name; it was
    closed as "worker lost" without the fix); a socket that closes (a tab
    closed) ends the session as the user closing the channel over SSH."""
    g = wt.g
    t = term(wt)
    t.expect(PROMPT_RE)
    assert wait_for(lambda: web_rows(g), timeout=10)
    assert not wait_for(lambda: web_rows(g)[0]["ended_at"], timeout=12), web_rows(g)
    t.send("echo still-$((1+1))\r")
    t.expect("still-2")
    t.close()
    assert wait_for(lambda: web_rows(g)[0]["ended_at"], timeout=20), g.sessions()
    assert web_rows(g)[0]["close_reason"] == "user closed the channel", web_rows(g)
