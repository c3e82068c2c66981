#!/usr/bin/python3
"""Side-by-side SSH benchmarks: Gatehouse against OpenSSH, on loopback only.

Measures, in one run:
  1. throughput of `cat FILE` (default 1 GiB) over four paths:
       direct    ssh target cat FILE
       nested    ssh bastion ssh target cat FILE   (double encryption, the fair peer
                 of a recording relay)
       jump      ssh -J bastion target cat FILE    (ProxyJump, for reference)
       gatehouse ssh alice@ghbench@web01@gatehouse cat FILE  (recorded session,
                 credential injection)
  2. keystroke echo latency through an interactive pty (one byte at a time to a
     raw-mode `cat` on the target);
  3. login-to-command time of `ssh ... true`.

The target and the bastion are OpenSSH sshd processes on free loopback ports,
logging in as the test account `ghbench` (created when missing). Gatehouse is set
up through its admin CLI in a temporary data directory. When Gatehouse cannot be
set up or refuses the login, its rows say "not available (reason)" and the
OpenSSH figures are still printed; the exit status is 0 as long as the OpenSSH
side works.

Every loop is bounded; every process started here is stopped by PID on exit.
Must run as root (it starts sshd).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import pwd
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_USER = "ghbench"
LEGS = ("direct", "nested", "jump", "gatehouse")
LEG_TITLES = {
    "direct": "direct",
    "nested": "nested ssh",
    "jump": "ssh -J",
    "gatehouse": "gatehouse",
}
TARGETS = {
    "throughput_vs_nested_min": 1.0,
    "echo_added_median_ms_max": 0.1,
    "login_vs_jump_max": 1.1,
}
READY = b"GHBENCH" + b"READY"


class Unavailable(Exception):
    """A leg cannot be measured; the message says why."""


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def parse_size(text):
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)(i?[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size '{text}' (examples: 256M, 1G, 1048576)")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
    n = int(m.group(1)) * mult
    if n <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return n


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout):
    """Wait until 127.0.0.1:port accepts a connection; fail if proc exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def tail(path, lines=5):
    try:
        with open(path, "rb") as f:
            data = f.read()[-4000:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(x.strip() for x in data.strip().splitlines()[-lines:])


def median(xs):
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = []          # every long-running process we started
        self.tmp = None
        self.cfg = None
        self.ports = {}
        self.logs = {}
        self.gh_reason = None    # why Gatehouse is not available (None: it is)
        self.results = {}
        self.perm_extra = []     # more options for the bench's 'perm add' (subclasses)
        self.gh_conf_extra = ""  # more gatehouse.conf lines (subclasses)
        self.sshd_extra = ""     # more sshd_config lines; later lines do not override (subclasses)

    # ---------------------------------------------------------------- processes
    def spawn(self, name, cmd, logpath, env=None):
        f = open(logpath, "ab")
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                 env=env, start_new_session=True)
        finally:
            f.close()
        self.procs.append((name, p))
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        self.procs = [(nm, q) for nm, q in self.procs if q is not p]

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.terminate()
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
                except ProcessLookupError:
                    pass
        self.procs = []

    # -------------------------------------------------------------------- setup
    def run_checked(self, cmd, **kw):
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} -> {p.returncode}: {p.stderr.strip()}")
        return p

    def keygen(self, name):
        path = os.path.join(self.tmp, name)
        self.run_checked(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"ghbench-{name}",
                          "-f", path])
        return path

    def ensure_user(self):
        try:
            pw = pwd.getpwnam(BENCH_USER)
        except KeyError:
            log(f"creating test account {BENCH_USER}")
            # '*' : no password login possible, but not a locked account ('!'),
            # which sshd refuses when it runs without PAM.
            self.run_checked(["useradd", "-m", "-s", "/bin/bash", "-p", "*", BENCH_USER])
            pw = pwd.getpwnam(BENCH_USER)
        try:
            with open("/etc/shadow") as f:
                for line in f:
                    fields = line.split(":")
                    if fields[0] == BENCH_USER and fields[1].startswith("!"):
                        self.run_checked(["usermod", "-p", "*", BENCH_USER])
        except OSError:
            pass
        return pw

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def sshd_config(self, name, port, hostkey, loglevel):
        return self.write(f"{name}_sshd_config", self.sshd_extra + f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {hostkey}
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {self.tmp}/authorized_keys
StrictModes no
PermitRootLogin no
AllowUsers {BENCH_USER}
UseDNS no
PrintMotd no
PrintLastLog no
Compression no
MaxStartups 50:30:100
MaxSessions 50
AllowTcpForwarding yes
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel {loglevel}
""")

    def start_sshd(self, name, loglevel):
        port = free_port()
        hostkey = self.keygen(f"{name}_hostkey")
        conf = self.sshd_config(name, port, hostkey, loglevel)
        logpath = os.path.join(self.tmp, f"{name}_sshd.log")
        self.logs[name] = logpath
        p = self.spawn(f"sshd-{name}", ["/usr/sbin/sshd", "-D", "-e", "-f", conf], logpath)
        if not wait_port(port, p, 10):
            raise RuntimeError(f"sshd ({name}) did not start: {tail(logpath)}")
        self.ports[name] = port
        return port

    def setup(self):
        a = self.args
        if os.geteuid() != 0:
            raise RuntimeError("must run as root (it starts sshd and uses a test account)")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="ghbench-")
        os.chmod(self.tmp, 0o755)          # the bench account reads keys and the payload
        pw = self.ensure_user()

        client_key = self.keygen("client_key")        # us -> target/bastion
        inner_key = self.keygen("inner_key")          # bastion -> target (nested leg)
        os.chown(inner_key, pw.pw_uid, pw.pw_gid)
        self.alice_key = self.keygen("alice_key")     # us -> gatehouse
        self.target_key = self.keygen("target_key")   # gatehouse -> target
        keys = []
        for k in (client_key, inner_key, self.target_key):
            with open(k + ".pub") as f:
                keys.append(f.read().strip())
        self.write("authorized_keys", "\n".join(keys) + "\n")

        self.start_sshd("target", "DEBUG1")   # DEBUG1: kex lines say which cipher each leg got
        self.start_sshd("bastion", "INFO")
        self.ports["gatehouse"] = free_port()

        cipher = f"  Ciphers {a.cipher}\n" if a.cipher else ""
        if a.kex:
            cipher += f"  KexAlgorithms {a.kex}\n"
        common = f"""\
  User {BENCH_USER}
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  LogLevel ERROR
  Compression no
  ControlMaster no
  ControlPath none
  ForwardAgent no
{cipher}"""
        self.cfg = self.write("ssh_config", f"""\
Host target
  HostName 127.0.0.1
  Port {self.ports['target']}
  IdentityFile {client_key}
  UserKnownHostsFile {self.tmp}/known_hosts
{common}
Host bastion
  HostName 127.0.0.1
  Port {self.ports['bastion']}
  IdentityFile {client_key}
  UserKnownHostsFile {self.tmp}/known_hosts
{common}
Host gatehouse
  HostName 127.0.0.1
  Port {self.ports['gatehouse']}
  IdentityFile {self.alice_key}
  UserKnownHostsFile {self.tmp}/known_hosts
{common.replace(f"User {BENCH_USER}", f"User alice@{BENCH_USER}@web01")}
""")
        # Used by the inner ssh, which runs on the bastion as the bench account.
        self.inner_cfg = self.write("inner_ssh_config", f"""\
Host target
  HostName 127.0.0.1
  Port {self.ports['target']}
  IdentityFile {inner_key}
  UserKnownHostsFile /dev/null
{common}""")

        self.payload = os.path.join(self.tmp, "payload.bin")
        log(f"writing {a.size} byte {a.payload} payload")
        # random: incompressible binary, the worst case for a recorder;
        # text: base64 lines (printable, like logs), which a recorder stores as is.
        gen = (f"head -c {a.size} /dev/urandom" if a.payload == "random"
               else f"base64 -w 99 < /dev/urandom | head -c {a.size}")
        with open(self.payload, "wb") as out:
            subprocess.run(["sh", "-c", gen], stdout=out, check=True, timeout=600)
        if os.path.getsize(self.payload) != a.size:
            raise RuntimeError("could not write the payload")
        os.chmod(self.payload, 0o644)
        self.small = os.path.join(self.tmp, "small.bin")
        with open(self.small, "wb") as out:
            out.write(os.urandom(4 << 20))
        os.chmod(self.small, 0o644)
        with open(self.small, "rb") as f:
            self.small_sha = hashlib.sha256(f.read()).hexdigest()

        self.setup_gatehouse()

    def setup_gatehouse(self):
        gh = self.args.gatehouse
        if not gh or not os.access(gh, os.X_OK):
            self.gh_reason = f"binary not found at {gh}"
            return
        data = os.path.join(self.tmp, "ghdata")
        os.makedirs(data, mode=0o700)
        with open(os.path.join(data, "gatehouse.conf"), "w") as f:
            f.write(f"ssh_listen = 127.0.0.1:{self.ports['gatehouse']}\nlog_level = warn\n"
                    + self.gh_conf_extra)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        steps = [
            ["user", "add", "alice", "--key-file", self.alice_key + ".pub"],
            ["asset", "add", "web01", "--address", "127.0.0.1", "--port", str(self.ports["target"])],
            ["account", "add", "web01", BENCH_USER, "--key-file", self.target_key],
            ["perm", "add", "p", "--user", "alice", "--asset", "web01"] + self.perm_extra,
        ]
        for step in steps:
            p = subprocess.run([gh, "--data", data] + step, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, env=env, timeout=120)
            if p.returncode != 0:
                self.gh_reason = (f"'gatehouse {' '.join(step[:2])}' failed ({p.returncode}): "
                                  f"{p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}")
                return
        logpath = os.path.join(self.tmp, "gatehouse.log")
        self.logs["gatehouse"] = logpath
        p = self.spawn("gatehouse", [gh, "--data", data, "serve"], logpath, env=env)
        if not wait_port(self.ports["gatehouse"], p, 15):
            state = f"exited {p.returncode}" if p.poll() is not None else "not listening after 15 s"
            self.gh_reason = f"serve {state}" + (f": {tail(logpath, 3)}" if tail(logpath) else "")
            self.stop(p)   # no idle process competing with the OpenSSH figures

    # --------------------------------------------------------------------- legs
    def ssh(self, leg, remote, tty=False, verbose=False):
        """The client command line for one leg running the remote command `remote`
        (a string, or None for an interactive shell)."""
        t = ["-tt", "-e", "none"] if tty else []
        v = ["-v"] if verbose else []
        base = ["ssh", "-F", self.cfg] + v + t
        if leg == "direct":
            return base + ["target"] + ([remote] if remote else [])
        if leg == "jump":
            return base + ["-J", "bastion", "target"] + ([remote] if remote else [])
        if leg == "gatehouse":
            return base + ["gatehouse"] + ([remote] if remote else [])
        if leg == "nested":
            inner = ["ssh", "-F", self.inner_cfg] + v + t + ["target"]
            if remote:
                inner.append(remote)
            return base + ["bastion", " ".join(shlex.quote(x) for x in inner)]
        raise ValueError(leg)

    def legs(self):
        return [leg for leg in LEGS if leg != "gatehouse" or self.gh_reason is None]

    def probe(self, leg):
        """Copy a small file over the leg, check it arrived intact, and find
        which cipher each hop negotiated. Raises Unavailable."""
        mark = os.path.getsize(self.logs["target"])
        cmd = self.ssh(leg, f"cat {self.small}", verbose=True)
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise Unavailable("probe timed out after 60 s")
        if p.returncode != 0 or hashlib.sha256(p.stdout).hexdigest() != self.small_sha:
            err = [x for x in p.stderr.decode("utf-8", "replace").splitlines()
                   if not x.startswith("debug") and x.strip()]
            why = err[-1] if err else f"{len(p.stdout)} bytes received, content differs"
            raise Unavailable(f"probe failed (exit {p.returncode}): {why}")
        err = p.stderr.decode("utf-8", "replace")
        client = re.findall(r"kex: server->client cipher: (\S+)", err)
        client_kex = re.findall(r"kex: algorithm: (\S+)", err)
        time.sleep(0.2)  # let sshd flush its log
        with open(self.logs["target"], "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        srv = re.findall(r"kex: server->client cipher: (\S+)", text)
        srv_kex = re.findall(r"kex: algorithm: (\S+)", text)
        info = {"client_hops": client, "client_hops_kex": client_kex,
                "target_sshd": srv[-1] if srv else None,
                "target_sshd_kex": srv_kex[-1] if srv_kex else None}
        if leg == "gatehouse":
            info["note"] = "client_hops: client->gatehouse; target_sshd: gatehouse->target (libssh)"
        return info

    # -------------------------------------------------------------- throughput
    def throughput(self, legs):
        a = self.args
        times = {leg: [] for leg in legs}
        failed = {}
        limit = 60 + a.size / (2 << 20)   # never slower than 2 MiB/s, or it is a failure
        for r in range(a.runs):
            for leg in legs:
                if leg in failed:
                    continue
                cmd = self.ssh(leg, f"cat {self.payload}")
                t0 = time.perf_counter()
                try:
                    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       stdin=subprocess.DEVNULL, timeout=limit)
                except subprocess.TimeoutExpired:
                    failed[leg] = f"timed out after {limit:.0f} s"
                    continue
                dt = time.perf_counter() - t0
                if p.returncode != 0:
                    failed[leg] = f"exit {p.returncode}: {p.stderr.decode('utf-8', 'replace').strip()[-200:]}"
                    continue
                times[leg].append(dt)
                log(f"throughput {leg:9s} run {r + 1}: {a.size / dt / 1e6:8.1f} MB/s ({dt:.2f} s)")
        out = {}
        for leg in legs:
            if leg in failed:
                out[leg] = {"available": False, "reason": failed[leg]}
            else:
                m = median(times[leg])
                out[leg] = {"available": True, "seconds": times[leg],
                            "median_seconds": m, "median_mbps": a.size / m / 1e6}
        return out

    # ---------------------------------------------------------------- echo
    class EchoSession:
        """An interactive shell over one leg whose target pty is switched to raw
        mode with `cat` reading it, so every byte typed comes straight back."""

        def __init__(self, bench, leg):
            self.leg = leg
            self.bench = bench
            self.p = subprocess.Popen(bench.ssh(leg, None, tty=True), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      bufsize=0, start_new_session=True)
            bench.procs.append((f"echo-{leg}", self.p))
            self.fin, self.fout = self.p.stdin.fileno(), self.p.stdout.fileno()

        def read_until(self, pred, timeout):
            buf = b""
            deadline = time.monotonic() + timeout
            while not pred(buf):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Unavailable(f"no echo within {timeout} s (got {buf[-80:]!r})")
                if select.select([self.fout], [], [], left)[0]:
                    chunk = os.read(self.fout, 65536)
                    if not chunk:
                        raise Unavailable(f"session closed (got {buf[-80:]!r})")
                    buf += chunk
            return buf

        def start(self):
            # The marker is split in the typed line so that the tty's echo of
            # the command does not match it; only the command's output does.
            os.write(self.fin, b"stty raw -echo; echo GHBENCH''READY; exec cat\r")
            self.read_until(lambda b: READY in b, 30)
            while select.select([self.fout], [], [], 0.3)[0]:
                if not os.read(self.fout, 65536):
                    raise Unavailable("session closed after start")

        def keystroke(self, ch):
            """One byte there and back; returns the round trip in ms."""
            t0 = time.perf_counter_ns()
            os.write(self.fin, ch)
            self.read_until(lambda b: ch in b, 10)
            return (time.perf_counter_ns() - t0) / 1e6

        def close(self):
            try:
                self.p.stdin.close()
            except OSError:
                pass
            self.bench.stop(self.p)
            self.p.stdout.close()

    def echo(self, legs):
        """All legs' sessions are open at once and keystrokes alternate between
        them, so background load on the machine falls on every leg alike."""
        out = {}
        sessions = {}
        lat = {leg: [] for leg in legs}
        alphabet = b"abcdefghijklmnopqrstuvwxyz"
        warmup = 20
        try:
            for leg in legs:
                s = self.EchoSession(self, leg)
                sessions[leg] = s
                try:
                    s.start()
                except Unavailable as e:
                    out[leg] = {"available": False, "reason": str(e)}
            live = [leg for leg in legs if leg not in out]
            for i in range(warmup + self.args.keystrokes):
                ch = alphabet[i % 26:i % 26 + 1]
                for leg in list(live):
                    try:
                        ms = sessions[leg].keystroke(ch)
                    except Unavailable as e:
                        out[leg] = {"available": False, "reason": str(e)}
                        live.remove(leg)
                        continue
                    if i >= warmup:
                        lat[leg].append(ms)
                    time.sleep(self.args.key_gap / 1000.0)
        finally:
            for s in sessions.values():
                s.close()
        for leg in legs:
            if leg in out:
                continue
            v = lat[leg]
            out[leg] = {"available": True, "keystrokes": len(v), "median_ms": median(v),
                        "p95_ms": percentile(v, 95), "min_ms": min(v), "max_ms": max(v)}
            log(f"echo {leg:9s}: median {out[leg]['median_ms']:.3f} ms, "
                f"p95 {out[leg]['p95_ms']:.3f} ms")
        return out

    # ---------------------------------------------------------------- login
    def login(self, legs):
        times = {leg: [] for leg in legs}
        failed = {}
        for r in range(self.args.logins):
            for leg in legs:
                if leg in failed:
                    continue
                t0 = time.perf_counter()
                try:
                    p = subprocess.run(self.ssh(leg, "true"), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
                except subprocess.TimeoutExpired:
                    failed[leg] = "timed out after 60 s"
                    continue
                dt = (time.perf_counter() - t0) * 1000
                if p.returncode != 0:
                    failed[leg] = f"exit {p.returncode}: {p.stderr.decode('utf-8', 'replace').strip()[-200:]}"
                    continue
                times[leg].append(dt)
        out = {}
        for leg in legs:
            if leg in failed:
                out[leg] = {"available": False, "reason": failed[leg]}
            else:
                out[leg] = {"available": True, "ms": times[leg], "median_ms": median(times[leg]),
                            "p95_ms": percentile(times[leg], 95)}
                log(f"login {leg:9s}: median {out[leg]['median_ms']:.1f} ms")
        return out

    # ---------------------------------------------------------------- report
    def run(self):
        a = self.args
        self.setup()
        res = self.results
        res["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        res["machine"] = {"cpus": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()}
        res["versions"] = versions(a.gatehouse)
        res["params"] = {"size_bytes": a.size, "payload": a.payload, "runs": a.runs, "keystrokes": a.keystrokes,
                         "key_gap_ms": a.key_gap, "logins": a.logins,
                         "cipher": a.cipher or "default", "kex": a.kex or "default"}
        res["targets"] = TARGETS

        ciphers = {}
        for leg in LEGS:
            if leg == "gatehouse" and self.gh_reason:
                continue
            try:
                ciphers[leg] = self.probe(leg)
            except Unavailable as e:
                if leg != "gatehouse":
                    raise RuntimeError(f"OpenSSH leg {leg} does not work: {e}")
                self.gh_reason = str(e)
                if tail(self.logs.get("gatehouse", "")):
                    self.gh_reason += f" [log: {tail(self.logs['gatehouse'], 2)}]"
                for name, q in list(self.procs):
                    if name == "gatehouse":
                        self.stop(q)
        res["ciphers"] = ciphers
        res["gatehouse_available"] = self.gh_reason is None
        if self.gh_reason:
            res["gatehouse_reason"] = self.gh_reason
            log(f"gatehouse: not available ({self.gh_reason})")

        legs = self.legs()
        if "throughput" not in a.skip:
            res["throughput"] = self.throughput(legs)
        if "echo" not in a.skip:
            res["echo"] = self.echo(legs)
        if "login" not in a.skip:
            res["login"] = self.login(legs)
        add_net_throughput(res)
        res["ratios"] = ratios(res)
        return res

    def cleanup(self):
        self.stop_all()
        if self.tmp and not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            log(f"kept {self.tmp}")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions(gh):
    v = {}
    p = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
    v["openssh"] = p.stderr.strip()
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libssh-4"], capture_output=True, text=True)
    v["libssh"] = p.stdout.strip() or None
    if gh and os.access(gh, os.X_OK):
        p = subprocess.run([gh, "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        v["gatehouse"] = (p.stdout or p.stderr).strip().splitlines()[0] if p.returncode == 0 and (p.stdout or p.stderr).strip() else None
    return v


def add_net_throughput(res):
    """Throughput with the leg's median login time taken out of each run: the
    rate of the relay itself, apart from the handshakes."""
    tp, lg = res.get("throughput"), res.get("login")
    if not tp or not lg:
        return
    size = res["params"]["size_bytes"]
    for leg, e in tp.items():
        if e.get("available") and ok(lg, leg):
            net = e["median_seconds"] - lg[leg]["median_ms"] / 1000.0
            if net > 0:
                e["net_median_mbps"] = size / net / 1e6


def ok(section, leg):
    return section and section.get(leg, {}).get("available")


def ratios(res):
    r = {}
    tp, ec, lg = res.get("throughput"), res.get("echo"), res.get("login")
    if ok(tp, "gatehouse"):
        g = tp["gatehouse"]["median_mbps"]
        r["throughput_gatehouse_vs_nested"] = g / tp["nested"]["median_mbps"]
        r["throughput_gatehouse_vs_direct"] = g / tp["direct"]["median_mbps"]
        r["throughput_gatehouse_vs_jump"] = g / tp["jump"]["median_mbps"]
    if ok(tp, "gatehouse") and "net_median_mbps" in tp["gatehouse"] \
            and "net_median_mbps" in tp["nested"]:
        r["throughput_net_gatehouse_vs_nested"] = (tp["gatehouse"]["net_median_mbps"]
                                                   / tp["nested"]["net_median_mbps"])
    if tp and ok(tp, "nested"):
        r["throughput_nested_vs_direct"] = tp["nested"]["median_mbps"] / tp["direct"]["median_mbps"]
    if ok(ec, "gatehouse"):
        r["echo_added_median_ms_vs_jump"] = ec["gatehouse"]["median_ms"] - ec["jump"]["median_ms"]
        r["echo_added_p95_ms_vs_jump"] = ec["gatehouse"]["p95_ms"] - ec["jump"]["p95_ms"]
        r["echo_added_median_ms_vs_direct"] = ec["gatehouse"]["median_ms"] - ec["direct"]["median_ms"]
    if ec and ok(ec, "jump"):
        r["echo_jump_added_median_ms_vs_direct"] = ec["jump"]["median_ms"] - ec["direct"]["median_ms"]
    if ok(lg, "gatehouse"):
        r["login_gatehouse_vs_jump"] = lg["gatehouse"]["median_ms"] / lg["jump"]["median_ms"]
        r["login_gatehouse_vs_direct"] = lg["gatehouse"]["median_ms"] / lg["direct"]["median_ms"]
    return r


def fmt(v, spec):
    return format(v, spec) if v is not None else "-"


def print_report(res, gh_reason):
    p = res["params"]
    print()
    print(f"Gatehouse vs OpenSSH, loopback — {res['machine']['cpus']} CPUs ({res['machine']['cpu']}), "
          f"{res['date']}")
    print(f"payload {p['size_bytes'] / (1 << 20):.0f} MiB ({p['payload']}) x {p['runs']} runs, "
          f"{p['keystrokes']} keystrokes, {p['logins']} logins, cipher: {p['cipher']}, "
          f"kex: {p['kex']}")
    print()
    print("negotiated per hop, from the client (cipher server->client / key exchange):")
    for leg, c in res.get("ciphers", {}).items():
        hops = [f"{ci} / {kx}" for ci, kx in zip(c["client_hops"], c["client_hops_kex"])]
        extra = (f"; gatehouse->target: {c['target_sshd']} / {c['target_sshd_kex']}"
                 if leg == "gatehouse" else "")
        print(f"  {LEG_TITLES[leg]:11s} {', '.join(hops) or '?'}{extra}")
    print()
    w = 12
    print(f"{'':26s}" + "".join(f"{LEG_TITLES[x]:>{w}s}" for x in LEGS))

    def row(title, section, key, spec):
        sec = res.get(section)
        if sec is None:
            return
        cells = []
        for leg in LEGS:
            e = sec.get(leg)
            cells.append(fmt(e.get(key), spec) if e and e.get("available") else "n/a")
        print(f"{title:26s}" + "".join(f"{c:>{w}s}" for c in cells))

    row("throughput MB/s (median)", "throughput", "median_mbps", ".1f")
    row("  net of login MB/s", "throughput", "net_median_mbps", ".1f")
    row("echo latency ms (median)", "echo", "median_ms", ".3f")
    row("echo latency ms (p95)", "echo", "p95_ms", ".3f")
    row("login ms (median)", "login", "median_ms", ".1f")
    print()
    if gh_reason:
        print(f"gatehouse: not available ({gh_reason})")
    for section in ("throughput", "echo", "login"):
        g = res.get(section, {}).get("gatehouse")
        if g and not g.get("available"):
            print(f"gatehouse {section}: not available ({g['reason']})")
    r = res["ratios"]
    t = res["targets"]

    def check(title, key, target_text, good, unit="x", spec=".2f"):
        v = r.get(key)
        if v is None:
            print(f"  {title:42s} {'n/a':>9s}   target {target_text}")
            return
        verdict = "" if good is None else ("  MET" if good(v) else "  MISSED")
        sign = "+" if unit == " ms" and v >= 0 else ""
        print(f"  {title:42s} {sign + format(v, spec) + unit:>9s}   target {target_text}{verdict}")

    print("ratios:")
    check("throughput gatehouse / nested ssh", "throughput_gatehouse_vs_nested",
          f">= {t['throughput_vs_nested_min']:.1f}x", lambda v: v >= t["throughput_vs_nested_min"])
    check("  net of login: gatehouse / nested ssh", "throughput_net_gatehouse_vs_nested",
          "(reference)", None)
    check("throughput gatehouse / direct", "throughput_gatehouse_vs_direct", "(reference)", None)
    check("throughput gatehouse / ssh -J", "throughput_gatehouse_vs_jump", "(reference)", None)
    check("throughput nested ssh / direct", "throughput_nested_vs_direct", "(reference)", None)
    check("echo added median, gatehouse - ssh -J", "echo_added_median_ms_vs_jump",
          f"<= {t['echo_added_median_ms_max']:.1f} ms", lambda v: v <= t["echo_added_median_ms_max"],
          unit=" ms", spec=".3f")
    check("echo added p95, gatehouse - ssh -J", "echo_added_p95_ms_vs_jump", "(reference)", None,
          unit=" ms", spec=".3f")
    check("echo added median, gatehouse - direct", "echo_added_median_ms_vs_direct", "(reference)",
          None, unit=" ms", spec=".3f")
    check("echo added median, ssh -J - direct", "echo_jump_added_median_ms_vs_direct",
          "(reference)", None, unit=" ms", spec=".3f")
    check("login gatehouse / ssh -J", "login_gatehouse_vs_jump",
          f"<= {t['login_vs_jump_max']:.1f}x", lambda v: v <= t["login_vs_jump_max"])
    check("login gatehouse / direct", "login_gatehouse_vs_direct", "(reference)", None)
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default="build/gatehouse", help="gatehouse binary")
    ap.add_argument("--size", type=parse_size, default=1 << 30,
                    help="payload size for the throughput test (default 1G; e.g. 256M)")
    ap.add_argument("--payload", choices=["random", "text"], default="random",
                    help="random bytes (default) or base64 text lines")
    ap.add_argument("--runs", type=int, default=3, help="throughput runs per leg (default 3)")
    ap.add_argument("--keystrokes", type=int, default=300, help="echo round trips per leg (default 300)")
    ap.add_argument("--key-gap", type=float, default=2.0,
                    help="pause between keystrokes in ms (default 2)")
    ap.add_argument("--logins", type=int, default=10, help="logins per leg (default 10)")
    ap.add_argument("--cipher", default=None,
                    help="force this cipher on every OpenSSH client hop (default: OpenSSH's choice)")
    ap.add_argument("--kex", default=None,
                    help="force this key exchange on every OpenSSH client hop (default: OpenSSH's choice)")
    ap.add_argument("--skip", action="append", default=[], choices=["throughput", "echo", "login"],
                    help="skip one measurement (repeatable)")
    ap.add_argument("--json", default=None, help="write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = ap.parse_args()
    for name in ("runs", "keystrokes", "logins"):
        if not 1 <= getattr(args, name) <= 100000:
            ap.error(f"--{name} must be between 1 and 100000")

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Ctrl-C and kill both end in the cleanup below (every process stopped by PID).
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    bench = Bench(args)
    try:
        res = bench.run()
    except RuntimeError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)   # a second Ctrl-C must not cut the cleanup short
        bench.cleanup()
    print_report(res, bench.gh_reason)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
        log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
