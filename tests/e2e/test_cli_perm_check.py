"""gatehouse perm check: allow/deny with reasons, through group membership,
node subtrees, named accounts, validity windows and the active flag."""
import pytest


@pytest.fixture
def world(gh):
    for args in (
        ["user", "add", "alice"], ["user", "add", "bob"], ["user", "add", "carol"],
        ["group", "add", "ops"], ["group", "member", "add", "ops", "alice"],
        ["node", "add", "/prod/web"], ["node", "add", "/prodx"],
        ["asset", "add", "web01", "--address", "10.0.0.1", "--node", "/prod/web"],
        ["asset", "add", "web02", "--address", "10.0.0.2", "--node", "/prodx"],
        ["asset", "add", "db01", "--address", "10.0.0.3"],
    ):
        gh(*args, check=0)
    for asset, acct in (("web01", "deploy"), ("web01", "root"), ("web02", "deploy"),
                        ("db01", "app")):
        gh("account", "add", asset, acct, "--password-stdin", stdin="pw-x\n", check=0)
    gh("perm", "add", "ops-web", "--group", "ops", "--node", "/prod", "--account", "deploy",
       check=0)
    gh("perm", "add", "bob-window", "--user", "bob", "--asset", "db01", "--from", "2026-01-01",
       "--until", "2026-06-30T23:59Z", check=0)
    gh("perm", "add", "carol-later", "--user", "carol", "--asset", "db01", "--inactive",
       "--actions", "connect,forward", "--protocols", "ssh,tcp", check=0)
    return gh


def check(gh, *args, want):
    p = gh("perm", "check", *args)
    assert p.returncode == (0 if want == "allow" else 1), f"{args}: {p.returncode}\n{p.stdout}{p.stderr}"
    line = p.stdout.strip()
    assert line.startswith(want + ": ") and len(line) > len(want) + 3, line
    assert "deny: denied:" not in line
    return line


def test_group_membership_and_node_subtree(world):
    line = check(world, "alice", "web01", "deploy", want="allow")
    assert "ops-web" in line
    check(world, "alice", "web01", "deploy", "--action", "upload", "--protocol", "sftp",
          want="allow")
    check(world, "bob", "web01", "deploy", want="deny")       # not in ops
    check(world, "alice", "web02", "deploy", want="deny")     # /prodx is not under /prod
    check(world, "alice", "db01", "app", want="deny")         # in no node
    world("group", "member", "del", "ops", "alice", check=0)
    check(world, "alice", "web01", "deploy", want="deny")


def test_named_account_actions_protocols(world):
    check(world, "alice", "web01", "root", want="deny")       # only deploy is named
    line = check(world, "alice", "web01", "deploy", "--action", "forward", want="deny")
    assert "forward" in line
    check(world, "alice", "web01", "deploy", "--action", "share", want="deny")
    check(world, "alice", "web01", "deploy", "--protocol", "scp", want="deny")


def test_validity_window(world):
    check(world, "bob", "db01", "app", "--at", "2026-03-01T12:00Z", want="allow")
    check(world, "bob", "db01", "app", "--at", "2026-06-30T23:00+00:00", want="allow")
    line = check(world, "bob", "db01", "app", "--at", "2026-07-01", want="deny")
    assert "expired" in line
    check(world, "bob", "db01", "app", "--at", "2025-12-31T23:59Z", want="deny")


def test_inactive_and_disabled(world):
    check(world, "carol", "db01", "app", want="deny")
    world("perm", "enable", "carol-later", check=0)
    check(world, "carol", "db01", "app", want="allow")
    check(world, "carol", "db01", "app", "--action", "forward", "--protocol", "tcp", want="allow")
    world("perm", "disable", "carol-later", check=0)
    check(world, "carol", "db01", "app", want="deny")
    world("perm", "enable", "carol-later", check=0)
    world("user", "disable", "carol", check=0)
    line = check(world, "carol", "db01", "app", want="deny")
    assert "disabled" in line
    world("perm", "del", "carol-later", check=0)
    world("user", "enable", "carol", check=0)
    check(world, "carol", "db01", "app", want="deny")


def test_json_and_errors(world, gh_json):
    j = gh_json("perm", "check", "alice", "web01", "deploy", "--json")
    assert j["allow"] is True and j["permission"] == "ops-web" and j["reason"]
    p = world("perm", "check", "bob", "web01", "deploy", "--json", check=1)
    assert '"allow": false' in p.stdout
    for args, msg in ((["nobody", "web01", "deploy"], "unknown user 'nobody'"),
                      (["alice", "web9", "deploy"], "unknown asset 'web9'"),
                      (["alice", "web01", "admin"], "unknown account 'admin' on asset 'web01'")):
        p = world("perm", "check", *args, check=1)
        assert msg in p.stderr and p.stdout == ""
    for args, msg in ((["--action", "fly"], "unknown action 'fly'"),
                      (["--action", "connect,upload"], "--action takes one action"),
                      (["--protocol", "all"], "--protocol takes one protocol"),
                      (["--at", "2026-02-30"], "bad date '2026-02-30' for --at")):
        p = world("perm", "check", "alice", "web01", "deploy", *args, check=2)
        assert msg in p.stderr
    world("perm", "check", "alice", "web01", check=2)
    p = world("perm", "add", "root-perm", "--user", "alice", "--node", "/", check=2)
    assert "'/' is the root" in p.stderr
