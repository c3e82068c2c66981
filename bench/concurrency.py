#!/usr/bin/python3
"""Concurrency benchmark: N recorded interactive sessions through Gatehouse
against the same N through an OpenSSH `ssh -J` bastion, on loopback only.

For each N (default 100 and 1000; BENCH_CONC_N="100 1000 5000" or --n to
change), and for each side in turn:
  - start N `ssh -tt` clients (at most --inflight logging in at once), each
    opening a pty shell on the target sshd that turns into a raw-mode `cat`;
    time to open all N = first start to the last session ready;
  - every session types one byte every --gap seconds (staggered), for
    --measure seconds; echo latency p50/p99 over every keystroke;
  - in the middle of that, the PSS of every process of the middle hop
    (/proc/PID/smaps_rollup): the Gatehouse master and its workers, or the
    bastion sshd and its children; reported per session;
  - then every client closes its input, and the processes are waited for.

The clients are the stock `ssh` binary (one process per session; two for
`ssh -J`, which runs `ssh -W` for the first hop): what users run, and light
enough at these N (a Python SSH library would cost far more CPU per session
on the same two cores). The middle hops are measured, not the clients.
Gatehouse records every session (asciicast, gzip) as it always does.

Must run as root (sshd, test account ghbench). Raises RLIMIT_NOFILE and
RLIMIT_NPROC for itself and its children; sshd MaxStartups and Gatehouse's
max_startups / per_source_max_startups / max_sessions are set for N. Every
loop is bounded in time; every process started here is stopped by PID.
"""
import argparse
import heapq
import json
import os
import random
import resource
import selectors
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssh_bench as sb  # noqa: E402

SIDES = ("gatehouse", "jump")
TITLES = {"gatehouse": "gatehouse", "jump": "OpenSSH ssh -J"}
PSS_TARGET_KIB = 1024
P99_TARGET_RATIO = 1.2
# raw mode, but ^C still interrupts: the end of a session is one byte (\x03)
START_LINE = b"stty raw -echo isig; echo GHBENCH''READY; exec cat\r"


def log(msg):
    print(f"[concurrency] {msg}", file=sys.stderr, flush=True)


def raise_limits(n):
    want = max(4096, 8 * n + 1024)
    for res in (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC):
        soft, hard = resource.getrlimit(res)
        target = want if res == resource.RLIMIT_NOFILE else max(want, soft)
        if hard != resource.RLIM_INFINITY and hard < target:
            try:
                resource.setrlimit(res, (target, target))
                continue
            except (ValueError, OSError):
                target = hard
        if soft == resource.RLIM_INFINITY or soft >= target:
            continue
        resource.setrlimit(res, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo and len(out) < 1000000:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pids):
    """Sum of Pss (KiB) and of Rss over PIDS; processes gone meanwhile count 0."""
    pss = rss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return pss, rss


class Session:
    __slots__ = ("p", "fin", "fout", "buf", "ready", "dead", "pending", "t0", "started")

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, bufsize=0, start_new_session=True)
        self.fin, self.fout = self.p.stdin.fileno(), self.p.stdout.fileno()
        os.set_blocking(self.fin, False)
        os.set_blocking(self.fout, False)
        self.buf = b""
        self.ready = False
        self.dead = False
        self.pending = None
        self.t0 = 0
        self.started = time.monotonic()
        os.write(self.fin, START_LINE)


