"""Operations: `gatehouse status`, `backup` (online, consistent; --with-keys
sealed with a passphrase), `restore` (refused beside a running serve; the
chain verified after), `logs`, `cert install`, and the service manager's
readiness messages (sd_notify: READY, RELOADING, STOPPING)."""
import os
import shutil
import signal
import socket
import subprocess
import threading

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import (UNIX_DEPLOY, Gatehouse, reachable_tmp, running_gatehouse, setup_ghenv,
                    ssh_run, wait_for)

PASSPHRASE = "correct horse battery staple"


def cli(gh_bin, data, *args, stdin="", env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    e.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return subprocess.run([gh_bin, "--data", data, *map(str, args)], input=stdin,
                          capture_output=True, text=True, env=e, timeout=120)


@pytest.fixture
def fresh(tmp_path):
    d = reachable_tmp()
    yield os.path.join(d, "data")
    shutil.rmtree(d, ignore_errors=True)


def login(g, cmd="echo hi"):
    return ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", cmd, password=g.alice_pw)


def test_status_text_and_json(ghenv):
    """status names the listeners (accepting), open sessions by protocol,
    the store and its events; exit 0 while serve runs, 1 once stopped."""
    g = ghenv
    assert login(g).returncode == 0
    p = g.cli("status")
    assert "serve: running" in p.stdout
    assert f"listener: ssh 127.0.0.1:{g.port} accepting" in p.stdout
    assert f"listener: https 127.0.0.1:{g.web_port} accepting" in p.stdout
    assert "sessions: 0 open" in p.stdout
    import json
    j = json.loads(g.cli("status", "--json").stdout)
    assert j["running"] is True
    assert j["store"]["backend"] == "sqlite" and j["store"]["events"] > 3
    assert j["sessions"]["open"] == 0
    # one session open
    child = subprocess.Popen(
        ["ssh", "-F", "/dev/null", "-p", str(g.port), "-o", f"UserKnownHostsFile={g.known_hosts}",
         "-o", "StrictHostKeyChecking=accept-new", "-o", "PreferredAuthentications=password",
         "-o", "PubkeyAuthentication=no", f"alice@{UNIX_DEPLOY}@web01@127.0.0.1", "sleep 30"],
        env={**os.environ, "SSH_ASKPASS": g.askpass, "SSH_ASKPASS_REQUIRE": "force",
             "GH_TEST_PASSWORD": g.alice_pw, "DISPLAY": ":0"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        assert wait_for(lambda: json.loads(g.cli("status", "--json").stdout)
                        ["sessions"]["open"] == 1, timeout=20)
        j = json.loads(g.cli("status", "--json").stdout)
        assert j["sessions"]["by_protocol"] == {"ssh": 1}, j
    finally:
        child.kill()
        child.wait()
    g.stop()
    p = g.cli("status", check=1)
    assert "serve: not running" in p.stdout
    assert f"listener: ssh 127.0.0.1:{g.port} not accepting" in p.stdout
    g.start()  # the fixture stops it


def test_backup_under_load_restores_and_verifies(ghenv, gh_bin, fresh):
    """A backup taken while logins and sessions run restores into a fresh
    data directory whose chain verifies (audit verify exit 0, recordings
    included) and which holds the sessions and events of before."""
    g = ghenv
    for _ in range(2):
        assert login(g).returncode == 0
    before_sessions = len(g.sessions())
    stop = threading.Event()
    results = []

    def load():
        for _ in range(8):  # bounded
            if stop.is_set():
                break
            results.append(login(g, "echo load").returncode)

    t = threading.Thread(target=load)
    t.start()
    try:
        assert wait_for(lambda: len(results) >= 1, timeout=60)
        out = os.path.join(g.tmp, "gh.backup")
        p = g.cli("backup", out)
        assert "backup written" in p.stdout
        assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    finally:
        stop.set()
        t.join(timeout=120)
    assert results and all(rc == 0 for rc in results), results
    # a second backup to the same file is refused (never overwritten)
    assert "exists" in g.cli("backup", out, check=1).stderr
    os.makedirs(fresh)
    with open(os.path.join(fresh, "gatehouse.conf"), "w") as f:
        f.write(f"recordings_dir = {g.data}/recordings\nweb_listen =\n")
    digest = open(out, "rb").read()
    p = cli(gh_bin, fresh, "restore", out)
    assert p.returncode == 0, p.stderr
    assert "event chain verified" in p.stdout
    # the backup file is left as it was, and nothing staged is left behind
    assert open(out, "rb").read() == digest and not os.path.exists(out + "-wal")
    assert not [n for n in os.listdir(fresh) if n.startswith(".restore")]
    v = cli(gh_bin, fresh, "audit", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
    s = cli(gh_bin, fresh, "session", "list", "--json")
    assert s.returncode == 0, s.stderr
    import json
    assert len(json.loads(s.stdout)) >= before_sessions + 1
    # restoring over the restored store needs --force
    p = cli(gh_bin, fresh, "restore", out)
    assert p.returncode == 1 and "--force" in p.stderr
    assert cli(gh_bin, fresh, "restore", out, "--force").returncode == 0


def test_restore_refused_while_serving(ghenv):
    g = ghenv
    out = os.path.join(g.tmp, "b.db")
    g.cli("backup", out)
    p = g.cli("restore", out, "--force", check=1)
    assert "stop it before a restore" in p.stderr


def test_backup_with_keys_round_trip(ghenv, gh_bin, fresh):
    """--with-keys: the bundle is sealed (no plaintext key or SQLite header
    in it); a wrong passphrase restores nothing; the right one restores the
    master key and host keys byte for byte, and the restored installation
    opens the stored secrets and presents the same host key."""
    g = ghenv
    out = os.path.join(g.tmp, "full.ghbk")
    p = g.cli("backup", out, "--with-keys", stdin=PASSPHRASE + "\n")
    assert "encrypted" in p.stdout
    blob = open(out, "rb").read()
    key = open(os.path.join(g.data, "master.key"), "rb").read()
    assert b"SQLite format 3" not in blob and key not in blob
    assert b"OPENSSH PRIVATE KEY" not in blob
    # the passphrase never comes from argv, and a short one is refused
    assert g.cli("backup", out + "2", "--with-keys", stdin="short\n", check=1)
    os.makedirs(fresh)
    p = cli(gh_bin, fresh, "restore", out, stdin="wrong passphrase!\n")
    assert p.returncode == 1 and "wrong passphrase" in p.stderr
    assert sorted(os.listdir(fresh)) == []
    p = cli(gh_bin, fresh, "restore", out, stdin=PASSPHRASE + "\n")
    assert p.returncode == 0, p.stderr
    assert not [n for n in os.listdir(fresh) if n.startswith(".restore")]
    for name in ("master.key", "ssh_host_ed25519_key", "ssh_jump_ed25519_key",
                 "web_cert.pem", "web_key.pem", "gatehouse.conf"):
        a = open(os.path.join(g.data, name), "rb").read()
        b = open(os.path.join(fresh, name), "rb").read()
        assert a == b, name
        assert os.stat(os.path.join(fresh, name)).st_mode & 0o077 == 0, name
    assert "chain intact" in cli(gh_bin, fresh, "audit", "verify").stdout
    # the vault opens with the restored master key (its key check matches)
    p = cli(gh_bin, fresh, "account", "add", "web01", "restored", "--password-stdin",
            stdin="s3cret-pw\n")
    assert p.returncode == 0, p.stderr


def test_sd_notify(gh_bin, tmp_path, target):
    """Type=notify: READY=1 once the listeners are up, RELOADING=1 on
    SIGHUP (then READY=1 again), STOPPING=1 on SIGTERM."""
    d = reachable_tmp()
    sock_path = os.path.join(d, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(30)
    os.chmod(d, 0o755)
    g = Gatehouse(gh_bin, str(tmp_path), target)
    g.env["NOTIFY_SOCKET"] = sock_path
    try:
        g.start()
        assert s.recv(512) == b"READY=1\n"
        g.proc.send_signal(signal.SIGHUP)
        m = s.recv(512)
        assert m.startswith(b"RELOADING=1\nMONOTONIC_USEC="), m
        assert s.recv(512) == b"READY=1\n"
        g.proc.send_signal(signal.SIGTERM)
        assert s.recv(512) == b"STOPPING=1\n"
        assert g.stop() == 0
    finally:
        g.stop()
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_cert_install(ghenv):
    """cert install checks the pair, writes both 0600 and prints the
    SHA-256 fingerprint openssl reports; a key of another certificate and
    an expired certificate are refused."""
    g = ghenv
    t = g.tmp

    def mk(name, days="30"):
        c, k = os.path.join(t, name + ".crt"), os.path.join(t, name + ".key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=gh.example",
                        "-days", days, "-keyout", k, "-out", c], check=True,
                       capture_output=True)
        return c, k

    c1, k1 = mk("one")
    c2, k2 = mk("two")
    p = g.cli("cert", "install", c1, k2, check=1)
    assert "does not belong" in p.stderr
    p = g.cli("cert", "install", c1, k1)
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", c1],
                        capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    assert f"SHA256 fingerprint: {fp}" in p.stdout
    for name in ("web_cert.pem", "web_key.pem"):
        st = os.stat(os.path.join(g.data, name))
        assert st.st_mode & 0o777 == 0o600 and st.st_uid == 0
    assert open(os.path.join(g.data, "web_cert.pem")).read() == open(c1).read()
    # after SIGHUP the console serves it
    g.proc.send_signal(signal.SIGHUP)

    def served():
        r = subprocess.run(f"openssl s_client -connect 127.0.0.1:{g.web_port} </dev/null "
                           "2>/dev/null | openssl x509 -noout -fingerprint -sha256",
                           shell=True, capture_output=True, text=True)
        return fp in r.stdout
    assert wait_for(served, timeout=20)


def test_logs(gh_bin, tmp_path, target):
    g = Gatehouse(gh_bin, str(tmp_path), target)
    logf = os.path.join(os.path.dirname(g.data), "gh.log")
    g.write_conf(f"log_file = {logf}\n")
    g.start()
    try:
        assert wait_for(lambda: "listening for SSH" in g.cli("logs").stdout, timeout=10)
        f = subprocess.Popen([gh_bin, "--data", g.data, "logs", "-f"], stdout=subprocess.PIPE,
                             text=True, env=g.env)
        try:
            g.proc.send_signal(signal.SIGHUP)
            line = ""
            import select
            deadline = 20
            while "configuration reloaded" not in line:
                r, _, _ = select.select([f.stdout], [], [], deadline)
                assert r, "logs -f printed no new line"
                line = f.stdout.readline()
        finally:
            f.kill()
            f.wait()
    finally:
        g.stop()
    os.makedirs(tmp_path / "b")
    g2 = Gatehouse(gh_bin, str(tmp_path / "b"), target)
    p = g2.cli("logs", check=1)
    assert "log_file is not set" in p.stderr
