#!/usr/bin/python3
"""REST API latency and web logins, on loopback only.

One `gatehouse serve` (workers and the web process dropping to the
gatehouse user, as by default) with --assets assets (default 5,000, added
through POST /api/v1/assets) and --users users (default 200). Then
one client, then --clients concurrent clients (default 8), each on its own
keep-alive connection, GET /api/v1/assets?limit=100 with an API token for
--seconds: reported p50/p90/p99 latency and requests/s (target p99 <= 20 ms
with 8 clients). The clients are processes (not threads: Python threads
wait for one another's interpreter lock, and that wait would be counted as
the server's latency) on the same machine: on a small machine they compete
with the server for the CPU. --threads uses threads instead. Then
web logins (POST /api/v1/login, password): logins/s with one client and
with --clients. TLS is verified against the certificate's printed
fingerprint. Bounded: every phase has a deadline; the server started here
is stopped by PID. Must run as root.

  bench/web_bench.py --gatehouse build/gatehouse [--assets N] [--users N] [--seconds S]
                     [--web-processes N] [--json FILE]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

import ssl

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import Gatehouse  # noqa: E402
from test_web_api import Web  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


class Conn:
    """One keep-alive HTTPS connection (http.client: less client CPU per
    request than requests), TLS verified against the pinned certificate."""

    def __init__(self, web):
        ctx = ssl.create_default_context(cafile=web.ca)
        ctx.check_hostname = False
        self.c = http.client.HTTPSConnection("127.0.0.1", web.g.web_port, context=ctx,
                                             timeout=20)

    def get(self, path, headers):
        self.c.request("GET", path, headers=headers)
        r = self.c.getresponse()
        return r.status, r.read()


def hammer(web, clients, seconds, fn, threads=False):
    """Run fn(state) in CLIENTS processes (or threads) for SECONDS, each
    with its own state (a requests.Session and a Conn); latencies in ms."""
    if not threads:
        return hammer_procs(web, clients, seconds, fn)
    lat, errors, stop = [], [], time.monotonic() + seconds
    lock = threading.Lock()

    def run():
        s, mine = (requests.Session(), Conn(web)), []
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


def hammer_procs(web, clients, seconds, fn):
    mp = multiprocessing.get_context("fork")
    q, start = mp.Queue(), mp.Event()

    def run():
        st, mine, errs = (requests.Session(), Conn(web)), [], 0
        start.wait(30)
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            t0 = time.monotonic()
            ok = fn(st)
            mine.append((time.monotonic() - t0) * 1000)
            errs += 0 if ok else 1
        q.put((mine, errs))

    ps = [mp.Process(target=run) for _ in range(clients)]
    for p in ps:
        p.start()
    t0 = time.monotonic()
    start.set()
    lat, errors = [], 0
    for _ in ps:
        mine, errs = q.get(timeout=seconds + 60)
        lat.extend(mine)
        errors += errs
    took = time.monotonic() - t0
    for p in ps:
        p.join(10)
    return lat, errors, took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--threads", action="store_true",
                    help="clients are threads of this process (the former client)")
    ap.add_argument("--web-processes", type=int,
                    help="web_processes of the server (default: the setting's default)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("web_bench: needs root (the worker user)")
    tmp = tempfile.mkdtemp(prefix="gh-webbench-", dir="/var/tmp")
    os.chmod(tmp, 0o711)
    conf = f"web_processes = {a.web_processes}\n" if a.web_processes else ""
    g = Gatehouse(os.path.abspath(a.gatehouse), tmp, None, extra_conf=conf, drop=True)
    res = {"client": "threads" if a.threads else "processes", "web_processes": a.web_processes}
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

        hdr = {"Authorization": f"Bearer {tok}"}

        def get(st):
            status, body = st[1].get("/api/v1/assets?limit=100", hdr)
            return status == 200 and len(json.loads(body)["items"]) == 100

        lat, errs, took = hammer(web, 1, max(3, a.seconds // 2), get, a.threads)
        res["list_1_client"] = {"requests": len(lat), "errors": errs,
                                "rps": round(len(lat) / took, 1),
                                "p50_ms": round(pct(lat, .5), 2), "p99_ms": round(pct(lat, .99), 2)}
        lat, errs, took = hammer(web, a.clients, a.seconds, get, a.threads)
        res["list"] = {"clients": a.clients, "requests": len(lat), "errors": errs,
                       "rps": round(len(lat) / took, 1),
                       "p50_ms": round(pct(lat, .5), 2), "p90_ms": round(pct(lat, .9), 2),
                       "p99_ms": round(pct(lat, .99), 2)}
        body = {"user": "admin", "password": web.admin_pw}

        def login(st):
            st[0].cookies.clear()
            return web.req("POST", "/api/v1/login", session=st[0], json=body).status_code == 200

        for n in (1, a.clients):
            lat, errs, took = hammer(web, n, max(3, a.seconds // 2), login, a.threads)
            res[f"logins_{n}_clients"] = {"logins": len(lat), "errors": errs,
                                          "per_s": round(len(lat) / took, 1),
                                          "p50_ms": round(statistics.median(lat), 1)}
        # reads while one client logs in all along (Argon2id on a web process)
        bg = {}
        t = threading.Thread(target=lambda: bg.update(
            r=hammer(web, 1, a.seconds, login, a.threads)))
        t.start()
        lat, errs, took = hammer(web, a.clients, a.seconds, get, a.threads)
        t.join(a.seconds + 90)
        res["list_during_logins"] = {"clients": a.clients, "requests": len(lat), "errors": errs,
                                     "rps": round(len(lat) / took, 1),
                                     "p50_ms": round(pct(lat, .5), 2),
                                     "p99_ms": round(pct(lat, .99), 2),
                                     "logins_per_s": round(len(bg["r"][0]) / bg["r"][2], 1)}
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