class Concurrency(sb.Bench):
    def __init__(self, args, nmax):
        args.size = 1 << 20
        args.payload = "random"
        args.cipher = args.kex = None
        super().__init__(args)
        starts = nmax + 100
        self.gh_conf_extra = (f"max_startups = {max(64, args.inflight * 2)}\n"
                              f"per_source_max_startups = {max(10, args.inflight * 2)}\n"
                              f"max_sessions = {starts}\n")
        self.sshd_extra = f"MaxStartups {starts}\nLogLevel ERROR\n"
        self.sessions = []

    # ------------------------------------------------------------- one side
    def client_cmd(self, side):
        return self.ssh("gatehouse" if side == "gatehouse" else "jump", None, tty=True)

    def middle_pid(self, side):
        name = "gatehouse" if side == "gatehouse" else "sshd-bastion"
        for nm, p in self.procs:
            if nm == name:
                return p.pid
        return None

    def run_side(self, side, n):
        a = self.args
        sel = selectors.DefaultSelector()
        res = {"n": n}
        # baseline PSS of the middle hop, idle, before any session
        base = pss_kib(tree(self.middle_pid(side)))
        res["idle_pss_kib"] = base[0]
        t_start = time.monotonic()
        open_deadline = t_start + a.open_timeout
        sessions = self.sessions = []
        starting = 0
        failed = 0
        last_ready = None

        def on_read(s):
            nonlocal starting, failed, last_ready
            try:
                chunk = os.read(s.fout, 65536)
            except BlockingIOError:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s.fout)
                if not s.ready:
                    starting -= 1
                    failed += 1
                s.dead = True
                return None
            if not s.ready:
                s.buf += chunk
                if b"GHBENCH" b"READY" in s.buf:
                    s.ready = True
                    s.buf = b""
                    starting -= 1
                    last_ready = time.monotonic()
                else:
                    s.buf = s.buf[-64:]
                return None
            if s.pending is not None and s.pending in chunk:
                dt = (time.perf_counter_ns() - s.t0) / 1e6
                s.pending = None
                return dt
            return None

        # -- open N sessions, at most --inflight logging in at once
        while time.monotonic() < open_deadline:
            while len(sessions) < n and starting < a.inflight:
                s = Session(self.client_cmd(side))
                sessions.append(s)
                sel.register(s.fout, selectors.EVENT_READ, s)
                starting += 1
            ready = sum(1 for s in sessions if s.ready)
            if ready + failed >= n:
                break
            for key, _ in sel.select(0.2):
                on_read(key.data)
        ready = [s for s in sessions if s.ready and not s.dead]
        res["opened"] = len(ready)
        res["failed"] = n - len(ready)
        res["open_seconds"] = (last_ready - t_start) if last_ready else None
        log(f"{side}: {len(ready)}/{n} sessions open in "
            f"{res['open_seconds'] or 0:.1f} s ({res['failed']} failed or late)")
        if not ready:
            res["reason"] = "no session opened"
            self.close_side(sel)
            return res

        # -- typing: one byte per session every --gap s, staggered
        lat = []
        heap = []
        now = time.monotonic()
        for i, s in enumerate(ready):
            heapq.heappush(heap, (now + random.uniform(0, a.gap), i))
        t_end = now + a.measure
        t_pss = now + a.measure / 2
        pss = None
        alphabet = b"abcdefghijklmnopqrstuvwxyz"
        k = 0
        lost = 0
        while True:
            now = time.monotonic()
            if now >= t_end:
                break
            while heap and heap[0][0] <= now:
                _, i = heapq.heappop(heap)
                s = ready[i]
                if s.dead:
                    continue
                if s.pending is not None:   # the previous one never came back in a gap
                    lost += 1
                ch = alphabet[k % 26:k % 26 + 1]
                k += 1
                try:
                    os.write(s.fin, ch)
                    s.pending = ch
                    s.t0 = time.perf_counter_ns()
                except OSError:
                    s.dead = True
                    continue
                heapq.heappush(heap, (now + a.gap, i))
            if pss is None and now >= t_pss:
                pids = tree(self.middle_pid(side))
                pss = pss_kib(pids)
                res["processes"] = len(pids)
            wait = max(0.0, min(heap[0][0] if heap else t_end, t_end) - time.monotonic())
            for key, _ in sel.select(wait):
                dt = on_read(key.data)
                if dt is not None:
                    lat.append(dt)
        alive = sum(1 for s in ready if not s.dead)
        res["alive_at_end"] = alive
        res["keystrokes"] = len(lat)
        res["keystrokes_lost"] = lost
        if lat:
            res["p50_ms"] = sb.percentile(lat, 50)
            res["p99_ms"] = sb.percentile(lat, 99)
            res["max_ms"] = max(lat)
        if pss:
            res["pss_kib"] = pss[0]
            res["rss_kib"] = pss[1]
            res["pss_per_session_kib"] = pss[0] / len(ready)
            res["pss_added_per_session_kib"] = (pss[0] - base[0]) / len(ready)
        log(f"{side}: p50 {res.get('p50_ms', 0):.2f} ms, p99 {res.get('p99_ms', 0):.2f} ms over "
            f"{len(lat)} keystrokes; PSS {res.get('pss_kib', 0) / 1024:.1f} MiB in "
            f"{res.get('processes', 0)} processes "
            f"({res.get('pss_per_session_kib', 0):.0f} KiB per session)")
        self.close_side(sel)
        return res

    def close_side(self, sel):
        """Every client types ^C (ends the remote cat, so the shell and the
        session end) and closes its input; bounded wait, then stragglers are
        stopped by PID."""
        for s in self.sessions:
            try:
                os.write(s.fin, b"\x03")
            except OSError:
                pass
            try:
                s.p.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + 60
        for s in self.sessions:
            left = max(0.1, deadline - time.monotonic())
            try:
                s.p.wait(timeout=left)
            except subprocess.TimeoutExpired:
                s.p.terminate()
                try:
                    s.p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    s.p.kill()
                    s.p.wait(timeout=5)
            try:
                sel.unregister(s.fout)
            except (KeyError, ValueError):
                pass
            s.p.stdout.close()
        sel.close()
        self.sessions = []
        # let the middle hop and the target reap their side (bounded)
        time.sleep(2)

    def stop_all(self):
        for s in self.sessions:
            if s.p.poll() is None:
                s.p.kill()
                s.p.wait(timeout=5)
        self.sessions = []
        super().stop_all()

    def run(self, ns):
        self.setup()
        if self.gh_reason:
            log(f"gatehouse: not available ({self.gh_reason})")
        out = {"params": {"n": ns, "gap_s": self.args.gap, "measure_s": self.args.measure,
                          "inflight": self.args.inflight},
               "machine": {"cpus": os.cpu_count(), "cpu": sb.cpu_model()},
               "versions": sb.versions(self.args.gatehouse), "results": {}}
        for n in ns:
            row = {}
            for side in SIDES:
                if side == "gatehouse" and self.gh_reason:
                    row[side] = {"n": n, "reason": self.gh_reason}
                    continue
                row[side] = self.run_side(side, n)
            out["results"][str(n)] = row
        return out


