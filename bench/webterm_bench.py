#!/usr/bin/python3
"""The web terminal (GET /api/v1/terminal) against SSH through Gatehouse,
on loopback only.

One `gatehouse serve` (privilege drop on, as by default), a real sshd
target, alice with a permission on web01 as ghtest-deploy. Then:
  1. keystroke-to-echo latency: a web terminal (python3-websocket, token)
     and an SSH login (OpenSSH client on a pty) both run `stty raw -echo;
     exec cat` on the target; --keystrokes single bytes alternate between
     the two (so machine load falls on both alike), each timed from the
     write to its echo: p50 and p99 per door;
  2. output throughput: `cat` of a --size MB file (printable, made on the
     target side) through the web terminal, timed to a marker after it:
     MB/s (the bytes go through the recorder, the live screen and the
     browser-side socket like any terminal output).
Bounded: every read has a deadline; the servers started here are stopped
by PID. Must run as root.

  bench/webterm_bench.py --gatehouse build/gatehouse [--keystrokes N] [--size MB] [--json FILE]
"""
import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import (ALICE_PW, UNIX_DEPLOY, Gatehouse, Target, reachable_tmp,  # noqa: E402
                    setup_ghenv, ssh_spawn)
from test_web_api import Web  # noqa: E402
from webterm import WebTerm  # noqa: E402

READY = b"GHBENCHREADY"
DONE = b"GHBENCHDONE"


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


class WebLeg:
    def __init__(self, w, tok):
        self.t = WebTerm(w.g.web_port, w.ca, "web01", UNIX_DEPLOY, token=tok)

    def start(self):
        self.t.send("stty raw -echo; echo GHBENCH''READY; exec cat\r")
        self.t.expect(READY, timeout=30)

    def key(self, ch):
        t0 = time.perf_counter_ns()
        self.t.send(ch)
        self.t.expect(ch, timeout=10)
        return (time.perf_counter_ns() - t0) / 1e6

    def close(self):
        self.t.close()


class SshLeg:
    def __init__(self, g):
        self.c = ssh_spawn(g, f"alice@{UNIX_DEPLOY}@web01", password=ALICE_PW, timeout=30)
        self.c.delaybeforesend = None  # pexpect waits 50 ms before each send otherwise

    def start(self):
        self.c.send("stty raw -echo; echo GHBENCH''READY; exec cat\r")
        self.c.expect_exact(READY.decode(), timeout=30)

    def key(self, ch):
        t0 = time.perf_counter_ns()
        self.c.send(ch.decode())
        self.c.expect_exact(ch.decode(), timeout=10)
        return (time.perf_counter_ns() - t0) / 1e6

    def close(self):
        self.c.close(force=True)


def latency(legs, n):
    lat = {k: [] for k in legs}
    alphabet = b"abcdefghijklmnopqrstuvwxyz"
    for i in range(20 + n):
        ch = alphabet[i % 26:i % 26 + 1]
        for name, leg in legs.items():
            ms = leg.key(ch)
            if i >= 20:
                lat[name].append(ms)
    return {k: {"keystrokes": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)}
            for k, v in lat.items()}


def throughput(w, tok, size_mb, path):
    t = WebTerm(w.g.web_port, w.ca, "web01", UNIX_DEPLOY, token=tok, cols=200, rows=50)
    try:
        t.expect(rb"GHPROMPT\$ ", timeout=30)
        t.send(f"stty -echo; cat {path}; echo GHBENCH''DONE\r")
        t0 = time.monotonic()
        got = 0
        deadline = t0 + 600
        while DONE not in t.out[-64:]:
            if time.monotonic() > deadline or t.eof:
                raise RuntimeError(f"cat did not finish: {got} bytes")
            before = len(t.out)
            t._read_one(1.0)
            got += len(t.out) - before
            if len(t.out) > 1 << 20:  # keep the tail only
                t.out = t.out[-64:]
        secs = time.monotonic() - t0
    finally:
        t.close()
    return {"bytes": size_mb << 20, "seconds": secs, "mb_per_s": size_mb / secs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gatehouse", required=True)
    ap.add_argument("--keystrokes", type=int, default=300)
    ap.add_argument("--size", type=int, default=100, help="MB for the cat")
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("webterm_bench: needs root (sshd, test accounts, the worker user)")
    tmp = reachable_tmp()
    path = os.path.join("/tmp", f"ghbench-cat-{os.getpid()}")
    t = Target(tmp)
    t.start()
    g = Gatehouse(os.path.abspath(a.gatehouse), tmp, t)
    out = {}
    legs = {}
    try:
        g.start()
        setup_ghenv(g, t)
        w = Web(g, tmp)
        tok = w.token("bench", "alice")
        with open(path, "wb") as f:  # printable lines, like a log
            line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * 3)[:99] + b"\n"
            f.write(line * ((a.size << 20) // len(line)))
            f.write(b"x" * ((a.size << 20) % len(line)))
        os.chmod(path, 0o644)
        legs = {"web": WebLeg(w, tok), "ssh": SshLeg(g)}
        for leg in legs.values():
            leg.start()
        out["echo"] = latency(legs, a.keystrokes)
        for k, v in out["echo"].items():
            print(f"echo {k:4s}: p50 {v['p50_ms']:.3f} ms, p99 {v['p99_ms']:.3f} ms "
                  f"({v['keystrokes']} keystrokes)")
        for leg in legs.values():
            leg.close()
        legs = {}
        out["cat"] = throughput(w, tok, a.size, path)
        print(f"cat {a.size} MB through the web terminal: {out['cat']['seconds']:.1f} s, "
              f"{out['cat']['mb_per_s']:.1f} MB/s")
    finally:
        for leg in legs.values():
            leg.close()
        g.stop()
        t.stop()
        if os.path.exists(path):
            os.unlink(path)
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
