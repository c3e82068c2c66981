"""The interactive menu behind `ssh -p 2222 alice@gatehouse`: filter, pick,
account choice, back to the menu when the target shell ends, q quits."""
import pexpect

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, UNIX_OPS, PROMPT_RE, ssh_spawn, wait_for


def test_menu_pick_account_back_and_quit(ghenv):
    g = ghenv
    g.add_asset("db01", nodes=("/prod/db",))
    g.add_account("db01", UNIX_DEPLOY)
    g.add_perm("p-alice-db01", "alice", "db01", account=UNIX_DEPLOY)
    g.add_asset("hidden01")  # not permitted: never listed
    c = ssh_spawn(g, "alice", password=g.alice_pw, dims=(30, 120))
    c.expect("db01")
    assert "hidden01" not in c.before
    # filter down to one asset and pick it; two accounts -> account choice
    c.send("web01\r")
    c.expect(UNIX_OPS)
    c.send(UNIX_OPS + "\r")
    c.expect(PROMPT_RE)
    c.sendline("id -un; echo via-$((20+22))")
    c.expect(UNIX_OPS + r"\r\n")
    c.expect("via-42")
    c.expect(PROMPT_RE)
    c.sendline("exit")
    # back in the menu: pick the asset with a single account straight away
    c.expect("db01")
    c.send("db01\r")
    c.expect(PROMPT_RE)
    c.sendline("id -un")
    c.expect(UNIX_DEPLOY)
    c.expect(PROMPT_RE)
    c.sendline("exit")
    c.expect("web01")
    c.send("q\r")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    assert wait_for(lambda: all(s["ended_at"] for s in g.sessions()), timeout=10)
    rows = g.sessions()
    shells = [r for r in rows if r["kind"] == "shell"]
    assert [(r["asset_name"], r["account"]) for r in shells] == [("web01", UNIX_OPS),
                                                                 ("db01", UNIX_DEPLOY)]
    assert all(r["recording_path"] for r in shells)
    assert any(r["kind"] == "menu" and r["close_reason"] == "user quit the menu" for r in rows)


def test_menu_without_assets_and_refusal_keeps_menu(ghenv):
    g = ghenv
    g.add_user("erin", password="erin-pw-1234")
    c = ssh_spawn(g, "erin", password="erin-pw-1234")
    c.send("q\r")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0


def test_menu_failed_connect_error_stays_and_account_header(ghenv):
    """The account chooser's header counts accounts (it said "2 assets"), and
    a failed connect's error stays on the menu drawn after it (the redraw
    wiped it at once, so the user saw only the menu come back). Both fail
    without the fix."""
    from sshenv import free_port
    g = ghenv
    g.add_asset("dead01", port=free_port())
    g.add_account("dead01", UNIX_DEPLOY)
    g.add_perm("p-dead", "alice", "dead01")
    c = ssh_spawn(g, "alice", password=g.alice_pw, dims=(30, 120))
    c.expect("dead01")
    c.send("web01\r")
    c.expect("choose an account")
    c.expect_exact("2 accounts, filter")
    c.send(UNIX_OPS + "\r")
    c.expect(PROMPT_RE)
    c.sendline("exit")
    c.expect("dead01")
    c.expect_exact("\x1b[30;1H> ")
    c.send("dead01\r")
    c.expect_exact("dead01: connection refused")
    c.expect_exact("\x1b[H\x1b[2J")          # the menu is drawn again ...
    c.expect_exact("\x1b[30;1H> ")
    assert "dead01: connection refused" in c.before  # ... with the error on it
    c.send("q\r")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
