"""Shared pieces of the command filter tests on shells (a shell's input
without a terminal, the interactive terminal filter): the login, the file a
refused `rm` must leave in place and the reject filter on `rm`.

Use:  from cmdfilterenv import DIRECT, REJECTED, victim, danger, pending_request"""
import json
import os
import shutil
import uuid

import pytest

from sshenv import UNIX_DEPLOY, wait_for

__all__ = ["DIRECT", "REJECTED", "victim", "danger", "pending_request"]

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
REJECTED = "rejected by command filter no-danger"


@pytest.fixture
def victim():
    """A file the target account could delete: /tmp/ghcf-*/x (its directory
    owned by the account, so `rm` would succeed if it ran)."""
    d = f"/tmp/ghcf-{uuid.uuid4().hex[:12]}"
    os.mkdir(d)
    shutil.chown(d, UNIX_DEPLOY, UNIX_DEPLOY)
    path = os.path.join(d, "x")
    with open(path, "w") as f:
        f.write("keep\n")
    shutil.chown(path, UNIX_DEPLOY, UNIX_DEPLOY)
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def danger(ghenv):
    """A reject filter (no-danger) on the command group danger (rm)."""
    g = ghenv
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    return g


def pending_request(g, timeout=30):
    """The first review request of G (`request list --json`), once one is
    filed (fails after TIMEOUT seconds with the server log)."""
    found = {}

    def check():
        p = g.cli("request", "list", "--json", check=None)
        v = json.loads(p.stdout) if p.returncode == 0 else []
        if v:
            found.update(v[0])
        return bool(v)

    assert wait_for(check, timeout=timeout), g.read_log()
    return found
