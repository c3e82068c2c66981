"""Hostile clients for the front door, shared by test_hostile.py and
bench/hostile_bench.py: failed-login floods over paramiko from several
loopback source addresses, silent and byte-a-second pre-auth connections,
and the master's memory and descriptor counts. Every loop is bounded in
count and time; every socket is closed here."""
import concurrent.futures
import json
import logging
import os
import subprocess
import sys
import socket
import threading
import time

import paramiko

__all__ = ["flood_failed_logins", "SlowClients", "proc_usage", "attempt_connection",
           "spawn_flood", "flood_result"]

# refused connections are expected here: no tracebacks from paramiko's threads
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


def _connect(port, src_ip, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src_ip, 0))
    s.connect(("127.0.0.1", port))
    return s


def attempt_connection(port, src_ip, user, password, tries, timeout=30):
    """One connection from src_ip making up to `tries` password attempts.
    Returns (attempts the server answered with a failure, refused): refused
    is True when the server closed the connection before its banner."""
    try:
        sock = _connect(port, src_ip, timeout)
    except OSError:
        return 0, True
    t = None
    done = 0
    try:
        t = paramiko.Transport(sock)
        t.banner_timeout = timeout
        t.auth_timeout = timeout
        try:
            t.start_client(timeout=timeout)
        except (paramiko.SSHException, EOFError, OSError):
            return 0, True
        for _ in range(tries):
            try:
                t.auth_password(user, password)
                break  # must not happen
            except paramiko.AuthenticationException:
                done += 1
            except (paramiko.SSHException, EOFError, OSError):
                break
            if not t.is_active():
                break
    finally:
        if t is not None:
            t.close()
        sock.close()
    return done, False


def flood_failed_logins(port, attempts, sources, threads_per_source=4, tries=6,
                        users=("alice", "nosuch-user"), deadline_s=600):
    """About `attempts` failed password logins (`tries` per connection)
    spread over `sources` (loopback addresses) with threads_per_source
    concurrent connections each. Returns a dict: attempts (answered
    failures), connections, refused (closed before the banner), seconds."""
    n_conn = (attempts + tries - 1) // tries
    lock = threading.Lock()
    stats = {"attempts": 0, "connections": 0, "refused": 0}
    end = time.monotonic() + deadline_s

    def one(i):
        if time.monotonic() > end:
            return
        src = sources[i % len(sources)]
        user = users[i % len(users)]
        done, refused = attempt_connection(port, src, user, "wrong-" + str(i), tries)
        with lock:
            stats["attempts"] += done
            stats["connections"] += 1
            stats["refused"] += int(refused)

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(sources) * threads_per_source) as ex:
        list(ex.map(one, range(n_conn)))
    stats["seconds"] = time.monotonic() - t0
    return stats


class SlowClients:
    """Pre-auth connections that send nothing (or one byte a second): the
    slowloris pattern. open() returns how many got the server's banner."""

    def __init__(self, port, src_ip, n, drip=False):
        self.port, self.src, self.n, self.drip = port, src_ip, n, drip
        self.socks = []
        self._stop = threading.Event()
        self._thread = None

    def open(self, timeout=10):
        got = 0
        for _ in range(self.n):
            try:
                s = _connect(self.port, self.src, timeout)
            except OSError:
                continue
            self.socks.append(s)
        for s in self.socks:
            if _read_banner(s, timeout):
                got += 1
        if self.drip:
            self._thread = threading.Thread(target=self._dripper, daemon=True)
            self._thread.start()
        return got

    def _dripper(self):
        for _ in range(600):  # at most ten minutes
            if self._stop.wait(1.0):
                return
            for s in list(self.socks):
                try:
                    s.send(b"S")
                except OSError:
                    pass

    def closed_count(self, wait=0.2):
        """How many the server has closed (EOF or reset)."""
        n = 0
        for s in self.socks:
            s.settimeout(wait)
            try:
                while True:
                    b = s.recv(4096)
                    if not b:
                        n += 1
                        break
            except socket.timeout:
                pass
            except OSError:
                n += 1
        return n

    def close(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        for s in self.socks:
            s.close()
        self.socks = []


def _read_banner(s, timeout):
    """True when the server's SSH identification line arrives; False when
    it closes first."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\n" not in buf and len(buf) < 512:
            b = s.recv(256)
            if not b:
                return False
            buf += b
    except OSError:
        return False
    return buf.startswith(b"SSH-2.0-")


def proc_usage(pid):
    """(rss_kib, open fds) of a process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def spawn_flood(port, attempts, sources, threads_per_source=2, tries=1, nice=15):
    """Run flood_failed_logins in a child process at a low CPU priority
    (the attacker's CPU is not the server's: on one box the client's cost
    must not be charged to the server). Read the result with flood_result."""
    return subprocess.Popen(
        ["nice", "-n", str(nice), sys.executable, os.path.abspath(__file__), str(port),
         str(attempts), ",".join(sources), str(threads_per_source), str(tries)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def flood_result(proc, timeout=900):
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0 or not out.strip():
        raise RuntimeError(f"flood client failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out)


if __name__ == "__main__":
    port, attempts, sources, threads, tries = sys.argv[1:6]
    print(json.dumps(flood_failed_logins(int(port), int(attempts), sources.split(","),
                                         int(threads), int(tries))))
