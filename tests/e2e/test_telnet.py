"""Telnet targets end to end: a real telnet server (Debian's inetutils
telnetd, started per connection by a small inetd the test runs on a free
loopback port, running /bin/login against a throwaway Unix account) behind
the real gatehouse serve, driven by the real OpenSSH client (pexpect).

inetutils telnetd is used rather than busybox telnetd: it runs as an inetd
service on the accepted socket (no daemon, no fixed port, nothing left
listening), and its /bin/login goes through PAM with a real password, the
failure delay and "Login incorrect" a production target prints."""
import gzip
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pexpect
import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import free_port, ssh_run, ssh_spawn, wait_for, port_open

pytestmark_protocol = True

TN_PROMPT = "TNPROMPT$ "
TN_PROMPT_RE = r"TNPROMPT\$ "
TN_PASSWORD = "Tn-" + "x7Rq-4f9c2b1e8a"

# accept, fork /usr/sbin/telnetd with the socket as stdin/stdout/stderr;
# each child's pid goes to PIDFILE (a test kills one mid-session)
INETD = r"""
import os, signal, socket, sys
port, pidfile = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    pid = os.fork()
    if pid == 0:
        s.close()
        for fd in (0, 1, 2):
            os.dup2(c.fileno(), fd)
        os.execv("/usr/sbin/telnetd", ["telnetd", "-h"])
    with open(pidfile, "a") as f:
        f.write(f"{pid}\n")
    c.close()
"""


@pytest.fixture(scope="module")
def tn_user():
    """A throwaway Unix account with a known password and a recognisable
    prompt, removed afterwards."""
    name = "ghtn" + uuid.uuid4().hex[:8]
    subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True, capture_output=True)
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{TN_PASSWORD}\n", text=True, check=True,
                       capture_output=True)
        home = os.path.expanduser(f"~{name}")
        for rc in (".bashrc", ".bash_profile"):
            with open(os.path.join(home, rc), "w") as f:
                f.write(f"PS1='{TN_PROMPT}'\nunset PROMPT_COMMAND\n")
        open(os.path.join(home, ".hushlogin"), "w").close()
        yield name
    finally:
        # its login shells ended with their telnetd (the pty hung up)
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


@pytest.fixture
def telnetd(tmp_path):
    """The inetd with telnetd on a free port; its whole process group (its
    telnetd children) is stopped afterwards."""
    if not os.access("/usr/sbin/telnetd", os.X_OK):
        pytest.fail("/usr/sbin/telnetd missing (inetutils-telnetd, scripts/deps.sh)")
    port = free_port()
    pidfile = str(tmp_path / "telnetd.pids")
    p = subprocess.Popen(["/usr/bin/python3", "-c", INETD, str(port), pidfile],
                         start_new_session=True)
    assert wait_for(lambda: port_open(port), timeout=10), "inetd did not start"
    # the probe's connection is counted before a test starts
    assert wait_for(lambda: os.path.exists(pidfile), timeout=10)
    p.port, p.pidfile = port, pidfile
    yield p
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=10)


@pytest.fixture
def tnenv(ghenv, telnetd, tn_user):
    g = ghenv
    g.cli("asset", "add", "tn01", "--address", "127.0.0.1", "--port", telnetd.port,
          "--protocols", "telnet")
    g.cli("account", "add", "tn01", tn_user, "--password-stdin", stdin=TN_PASSWORD + "\n")
    g.cli("perm", "add", "p-tn", "--user", "alice", "--asset", "tn01", "--protocols", "telnet")
    g.tn_user = tn_user
    g.telnetd = telnetd
    return g


def telnetd_count(g):
    """Connections the telnet server accepted so far (its probe's included)."""
    try:
        return len(open(g.telnetd.pidfile).read().split())
    except FileNotFoundError:
        return 0


def direct(g):
    return f"alice@{g.tn_user}@tn01"


def closed(g, n=1, timeout=20):
    assert wait_for(lambda: len([s for s in g.sessions() if s["ended_at"]]) >= n,
                    timeout=timeout), g.sessions()
    return [s for s in g.sessions() if s["ended_at"]]


def end_events(g, sid):
    """The session's end events (exactly one is expected)."""
    return [e for e in g.events("session") if e["session_id"] == sid and e["result"] == "end"]


def recording_raw(path):
    raw = open(path, "rb").read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def recording_out(path):
    import json
    out = []
    for i, line in enumerate(recording_raw(path).decode("utf-8", "replace").splitlines()):
        if i and line.strip():
            ev = json.loads(line)
            if ev[1] == "o":
                out.append(ev[2])
    return "".join(out)