def fmt(v, spec, unit=""):
    return "-" if v is None else format(v, spec) + unit


def print_report(res):
    print()
    p = res["params"]
    print(f"Concurrent recorded interactive sessions, loopback — {res['machine']['cpus']} CPUs "
          f"({res['machine']['cpu']})")
    print(f"one byte typed per session every {p['gap_s']} s for {p['measure_s']} s; "
          f"PSS of the middle hop's processes (Gatehouse master + workers; bastion sshd + children)")
    print()
    hdr = (f"{'N':>6s} {'side':16s}{'opened':>8s}{'open s':>8s}{'PSS MiB':>9s}"
           f"{'KiB/sess':>10s}{'p50 ms':>9s}{'p99 ms':>9s}{'keys':>8s}")
    print(hdr)
    for n, row in res["results"].items():
        for side in SIDES:
            r = row.get(side, {})
            if "opened" not in r:
                print(f"{n:>6s} {TITLES[side]:16s}  n/a ({r.get('reason', '?')})")
                continue
            print(f"{n:>6s} {TITLES[side]:16s}{r['opened']:>8d}{fmt(r.get('open_seconds'), '.1f'):>8s}"
                  f"{fmt(r.get('pss_kib', 0) / 1024 if 'pss_kib' in r else None, '.1f'):>9s}"
                  f"{fmt(r.get('pss_per_session_kib'), '.0f'):>10s}{fmt(r.get('p50_ms'), '.2f'):>9s}"
                  f"{fmt(r.get('p99_ms'), '.2f'):>9s}{r.get('keystrokes', 0):>8d}")
    print()
    print("checks:")
    for n, row in res["results"].items():
        g, j = row.get("gatehouse", {}), row.get("jump", {})
        if "pss_per_session_kib" in g:
            v = g["pss_per_session_kib"]
            print(f"  N={n:5s} gatehouse PSS per session {v:8.0f} KiB   target <= {PSS_TARGET_KIB} KiB "
                  f"{'MET' if v <= PSS_TARGET_KIB else 'MISSED'}")
        if "p99_ms" in g and "p99_ms" in j and j["p99_ms"] > 0:
            ratio = g["p99_ms"] / j["p99_ms"]
            print(f"  N={n:5s} echo p99 gatehouse / ssh -J {ratio:8.2f}x      target <= "
                  f"{P99_TARGET_RATIO}x {'MET' if ratio <= P99_TARGET_RATIO else 'MISSED'}")
        for side in SIDES:
            r = row.get(side, {})
            if r.get("failed"):
                print(f"  N={n:5s} {TITLES[side]}: {r['failed']} sessions did not open in time")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default="build/gatehouse", help="gatehouse binary")
    env_n = os.environ.get("BENCH_CONC_N", "100 1000")
    ap.add_argument("--n", default=env_n,
                    help=f"session counts, space or comma separated (default: $BENCH_CONC_N or '100 1000')")
    ap.add_argument("--gap", type=float, default=3.0, help="seconds between one session's keystrokes")
    ap.add_argument("--measure", type=float, default=30.0, help="seconds of typing per N and side")
    ap.add_argument("--inflight", type=int, default=24, help="logins in progress at once")
    ap.add_argument("--open-timeout", type=float, default=300.0,
                    help="seconds allowed to open all N sessions (per N and side)")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = ap.parse_args()
    try:
        ns = [int(x) for x in args.n.replace(",", " ").split()]
    except ValueError:
        ap.error(f"bad --n '{args.n}'")
    if not ns or any(not 1 <= x <= 20000 for x in ns):
        ap.error("each N must be between 1 and 20000")
    if not (0.2 <= args.gap <= 60 and 1 <= args.measure <= 3600 and 1 <= args.inflight <= 500
            and 10 <= args.open_timeout <= 3600):
        ap.error("--gap, --measure, --inflight or --open-timeout out of range")
    # tasks: per session about 1 client (2 for -J), 1-2 middle, 3 target processes
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        with open("/proc/loadavg") as f:
            used = int(f.read().split()[3].split("/")[1])
    except (OSError, ValueError):
        pid_max, used = 1 << 22, 0
    keep = [n for n in ns if 8 * n + used < pid_max]
    for n in ns:
        if n not in keep:
            log(f"N={n} skipped: about {8 * n} more tasks would exceed kernel.pid_max={pid_max}")
    if not keep:
        return 1
    nofile = raise_limits(max(keep))
    log(f"RLIMIT_NOFILE {nofile}")

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    bench = Concurrency(args, max(keep))
    try:
        res = bench.run(keep)
    except RuntimeError as e:
        print(f"concurrency: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("concurrency: interrupted", file=sys.stderr)
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
