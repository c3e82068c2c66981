"""Editing in place: `asset set`, `account set`, `group set`.

Before these verbs the only way to change an asset (a new address, a target
whose host key legitimately changed) was `asset del`, which also deletes its
accounts. Each test here fails without the verb it drives."""
import json
import os
import subprocess

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, UNIX_OPS, Target, ssh_run


@pytest.fixture
def world(gh):
    for args in (
        ["user", "add", "alice"], ["user", "add", "bob"], ["user", "add", "carol"],
        ["group", "add", "ops"], ["group", "member", "add", "ops", "alice"],
        ["node", "add", "/prod/web"], ["node", "add", "/eu"],
        ["asset", "add", "web01", "--address", "10.0.0.1", "--node", "/prod/web",
         "--comment", "first"],
    ):
        gh(*args, check=0)
    gh("account", "add", "web01", "root", "--password-stdin", stdin="x-secret\n", check=0)
    gh("perm", "add", "ops-web", "--group", "ops", "--asset", "web01", check=0)
    return gh


def changes(data_dir):
    import sqlite3
    c = sqlite3.connect(os.path.join(data_dir, "db", "gatehouse.db"))
    c.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in c.execute("SELECT * FROM events WHERE kind = 'change' ORDER BY id")]
    finally:
        c.close()


def test_asset_set_changes_fields_keeps_accounts(world, gh_json, data_dir):
    """asset set changes each field given and nothing else; the accounts
    stay (asset del + add would have lost them); --node replaces the node
    list; the change is audited naming the fields."""
    world("asset", "set", "web01", "--address", "10.0.0.9:2022", "--platform", "unix",
          "--protocols", "ssh", "--comment", "moved", check=0)
    a = gh_json("asset", "show", "web01", "--json")
    assert (a["address"], a["port"], a["platform"], a["protocols"], a["comment"]) == (
        "10.0.0.9", 2022, "unix", ["ssh"], "moved")
    assert a["nodes"] == ["/prod/web"]
    assert [x["username"] for x in a["accounts"]] == ["root"]
    world("asset", "set", "web01", "--port", "22", "--node", "/eu", "--node", "/prod", check=0)
    a = gh_json("asset", "show", "web01", "--json")
    assert (a["address"], a["port"], a["nodes"]) == ("10.0.0.9", 22, ["/eu", "/prod"])
    # --node / : back to the top of the tree, in no node
    world("asset", "set", "web01", "--node", "/", "--comment", "", check=0)
    a = gh_json("asset", "show", "web01", "--json")
    assert a["nodes"] == [] and a["comment"] is None
    ch = [e for e in changes(data_dir) if e["method"] == "asset set"]
    assert len(ch) == 3 and all(e["result"] == "ok" for e in ch)
    assert '"web01"' in ch[0]["detail"] and "--address" in ch[0]["detail"]
    assert "--platform" in ch[0]["detail"] and "--node" in ch[1]["detail"]


@pytest.mark.parametrize("args,status,msg", [
    (["asset", "set", "web9", "--port", "22"], 1, "unknown asset 'web9'"),
    (["asset", "set", "web01", "--port", "0"], 2, "bad value '0' for --port"),
    (["asset", "set", "web01", "--port", "99999"], 2, "bad value '99999' for --port"),
    (["asset", "set", "web01", "--address", "h:2222", "--port", "22"], 2, "the port is given twice"),
    (["asset", "set", "web01", "--host-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGp9",
      "--forget-host-key"], 2, "give either --host-key or --forget-host-key, not both"),
    (["asset", "set", "web01", "--host-key", "nonsense"], 2, "bad --host-key"),
    (["asset", "set", "web01"], 2, "nothing to set"),
    (["asset", "set", "web01", "--platform", "vms"], 2, "unknown platform 'vms'"),
    (["asset", "set", "web01", "--node", "/nowhere"], 1, "unknown node '/nowhere'"),
    (["asset", "set", "web01", "--protocols", "ssh,gopher"], 2, "gopher"),
    (["group", "set", "devs", "--name", "x"], 1, "unknown group 'devs'"),
    (["group", "set", "ops"], 2, "nothing to set"),
    (["group", "set", "ops", "--name", "-x"], 2, "bad group name '-x'"),
    (["group", "set", "ops", "--members", "alice,nobody"], 1, "unknown user 'nobody'"),
    (["account", "set", "web01", "root", "--password-stdin", "--key-file", "/dev/null"], 2,
     "exactly one of --password-stdin or --key-file"),
])
def test_set_errors(world, gh_json, args, status, msg):
    """Bad edits are refused with a message naming the problem, and change
    nothing."""
    before = gh_json("asset", "show", "web01", "--json"), gh_json("group", "show", "ops", "--json")
    p = world(*args, stdin="pw\n")
    assert p.returncode == status, p.stderr
    assert msg in p.stderr, p.stderr
    assert p.stdout == ""
    after = gh_json("asset", "show", "web01", "--json"), gh_json("group", "show", "ops", "--json")
    assert after == before


