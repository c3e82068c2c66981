"""Bad input to the admin CLI: exit status 2 for usage errors, 1 for refused
operations, a message a person can act on, and nothing written."""
import os

import pytest


@pytest.fixture
def world(gh):
    gh("user", "add", "alice", check=0)
    gh("group", "add", "ops", check=0)
    gh("node", "add", "/prod", check=0)
    gh("asset", "add", "web01", "--address", "10.0.0.1", check=0)
    gh("account", "add", "web01", "root", "--password-stdin", stdin="x-secret\n", check=0)
    gh("perm", "add", "p1", "--user", "alice", "--asset", "web01", check=0)
    return gh


@pytest.mark.parametrize("args,msg", [
    (["user", "show", "nobody"], "gatehouse: unknown user 'nobody'"),
    (["user", "del", "nobody"], "gatehouse: unknown user 'nobody'"),
    (["user", "disable", "nobody"], "gatehouse: unknown user 'nobody'"),
    (["user", "key", "list", "nobody"], "gatehouse: unknown user 'nobody'"),
    (["group", "show", "devs"], "gatehouse: unknown group 'devs'"),
    (["group", "del", "devs"], "gatehouse: unknown group 'devs'"),
    (["group", "member", "add", "devs", "alice"], "gatehouse: unknown group 'devs'"),
    (["group", "member", "add", "ops", "nobody"], "gatehouse: unknown user 'nobody'"),
    (["group", "member", "del", "ops", "alice"], "user 'alice' is not a member of group 'ops'"),
    (["node", "del", "/nowhere"], "gatehouse: unknown node '/nowhere'"),
    (["asset", "show", "web9"], "gatehouse: unknown asset 'web9'"),
    (["asset", "del", "web9"], "gatehouse: unknown asset 'web9'"),
    (["asset", "add", "web02", "--address", "h", "--node", "/nowhere"],
     "gatehouse: unknown node '/nowhere'"),
    (["account", "list", "web9"], "gatehouse: unknown asset 'web9'"),
    (["account", "del", "web01", "admin"], "gatehouse: unknown account 'admin' on asset 'web01'"),
    (["account", "del", "web9", "root"], "gatehouse: unknown asset 'web9'"),
    (["perm", "show", "p9"], "gatehouse: unknown permission 'p9'"),
    (["perm", "del", "p9"], "gatehouse: unknown permission 'p9'"),
    (["perm", "enable", "p9"], "gatehouse: unknown permission 'p9'"),
    (["perm", "add", "p2", "--user", "nobody", "--asset", "web01"], "gatehouse: unknown user 'nobody'"),
    (["perm", "add", "p2", "--group", "devs", "--asset", "web01"], "gatehouse: unknown group 'devs'"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web9"], "gatehouse: unknown asset 'web9'"),
    (["perm", "add", "p2", "--user", "alice", "--node", "/nowhere"],
     "gatehouse: unknown node '/nowhere'"),
    (["user", "add", "alice"], "gatehouse: user 'alice' already exists"),
    (["group", "add", "ops"], "gatehouse: group 'ops' already exists"),
    (["node", "add", "/prod"], "gatehouse: node '/prod' already exists"),
    (["asset", "add", "web01", "--address", "h"], "gatehouse: asset 'web01' already exists"),
    (["perm", "add", "p1", "--user", "alice", "--asset", "web01"],
     "gatehouse: permission 'p1' already exists"),
    (["group", "member", "add", "ops", "alice"], None),  # first time works
])
def test_refused_operations_exit_1(world, args, msg):
    p = world(*args)
    if msg is None:
        assert p.returncode == 0
        p = world(*args)
        assert p.returncode == 1 and "already a member" in p.stderr
        return
    assert p.returncode == 1, p.stderr
    assert msg in p.stderr
    assert p.stdout == ""


def test_account_duplicate(world):
    p = world("account", "add", "web01", "root", "--password-stdin", stdin="another\n", check=1)
    assert "account 'root' already exists on asset 'web01'" in p.stderr
    assert "account set" in p.stderr
    p = world("account", "set", "web01", "admin", "--password-stdin", stdin="x\n", check=1)
    assert "unknown account 'admin' on asset 'web01'" in p.stderr


@pytest.mark.parametrize("args,msg", [
    (["asset", "add", "w", "--address", "h", "--port", "0"],
     "bad value '0' for --port: expected a number from 1 to 65535"),
    (["asset", "add", "w", "--address", "h", "--port", "65536"], "bad value '65536' for --port"),
    (["asset", "add", "w", "--address", "h", "--port", "22x"], "bad value '22x' for --port"),
    (["asset", "add", "w", "--address", "h", "--port", " 22"], "bad value ' 22' for --port"),
    (["asset", "add", "w", "--address", "h:70000"], "bad address 'h:70000'"),
    (["asset", "add", "w", "--address", "h:2222", "--port", "22"], "the port is given twice"),
    (["asset", "add", "w", "--address", "bad host"], "bad address 'bad host'"),
    (["asset", "add", "w"], "give the asset's address with --address HOST"),
    (["asset", "add", "w", "--address", "h", "--platform", "amiga"], "unknown platform 'amiga'"),
    (["asset", "add", "w", "--address", "h", "--protocols", "ssh,gopher"],
     "unknown protocol 'gopher' in --protocols"),
    (["asset", "add", "w", "--address", "h", "--host-key", "ssh-ed25519 AAAAnotakey"],
     "bad --host-key"),
    (["asset", "add", "w/1", "--address", "h"], "bad asset name 'w/1'"),
    (["user", "add", "bad name"], "bad user name 'bad name'"),
    (["user", "add", "x" * 65], "bad user name"),
    (["group", "add", "a;b"], "bad group name 'a;b'"),
    (["node", "add", "prod"], "bad node path 'prod'"),
    (["node", "add", "/a/../b"], "bad node path '/a/../b'"),
    (["node", "add", "/a/b c"], "segment 'b c'"),
    (["node", "add", "/"], "'/' is the root"),
    (["user", "add", "bob", "--role", "root"],
     "unknown role 'root': expected admin, auditor or user"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--actions", "connect,fly"],
     "unknown action 'fly' in --actions"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--protocols", "ssh,x11"],
     "unknown protocol 'x11' in --protocols"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--from", "2026-13-01"],
     "bad date '2026-13-01' for --from: expected ISO 8601 like 2026-12-01T08:00Z"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--until", "tomorrow"],
     "bad date 'tomorrow' for --until: expected ISO 8601 like 2026-12-01T08:00Z"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--from", "2026-02-30"],
     "bad date '2026-02-30' for --from"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--from", "2026-12-01",
      "--until", "2026-11-01"], "--until 2026-11-01T00:00:00Z is not after --from 2026-12-01T00:00:00Z"),
    (["perm", "add", "p2", "--user", "alice", "--asset", "web01", "--account", "r@x"],
     "bad account name 'r@x' for --account"),
    (["perm", "add", "p2", "--asset", "web01"], "say who it is for"),
    (["perm", "add", "p2", "--user", "alice"], "say what it grants"),
    (["account", "add", "web01", "bad user", "--password-stdin"], "bad account name 'bad user'"),
    (["account", "add", "web01", "svc"], "exactly one of --password-stdin or --key-file"),
    (["account", "add", "web01", "svc", "--password-stdin", "--key-file", "/etc/hostname"],
     "exactly one of --password-stdin or --key-file"),
    (["user", "passwd", "alice"], "give the new password on stdin with --password-stdin"),
    (["user", "key", "add", "alice"], "give the public key with --key-file PUB"),
    (["session", "list", "--limit", "0"], "bad value '0' for --limit"),
    (["event", "list", "--limit", "many"], "bad value 'many' for --limit"),
    (["replay", "abc", "--speed", "fast"], "bad value 'fast' for --speed"),
    (["user", "add"], "missing argument: usage: gatehouse user add NAME"),
    (["user", "show", "a", "b"], "too many arguments"),
    (["user", "list", "--color"], "unknown option '--color' for 'user list'"),
    (["user", "add", "bob", "--role"], "option '--role' needs a value"),
    (["user", "frob"], "unknown command 'user frob'"),
    (["frob"], "unknown command 'frob'"),
    (["user"], "'user' needs a command"),
    (["user", "del", "alice", "--json"], "unknown option '--json'"),
])
def test_usage_errors_exit_2(world, args, msg):
    p = world(*args, stdin="pw\n")
    assert p.returncode == 2, f"{p.returncode}\n{p.stdout}\n{p.stderr}"
    assert msg in p.stderr
    assert p.stdout == ""


