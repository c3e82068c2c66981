"""Faults mid-session: the master killed (-9), the target's sshd killed,
the client vanishing. Each: the recording readable up to the fault, the
session row closed (at once, or at the master's next start), the master
(re)starting cleanly on the same data directory. The worker killed and the
full disk are in test_ssh.py (test_worker_killed_mid_session,
test_recording_failure_ends_the_session).

Decision for a master killed mid-session: workers are independent
processes and keep serving their live sessions (a crash of the listener
does not cut users off); each closes its own row when its session ends.
A restarted master closes, at start, the rows whose worker is gone
("server restart"), and every 10 s those of workers it did not start
that vanish later ("worker lost")."""
import os
import signal
import sqlite3
import subprocess
import time

import pexpect
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from dropenv import *  # noqa: F401,F403 (fixtures: ghenv_drop, gatehouse_drop)
from sshenv import UNIX_DEPLOY, PROMPT_RE, ssh_run, ssh_spawn, wait_for, free_port, port_open

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def recording_output(path):
    """Output of the complete gzip members of a recording (what survives a
    fault), checked line by line as asciicast v2."""
    import json
    import zlib
    data = open(path, "rb").read()
    raw = b""
    while data:
        d = zlib.decompressobj(31)
        chunk = d.decompress(data)
        if not d.eof:
            break
        raw += chunk
        data = d.unused_data
    lines = raw.decode("utf-8", "replace").splitlines()
    assert json.loads(lines[0])["version"] == 2
    return "".join(ev[2] for ev in map(json.loads, lines[1:]) if ev[1] == "o")


def start_session(g, marker):
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    before = set(g.worker_pids())
    c.sendline(f"echo {marker}-$((1+1))")
    c.expect(f"{marker}-2")
    c.expect(PROMPT_RE)
    return c


def session_of(g, pid):
    rows = [s for s in g.sessions() if s["worker_pid"] == pid]
    assert len(rows) == 1, (pid, g.sessions())
    return rows[0]


def wait_recorded(g, pid, marker):
    path = session_of(g, pid)["recording_path"]
    assert path
    assert wait_for(lambda: f"{marker}-2" in recording_output(path), timeout=15)
    return path


def replay(g, sid):
    return g.cli("replay", sid, "--speed", "1000", check=0).stdout


def pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie of ours counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] == "Z"


def test_master_killed_mid_session(ghenv_drop):
    g = ghenv_drop
    a = start_session(g, "LIVE-A")
    pid_a = g.worker_pids()[0]
    b = start_session(g, "LIVE-B")
    pid_b = [p for p in g.worker_pids() if p != pid_a][0]
    path_a = wait_recorded(g, pid_a, "LIVE-A")
    path_b = wait_recorded(g, pid_b, "LIVE-B")

    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait(timeout=10)
    # the live sessions go on without the master
    a.sendline("echo AFTER-MASTER-$((2+2))")
    a.expect("AFTER-MASTER-4")
    a.expect(PROMPT_RE)
    # one worker dies while no master watches
    os.kill(pid_b, signal.SIGKILL)
    b.expect(pexpect.EOF, timeout=15)
    b.close()
    assert wait_for(lambda: pid_gone(pid_b), timeout=10)
    assert not session_of(g, pid_b)["ended_at"]  # nobody could close it yet

    # restart on the same data directory: B is swept, A (alive) is left alone
    g.start()
    assert wait_for(lambda: session_of(g, pid_b)["ended_at"], timeout=15), g.read_log()
    rb = session_of(g, pid_b)
    assert rb["close_reason"] == "server restart", rb
    assert not session_of(g, pid_a)["ended_at"]
    assert "LIVE-B-2" in recording_output(path_b)
    assert "LIVE-B-2" in replay(g, rb["id"])
    # A ends normally and closes its own row; its recording is whole
    a.sendline("exit")
    a.expect(pexpect.EOF, timeout=20)
    a.close()
    assert wait_for(lambda: session_of(g, pid_a)["ended_at"], timeout=15), g.read_log()
    ra = session_of(g, pid_a)
    assert ra["close_reason"] not in ("server restart", "worker lost"), (ra, g.read_log())
    out = replay(g, ra["id"])
    assert "LIVE-A-2" in out and "AFTER-MASTER-4" in out
    # and the restarted master serves
    p = ssh_run(g, DIRECT, "echo served-again", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "served-again\n", p.stderr


def test_worker_outlives_master_and_a_reader(ghenv_drop):
    """With the master gone, a reader that opens and closes the database
    (the CLI, an auditor's sqlite3) must not take it for unused: the
    worker holds its own locks (a connection opened next to one inherited
    over fork() used to take none), so the WAL stays and the worker's
    last writes (its events, its row) land."""
    g = ghenv_drop
    a = start_session(g, "READER")
    pid = g.worker_pids()[0]
    wait_recorded(g, pid, "READER")
    wal = g.db_path() + "-wal"
    ino = os.stat(wal).st_ino
    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait(timeout=10)
    c = sqlite3.connect(g.db_path(), timeout=10)
    try:
        assert c.execute("SELECT count(*) FROM sessions WHERE ended_at = 0").fetchone()[0] == 1
    finally:
        c.close()  # the only other connection: the worker's
    assert os.path.exists(wal) and os.stat(wal).st_ino == ino
    g.start()
    a.sendline("exit")
    a.expect(pexpect.EOF, timeout=20)
    a.close()
    assert wait_for(lambda: session_of(g, pid)["ended_at"], timeout=15), g.read_log()
    r = session_of(g, pid)
    assert r["close_reason"] not in ("server restart", "worker lost"), (r, g.read_log())
    ends = [e for e in g.events("session") if e["session_id"] == r["id"] and e["result"] == "end"]
    assert ends, g.events("session")


def test_orphan_worker_lost_is_swept(ghenv_drop):
    """A worker of a previous master that dies later is closed by the
    running master's periodic sweep ("worker lost")."""
    g = ghenv_drop
    a = start_session(g, "ORPHAN")
    pid = g.worker_pids()[0]
    wait_recorded(g, pid, "ORPHAN")
    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait(timeout=10)
    g.start()
    assert not session_of(g, pid)["ended_at"]
    os.kill(pid, signal.SIGKILL)
    a.expect(pexpect.EOF, timeout=15)
    a.close()
    assert wait_for(lambda: session_of(g, pid)["ended_at"], timeout=30), g.read_log()
    assert session_of(g, pid)["close_reason"] == "worker lost"


def second_sshd(target, tmp):
    """Another sshd with the target's host key and accounts, ours to kill."""
    port = free_port()
    cfg = os.path.join(tmp, "sshd2_config")
    src = open(os.path.join(target.dir, "sshd_config")).read().splitlines()
    lines = [f"Port {port}" if ln.startswith("Port ") else
             f"PidFile {tmp}/sshd2.pid" if ln.startswith("PidFile ") else ln for ln in src]
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = open(os.path.join(tmp, "sshd2.log"), "a")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg], stdout=log, stderr=log)
    assert wait_for(lambda: port_open(port), timeout=10)
    return proc, port