def test_group_set_rename_and_members(world, gh_json, data_dir):
    """group set renames a group (its permissions follow it) and replaces
    its members; a name already taken is refused."""
    world("group", "add", "dev", check=0)
    # a command filter names the group by name: it must follow the rename,
    # or the rename would quietly lift the filter from the group's members
    world("cmdgroup", "add", "danger", "--cmd", "rm", check=0)
    world("cmdfilter", "add", "no-rm", "--cmdgroup", "danger", "--action", "reject",
          "--group", "ops", check=0)
    p = world("group", "set", "ops", "--name", "dev", check=1)
    assert "group 'dev' already exists" in p.stderr
    world("group", "set", "ops", "--name", "operators", "--members", "bob,carol", check=0)
    g = gh_json("group", "show", "operators", "--json")
    assert g["members"] == ["bob", "carol"]
    assert gh_json("perm", "show", "ops-web", "--json")["groups"] == ["operators"]
    assert [f["groups"] for f in gh_json("cmdfilter", "list", "--json")] == [["operators"]]
    assert world("perm", "check", "bob", "web01", "root").returncode == 0
    assert world("perm", "check", "alice", "web01", "root").returncode == 1
    world("group", "set", "operators", "--members", "", check=0)
    assert gh_json("group", "show", "operators", "--json")["members"] == []
    ch = [e for e in changes(data_dir) if e["method"] == "group set"]
    assert [e["result"] for e in ch] == ["error", "ok", "ok"]
    assert "--members" in ch[1]["detail"] and "--name" in ch[1]["detail"]


def test_deny_reasons_name_users_and_groups(world):
    """A denial names the user, its groups and the asset, never their ids
    (it said "no permission names user 2 or any of its 0 groups")."""
    world("asset", "add", "db01", "--address", "10.0.0.3", check=0)
    world("account", "add", "db01", "app", "--password-stdin", stdin="pw\n", check=0)
    p = world("perm", "check", "bob", "web01", "root", check=1)
    assert "no permission names user 'bob' (in no group)" in p.stdout, p.stdout
    p = world("perm", "check", "alice", "db01", "app", check=1)
    assert "no permission covers asset 'db01' for user 'alice' or its group 'ops'" in p.stdout, \
        p.stdout
    world("group", "add", "dev", check=0)
    world("group", "member", "add", "dev", "bob", check=0)
    p = world("perm", "check", "bob", "web01", "root", check=1)
    assert "no permission names user 'bob' or its group 'dev'" in p.stdout, p.stdout
    world("group", "member", "add", "dev", "alice", check=0)
    p = world("perm", "check", "alice", "db01", "app", check=1)
    assert "for user 'alice' or its groups 'dev', 'ops'" in p.stdout, p.stdout


