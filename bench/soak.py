#!/usr/bin/python3
"""Soak: open and close many sessions through Gatehouse and look for leaks.

A loop (bounded by --sessions and --max-seconds, --parallel clients at a time)
runs one session after another through one `gatehouse serve`, rotating through
  exec    ssh alice@ghbench@web01@gh true        (recorded exec)
  shell   ssh -tt ... with "exit" typed          (recorded pty shell)
  sftp    sftp -b - with "pwd"                   (sftp relay, file audit)
  denied  a login to an asset that does not exist (refused after auth)
  vanish  a pty shell whose client is killed (SIGKILL) once the shell is up
After a warm-up it notes the master's RSS, PSS and open fds; at the end, once
the clients are gone, the same again, the workers still alive (leaked: the
master's children after a bounded wait) and the session rows still open
(ended_at = 0) in the store.

`soak()` is also used by the e2e test tests/e2e/test_soak.py (a smaller run).
Must run as root (sshd, test account ghbench). Every process started here is
stopped by PID; every wait is bounded.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

KINDS = ("exec", "shell", "sftp", "denied", "vanish")


def log(msg):
    print(f"[soak] {msg}", file=sys.stderr, flush=True)


def children(pid):
    """The master's workers: its children but the web process (comm gh-web)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        if int(stat[stat.rfind(")") + 2:].split()[1]) == pid and comm != "gh-web":
            out.append(int(d))
    return out