def test_direct_login_command_window_and_recording(tnenv):
    """Direct login: the password is answered for the user, a command runs,
    stty size is the user's window and follows a resize; the recording
    holds the command and its output but never the password."""
    g = tnenv
    c = ssh_spawn(g, direct(g), password=g.alice_pw, dims=(33, 101), timeout=30)
    c.expect(TN_PROMPT_RE)
    c.sendline("id -un; echo tn-$((40+2))")
    c.expect(g.tn_user + r"\r\n")
    c.expect("tn-42")
    c.expect(TN_PROMPT_RE)
    c.sendline("stty size")
    c.expect(r"33 101\r\n")
    c.expect(TN_PROMPT_RE)
    c.setwinsize(40, 120)

    def resized():  # SIGWINCH travels ssh -> gatehouse -> NAWS -> telnetd
        c.sendline("stty size")
        got = c.expect([r"40 120\r\n", r"33 101\r\n"])
        c.expect(TN_PROMPT_RE)
        return got == 0
    assert wait_for(resized, timeout=10, step=0.2)
    c.sendline("exit")
    c.expect(pexpect.EOF)
    c.close()
    rows = closed(g)
    r = [s for s in rows if s["asset_name"] == "tn01"][0]
    assert r["protocol"] == "telnet" and r["kind"] == "shell", r
    assert r["account"] == g.tn_user
    out = recording_out(r["recording_path"])
    assert "tn-42" in out and "stty size" in out
    assert TN_PASSWORD.encode() not in recording_raw(r["recording_path"])
    # the auditor's replay shows the command and its output, never the password
    rp = g.cli("replay", r["id"], "--speed", "1000", check=0)
    assert "stty size" in rp.stdout and "tn-42" in rp.stdout
    assert TN_PASSWORD not in rp.stdout
    assert TN_PASSWORD not in g.read_log()
    assert len(end_events(g, r["id"])) == 1


def test_menu_lists_and_reaches_telnet_asset(tnenv):
    g = tnenv
    c = ssh_spawn(g, "alice", password=g.alice_pw, dims=(30, 120), timeout=30)
    c.expect("tn01")
    c.send("tn01\r")
    c.expect(TN_PROMPT_RE)
    c.sendline("echo via-menu-$((1+1))")
    c.expect("via-menu-2")
    c.expect(TN_PROMPT_RE)
    c.sendline("exit")
    c.expect("web01")  # back in the menu
    c.send("q\r")
    c.expect(pexpect.EOF)
    c.close()
    rows = closed(g, 2)
    assert any(s["asset_name"] == "tn01" and s["protocol"] == "telnet" for s in rows)


def test_rejected_command_refused_like_ssh(tnenv, tmp_path):
    g = tnenv
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    victim = f"/tmp/ghtn-{uuid.uuid4().hex[:10]}"
    with open(victim, "w") as f:
        f.write("keep\n")
    os.chmod(victim, 0o666)
    os.chmod("/tmp", 0o1777)
    try:
        c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=30)
        c.expect(TN_PROMPT_RE)
        c.sendline(f"rm -f {victim}")
        c.expect("rejected by command filter no-danger")
        c.expect(TN_PROMPT_RE)
        c.sendline("exit")
        c.expect(pexpect.EOF)
        c.close()
        assert os.path.exists(victim)
        ev = [(e["method"], e["result"]) for e in g.events("command")]
        assert ("interactive", "reject") in ev
    finally:
        os.unlink(victim)


def test_exec_and_sftp_refused(tnenv):
    """An exec (a command, scp) and the sftp subsystem to a telnet asset are
    refused with a word saying why, audited, and never reach the target."""
    g = tnenv
    n0 = telnetd_count(g)
    p = ssh_run(g, direct(g), "id", password=g.alice_pw)
    assert p.returncode != 0
    assert "tn01 is a telnet asset" in p.stderr + p.stdout, p
    p = ssh_run(g, direct(g), "sftp", password=g.alice_pw, extra=("-s",))
    assert p.returncode != 0
    assert "file transfer (sftp) refused" in p.stderr + p.stdout, p
    rows = closed(g, 2)
    assert all(r["close_reason"] == "telnet asset: shell only" for r in rows), rows
    deny = [e for e in g.events("policy") if e["result"] == "deny"]
    assert len(deny) == 2 and all(e["reason"] == "telnet asset: shell only" for e in deny), deny
    # nothing reached the telnet server
    assert telnetd_count(g) == n0
    # a user not permitted learns nothing of the asset
    g.add_user("mallory", password="mallory-pw-5521")
    p = ssh_run(g, f"mallory@{g.tn_user}@tn01", "id", password="mallory-pw-5521")
    assert p.returncode != 0 and "telnet" not in p.stderr + p.stdout, p


