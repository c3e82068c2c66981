"""The SSH front door end to end: authentication, direct login, exec, the
relay's flow control, host key pinning, refusals, session rows, recordings
and audit events. Real OpenSSH client -> gatehouse serve -> real sshd."""
import hashlib
import os
import re
import shutil
import subprocess
import time

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, UNIX_OPS, PROMPT_RE, ssh_run, ssh_spawn, upload_check, wait_for

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def closed_sessions(g):
    return [s for s in g.sessions() if s["ended_at"]]


def wait_closed(g, n=1, timeout=15):
    assert wait_for(lambda: len(closed_sessions(g)) >= n, timeout=timeout), g.sessions()
    return closed_sessions(g)


def recording_text(path):
    """Concatenated "o" events of an asciicast v2 file (gzip or plain)."""
    import gzip
    import json
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    out, events = [], []
    for i, line in enumerate(raw.decode("utf-8", "replace").splitlines()):
        if i == 0 or not line.strip():
            continue
        ev = json.loads(line)
        events.append(ev)
        if ev[1] == "o":
            out.append(ev[2])
    return "".join(out), events


def finished_members_text(path):
    """Output text of the gzip members already finished (a live recording)."""
    import json
    import zlib
    data = open(path, "rb").read()
    raw = b""
    while data:
        d = zlib.decompressobj(31)
        chunk = d.decompress(data)
        if not d.eof:
            break  # the member being written
        raw += chunk
        data = d.unused_data
    out = []
    for line in raw.decode("utf-8", "replace").splitlines()[1:]:
        ev = json.loads(line)
        if ev[1] == "o":
            out.append(ev[2])
    return "".join(out)


# -- exec -------------------------------------------------------------------

