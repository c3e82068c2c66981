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
