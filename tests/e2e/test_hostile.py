"""Hostile input at the front door, bounded and on loopback: a failed-login
flood from several source addresses and many source ports (per-source
penalties, the password gate, every attempt accounted for, a legitimate
user still served, the master not growing), slowloris pre-auth
connections (max_startups, per_source_max_startups, login_grace_time), and
oversized names and channel requests (refused cleanly, logged, nothing
crashes). The 10,000-attempt figure is bench/hostile_bench.py's."""
import re
import statistics
import time

import paramiko
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from dropenv import *  # noqa: F401,F403 (fixtures: ghenv_drop, gatehouse_drop)
from sshenv import UNIX_DEPLOY, ssh_run, wait_for
from flood import SlowClients, attempt_connection, flood_result, proc_usage, spawn_flood

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
SOURCES = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]


def login_time(g):
    t0 = time.monotonic()
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw, timeout=120)
    assert p.returncode == 0, p.stderr
    return time.monotonic() - t0


def refused_logged(g):
    return sum(int(n) for n in re.findall(r"refused (\d+) connections? in the last", g.read_log()))


def reload_conf(g, extra):
    """SIGHUP with EXTRA; returns once the web processes, which a reload
    restarts (their channels to the master with them), serve again."""
    g.write_conf(extra)
    log = g.read_log()
    n, web = log.count("configuration reloaded"), log.count("web: serving")
    g.proc.send_signal(__import__("signal").SIGHUP)
    assert wait_for(lambda: g.read_log().count("configuration reloaded") > n, timeout=10)
    assert wait_for(lambda: g.read_log().count("web: serving") >= 2 * web, timeout=20), \
        g.read_log()[-2000:]


@pytest.mark.serial  # a 1,000-connection flood: alone on the machine
def test_failed_login_flood(ghenv_drop):
    g = ghenv_drop
    reload_conf(g, "per_source_penalty_failures = 10\nper_source_penalty_time = 60\n")
    base = statistics.median(login_time(g) for _ in range(3))
    rss0, fds0 = proc_usage(g.proc.pid)

    attempts = 1000  # connections with one wrong password each
    flood = spawn_flood(g.port, attempts, SOURCES, threads_per_source=3)
    during = []
    for _ in range(5):
        if flood.poll() is not None:
            break
        during.append(login_time(g))
    res = flood_result(flood, timeout=600)
    assert res["connections"] == attempts, res

    # per-source limits kicked in: most connections refused before the banner
    assert res["refused"] > attempts // 2, res
    assert re.search(r"127\.0\.0\.[2-5]: 10 failed logins: refused for 60 s", g.read_log())
    # every attempt is accounted for: each answered one is a login event,
    # each refused one is counted in the master's log
    def fails():
        return [e for e in g.events("login") if e["result"] == "failure"
                and e["source"].split(":")[0] in SOURCES]
    # a worker may still be writing its event when the client has its answer
    assert wait_for(lambda: len(fails()) >= res["attempts"], timeout=60), (len(fails()), res)
    assert len(fails()) == res["attempts"], (len(fails()), res)
    assert res["attempts"] + res["refused"] == attempts, res
    assert wait_for(lambda: refused_logged(g) >= res["refused"], timeout=30), g.read_log()[-3000:]
    assert refused_logged(g) == res["refused"]

    # the legitimate user, from another address, is still served in time
    # (generous bound here; bench/hostile_bench.py measures it precisely)
    during += [login_time(g) for _ in range(2)]
    med = statistics.median(during)
    assert med <= max(2 * base, base + 2.0), (base, during)
    # the master did not grow: same descriptors, little memory
    rss1, fds1 = proc_usage(g.proc.pid)
    assert fds1 <= fds0 + 1, (fds0, fds1)
    assert rss1 - rss0 < 8 * 1024, (rss0, rss1)
    assert "killed by signal" not in g.read_log()


def test_slowloris_capped_and_dropped(ghenv_drop):
    g = ghenv_drop
    reload_conf(g, "max_startups = 12\nper_source_max_startups = 4\nlogin_grace_time = 4\n")
    silent = SlowClients(g.port, "127.0.0.2", 6)
    drip = SlowClients(g.port, "127.0.0.3", 4, drip=True)
    others = [SlowClients(g.port, f"127.0.0.{i}", 4) for i in (4, 5)]
    try:
        # per source: 4 get a banner, the rest are closed at once
        assert silent.open() == 4
        assert drip.open() == 4
        assert wait_for(lambda: silent.closed_count() >= 2, timeout=10)
        # the whole: 12 unauthenticated connections at most
        got = sum(o.open() for o in others)
        assert got == 4, got
        assert "per_source_max_startups reached" in g.read_log()
        assert "max_startups reached" in g.read_log()
        # login_grace_time ends them all, the byte-a-second ones too
        everyone = [silent, drip] + others
        assert wait_for(lambda: all(c.closed_count() == len(c.socks) for c in everyone),
                        timeout=30), [c.closed_count() for c in everyone]
        # and the door is open again
        p = ssh_run(g, DIRECT, "echo after-slowloris", password=g.alice_pw)
        assert p.returncode == 0 and p.stdout == "after-slowloris\n", p.stderr
    finally:
        for c in (silent, drip, *others):
            c.close()


def paramiko_client(g, user="alice"):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port=g.port, username=user, password=g.alice_pw,
              look_for_keys=False, allow_agent=False, timeout=20, banner_timeout=20,
              auth_timeout=20)
    return c


def refused_request(g, setup):
    """Open a session channel and apply setup(chan); True when the server
    refused the request (SSHException), False when it accepted it."""
    c = paramiko_client(g, DIRECT)
    try:
        ch = c.get_transport().open_session(timeout=20)
        try:
            setup(ch)
        except paramiko.SSHException:
            return True
        return False
    finally:
        c.close()


def test_oversized_input_refused_cleanly(ghenv_drop):
    g = ghenv_drop
    # a 64 KiB login name: refused like any bad login, no crash
    done, refused = attempt_connection(g.port, "127.0.0.6", "u" * 65536, "x", 1)
    assert (done, refused) == (1, False)
    assert any(e["reason"] == "login name changed" or e["reason"] == "malformed login name"
               or e["reason"] == "unknown user" for e in g.events("login")), g.events("login")
    assert refused_request(g, lambda ch: ch.get_pty(term="x" * 4096))
    assert refused_request(g, lambda ch: ch.exec_command("echo " + "A" * 200000))
    assert refused_request(g, lambda ch: ch.invoke_subsystem("s" * 8192))
    # env values: refused (no reply asked), the exec after them still runs
    def env_then_exec(ch):
        ch.set_environment_variable("LANG", "C" * 100000)
        ch.exec_command("echo env-ok")
        assert ch.recv(100) == b"env-ok\n"
    assert not refused_request(g, env_then_exec)
    log = g.read_log()
    for what in ("refused pty request", "refused exec request", "refused subsystem request",
                 "refused env request"):
        assert what in log, what
    assert "killed by signal" not in log
    # the server keeps serving
    p = ssh_run(g, DIRECT, "echo still-serving", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "still-serving\n"