def test_exec_exit_status_and_output(ghenv):
    g = ghenv
    p = ssh_run(g, DIRECT, "echo out-$((40+2)); echo err-1 >&2; exit 0", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "out-42\n"
    assert "err-1" in p.stderr
    p = ssh_run(g, DIRECT, "exit 3", password=g.alice_pw)
    assert p.returncode == 3, p.stderr
    # a signal: OpenSSH's client exits 255 on exit-signal
    p = ssh_run(g, DIRECT, "kill -TERM $$", password=g.alice_pw)
    assert p.returncode == 255, (p.returncode, p.stderr)
    rows = wait_closed(g, 3)
    by_status = sorted((r["exit_status"], r["exit_signal"]) for r in rows)
    assert (0, None) in by_status and (3, None) in by_status
    assert any(sig == "TERM" for _, sig in by_status), by_status
    for r in rows:
        assert r["user_name"] == "alice" and r["asset_name"] == "web01"
        assert r["account"] == UNIX_DEPLOY and r["kind"] == "exec"
        assert r["worker_pid"] > 0 and r["close_reason"]


def test_exec_stdin_eof_and_integrity(ghenv):
    """16 MiB up and down through the relay, byte exact, EOF passed on."""
    g = ghenv
    upload_check(g, DIRECT, os.urandom(16 << 20), password=g.alice_pw, timeout=120)
    p = ssh_run(g, DIRECT, "head -c 33554432 /dev/zero", password=g.alice_pw, text=False,
                timeout=120)
    assert p.returncode == 0 and len(p.stdout) == 32 << 20 and p.stdout.count(0) == 32 << 20
    rows = wait_closed(g, 2)
    assert max(r["bytes_in"] for r in rows) == 16 << 20
    assert max(r["bytes_out"] for r in rows) == 32 << 20


# -- authentication ---------------------------------------------------------

def test_key_auth(ghenv, keygen):
    g = ghenv
    priv, pub = keygen("alice_key")
    other, _ = keygen("other_key")
    g.cli("user", "key", "add", "alice", "--key-file", pub)
    p = ssh_run(g, DIRECT, "id -un", key=priv)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == UNIX_DEPLOY
    p = ssh_run(g, DIRECT, "id -un", key=other)
    assert p.returncode == 255 and "Permission denied" in p.stderr
    ev = g.events("login")
    assert any(e["method"] == "publickey" and e["result"] == "success" for e in ev)
    assert any(e["method"] == "publickey" and e["result"] == "failure"
               and e["reason"] == "key not registered" for e in ev)


def test_key_auth_to_target_with_stored_private_key(ghenv):
    g = ghenv
    p = ssh_run(g, f"alice@{UNIX_OPS}@web01", "id -un", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == UNIX_OPS


def test_wrong_password_unknown_user_disabled_user(ghenv):
    g = ghenv
    g.add_user("bob", password="bob-pw-1234")
    g.add_perm("p-bob", "bob", "web01")
    g.cli("user", "disable", "bob")
    outs = []
    for login, pw in ((DIRECT, "wrong"), ("nobody@web01", "x"), (f"bob@{UNIX_DEPLOY}@web01",
                                                                  "bob-pw-1234")):
        p = ssh_run(g, login, "true", password=pw, extra=("-o", "NumberOfPasswordPrompts=1"))
        assert p.returncode == 255
        outs.append(p.stderr.replace(login, "LOGIN"))
    # the same generic refusal whatever the cause
    assert all("Permission denied" in o for o in outs), outs
    assert len(set(outs)) == 1, outs
    assert outs[0].strip() == "LOGIN@127.0.0.1: Permission denied (publickey,password)."
    reasons = {(e["user_name"], e["reason"]) for e in g.events("login") if e["result"] == "failure"}
    assert (DIRECT, "bad password") in reasons or ("alice", "bad password") in reasons, reasons
    assert any(r == "unknown user" for _, r in reasons)
    assert any(r == "disabled" for _, r in reasons)
    assert not g.sessions()


def test_max_auth_tries_disconnects(ghenv):
    g = ghenv
    g.write_conf("max_auth_tries = 2\n")
    g.proc.send_signal(__import__("signal").SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in g.read_log(), timeout=10)
    p = ssh_run(g, DIRECT, "true", password="wrong",
                extra=("-o", "NumberOfPasswordPrompts=5"))
    assert p.returncode == 255
    fails = [e for e in g.events("login") if e["result"] == "failure"]
    assert len(fails) == 2, fails


# -- direct login with a terminal ----------------------------------------------

def test_direct_login_with_terminal_and_resize(ghenv):
    g = ghenv
    c = ssh_spawn(g, DIRECT, password=g.alice_pw, dims=(24, 80))
    c.expect(PROMPT_RE)
    c.sendline("stty size; echo MARK-$((6*7))")
    c.expect("24 80")
    c.expect("MARK-42")
    c.expect(PROMPT_RE)
    c.setwinsize(40, 132)

    def resized():  # the new size reaches the target's terminal through ssh, gatehouse, sshd
        c.sendline("stty size")
        seen = c.expect(["40 132", "24 80"])
        c.expect(PROMPT_RE)
        return seen == 0

    assert wait_for(resized, timeout=10)
    c.sendline("exit 7")
    c.expect(__import__("pexpect").EOF)
    c.close()
    assert c.exitstatus == 7
    rows = wait_closed(g)
    r = rows[0]
    assert r["kind"] == "shell" and r["exit_status"] == 7
    text, events = recording_text(r["recording_path"])
    assert "MARK-42" in text and "40 132" in text
    assert any(e[1] == "r" for e in events), "no resize event in the recording"


def test_paste_1mib_through_terminal(ghenv):
    """A 1 MiB paste into `cat > file` arrives intact (flow control both ways:
    the target echoes it all back)."""
    import base64
    g = ghenv
    data = base64.encodebytes(os.urandom(768 * 1024)).decode()  # ~1 MiB of 77-byte lines
    assert len(data) >= 1 << 20
    c = ssh_spawn(g, DIRECT, password=g.alice_pw, timeout=60)
    c.expect(PROMPT_RE)
    # the paste starts once echo is off (cat then reads what the terminal holds)
    c.sendline(f"stty -echo; echo ECHO-OFF-$((6*7)); cat > /tmp/gh-paste-{os.getpid()}.txt; stty echo")
    c.expect("ECHO-OFF-42")
    for i in range(0, len(data), 16384):
        c.send(data[i:i + 16384])
    c.sendcontrol("d")
    c.expect(PROMPT_RE)
    c.sendline(f"sha256sum < /tmp/gh-paste-{os.getpid()}.txt; rm -f /tmp/gh-paste-{os.getpid()}.txt")
    c.expect(r"([0-9a-f]{64})")
    assert c.match.group(1) == hashlib.sha256(data.encode()).hexdigest()
    c.expect(PROMPT_RE)
    c.sendline("exit")
    c.expect(__import__("pexpect").EOF)
    c.close()


def test_recording_replays_what_the_user_saw(ghenv):
    g = ghenv
    p = ssh_run(g, DIRECT, "printf 'line-one\\nline-two %s\\n' $((7*6))", password=g.alice_pw)
    assert p.returncode == 0
    r = wait_closed(g)[0]
    assert r["recording_path"] and os.path.exists(r["recording_path"])
    text, _ = recording_text(r["recording_path"])
    assert text.replace("\r\n", "\n") == p.stdout == "line-one\nline-two 42\n"
    # the auditor's replay prints the same bytes
    rp = g.cli("replay", r["id"], "--speed", "1000", check=0)
    assert rp.stdout.replace("\r\n", "\n") == p.stdout


def test_binary_output_recorded_byte_for_byte(ghenv):
    """Binary output of a command without a terminal: "b" events (base64),
    replayed byte for byte."""
    import base64
    g = ghenv
    p = ssh_run(g, DIRECT, "echo start; head -c 300000 /dev/urandom", password=g.alice_pw,
                text=False, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith(b"start\n") and len(p.stdout) == 300006
    r = wait_closed(g)[0]
    _, events = recording_text(r["recording_path"])
    binary = b"".join(base64.b64decode(e[2]) for e in events if e[1] == "b")
    assert len(binary) > 250000 and binary in p.stdout
    rp = subprocess.run([g.bin, "--data", g.data, "replay", r["id"], "--speed", "1000"],
                        capture_output=True, env=g.env, timeout=60)
    assert rp.returncode == 0 and rp.stdout == p.stdout


def test_interactive_session_replays_the_screen(ghenv):
    g = ghenv
    import io
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    screen = io.StringIO()
    c.logfile_read = screen  # everything the user's terminal received from here on
    c.expect(PROMPT_RE)
    c.sendline("for i in 1 2 3; do echo row-$i-$((i*11)); done")
    c.expect("row-3-33")
    c.expect(PROMPT_RE)
    seen = screen.getvalue()
    c.sendline("exit")
    c.expect(__import__("pexpect").EOF)
    c.close()
    r = wait_closed(g)[0]
    rp = g.cli("replay", r["id"], "--speed", "1000", check=0)
    for line in ("row-1-11", "row-2-22", "row-3-33"):
        assert line in rp.stdout and line in seen
    # what the user saw from the command on is part of the replay (the CLI's
    # output is read in text mode, which turns \r\n and \r into \n: do the same)
    tail = seen[seen.index("for i in"):].replace("\r\n", "\n").replace("\r", "\n")
    assert tail in rp.stdout


# -- refusals ----------------------------------------------------------------

def test_not_permitted_same_as_nonexistent(ghenv):
    g = ghenv
    g.add_asset("db01")
    g.add_account("db01", UNIX_DEPLOY)
    p1 = ssh_run(g, f"alice@{UNIX_DEPLOY}@db01", "true", password=g.alice_pw)
    p2 = ssh_run(g, f"alice@{UNIX_DEPLOY}@nosuch", "true", password=g.alice_pw)
    p3 = ssh_run(g, "alice@root@web01", "true", password=g.alice_pw)
    for p in (p1, p2, p3):
        assert p.returncode != 0
        assert p.stderr.strip() == "not permitted", p.stderr
    pol = [e for e in g.events("policy") if e["result"] == "deny"]
    assert {e["asset_name"] for e in pol} >= {"db01", "nosuch", "web01"}
    assert any(e["reason"] == "no such asset" for e in pol)


def test_permission_outside_validity_window(ghenv):
    g = ghenv
    g.add_user("carol", password="carol-pw-1234")
    g.add_perm("p-carol-old", "carol", "web01", until="2001-01-01")
    g.add_perm("p-carol-future", "carol", "web01", valid_from="2099-01-01")
    p = ssh_run(g, f"carol@{UNIX_DEPLOY}@web01", "true", password="carol-pw-1234")
    assert p.returncode != 0 and p.stderr.strip() == "not permitted"
    g.add_perm("p-carol-now", "carol", "web01", valid_from="2001-01-01", until="2099-01-01")
    p = ssh_run(g, f"carol@{UNIX_DEPLOY}@web01", "echo ok", password="carol-pw-1234")
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr


def test_user_at_asset_needs_a_choice_without_terminal(ghenv):
    g = ghenv
    p = ssh_run(g, "alice@web01", "true", password=g.alice_pw)
    assert p.returncode != 0 and "several accounts" in p.stderr
    g.add_user("dave", password="dave-pw-1234")
    g.add_perm("p-dave", "dave", "web01", account=UNIX_OPS)
    p = ssh_run(g, "dave@web01", "id -un", password="dave-pw-1234")
    assert p.returncode == 0 and p.stdout.strip() == UNIX_OPS, p.stderr


def test_target_down(ghenv):
    from sshenv import free_port
    g = ghenv
    g.add_asset("dead01", port=free_port())
    g.add_account("dead01", UNIX_DEPLOY)
    g.add_perm("p-dead", "alice", "dead01")
    t0 = time.time()
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@dead01", "true", password=g.alice_pw)
    assert time.time() - t0 < 10
    assert p.returncode != 0
    assert p.stderr.strip() == "dead01: connection refused", p.stderr
    r = wait_closed(g)[0]
    assert r["close_reason"] == "connection refused"


def test_host_key_pinned_then_changed(ghenv, target):
    g = ghenv
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    shown = g.cli("asset", "show", "web01", "--json").stdout
    assert target.host_key_line().split()[1] in shown
    # a second asset preset with a key the target does not have
    other = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(g.tmp, "fake_hk")], check=True)
    fake = " ".join(open(os.path.join(g.tmp, "fake_hk.pub")).read().split()[:2])
    g.add_asset("web02", host_key=fake)
    g.add_account("web02", UNIX_DEPLOY)
    g.add_perm("p-web02", "alice", "web02")
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web02", "true", password=g.alice_pw)
    assert p.returncode != 0
    assert p.stderr.strip() == ("host key of web02 changed; connection refused, "
                                "an administrator must verify it")
    ev = g.events("hostkey")
    assert any(e["asset_name"] == "web01" and e["result"] == "pinned" for e in ev)
    assert any(e["asset_name"] == "web02" and e["result"] == "mismatch" for e in ev)


def test_no_target_given_without_terminal(ghenv):
    g = ghenv
    p = ssh_run(g, "alice", "true", password=g.alice_pw)
    assert p.returncode == 1 and "no target given" in p.stderr


# -- worker death, secrets -------------------------------------------------------

def test_worker_killed_mid_session(ghenv):
    g = ghenv
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    c.sendline("echo BEFORE-KILL-$((1+1))")
    c.expect("BEFORE-KILL-2")
    c.expect(PROMPT_RE)
    # wait until the recorder has finished the gzip member holding the output
    path = next(r["recording_path"] for r in g.sessions() if r["recording_path"])
    assert wait_for(lambda: "BEFORE-KILL-2" in finished_members_text(path), timeout=10)
    pids = g.worker_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], 9)
    c.expect(__import__("pexpect").EOF, timeout=15)
    c.close()
    rows = wait_closed(g)
    r = rows[0]
    assert r["close_reason"] == "worker killed by signal 9"
    text, _ = recording_text(r["recording_path"])
    assert "BEFORE-KILL-2" in text
    # the master lives on
    p = ssh_run(g, DIRECT, "echo still-here", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "still-here\n"


def test_no_secret_anywhere(ghenv, target):
    g = ghenv
    secret = target.passwords[UNIX_DEPLOY]
    p = ssh_run(g, DIRECT, "echo done", password=g.alice_pw)
    assert p.returncode == 0
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    c.sendline("exit")
    c.expect(__import__("pexpect").EOF)
    seen = c.before or ""
    c.close()
    ssh_run(g, f"alice@{UNIX_DEPLOY}@nosuch", "true", password=g.alice_pw)
    wait_closed(g, 2)
    assert secret not in p.stdout + p.stderr + seen
    for root, _, files in os.walk(g.tmp):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                blob = fh.read()
            assert secret.encode() not in blob, f"account password found in {path}"
            assert g.alice_pw.encode() not in blob or f == "askpass.sh", path


# -- sftp ---------------------------------------------------------------------

def _sftp(g, key, login, batch):
    return subprocess.run(
        ["sftp", "-F", "/dev/null", "-P", str(g.port), "-i", key,
         "-o", f"UserKnownHostsFile={g.known_hosts}", "-o", "StrictHostKeyChecking=accept-new",
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
         "-b", "-", f"{login}@127.0.0.1"],
        input=batch, capture_output=True, text=True, timeout=60, start_new_session=True)


def _target_dir(tag):
    """A fresh directory on the target (this machine) owned by the deploy account."""
    import pwd
    import shutil
    d = f"/tmp/gh-sftp-{tag}-{os.getpid()}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    pw = pwd.getpwnam(UNIX_DEPLOY)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def _detail(e):
    return e["detail"] or ""


def test_sftp_per_file_actions(ghenv, keygen, tmp_path):
    """sftp needs only connect; each file operation is then checked against
    the actions of the permission: with connect,download a get works, a put
    and an rm are refused with a permission error while the session goes on,
    and every decision is a "file" event."""
    import shutil
    g = ghenv
    d = _target_dir("perm")
    try:
        with open(f"{d}/src.txt", "w") as f:
            f.write("from the target\n")
        src = tmp_path / "up.txt"
        src.write_text("must not arrive\n")
        bpriv, bpub = keygen("bob_key")
        g.add_user("bob", key_pub=bpub)
        g.cli("perm", "add", "p-bob", "--user", "bob", "--asset", "web01", "--actions",
              "connect,download")
        p = _sftp(g, bpriv, f"bob@{UNIX_DEPLOY}@web01",
                  f"get {d}/src.txt {tmp_path}/a.txt\n"
                  f"-put {src} {d}/up.txt\n"
                  f"get {d}/src.txt {tmp_path}/b.txt\n"
                  f"-rm {d}/src.txt\n"
                  f"ls {d}\n")
        assert p.returncode == 0, p.stderr
        assert "Permission denied" in p.stderr, p.stderr
        assert (tmp_path / "a.txt").read_text() == "from the target\n"
        assert (tmp_path / "b.txt").read_text() == "from the target\n"
        assert not os.path.exists(f"{d}/up.txt")
        assert os.path.exists(f"{d}/src.txt")
        rows = wait_closed(g)
        assert rows[0]["kind"] == "sftp" and rows[0]["protocol"] == "sftp"
        sid = rows[0]["id"]

        def file_events():
            return [e for e in g.events("file") if e["session_id"] == sid]

        assert wait_for(lambda: len(file_events()) >= 4, timeout=10), g.events("file")
        ev = file_events()
        for e in ev:
            assert e["user_name"] == "bob" and e["asset_name"] == "web01"
            assert e["account"] == UNIX_DEPLOY
        gets = [e for e in ev if e["method"] == "close" and f'path="{d}/src.txt"' in _detail(e)]
        assert len(gets) == 2, ev
        for e in gets:
            assert e["result"] == "allow"
            assert "bytes_read=16 " in _detail(e) and "bytes_written=0 " in _detail(e), e
            assert "actions=download" in _detail(e), e
        puts = [e for e in ev if e["method"] == "open" and f'path="{d}/up.txt"' in _detail(e)]
        assert len(puts) == 1 and puts[0]["result"] == "deny", ev
        assert "upload" in puts[0]["reason"] and "status=3" in _detail(puts[0]), puts
        rms = [e for e in ev if e["method"] == "remove"]
        assert len(rms) == 1 and rms[0]["result"] == "deny", ev
        assert f'path="{d}/src.txt"' in _detail(rms[0]) and "delete" in rms[0]["reason"]
        # no policy refusal of the session itself
        assert not [e for e in g.events("policy") if e["result"] == "deny"], g.events("policy")
        # the same permission still allows a shell command
        p = ssh_run(g, f"bob@{UNIX_DEPLOY}@web01", "echo ok", key=bpriv)
        assert p.returncode == 0 and p.stdout == "ok\n", p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sftp_default_actions_all_logged(ghenv, keygen, tmp_path):
    """With the default actions put, get, rename, mkdir, rm and rmdir work
    and each is a "file" event with its path and bytes."""
    import shutil
    g = ghenv
    d = _target_dir("all")
    try:
        priv, pub = keygen("alice_key")
        g.cli("user", "key", "add", "alice", "--key-file", pub)
        blob = os.urandom(4 << 20)
        (tmp_path / "up.bin").write_bytes(blob)
        p = _sftp(g, priv, DIRECT,
                  f"put {tmp_path}/up.bin {d}/up.bin\n"
                  f"get {d}/up.bin {tmp_path}/down.bin\n"
                  f"rename {d}/up.bin {d}/moved.bin\n"
                  f"mkdir {d}/sub\n"
                  f"rm {d}/moved.bin\n"
                  f"rmdir {d}/sub\n")
        assert p.returncode == 0, p.stderr
        assert (tmp_path / "down.bin").read_bytes() == blob
        assert os.listdir(d) == []
        sid = wait_closed(g)[0]["id"]

        def file_events():
            return [e for e in g.events("file") if e["session_id"] == sid]

        assert wait_for(lambda: len(file_events()) >= 6, timeout=10), g.events("file")
        ev = file_events()
        assert all(e["result"] == "allow" for e in ev), ev
        closes = [e for e in ev if e["method"] == "close" and f'path="{d}/up.bin"' in _detail(e)]
        assert any(f"bytes_written={len(blob)} " in _detail(e) and "actions=upload" in _detail(e)
                   for e in closes), closes
        assert any(f"bytes_read={len(blob)} " in _detail(e) and "actions=download" in _detail(e)
                   for e in closes), closes
        by = {e["method"]: e for e in ev}
        # OpenSSH renames with posix-rename@openssh.com when the server has it
        by["rename"] = by.get("rename") or by.get("posix-rename@openssh.com")
        assert by["rename"], by
        assert f'path="{d}/up.bin" path2="{d}/moved.bin"' in _detail(by["rename"]), by
        assert "actions=upload,delete" in _detail(by["rename"]), by
        assert f'path="{d}/sub"' in _detail(by["mkdir"]), by
        assert f'path="{d}/moved.bin"' in _detail(by["remove"]), by
        assert f'path="{d}/sub"' in _detail(by["rmdir"]), by
        for m in ("rename", "mkdir", "remove", "rmdir"):
            assert "status=0" in _detail(by[m]) and by[m]["reason"] is None, by[m]
        # audited per file, not as a terminal recording
        sftp_rows = [r for r in g.sessions() if r["protocol"] == "sftp"]
        assert sftp_rows and all(not r["recording_path"] for r in sftp_rows), sftp_rows
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sftp_malformed_stream_closed(ghenv):
    """A stream that is not SFTP ends the session with a logged reason; the
    service goes on."""
    g = ghenv
    # a session that is open meanwhile carries on
    c = ssh_spawn(g, DIRECT, password=g.alice_pw)
    c.expect(PROMPT_RE)
    # a packet shorter than its type and id: malformed at the first header
    p = ssh_run(g, DIRECT, "sftp", password=g.alice_pw, extra=("-s",),
                input=b"\x00\x00\x00\x01\x01", text=False, timeout=30)
    assert p.returncode == 255, p.stderr
    c.sendline("echo ALIVE-$((20+22))")
    c.expect("ALIVE-42")
    c.sendline("exit")
    c.expect(__import__("pexpect").EOF)
    rows = wait_closed(g, 2)
    rows = [r for r in rows if r["close_reason"] == "malformed sftp stream"] or rows
    assert rows[0]["close_reason"] == "malformed sftp stream", rows
    assert wait_for(lambda: "sftp stream closed" in g.read_log(), timeout=10), g.read_log()
    ev = g.events("session")
    assert any(e["result"] == "end" and e["reason"] == "malformed sftp stream" for e in ev), ev
    p = ssh_run(g, DIRECT, "echo still-here", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "still-here\n", p.stderr


def test_recording_failure_ends_the_session(ghenv, tmp_path):
    """A full disk under the recordings ends the session (fail closed) with a
    message, a closed row, an audit event, and a recording readable up to the
    failure."""
    g = ghenv
    base = reachable_tmp()  # the workers' user reaches it
    small = os.path.join(base, "small-recordings")
    os.mkdir(small)
    # a small tmpfs is the full disk (the e2e tests run as root, see
    # sshenv._need_root); a test never skips: it fails with the reason
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                       capture_output=True, text=True)
    assert m.returncode == 0, f"cannot mount a 1 MiB tmpfs for the full disk: {m.stderr}"
    try:
        # a recordings_dir changed by SIGHUP must already be the workers' (docs/CONFIG.md)
        pw = __import__("pwd").getpwnam("gatehouse")
        os.chown(small, pw.pw_uid, pw.pw_gid)
        g.write_conf(f"recordings_dir = {small}\n")
        g.proc.send_signal(__import__("signal").SIGHUP)
        assert wait_for(lambda: "configuration reloaded" in g.read_log(), timeout=10)
        # about 8 MiB of base64 text: far more than 1 MiB of recording space
        p = ssh_run(g, DIRECT, "echo FIRST-LINE; head -c 6000000 /dev/urandom | base64",
                    password=g.alice_pw, timeout=60)
        assert p.returncode != 0
        assert "the session recording failed" in p.stderr, p.stderr[-500:]
        assert len(p.stdout) < 8_000_000  # cut short, not relayed unrecorded
        rows = wait_closed(g)
        r = rows[-1]
        assert r["close_reason"] == "recording failed", r
        assert any(e["kind"] == "session" and e["reason"] == "recording failed"
                   for e in g.events()), g.events()
        assert "recording failed" in g.read_log()
        assert "FIRST-LINE" in finished_members_text(r["recording_path"])
        # the service goes on
        g.write_conf("")
        g.proc.send_signal(__import__("signal").SIGHUP)
        assert wait_for(lambda: g.read_log().count("configuration reloaded") >= 2, timeout=10)
        p = ssh_run(g, DIRECT, "echo fine", password=g.alice_pw)
        assert p.returncode == 0 and p.stdout == "fine\n", p.stderr
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
