"""Secrets given to the CLI never come back out: not in show/list output,
not in JSON, not in error messages, not in the database in clear text; and a
wrong master key is reported as such."""
import glob
import os
import sqlite3

USER_PW = "Us3r-Passw0rd-zebra"
ACCOUNT_PW = "Acc0unt-Secret-quokka"


def all_output(gh, *cmds):
    out = ""
    for c in cmds:
        p = gh(*c)
        out += p.stdout + p.stderr
    return out


def db_bytes(data_dir):
    blob = b""
    for f in glob.glob(os.path.join(data_dir, "db", "gatehouse.db*")):
        with open(f, "rb") as fh:
            blob += fh.read()
    return blob


def test_no_secret_in_output_or_database(gh, data_dir, keygen):
    priv, _ = keygen("target_key")
    with open(priv) as f:
        key_text = f.read()
    key_body = key_text.splitlines()[2]  # a line of the base64 body

    outputs = []
    outputs.append(gh("user", "add", "alice", "--password-stdin", stdin=USER_PW + "\n", check=0))
    gh("asset", "add", "web01", "--address", "10.0.0.1", check=0)
    outputs.append(gh("account", "add", "web01", "root", "--password-stdin",
                      stdin=ACCOUNT_PW + "\n", check=0))
    outputs.append(gh("account", "add", "web01", "deploy", "--key-file", priv, check=0))
    outputs.append(gh("user", "passwd", "alice", "--password-stdin", stdin=USER_PW + "2\n",
                      check=0))
    # refused operations read the secret too
    outputs.append(gh("account", "add", "web01", "root", "--password-stdin",
                      stdin=ACCOUNT_PW + "\n", check=1))
    outputs.append(gh("account", "add", "web9", "x", "--password-stdin", stdin=ACCOUNT_PW + "\n",
                      check=1))
    outputs.append(gh("user", "add", "alice", "--password-stdin", stdin=USER_PW + "\n", check=1))
    text = "".join(p.stdout + p.stderr for p in outputs)
    text += all_output(gh, ("user", "show", "alice"), ("user", "show", "alice", "--json"),
                       ("user", "list"), ("user", "list", "--json"),
                       ("asset", "show", "web01"), ("asset", "show", "web01", "--json"),
                       ("asset", "list", "--json"), ("account", "list", "web01"),
                       ("account", "list", "web01", "--json"), ("event", "list", "--json"))
    for secret in (USER_PW, ACCOUNT_PW, key_body, "argon2id", "$argon2"):
        assert secret not in text, f"{secret!r} leaked into CLI output"
    assert "password:    set" in gh("user", "show", "alice", check=0).stdout
    assert "root (secret: password)" in gh("asset", "show", "web01", check=0).stdout
    assert "deploy (secret: key)" in gh("asset", "show", "web01", check=0).stdout

    blob = db_bytes(data_dir)
    assert blob, "no database file found"
    for secret in (USER_PW, ACCOUNT_PW, key_body):
        assert secret.encode() not in blob, f"{secret!r} is in the database in clear text"
    assert b"OPENSSH PRIVATE KEY" not in blob

    # the user password is stored as an Argon2id hash, the account secrets sealed
    db = sqlite3.connect(os.path.join(data_dir, "db", "gatehouse.db"))
    (h,) = db.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()
    assert h.startswith("$argon2id$")
    rows = db.execute("SELECT username, secret_kind, length(secret) FROM accounts").fetchall()
    assert sorted(r[0] for r in rows) == ["deploy", "root"]
    assert all(r[2] > len(ACCOUNT_PW) for r in rows)
    db.close()


def test_master_key_created_with_0600(gh, data_dir):
    gh("asset", "add", "web01", "--address", "10.0.0.1", check=0)
    assert not os.path.exists(os.path.join(data_dir, "master.key"))  # no secret yet, no key
    gh("account", "add", "web01", "root", "--password-stdin", stdin="pw-1\n", check=0)
    st = os.stat(os.path.join(data_dir, "master.key"))
    assert st.st_mode & 0o777 == 0o600


def test_wrong_master_key_is_reported(gh, data_dir):
    good = "11" * 32
    wrong = "22" * 32
    env = {"GATEHOUSE_MASTER_KEY": good}
    gh("asset", "add", "web01", "--address", "10.0.0.1", check=0)
    gh("account", "add", "web01", "root", "--password-stdin", stdin="pw-1\n", env=env, check=0)
    for args in (["account", "add", "web01", "deploy", "--password-stdin"],
                 ["account", "set", "web01", "root", "--password-stdin"]):
        p = gh(*args, stdin="pw-2\n", env={"GATEHOUSE_MASTER_KEY": wrong}, check=1)
        assert "wrong master key" in p.stderr and "GATEHOUSE_MASTER_KEY" in p.stderr, p.stderr
        assert "pw-2" not in p.stderr
    p = gh("account", "set", "web01", "root", "--password-stdin", stdin="pw-2\n",
           env={"GATEHOUSE_MASTER_KEY": "not-a-key"}, check=1)
    assert "GATEHOUSE_MASTER_KEY is malformed" in p.stderr
    # nothing changed: the right key still works and sees one account
    gh("account", "set", "web01", "root", "--password-stdin", stdin="pw-3\n", env=env, check=0)
    assert "deploy" not in gh("account", "list", "web01", check=0).stdout


def test_set_never_creates_a_master_key(gh, data_dir):
    gh("asset", "add", "web01", "--address", "10.0.0.1", check=0)
    gh("account", "add", "web01", "root", "--password-stdin", stdin="pw-1\n", check=0)
    os.rename(os.path.join(data_dir, "master.key"), os.path.join(data_dir, "master.key.bak"))
    p = gh("account", "set", "web01", "root", "--password-stdin", stdin="pw-2\n", check=1)
    assert "no master key" in p.stderr
    assert not os.path.exists(os.path.join(data_dir, "master.key"))
