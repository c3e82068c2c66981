"""Command filters on exec requests end to end: a rejected exec never
reaches the target, an accepted one runs, warn runs and is flagged, review
waits for `gatehouse request approve|deny` from a second CLI process.
Real OpenSSH client -> gatehouse serve -> real sshd."""
import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_run, wait_for

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def command_events(g):
    return [e for e in g.events("command")]


def marker_path():
    return f"/tmp/ghcf-{uuid.uuid4().hex[:12]}"


def run(g, *cmd, timeout=60):
    return ssh_run(g, DIRECT, *cmd, password=g.alice_pw, timeout=timeout)


@pytest.fixture
def danger(ghenv):
    g = ghenv
    g.cli("cmdgroup", "add", "danger", "--cmd", "rm", "--regex", r"^shutdown\b", "--ignore-case")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject",
          "--priority", "10")
    return g


def test_exec_rejected_never_reaches_target(danger):
    g = danger
    path = marker_path()
    open(path, "w").close()
    os.chmod(path, 0o666)
    try:
        p = run(g, f"ls /tmp >/dev/null; rm -f {path}")
        assert p.returncode == 126, (p.returncode, p.stdout, p.stderr)
        assert "rejected by command filter no-danger" in p.stderr
        assert p.stderr.count("\n") == 1, p.stderr  # one line
        assert os.path.exists(path)
        ev = command_events(g)
        assert len(ev) == 1
        e = ev[0]
        assert (e["method"], e["result"], e["reason"]) == ("exec", "reject", "no-danger")
        assert e["detail"] == f'cmd="ls /tmp >/dev/null; rm -f {path}" group=danger'
        assert e["user_name"] == "alice" and e["asset_name"] == "web01"
        assert e["account"] == UNIX_DEPLOY and e["session_id"]
        # ignore-case regex; the session never started a target connection
        p = run(g, "SHUTDOWN -h now")
        assert p.returncode == 126
        assert not [e for e in g.events("session") if e["result"] == "start"]
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_exec_accepted_runs(danger):
    g = danger
    p = run(g, "echo hello-$((6*7)); rmdir --version >/dev/null")
    assert p.returncode == 0, p.stderr
    assert "hello-42" in p.stdout
    ev = command_events(g)
    assert [(e["method"], e["result"], e["reason"]) for e in ev] == [("exec", "accept", None)]


def test_exec_accept_filter_named(ghenv):
    g = ghenv
    g.cli("cmdgroup", "add", "readonly", "ls", "id")
    g.cli("cmdfilter", "add", "ro", "--cmdgroup", "readonly", "--action", "accept",
          "--user", "alice", "--asset", "web01")
    p = run(g, "id -un")
    assert p.returncode == 0 and p.stdout.strip() == UNIX_DEPLOY
    e = command_events(g)[-1]
    assert (e["result"], e["reason"]) == ("accept", "ro")
    assert e["detail"] == 'cmd="id -un" group=readonly'


def test_exec_selectors_other_user_unaffected(ghenv):
    g = ghenv
    g.cli("user", "add", "bob")
    g.cli("cmdgroup", "add", "ids", "id")
    g.cli("cmdfilter", "add", "bob-no-id", "--cmdgroup", "ids", "--action", "reject",
          "--user", "bob")
    g.cli("cmdfilter", "add", "other-account", "--cmdgroup", "ids", "--action", "reject",
          "--account", "ghtest-ops")
    p = run(g, "id -un")
    assert p.returncode == 0, p.stderr
    g.cli("cmdfilter", "add", "deploy-no-id", "--cmdgroup", "ids", "--action", "reject",
          "--node", "/prod", "--account", UNIX_DEPLOY)
    p = run(g, "id -un")
    assert p.returncode == 126 and "deploy-no-id" in p.stderr


def test_exec_warn_flagged(ghenv):
    g = ghenv
    g.cli("cmdgroup", "add", "sys", "uname")
    g.cli("cmdfilter", "add", "watch-sys", "--cmdgroup", "sys", "--action", "warn")
    p = run(g, "uname -s")
    assert p.returncode == 0 and p.stdout.strip() == "Linux"
    e = command_events(g)[-1]
    assert (e["result"], e["reason"]) == ("warn", "watch-sys")
    assert wait_for(lambda: "flagged by command filter watch-sys" in g.read_log(), timeout=10)


