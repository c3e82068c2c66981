"""Opt-in measurement: bytes through a recorded ProxyJump compared with
OpenSSH's own `ssh -J` through a plain sshd (both end in the same target).
Runs only with GH_JUMP_TP_MIB set (MiB to send, e.g. 256); without it, it is
reported as skipped (the opt_in marker, tests/e2e/conftest.py: the only test
of the suite that may skip):

    GH_JUMP_TP_MIB=256 GATEHOUSE_BIN=build/gatehouse /usr/bin/python3 -m pytest -q -s \\
        tests/e2e/test_jump_throughput.py

The full benchmark suite lives in bench/ (docs/BENCHMARKS.md)."""
import os
import subprocess
import time

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW
from test_jump import _setup

MIB = int(os.environ.get("GH_JUMP_TP_MIB", "0") or 0)


def _timed(cmd, env):
    t = time.monotonic()
    p = subprocess.run(f"head -c {MIB}M /dev/zero | {cmd}", shell=True, env=env,
                       capture_output=True, text=True, timeout=1800, start_new_session=True)
    assert p.returncode == 0, p.stderr
    return time.monotonic() - t


@pytest.mark.opt_in("GH_JUMP_TP_MIB")
def test_jump_throughput(ghenv, tmp_path):
    assert 0 < MIB <= 4096, "GH_JUMP_TP_MIB is MiB to send, 1-4096"
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=":0")
    t_gh = _timed(f"ssh -F {cfg} web01 'cat > /dev/null'", env)
    # OpenSSH -J through the target's own sshd (localhost) to itself (127.0.0.1)
    c2 = tmp_path / "ssh_config_openssh"
    c2.write_text(f"Host *\n StrictHostKeyChecking no\n UserKnownHostsFile {tmp_path}/kh_o\n"
                  " PreferredAuthentications password\n PubkeyAuthentication no\n"
                  f" LogLevel ERROR\n User {UNIX_DEPLOY}\n Port {g.target.port}\n")
    env["GH_TEST_PASSWORD"] = g.target.passwords[UNIX_DEPLOY]
    t_o = _timed(f"ssh -F {c2} -J localhost 127.0.0.1 'cat > /dev/null'", env)
    print(f"\n[jump-tp] {MIB} MiB: gatehouse recorded jump {MIB / t_gh:.1f} MiB/s, "
          f"OpenSSH -J {MIB / t_o:.1f} MiB/s, ratio {t_o / t_gh:.2f}")
