"""The PostgreSQL store (docs/STORE.md): its password file, writers on two
nodes sharing one audit chain, a node lost, and live operations across
nodes. A real PostgreSQL cluster (pgenv.py) and real gatehouse nodes."""
import json
import os
import shutil
import signal
import subprocess
import threading

import pexpect
import pytest

from pgenv import PgCluster, write_password_file
from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW  # noqa: F401

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


@pytest.fixture
def pgdb():
    cluster = PgCluster.shared()
    name, password = cluster.create_db()
    yield cluster, name, password
    cluster.drop_db(name)


def _node(gh_bin, tmp, target, cluster, name, password, node, extra=""):
    """A gatehouse node on database NAME (not started)."""
    g = Gatehouse(gh_bin, tmp, target)
    pw = os.path.join(g.data, "db.password")
    write_password_file(pw, password)
    g.pg = {"cluster": cluster, "name": name, "password": password, "conf": ""}
    g.write_conf(f"database = postgresql\ndatabase_url = {cluster.url(name)}\n"
                 f"database_password_file = {pw}\nnode_name = {node}\n" + extra)
    return g


@pytest.fixture
def two_nodes(gh_bin, tmp_path, target, pgdb):
    cluster, name, password = pgdb
    nodes = []
    for n in ("node-a", "node-b"):
        d = tmp_path / n
        d.mkdir()
        nodes.append(_node(gh_bin, str(d), target, cluster, name, password, n,
                           "node_timeout = 5\n"))
    a, b = nodes
    a.start()
    setup_ghenv(a, target)
    # the nodes share the master key (docs/STORE.md)
    shutil.copy2(os.path.join(a.data, "master.key"), os.path.join(b.data, "master.key"))
    b.start()
    yield a, b
    for g in nodes:
        g.stop()


# -- the password file ---------------------------------------------------------

def test_password_in_the_url_is_refused(gh_bin, tmp_path, target, pgdb):
    """A database_url holding a password is a configuration error naming the
    file and line; the password is not echoed."""
    cluster, name, password = pgdb
    g = Gatehouse(gh_bin, str(tmp_path), target)
    url = f"postgresql://{name}:{password}@127.0.0.1:{cluster.port}/{name}"
    g.write_conf(f"database = postgresql\ndatabase_url = {url}\n")
    p = g.cli("user", "list", check=1)
    conf = os.path.join(g.data, "gatehouse.conf")
    lines = open(conf).read().splitlines()
    # the last one: under GATEHOUSE_TEST_DB=postgresql the fixture's own comes first
    lineno = max(i + 1 for i, ln in enumerate(lines) if ln.startswith("database_url"))
    assert f"{conf}:{lineno}: database_url holds a password" in p.stderr, p.stderr
    assert password not in p.stderr + p.stdout
    g.write_conf(f"database = postgresql\ndatabase_url = {cluster.url(name)}&password=x\n")
    p = g.cli("user", "list", check=1)
    assert "database_url holds a password" in p.stderr


def test_password_file_must_be_roots_and_private(gh_bin, tmp_path, target, pgdb):
    cluster, name, password = pgdb
    g = Gatehouse(gh_bin, str(tmp_path), target)
    pw = os.path.join(g.data, "db.password")
    write_password_file(pw, password)
    g.write_conf(f"database = postgresql\ndatabase_url = {cluster.url(name)}\n"
                 f"database_password_file = {pw}\n")
    g.cli("user", "add", "bob", check=0)
    assert "bob" in g.cli("user", "list", check=0).stdout
    os.chmod(pw, 0o644)  # readable by others
    p = g.cli("user", "list", check=1)
    assert "database_password_file" in p.stderr and pw in p.stderr, p.stderr
    assert password not in p.stderr
    os.chmod(pw, 0o600)
    os.chown(pw, 65534, 65534)  # not root's
    p = g.cli("user", "list", check=1)
    assert "database_password_file" in p.stderr, p.stderr
    os.chown(pw, 0, 0)
    write_password_file(pw, "wrong-password")
    p = g.cli("user", "list", check=1)
    assert "wrong-password" not in p.stderr + p.stdout
    # no password in the argv of the running node
    write_password_file(pw, password)
    g.start()
    try:
        out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert password not in out
        assert password not in g.read_log()
    finally:
        g.stop()


# -- one chain, writers on two nodes --------------------------------------------

