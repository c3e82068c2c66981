"""The database gateway's PostgreSQL door: real psql, pg_dump and psycopg2
through a running gatehouse to a PostgreSQL started by the test."""
import os
import subprocess

import pytest

from dbenv import start_postgresql
import re

from sshenv import Gatehouse, free_port, port_open, ssh_run, wait_for

pytestmark_protocol = True

ALICE_PW = "alice-Pw-0451"
APP_PW = "app-Secret-77a"
MD5_PW = "legacy-Secret-9"


@pytest.fixture(scope="module")
def pg():
    s = start_postgresql()
    s.add_role("appuser", APP_PW, "scram-sha-256", db="app")
    s.add_role("legacy", MD5_PW, "md5", db="legacydb")
    yield s
    s.stop()


@pytest.fixture
def gh(gh_bin, tmp_path, pg):
    port = free_port()
    g = Gatehouse(gh_bin, str(tmp_path), None,
                  extra_conf=f"postgresql_listen = 127.0.0.1:{port}\n")
    g.pg_port = port
    g.add_user("alice", ALICE_PW)
    g.cli("asset", "add", "db01", "--address", "127.0.0.1", "--port", pg.port,
          "--platform", "postgresql", "--protocols", "postgresql")
    g.cli("account", "add", "db01", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    g.cli("account", "add", "db01", "legacy", "--password-stdin", stdin=MD5_PW + "\n")
    g.cli("perm", "add", "p-db", "--user", "alice", "--asset", "db01",
          "--protocols", "postgresql", "--actions", "connect")
    g.start()
    assert wait_for(lambda: port_open(port), 20), g.read_log()
    yield g
    g.stop()


def dsn(gh, account="appuser", db="app", sslmode="require", user="alice"):
    return (f"host=127.0.0.1 port={gh.pg_port} user={user}@{account}@db01 dbname={db} "
            f"sslmode={sslmode} connect_timeout=10")


def psql(gh, sql, password=ALICE_PW, **kw):
    env = dict(os.environ, PGPASSWORD=password)
    return subprocess.run(["psql", dsn(gh, **kw), "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, env=env, timeout=60)


def commands(gh):
    return [e for e in gh.events("command")]


def test_psql_scram_statements_audited(gh, pg):
    """psql with sslmode=require reaches a scram-sha-256 role; each statement is a
    command event; server_version is the real server's."""
    p = psql(gh, "CREATE TABLE t1 (a int); INSERT INTO t1 VALUES (1), (2); "
                 "SELECT count(*) FROM t1")
    assert p.returncode == 0, p.stderr + gh.read_log()
    assert p.stdout.strip().splitlines()[-1] == "2"
    p = psql(gh, "SHOW server_version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().startswith("15."), p.stdout
    texts = [e["detail"] for e in commands(gh)]
    assert any("INSERT INTO t1" in t for t in texts), texts
    assert any("SHOW server_version" in t for t in texts), texts
    rows = [s for s in gh.sessions() if s["protocol"] == "postgresql"]
    assert rows and rows[0]["account"] == "appuser", rows


def test_md5_role(gh, pg):
    p = psql(gh, "SELECT current_user", account="legacy", db="legacydb")
    assert p.returncode == 0, p.stderr + gh.read_log()
    assert p.stdout.strip() == "legacy"


def test_plaintext_refused(gh):
    """Without TLS the password is never asked for."""
    p = psql(gh, "SELECT 1", sslmode="disable")
    assert p.returncode != 0
    assert "only over TLS" in p.stderr, p.stderr


def test_wrong_password(gh):
    p = psql(gh, "SELECT 1", password="wrong")
    assert p.returncode != 0
    assert "password authentication failed" in p.stderr, p.stderr
    logins = [e for e in gh.events("login") if e["result"] == "failure"]
    assert logins, gh.events()


def test_rejected_drop_table_leaves_the_table(gh, pg):
    """A command filter rejecting DROP TABLE (any case, comments between the
    words) answers an error naming the rule; the table stays, the session goes
    on, and the event says reject."""
    gh.cli("cmdgroup", "add", "sql-drop", "--kind", "sql", "--cmd", "DROP TABLE")
    gh.cli("cmdfilter", "add", "no-drop", "--cmdgroup", "sql-drop", "--action", "reject")
    # a shell group judges shell commands only, never SQL
    gh.cli("cmdgroup", "add", "shell-select", "--ignore-case", "--cmd", "select")
    gh.cli("cmdfilter", "add", "no-shell-select", "--cmdgroup", "shell-select",
           "--action", "reject")
    assert psql(gh, "CREATE TABLE keepme (a int)").returncode == 0
    p = psql(gh, "drop /* sneaky */\n table keepme")
    assert p.returncode != 0
    assert "rejected by Gatehouse: rule no-drop" in p.stderr, p.stderr
    # several statements in one query: the most severe verdict wins
    p = psql(gh, "SELECT 1; DROP TABLE keepme")
    assert "rejected by Gatehouse: rule no-drop" in p.stderr, p.stderr
    # the same connection goes on after a rejection
    env = dict(os.environ, PGPASSWORD=ALICE_PW)
    p = subprocess.run(["psql", dsn(gh), "-At"], input="DROP TABLE keepme;\nSELECT 42;\n",
                       capture_output=True, text=True, env=env, timeout=60)
    assert "42" in p.stdout, p.stdout + p.stderr
    assert pg.psql_admin("SELECT count(*) FROM pg_tables WHERE tablename = 'keepme'",
                         db="app").strip() == "1"
    rejected = [e for e in commands(gh) if e["result"] == "reject"]
    assert len(rejected) == 3 and all(e["reason"] == "no-drop" for e in rejected), rejected


def test_database_down(gh, pg, tmp_path):
    """An asset whose database does not answer: a clean error and an event."""
    gh.cli("asset", "add", "db02", "--address", "127.0.0.1", "--port", free_port(),
           "--platform", "postgresql", "--protocols", "postgresql")
    gh.cli("account", "add", "db02", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    gh.cli("perm", "add", "p-db2", "--user", "alice", "--asset", "db02",
           "--protocols", "postgresql", "--actions", "connect")
    env = dict(os.environ, PGPASSWORD=ALICE_PW)
    p = subprocess.run(["psql", dsn(gh).replace("@db01", "@db02"), "-c", "SELECT 1"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0
    assert "database db02 unavailable" in p.stderr, p.stderr
    ends = [e for e in gh.events("session") if e["result"] == "end"]
    assert any("connect failed" in (e["reason"] or "") for e in ends), gh.events("session")


def test_not_permitted_account(gh):
    p = psql(gh, "SELECT 1", account="postgres")
    assert p.returncode != 0
    assert "not permitted" in p.stderr, p.stderr


def test_psycopg2_copy_prepared_large(gh, pg):
    """psycopg2: a prepared statement, COPY both ways and a large result
    streamed through the door."""
    import psycopg2
    c = psycopg2.connect(dsn(gh), password=ALICE_PW)
    cur = c.cursor()
    cur.execute("CREATE TABLE big (i int, s text)")
    cur.execute("PREPARE ins (int) AS INSERT INTO big VALUES ($1, 'x')")
    cur.execute("EXECUTE ins (1)")
    import io
    data = "".join(f"{i}\t{'y' * 100}\n" for i in range(2, 50002))
    cur.copy_expert("COPY big FROM STDIN", io.StringIO(data))
    c.commit()
    out = io.StringIO()
    cur.copy_expert("COPY big TO STDOUT", out)
    assert out.getvalue().count("\n") == 50001
    cur.execute("SELECT i, s FROM big ORDER BY i")
    n = 0
    for row in cur:
        n += 1
    assert n == 50001
    c.close()
    texts = [e["detail"] for e in commands(gh)]
    assert any("EXECUTE ins" in t for t in texts) and any("COPY big FROM STDIN" in t
                                                            for t in texts), texts


def test_pg_dump(gh, pg, tmp_path):
    assert psql(gh, "CREATE TABLE dumped (a int); INSERT INTO dumped VALUES (7)").returncode == 0
    env = dict(os.environ, PGPASSWORD=ALICE_PW)
    p = subprocess.run(["pg_dump", "-d", dsn(gh), "-t", "dumped"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "CREATE TABLE public.dumped" in p.stdout


def test_db_token_once(gh):
    """`ssh gatehouse db-token ASSET --account A` gives a token that logs in once
    in place of the password; the second use is refused and audited."""
    p = ssh_run(gh, "alice", "db-token", "db01", "--account", "appuser", password=ALICE_PW)
    assert p.returncode == 0, p.stdout + p.stderr + gh.read_log()
    m = re.search(r"ghdb-[0-9a-f]{48}", p.stdout + p.stderr)
    assert m, p.stdout
    token = m.group(0)
    q = psql(gh, "SELECT 5", password=token)
    assert q.returncode == 0 and q.stdout.strip() == "5", q.stderr
    q = psql(gh, "SELECT 5", password=token)
    assert q.returncode != 0 and "password authentication failed" in q.stderr, q.stderr
    fails = [e for e in gh.events("login") if e["result"] == "failure"]
    assert any("db token" in (e["reason"] or "") for e in fails), fails
    # for another account it never worked
    p = ssh_run(gh, "alice", "db-token", "db01", "--account", "legacy", password=ALICE_PW)
    token = re.search(r"ghdb-[0-9a-f]{48}", p.stdout + p.stderr).group(0)
    assert psql(gh, "SELECT 1", password=token).returncode != 0


def test_databases_limit(gh, pg):
    """perm add --databases: another database is refused at startup (clean
    error, audited), a listed one works."""
    gh.cli("perm", "del", "p-db")
    gh.cli("perm", "add", "p-db-app", "--user", "alice", "--asset", "db01", "--protocols",
           "postgresql", "--actions", "connect", "--databases", "app,reports")
    assert psql(gh, "SELECT 1").returncode == 0
    p = psql(gh, "SELECT 1", account="legacy", db="legacydb")
    assert p.returncode != 0
    assert 'database "legacydb" is not permitted' in p.stderr, p.stderr
    pol = [e for e in gh.events("policy") if "legacydb" in (e["reason"] or "")]
    assert pol, gh.events("policy")
    r = gh.cli("perm", "add", "bad", "--user", "alice", "--asset", "db01", "--databases",
               "a,,b", check=None)
    assert r.returncode != 0
