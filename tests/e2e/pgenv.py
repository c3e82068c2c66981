"""A real PostgreSQL for the end-to-end tests: Debian's server binaries
(/usr/lib/postgresql/15/bin), a cluster made with initdb in a
reachable_tmp() directory, run as the `postgres` Unix user (the server
refuses to run as root) on a free loopback port, password authentication
scram-sha-256 for every connection. One cluster serves a whole pytest run
(PgCluster.shared()); each Gatehouse gets a database of its own in it.

Nothing here uses a system service: the server is ours, started and
stopped by PID."""
import atexit
import os
import secrets
import shutil
import signal
import subprocess

PG_BIN = "/usr/lib/postgresql/15/bin"
PG_USER = "postgres"

__all__ = ["PgCluster", "test_db_is_pg", "PG_BIN"]


def test_db_is_pg():
    """GATEHOUSE_TEST_DB=postgresql: the gatehouse instances of the fixtures
    use a PostgreSQL store."""
    return os.environ.get("GATEHOUSE_TEST_DB", "sqlite") == "postgresql"


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg(*cmd, **kw):
    return subprocess.run(["runuser", "-u", PG_USER, "--", *cmd], capture_output=True,
                          text=True, timeout=kw.pop("timeout", 120), **kw)


class PgCluster:
    """A started cluster: host 127.0.0.1, self.port, superuser `postgres`
    with self.super_password."""
    _shared = None

    def __init__(self):
        from sshenv import reachable_tmp
        if not os.path.exists(os.path.join(PG_BIN, "initdb")):
            raise RuntimeError(f"{PG_BIN}/initdb missing (scripts/deps.sh: postgresql)")
        self.root = reachable_tmp()
        self.pgdata = os.path.join(self.root, "pgdata")
        self.sockdir = os.path.join(self.root, "sock")
        self.port = _free_port()
        self.super_password = secrets.token_hex(16)
        self.proc = None
        os.makedirs(self.sockdir)
        shutil.chown(self.root, PG_USER)
        shutil.chown(self.sockdir, PG_USER)
        pwfile = os.path.join(self.root, "initpw")
        with open(pwfile, "w") as f:
            f.write(self.super_password + "\n")
        shutil.chown(pwfile, PG_USER)
        os.chmod(pwfile, 0o600)
        p = _as_pg(f"{PG_BIN}/initdb", "-D", self.pgdata, "-U", PG_USER, "--auth=scram-sha-256",
                   f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8")
        os.unlink(pwfile)
        if p.returncode != 0:
            raise RuntimeError("initdb failed:\n" + p.stdout + p.stderr)
        self.start()

    def start(self):
        self.log_path = os.path.join(self.root, "postgres.log")
        log = open(self.log_path, "a")
        shutil.chown(self.log_path, PG_USER)
        self.proc = subprocess.Popen(
            ["runuser", "-u", PG_USER, "--", f"{PG_BIN}/postgres", "-D", self.pgdata,
             "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
             "-c", f"unix_socket_directories={self.sockdir}", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=300", "-c", "shared_buffers=32MB"],
            stdout=log, stderr=log)
        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited:\n" + self.read_log())
            try:
                self.connect().close()
                return True
            except Exception:  # not accepting yet
                return False
        from sshenv import wait_for
        if wait_for(up, timeout=60, step=0.1):
            return
        raise RuntimeError("postgres did not start:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def connect(self, dbname="postgres", user=PG_USER, password=None):
        import psycopg2
        return psycopg2.connect(host="127.0.0.1", port=self.port, dbname=dbname, user=user,
                                password=password or self.super_password, connect_timeout=5)

    def create_db(self, name=None):
        """A new role and its database: (name, password)."""
        name = name or "gh_" + secrets.token_hex(6)
        password = secrets.token_hex(16)
        c = self.connect()
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(f"CREATE ROLE {name} LOGIN PASSWORD %s", (password,))
            cur.execute(f"CREATE DATABASE {name} OWNER {name}")
        c.close()
        return name, password

    def drop_db(self, name):
        c = self.connect()
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {name}")
        c.close()

    def url(self, name):
        return f"postgresql://{name}@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            # the runuser child is the postmaster's parent: signal the server
            pid_file = os.path.join(self.pgdata, "postmaster.pid")
            try:
                with open(pid_file) as f:
                    os.kill(int(f.readline()), signal.SIGINT)  # fast shutdown
            except (OSError, ValueError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.root, True)

    @classmethod
    def shared(cls):
        """The run's one cluster, started on first use, stopped at exit."""
        if cls._shared is None:
            cls._shared = PgCluster()
            atexit.register(cls._shared.stop)
        return cls._shared


def write_password_file(path, password):
    """database_password_file as the docs say: root's, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")


class PgConn:
    """The store read directly, as sqlite3 would give it: execute() with '?'
    parameters, rows indexable by position and by name."""

    def __init__(self, cluster, name, password):
        self.c = cluster.connect(dbname=name, user=name, password=password)
        self.c.autocommit = True

    def execute(self, sql, params=()):
        import psycopg2.extras
        cur = self.c.cursor(cursor_factory=psycopg2.extras.DictCursor)
        cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
        return cur

    def commit(self):
        pass

    def close(self):
        self.c.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def pg_store(data):
    """A database in the run's shared cluster for the gatehouse whose data
    directory is DATA: {"cluster", "name", "password", "conf"} where conf
    holds the gatehouse.conf lines (the password in DATA/db.password)."""
    cluster = PgCluster.shared()
    name, password = cluster.create_db()
    pwfile = os.path.join(data, "db.password")
    os.makedirs(data, exist_ok=True)
    write_password_file(pwfile, password)
    return {"cluster": cluster, "name": name, "password": password,
            "conf": f"database = postgresql\ndatabase_url = {cluster.url(name)}\n"
                    f"database_password_file = {pwfile}\n"}


def configure_data_dir(data):
    """DATA with a gatehouse.conf naming a PostgreSQL store of its own."""
    st = pg_store(data)
    with open(os.path.join(data, "gatehouse.conf"), "w") as f:
        f.write(st["conf"])
    return st
