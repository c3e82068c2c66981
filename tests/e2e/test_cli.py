"""The admin CLI driven as an operator would: a scripted setup of users,
groups, nodes, assets, accounts and permissions, then list/show in text and
JSON."""
import os



def setup_world(gh, keygen):
    """A small installation; returns the user key's public path."""
    _, pub = keygen("alice_key", comment="alice@laptop")
    target_key, _ = keygen("deploy_key", comment="deploy")
    gh("user", "add", "alice", "--role", "admin", "--password-stdin", "--key-file", pub,
       stdin="alice-pass-1\n", check=0)
    gh("user", "add", "bob", check=0)
    gh("user", "add", "carol", "--role", "auditor", check=0)
    gh("group", "add", "ops", check=0)
    gh("group", "member", "add", "ops", "bob", check=0)
    gh("node", "add", "/prod/web", check=0)
    gh("node", "add", "/staging", check=0)
    gh("asset", "add", "web01", "--address", "10.0.0.11", "--node", "/prod/web",
       "--comment", "front web", check=0)
    gh("asset", "add", "web02", "--address", "10.0.0.12:2222", "--node", "/prod/web",
       "--node", "/staging", "--protocols", "ssh,sftp,scp", check=0)
    gh("asset", "add", "db01", "--address", "db01.internal", "--port", "2200",
       "--platform", "postgresql", check=0)
    gh("account", "add", "web01", "root", "--password-stdin", stdin="Root-Pa55\n", check=0)
    gh("account", "add", "web01", "deploy", "--key-file", target_key, check=0)
    gh("account", "add", "db01", "app", "--password-stdin", stdin="App-Pa55\n", check=0)
    gh("perm", "add", "ops-web", "--group", "ops", "--node", "/prod", "--account", "deploy",
       check=0)
    gh("perm", "add", "alice-all", "--user", "alice", "--asset", "web01", "--asset", "db01",
       "--actions", "all", "--protocols", "all", "--from", "2026-01-01T08:00Z",
       "--until", "2030-01-01", check=0)
    return pub


def test_version_and_help(gh):
    p = gh("version", check=0)
    assert p.stdout.startswith("gatehouse ")
    p = gh("help", check=0)
    for noun in ("user", "group", "node", "asset", "account", "perm", "session", "event",
                 "replay", "config", "serve"):
        assert f"  {noun} " in p.stdout
    for noun in ("user", "group", "node", "asset", "account", "perm", "session", "event",
                 "replay", "config"):
        p = gh(noun, "--help", check=0)
        assert "Usage:" in p.stdout and f"gatehouse {noun}" in p.stdout
        assert gh("help", noun, check=0).stdout == p.stdout
    assert "--role" in gh("user", "add", "--help", check=0).stdout
    p = gh(check=2)
    assert "Usage:" in p.stderr


