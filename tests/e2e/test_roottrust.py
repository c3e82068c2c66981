"""What root does with what the worker user can write: the recording
paths of session rows (prune, the export process's retention, replay,
verify), and the files and directories of the data directory. Every test
runs the default set-up (the master as root, workers as the gatehouse
user) and acts as that user where an attacker in a worker could."""
import json
import os
import pwd
import signal
import subprocess

from sshenv import *  # noqa: F401,F403 (fixtures)
from dropenv import *  # noqa: F401,F403 (fixtures: ghenv_drop, gatehouse_drop, drop_tmp)
from sshenv import UNIX_DEPLOY, ssh_run, wait_for

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def as_worker(*cmd):
    """Run CMD as the gatehouse user (what code running in a worker may do)."""
    return subprocess.run(["setpriv", "--reuid=gatehouse", "--regid=gatehouse", "--clear-groups",
                           "--", *cmd], capture_output=True, text=True, timeout=30)


def worker_ids():
    pw = pwd.getpwnam("gatehouse")
    return pw.pw_uid, pw.pw_gid


def closed_sessions(g, n):
    """N closed sessions with a recording (each from a real ssh exec)."""
    for i in range(n):
        p = ssh_run(g, DIRECT, f"echo rec-{i}", password=g.alice_pw)
        assert p.returncode == 0, p.stderr
    rows = lambda: [s for s in g.sessions() if s["ended_at"] and s["recording_path"]]
    assert wait_for(lambda: len(rows()) >= n, timeout=30), g.sessions()
    return rows()[:n]


def set_row(g, sid, **cols):
    with g.db() as c:
        for k, v in cols.items():
            c.execute(f"UPDATE sessions SET {k} = ? WHERE id = ?", (v, sid))


def root_file(path, text="root's file\n"):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def plant_outside_links(g, drop_tmp):
    """Two forged rows: one names a root-only file outside the data
    directory, the other a path through a directory symlink the worker
    user planted inside recordings_dir (pointing outside). Returns the
    sessions and the files that must survive."""
    a, b = closed_sessions(g, 2)
    secret = os.path.join(drop_tmp, "secret")
    os.mkdir(secret, 0o700)
    victim1 = root_file(os.path.join(secret, "victim1"))
    victim2 = root_file(os.path.join(secret, "victim2"))
    rec_dir = os.path.dirname(b["recording_path"])
    link = os.path.join(rec_dir, "evil")
    p = as_worker("ln", "-s", secret, link)
    assert p.returncode == 0, p.stderr
    # ended a minute ago: due for `prune --older-than 0`
    for s, path in ((a, victim1), (b, os.path.join(link, "victim2"))):
        set_row(g, s["id"], recording_path=path, ended_at=s["ended_at"] - 60,
                started_at=s["started_at"] - 60)
    return a, b, (victim1, victim2)


def test_prune_removes_only_files_beneath_recordings_dir(ghenv_drop, drop_tmp):
    """Guards: `recordings prune` (root) removed whatever sessions.recording_path
    named, and the worker user can write that column. A root-only file outside
    the data directory, and one reached through a symlink planted in
    recordings_dir, must survive, and prune must say it refused. Fails without
    the fix (both files were removed)."""
    g = ghenv_drop
    a, b, victims = plant_outside_links(g, drop_tmp)
    p = g.cli("recordings", "prune", "--older-than", "0", "--yes", "--json", check=None)
    assert p.returncode == 1, (p.stdout, p.stderr)
    out = {x["session"]: x for x in json.loads(p.stdout)}
    for s in (a, b):
        assert not out[s["id"]]["removed"], out
        assert "refused" in out[s["id"]]["error"], out
    for v in victims:
        assert os.path.exists(v), v
    # the rows keep naming the path: nothing was forgotten
    paths = {s["id"]: s["recording_path"] for s in g.sessions()}
    assert paths[a["id"]] == victims[0]


def test_export_retention_removes_only_files_beneath_recordings_dir(ghenv_drop, drop_tmp):
    """Guards the same hole in the export process's hourly retention (root):
    forged rows older than recording_retention_days must not make it remove
    files outside recordings_dir; it logs the refusal. Fails without the fix."""
    g = ghenv_drop
    a, b, victims = plant_outside_links(g, drop_tmp)
    c = closed_sessions(g, 3)[2]  # a genuine old recording: removed
    for s in (a, b, c):
        set_row(g, s["id"], ended_at=s["ended_at"] - 60 - 3 * 86400,
                started_at=s["started_at"] - 60 - 3 * 86400)
    g.write_conf("recording_retention_days = 2\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: not os.path.exists(c["recording_path"]), timeout=30), g.read_log()
    assert wait_for(lambda: g.read_log().count("refused to remove") >= 2, timeout=30), \
        g.read_log()
    for v in victims:
        assert os.path.exists(v), v
    assert a["id"] in g.read_log() and b["id"] in g.read_log()


def test_replay_and_verify_read_only_files_beneath_recordings_dir(ghenv_drop, drop_tmp):
    """Guards: `replay` and `audit verify` (root) opened whatever the row named.
    A forged path outside recordings_dir is refused by name, not read. Fails
    without the fix (replay read the file; verify hashed it)."""
    g = ghenv_drop
    a, b, victims = plant_outside_links(g, drop_tmp)
    for s in (a, b):
        p = g.cli("replay", s["id"], "--speed", "1000", check=None)
        assert p.returncode == 1 and "refused" in p.stderr, (p.stdout, p.stderr)
    p = g.cli("audit", "verify", "--json", check=None)
    rep = json.loads(p.stdout)
    probs = {x["session"]: x for x in rep["recordings"]["problems"]}
    for s in (a, b):
        assert "refused" in probs[s["id"]]["text"], probs
