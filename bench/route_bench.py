#!/usr/bin/python3
"""Bytes to an asset reached through a gateway compared with the same asset
reached directly, on loopback only.

One `gatehouse serve` (workers dropping to the gatehouse user) in front of a
loopback sshd; asset web01 is that sshd directly, asset via01 the same sshd
reached through gateway gw (web01 as ghtest-deploy: Gatehouse logs into web01
and opens a direct-tcpip channel to the sshd's own port), so the difference is
the gateway hop (its helper process, one more SSH encryption). --mib MiB
(default 64, at most 4096) go up (`cat > /dev/null`) and down (`head -c`)
through each; reported: MiB/s and the ratio gateway/direct. Every process
started here is stopped by PID. Must run as root.

  bench/route_bench.py --gatehouse build/gatehouse [--mib N] [--json FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import ALICE_PW, UNIX_DEPLOY, Gatehouse, Target, reachable_tmp, setup_ghenv, ssh_args  # noqa: E402


def timed(g, login, shell_cmd, pre=""):
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=":0")
    cmd = " ".join(f"'{a}'" for a in ssh_args(g, login, shell_cmd))
    t = time.monotonic()
    p = subprocess.run(f"{pre}{cmd} > /dev/null", shell=True, env=env, capture_output=True,
                       text=True, timeout=1800, start_new_session=True)
    if p.returncode != 0:
        raise RuntimeError(f"{login}: exit {p.returncode}: {p.stderr}")
    return time.monotonic() - t


def measure(g, mib):
    r = {"mib": mib}
    for name in ("web01", "via01"):
        login = f"alice@{UNIX_DEPLOY}@{name}"
        timed(g, login, "true")  # pins host keys, warms up
        up = timed(g, login, "cat > /dev/null", pre=f"head -c {mib}M /dev/zero | ")
        down = timed(g, login, f"head -c {mib}M /dev/zero")
        r[name] = {"up_mib_s": round(mib / up, 1), "down_mib_s": round(mib / down, 1)}
    for k in ("up_mib_s", "down_mib_s"):
        r["ratio_" + k[:-6]] = round(r["via01"][k] / r["web01"][k], 2)
    print(f"route throughput, {mib} MiB: direct up {r['web01']['up_mib_s']} down "
          f"{r['web01']['down_mib_s']} MiB/s; through a gateway up {r['via01']['up_mib_s']} "
          f"down {r['via01']['down_mib_s']} MiB/s; ratio up {r['ratio_up']} down "
          f"{r['ratio_down']}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--json")
    a = ap.parse_args()
    if not 0 < a.mib <= 4096:
        sys.exit("route_bench: --mib is 1-4096")
    if os.geteuid() != 0:
        sys.exit("route_bench: needs root (sshd, test accounts, the worker user)")
    tmp = reachable_tmp()
    t = g = None
    try:
        t = Target(tmp)
        t.start()
        g = Gatehouse(os.path.abspath(a.gatehouse), tmp, t)
        g.start()
        setup_ghenv(g, t)
        g.cli("gateway", "add", "gw", "--asset", "web01", "--account", UNIX_DEPLOY)
        g.cli("asset", "add", "via01", "--address", "127.0.0.1", "--port", t.port,
              "--gateway", "gw")
        g.add_account("via01", UNIX_DEPLOY)
        g.add_perm("p-via01", "alice", "via01")
        r = measure(g, a.mib)
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
