"""The database gateway's MySQL/MariaDB door: the stock mariadb client with
--ssl, mariadb-dump and pymysql through a running gatehouse to a MariaDB
started by the test (grant tables on, a password-protected account)."""
import os
import subprocess

import pytest

from dbenv import start_mariadb
from sshenv import Gatehouse, free_port, port_open, wait_for

pytestmark_protocol = True

ALICE_PW = "alice-Pw-0451"
APP_PW = "app-Secret-77a"


@pytest.fixture(scope="module")
def mdb():
    s = start_mariadb()
    s.add_user("appuser", APP_PW, db="app")
    s.sql("CREATE DATABASE IF NOT EXISTS reports")
    yield s
    s.stop()


@pytest.fixture
def gh(gh_bin, tmp_path, mdb):
    port = free_port()
    g = Gatehouse(gh_bin, str(tmp_path), None, extra_conf=f"mysql_listen = 127.0.0.1:{port}\n")
    g.my_port = port
    g.add_user("alice", ALICE_PW)
    g.cli("asset", "add", "db01", "--address", "127.0.0.1", "--port", mdb.port,
          "--platform", "mysql", "--protocols", "mysql")
    g.cli("account", "add", "db01", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    g.cli("perm", "add", "p-db", "--user", "alice", "--asset", "db01",
          "--protocols", "mysql", "--actions", "connect")
    g.cli("cmdgroup", "add", "drops", "--kind", "sql", "DROP TABLE")
    g.cli("cmdfilter", "add", "no-drop", "--cmdgroup", "drops", "--action", "reject")
    g.start()
    assert wait_for(lambda: port_open(port), 20), g.read_log()
    yield g
    g.stop()


def mysql(gh, sql, password=ALICE_PW, db="app", ssl=True, user="alice@appuser@db01"):
    args = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(gh.my_port), "-u", user,
            f"-p{password}", "-N", "-B", "--connect-timeout=10"]
    args += ["--ssl", "--ssl-verify-server-cert=0"] if ssl else ["--skip-ssl"]
    if db:
        args.append(db)
    return subprocess.run(args + ["-e", sql], capture_output=True, text=True, timeout=60)


def command_texts(gh):
    return [e["detail"] for e in gh.events("command")]


def test_mysql_ssl_statements_audited(gh, mdb):
    """The stock client with --ssl logs in (caching_sha2 full authentication over
    TLS), reaches the password-protected account, each statement is audited,
    VERSION() is the real server's."""
    p = mysql(gh, "CREATE TABLE t1 (a int); INSERT INTO t1 VALUES (1), (2); "
                  "SELECT count(*) FROM t1; SELECT VERSION()")
    assert p.returncode == 0, p.stderr + gh.read_log()
    lines = p.stdout.strip().splitlines()
    assert lines[0] == "2", lines
    assert "MariaDB" in lines[1], lines
    texts = command_texts(gh)
    assert any("INSERT INTO t1" in t for t in texts), texts
    assert any("SELECT count(*) FROM t1" in t for t in texts), texts
    rows = [s for s in gh.sessions() if s["protocol"] == "mysql"]
    assert rows and rows[0]["account"] == "appuser", rows
    assert mdb.sql("SELECT count(*) FROM t1", db="app").strip() == "2"


def test_drop_table_rejected_session_goes_on(gh, mdb):
    """A rejected DROP TABLE gets the protocol error, the table stays and the
    next statement of the same connection runs (failed before the fix: the door
    closed the connection after answering a refusal itself)."""
    mdb.sql("CREATE TABLE IF NOT EXISTS keep (a int)", db="app")
    p = mysql(gh, "DROP TABLE keep")
    assert p.returncode != 0
    assert "rejected by Gatehouse: rule no-drop" in p.stderr, p.stderr
    assert mdb.sql("SHOW TABLES LIKE 'keep'", db="app").strip() == "keep"
    # the same connection goes on after the refusal (--force: the client too)
    p = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(gh.my_port), "-u",
                        "alice@appuser@db01", f"-p{ALICE_PW}", "--ssl", "--ssl-verify-server-cert=0",
                        "-N", "-B", "--force", "app"],
                       input="DROP TABLE keep;\nSELECT 'still here', CONNECTION_ID();\n",
                       capture_output=True, text=True, timeout=60)
    assert "rejected by Gatehouse: rule no-drop" in p.stderr, p.stderr
    assert p.stdout.startswith("still here"), p.stdout + p.stderr
    assert "Lost connection" not in p.stderr and "reconnect" not in p.stderr.lower(), p.stderr


