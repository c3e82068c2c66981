#!/usr/bin/python3
"""Store benchmark: audit events/s and web logins/s, SQLite vs PostgreSQL.

Events: 1 and W writer processes at once (bench/audit_bench.c `append`: one
audit event per write transaction, through the same gh_audit_event as the
nodes), all on the one hash chain; with PostgreSQL they stand for writers on
several nodes (they share nothing but the database). The chain is verified
after.
Logins: web console logins/s (each writes a login event and a session row)
from C clients. PostgreSQL is a temporary cluster (tests/e2e/pgenv.py).
Needs root. Prints JSON."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import pgenv  # noqa: E402
from sshenv import Gatehouse  # noqa: E402


def node(gh, tmp, backend, st=None, name="n1"):
    d = tempfile.mkdtemp(dir=tmp)
    os.chmod(d, 0o711)
    g = Gatehouse(gh, d, None, drop=True)
    g.pg = None
    if backend == "postgresql":
        pw = os.path.join(g.data, "db.password")
        pgenv.write_password_file(pw, st["password"])
        g.pg = st
        g.write_conf(f"database = postgresql\ndatabase_url = {st['cluster'].url(st['name'])}\n"
                     f"database_password_file = {pw}\nnode_name = {name}\n")
    else:
        g.write_conf("database = sqlite\n")
    return g


def events_per_s(gh, g, writers, per_writer):
    """WRITERS processes (build/audit_bench append) appending PER_WRITER
    events each to G's store at once; the chain is verified after."""
    g.cli("node", "add", "/bench", check=None)  # the store exists, migrated
    ab = os.path.join(os.path.dirname(gh), "audit_bench")
    env = dict(os.environ)
    if g.pg:
        db = g.pg["cluster"].url(g.pg["name"])
        env["GH_PG_PASSWORD_FILE"] = os.path.join(g.data, "db.password")
    else:
        db = g.db_path()
    t0 = time.monotonic()
    ps = [subprocess.Popen([ab, "append", db, str(per_writer)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
          for _ in range(writers)]
    errors = [p.communicate(timeout=600)[1] for p in ps if p.wait(timeout=600) != 0]
    took = time.monotonic() - t0
    clean = json.loads(g.cli("audit", "verify", "--json", check=None).stdout)["clean"]
    return {"writers": writers, "events": writers * per_writer, "errors": len(errors),
            "events_per_s": round(writers * per_writer / took, 1), "chain_clean": clean}


def logins_per_s(g, tmp, clients, seconds):
    from test_web_api import Web
    g.start()
    try:
        web = Web(g, tmp)
        web.token("bench", "admin")
        body = {"user": "admin", "password": web.admin_pw}
        done, errs = [], []

        def run():
            import requests
            s = requests.Session()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                s.cookies.clear()
                ok = web.req("POST", "/api/v1/login", session=s, json=body).status_code == 200
                (done if ok else errs).append(1)

        ts = [threading.Thread(target=run) for _ in range(clients)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join(seconds + 60)
        return {"clients": clients, "logins": len(done), "errors": len(errs),
                "per_s": round(len(done) / (time.monotonic() - t0), 1)}
    finally:
        g.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--per-writer", type=int, default=500)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("store_bench: needs root (PostgreSQL runs as postgres, workers drop)")
    gh = os.path.abspath(a.gatehouse)
    tmp = tempfile.mkdtemp(prefix="gh-storebench-", dir="/var/tmp")
    os.chmod(tmp, 0o711)
    cluster = pgenv.PgCluster.shared()
    res = {}
    try:
        for backend in ("sqlite", "postgresql"):
            r = res[backend] = {}
            for w in (1, a.writers):
                st = pgenv.pg_store(tempfile.mkdtemp(dir=tmp)) if backend == "postgresql" else None
                r[f"events_{w}_writers"] = events_per_s(gh, node(gh, tmp, backend, st), w,
                                                        a.per_writer)
            st = pgenv.pg_store(tempfile.mkdtemp(dir=tmp)) if backend == "postgresql" else None
            r["logins"] = logins_per_s(node(gh, tmp, backend, st), tmp, a.clients, a.seconds)
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    bad = [k for b in res.values() for k, v in b.items()
           if v.get("errors") or v.get("chain_clean") is False]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
