"""What one user can make Gatehouse run, and what a password attempt
reveals: max_sessions_per_user counts every process working for a user
(connections, inner ProxyJump workers, forwards opened from an asset)
across all their connections; a password attempt costs one Argon2id
verification whoever the user is."""
import contextlib
import os
import statistics
import subprocess
import time

import paramiko
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, running_gatehouse, setup_ghenv, ssh_args, wait_for


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


@pytest.mark.serial  # a timing comparison: alone on the machine
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


# -- max_sessions_per_user ------------------------------------------------------

LIMIT_CONF = "max_sessions_per_user = 3\nper_source_penalty_failures = 0\n"


@pytest.fixture
def limited(gh_bin, tmp_path, target):
    with running_gatehouse(gh_bin, tmp_path, target, LIMIT_CONF) as g:
        yield setup_ghenv(g, target)


def login(g, name="alice"):
    t = transport(g)
    t.auth_password(name, g.alice_pw)
    return t


def jump(t, g):
    """A ProxyJump channel to web01's SSH port (an inner worker)."""
    return t.open_channel("direct-tcpip", ("web01", g.target.port), ("127.0.0.1", 0), timeout=10)


def ssh_run_loglevel_info(g, login, *command):
    """ssh_run with ssh's default LogLevel (INFO: banners shown)."""
    env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
               GH_TEST_PASSWORD=g.alice_pw, DISPLAY=":0")
    env.pop("SSH_AUTH_SOCK", None)
    args = [a if a != "LogLevel=ERROR" else "LogLevel=INFO" for a in ssh_args(g, login, *command)]
    args[1:1] = ["-o", "NumberOfPasswordPrompts=1"]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60,
                          stdin=subprocess.DEVNULL, start_new_session=True)


def refusals(g, kind):
    return [e for e in g.events(kind) if e["result"] in ("deny", "failure")
            and "max_sessions_per_user" in (e["reason"] or "")]


def test_jumps_and_connections_count_per_user(limited):
    """Guards item 12: inner ProxyJump workers were not counted; one user
    could fork 256 per connection (fails without the fix: every jump is
    accepted). With max_sessions_per_user 3: one connection and two jumps,
    then the next jump and the next connection are refused and audited; the
    count goes down when a jump closes."""
    g = limited
    with contextlib.ExitStack() as stack:
        t = login(g)
        stack.callback(t.close)
        j1 = jump(t, g)
        j2 = jump(t, g)
        with pytest.raises(paramiko.ChannelException):
            jump(t, g)
        ev = refusals(g, "jump")
        assert len(ev) == 1 and ev[0]["user_name"] == "alice", g.events("jump")
        assert "too many sessions" in ev[0]["reason"], ev
        # a new connection of the same user: refused with one line (a
        # banner, which ssh shows at its default LogLevel INFO)
        p = ssh_run_loglevel_info(g, "alice", "true")
        assert p.returncode == 255, p
        assert "gatehouse: too many sessions for alice (max_sessions_per_user 3)" in p.stderr, \
            p.stderr
        assert len(refusals(g, "login")) == 1, g.events("login")
        # another user is not affected
        g.add_user("bob", password=g.alice_pw)
        login(g, "bob").close()
        # one jump closes: a new one is accepted
        j1.close()
        j2.close()

        def reopen():
            try:
                stack.callback(jump(t, g).close)
                return True
            except paramiko.ChannelException:
                return False
        assert wait_for(reopen, timeout=15, step=0.3), refusals(g, "jump")
    assert "max_sessions_per_user" in g.read_log()


def test_forward_helpers_count_per_user(limited, target):
    """Guards item 12: a forward opened from the asset (a forked helper per
    channel) was not counted (fails without the fix: every one accepted)."""
    g = limited
    g.cli("perm", "add", "p-fwd", "--user", "alice", "--asset", "web01", "--actions",
          "connect,forward")
    # a first login pins web01's host key: a forward from the asset needs it
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    t = transport(g)
    try:
        t.auth_password(f"alice@{UNIX_DEPLOY}@web01", g.alice_pw)
        dest = ("localhost", target.port)  # names no asset: opened from web01
        chans = [t.open_channel("direct-tcpip", dest, ("127.0.0.1", 0), timeout=10)
                 for _ in range(2)]
        # each helper is up and connected (the target's sshd greets through
        # it): a helper that died early would have given its place back
        for c in chans:
            c.settimeout(30)
            assert c.recv(64).startswith(b"SSH-2.0-"), "a forward helper is not carrying data"
        with pytest.raises(paramiko.ChannelException):
            t.open_channel("direct-tcpip", dest, ("127.0.0.1", 0), timeout=10)
        assert len(refusals(g, "tunnel")) == 1, g.events("tunnel")
        for c in chans:
            c.close()
    finally:
        t.close()


def test_limit_refusal_is_not_called_a_failure(limited):
    """A login refused by max_sessions_per_user (the right password) is
    logged as that refusal only. Before the fix the worker then logged
    "too many authentication failures" for it, which sent an admin after
    a password guesser that did not exist."""
    g = limited
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            stack.callback(login(g).close)
        p = ssh_run_loglevel_info(g, "alice", "true")
        assert p.returncode == 255 and "max_sessions_per_user 3" in p.stderr, p.stderr
        assert wait_for(lambda: "refused: too many sessions for alice" in g.read_log(),
                        timeout=10), g.read_log()[-2000:]
    assert "too many authentication failures" not in g.read_log(), g.read_log()[-2000:]
