"""SSH end-to-end environment: a real OpenSSH target (`/usr/sbin/sshd -D -e`)
on a free loopback port with its own Unix test accounts, the real
`gatehouse serve` on a free port with a temporary data directory, and the
real `ssh` client with its own known_hosts.

Use from a test module:  from sshenv import *  (fixtures and helpers).

The tests create Unix accounts (ghtest-deploy, ghtest-ops) once, so they run
as root on a throwaway machine. Every process started here is tracked by PID
and stopped by PID. Every wait has a timeout."""
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import weakref

import pytest

__all__ = [
    "target", "gatehouse", "ghenv", "Gatehouse", "Target", "free_port", "wait_for",
    "UNIX_DEPLOY", "UNIX_OPS", "ssh_args", "ssh_run", "ssh_spawn", "PROMPT", "PROMPT_RE",
    "setup_ghenv", "reachable_tmp", "port_open",
]

UNIX_DEPLOY = "ghtest-deploy"
UNIX_OPS = "ghtest-ops"
# A prompt that cannot be confused with echoed input.
PROMPT = "GHPROMPT$ "
PROMPT_RE = r"GHPROMPT\$ "


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=15, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _need_root():
    if os.geteuid() != 0:
        pytest.fail("SSH end-to-end tests need root (test Unix accounts, sshd)")
    for b in ("/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} missing")


def _add_authorized_key(path, line, keep=64):
    """Append LINE to an authorized_keys file shared by runs that may overlap
    on one machine (each run has its own key): keep the newest KEEP lines, so
    no run removes the key of another that is still going."""
    import fcntl
    with open(path + ".lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            old = [l for l in open(path).read().splitlines() if l.strip()]
        except FileNotFoundError:
            old = []
        lines = [l for l in old if l != line][-(keep - 1):] + [line]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


def _ensure_unix_user(name, password, shell_rc):
    import fcntl
    # test runs in parallel (pytest -n) create the same accounts: one at a time
    with open("/var/tmp/gatehouse-test-users.lock", "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True,
                           capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                   capture_output=True)
    home = os.path.expanduser(f"~{name}")
    # a recognisable prompt and no surprises from the distribution's rc files
    with open(os.path.join(home, ".bashrc"), "w") as f:
        f.write(shell_rc)
    shutil.chown(os.path.join(home, ".bashrc"), name, name)
    return home


class Target:
    """A running OpenSSH server with accounts ghtest-deploy (password) and
    ghtest-ops (password and key)."""

    def __init__(self, tmp):
        self.dir = tmp
        self.port = None
        self.proc = None
        # Fixed per account (throwaway test accounts): runs that overlap on one
        # machine must not change each other's target passwords under them.
        self.passwords = {UNIX_DEPLOY: "Dp-5f0c9e2a7b41d8c3e6f1a2b9",
                          UNIX_OPS: "Op-8d2e4c6a1f3b5e7d9c0a2b4f"}
        rc = f"PS1='{PROMPT}'\nunset PROMPT_COMMAND\n"
        for name, pw in self.passwords.items():
            _ensure_unix_user(name, pw, rc)
        # key for ghtest-ops
        self.ops_key = os.path.join(tmp, "ops_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops@target", "-f",
                        self.ops_key], check=True, capture_output=True)
        # sshd reads authorized_keys as the user: keep it in the user's home
        sshdir = os.path.join(os.path.expanduser(f"~{UNIX_OPS}"), ".ssh")
        os.makedirs(sshdir, exist_ok=True)
        _add_authorized_key(os.path.join(sshdir, "authorized_keys"),
                            open(self.ops_key + ".pub").read().strip())
        for p in (sshdir, os.path.join(sshdir, "authorized_keys")):
            shutil.chown(p, UNIX_OPS, UNIX_OPS)
        self.host_keys = []
        self.regen_host_key()

    def regen_host_key(self):
        """New host key (the next start presents a changed key)."""
        path = os.path.join(self.dir, "ssh_host_ed25519_key")
        for p in (path, path + ".pub"):
            if os.path.exists(p):
                os.unlink(p)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True,
                       capture_output=True)
        self.host_keys = [path]

    def host_key_line(self):
        with open(self.host_keys[0] + ".pub") as f:
            t, b64 = f.read().split()[:2]
        return f"{t} {b64}"

    def start(self, port=None):
        os.makedirs("/run/sshd", exist_ok=True)
        self.port = port or self.port or free_port()
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                f"Port {self.port}",
                "ListenAddress 127.0.0.1",
                *[f"HostKey {k}" for k in self.host_keys],
                f"PidFile {self.dir}/sshd.pid",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                "PermitRootLogin no",
                "StrictModes no",
                "AuthorizedKeysFile .ssh/authorized_keys",
                "AcceptEnv LANG LC_*",
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "MaxStartups 100",
                "",
            ]))
        self.log = open(os.path.join(self.dir, "sshd.log"), "a")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                                     stdout=self.log, stderr=self.log)
        if not wait_for(lambda: port_open(self.port), timeout=10):
            self.stop()
            pytest.fail("target sshd did not start; see " + self.log.name)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


