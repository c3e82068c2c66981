"""Fixtures for tests that need the Gatehouse data directory in a place of
their own that the workers' user can reach (drop_tmp): for files a test puts
next to the data directory (symlinks, log files). The privilege drop itself
is the default of every Gatehouse (sshenv.py); gatehouse_drop and ghenv_drop
are kept as names for it.

Use:  from dropenv import drop_tmp, ghenv_drop, gatehouse_drop"""
import shutil

import pytest

from sshenv import Gatehouse, reachable_tmp, setup_ghenv

__all__ = ["drop_tmp", "gatehouse_drop", "ghenv_drop"]


@pytest.fixture
def drop_tmp():
    d = reachable_tmp()
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
