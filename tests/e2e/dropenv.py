"""Gatehouse with the default privilege drop (workers run as the
gatehouse system user) for the e2e tests: the data directory lives under
/var/tmp (reachable by that user), not under pytest's 0700 tmp root.

Use:  from dropenv import drop_tmp, ghenv_drop, gatehouse_drop"""
import os
import shutil
import tempfile

import pytest

from sshenv import Gatehouse, setup_ghenv

__all__ = ["drop_tmp", "gatehouse_drop", "ghenv_drop"]


@pytest.fixture
def drop_tmp():
    d = tempfile.mkdtemp(prefix="gh-e2e-", dir="/var/tmp")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def gatehouse_drop(gh_bin, drop_tmp, target):
    g = Gatehouse(gh_bin, drop_tmp, target, drop=True)
    g.start()
    yield g
    rc = g.stop()
    assert rc == 0, f"serve exited {rc}\n{g.read_log()}"


@pytest.fixture
def ghenv_drop(gatehouse_drop, target):
    return setup_ghenv(gatehouse_drop, target)