def test_exec_legacy_scp_filtered(ghenv, tmp_path):
    g = ghenv
    g.cli("cmdgroup", "add", "copy", "scp")
    g.cli("cmdfilter", "add", "no-scp", "--cmdgroup", "copy", "--action", "reject")
    src = tmp_path / "f.txt"
    src.write_text("x")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=g.alice_pw, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    p = subprocess.run(["scp", "-O", "-F", "/dev/null", "-P", str(g.port),
                        "-o", f"UserKnownHostsFile={g.known_hosts}",
                        "-o", "StrictHostKeyChecking=accept-new", "-o", "IdentitiesOnly=yes",
                        "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no",
                        str(src), f"{DIRECT}@127.0.0.1:/tmp/"],
                       capture_output=True, text=True, env=env, timeout=60,
                       start_new_session=True)
    assert p.returncode != 0
    e = command_events(g)[-1]
    assert (e["method"], e["result"], e["reason"]) == ("exec", "reject", "no-scp")
    assert e["detail"].startswith('cmd="scp ')


def _review_setup(g, timeout=None):
    if timeout:
        g.stop()
        g.write_conf(f"review_timeout = {timeout}\n")
        g.start()
    g.cli("cmdgroup", "add", "hold", "touch")
    g.cli("cmdfilter", "add", "hold-touch", "--cmdgroup", "hold", "--action", "review")


def _wait_pending(g):
    found = {}

    def pending():
        p = g.cli("request", "list", "--json", check=None)
        if p.returncode != 0:
            return False
        v = json.loads(p.stdout)
        if v:
            found.update(v[0])
        return bool(v)

    assert wait_for(pending, timeout=30), g.read_log()
    return found


def _exec_bg(g, cmd):
    res = {}

    def go():
        res["p"] = run(g, cmd, timeout=120)

    t = threading.Thread(target=go)
    t.start()
    return t, res


def test_exec_review_approved(ghenv):
    g = ghenv
    _review_setup(g)
    path = marker_path()
    t, res = _exec_bg(g, f"touch {path}")
    try:
        req = _wait_pending(g)
        assert req["state"] == "pending" and req["command"] == f"touch {path}"
        assert req["filter"] == "hold-touch" and req["user"] == "alice"
        assert not os.path.exists(path)  # held
        p = g.cli("request", "approve", str(req["id"]))  # a second CLI process
        assert f"request {req['id']} approved" in p.stdout
        t.join(90)
        p = res["p"]
        assert p.returncode == 0, p.stderr
        assert "held for review" in p.stderr and f"request {req['id']}" in p.stderr
        assert os.path.exists(path)
        e = command_events(g)[-1]
        assert (e["result"], e["reason"]) == ("review-approved", "hold-touch")
        done = json.loads(g.cli("request", "list", "--all", "--json").stdout)[0]
        assert done["state"] == "approved" and done["decided_by"].startswith("os:")
        # decided once only
        p = g.cli("request", "deny", str(req["id"]), check=1)
        assert "is approved, not pending" in p.stderr
    finally:
        t.join(90)
        if os.path.exists(path):
            os.unlink(path)


def test_exec_review_denied(ghenv):
    g = ghenv
    _review_setup(g)
    path = marker_path()
    t, res = _exec_bg(g, f"touch {path}")
    try:
        req = _wait_pending(g)
        g.cli("request", "deny", str(req["id"]))
        t.join(90)
        p = res["p"]
        assert p.returncode == 126
        assert "denied by the reviewer" in p.stderr
        assert not os.path.exists(path)
        e = command_events(g)[-1]
        assert (e["result"], e["reason"]) == ("review-denied", "hold-touch")
    finally:
        t.join(90)
        if os.path.exists(path):
            os.unlink(path)