def test_nothing_written_on_failure(world, gh_json, tmp_path):
    before = {n: gh_json(n, "list", "--json") for n in ("user", "group", "node", "asset", "perm")}
    world("perm", "add", "p2", "--user", "alice", "--group", "devs", "--asset", "web01", check=1)
    world("perm", "add", "p3", "--user", "alice", "--asset", "web01", "--asset", "web9", check=1)
    world("asset", "add", "web02", "--address", "h", "--node", "/prod", "--node", "/no", check=1)
    world("user", "add", "bob", "--key-file", str(tmp_path / "missing.pub"), check=1)
    world("user", "add", "bob", "--role", "boss", "--password-stdin", stdin="pw\n", check=2)
    world("perm", "add", "p4", "--user", "alice", "--asset", "web01", "--until", "2020-01-01",
          "--from", "2021-01-01", check=2)
    after = {n: gh_json(n, "list", "--json") for n in ("user", "group", "node", "asset", "perm")}
    assert before == after


def test_bad_key_files(world, keygen, tmp_path):
    priv, pub = keygen("k1")
    enc, enc_pub = keygen("k_enc", passphrase="correct horse")
    enc_pem, _ = keygen("k_enc_pem", kind="rsa", passphrase="pw12345", extra=("-b", "2048", "-m", "PEM"))
    junk = tmp_path / "junk.pub"
    junk.write_text("this is not a key\n")
    broken = tmp_path / "broken.pub"
    broken.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJunkJunkJunk user@h\n")
    two = tmp_path / "two.pub"
    two.write_text(open(pub).read() + open(enc_pub).read())
    empty = tmp_path / "empty.pub"
    empty.write_text("")
    unreadable = tmp_path / "secret.pub"
    unreadable.write_text(open(pub).read())
    unreadable.chmod(0)

    cases = [
        (["user", "key", "add", "alice", "--key-file", str(tmp_path / "nope.pub")],
         f"cannot read key file {tmp_path}/nope.pub: No such file or directory"),
        (["user", "key", "add", "alice", "--key-file", priv],
         f"{priv} is a private key; give the public key (usually {priv}.pub)"),
        (["user", "key", "add", "alice", "--key-file", str(junk)], f"{junk} is not a public key"),
        (["user", "key", "add", "alice", "--key-file", str(broken)], f"{broken} is not a public key"),
        (["user", "key", "add", "alice", "--key-file", str(two)], "more than one key"),
        (["user", "key", "add", "alice", "--key-file", str(empty)], "it is empty"),
        (["user", "add", "bob", "--key-file", priv], "is a private key"),
        (["account", "add", "web01", "svc", "--key-file", pub],
         f"{pub} is a public key; give the private key"),
        (["account", "add", "web01", "svc", "--key-file", enc], f"{enc} is protected by a passphrase"),
        (["account", "add", "web01", "svc", "--key-file", enc_pem], "is protected by a passphrase"),
        (["account", "add", "web01", "svc", "--key-file", str(junk)], "is not a private key"),
        (["account", "add", "web01", "svc", "--key-file", str(tmp_path / "nope")], "cannot read key file"),
        (["account", "set", "web01", "root", "--key-file", enc], "is protected by a passphrase"),
    ]
    if os.geteuid() != 0:  # root reads anything
        cases.append((["user", "key", "add", "alice", "--key-file", str(unreadable)],
                      "Permission denied"))
    for args, msg in cases:
        p = world(*args)
        assert p.returncode == 1, f"{args}: {p.returncode}\n{p.stderr}"
        assert msg in p.stderr, f"{args}: {p.stderr}"
    # the same key twice for one user
    world("user", "key", "add", "alice", "--key-file", pub, check=0)
    p = world("user", "key", "add", "alice", "--key-file", pub, check=1)
    assert "is already registered for user 'alice'" in p.stderr
    p = world("user", "key", "del", "alice", "SHA256:nope", check=1)
    assert "user 'alice' has no key SHA256:nope" in p.stderr
    # nothing was stored by the refused account commands
    assert [a["username"] for a in __import__("json").loads(
        world("account", "list", "web01", "--json", check=0).stdout)] == ["root"]


def test_empty_password_refused(world):
    p = world("user", "add", "bob", "--password-stdin", stdin="\n", check=1)
    assert "empty password" in p.stderr
    p = world("account", "add", "web01", "svc", "--password-stdin", stdin="", check=1)
    assert "empty account password" in p.stderr
    world("user", "show", "bob", check=1)