def test_plaintext_refused(gh):
    """Without TLS the password is never asked for."""
    p = mysql(gh, "SELECT 1", ssl=False)
    assert p.returncode != 0
    assert "only over TLS" in p.stderr, p.stderr


def test_wrong_password(gh):
    p = mysql(gh, "SELECT 1", password="wrong")
    assert p.returncode != 0
    assert "Access denied" in p.stderr or "authentication failed" in p.stderr, p.stderr
    logins = [e for e in gh.events("login") if e["result"] == "failure"]
    assert logins, gh.events()


def test_pymysql_prepared_and_dump(gh, mdb):
    """pymysql (its own protocol code) and mariadb-dump work through the door."""
    import pymysql
    import ssl as ssl_mod
    ctx = ssl_mod.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl_mod.CERT_NONE
    c = pymysql.connect(host="127.0.0.1", port=gh.my_port, user="alice@appuser@db01",
                        password=ALICE_PW, database="app", ssl=ctx, connect_timeout=10)
    with c.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS py (a int, b varchar(20))")
        cur.executemany("INSERT INTO py VALUES (%s, %s)", [(i, f"v{i}") for i in range(50)])
        c.commit()
        cur.execute("SELECT count(*), max(a) FROM py WHERE a >= %s", (10,))
        assert cur.fetchone() == (40, 49)
    c.close()
    env = dict(os.environ, MYSQL_PWD=ALICE_PW)
    p = subprocess.run(["mariadb-dump", "--no-defaults", "-h", "127.0.0.1", "-P", str(gh.my_port),
                        "-u", "alice@appuser@db01", "--ssl", "--ssl-verify-server-cert=0",
                        "app", "py"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr + gh.read_log()
    assert "INSERT INTO `py` VALUES" in p.stdout and "(49,'v49')" in p.stdout


def test_database_down(gh, mdb):
    """The target is down: a clean error for the client, an audit event."""
    mdb.stop()
    try:
        p = mysql(gh, "SELECT 1")
        assert p.returncode != 0
        assert "ERROR 1105" in p.stderr and "database db01 unavailable" in p.stderr, p.stderr
    finally:
        mdb.start()
    assert wait_for(lambda: mdb.running(), 10)
    ends = [e for e in gh.events("session") if e["result"] == "end"]
    assert any("connect failed" in (e["reason"] or "") for e in ends), gh.events("session")


def test_databases_limit_use_and_init_db(gh, mdb):
    """perm add --databases app: the login to another database, COM_INIT_DB
    (`mysql -D` / `\\u`) and a USE hidden after another statement are refused
    (audited); the listed database works and the session goes on."""
    mdb.sql("GRANT ALL ON reports.* TO 'appuser'@'%'")
    gh.cli("perm", "del", "p-db")
    gh.cli("perm", "add", "p-db-app", "--user", "alice", "--asset", "db01", "--protocols",
           "mysql", "--actions", "connect", "--databases", "app")
    assert mysql(gh, "SELECT 1").returncode == 0
    p = mysql(gh, "SELECT 1", db="reports")
    assert p.returncode != 0 and 'database "reports" is not permitted' in p.stderr, p.stderr
    p = mysql(gh, "SELECT 1; USE reports; SELECT 'not here'")
    assert p.returncode != 0 and "not permitted" in p.stderr, p.stdout + p.stderr
    assert "not here" not in p.stdout
    # COM_INIT_DB: the client's `use` command sends it
    p = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(gh.my_port), "-u",
                        "alice@appuser@db01", f"-p{ALICE_PW}", "--ssl", "--ssl-verify-server-cert=0",
                        "-N", "-B", "--force", "app"],
                       input="use reports\nSELECT DATABASE();\n", capture_output=True, text=True,
                       timeout=60)
    assert "not permitted" in p.stderr, p.stdout + p.stderr
    assert p.stdout.strip().splitlines()[-1:] == ["app"], p.stdout + p.stderr + gh.read_log()[-3000:]
    pol = [e for e in gh.events("policy") if "reports" in (e["reason"] or "")]
    assert len(pol) >= 3, gh.events("policy")
