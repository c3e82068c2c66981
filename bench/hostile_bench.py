#!/usr/bin/python3
"""Failed-login flood against Gatehouse, on loopback only.

One `gatehouse serve` (workers dropping to the gatehouse user, as by
default) in front of a loopback sshd. A legitimate user's login time
(`ssh alice@ACCOUNT@ASSET@gh true`, password) is measured alone, then while
--attempts connections (default 10,000), each with one wrong password, come
from --sources loopback addresses (127.0.0.2, ...) over many source ports.
The flooding client runs at nice 15 in its own process (an attacker's CPU
is not the server's). Reported: login time median/p90 alone and under the
flood and their ratio (target: median <= 2x), how many attempts were
answered (each one a login event) and refused (counted in the master's log),
per-source penalties started, and the master's RSS and open fds before and
after. Bounded: --max-seconds for the flood, every wait has a timeout; every
process started here is stopped by PID. Must run as root.

  bench/hostile_bench.py --gatehouse build/gatehouse [--attempts N] [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import Gatehouse, Target, UNIX_DEPLOY, setup_ghenv, ssh_run  # noqa: E402
from flood import flood_result, proc_usage, spawn_flood  # noqa: E402


def login_time(g):
    t0 = time.monotonic()
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=g.alice_pw, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("legitimate login failed: " + p.stderr)
    return time.monotonic() - t0


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--attempts", type=int, default=10000)
    ap.add_argument("--sources", type=int, default=4)
    ap.add_argument("--threads-per-source", type=int, default=4)
    ap.add_argument("--baseline", type=int, default=10)
    ap.add_argument("--max-seconds", type=int, default=1800)
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("hostile_bench: needs root (sshd, test accounts, the worker user)")
    tmp = tempfile.mkdtemp(prefix="gh-hostile-", dir="/var/tmp")
    os.chmod(tmp, 0o711)
    t = g = None
    try:
        t = Target(tmp)
        t.start()
        g = Gatehouse(os.path.abspath(a.gatehouse), tmp, t, drop=True)
        g.start()
        setup_ghenv(g, t)
        login_time(g)  # warm-up (host key pinning)
        alone = [login_time(g) for _ in range(a.baseline)]
        rss0, fds0 = proc_usage(g.proc.pid)
        sources = [f"127.0.0.{2 + i}" for i in range(a.sources)]
        t0 = time.monotonic()
        fl = spawn_flood(g.port, a.attempts, sources, a.threads_per_source)
        during = []
        while fl.poll() is None and len(during) < 300 and time.monotonic() - t0 < a.max_seconds:
            during.append(login_time(g))
        res = flood_result(fl, timeout=a.max_seconds)
        flood_s = time.monotonic() - t0
        time.sleep(11)  # the refused-connections summary is logged every 10 s
        rss1, fds1 = proc_usage(g.proc.pid)
        log = g.read_log()
        fails = sum(1 for e in g.events("login") if e["result"] == "failure")
        refused_logged = sum(int(n) for n in re.findall(r"refused (\d+) connections? in the", log))
        penalties = len(re.findall(r"failed logins: refused for", log))
        r = {
            "attempts": a.attempts, "sources": a.sources,
            "answered": res["attempts"], "refused": res["refused"],
            "login_failure_events": fails, "refused_logged": refused_logged,
            "penalties": penalties, "flood_seconds": round(flood_s, 1),
            "login_alone_median_s": round(statistics.median(alone), 3),
            "login_alone_p90_s": round(pct(alone, 0.9), 3),
            "login_flood_median_s": round(statistics.median(during), 3) if during else None,
            "login_flood_p90_s": round(pct(during, 0.9), 3) if during else None,
            "login_flood_samples": len(during),
            "master_rss_kib": [rss0, rss1], "master_fds": [fds0, fds1],
        }
        if during:
            r["ratio_median"] = round(r["login_flood_median_s"] / r["login_alone_median_s"], 2)
        print(f"failed-login flood: {a.attempts} connections, one wrong password each, "
              f"from {a.sources} addresses, {flood_s:.0f} s")
        print(f"  answered (login failure events): {res['attempts']} ({fails} events)")
        print(f"  refused at accept: {res['refused']} (counted in the log: {refused_logged}); "
              f"penalties started: {penalties}")
        print(f"  legitimate login alone:  median {r['login_alone_median_s']:.3f} s, "
              f"p90 {r['login_alone_p90_s']:.3f} s ({len(alone)} logins)")
        if during:
            print(f"  legitimate login flood:  median {r['login_flood_median_s']:.3f} s, "
                  f"p90 {r['login_flood_p90_s']:.3f} s ({len(during)} logins), "
                  f"ratio {r['ratio_median']:.2f}x (target <= 2x)")
        print(f"  master RSS {rss0} -> {rss1} KiB, open fds {fds0} -> {fds1}")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(r, f, indent=1)
        return 0
    finally:
        if g:
            g.stop()
        if t:
            t.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
