#!/usr/bin/python3
"""MySQL point selects and redis-benchmark GET/SET through Gatehouse vs
direct, on loopback only, side by side in one run; prints the ratios
(targets >= 0.7x).

MySQL: a MariaDB started here (dbenv.start_mariadb), a table of 10,000
rows; one pymysql connection over TLS runs `SELECT b FROM t WHERE a = %s`
with random keys for --seconds, through the MySQL door and directly (the
direct run without TLS, as an application next to its database would).
Redis: a redis-server started here (dbenv.start_redis);
`redis-benchmark -t get,set -n N -c 8 -P PIPE` through the Redis door and
directly. Each statement through Gatehouse is judged and written as a chained
audit event: the ratios measure that too. Bounded; servers started here are
stopped by PID. Must run as root (workers drop privileges).

  bench/db_wire_bench.py --gatehouse build/gatehouse [--seconds S] [--requests N] [--json FILE]

The functions mysql_point_select() and redis_get_set() take a running
Gatehouse and the servers, for a larger database bench to call.
"""
import argparse
import json
import os
import random
import re
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from dbenv import start_mariadb, start_redis  # noqa: E402
from sshenv import Gatehouse, free_port, port_open, reachable_tmp, wait_for  # noqa: E402

ALICE_PW = "bench-Alice-Pw-1"
APP_PW = "bench-App-Secret-2"
REDIS_PW = "bench-Redis-Secret-3"


def _select_loop(conn, seconds):
    n, end = 0, time.monotonic() + seconds
    with conn.cursor() as cur:
        while time.monotonic() < end:
            cur.execute("SELECT b FROM t WHERE a = %s", (random.randrange(10000),))
            cur.fetchone()
            n += 1
    return n / seconds


def mysql_point_select(gh_port, mdb_port, seconds):
    """(through qps, direct qps)."""
    import pymysql
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    def connect():
        return pymysql.connect(host="127.0.0.1", port=gh_port, user="alice@appuser@db01",
                               password=ALICE_PW, database="app", ssl=ctx, connect_timeout=20)
    try:
        via = connect()
    except pymysql.err.OperationalError as e:
        print(f"first pymysql connection through Gatehouse failed ({e}); once more")
        via = connect()
    direct = pymysql.connect(host="127.0.0.1", port=mdb_port, user="appuser", password=APP_PW,
                             database="app", connect_timeout=20)
    try:
        return _select_loop(via, seconds), _select_loop(direct, seconds)
    finally:
        via.close()
        direct.close()


def _redis_bench(port, user, password, requests, pipeline):
    p = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "--user", user,
                        "-a", password, "-t", "get,set", "-n", str(requests), "-c", "8",
                        "-P", str(pipeline), "-q"], capture_output=True, text=True, timeout=600)
    rates = dict(re.findall(r"^(SET|GET): ([0-9.]+) requests per second", p.stdout, re.M))
    if set(rates) != {"SET", "GET"}:
        raise RuntimeError(f"redis-benchmark: {p.stdout} {p.stderr}")
    return {k: float(v) for k, v in rates.items()}


def redis_get_set(gh_port, rds_port, requests, pipeline=1):
    """({'GET': rps, 'SET': rps} through, same direct)."""
    via = _redis_bench(gh_port, "alice@default@rdb", ALICE_PW, requests, pipeline)
    direct = _redis_bench(rds_port, "default", REDIS_PW, requests, pipeline)
    return via, direct


def setup(gh_bin, mdb, rds):
    my_port, rd_port = free_port(), free_port()
    g = Gatehouse(gh_bin, reachable_tmp(), None,
                  extra_conf=f"mysql_listen = 127.0.0.1:{my_port}\n"
                             f"redis_listen = 127.0.0.1:{rd_port}\n")
    g.add_user("alice", ALICE_PW)
    g.cli("asset", "add", "db01", "--address", "127.0.0.1", "--port", mdb.port,
          "--platform", "mysql", "--protocols", "mysql")
    g.cli("account", "add", "db01", "appuser", "--password-stdin", stdin=APP_PW + "\n")
    g.cli("asset", "add", "rdb", "--address", "127.0.0.1", "--port", rds.port,
          "--platform", "redis", "--protocols", "redis")
    g.cli("account", "add", "rdb", "default", "--password-stdin", stdin=REDIS_PW + "\n")
    g.cli("perm", "add", "p", "--user", "alice", "--asset", "db01", "--asset", "rdb",
          "--protocols", "mysql,redis", "--actions", "connect")
    g.start()
    if not (wait_for(lambda: port_open(my_port), 20) and wait_for(lambda: port_open(rd_port), 20)):
        raise RuntimeError(g.read_log())
    return g, my_port, rd_port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gatehouse", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--json")
    a = ap.parse_args()
    mdb = start_mariadb()
    rds = start_redis(REDIS_PW)
    g = None
    try:
        mdb.add_user("appuser", APP_PW, db="app")
        mdb.sql("CREATE TABLE t (a int primary key, b varchar(32)); "
                "INSERT INTO t SELECT seq, concat('v', seq) FROM seq_0_to_9999", db="app")
        g, my_port, rd_port = setup(os.path.abspath(a.gatehouse), mdb, rds)
        via, direct = mysql_point_select(my_port, mdb.port, a.seconds)
        res = {"mysql_point_select": {"through": via, "direct": direct, "ratio": via / direct}}
        print(f"mysql point select: {via:.0f} q/s through, {direct:.0f} q/s direct, "
              f"ratio {via / direct:.2f} (target >= 0.7)")
        for pipe in (1, 16):
            rv, rd = redis_get_set(rd_port, rds.port, a.requests, pipe)
            for k in ("SET", "GET"):
                ratio = rv[k] / rd[k]
                res[f"redis_{k.lower()}_P{pipe}"] = {"through": rv[k], "direct": rd[k], "ratio": ratio}
                print(f"redis {k} -P {pipe}: {rv[k]:.0f} r/s through, {rd[k]:.0f} r/s direct, "
                      f"ratio {ratio:.2f} (target >= 0.7)")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=2)
    finally:
        if g:
            g.stop()
        mdb.stop()
        rds.stop()


if __name__ == "__main__":
    main()
