"""What a password attempt reveals: it costs one Argon2id verification
whoever the user is."""
import statistics
import time

import paramiko
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import running_gatehouse, setup_ghenv


def transport(g):
    t = paramiko.Transport(("127.0.0.1", g.port))
    t.start_client(timeout=10)
    return t


def attempt_s(g, login, password):
    """Seconds the answer to one password attempt took (a new connection)."""
    t = transport(g)
    try:
        start = time.monotonic()
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_password(login, password)
        return time.monotonic() - start
    finally:
        t.close()


@pytest.fixture
def quiet_env(gh_bin, tmp_path, target):
    """ghenv where failures from 127.0.0.1 are never refused."""
    with running_gatehouse(gh_bin, tmp_path, target,
                           "per_source_penalty_failures = 0\n") as g:
        yield setup_ghenv(g, target)


def test_password_timing_same_for_key_only_users(quiet_env, keygen):
    """Guards item 8: a password attempt for a user with no password was
    answered about 100 ms sooner than one for an unknown user or a wrong
    password (no Argon2id was run), telling key-only users apart (fails
    without the fix: key-only median about a third of the others)."""
    g = quiet_env
    _, pub = keygen("kate")
    g.add_user("kate", key_pub=pub)
    times = {"key-only": [], "unknown": [], "wrong": []}
    logins = {"key-only": "kate", "unknown": "nobody-here", "wrong": "alice"}
    for _ in range(5):  # interleaved: a busy machine slows every kind alike
        for kind, login in logins.items():
            times[kind].append(attempt_s(g, login, "not-the-password"))
    med = {k: statistics.median(v) for k, v in times.items()}
    assert med["key-only"] >= 0.7 * med["unknown"], med
    assert med["key-only"] >= 0.7 * med["wrong"], med
    reasons = [e["reason"] for e in g.events("login") if e["user_name"] == "kate"]
    assert reasons == ["no password set"] * 5, reasons
