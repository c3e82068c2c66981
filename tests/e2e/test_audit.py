"""The tamper-evident audit trail end to end: `audit verify` reports an
edited, deleted, reordered or cut-off event and an altered or missing
recording; a real rsyslogd on loopback receives every event type as JSON
(also what was written while it was down), the JSON-lines file gets the
same events; the audit queries filter; recordings prune keeps open
sessions; CLI changes are "change" events."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, free_port, port_open, ssh_run, ssh_spawn, wait_for

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def _closed_sealed(g, n=1, timeout=20):
    def rows():
        return [s for s in g.sessions() if s["ended_at"] and s.get("recording_sha256")]
    assert wait_for(lambda: len(rows()) >= n, timeout=timeout), g.sessions()
    return rows()


def _verify(g, conf=None):
    args = (["--config", conf] if conf else []) + ["audit", "verify", "--json"]
    p = g.cli(*args, check=None)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def _tool(name):
    path = os.path.join(os.path.dirname(os.environ.get("GATEHOUSE_BIN", "build/gatehouse")), name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} not built next to the gatehouse binary")
    return path


def _emit(g, kind, user, asset, method, result, detail):
    env = dict(os.environ, GH_PG_PASSWORD_FILE=os.path.join(g.data, "db.password")) \
        if g.pg else None
    subprocess.run([_tool("audit_bench"), "emit", g.db_path(), kind,
                    user, asset, method, result, detail], check=True, timeout=60, env=env)


# -- verify --------------------------------------------------------------------

def test_verify_reports_each_kind_of_tampering(ghenv, tmp_path):
    g = ghenv
    p = ssh_run(g, DIRECT, "echo sealed-output", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    row = _closed_sealed(g)[0]
    rc, rep = _verify(g)
    assert rc == 0 and rep["clean"], rep
    assert rep["recordings"]["checked"] >= 1
    # the digest is the file's SHA-256, and it is chained as a "recording" event
    import hashlib
    data = open(row["recording_path"], "rb").read()
    assert hashlib.sha256(data).hexdigest() == row["recording_sha256"]
    seals = g.events("recording")
    assert any(row["recording_sha256"] in (e["detail"] or "") for e in seals), seals

    last = g.events()[-1]["id"]
    assert last >= 5

    def tampered(sql, expect_bad):
        copy = str(tmp_path / "copy.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(copy + suffix):
                os.unlink(copy + suffix)
        src = sqlite3.connect(g.db_path(), timeout=10)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        dst.executescript(sql)
        dst.commit()
        dst.close()
        conf = tmp_path / "copy.conf"
        conf.write_text(open(os.path.join(g.data, "gatehouse.conf")).read() +
                        f"database_path = {copy}\n")
        rc, rep = _verify(g, str(conf))
        assert rc == 1 and not rep["clean"] and not rep["events"]["ok"], (sql, rep)
        assert rep["events"]["bad_id"] == expect_bad, (sql, rep)
        return rep

    # edit one field of one event
    tampered("UPDATE events SET result = 'success' WHERE id = 2", 2)
    # delete one event in the middle: the next one no longer chains
    rep = tampered("DELETE FROM events WHERE id = 3", 4)
    assert "removed" in rep["events"]["problem"]
    # reorder: swap two events' places (ids)
    tampered("UPDATE events SET id = -1 WHERE id = 2; UPDATE events SET id = 2 WHERE id = 3;"
             " UPDATE events SET id = 3 WHERE id = -1;", 2)
    # delete the last event: the tip says it existed
    rep = tampered(f"DELETE FROM events WHERE id = {last}", last)
    assert "missing" in rep["events"]["problem"]

    # flip one byte of the recording (and restore it)
    path = row["recording_path"]
    orig = open(path, "rb").read()
    flipped = bytearray(orig)
    flipped[len(flipped) // 2] ^= 0x01
    try:
        with open(path, "wb") as f:
            f.write(flipped)
        rc, rep = _verify(g)
        assert rc == 1 and rep["events"]["ok"], rep
        probs = rep["recordings"]["problems"]
        assert any(x["session"] == row["id"] and x["problem"] == "altered" for x in probs), rep
        p = g.cli("audit", "verify", check=1)
        assert f"BAD recording of session {row['id']}" in p.stdout
        os.rename(path, path + ".moved")
        rc, rep = _verify(g)
        assert rc == 1
        assert any(x["session"] == row["id"] and x["problem"] == "missing"
                   for x in rep["recordings"]["problems"]), rep
        os.rename(path + ".moved", path)
    finally:
        with open(path, "wb") as f:
            f.write(orig)
    rc, rep = _verify(g)
    assert rc == 0, rep
    # the old name still works and checks the chain
    assert g.cli("event", "verify").stdout.strip() == "event chain intact"


# -- change events -------------------------------------------------------------

def test_cli_changes_are_audited(gatehouse):
    g = gatehouse
    g.cli("user", "add", "dave", "--password-stdin", stdin="dave-secret-9Xq\n")
    g.cli("group", "add", "ops")
    g.cli("group", "member", "add", "ops", "dave")
    g.cli("user", "list")                   # read-only: no event
    g.cli("user", "del", "nobody", check=1)  # refused: an "error" change
    g.cli("user", "add", check=2)            # usage error: nothing changed, no event
    ch = g.events("change")
    import pwd
    me = "os:" + pwd.getpwuid(os.getuid()).pw_name
    methods = [(e["method"], e["result"]) for e in ch]
    assert ("user add", "ok") in methods and ("group add", "ok") in methods
    assert ("group member add", "ok") in methods
    assert ("user del", "error") in methods
    assert not any(m == "user list" for m, _ in methods)
    assert all(e["user_name"] == me for e in ch)
    add = next(e for e in ch if e["method"] == "user add")
    assert '"dave"' in add["detail"] and "--password-stdin" in add["detail"]
    assert not any("dave-secret" in json.dumps(e) for e in g.events())
    q = json.loads(g.cli("audit", "changes", "--json").stdout)
    assert {x["event"] for x in q} == {"operate_log"}
    assert any(x["method"] == "group member add" for x in q)


# -- export ----------------------------------------------------------------------

class Rsyslog:
    """rsyslogd with its own config, pid file and work dir, receiving RFC 5424
    over TCP on a loopback port and writing "MSGID MSG" lines to a file."""

    def __init__(self, tmp, port):
        self.dir = os.path.join(tmp, "rsyslog")
        os.makedirs(os.path.join(self.dir, "work"), exist_ok=True)
        self.port = port
        self.out = os.path.join(self.dir, "received.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        with open(self.conf, "w") as f:
            f.write(f'global(workDirectory="{self.dir}/work" maxMessageSize="64k")\n'
                    'module(load="imtcp")\n'
                    f'input(type="imtcp" port="{port}" address="127.0.0.1")\n'
                    'template(name="gh" type="string" string="%msgid% %msg%\\n")\n'
                    f'action(type="omfile" file="{self.out}" template="gh")\n')
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "rsyslogd.log"), "a")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=self.log, stderr=self.log)
        assert wait_for(lambda: port_open(self.port), timeout=20), "rsyslogd did not listen"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def messages(self):
        try:
            lines = open(self.out, errors="replace").read().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            msgid, _, body = line.partition(" ")
            out.append((msgid, json.loads(body)))  # every message is valid JSON
        return out


def _jsonl(path):
    try:
        return [json.loads(x) for x in open(path).read().splitlines()]
    except OSError:
        return []


def test_syslog_and_jsonl_export_survive_a_receiver_outage(ghenv, keygen, tmp_path):
    if not shutil.which("rsyslogd"):
        pytest.fail("rsyslogd missing (scripts/deps.sh installs rsyslog)")
    g = ghenv
    port = free_port()
    jsonl = str(tmp_path / "events.jsonl")
    g.write_conf(f"syslog_target = tcp:127.0.0.1:{port}\nsyslog_facility = local0\n"
                 f"jsonl_file = {jsonl}\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "export:" in g.read_log(), timeout=20), g.read_log()

    # the receiver is down: sessions go on
    p = ssh_run(g, DIRECT, "echo while-down", password=g.alice_pw)
    assert p.returncode == 0 and "while-down" in p.stdout, p.stderr
    # a file event (sftp)
    cpriv, cpub = keygen("carol_key")
    g.add_user("carol", key_pub=cpub)
    g.add_perm("p-carol", "carol", "web01")
    p = subprocess.run(
        ["sftp", "-F", "/dev/null", "-P", str(g.port), "-i", cpriv,
         "-o", f"UserKnownHostsFile={g.known_hosts}", "-o", "StrictHostKeyChecking=accept-new",
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
         "-b", "-", f"carol@{UNIX_DEPLOY}@web01@127.0.0.1"],
        input=f"get /etc/hostname {tmp_path}/hostname\n", capture_output=True, text=True, timeout=60, start_new_session=True)
    assert p.returncode == 0, p.stderr
    # a command event, through the audit helper
    _emit(g, "command", "alice", "web01", "exec", "accept", 'cmd="uptime"')
    g.cli("node", "add", "/prod/db")  # an admin change

    want = {"login_log", "session_log", "command_log", "ftp_log", "operate_log"}
    # the JSON-lines sink is up all along
    assert wait_for(lambda: want <= {x["event"] for x in _jsonl(jsonl)}, timeout=30), \
        _jsonl(jsonl)
    down_ids = {e["id"] for e in g.events()}

    rs = Rsyslog(str(tmp_path), port)
    try:
        rs.start()
        # everything queued while it was down arrives (retry backoff <= 10 s)
        assert wait_for(lambda: down_ids <= {m["id"] for _, m in rs.messages()}, timeout=60), \
            (sorted(down_ids - {m["id"] for _, m in rs.messages()}), g.read_log())
        # and new events follow live
        g.cli("node", "add", "/prod/cache")
        new_id = g.events()[-1]["id"]
        assert wait_for(lambda: new_id in {m["id"] for _, m in rs.messages()}, timeout=30)
        # the receiver restarts: what was written while it was away is not lost
        rs.stop()
        down = g.read_log().count("export: syslog sink unavailable")
        g.cli("node", "add", "/prod/mq")
        gap_id = g.events()[-1]["id"]
        # the export notices the receiver is gone before it comes back
        assert wait_for(lambda: g.read_log().count("export: syslog sink unavailable") > down,
                        timeout=30), g.read_log()
        rs.start()
        assert wait_for(lambda: gap_id in {m["id"] for _, m in rs.messages()}, timeout=60), \
            g.read_log()
    finally:
        rs.stop()
    msgs = rs.messages()
    assert want <= {m["event"] for _, m in msgs}
    for msgid, m in msgs:
        assert msgid == m["event"]
        assert set(m) >= {"event", "id", "ts", "kind", "user", "hash"}
        assert m["ts"].endswith("Z") and "T" in m["ts"]
    by_id = {m["id"]: m for _, m in msgs}
    # the exec itself is in the command log too (every exec is checked and logged)
    cmds = {m["detail"]: m for m in by_id.values() if m["event"] == "command_log"}
    assert set(cmds) == {'cmd="uptime"', 'cmd="echo while-down"'}, cmds
    cmd = cmds['cmd="uptime"']
    assert cmd["user"] == "alice" and cmd["asset"] == "web01"
    ftp = next(m for m in by_id.values() if m["event"] == "ftp_log")
    assert ftp["user"] == "carol"
    # the file sink got the same events (same ids and hashes)
    lines = {x["id"]: x for x in _jsonl(jsonl)}
    for i in down_ids:
        assert lines[i]["hash"] == by_id[i]["hash"]
    # delivered once each (the cursor moved only after delivery)
    assert len(lines) == len(_jsonl(jsonl))
    # the file is rotated: the next events go to a new file by the same name
    os.rename(jsonl, jsonl + ".1")
    g.cli("node", "add", "/prod/queue")
    rot_id = g.events()[-1]["id"]
    assert wait_for(lambda: rot_id in {x["id"] for x in _jsonl(jsonl)}, timeout=30)
    assert rot_id not in {x["id"] for x in _jsonl(jsonl + ".1")}


# -- queries ---------------------------------------------------------------------

def test_audit_queries_filter(gatehouse):
    g = gatehouse
    for user, asset in (("u1", "a1"), ("u1", "a2"), ("u2", "a1")):
        _emit(g, "command", user, asset, "exec", "accept", f'cmd="id {user} {asset}"')
        _emit(g, "file", user, asset, "open", "allow", 'path="/etc/hosts"')
        _emit(g, "session", user, asset, "", "start", "exec")
    _emit(g, "login", "u1", "", "password", "success", "")

    def q(verb, *args):
        return json.loads(g.cli("audit", verb, "--json", *args).stdout)

    assert len(q("commands")) == 3
    assert {(x["user"], x["asset"]) for x in q("commands", "--user", "u1")} == \
        {("u1", "a1"), ("u1", "a2")}
    assert [x["user"] for x in q("commands", "--asset", "a1", "--user", "u2")] == ["u2"]
    assert {x["event"] for x in q("files")} == {"ftp_log"}
    assert len(q("files", "--asset", "a2")) == 1
    assert [x["event"] for x in q("logins")] == ["login_log"]
    assert len(q("sessions", "--user", "u2")) == 1
    assert len(q("commands", "--limit", "2")) == 2
    assert q("commands", "--until", "2020-01-01") == []
    assert len(q("commands", "--since", "2020-01-01", "--until", "2100-01-01")) == 3
    assert q("commands", "--since", "2100-01-01") == []
    ids = [x["id"] for x in q("commands")]
    assert ids == sorted(ids, reverse=True)
    table = g.cli("audit", "commands", "--user", "u2").stdout
    assert "u2" in table and "u1" not in table
    g.cli("audit", "commands", "--since", "yesterday", check=2)


# -- retention ---------------------------------------------------------------------

def test_prune_dry_run_then_yes_keeps_open_sessions(ghenv):
    g = ghenv
    p = ssh_run(g, DIRECT, "echo old-session", password=g.alice_pw)
    assert p.returncode == 0
    closed = _closed_sealed(g)[0]
    child = ssh_spawn(g, DIRECT, password=g.alice_pw)
    try:
        assert wait_for(lambda: any(not s["ended_at"] and s["recording_path"]
                                    for s in g.sessions()), timeout=20), g.sessions()
        open_row = next(s for s in g.sessions() if not s["ended_at"])
        # prune takes sessions that ended before now (whole seconds): the clock
        # passes the closed one's end
        assert wait_for(lambda: time.time() >= closed["ended_at"] + 1, timeout=5)
        g.cli("recordings", "prune", check=2)  # no retention configured, no --older-than
        dry = g.cli("recordings", "prune", "--older-than", "0").stdout
        assert closed["id"] in dry and open_row["id"] not in dry and "dry run" in dry
        assert os.path.exists(closed["recording_path"])
        out = json.loads(g.cli("recordings", "prune", "--older-than", "0", "--yes",
                               "--json").stdout)
        assert [x["session"] for x in out] == [closed["id"]] and out[0]["removed"]
        assert not os.path.exists(closed["recording_path"])
        assert os.path.exists(open_row["recording_path"])
        ev = g.events("retention")
        assert [e["session_id"] for e in ev] == [closed["id"]]
        assert ev[0]["user_name"].startswith("os:")
        assert any(x["event"] == "retention"
                   for x in json.loads(g.cli("audit", "changes", "--json").stdout))
        # a pruned recording is accounted for: the trail stays clean
        rc, rep = _verify(g)
        assert rc == 0, rep
        # nothing left to prune but the open one, which is never touched
        again = g.cli("recordings", "prune", "--older-than", "0", "--yes").stdout
        assert "removed 0 recordings" in again
    finally:
        child.sendline("exit")
        child.expect(pexpect_eof(), timeout=20)
    assert wait_for(lambda: all(s["ended_at"] for s in g.sessions()), timeout=20)


def pexpect_eof():
    import pexpect
    return pexpect.EOF


def test_retention_days_prunes_old_recordings_in_the_background(ghenv):
    g = ghenv
    p = ssh_run(g, DIRECT, "echo aged", password=g.alice_pw)
    assert p.returncode == 0
    row = _closed_sealed(g)[0]
    p = ssh_run(g, DIRECT, "echo fresh", password=g.alice_pw)
    assert p.returncode == 0
    fresh = [s for s in _closed_sealed(g, 2) if s["id"] != row["id"]][0]
    # the first session ended three days ago
    with g.db() as c:
        c.execute("UPDATE sessions SET ended_at = ended_at - 3 * 86400,"
                  " started_at = started_at - 3 * 86400 WHERE id = ?", (row["id"],))
    g.write_conf("recording_retention_days = 2\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: not os.path.exists(row["recording_path"]), timeout=30), g.read_log()
    assert os.path.exists(fresh["recording_path"])
    ev = g.events("retention")
    assert [(e["session_id"], e["user_name"]) for e in ev] == [(row["id"], "system:retention")]
    rc, rep = _verify(g)
    assert rc == 0, rep


def test_real_command_events_are_queried_and_exported(ghenv, tmp_path):
    g = ghenv
    jsonl = str(tmp_path / "events.jsonl")
    g.write_conf(f"jsonl_file = {jsonl}\n")
    g.proc.send_signal(signal.SIGHUP)
    g.cli("cmdgroup", "add", "danger", "--cmd", "rm")
    g.cli("cmdfilter", "add", "no-rm", "--cmdgroup", "danger", "--action", "reject",
          "--priority", "10")
    p = ssh_run(g, DIRECT, "rm -f /tmp/gh-audit-nothing-here", password=g.alice_pw)
    assert p.returncode != 0 and "rejected by command filter no-rm" in p.stderr
    q = json.loads(g.cli("audit", "commands", "--user", "alice", "--asset", "web01",
                         "--json").stdout)
    assert [(x["event"], x["result"], x["reason"]) for x in q] == \
        [("command_log", "reject", "no-rm")]
    assert json.loads(g.cli("audit", "commands", "--user", "bob", "--json").stdout) == []
    # --session: the commands of one session
    sid = q[0]["session"]
    assert sid
    p = ssh_run(g, DIRECT, "echo another", password=g.alice_pw)
    assert p.returncode == 0
    by_sid = json.loads(g.cli("audit", "commands", "--session", sid, "--json").stdout)
    assert [x["id"] for x in by_sid] == [q[0]["id"]]
    assert len(json.loads(g.cli("audit", "commands", "--user", "alice", "--json").stdout)) == 2
    assert wait_for(lambda: any(x["event"] == "command_log" and x["id"] == q[0]["id"]
                                for x in _jsonl(jsonl)), timeout=30), g.read_log()
    # the filter's configuration commands were audited as changes
    methods = {e["method"] for e in g.events("change")}
    assert {"cmdgroup add", "cmdfilter add"} <= methods
