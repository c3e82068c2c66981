"""Database servers for the database gateway's tests: one function per
server, each starting its own instance on a free loopback port in a temp
directory (never the system services) and returning a small object with
its port, its accounts and a stop() the test's fixture calls."""
import os
import shutil
import subprocess

import pytest

from sshenv import free_port, reachable_tmp, wait_for

PG_BIN = "/usr/lib/postgresql/15/bin"


class PgServer:
    """A running PostgreSQL: superuser `postgres` (trust over the unix
    socket only), password roles over TCP as created by add_role()."""

    def __init__(self, root, port):
        self.root = root
        self.port = port
        self.data = os.path.join(root, "pgdata")
        self.sock = root
        self.passwords = {}

    def _as_pg(self, *args, **kw):
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True,
                              text=True, timeout=120, **kw)

    def psql_admin(self, sql, db="postgres"):
        """Run SQL as the superuser over the unix socket; its output."""
        p = self._as_pg("psql", "-h", self.sock, "-p",
                        str(self.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                        "-Atc", sql)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def add_role(self, name, password, method="scram-sha-256", db=None):
        enc = "scram-sha-256" if method == "scram-sha-256" else "md5"
        self.psql_admin(f"SET password_encryption = '{enc}'; "
                        f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        if db:
            self.psql_admin(f"CREATE DATABASE {db} OWNER {name}")
        self.passwords[name] = password

    def stop(self):
        self._as_pg(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop")

    def running(self):
        return self._as_pg(f"{PG_BIN}/pg_ctl", "-D", self.data, "status").returncode == 0


def start_postgresql(ssl=False):
    """initdb + postgres on 127.0.0.1:FREE_PORT; TCP logins need a password
    (scram-sha-256 or md5, as the role's hash says)."""
    root = reachable_tmp()
    shutil.chown(root, "postgres", "postgres")
    port = free_port()
    s = PgServer(root, port)
    p = s._as_pg(f"{PG_BIN}/initdb", "-D", s.data, "-U", "postgres", "--auth-local=trust",
                 "--auth-host=md5", "-E", "UTF8", "--locale=C")
    if p.returncode != 0:
        pytest.fail(f"initdb failed: {p.stderr}")
    with open(os.path.join(s.data, "postgresql.conf"), "a") as f:
        f.write(f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{root}'\nfsync = off\n")
    p = s._as_pg(f"{PG_BIN}/pg_ctl", "-D", s.data, "-l", os.path.join(root, "pg.log"),
                 "-w", "-t", "60", "start")
    if p.returncode != 0:
        log = open(os.path.join(root, "pg.log")).read() if os.path.exists(
            os.path.join(root, "pg.log")) else ""
        pytest.fail(f"postgres did not start: {p.stderr}\n{log}")
    if not wait_for(lambda: os.path.exists(os.path.join(root, f".s.PGSQL.{port}")), 30):
        pytest.fail("postgres socket did not appear")
    return s


class MariaDbServer:
    """A running MariaDB: root over the unix socket (socket auth), password
    users over TCP as created by add_user()."""

    def __init__(self, root, port):
        self.root = root
        self.port = port
        self.data = os.path.join(root, "data")
        self.sock = os.path.join(root, "sock")
        self.proc = None

    def sql(self, sql, db=None):
        """Run SQL as root over the unix socket; its output (tab-separated)."""
        args = ["mariadb", "--no-defaults", "-S", self.sock, "-u", "root", "-N", "-B", "-e", sql]
        if db:
            args.append(db)
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def add_user(self, name, password, db=None):
        self.sql(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'")
        if db:
            self.sql(f"CREATE DATABASE IF NOT EXISTS {db}")
            self.sql(f"GRANT ALL ON {db}.* TO '{name}'@'%'")

    def start(self):
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", "--user=mysql",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.sock}",
             f"--pid-file={self.root}/pid", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
             f"--log-error={self.root}/err.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 60) \
                or self.proc.poll() is not None:
            log = open(f"{self.root}/err.log").read() if os.path.exists(f"{self.root}/err.log") else ""
            pytest.fail(f"mariadbd did not start: {log}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def running(self):
        return self.proc is not None and self.proc.poll() is None


def start_mariadb():
    """mariadb-install-db + mariadbd on 127.0.0.1:FREE_PORT (grant tables on)."""
    root = reachable_tmp()
    shutil.chown(root, "mysql", "mysql")
    s = MariaDbServer(root, free_port())
    p = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={s.data}", "--user=mysql",
                        "--skip-test-db", "--auth-root-authentication-method=socket"],
                       capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        pytest.fail(f"mariadb-install-db failed: {p.stderr}")
    s.start()
    return s


class RedisServer:
    """A running redis-server with `requirepass` (the default user) and ACL
    users added by add_user()."""

    def __init__(self, root, port, password):
        self.root = root
        self.port = port
        self.password = password
        self.proc = None

    def cli(self, *args):
        p = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning",
                            "-a", self.password, *args], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def add_user(self, name, password):
        assert self.cli("ACL", "SETUSER", name, "on", f">{password}", "~*", "&*", "+@all") == "OK"

    def start(self):
        conf = os.path.join(self.root, "redis.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {self.root}\nsave \"\"\n"
                    f"appendonly no\nrequirepass {self.password}\ndaemonize no\n")
        os.chmod(conf, 0o600)
        self.proc = subprocess.Popen(["redis-server", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_for(lambda: _redis_ping(self.port), 30):
            pytest.fail("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def _redis_ping(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def start_redis(password):
    s = RedisServer(reachable_tmp(), free_port(), password)
    s.start()
    return s
