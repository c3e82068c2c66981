"""Agent forwarding (`ssh -A`) through Gatehouse: relayed to the target
when allow_agent_forwarding = yes, audited; refused by default."""
import os
import re
import subprocess

import pytest

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, running_gatehouse, setup_ghenv

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True


@pytest.fixture
def agent_ghenv(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target, "allow_agent_forwarding = yes\n") as g:
        yield setup_ghenv(g, target)


def _ssh_with_agent(g, tmp_path, command):
    """Start an ssh-agent holding a fresh key, run `ssh -A ... COMMAND`
    through Gatehouse; returns (completed process, key fingerprint)."""
    sock = str(tmp_path / "agent.sock")
    key = str(tmp_path / "agentkey")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agentkey",
                    "-f", key], check=True, timeout=30)
    fp = subprocess.run(["ssh-keygen", "-l", "-f", key + ".pub"], capture_output=True,
                        text=True, check=True, timeout=30).stdout.split()[1]
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: os.path.exists(sock), timeout=10)
        env = dict(os.environ)
        env.update(SSH_AUTH_SOCK=sock, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
                   GH_TEST_PASSWORD=ALICE_PW)
        subprocess.run(["ssh-add", "-q", key], env=env, check=True, timeout=30,
                       stdin=subprocess.DEVNULL)
        a = ssh_args(g, f"alice@{UNIX_DEPLOY}@web01", command,
                     extra=("-o", "ForwardAgent=yes"))
        a = [f"IdentityAgent={sock}" if x == "IdentityAgent=none" else x for x in a]
        p = subprocess.run(a, env=env, capture_output=True, text=True, timeout=90,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    return p, fp


def _agent_events(g, result):
    return [e for e in g.events("tunnel") if e["method"] == "agent" and e["result"] == result]


def test_agent_forwarded_when_allowed(agent_ghenv, tmp_path):
    g = agent_ghenv
    p, fp = _ssh_with_agent(g, tmp_path, "ssh-add -l; echo rc=$?")
    assert p.returncode == 0, p.stderr
    assert fp in p.stdout, p.stdout + p.stderr
    assert "rc=0" in p.stdout
    assert _agent_events(g, "allow")
    assert wait_for(lambda: _agent_events(g, "end"), timeout=15)
    end = _agent_events(g, "end")[-1]
    assert end["asset_name"] == "web01"
    assert re.search(r"bytes_in=[1-9]", end["detail"]), end["detail"]


def test_agent_refused_by_default(ghenv, tmp_path):
    g = ghenv
    p, fp = _ssh_with_agent(g, tmp_path, "ssh-add -l; echo rc=$?")
    assert p.returncode == 0, p.stderr
    assert fp not in p.stdout
    assert "rc=2" in p.stdout, p.stdout
    deny = _agent_events(g, "deny")
    assert deny and "allow_agent_forwarding" in deny[-1]["reason"]