def master_stats(pid):
    """RSS and PSS (KiB) and open fds of one process."""
    st = {"rss_kib": None, "pss_kib": None, "fds": None}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    st["rss_kib"] = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    st["pss_kib"] = int(line.split()[1])
        st["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return st


def open_session_rows(db_path):
    c = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return c.execute("SELECT count(*) FROM sessions WHERE ended_at = 0").fetchone()[0]
    finally:
        c.close()


def wait_workers_gone(pid, timeout):
    """The master's children after waiting (bounded) for them to end."""
    deadline = time.monotonic() + timeout
    left = children(pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = children(pid)
    return left


def run_vanishing(argv, timeout=30):
    """A client that is killed once its session printed something (or after
    TIMEOUT): the user's side vanishes without closing. Returns -9 then."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        os.set_blocking(p.stdout.fileno(), False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and p.poll() is None:
            try:
                if os.read(p.stdout.fileno(), 4096):
                    break
            except BlockingIOError:
                pass
            time.sleep(0.02)
    finally:
        if p.poll() is None:
            p.kill()
        rc = p.wait(timeout=10)
        p.stdin.close()
        p.stdout.close()
    return rc


def run_client(argv, data, timeout=60):
    """One client run; its exit status, or None when it timed out."""
    if data is None:
        return run_vanishing(argv)
    try:
        p = subprocess.run(argv, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return None
    return p.returncode


def soak(client, master_pid, db_path, sessions, max_seconds, parallel=4, warmup=8,
         settle=20):
    """CLIENT(kind) -> (argv, stdin bytes, or None for a client killed once
    its session prints something). Runs WARMUP sessions, then up to
    SESSIONS more (at most MAX_SECONDS), PARALLEL at once, rotating through
    KINDS. Returns a dict of the figures."""
    def one(i):
        kind = KINDS[i % len(KINDS)]
        argv, data = client(kind)
        rc = run_client(argv, data)
        if kind == "denied":
            ok = rc is not None and rc != 0
        elif kind == "vanish":
            ok = rc == -signal.SIGKILL
        else:
            ok = rc == 0
        return kind, ok

    for i in range(warmup):
        one(i)
    wait_workers_gone(master_pid, settle)
    start = master_stats(master_pid)
    t0 = time.monotonic()
    done = 0
    failures = {k: 0 for k in KINDS}
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as ex:
        pending = set()
        i = 0
        while (i < sessions or pending):
            while i < sessions and len(pending) < parallel and time.monotonic() - t0 < max_seconds:
                pending.add(ex.submit(one, i))
                i += 1
            if not pending:
                break
            fin, pending = concurrent.futures.wait(pending, timeout=5,
                                                   return_when=concurrent.futures.FIRST_COMPLETED)
            for f in fin:
                kind, ok = f.result()
                done += 1
                if not ok:
                    failures[kind] += 1
            if done and done % 100 == 0 and fin:
                log(f"{done} sessions, {time.monotonic() - t0:.0f} s")
    elapsed = time.monotonic() - t0
    leaked = wait_workers_gone(master_pid, settle)
    end = master_stats(master_pid)
    rows = open_session_rows(db_path)
    return {"sessions": done, "seconds": elapsed, "failures": failures, "start": start, "end": end,
            "leaked_workers": len(leaked), "leaked_pids": leaked[:20], "open_session_rows": rows}


def print_report(r):
    s, e = r["start"], r["end"]
    print()
    print(f"Soak: {r['sessions']} sessions opened and closed in {r['seconds']:.0f} s "
          f"({', '.join(KINDS)} in turn)")
    print(f"{'':22s}{'start':>10s}{'end':>10s}")
    print(f"{'master RSS KiB':22s}{s['rss_kib']:>10}{e['rss_kib']:>10}")
    print(f"{'master PSS KiB':22s}{s['pss_kib']:>10}{e['pss_kib']:>10}")
    print(f"{'master open fds':22s}{s['fds']:>10}{e['fds']:>10}")
    print(f"leaked workers: {r['leaked_workers']}   open session rows: {r['open_session_rows']}   "
          f"unexpected client results: "
          f"{', '.join(f'{k} {v}' for k, v in r['failures'].items())}")
    flat = e["fds"] == s["fds"]
    ok = flat and r["leaked_workers"] == 0 and r["open_session_rows"] == 0
    print(f"fds flat, no leaked worker, no open row: {'MET' if ok else 'MISSED'}")
    print()


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ssh_bench as sb

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default="build/gatehouse", help="gatehouse binary")
    ap.add_argument("--sessions", type=int, default=1000, help="sessions (default 1000)")
    ap.add_argument("--max-seconds", type=float, default=300, help="time bound (default 300)")
    ap.add_argument("--parallel", type=int, default=4, help="clients at once (default 4)")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = ap.parse_args()
    if not (1 <= args.sessions <= 100000 and 1 <= args.max_seconds <= 7200
            and 1 <= args.parallel <= 64):
        ap.error("--sessions, --max-seconds or --parallel out of range")
    args.size, args.payload, args.cipher, args.kex = 1 << 20, "random", None, None

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    bench = sb.Bench(args)
    bench.perm_extra = ["--actions", "all", "--protocols", "all"]
    bench.gh_conf_extra = "auth_failure_delay_ms = 0\n"
    res = None
    try:
        bench.setup()
        if bench.gh_reason:
            raise RuntimeError(f"gatehouse not available: {bench.gh_reason}")
        master = next(p.pid for nm, p in bench.procs if nm == "gatehouse")
        db = os.path.join(bench.tmp, "ghdata", "db", "gatehouse.db")
        base = ["-F", bench.cfg]

        def client(kind):
            if kind == "exec":
                return ["ssh"] + base + ["gatehouse", "true"], b""
            if kind == "shell":
                return ["ssh"] + base + ["-tt", "gatehouse"], b"exit\r"
            if kind == "sftp":
                return ["sftp"] + base + ["-b", "-", "gatehouse"], b"pwd\n"
            if kind == "vanish":
                return ["ssh"] + base + ["-tt", "gatehouse"], None
            return (["ssh"] + base + ["-o", f"User=alice@{sb.BENCH_USER}@nosuch", "gatehouse",
                                      "true"], b"")

        res = soak(client, master, db, args.sessions, args.max_seconds, args.parallel)
    except RuntimeError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.cleanup()
    print_report(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