def test_full_setup_lists_and_shows(gh, gh_json, keygen, ssh_fingerprint):
    pub = setup_world(gh, keygen)

    users = gh_json("user", "list", "--json")
    assert [u["name"] for u in users] == ["alice", "bob", "carol"]
    by = {u["name"]: u for u in users}
    assert by["alice"]["role"] == "admin" and by["alice"]["password"] is True
    assert by["bob"]["role"] == "user" and by["bob"]["password"] is False
    assert by["carol"]["role"] == "auditor"
    assert all(set(u) == {"id", "name", "role", "disabled", "source", "password", "totp",
                          "created_at"}
               for u in users)

    alice = gh_json("user", "show", "alice", "--json")
    assert alice["keys"][0]["fingerprint"] == ssh_fingerprint(pub)
    assert alice["keys"][0]["type"] == "ssh-ed25519"
    assert alice["keys"][0]["comment"] == "alice@laptop"
    assert gh_json("user", "show", "bob", "--json")["groups"] == ["ops"]
    text = gh("user", "show", "alice", check=0).stdout
    assert "password:    set" in text and ssh_fingerprint(pub) in text

    groups = gh_json("group", "list", "--json")
    assert groups[0]["name"] == "ops" and groups[0]["members"] == ["bob"]
    assert gh_json("group", "show", "ops", "--json")["members"] == ["bob"]

    nodes = {n["path"]: n["assets"] for n in gh_json("node", "list", "--json")}
    assert nodes == {"/prod": 0, "/prod/web": 2, "/staging": 1}

    assets = {a["name"]: a for a in gh_json("asset", "list", "--json")}
    assert assets["web01"]["port"] == 22 and assets["web01"]["platform"] == "linux"
    assert assets["web01"]["protocols"] == ["ssh", "sftp"]
    assert assets["web01"]["nodes"] == ["/prod/web"]
    assert assets["web01"]["comment"] == "front web"
    assert assets["web02"]["port"] == 2222 and assets["web02"]["address"] == "10.0.0.12"
    assert sorted(assets["web02"]["nodes"]) == ["/prod/web", "/staging"]
    assert assets["web02"]["protocols"] == ["ssh", "sftp", "scp"]
    assert assets["db01"]["port"] == 2200 and assets["db01"]["nodes"] == []
    assert assets["db01"]["platform"] == "postgresql"
    # an asset without --node is listed at the top of the tree
    line = [l for l in gh("asset", "list", check=0).stdout.splitlines() if l.startswith("db01")][0]
    assert line.split()[-1] == "/"

    web01 = gh_json("asset", "show", "web01", "--json")
    assert {a["username"]: a["secret"] for a in web01["accounts"]} == {"root": "password",
                                                                      "deploy": "key"}
    accts = gh_json("account", "list", "web01", "--json")
    assert sorted(a["username"] for a in accts) == ["deploy", "root"]
    assert all(set(a) == {"id", "asset", "username", "secret", "created_at"} for a in accts)

    perms = {p["name"]: p for p in gh_json("perm", "list", "--json")}
    ow = perms["ops-web"]
    assert ow["groups"] == ["ops"] and ow["nodes"] == ["/prod"] and ow["accounts"] == ["deploy"]
    assert ow["actions"] == ["connect", "upload", "download", "delete", "copy", "paste"]
    assert ow["protocols"] == ["ssh", "sftp"]
    assert ow["active"] is True and ow["valid_from"] is None and ow["valid_until"] is None
    aa = gh_json("perm", "show", "alice-all", "--json")
    assert aa["users"] == ["alice"] and sorted(aa["assets"]) == ["db01", "web01"]
    assert aa["accounts"] == [] and len(aa["actions"]) == 8 and len(aa["protocols"]) == 10
    assert aa["valid_from"] == "2026-01-01T08:00:00Z"
    assert aa["valid_until"] == "2030-01-01T00:00:00Z"
    text = gh("perm", "list", check=0).stdout
    assert "@ops" in text and "ops-web" in text


