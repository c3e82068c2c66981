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
from sshenv import UNIX_DEPLOY, Gatehouse, setup_ghenv, ssh_run, wait_for

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


# -- the data directory: what root reads is not the worker user's to write -------

def serve_fails(g, *names, timeout=30):
    """Start serve on G's data directory; it must exit 1 naming each of NAMES
    on stderr. Returns stderr."""
    p = subprocess.Popen([g.bin, "--data", g.data, "serve"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=g.env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        raise AssertionError(f"serve started although it should refuse:\n{err}")
    assert p.returncode == 1, err
    for n in names:
        assert n in err, (n, err)
    return err


def started_once(gh_bin, drop_tmp, target):
    """A data directory initialised by one start and stop (keys, store, layout)."""
    g = Gatehouse(gh_bin, drop_tmp, target, drop=True)
    g.start()
    assert g.stop() == 0, g.read_log()
    return g


def test_worker_user_cannot_write_the_data_directory(ghenv_drop):
    """Guards: the data directory was root:gatehouse 1770, so with no
    DATA/gatehouse.conf (the `make run` default) the worker user could create
    one (`worker_user =`: the next start runs workers as root), or any key file
    root would create later. Its writable places are now subdirectories of its
    own. Fails without the fix (the file was created)."""
    g = ghenv_drop
    uid, _ = worker_ids()
    conf = os.path.join(g.data, "gatehouse.conf")
    os.unlink(conf)
    p = as_worker("sh", "-c", f"printf 'worker_user =\\n' > {conf}")
    assert p.returncode != 0 and not os.path.exists(conf), p.stderr
    for name in ("master.key.tmp", "ssh_host_ecdsa_key", "initial-admin-password.tmp"):
        assert as_worker("touch", os.path.join(g.data, name)).returncode != 0, name
    # nor move its own directories away to put something else there
    assert as_worker("mv", os.path.join(g.data, "recordings"),
                     os.path.join(g.data, "recordings.old")).returncode != 0
    st = os.stat(g.data)
    assert st.st_uid == 0 and not st.st_mode & 0o022, oct(st.st_mode)
    for d in ("db", "recordings", "run"):
        assert os.stat(os.path.join(g.data, d)).st_uid == uid, d
    # and the worker still works: a session is recorded in its places
    closed_sessions(g, 1)


def test_root_refuses_configuration_and_keys_it_did_not_write(gh_bin, drop_tmp, target):
    """Guards: root read gatehouse.conf, master.key and the host keys whoever
    owned them and through symlinks. A file the worker user owns (as it could
    create under the old layout), one writable by group, or a symlink stops
    serve (and the CLI) with an error naming the file. Fails without the fix
    (serve started with them)."""
    g = started_once(gh_bin, drop_tmp, target)
    uid, gid = worker_ids()
    conf = os.path.join(g.data, "gatehouse.conf")
    os.chown(conf, uid, gid)
    serve_fails(g, conf, "owned by uid")
    p = g.cli("config", "check", check=None)
    assert p.returncode != 0 and conf in p.stderr, p.stderr
    os.chown(conf, 0, 0)
    os.chmod(conf, 0o664)
    serve_fails(g, conf, "writable by group")
    os.chmod(conf, 0o644)
    os.rename(conf, conf + ".real")
    os.symlink(conf + ".real", conf)
    serve_fails(g, conf, "symlink")
    os.unlink(conf)
    os.rename(conf + ".real", conf)
    for name in ("master.key", "ssh_host_ed25519_key", "ssh_jump_ed25519_key"):
        path = os.path.join(g.data, name)
        os.chown(path, uid, gid)
        serve_fails(g, path, "owned by uid")
        os.chown(path, 0, 0)
    # the database swapped for a symlink in the worker user's DATA/db
    db = os.path.join(g.data, "db", "gatehouse.db")
    assert as_worker("mv", db, db + ".real").returncode == 0
    assert as_worker("ln", "-s", db + ".real", db).returncode == 0
    serve_fails(g, db, "not a regular file")
    os.unlink(db)
    os.rename(db + ".real", db)
    g.start()
    assert g.stop() == 0, g.read_log()


def test_jsonl_file_is_not_opened_through_a_planted_symlink(ghenv_drop, drop_tmp):
    """Guards: the export process (root) opened jsonl_file with O_NOFOLLOW on the
    last component only: a directory symlink the worker user planted on the way
    made root create the file elsewhere; and a file the worker user created got
    every event. Both are refused and logged naming the file. Fails without the
    fix (secret/events.jsonl was created)."""
    g = ghenv_drop
    uid, gid = worker_ids()
    audit = os.path.join(drop_tmp, "audit")  # a directory the worker user can write
    os.mkdir(audit)
    os.chown(audit, uid, gid)
    secret = os.path.join(drop_tmp, "secret-jsonl")
    os.mkdir(secret, 0o700)
    assert as_worker("ln", "-s", secret, os.path.join(audit, "sub")).returncode == 0
    jl = os.path.join(audit, "sub", "events.jsonl")
    g.write_conf(f"jsonl_file = {jl}\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: f"jsonl_file {jl}" in g.read_log(), timeout=20), g.read_log()
    assert "symlink" in g.read_log()
    assert not os.path.exists(os.path.join(secret, "events.jsonl"))
    jl2 = os.path.join(audit, "events.jsonl")
    assert as_worker("touch", jl2).returncode == 0
    g.write_conf(f"jsonl_file = {jl2}\n")
    g.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: f"jsonl_file {jl2}" in g.read_log(), timeout=20), g.read_log()
    assert os.path.getsize(jl2) == 0


def test_start_gives_the_worker_its_tree_without_following_links(gh_bin, drop_tmp, target):
    """Guards the start-up ownership walk (give_tree) and the search permission
    it adds: symlinks the worker user planted in its tree, or in place of the
    recordings directory (as the old layout let it), must not make root chown
    or chmod anything outside. Fails without the fix (the target directory got
    o+x and serve started)."""
    g = started_once(gh_bin, drop_tmp, target)
    uid, gid = worker_ids()
    secret = os.path.join(drop_tmp, "secret-tree")
    os.mkdir(secret, 0o700)
    f = root_file(os.path.join(secret, "f"))
    rec = os.path.join(g.data, "recordings")
    assert as_worker("ln", "-s", f, os.path.join(rec, "link-file")).returncode == 0
    assert as_worker("ln", "-s", secret, os.path.join(rec, "link-dir")).returncode == 0
    g.start()
    assert g.stop() == 0, g.read_log()
    assert os.stat(f).st_uid == 0 and os.stat(secret).st_uid == 0
    # the recordings directory itself replaced by the worker user's symlink
    os.rename(rec, rec + ".old")
    os.symlink(secret, rec)
    os.lchown(rec, uid, gid)
    serve_fails(g, rec, "symlink")
    st = os.stat(secret)
    assert st.st_uid == 0 and (st.st_mode & 0o7777) == 0o700, oct(st.st_mode)
    assert os.stat(f).st_uid == 0


def test_old_layout_is_migrated_on_start(gh_bin, drop_tmp, target):
    """A data directory of the previous layout (database in DATA, DATA
    root:gatehouse 1770) is migrated at start: the database (with its WAL)
    moves to DATA/db, DATA stops being writable by the worker user, and
    nothing is lost."""
    g = Gatehouse(gh_bin, drop_tmp, target, drop=True)
    g.start()
    setup_ghenv(g, target)
    closed_sessions(g, 1)
    assert g.stop() == 0, g.read_log()
    db_dir = os.path.join(g.data, "db")
    for name in os.listdir(db_dir):
        os.rename(os.path.join(db_dir, name), os.path.join(g.data, name))
    os.rmdir(db_dir)
    os.chmod(g.data, 0o1770)
    g.start()
    try:
        assert os.path.exists(os.path.join(db_dir, "gatehouse.db"))
        assert not os.path.exists(os.path.join(g.data, "gatehouse.db"))
        st = os.stat(g.data)
        assert not st.st_mode & 0o1022, oct(st.st_mode)
        assert "alice" in g.cli("user", "list").stdout
        assert len(g.sessions()) == 1
        closed_sessions(g, 2)
    finally:
        assert g.stop() == 0, g.read_log()


# -- live-session sockets: root connects only to the worker's own -------------------

class RecordingSocket:
    """A unix socket root made in a root-only directory that counts every
    connection made to it (a stand-in for another root-only service)."""

    def __init__(self, d):
        import socket
        import threading
        self.path = os.path.join(d, "root-service.sock")
        self.conns = 0
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(self.path)
        self.s.listen(16)
        self.s.settimeout(0.2)
        self.stop = False
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.s.accept()
            except OSError:
                continue
            self.conns += 1
            c.close()

    def close(self):
        self.stop = True
        self.t.join(timeout=5)
        self.s.close()


def test_cli_connects_only_to_the_worker_users_live_socket(ghenv_drop, drop_tmp):
    """Guards: `session kill`/`watch`/`join` and `user lock` (root) connected to
    DATA/run/<sid>.sock by name, and DATA/run is the worker user's: it could
    put a symlink there to any socket root can reach. Root now connects only
    to a socket owned by the worker user reached without following links, and
    says which path it refused. Fails without the fix (the root-only socket
    got the connections)."""
    import pexpect
    from sshenv import PROMPT_RE, ssh_spawn
    g = ghenv_drop
    secret = os.path.join(drop_tmp, "secret-sock")
    os.mkdir(secret, 0o700)
    rs = RecordingSocket(secret)
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    try:
        c.expect(PROMPT_RE)
        run = os.path.join(g.data, "run")
        open_rows = lambda: [s for s in g.sessions() if not s["ended_at"] and s["asset_name"]]
        assert wait_for(lambda: open_rows() and os.path.exists(
            os.path.join(run, open_rows()[0]["id"] + ".sock")), timeout=20), g.sessions()
        sid = open_rows()[0]["id"]
        sock = os.path.join(run, sid + ".sock")
        assert as_worker("mv", sock, sock + ".orig").returncode == 0
        p = as_worker("ln", "-s", rs.path, sock)
        assert p.returncode == 0, p.stderr
        for args in (("session", "kill", sid), ("session", "watch", sid),
                     ("session", "join", sid)):
            p = g.cli(*args, check=1)
            assert sock in p.stderr and "refused" in p.stderr, (args, p.stderr)
        p = g.cli("user", "lock", "alice", check=0)
        assert sock in p.stderr and "refused" in p.stderr, p.stderr
        assert "0 live session(s) ended" in p.stdout, p.stdout
        g.cli("user", "unlock", "alice")
        # a socket of root's own (not a link) in its place: refused as well
        os.unlink(sock)
        os.link(rs.path, sock)
        p = g.cli("session", "kill", sid, check=1)
        assert sock in p.stderr and "owned by uid 0" in p.stderr, p.stderr
        assert rs.conns == 0, "root connected to the planted socket"
        # the worker's own socket back in place: reached as before
        os.unlink(sock)
        assert as_worker("mv", sock + ".orig", sock).returncode == 0
        g.cli("session", "kill", sid, "--reason", "after the test", check=0)
        c.expect_exact("killed: after the test")
        c.expect(pexpect.EOF)
    finally:
        c.close()
        rs.close()


# -- the database: root opens no file the worker user planted in its directory ---------

DB_NAMES = ("gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "gatehouse.db-journal")


def plant(db_dir, name, victim, kind):
    """Put NAME in DB_DIR as a KIND ("symlink" or "hardlink") to VICTIM, the
    real file (if any) moved to NAME.real. A symlink is made by the worker
    user; a hard link as root, standing for a system without
    fs.protected_hardlinks (or a victim file the worker user may write)."""
    path = os.path.join(db_dir, name)
    if os.path.lexists(path):
        assert as_worker("mv", path, path + ".real").returncode == 0
    if kind == "symlink":
        p = as_worker("ln", "-s", victim, path)
        assert p.returncode == 0, p.stderr
    else:
        os.link(victim, path)
    return path


def unplant(db_dir, name):
    path = os.path.join(db_dir, name)
    os.unlink(path)
    if os.path.lexists(path + ".real"):
        os.rename(path + ".real", path)


def test_store_opens_no_planted_link_in_the_database_directory(gh_bin, drop_tmp, target):
    """Guards: root (serve and the CLI) opened the database and SQLite its
    -wal, -shm and -journal by name in DATA/db, the worker user's directory:
    a hard link there to a root-only file had root write WAL frames into it
    (SQLite opens the side files O_NOFOLLOW but takes any hard link), and a
    symlink for the main file was followed. Each name as a symlink and as a
    hard link must stop serve and the CLI with an error naming the file, the
    root-only file untouched. Fails without the fix (hard links were used)."""
    g = started_once(gh_bin, drop_tmp, target)
    db_dir = os.path.join(g.data, "db")
    secret = os.path.join(drop_tmp, "secret-db")
    os.mkdir(secret, 0o700)
    victim = root_file(os.path.join(secret, "victim"), "root's file, not a database\n")
    for name in DB_NAMES:
        for kind in ("symlink", "hardlink"):
            path = plant(db_dir, name, victim, kind)
            serve_fails(g, path)
            p = g.cli("user", "list", check=None)
            assert p.returncode != 0 and path in p.stderr, (name, kind, p.stderr)
            unplant(db_dir, name)
            with open(victim) as f:
                assert f.read() == "root's file, not a database\n", (name, kind)
            assert os.stat(victim).st_nlink == 1
    g.start()
    assert g.stop() == 0, g.read_log()


def test_store_refuses_planted_files_beside_an_administrators_database(gh_bin, drop_tmp,
                                                                     target):
    """An administrator's database_path outside the data directory may be a
    symlink root made (in a directory only root can write): it keeps working.
    Its directory is the worker user's, so a hard link planted there for the
    -wal or -shm is refused, by name, when root opens the store (the check is
    on the opened file, not only at start). Fails without the fix (root wrote
    into the linked file)."""
    uid, gid = worker_ids()
    real_dir = os.path.join(drop_tmp, "dbstore")
    os.mkdir(real_dir, 0o700)
    os.chown(real_dir, uid, gid)
    link = os.path.join(drop_tmp, "gatehouse-db-link.db")
    os.symlink(os.path.join(real_dir, "gh.db"), link)
    g = Gatehouse(gh_bin, drop_tmp, target, drop=True, extra_conf=f"database_path = {link}\n")
    g.db_path = lambda: link
    g.start()
    try:
        setup_ghenv(g, target)
        closed_sessions(g, 1)
    finally:
        assert g.stop() == 0, g.read_log()
    assert os.path.isfile(os.path.join(real_dir, "gh.db"))
    assert "alice" in g.cli("user", "list").stdout
    secret = os.path.join(drop_tmp, "secret-db2")
    os.mkdir(secret, 0o700)
    victim = root_file(os.path.join(secret, "victim"), "root's file\n")
    for name in ("gh.db-wal", "gh.db-shm", "gh.db"):
        for kind in ("hardlink", "symlink"):
            path = plant(real_dir, name, victim, kind)
            p = g.cli("user", "list", check=None)
            assert p.returncode != 0 and (path in p.stderr or name in p.stderr), (
                name, kind, p.stderr)
            unplant(real_dir, name)
            with open(victim) as f:
                assert f.read() == "root's file\n", (name, kind)
    assert "alice" in g.cli("user", "list").stdout