def test_account_set_rotates_secret(ghenv):
    """account set replaces an account's sealed secret (read from stdin,
    never argv): the next login uses the new one; the secret is in no
    event, log line or process listing."""
    g = ghenv
    wrong = "Wrong-rotated-9Kq2x"
    g.cli("account", "set", "web01", UNIX_DEPLOY, "--password-stdin", stdin=wrong + "\n")
    login = f"alice@{UNIX_DEPLOY}@web01"
    p = ssh_run(g, login, "id -un", password=g.alice_pw)
    assert p.returncode != 0, p.stdout
    g.cli("account", "set", "web01", UNIX_DEPLOY, "--password-stdin",
          stdin=g.target.passwords[UNIX_DEPLOY] + "\n")
    p = ssh_run(g, login, "id -un", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout.strip() == UNIX_DEPLOY, p.stderr
    ch = [e for e in g.events("change") if e["method"] == "account set"]
    assert len(ch) == 2 and all(e["result"] == "ok" for e in ch)
    assert f'"{UNIX_DEPLOY}"' in ch[0]["detail"] and "--password-stdin" in ch[0]["detail"]
    everything = json.dumps(g.events()) + g.read_log()
    assert wrong not in everything and g.target.passwords[UNIX_DEPLOY] not in everything


@pytest.fixture
def own_target(tmp_path):
    """A target of its own: this test changes its host key, which the
    shared target must keep."""
    d = tmp_path / "own-target"
    d.mkdir()
    t = Target(str(d))
    t.start()
    yield t
    t.stop()


def fingerprint(pub_path):
    out = subprocess.run(["ssh-keygen", "-lf", pub_path], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


def test_host_key_rotation_forget_then_pin(ghenv, own_target):
    """A target's host key legitimately changed: the login is refused, `asset
    set --forget-host-key` (accounts kept) lets the next login pin the new
    key, and both the change and the pinning are audited. Without the verb
    the only way was `asset del`, which deleted the accounts."""
    g, t = ghenv, own_target
    g.cli("asset", "add", "db01", "--address", "127.0.0.1", "--port", t.port)
    g.add_account("db01", UNIX_DEPLOY)
    g.add_perm("p-db01", "alice", "db01")
    login = f"alice@{UNIX_DEPLOY}@db01"
    p = ssh_run(g, login, "id -un", password=g.alice_pw)
    assert p.returncode == 0, p.stderr
    old_fp = fingerprint(t.host_keys[0] + ".pub")
    t.stop()
    t.regen_host_key()
    t.start()
    new_fp = fingerprint(t.host_keys[0] + ".pub")
    assert new_fp != old_fp
    p = ssh_run(g, login, "id -un", password=g.alice_pw)
    assert p.returncode != 0 and "host key of db01 changed" in p.stderr, p.stderr
    p = g.cli("asset", "set", "db01", "--forget-host-key")
    assert "db01" in p.stdout
    a = json.loads(g.cli("asset", "show", "db01", "--json").stdout)
    assert a["host_key"] is None and [x["username"] for x in a["accounts"]] == [UNIX_DEPLOY]
    p = ssh_run(g, login, "id -un", password=g.alice_pw)
    assert p.returncode == 0 and p.stdout.strip() == UNIX_DEPLOY, p.stderr
    a = json.loads(g.cli("asset", "show", "db01", "--json").stdout)
    assert a["host_key"] == t.host_key_line()
    hk = [(e["result"], e["detail"]) for e in g.events("hostkey") if e["asset_name"] == "db01"]
    assert hk == [("pinned", old_fp), ("mismatch", hk[1][1]), ("pinned", new_fp)], hk
    ch = [e for e in g.events("change") if e["method"] == "asset set"]
    assert len(ch) == 1 and "--forget-host-key" in ch[0]["detail"] and ch[0]["result"] == "ok"
    # pinning a key by hand works too: a key the target does not have
    # refuses the login, the target's own key lets it through
    fake = os.path.join(g.tmp, "fake_hk")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", fake], check=True)
    g.cli("asset", "set", "db01", "--host-key", " ".join(open(fake + ".pub").read().split()[:2]))
    p = ssh_run(g, login, "true", password=g.alice_pw)
    assert p.returncode != 0 and "host key of db01 changed" in p.stderr, p.stderr
    g.cli("asset", "set", "db01", "--host-key", t.host_key_line())
    p = ssh_run(g, login, "true", password=g.alice_pw)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("kind,opt", [("group", "--group"), ("user", "--user")])
def test_del_forgets_command_filter_refs(world, gh_json, kind, opt):
    """Deleting a user or group drops the command filters' references to
    it: a user or group created later with the same name starts with no
    filters (for an accept filter that would be a permission it was never
    given). A filter left naming no user or group is deleted with it, as
    with no names it would apply to everyone. Fails without the fix: the
    new `g` inherits both filters."""
    world(kind, "add", "g", check=0)
    world("cmdgroup", "add", "danger", "--cmd", "rm", check=0)
    world("cmdfilter", "add", "only-g", "--cmdgroup", "danger", "--action", "accept",
          opt, "g", check=0)
    world("cmdfilter", "add", "g-and-ops", "--cmdgroup", "danger", "--action", "accept",
          opt, "g", "--group", "ops", check=0)
    world(kind, "del", "g", check=0)
    world(kind, "add", "g", check=0)
    key = kind + "s"
    fl = {f["name"]: f for f in gh_json("cmdfilter", "list", "--json")}
    assert sorted(fl) == ["g-and-ops"]
    assert "g" not in fl["g-and-ops"][key] and fl["g-and-ops"]["groups"] == ["ops"]
