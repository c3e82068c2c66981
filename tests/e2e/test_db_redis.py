"""The database gateway's Redis door: redis-cli (plain on loopback and
--tls) and python3-redis through a running gatehouse to a redis-server
started by the test with a password."""
import subprocess

import pytest

from dbenv import start_redis
from sshenv import Gatehouse, free_port, port_open, wait_for

pytestmark_protocol = True

ALICE_PW = "alice-Pw-0451"
REDIS_PW = "redis-Secret-31c"
APP_PW = "appuser-Secret-4d"


@pytest.fixture(scope="module")
def rds():
    s = start_redis(REDIS_PW)
    s.add_user("appuser", APP_PW)
    yield s
    s.stop()


@pytest.fixture
def gh(gh_bin, tmp_path, rds):
    port = free_port()
    g = Gatehouse(gh_bin, str(tmp_path), None, extra_conf=f"redis_listen = 127.0.0.1:{port}\n")
    g.rd_port = port
    g.add_user("alice", ALICE_PW)
    g.cli("asset", "add", "rdb", "--address", "127.0.0.1", "--port", rds.port,
          "--platform", "redis", "--protocols", "redis")
    g.cli("account", "add", "rdb", "default", "--password-stdin", stdin=REDIS_PW + "\n")
    g.cli("account", "add", "rdb", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    g.cli("perm", "add", "p-rdb", "--user", "alice", "--asset", "rdb",
          "--protocols", "redis", "--actions", "connect")
    g.cli("cmdgroup", "add", "flush", "--kind", "redis", "FLUSHALL")
    g.cli("cmdfilter", "add", "no-flush", "--cmdgroup", "flush", "--action", "reject")
    g.start()
    assert wait_for(lambda: port_open(port), 20), g.read_log()
    yield g
    g.stop()


def rcli(gh, *args, user="alice@default@rdb", password=ALICE_PW, tls=False, stdin=None):
    a = ["redis-cli", "-h", "127.0.0.1", "-p", str(gh.rd_port), "--no-auth-warning",
         "--user", user, "--pass", password]
    if tls:
        a += ["--tls", "--insecure"]
    return subprocess.run(a + list(args), capture_output=True, text=True, timeout=60, input=stdin)


def test_redis_cli_commands_audited_auth_never(gh, rds):
    """redis-cli --user/--pass: commands reach the server as `default`, each is a
    command event with its arguments, the passwords are in no event."""
    p = rcli(gh, "SET", "k1", "hello world")
    assert p.returncode == 0 and p.stdout.strip() == "OK", p.stdout + p.stderr + gh.read_log()
    p = rcli(gh, "GET", "k1")
    assert p.stdout.strip() == "hello world", p.stdout + p.stderr
    assert rds.cli("GET", "k1") == "hello world"
    texts = [e["detail"] for e in gh.events("command")]
    assert any("SET k1" in t and "hello world" in t for t in texts), texts
    assert any("GET k1" in t for t in texts), texts
    everything = repr(gh.events()) + gh.read_log()
    assert ALICE_PW not in everything and REDIS_PW not in everything
    rows = [s for s in gh.sessions() if s["protocol"] == "redis"]
    assert rows and rows[0]["account"] == "default", rows


def test_acl_account_and_tls(gh, rds):
    """An ACL account over TLS (redis-cli --tls)."""
    p = rcli(gh, "ACL", "WHOAMI", user="alice@appuser@rdb", tls=True)
    assert p.returncode == 0 and p.stdout.strip() == "appuser", p.stdout + p.stderr + gh.read_log()


def test_flushall_rejected_pipeline_goes_on(gh, rds):
    """A rejected FLUSHALL answers an error in its place in a pipeline; the
    commands around it run, the data stays."""
    rds.cli("SET", "keepme", "1")
    p = rcli(gh, stdin="SET a 1\nFLUSHALL\nGET a\n")
    out = [x.replace("(error) ", "") for x in p.stdout.splitlines() if x.strip()]
    assert out[:3] == ["OK", "ERR rejected by Gatehouse: rule no-flush", "1"], p.stdout + p.stderr
    assert rds.cli("GET", "keepme") == "1"


def test_wrong_password(gh):
    p = rcli(gh, "PING", password="wrong")
    assert "WRONGPASS" in p.stdout + p.stderr, p.stdout + p.stderr
    logins = [e for e in gh.events("login") if e["result"] == "failure"]
    assert logins, gh.events()


def test_python_redis_pipeline(gh, rds):
    """python3-redis (AUTH user pass) with a 200-command pipeline."""
    import redis
    r = redis.Redis(host="127.0.0.1", port=gh.rd_port, username="alice@default@rdb",
                    password=ALICE_PW, socket_timeout=20)
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"p{i}", i)
    pipe.hset("h", mapping={"a": 1, "b": 2})
    pipe.hgetall("h")
    res = pipe.execute()
    assert res[:200] == [True] * 200
    assert res[-1] == {b"a": b"1", b"b": b"2"}
    assert r.get("p199") == b"199"
    r.close()


def test_hello3_auth(gh, rds):
    """HELLO 3 AUTH user pass: the target's own HELLO answer (RESP3 map with its
    version) comes back; the session then speaks RESP3."""
    p = rcli(gh, "-3", "HGETALL", "nokey")
    assert p.returncode == 0, p.stdout + p.stderr + gh.read_log()
    import socket
    with socket.create_connection(("127.0.0.1", gh.rd_port), timeout=20) as s:
        s.sendall(f"HELLO 3 AUTH alice@default@rdb {ALICE_PW}\r\nPING\r\n".encode())
        data = b""
        while b"+PONG\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    assert data.startswith(b"%") and b"version" in data, data


def test_database_down(gh, rds):
    rds.stop()
    try:
        p = rcli(gh, "PING")
        assert "ERR database rdb unavailable" in p.stdout + p.stderr, p.stdout + p.stderr
        assert "WRONGPASS" not in p.stdout + p.stderr
    finally:
        rds.start()
    ends = [e for e in gh.events("session") if e["result"] == "end"]
    assert any("connect failed" in (e["reason"] or "") for e in ends), gh.events("session")