def test_modify_and_delete(gh, gh_json, keygen, ssh_fingerprint):
    pub = setup_world(gh, keygen)
    fp = ssh_fingerprint(pub)

    gh("user", "disable", "bob", check=0)
    assert gh_json("user", "show", "bob", "--json")["disabled"] is True
    gh("user", "enable", "bob", check=0)
    assert gh_json("user", "show", "bob", "--json")["disabled"] is False

    gh("user", "passwd", "bob", "--password-stdin", stdin="new-bob-pass\n", check=0)
    assert gh_json("user", "show", "bob", "--json")["password"] is True

    _, pub2 = keygen("alice_rsa", kind="rsa", extra=("-b", "2048"))
    gh("user", "key", "add", "alice", "--key-file", pub2, check=0)
    keys = gh_json("user", "key", "list", "alice", "--json")
    assert [k["fingerprint"] for k in keys] == [fp, ssh_fingerprint(pub2)]
    assert keys[1]["type"] == "ssh-rsa"
    gh("user", "key", "del", "alice", fp, check=0)
    assert [k["fingerprint"] for k in gh_json("user", "key", "list", "alice", "--json")] == [
        ssh_fingerprint(pub2)]

    gh("group", "member", "del", "ops", "bob", check=0)
    assert gh_json("group", "show", "ops", "--json")["members"] == []

    gh("perm", "disable", "ops-web", check=0)
    assert gh_json("perm", "show", "ops-web", "--json")["active"] is False
    gh("perm", "enable", "ops-web", check=0)
    assert gh_json("perm", "show", "ops-web", "--json")["active"] is True
    gh("perm", "add", "later", "--user", "bob", "--asset", "web01", "--inactive", check=0)
    assert gh_json("perm", "show", "later", "--json")["active"] is False

    gh("account", "set", "web01", "root", "--password-stdin", stdin="Changed-1\n", check=0)
    k, _ = keygen("rootkey")
    gh("account", "set", "web01", "root", "--key-file", k, check=0)
    acc = {a["username"]: a["secret"] for a in gh_json("account", "list", "web01", "--json")}
    assert acc["root"] == "key"
    gh("account", "del", "web01", "root", check=0)
    assert [a["username"] for a in gh_json("account", "list", "web01", "--json")] == ["deploy"]

    p = gh("node", "del", "/prod", check=1)
    assert "not empty" in p.stderr
    gh("node", "del", "/staging", check=1)
    gh("asset", "del", "web02", check=0)
    gh("node", "del", "/staging", check=0)
    gh("perm", "del", "later", check=0)
    gh("user", "del", "carol", check=0)
    gh("group", "del", "ops", check=0)
    assert [u["name"] for u in gh_json("user", "list", "--json")] == ["alice", "bob"]
    assert gh_json("group", "list", "--json") == []
    assert [n["path"] for n in gh_json("node", "list", "--json")] == ["/prod", "/prod/web"]
    # deleting a group drops it from permissions
    assert gh_json("perm", "show", "ops-web", "--json")["groups"] == []


def test_global_options_anywhere(gh, gh_bin, data_dir, tmp_path):
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    run = lambda *a: subprocess.run([gh_bin, *a], capture_output=True, text=True, env=env,
                                    input="")
    assert run("group", "add", "g1", "--data", data_dir).returncode == 0
    assert run("--data", data_dir, "group", "add", "g2").returncode == 0
    assert run("group", f"--data={data_dir}", "add", "g3").returncode == 0
    env["GATEHOUSE_DATA"] = data_dir
    assert run("group", "add", "g4").returncode == 0
    out = run("group", "list", "--json")
    assert [g["name"] for g in __import__("json").loads(out.stdout)] == ["g1", "g2", "g3", "g4"]
    # the default is ./data
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    del env["GATEHOUSE_DATA"]
    p = subprocess.run([gh_bin, "group", "add", "here"], capture_output=True, text=True, env=env,
                       cwd=cwd, input="")
    assert p.returncode == 0 and (cwd / "data" / "db" / "gatehouse.db").exists()


def test_read_commands_need_an_existing_data_dir(gh, data_dir):
    p = gh("user", "list", check=1)
    assert "does not exist" in p.stderr and data_dir in p.stderr
    assert not os.path.exists(data_dir)


def test_sessions_and_events_empty(gh, gh_json):
    gh("group", "add", "g", check=0)  # creates the store
    assert gh_json("session", "list", "--json") == []
    assert gh_json("session", "list", "--active", "--limit", "5", "--json") == []
    # the only event is the admin change itself
    assert [(e["kind"], e["method"]) for e in gh_json("event", "list", "--json")] == \
        [("change", "group add")]
    assert gh_json("event", "list", "--kind", "login", "--limit", "3", "--json") == []
    assert gh("event", "verify", check=0).stdout.strip() == "event chain intact"
    p = gh("session", "show", "0123456789abcdef0123456789abcdef", check=1)
    assert "unknown session" in p.stderr
    p = gh("replay", "0123456789abcdef0123456789abcdef", check=1)
    assert "unknown session" in p.stderr
