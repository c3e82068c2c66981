"""Several session channels on one SSH connection, as sshd serves them
(MaxSessions): paramiko and Fabric run an exec, then sftp, then execs back
to back and at once on one client; OpenSSH connection sharing runs two
commands at once. Each channel is its own session: its own row,
recording and start/end events; max_channels_per_connection bounds them,
and a refusal is logged and audited."""
import concurrent.futures
import gzip
import json
import os
import subprocess
import tempfile

import paramiko
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_args, wait_for
from test_relay_integrity import busy_cpus

# load loops and limits under busy CPUs: run alone, not beside other files
pytestmark = pytest.mark.serial

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def client(g):
    """A paramiko client logged in as DIRECT (one connection)."""
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=g.port, username=DIRECT, password=g.alice_pw,
              allow_agent=False, look_for_keys=False, timeout=20, banner_timeout=20,
              auth_timeout=20)
    return c


def run(c, command, timeout=60):
    """One exec channel: (exit status, stdout)."""
    _, out, _ = c.exec_command(command, timeout=timeout)
    data = out.read().decode()
    return out.channel.recv_exit_status(), data


def sequence(g, tag):
    """One client: an exec, sftp, 10 execs back to back, 3 at once; each
    checked. Returns the number of sessions it opened."""
    c = client(g)
    try:
        assert run(c, f"echo {tag}-first") == (0, f"{tag}-first\n")
        with c.open_sftp() as sf:
            names = sf.listdir(".")
            assert isinstance(names, list)
        for i in range(10):
            assert run(c, f"echo {tag}-seq-{i}; exit {i % 3}") == (i % 3, f"{tag}-seq-{i}\n")
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            futs = [ex.submit(run, c, f"sleep 0.3; echo {tag}-par-{i}") for i in range(3)]
            got = [f.result(timeout=90) for f in futs]
        assert got == [(0, f"{tag}-par-{i}\n") for i in range(3)], got
    finally:
        c.close()
    return 15


def recording_text(path):
    """The output recorded in an asciicast v2 recording."""
    lines = gzip.open(path, "rt").read().splitlines()
    assert json.loads(lines[0])["version"] == 2
    return "".join(json.loads(line)[2] for line in lines[1:] if json.loads(line)[1] == "o")


def check_sessions(g, n):
    """The last N rows on web01 are N closed sessions of one connection,
    each with one start and one end event, execs with their recording."""
    assert wait_for(lambda: all(r["ended_at"] for r in g.sessions()[-n:]), timeout=20), \
        g.sessions()[-n:]
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"][-n:]
    assert len(rows) == n and len({r["id"] for r in rows}) == n, rows
    assert len({r["source_port"] for r in rows}) == 1, rows  # one connection
    assert sorted(r["kind"] for r in rows) == sorted(["exec"] * (n - 1) + ["sftp"]), rows
    events = g.events("session")
    for r in rows:
        mine = [e for e in events if e["session_id"] == r["id"]]
        assert [e["result"] for e in mine] == ["start", "end"], (r, mine)
        if r["kind"] == "exec":
            assert r["recording_path"] and os.path.exists(r["recording_path"]), r
            assert r["exit_status"] in (0, 1, 2), r
        else:
            assert not r["recording_path"], r
    texts = [recording_text(r["recording_path"]) for r in rows if r["kind"] == "exec"]
    for i in range(10):
        assert sum(t.endswith(f"-seq-{i}\n") for t in texts) == 1, texts
    return rows


def test_paramiko_exec_sftp_execs_on_one_client(ghenv):
    """Fails without concurrent channels: the second channel on the client
    (right after the first ended) was refused about half the time, the
    three at once always ("administratively prohibited")."""
    g = ghenv
    n = sequence(g, "one")
    rows = check_sessions(g, n)
    logins = [e for e in g.events("login") if e["result"] == "success"]
    assert len(logins) == 1, logins
    for i in range(3):
        assert sum(recording_text(r["recording_path"]) == f"one-par-{i}\n"
                   for r in rows if r["kind"] == "exec") == 1