def test_prompts_never_come(ghenv, tn_user):
    """A target that accepts and says nothing: a clear message within the
    login timeout, the row closed with that reason, and its end event."""
    g = ghenv
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # never accepted: the kernel completes the handshake
    port = silent.getsockname()[1]
    try:
        g.write_conf("telnet_login_timeout = 2\n")
        g.cli("asset", "add", "mute01", "--address", "127.0.0.1", "--port", port,
              "--protocols", "telnet")
        g.cli("account", "add", "mute01", tn_user, "--password-stdin", stdin=TN_PASSWORD + "\n")
        g.cli("perm", "add", "p-mute", "--user", "alice", "--asset", "mute01", "--protocols",
              "telnet")
        # the configuration is read at start: restart with the short timeout
        g.stop()
        g.start()
        t0 = time.time()
        c = ssh_spawn(g, f"alice@{tn_user}@mute01", password=g.alice_pw, timeout=30)
        c.expect("telnet login prompt not seen within 2 s")
        c.expect(pexpect.EOF)
        c.close()
        assert time.time() - t0 < 15
        r = closed(g)[0]
        assert r["close_reason"] == "telnet login prompt not seen within 2 s", r
        ends = end_events(g, r["id"])
        assert len(ends) == 1 and ends[0]["reason"] == r["close_reason"], ends
        assert any(e["kind"] == "telnet" and e["result"] == "failure" and
                   e["session_id"] == r["id"] for e in g.events()), g.events()
    finally:
        silent.close()


def test_wrong_stored_password_refused(tnenv):
    g = tnenv
    g.cli("account", "del", "tn01", g.tn_user)
    g.cli("account", "add", "tn01", g.tn_user, "--password-stdin", stdin="not-the-password\n")
    c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=40)
    c.expect("telnet login incorrect")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus != 0
    r = closed(g)[0]
    assert r["close_reason"] == "telnet login incorrect", r
    assert any(e["kind"] == "telnet" and e["result"] == "failure" and
               e["session_id"] == r["id"] for e in g.events()), g.events()
    assert len(end_events(g, r["id"])) == 1
    assert "not-the-password" not in g.read_log()


def test_target_dies_mid_session(tnenv):
    g = tnenv
    c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=30)
    c.expect(TN_PROMPT_RE)
    c.sendline("echo before-$((3*3))")
    c.expect("before-9")
    c.expect(TN_PROMPT_RE)
    pids = [int(x) for x in open(g.telnetd.pidfile).read().split()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)  # the telnetd of this connection
        except ProcessLookupError:
            pass
    c.expect(pexpect.EOF)
    c.close()
    r = closed(g)[0]
    assert r["ended_at"] and r["close_reason"], r
    assert r["close_reason"] == "target closed the channel", r
    # the recording is complete: sealed (its end event), readable to the end
    assert "before-9" in recording_out(r["recording_path"])
    assert len(end_events(g, r["id"])) == 1


def test_live_watch_and_kill(tnenv):
    """A watcher sees the telnet session's screen and live output (never the
    login's exchange nor the password); a kill ends it with its reason."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_live import Watcher, live_session
    g = tnenv
    c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=30)
    c.expect(TN_PROMPT_RE)
    c.sendline("echo seen-$((5*5))")
    c.expect("seen-25")
    c.expect(TN_PROMPT_RE)
    sid = live_session(g)[0]
    w = Watcher(g, "watch", sid)
    w.wait_text("seen-25")  # the screen first
    c.sendline("echo live-$((6*6))")
    c.expect("live-36")
    w.wait_text("live-36")
    p = g.cli("session", "kill", sid, "--reason", "telnet maintenance", check=0)
    assert sid in p.stdout
    c.expect_exact("killed: telnet maintenance")
    c.expect(pexpect.EOF)
    c.close()
    w.finish()
    assert TN_PASSWORD not in w.text()
    r = [s for s in g.sessions() if s["id"] == sid][0]
    assert r["ended_at"] and r["close_reason"] == "killed: telnet maintenance", r
    assert len(end_events(g, sid)) == 1


def test_prompts_set_per_asset(tnenv):
    """asset set --login-prompt/--shell-prompt: a pattern that does not
    compile is refused naming the option; the asset's own patterns are the
    ones used (a shell prompt that never matches: the login is not taken as
    done); "" goes back to the default."""
    g = tnenv
    p = g.cli("asset", "set", "tn01", "--login-prompt", "(", check=2)
    assert "bad --login-prompt" in p.stderr, p.stderr
    g.write_conf("telnet_login_timeout = 3\n")
    g.stop()
    g.start()
    g.cli("asset", "set", "tn01", "--login-prompt", r"(?i)login:\s*$", "--shell-prompt",
          r"NEVER-THERE>$")
    import json
    shown = json.loads(g.cli("asset", "show", "tn01", "--json").stdout)["telnet_prompts"]
    assert shown == {"login": r"(?i)login:\s*$", "password": None, "shell": "NEVER-THERE>$"}
    assert "NEVER-THERE>$" in g.cli("asset", "show", "tn01").stdout
    c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=30)
    c.expect("telnet shell prompt not seen within 3 s")
    c.expect(pexpect.EOF)
    c.close()
    g.cli("asset", "set", "tn01", "--shell-prompt", "")
    c = ssh_spawn(g, direct(g), password=g.alice_pw, timeout=30)
    c.expect(TN_PROMPT_RE)
    c.sendline("exit")
    c.expect(pexpect.EOF)
    c.close()
    rows = closed(g, 2)
    assert [r["close_reason"] for r in rows][0] == "telnet shell prompt not seen within 3 s"
