"""Shared fixtures for end-to-end tests: the gatehouse binary, a temporary
data directory and a helper that runs the CLI against it. Kept generic:
feature-specific fixtures live in their own modules (e.g. sshenv.py)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What the end-to-end tests run (scripts/deps.sh installs the packages). A
# missing one fails the run at its start with the list; nothing is skipped.
E2E_PROGRAMS = ("sshd", "ssh", "scp", "sftp", "ssh-keygen", "rsync", "rsyslogd", "ssh-audit",
                "oathtool", "xauth", "setpriv", "runuser", "useradd", "chpasswd", "mount",
                "ps", "ss", "socat")
E2E_MODULES = ("pexpect", "paramiko")


def e2e_missing():
    """What the end-to-end tests need and do not have, as reasons (empty when
    all is there)."""
    import importlib.util
    import shutil
    why = []
    if os.geteuid() != 0:
        why.append("not root (the tests start sshd and create Unix test accounts)")
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    why += [f"program {p} missing (scripts/deps.sh)" for p in E2E_PROGRAMS
            if not shutil.which(p, path=path)]
    why += [f"python module {m} missing for {sys.executable} (scripts/deps.sh)"
            for m in E2E_MODULES if importlib.util.find_spec(m) is None]
    return why


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: measures time or loads the machine; run alone "
                            "(the Makefile runs these after the parallel part)")


def pytest_sessionstart(session):
    why = e2e_missing()
    if why:
        pytest.exit("end-to-end tests cannot run: " + "; ".join(why), returncode=1)


def pytest_collection_modifyitems(config, items):
    """GATEHOUSE_E2E_SUBSET=protocol keeps only the modules that exercise a
    network parser or protocol (a module-level `pytestmark_protocol = True`):
    the sanitizer run gives those a second pass rather than everything."""
    if os.environ.get("GATEHOUSE_E2E_SUBSET") != "protocol":
        return
    keep, drop = [], []
    for item in items:
        marked = getattr(item.module, "pytestmark_protocol", False) is True
        (keep if marked else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip (or an expected failure) is a failure: a test that cannot run
    fails with the reason (docs/CODING_STYLE.md, "Tests"). Measurements live
    in bench/."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped:
        why = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else rep.longrepr
        rep.outcome = "failed"
        rep.longrepr = f"a test never skips, it fails with the reason: {why}"


@pytest.fixture(scope="session")
def gh_bin():
    path = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "build", "gatehouse"))
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.fail(f"gatehouse binary not found at {path} (set GATEHOUSE_BIN)")
    return path


@pytest.fixture
def data_dir(tmp_path):
    """DATA for the CLI. With GATEHOUSE_TEST_DB=postgresql it exists and its
    gatehouse.conf names a database of its own (pgenv.py)."""
    d = tmp_path / "data"
    import pgenv
    if pgenv.test_db_is_pg():
        pgenv.configure_data_dir(str(d))
    return str(d)


@pytest.fixture
def gh_env():
    """Environment for CLI runs: no inherited GATEHOUSE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return env


@pytest.fixture
def gh(gh_bin, data_dir, gh_env):
    """gh(*args, stdin=None, env=None, data=True, check=None) -> CompletedProcess.

    Runs `gatehouse --data DATA_DIR ARGS...` (no --data when data=False) with
    text output. stdin is a str fed to the process (or None for /dev/null).
    env adds or overrides variables. check=N asserts the exit status is N and
    shows stdout/stderr when it is not."""

    def run(*args, stdin=None, env=None, data=True, check=None, timeout=60):
        cmd = [gh_bin] + (["--data", data_dir] if data else []) + [str(a) for a in args]
        e = dict(gh_env)
        if env:
            e.update(env)
        p = subprocess.run(cmd, input=stdin if stdin is not None else "", capture_output=True,
                           text=True, env=e, timeout=timeout)
        if check is not None:
            assert p.returncode == check, (
                f"{' '.join(cmd)} -> {p.returncode} (wanted {check})\n"
                f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    return run


@pytest.fixture
def gh_json(gh):
    """gh_json(*args, **kw) runs gh(...) and returns its stdout parsed as JSON,
    asserting exit status 0 first."""

    def run(*args, **kw):
        p = gh(*args, **kw)
        assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return json.loads(p.stdout)

    return run


@pytest.fixture
def keygen(tmp_path):
    """keygen(name, kind="ed25519", passphrase="", comment="test@gh", extra=())
    -> (private_path, public_path), made by ssh-keygen in the test's tmp dir."""

    def make(name="id_ed25519", kind="ed25519", passphrase="", comment="test@gh", extra=()):
        path = tmp_path / name
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f",
                        str(path), *extra], check=True, capture_output=True)
        return str(path), str(path) + ".pub"

    return make


@pytest.fixture
def ssh_fingerprint():
    """ssh_fingerprint(pub_path) -> "SHA256:..." as ssh-keygen -l prints it."""

    def fp(pub_path):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path], check=True,
                             capture_output=True, text=True).stdout
        return out.split()[1]

    return fp
