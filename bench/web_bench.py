#!/usr/bin/python3
"""REST API latency and web logins, on loopback only.

One `gatehouse serve` (workers and the web process dropping to the
gatehouse user, as by default) with --assets assets (default 5,000, added
through POST /api/v1/assets) and --users users (default 200). Then
one client, then --clients concurrent clients (default 8), each on its own
keep-alive connection, GET /api/v1/assets?limit=100 with an API token for
--seconds: reported p50/p90/p99 latency and requests/s (target p99 <= 20 ms
with 8 clients). The clients are Python threads on the same machine: on a
small machine they compete with the server for the CPU. Then
web logins (POST /api/v1/login, password): logins/s with one client and
with --clients. TLS is verified against the certificate's printed
fingerprint. Bounded: every phase has a deadline; the server started here
is stopped by PID. Must run as root.

  bench/web_bench.py --gatehouse build/gatehouse [--assets N] [--users N] [--seconds S] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import Gatehouse  # noqa: E402
from test_web_api import Web  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def hammer(web, clients, seconds, fn):
    """Run fn(session) in CLIENTS threads for SECONDS; latencies in ms."""
    lat, errors, stop = [], [], time.monotonic() + seconds
    lock = threading.Lock()

    def run():
        s, mine = requests.Session(), []
        while time.monotonic() < stop:
            t0 = time.monotonic()
            ok = fn(s)
            mine.append((time.monotonic() - t0) * 1000)
            if not ok:
                errors.append(1)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=run) for _ in range(clients)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + 60)
    return lat, len(errors), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("web_bench: needs root (the worker user)")
    tmp = tempfile.mkdtemp(prefix="gh-webbench-", dir="/var/tmp")
    os.chmod(tmp, 0o711)
    g = Gatehouse(os.path.abspath(a.gatehouse), tmp, None, drop=True)
    res = {}
    try:
        g.start()
        web = Web(g, tmp)
        tok = web.token("bench", "admin")
        for i in range(a.users):
            g.cli("user", "add", f"u{i:04d}")
        s = requests.Session()
        t0 = time.monotonic()
        for i in range(a.assets):
            r = web.req("POST", "/api/v1/assets", token=tok, session=s,
                        json={"name": f"a{i:05d}", "address": "10.0.0.1", "port": 22})
            if r.status_code != 201:
                raise RuntimeError(r.text)
        res["asset_posts_per_s"] = round(a.assets / (time.monotonic() - t0), 1)

        def get(sess):
            r = web.req("GET", "/api/v1/assets?limit=100", token=tok, session=sess)
            return r.status_code == 200 and len(r.json()["items"]) == 100

        lat, errs, took = hammer(web, 1, max(3, a.seconds // 2), get)
        res["list_1_client"] = {"requests": len(lat), "errors": errs,
                                "rps": round(len(lat) / took, 1),
                                "p50_ms": round(pct(lat, .5), 2), "p99_ms": round(pct(lat, .99), 2)}
        lat, errs, took = hammer(web, a.clients, a.seconds, get)
        res["list"] = {"clients": a.clients, "requests": len(lat), "errors": errs,
                       "rps": round(len(lat) / took, 1),
                       "p50_ms": round(pct(lat, .5), 2), "p90_ms": round(pct(lat, .9), 2),
                       "p99_ms": round(pct(lat, .99), 2)}
        body = {"user": "admin", "password": web.admin_pw}

        def login(sess):
            sess.cookies.clear()
            return web.req("POST", "/api/v1/login", session=sess, json=body).status_code == 200

        for n in (1, a.clients):
            lat, errs, took = hammer(web, n, max(3, a.seconds // 2), login)
            res[f"logins_{n}_clients"] = {"logins": len(lat), "errors": errs,
                                          "per_s": round(len(lat) / took, 1),
                                          "p50_ms": round(statistics.median(lat), 1)}
    finally:
        g.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    ok = res["list"]["errors"] == 0 and res["list"]["p99_ms"] <= 20
    print("target p99 <= 20 ms:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