def descendants(pid):
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True,
                         text=True).stdout
    kids = {}
    for ln in out.splitlines():
        p, pp = map(int, ln.split())
        kids.setdefault(pp, []).append(p)
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(kids.get(p, []))
    return seen


def test_target_sshd_killed_mid_session(ghenv_drop, target, tmp_path):
    g = ghenv_drop
    proc, port = second_sshd(target, str(tmp_path))
    try:
        g.add_asset("web09", port=port)
        g.add_account("web09", UNIX_DEPLOY)
        g.add_perm("p-web09", "alice", "web09")
        c = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@web09", password=g.alice_pw)
        c.expect(PROMPT_RE)
        c.sendline("echo TARGET-UP-$((3+3))")
        c.expect("TARGET-UP-6")
        c.expect(PROMPT_RE)
        pid = g.worker_pids()[0]
        path = session_of(g, pid)["recording_path"]
        assert wait_for(lambda: "TARGET-UP-6" in recording_output(path), timeout=15)
        for p in descendants(proc.pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)
        c.expect(pexpect.EOF, timeout=30)
        c.close()
        assert wait_for(lambda: session_of(g, pid)["ended_at"], timeout=15)
        r = session_of(g, pid)
        assert r["close_reason"], r
        assert "TARGET-UP-6" in replay(g, r["id"])
        assert "killed by signal" not in g.read_log()
        p = ssh_run(g, DIRECT, "echo other-target-fine", password=g.alice_pw)
        assert p.returncode == 0 and p.stdout == "other-target-fine\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_client_vanishes_without_closing(ghenv_drop):
    g = ghenv_drop
    c = start_session(g, "CLIENT-GONE")
    pid = g.worker_pids()[0]
    path = wait_recorded(g, pid, "CLIENT-GONE")
    os.kill(c.pid, signal.SIGKILL)  # the ssh client: no channel close, no disconnect
    c.close(force=True)
    assert wait_for(lambda: session_of(g, pid)["ended_at"], timeout=30), g.read_log()
    assert wait_for(lambda: pid_gone(pid), timeout=15)
    r = session_of(g, pid)
    assert r["close_reason"], r
    assert "CLIENT-GONE-2" in recording_output(path)
    assert "CLIENT-GONE-2" in replay(g, r["id"])
    # the target's shell was ended too (no process left behind on the target)
    p = ssh_run(g, DIRECT, "echo next", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "next\n"


def test_client_connections_have_keepalives(ghenv_drop):
    """A client whose network path vanishes (no FIN, no RST) is found by TCP
    keepalives (60 s idle, then 4 probes 15 s apart): the server side of
    every client connection has the keepalive timer armed."""
    g = ghenv_drop
    c = start_session(g, "KEEPALIVE")
    try:
        out = subprocess.run(["ss", "-tnoH", "state", "established", f"( sport = :{g.port} )"],
                             capture_output=True, text=True, timeout=10).stdout
        assert out.strip(), "no established connection seen"
        assert all("timer:(keepalive" in ln for ln in out.splitlines() if ln.strip()), out
    finally:
        c.sendline("exit")
        c.expect(pexpect.EOF, timeout=20)
        c.close()
