#!/usr/bin/python3
"""The database gateway against a direct connection, on loopback only.

Starts its own PostgreSQL (tests/e2e/dbenv.py) and one `gatehouse serve`
with its PostgreSQL door, then side by side:
  - pgbench -S -c CLIENTS -T SECONDS, direct vs through Gatehouse (tps;
    target >= 0.7x). Through Gatehouse the client side is TLS (sslmode=
    require, as Gatehouse asks), direct it is plain: the ratio includes TLS.
  - COPY (a table of --copy-mb MB) TO STDOUT with psql into /dev/null,
    direct vs through (MB/s; target >= 0.8x).
pgbench's -T includes its clients' logins (an Argon2id verification each);
its tps excludes them: keep --seconds well above the login time.
Bounded: every step has a timeout; the servers started here are stopped.
Must run as root (PostgreSQL runs as the postgres user).

  bench/db_bench.py --gatehouse build/gatehouse [--seconds 20] [--clients 8] [--copy-mb 256]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from dbenv import start_postgresql  # noqa: E402
from sshenv import Gatehouse, free_port, port_open, wait_for  # noqa: E402

USER_PW = "bench-Alice-1"
APP_PW = "bench-App-2"


def dsn(port, user, ssl):
    return (f"host=127.0.0.1 port={port} user={user} dbname=app "
            f"sslmode={'require' if ssl else 'disable'}")


def run(args, password, timeout, **kw):
    env = dict(os.environ, PGPASSWORD=password)
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, **kw)
    if p.returncode != 0:
        sys.exit(f"{args[0]} failed: {p.stderr[-2000:]}")
    return p


def pgbench(d, password, clients, seconds):
    p = run(["pgbench", "-S", "-c", str(clients), "-j", "2", "-T", str(seconds), "-n", d],
            password, seconds + 120)
    m = re.search(r"tps = ([0-9.]+)", p.stdout)
    if not m:
        sys.exit(f"pgbench gave no tps:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return float(m.group(1))


def copy_out(d, password):
    t = time.monotonic()
    with open(os.devnull, "w") as null:
        env = dict(os.environ, PGPASSWORD=password)
        p = subprocess.run(["psql", d, "-c", "COPY big TO STDOUT"], stdout=null,
                           stderr=subprocess.PIPE, env=env, timeout=1800)
    if p.returncode != 0:
        sys.exit(f"COPY failed: {p.stderr.decode()[-2000:]}")
    return time.monotonic() - t


def setup_gatehouse(gh_bin, pg):
    port = free_port()
    g = Gatehouse(gh_bin, tempfile.mkdtemp(prefix="gh-dbbench-"), None,
                  extra_conf=f"postgresql_listen = 127.0.0.1:{port}\nlog_level = warn\n")
    g.add_user("alice", USER_PW)
    g.cli("asset", "add", "db01", "--address", "127.0.0.1", "--port", pg.port, "--platform",
          "postgresql", "--protocols", "postgresql")
    g.cli("account", "add", "db01", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    g.cli("perm", "add", "p", "--user", "alice", "--asset", "db01", "--protocols",
          "postgresql", "--actions", "connect")
    g.start()
    if not wait_for(lambda: port_open(port), 30):
        sys.exit("gatehouse did not listen:\n" + g.read_log())
    return g, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gatehouse", required=True)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--copy-mb", type=int, default=256)
    a = ap.parse_args()
    pg = start_postgresql()
    g = None
    try:
        pg.add_role("appuser", APP_PW, "scram-sha-256", db="app")
        direct = dsn(pg.port, "appuser", False)
        run(["pgbench", "-i", "-s", "4", "-q", direct], APP_PW, 600)
        rows = a.copy_mb * 1024 * 1024 // 110
        pg.psql_admin(f"CREATE TABLE big AS SELECT i, repeat('x', 100) AS s "
                      f"FROM generate_series(1, {rows}) i; ALTER TABLE big OWNER TO appuser",
                      db="app")
        g, port = setup_gatehouse(os.path.abspath(a.gatehouse), pg)
        via = dsn(port, "alice@appuser@db01", True)
        t_direct = pgbench(direct, APP_PW, a.clients, a.seconds)
        t_via = pgbench(via, USER_PW, a.clients, a.seconds)
        print(f"pgbench -S -c {a.clients} -T {a.seconds}: direct {t_direct:.0f} tps, "
              f"gatehouse {t_via:.0f} tps, ratio {t_via / t_direct:.2f} (target >= 0.7)")
        c_direct = copy_out(direct, APP_PW)
        c_via = copy_out(via, USER_PW)
        mb = a.copy_mb
        print(f"COPY {mb} MB TO STDOUT: direct {mb / c_direct:.0f} MB/s, gatehouse "
              f"{mb / c_via:.0f} MB/s, ratio {c_direct / c_via:.2f} (target >= 0.8)")
    finally:
        if g:
            g.stop()
        pg.stop()


if __name__ == "__main__":
    main()
