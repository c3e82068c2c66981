#!/usr/bin/python3
"""Bytes through a recorded ProxyJump compared with OpenSSH's own `ssh -J`
through a plain sshd, both ending in the same loopback target, on loopback
only.

One `gatehouse serve` (workers dropping to the gatehouse user, as by default)
in front of a loopback sshd, set up as the end-to-end tests' ProxyJump tests
set it up (tests/e2e/test_jump.py): `ssh -F CFG web01 'cat > /dev/null'` with
ProxyJump through Gatehouse, then `ssh -J localhost 127.0.0.1` through the
target's own sshd. --mib MiB (default 256, at most 4096) of zeros go up each
path once; reported: MiB/s of each and their ratio. Every process started here
is stopped by PID. Must run as root.

  bench/jump_throughput.py --gatehouse build/gatehouse [--mib N] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from sshenv import ALICE_PW, UNIX_DEPLOY, Gatehouse, Target, reachable_tmp, setup_ghenv  # noqa: E402
from test_jump import _setup  # noqa: E402


def timed(cmd, mib, env):
    t = time.monotonic()
    p = subprocess.run(f"head -c {mib}M /dev/zero | {cmd}", shell=True, env=env,
                       capture_output=True, text=True, timeout=1800, start_new_session=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {p.returncode}: {p.stderr}")
    return time.monotonic() - t


def measure(g, tmp, mib):
    cfg, _ = _setup(g, tmp)
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=":0")
    t_gh = timed(f"ssh -F {cfg} web01 'cat > /dev/null'", mib, env)
    # OpenSSH -J through the target's own sshd (localhost) to itself (127.0.0.1)
    c2 = tmp / "ssh_config_openssh"
    c2.write_text(f"Host *\n StrictHostKeyChecking no\n UserKnownHostsFile {tmp}/kh_o\n"
                  " PreferredAuthentications password\n PubkeyAuthentication no\n"
                  f" LogLevel ERROR\n User {UNIX_DEPLOY}\n Port {g.target.port}\n")
    env["GH_TEST_PASSWORD"] = g.target.passwords[UNIX_DEPLOY]
    t_o = timed(f"ssh -F {c2} -J localhost 127.0.0.1 'cat > /dev/null'", mib, env)
    print(f"jump throughput, {mib} MiB: gatehouse recorded jump {mib / t_gh:.1f} MiB/s, "
          f"OpenSSH -J {mib / t_o:.1f} MiB/s, ratio {t_o / t_gh:.2f}")
    return {"mib": mib, "gatehouse_mib_s": round(mib / t_gh, 1),
            "openssh_mib_s": round(mib / t_o, 1), "ratio": round(t_o / t_gh, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", "build", "gatehouse"))
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--json")
    a = ap.parse_args()
    if not 0 < a.mib <= 4096:
        sys.exit("jump_throughput: --mib is 1-4096")
    if os.geteuid() != 0:
        sys.exit("jump_throughput: needs root (sshd, test accounts, the worker user)")
    tmp = reachable_tmp()
    t = g = None
    try:
        t = Target(tmp)
        t.start()
        g = Gatehouse(os.path.abspath(a.gatehouse), tmp, t)
        g.start()
        setup_ghenv(g, t)
        r = measure(g, pathlib.Path(tmp), a.mib)
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