def test_exec_review_timeout(ghenv):
    g = ghenv
    _review_setup(g, timeout=2)
    path = marker_path()
    p = run(g, f"touch {path}", timeout=90)
    assert p.returncode == 126
    assert "no review decision in time" in p.stderr
    assert not os.path.exists(path)
    e = command_events(g)[-1]
    assert e["result"] == "review-timeout"
    v = json.loads(g.cli("request", "list", "--all", "--json").stdout)
    assert v[0]["state"] == "expired"
    assert g.cli("request", "approve", str(v[0]["id"]), check=1).returncode == 1


def test_cli_errors(ghenv):
    g = ghenv
    assert "bad regex" in g.cli("cmdgroup", "add", "x", "--regex", "(", check=2).stderr
    assert g.cli("cmdgroup", "add", "x", check=2)
    g.cli("cmdgroup", "add", "x", "ls")
    g.cli("cmdgroup", "add", "x", "ls", check=1)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", check=2)  # no action
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", "--action", "deny", check=2)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "nope", "--action", "reject", check=1)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", "--action", "reject", "--user", "nobody",
          check=1)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", "--action", "reject", "--priority", "0",
          check=2)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", "--action", "reject", "--usergroup",
          "nogroup", check=1)
    g.cli("cmdfilter", "add", "f", "--cmdgroup", "x", "--action", "reject")
    assert "used by a command filter" in g.cli("cmdgroup", "del", "x", check=1).stderr
    g.cli("cmdfilter", "del", "f")
    g.cli("cmdgroup", "del", "x")
    g.cli("request", "approve", "12345", check=1)
    g.cli("request", "approve", "abc", check=2)
    assert json.loads(g.cli("cmdfilter", "list", "--json").stdout) == []


# The bypass table of docs/COMMAND-FILTER.md, exec column: (id, command
# template with {x} the victim file, caught?).
BYPASS = [
    ("separator", "ls /tmp >/dev/null;rm -rf {x}", True),
    ("subst-command-word", "$(echo rm) -f {x}", True),
    ("script-file", "sh {d}/s.sh", True),  # a shell running a file: dynamic
    ("bash-c", "bash -c 'rm -f {x}'", True),
    ("multi-line", "echo one\nrm -f {x}", True),
    ("vim-shell-escape", "vim -es -u NONE -c '!rm -f {x}' -c 'q!'", False),
    ("base64-to-shell", "echo {b64} | base64 -d | sh", True),
]


@pytest.mark.parametrize("cmd,caught", [(c, k) for _, c, k in BYPASS],
                         ids=[i for i, _, _ in BYPASS])
def test_exec_bypass(danger, cmd, caught):
    import base64
    import shutil
    g = danger
    d = marker_path()
    os.mkdir(d)
    try:
        shutil.chown(d, UNIX_DEPLOY, UNIX_DEPLOY)
        x = os.path.join(d, "x")
        open(x, "w").close()
        shutil.chown(x, UNIX_DEPLOY, UNIX_DEPLOY)
        with open(os.path.join(d, "s.sh"), "w") as f:
            f.write(f"rm -f {x}\n")
        b64 = base64.b64encode(f"rm -f {x}\n".encode()).decode()
        p = run(g, cmd.format(x=x, d=d, b64=b64))
        if caught:
            assert p.returncode == 126, (p.returncode, p.stderr)
            assert "rejected" in p.stderr
            assert os.path.exists(x)
            assert command_events(g)[-1]["result"] == "reject"
        else:
            assert not os.path.exists(x), (p.returncode, p.stdout, p.stderr)
            assert command_events(g)[-1]["result"] == "accept"
    finally:
        shutil.rmtree(d, ignore_errors=True)