def test_concurrent_writers_on_two_nodes_keep_one_chain(two_nodes):
    """Events appended at once by processes of two nodes form one linear
    chain: `audit verify` is clean on either node."""
    a, b = two_nodes
    errors = []

    def writer(g, tag):
        for i in range(15):
            p = g.cli("node", "add", f"/load/{tag}/{i}", check=None)
            if p.returncode != 0:
                errors.append(p.stderr)

    threads = [threading.Thread(target=writer, args=(g, f"{g.pg['name']}-{k}-{n}"))
               for k, g in enumerate((a, b)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for g in (a, b):
        p = g.cli("audit", "verify", "--json", check=0)
        rep = json.loads(p.stdout)
        assert rep["clean"], rep
    ids = [e["id"] for e in a.events()]
    assert ids == list(range(1, len(ids) + 1))
    assert len(a.events("operate")) >= 60 or len(ids) >= 60


# -- nodes ------------------------------------------------------------------------

def _open_session(g):
    c = ssh_spawn(g, DIRECT, password=ALICE_PW)
    c.expect(PROMPT_RE)
    assert wait_for(lambda: [s for s in g.sessions() if not s["ended_at"]
                             and s["protocol"]], timeout=20)
    return c, [s for s in g.sessions() if not s["ended_at"]][-1]


def test_sessions_carry_their_node(two_nodes):
    a, b = two_nodes
    c, row = _open_session(a)
    try:
        assert row["node"] == "node-a"
        listed = json.loads(b.cli("session", "list", "--active", "--json", check=0).stdout)
        assert [s["node"] for s in listed if s["id"] == row["id"]] == ["node-a"]
        text = b.cli("session", "list", "--active", check=0).stdout
        assert "NODE" in text.splitlines()[0] and "node-a" in text
    finally:
        c.sendline("exit")
        c.expect(pexpect.EOF)
        c.close()


def test_session_kill_on_b_ends_a_session_on_a(two_nodes):
    a, b = two_nodes
    c, row = _open_session(a)
    p = b.cli("session", "kill", row["id"], "--reason", "from b", check=0)
    assert row["id"] in p.stdout
    c.expect_exact("killed: from b")
    c.expect(pexpect.EOF)
    c.close()
    r = [s for s in b.sessions() if s["id"] == row["id"]][0]
    assert r["ended_at"] and r["close_reason"] == "killed: from b"


def test_node_lost_closes_its_sessions(two_nodes):
    """kill -9 of node A's master mid-session: after node_timeout node B
    closes A's session as `node lost`, with its end event."""
    a, b = two_nodes
    c, row = _open_session(a)
    workers = a.worker_pids()
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=10)
    try:
        def closed():
            r = [s for s in b.sessions() if s["id"] == row["id"]][0]
            return r["ended_at"] and r["close_reason"] == "node lost"
        assert wait_for(closed, timeout=40), b.read_log()
        ends = [e for e in b.events("session")
                if e["session_id"] == row["id"] and e["result"] == "end"]
        assert len(ends) == 1 and ends[0]["reason"] == "node lost", ends
        assert "node node-a lost" in b.read_log()
    finally:
        c.close(force=True)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# -- migrate --from-sqlite ----------------------------------------------------------

def test_migrate_from_sqlite_then_verify(gh_bin, tmp_path, target, pgdb):
    """An existing SQLite store (users, a session, its events) is copied into
    the PostgreSQL store and its chain verified; a second copy is refused;
    a tampered store copies but fails the verification (exit 1)."""
    import sqlite3
    cluster, name, password = pgdb
    (tmp_path / "old").mkdir()
    old = Gatehouse(gh_bin, str(tmp_path / "old"), target)
    old.pg = None
    old.write_conf("database = sqlite\n")
    old.start()
    try:
        setup_ghenv(old, target)
        p = ssh_run(old, DIRECT, "echo migrated", password=ALICE_PW)
        assert p.returncode == 0 and "migrated" in p.stdout, p.stderr
    finally:
        old.stop()
    src = old.db_path()
    n_events = len(old.events())
    (tmp_path / "new").mkdir()
    # the recordings stay where they are: the new store's rows name them
    new = _node(gh_bin, str(tmp_path / "new"), target, cluster, name, password, "n1",
                f"recordings_dir = {old.data}/recordings\n")
    p = new.cli("migrate", "--from-sqlite", src, check=0)
    assert "migration verified" in p.stdout and f"{n_events} checked" in p.stdout, p.stdout
    assert "alice" in new.cli("user", "list", check=0).stdout
    assert [s["id"] for s in new.sessions()] == [s["id"] for s in old.sessions()]
    assert json.loads(new.cli("audit", "verify", "--json", check=0).stdout)["clean"]
    # new rows get ids after the copied ones
    new.cli("node", "add", "/after/migrate", check=0)
    assert new.events()[-1]["id"] == n_events + 1
    p = new.cli("migrate", "--from-sqlite", src, check=1)
    assert "not empty" in p.stderr
    # a tampered source: copied, and the verification says so
    bad = str(tmp_path / "bad.db")
    shutil.copy(src, bad)
    with sqlite3.connect(bad) as c:
        c.execute("UPDATE events SET user_name = 'mallory' WHERE id = 2")
    name2, password2 = cluster.create_db()
    try:
        (tmp_path / "new2").mkdir()
        new2 = _node(gh_bin, str(tmp_path / "new2"), target, cluster, name2, password2, "n2")
        p = new2.cli("migrate", "--from-sqlite", bad, check=1)
        assert "migration NOT verified" in p.stdout and "broken at event 2" in p.stdout, p.stdout
    finally:
        cluster.drop_db(name2)