def test_paramiko_sequence_20_runs_under_busy_loops(ghenv):
    """The sequence 20 times in a row, the CPU busy with two loops: 20 of
    20 pass (the refusal of a channel opened right after another ended was
    a race that busy CPUs made likelier)."""
    g = ghenv
    with busy_cpus(2, limit_s=300):
        for k in range(20):
            sequence(g, f"r{k}")
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"]
    assert len(rows) == 20 * 15, len(rows)
    assert all(r["ended_at"] for r in rows) or wait_for(
        lambda: all(r["ended_at"] for r in g.sessions()), timeout=20)
    ends = [e for e in g.events("session") if e["result"] == "end"]
    assert len(ends) == 20 * 15 and len({e["session_id"] for e in ends}) == 20 * 15
    assert "refused" not in g.read_log(), g.read_log()[-3000:]


def test_controlmaster_two_commands_at_once(ghenv):
    """OpenSSH connection sharing: the first command waits until the second
    has run, so both must be served at once on the one shared connection
    (one login). Fails when the second channel is refused (OpenSSH then
    falls back to a connection of its own: two logins) or queued."""
    g = ghenv
    cpdir = tempfile.mkdtemp(prefix="ghcm-", dir="/tmp")  # socket paths are short
    flagdir = tempfile.mkdtemp(prefix="ghcm-flag-", dir="/tmp")
    os.chmod(flagdir, 0o777)
    flag = os.path.join(flagdir, "second-ran")
    extra = ("-o", "ControlMaster=auto", "-o", f"ControlPath={cpdir}/%C",
             "-o", "ControlPersist=30")
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=g.alice_pw, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    first_cmd = (f"echo started; i=0; while [ ! -e {flag} ] && [ $i -lt 200 ]; do sleep 0.1; "
                 f"i=$((i+1)); done; [ -e {flag} ] && echo first")
    first = subprocess.Popen(ssh_args(g, DIRECT, first_cmd, extra=extra), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        assert first.stdout.readline() == "started\n"
        second = subprocess.run(ssh_args(g, DIRECT, f"touch {flag}; echo second", extra=extra),
                                capture_output=True, text=True, env=env, timeout=60,
                                start_new_session=True)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
        subprocess.run(ssh_args(g, DIRECT, extra=extra + ("-O", "exit")), capture_output=True,
                       timeout=20, env=env)
    assert second.returncode == 0 and second.stdout == "second\n", (second.returncode,
                                                                     second.stderr)
    assert first.returncode == 0 and out == "first\n", (first.returncode, out, err)
    logins = [e for e in g.events("login") if e["result"] == "success"]
    assert len(logins) == 1, logins
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"]
    assert len(rows) == 2 and rows[0]["id"] != rows[1]["id"], rows
    assert len({r["source_port"] for r in rows}) == 1, rows


def test_channel_beyond_the_limit_is_refused(ghenv):
    """max_channels_per_connection (10): the 11th channel at once is refused
    (logged and audited); once one of the ten has ended, a new one is
    served at once."""
    g = ghenv
    c = client(g)
    try:
        t = c.get_transport()
        chans = []
        for i in range(10):
            ch = t.open_session(timeout=20)
            ch.exec_command(f"echo ready-{i}; cat")
            chans.append(ch)
        for i, ch in enumerate(chans):
            f = ch.makefile("r")
            assert f.readline() == f"ready-{i}\n"
        with pytest.raises(paramiko.ChannelException):
            t.open_session(timeout=20)
        assert "too many session channels on one connection" in g.read_log()
        ev = [e for e in g.events("session") if e["result"] == "deny"]
        assert len(ev) == 1 and ev[0]["method"] == "channel", ev
        assert "max_channels_per_connection 10" in ev[0]["reason"], ev
        # one ends: the next is served
        chans[0].shutdown_write()
        assert chans[0].recv_exit_status() == 0
        chans[0].close()
        assert run(c, "echo again") == (0, "again\n")
        for ch in chans[1:]:
            ch.shutdown_write()
            assert ch.recv_exit_status() == 0
    finally:
        c.close()
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"]
    assert len(rows) == 11, rows
    assert wait_for(lambda: all(r["ended_at"] for r in g.sessions()), timeout=20)