REACHABLE_PREFIX = "/var/tmp/gh-e2e-"


def _pg_store(data):
    """With GATEHOUSE_TEST_DB=postgresql, a database of this instance's own
    in the run's shared cluster (pgenv.pg_store); None otherwise."""
    import pgenv
    return pgenv.pg_store(data) if pgenv.test_db_is_pg() else None


def reachable_tmp():
    """A fresh directory under /var/tmp, mode 0711, that the workers' user can
    pass through (the caller removes it)."""
    d = tempfile.mkdtemp(prefix=os.path.basename(REACHABLE_PREFIX),
                         dir=os.path.dirname(REACHABLE_PREFIX))
    os.chmod(d, 0o711)
    return d


class Gatehouse:
    """A running `gatehouse serve` with its data directory and CLI."""

    def __init__(self, gh_bin, tmp, target, extra_conf="", drop=True):
        """drop=True (the default, as `make run`): workers drop to the
        gatehouse user, so the data directory must be reachable by that user.
        pytest's tmp root is 0700 and other pytest runs reset it: unless TMP
        is itself from reachable_tmp(), the data directory goes to a fresh
        reachable_tmp(), removed when this object goes. drop=False runs the
        workers as root (`worker_user =`): only for a test that needs it,
        with a comment saying why."""
        self.bin = gh_bin
        self.drop = drop
        self.tmp = tmp
        root = tmp
        if drop and not tmp.startswith(REACHABLE_PREFIX):
            root = reachable_tmp()
            weakref.finalize(self, shutil.rmtree, root, True)
        self.data = os.path.join(root, "data")
        self.target = target
        self.port = free_port()
        self.web_port = free_port()  # web_listen: never the shared default 8443
        self.proc = None
        self.known_hosts = os.path.join(tmp, "known_hosts")
        self.log_path = os.path.join(tmp, "serve.log")
        self.askpass = os.path.join(tmp, "askpass.sh")
        with open(self.askpass, "w") as f:
            f.write("#!/bin/sh\nprintf '%s\\n' \"$GH_TEST_PASSWORD\"\n")
        os.chmod(self.askpass, 0o700)
        os.makedirs(self.data, exist_ok=True)
        self.pg = _pg_store(self.data)  # GATEHOUSE_TEST_DB=postgresql (pgenv.py)
        self.write_conf(extra_conf)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

    def write_conf(self, extra=""):
        with open(os.path.join(self.data, "gatehouse.conf"), "w") as f:
            f.write(f"ssh_listen = 127.0.0.1:{self.port}\n"
                    f"web_listen = 127.0.0.1:{self.web_port}\n"
                    "log_level = info\n"
                    "auth_failure_delay_ms = 50\n"
                    "target_connect_timeout = 3\n"
                    "shutdown_grace = 5\n" + ("" if self.drop else "worker_user =\n") +
                    # the database doors stay off unless a test listens (never the shared defaults)
                    "".join(f"{k} =\n" for k in ("mysql_listen", "postgresql_listen",
                                                  "redis_listen") if k not in extra) +
                    (self.pg["conf"] if self.pg else "") + extra)

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.bin, "--data", self.data, "serve"],
                                     stdout=self.log, stderr=self.log, env=self.env)
        if not wait_for(lambda: port_open(self.port), timeout=60):
            self.stop()
            pytest.fail("gatehouse serve did not start:\n" + self.read_log())

    def stop(self, timeout=30):
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                rc = "killed"
        elif self.proc:
            rc = self.proc.returncode
        self.proc = None
        return rc

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cli(self, *args, stdin=None, check=0):
        p = subprocess.run([self.bin, "--data", self.data, *map(str, args)],
                           input=stdin if stdin is not None else "", capture_output=True,
                           text=True, env=self.env, timeout=60)
        if check is not None:
            assert p.returncode == check, (
                f"gatehouse {' '.join(map(str, args))} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    # -- set-up helpers -----------------------------------------------------
    def add_user(self, name, password=None, key_pub=None):
        args = ["user", "add", name]
        if password is not None:
            args.append("--password-stdin")
        if key_pub:
            args += ["--key-file", key_pub]
        self.cli(*args, stdin=(password + "\n") if password is not None else None)

    def add_asset(self, name, port=None, host_key=None, nodes=()):
        args = ["asset", "add", name, "--address", "127.0.0.1", "--port",
                port or self.target.port]
        for n in nodes:
            self.cli("node", "add", n, check=None)
            args += ["--node", n]
        if host_key:
            args += ["--host-key", host_key]
        self.cli(*args)

    def add_account(self, asset, unix_name, key_file=None):
        if key_file:
            self.cli("account", "add", asset, unix_name, "--key-file", key_file)
        else:
            self.cli("account", "add", asset, unix_name, "--password-stdin",
                     stdin=self.target.passwords[unix_name] + "\n")

    def add_perm(self, name, user, asset, account=None, valid_from=None, until=None):
        args = ["perm", "add", name, "--user", user, "--asset", asset]
        if account:
            args += ["--account", account]
        if valid_from:
            args += ["--from", valid_from]
        if until:
            args += ["--until", until]
        self.cli(*args)

    # -- the store, read directly (what an auditor would check) -------------
    def db_path(self):
        """The store, DATA/db/gatehouse.db (DATA/gatehouse.db in the layout
        before docs/SECURITY.md "Files and their owners"); with a PostgreSQL
        store, its URL (the password in DATA/db.password)."""
        if self.pg:
            return self.pg["cluster"].url(self.pg["name"])
        p = os.path.join(self.data, "db", "gatehouse.db")
        return p if os.path.exists(p) else os.path.join(self.data, "gatehouse.db")

    def db(self):
        if self.pg:
            import pgenv
            return pgenv.PgConn(self.pg["cluster"], self.pg["name"], self.pg["password"])
        c = sqlite3.connect(self.db_path(), timeout=10)
        c.row_factory = sqlite3.Row
        return c

    # each read closes its connection at once (not whenever the garbage
    # collector runs): the tests then see the store as any reader would
    def sessions(self):
        with contextlib.closing(self.db()) as c:
            order = "id" if self.pg else "rowid"
            return [dict(r) for r in c.execute(
                f"SELECT * FROM sessions ORDER BY started_at, {order}")]

    def events(self, kind=None):
        with contextlib.closing(self.db()) as c:
            q = "SELECT * FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
            return [dict(r) for r in c.execute(q, (kind,) if kind else ())]

    def worker_pids(self):
        out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        # the web process (comm gh-web) is no worker
        return [int(ln.split()[0]) for ln in out.splitlines() if ln.split()[1:] != ["gh-web"]]


def ssh_args(gh, login, *command, key=None, tty=False, extra=()):
    a = ["ssh", "-F", "/dev/null", "-p", str(gh.port),
         "-o", f"UserKnownHostsFile={gh.known_hosts}",
         "-o", "StrictHostKeyChecking=accept-new",
         "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
         "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=0",
         "-o", "LogLevel=ERROR"]
    if key:
        a += ["-i", key, "-o", "PreferredAuthentications=publickey",
              "-o", "PasswordAuthentication=no"]
    else:
        a += ["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"]
    if tty:
        a.append("-tt")
    a += [*extra, f"{login}@127.0.0.1", *command]
    return a


def ssh_run(gh, login, *command, password=None, key=None, input=None, timeout=60, extra=(),
            text=True):
    """Run ssh non-interactively (password through SSH_ASKPASS). Returns
    CompletedProcess."""
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    if password is not None:
        env.update(SSH_ASKPASS=gh.askpass, SSH_ASKPASS_REQUIRE="force",
                   GH_TEST_PASSWORD=password, DISPLAY=env.get("DISPLAY", ":0"))
    return subprocess.run(ssh_args(gh, login, *command, key=key, extra=extra),
                          input=input if input is not None else ("" if text else b""),
                          capture_output=True, text=text, env=env, timeout=timeout,
                          start_new_session=True)


@contextlib.contextmanager
def target_copy(name):
    """A path where the target (a local Unix account) keeps a copy of a
    stream, removed afterwards."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="gh-copy-")
    os.chmod(d, 0o777)
    try:
        yield os.path.join(d, name)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def first_difference(a, b):
    """Offset of the first byte where A and B differ (the shorter length
    when one is a prefix of the other)."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n:  # chunk by chunk, then byte by byte in the first differing one
        hi = min(lo + 65536, n)
        if a[lo:hi] != b[lo:hi]:
            return next(i for i in range(lo, hi) if a[i] != b[i])
        lo = hi
    return n


def upload_check(gh, login, blob, reader="sha256sum", password=None, timeout=180):
    """Send BLOB as the stdin of READER (a command that prints the SHA-256 of
    its input first) on the target; the target also keeps a copy, so that a
    mismatch names the first differing offset and both lengths."""
    import hashlib
    with target_copy("received") as copy:
        p = ssh_run(gh, login, f"tee {copy} | {{ {reader}; }}", password=password, input=blob,
                    timeout=timeout, text=False)
        assert p.returncode == 0, p.stderr
        got = p.stdout.split()[0].decode() if p.stdout.split() else ""
        if got != hashlib.sha256(blob).hexdigest():
            data = open(copy, "rb").read() if os.path.exists(copy) else b""
            raise AssertionError(f"upload corrupted: sent {len(blob)} bytes, the target "
                                 f"received {len(data)}, first difference at offset "
                                 f"{first_difference(blob, data)}")


def download_check(gh, login, size, password=None, timeout=180):
    """Receive SIZE random bytes the target writes (keeping a copy): every
    byte once and in order, or a mismatch names the first differing offset."""
    with target_copy("sent") as copy:
        p = ssh_run(gh, login, f"head -c {size} /dev/urandom | tee {copy}", password=password,
                    timeout=timeout, text=False)
        assert p.returncode == 0, p.stderr
        data = open(copy, "rb").read()
        assert len(data) == size
        if p.stdout != data:
            raise AssertionError(f"download corrupted: the target sent {len(data)} bytes, the "
                                 f"user received {len(p.stdout)}, first difference at offset "
                                 f"{first_difference(data, p.stdout)}")


def ssh_spawn(gh, login, *command, password=None, key=None, dims=(24, 80), timeout=20):
    """An interactive ssh under pexpect with a terminal (-tt)."""
    import pexpect
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env["TERM"] = "xterm"
    a = ssh_args(gh, login, *command, key=key, tty=True)
    child = pexpect.spawn(a[0], a[1:], env=env, timeout=timeout, dimensions=dims,
                          encoding="utf-8", codec_errors="replace")
    if password is not None:
        child.expect("[Pp]assword:")
        child.sendline(password)
    return child


@pytest.fixture(scope="session")
def target(tmp_path_factory):
    _need_root()
    t = Target(str(tmp_path_factory.mktemp("target")))
    t.start()
    yield t
    t.stop()


@contextlib.contextmanager
def running_gatehouse(gh_bin, tmp_path, target, extra_conf=""):
    """A started Gatehouse (EXTRA_CONF appended to its configuration),
    stopped afterwards; it must exit 0."""
    g = Gatehouse(gh_bin, str(tmp_path), target, extra_conf=extra_conf)
    g.start()
    try:
        yield g
    finally:
        rc = g.stop()
    assert rc == 0, f"serve exited {rc}\n{g.read_log()}"


@pytest.fixture
def gatehouse(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target) as g:
        yield g


ALICE_PW = "alice-" + "pw-7Qm2"


@pytest.fixture
def ghenv(gatehouse, target):
    """gatehouse with alice (password), asset web01 -> the target, account
    ghtest-deploy (password) and ghtest-ops (key), a permission for both."""
    return setup_ghenv(gatehouse, target)


def setup_ghenv(g, target):
    """The ghenv set-up on a started Gatehouse g."""
    g.alice_pw = ALICE_PW
    g.add_user("alice", password=ALICE_PW)
    g.add_asset("web01", nodes=("/prod/web",))
    g.add_account("web01", UNIX_DEPLOY)
    g.add_account("web01", UNIX_OPS, key_file=target.ops_key)
    g.add_perm("p-alice-web01", "alice", "web01")
    return g
