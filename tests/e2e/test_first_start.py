"""First start: `gatehouse serve` on an empty data directory initialises
everything (store, master key, admin user) and stops cleanly on SIGTERM."""
import os
import re
import signal
import sqlite3
import stat
import subprocess

import pytest

from sshenv import free_port, port_open, wait_for

GH = os.environ.get("GATEHOUSE_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "gatehouse"))


def start_serve(data):
    """Start serve and wait until it listens (first start includes host key generation)."""
    os.makedirs(data, exist_ok=True)
    port = free_port()
    with open(os.path.join(data, "gatehouse.conf"), "w") as f:
        f.write(f"ssh_listen = 127.0.0.1:{port}\nlog_level = info\n")
    proc = subprocess.Popen([GH, "--data", data, "serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not wait_for(lambda: port_open(port) or proc.poll() is not None, timeout=60):
        proc.kill()
        pytest.fail("serve did not start listening")
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail("serve did not stop on SIGTERM")
    return proc.returncode, out, err


def test_first_start_initialises_and_stops(tmp_path):
    data = str(tmp_path / "data")
    proc = start_serve(data)
    try:
        pwfile = os.path.join(data, "initial-admin-password")
        assert wait_for(lambda: os.path.exists(pwfile)), "no initial-admin-password"
    finally:
        rc, out, err = stop(proc)
    assert rc == 0, err
    for name in ("master.key", "initial-admin-password", "db/gatehouse.db"):
        assert os.path.exists(os.path.join(data, name)), name
    for name in ("master.key", "initial-admin-password"):
        mode = stat.S_IMODE(os.stat(os.path.join(data, name)).st_mode)
        assert mode == 0o600, (name, oct(mode))
    password = open(os.path.join(data, "initial-admin-password")).read().strip()
    assert len(password) >= 16
    # printed once, on stdout, and the same as the saved one
    m = re.search(r"password: (\S+)", out)
    assert m and m.group(1) == password
    # the store holds an admin with an Argon2id hash, not the password
    db = sqlite3.connect(os.path.join(data, "db", "gatehouse.db"))
    rows = db.execute("SELECT name, role, password_hash FROM users").fetchall()
    db.close()
    assert len(rows) == 1 and rows[0][0] == "admin" and rows[0][1] == 2
    assert rows[0][2].startswith("$argon2id$")
    assert password.encode() not in open(os.path.join(data, "db", "gatehouse.db"), "rb").read()
    assert password not in err


def test_second_start_keeps_admin_and_key(tmp_path):
    data = str(tmp_path / "data")
    proc = start_serve(data)
    pwfile = os.path.join(data, "initial-admin-password")
    try:
        assert wait_for(lambda: os.path.exists(pwfile))
    finally:
        stop(proc)
    key1 = open(os.path.join(data, "master.key")).read()
    proc = start_serve(data)  # waits until it listens, or until it ends
    try:
        assert proc.poll() is None, proc.stderr.read()
    finally:
        rc, out, err = stop(proc)
    assert rc == 0
    assert "password" not in out  # printed only at the first start
    assert open(os.path.join(data, "master.key")).read() == key1


def test_wrong_master_key_is_a_clear_error(tmp_path):
    data = str(tmp_path / "data")
    proc = start_serve(data)
    try:
        assert wait_for(lambda: os.path.exists(os.path.join(data, "initial-admin-password")))
    finally:
        stop(proc)
    env = dict(os.environ, GATEHOUSE_MASTER_KEY="11" * 32)
    p = subprocess.run([GH, "--data", data, "serve"], env=env, capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "wrong master key" in p.stderr


def test_bad_config_names_file_and_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    conf = data / "gatehouse.conf"
    conf.write_text("log_level = info\nmax_auth_tries = lots\n")
    p = subprocess.run([GH, "--data", str(data), "serve"], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert f"{conf}:2: bad value 'lots' for max_auth_tries" in p.stderr
    other = tmp_path / "other.conf"
    other.write_text("\n\nno_such_key = 1\n")
    p = subprocess.run([GH, "--data", str(data), "--config", str(other), "serve"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert f"{other}:3: unknown key 'no_such_key'" in p.stderr


def test_every_config_key_is_documented(tmp_path):
    data = tmp_path / "data"
    p = subprocess.run([GH, "--data", str(data), "config", "show"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    keys = [line.split("=")[0].strip() for line in p.stdout.splitlines() if "=" in line]
    assert len(keys) >= 15
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "CONFIG.md")).read()
    missing = [k for k in keys if f"`{k}`" not in doc]
    assert not missing, f"undocumented keys: {missing}"


def test_lost_master_key_is_reported_not_replaced(tmp_path):
    data = str(tmp_path / "data")
    proc = start_serve(data)
    try:
        assert wait_for(lambda: os.path.exists(os.path.join(data, "initial-admin-password")))
    finally:
        stop(proc)
    run = lambda *a, **kw: subprocess.run([GH, "--data", data, *a], capture_output=True, text=True,
                                          timeout=20, **kw)
    assert run("asset", "add", "web01", "--address", "127.0.0.1").returncode == 0
    assert run("account", "add", "web01", "deploy", "--password-stdin", input="pw-1\n").returncode == 0
    os.rename(os.path.join(data, "master.key"), os.path.join(data, "master.key.bak"))
    p = run("account", "add", "web01", "ops", "--password-stdin", input="pw-2\n")
    assert p.returncode != 0
    assert "master.key" in p.stderr and "restore" in p.stderr
    assert not os.path.exists(os.path.join(data, "master.key"))
    p = subprocess.run([GH, "--data", data, "serve"], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "restore master.key" in p.stderr
    assert not os.path.exists(os.path.join(data, "master.key"))


def test_data_files_are_private(tmp_path):
    data = str(tmp_path / "data")
    proc = start_serve(data)
    try:
        assert wait_for(lambda: os.path.exists(os.path.join(data, "initial-admin-password")))
    finally:
        stop(proc)
    for name in os.listdir(data):
        if name == "gatehouse.conf":  # written by the test
            continue
        mode = stat.S_IMODE(os.stat(os.path.join(data, name)).st_mode)
        assert mode & 0o077 == 0, (name, oct(mode))