# Issue 11 item 3: each of these ran the rejected rm through code bash
# evaluates (arithmetic on a variable, a subscript, @P, xargs input, a
# script on stdin, BASH_ENV, source) and was logged "exec accept". Each
# must now be refused as dynamic: exit 126, one line saying why, the file
# kept, and a command event "reject" with reason "dynamic" and the reason
# in its detail. Fails without the dynamic classification (F is deleted).
DYNAMIC = [
    ("arith-var", "a='z[$(rm -f {x})]'; echo $((a))"),
    ("prompt-at-P", "x='$(rm -f {x})'; echo \"${{x@P}}\""),
    ("cond-eq", "[[ 'z[$(rm -f {x})]' -eq 0 ]]"),
    ("xargs-bash-c", "printf 'rm -f {x}' | xargs -0 bash -c"),
    ("bash-dev-stdin", "bash /dev/stdin <<< 'rm -f {x}'"),
    ("let", "a='z[$(rm -f {x})]'; let a"),
    ("declare-i", "declare -i b; a='z[$(rm -f {x})]'; b=a"),
    ("printf-v", "printf -v 'z[$(rm -f {x})]' x"),
    ("read", "read 'z[$(rm -f {x})]' <<< x"),
    ("test-v", "test -v 'z[$(rm -f {x})]'"),
    ("cond-v", "[[ -v 'a[$(rm -f {x})]' ]]"),
    ("declare-subscript", "declare 'a[$(rm -f {x})]=1'"),
    ("pipe-sh-c-sh", "echo 'rm -f {x}' | sh -c 'sh'"),
    ("pipe-newline-sh", "echo rm -f {x} |\nsh"),
    ("xargs-env", "echo rm -f {x} | xargs -L1 env"),
    ("bash-env", "BASH_ENV=<(echo 'rm -f {x}') bash -c true"),
    ("bash-env-export", "export BASH_ENV=<(echo 'rm -f {x}'); bash -c true"),
    ("source-procsubst", "source <(echo 'rm -f {x}')"),
    ("dot-procsubst", ". <(echo 'rm -f {x}')"),
    ("indirect", "a='z[$(rm -f {x})]'; echo ${{!a}}"),
    ("subscript-assign", "a='z[$(rm -f {x})]'; z[a]=1"),
]


@pytest.mark.parametrize("cmd", [c for _, c in DYNAMIC], ids=[i for i, _ in DYNAMIC])
def test_exec_dynamic_refused(danger, cmd):
    import shutil
    g = danger
    d = marker_path()
    os.mkdir(d)
    try:
        shutil.chown(d, UNIX_DEPLOY, UNIX_DEPLOY)
        x = os.path.join(d, "F")
        open(x, "w").close()
        shutil.chown(x, UNIX_DEPLOY, UNIX_DEPLOY)
        line = cmd.format(x=x)
        p = run(g, line)
        assert os.path.exists(x), (p.returncode, p.stdout, p.stderr)
        assert p.returncode == 126, (p.returncode, p.stderr)
        assert "command rejected: it cannot be analysed (dynamic: " in p.stderr, p.stderr
        assert p.stderr.count("\n") == 1, p.stderr
        e = command_events(g)[-1]
        assert (e["method"], e["result"], e["reason"]) == ("exec", "reject", "dynamic"), e
        assert e["detail"].startswith('cmd="') and ' dynamic="' in e["detail"], e
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_exec_dynamic_setting(ghenv):
    """cmdfilter_dynamic overrides auto: with `warn` a dynamic line runs,
    flagged (event warn, reason dynamic); with only a warn filter and auto
    it is warned, not rejected."""
    g = ghenv
    g.cli("cmdgroup", "add", "sys", "uname")
    g.cli("cmdfilter", "add", "watch-sys", "--cmdgroup", "sys", "--action", "warn")
    p = run(g, "x=3; echo n-$((x))")
    assert p.returncode == 0 and "n-3" in p.stdout, p.stderr
    e = command_events(g)[-1]
    assert (e["result"], e["reason"]) == ("warn", "dynamic"), e
    assert 'dynamic="arithmetic on a variable' in e["detail"]
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    p = run(g, "x=3; echo n-$((x))")
    assert p.returncode == 126 and "dynamic: arithmetic on a variable" in p.stderr
    g.stop()
    g.write_conf("cmdfilter_dynamic = warn\n")
    g.start()
    p = run(g, "x=3; echo n-$((x))")
    assert p.returncode == 0 and "n-3" in p.stdout, p.stderr
    assert command_events(g)[-1]["result"] == "warn"
    p = run(g, "rm -f /nonexistent-x $((x))")  # the rm filter still rejects
    assert p.returncode == 126 and "rejected by command filter no-danger" in p.stderr
