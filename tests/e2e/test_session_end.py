"""Every way a session ends leaves its row closed and exactly one session
"end" event with the same reason; failed logins are filed under the user
name, with the account and asset they asked for.

Failures that cannot be provoked from outside (the target's host key not
readable, the sftp event queue or the relay not allocated) are injected
with GATEHOUSE_FAULT, which builds other than `buildtype=release` honour
(src/core/fault.h)."""
import contextlib
import json

import pexpect

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import (UNIX_DEPLOY, Gatehouse, setup_ghenv, ssh_run, ssh_spawn, wait_for)

DIRECT = f"alice@{UNIX_DEPLOY}@web01"


def ended(g, sid):
    """The session events of SID other than its start."""
    return [e for e in g.events("session") if e["session_id"] == sid and e["result"] != "start"]


def assert_one_end(g, reason):
    """The last session row is closed with REASON and has exactly one
    session end event, with that reason."""
    assert wait_for(lambda: g.sessions() and g.sessions()[-1]["ended_at"] > 0), g.sessions()
    row = g.sessions()[-1]
    assert row["close_reason"] == reason, row
    ev = ended(g, row["id"])
    assert len(ev) == 1, ev
    assert ev[0]["result"] == "end" and ev[0]["reason"] == reason, ev
    assert ev[0]["asset_name"] == "web01" and ev[0]["account"] == UNIX_DEPLOY, ev
    return row


@contextlib.contextmanager
def faulty(gh_bin, tmp_path, target, fault):
    """ghenv with GATEHOUSE_FAULT=FAULT in the server's environment."""
    g = Gatehouse(gh_bin, str(tmp_path), target)
    g.env["GATEHOUSE_FAULT"] = fault
    g.start()
    try:
        yield setup_ghenv(g, target)
    finally:
        rc = g.stop()
    assert rc == 0, g.read_log()


def test_host_key_unreadable_ends_with_one_event(gh_bin, tmp_path, target):
    """Guards item 9: a target host key that cannot be read closed the row
    without any session event (fails without the fix: no event)."""
    with faulty(gh_bin, tmp_path, target, "target-hostkey") as g:
        p = ssh_run(g, DIRECT, "true", password=g.alice_pw)
        assert p.returncode != 0 and "cannot read the host key" in p.stderr, p.stderr
        assert_one_end(g, "cannot read the host key")


def test_host_key_changed_ends_with_one_event(ghenv):
    """Guards item 9: a pinned host key that no longer matches (here a
    corrupt pinned row) refused the session with a hostkey event only, no
    session end (fails without the fix)."""
    g = ghenv
    with contextlib.closing(g.db()) as c:
        c.execute("UPDATE assets SET host_key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBROKEN'"
                  " WHERE name = 'web01'")
        c.commit()
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw)
    assert p.returncode != 0 and "host key of web01 changed" in p.stderr, p.stderr
    assert_one_end(g, "host key changed")


def test_recording_not_created_ends_with_one_event(ghenv, tmp_path):
    """Guards item 9: a recording that cannot be created (recordings_dir is
    not a directory) closed the row without a session event (fails without
    the fix)."""
    g = ghenv
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    g.write_conf(f"recordings_dir = {blocker}\n")
    g.proc.send_signal(__import__("signal").SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in g.read_log(), timeout=10)
    p = ssh_run(g, DIRECT, "true", password=g.alice_pw)
    assert p.returncode != 0 and "recording unavailable" in p.stderr, p.stderr
    assert_one_end(g, "recording unavailable")


def test_sftp_queue_not_allocated_ends_with_one_event(gh_bin, tmp_path, target):
    """Guards item 9: the sftp event queue not allocated closed the row
    without a session event (fails without the fix)."""
    with faulty(gh_bin, tmp_path, target, "sftp-queue") as g:
        p = ssh_run(g, DIRECT, "sftp", password=g.alice_pw, extra=("-s",))
        assert p.returncode != 0 and "out of memory" in p.stderr, p.stderr
        assert_one_end(g, "out of memory")


def test_filters_not_loaded_ends_with_one_event(ghenv):
    """Guards item 9: command filters that cannot be loaded (a pattern in
    the store that does not compile) refused the shell without a session
    event (fails without the fix)."""
    g = ghenv
    g.cli("cmdgroup", "add", "danger", "rm")
    g.cli("cmdfilter", "add", "no-danger", "--cmdgroup", "danger", "--action", "reject")
    with contextlib.closing(g.db()) as c:
        c.execute("UPDATE cmd_group_entries SET is_regex = 1, pattern = '(unclosed'")
        c.commit()
    child = ssh_spawn(g, DIRECT, password=g.alice_pw)
    child.expect("command filters unavailable")
    child.expect(pexpect.EOF)
    assert_one_end(g, "command filters unavailable")


def test_relay_not_allocated_ends_with_one_event(gh_bin, tmp_path, target):
    """Guards item 9: a relay that cannot be allocated closed the row
    without a session event (fails without the fix)."""
    with faulty(gh_bin, tmp_path, target, "relay-new") as g:
        p = ssh_run(g, DIRECT, "true", password=g.alice_pw)
        assert p.returncode != 0 and "out of memory" in p.stderr, p.stderr
        assert_one_end(g, "out of memory")


def test_relayed_session_has_one_end_event(ghenv):
    """A session that ran: one start, one end with its exit status and bytes."""
    g = ghenv
    p = ssh_run(g, DIRECT, "echo hi", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout == "hi\n", p.stderr
    row = assert_one_end(g, "target closed the channel")
    assert "exit 0" in ended(g, row["id"])[0]["detail"]


def test_failed_login_filed_under_user_with_account_and_asset(ghenv):
    """Guards item 10: a failed login as alice@ACCOUNT@web01 was stored with
    user "alice@ACCOUNT@web01", so `audit logins --user alice` missed it
    (fails without the fix). It is filed under alice, with the account and
    asset asked for, and the login as presented in the detail."""
    g = ghenv
    p = ssh_run(g, DIRECT, "true", password="wrong-password",
                extra=("-o", "NumberOfPasswordPrompts=1"))
    assert p.returncode == 255
    out = json.loads(g.cli("audit", "logins", "--user", "alice", "--json").stdout)
    fails = [e for e in out if e["result"] == "failure"]
    assert len(fails) == 1, out
    e = fails[0]
    assert e["user"] == "alice" and e["reason"] == "bad password", e
    assert e["account"] == UNIX_DEPLOY and e["asset"] == "web01", e
    assert f'login="{DIRECT}"' in e["detail"], e
    table = g.cli("audit", "logins", "--user", "alice").stdout
    assert "bad password" in table and UNIX_DEPLOY in table and "web01" in table, table
    # an unknown user with a target is filed under that name too
    ssh_run(g, f"mallory@{UNIX_DEPLOY}@web01", "true", password="x",
            extra=("-o", "NumberOfPasswordPrompts=1"))
    out = json.loads(g.cli("audit", "logins", "--user", "mallory", "--json").stdout)
    assert [(e["reason"], e["asset"]) for e in out] == [("unknown user", "web01")], out
