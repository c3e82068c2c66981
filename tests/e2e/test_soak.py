"""Soak (bounded): many sessions opened and closed through one `gatehouse serve`
leave nothing behind: the master's open fds are flat, no worker outlives its
session, no session row stays open. The loop and the figures are
bench/soak.py's (`make bench` runs the 1,000-session version)."""
import os
import sys

from sshenv import *  # noqa: F401,F403

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import soak  # noqa: E402

SESSIONS = 150


def test_soak_no_leaks(gatehouse, target, keygen):
    g = gatehouse
    key, pub = keygen("bob_key")
    g.add_user("bob", key_pub=pub)
    g.add_asset("web01")
    # the password account: its password is fixed, so other test runs on this
    # machine do not change it under us (the key account's authorized_keys they do)
    g.add_account("web01", UNIX_DEPLOY)
    g.cli("perm", "add", "p-bob", "--user", "bob", "--asset", "web01", "--actions", "all",
          "--protocols", "all")

    def client(kind):
        if kind == "exec":
            return ssh_args(g, f"bob@{UNIX_DEPLOY}@web01", "true", key=key), b""
        if kind == "shell":
            return ssh_args(g, f"bob@{UNIX_DEPLOY}@web01", key=key, tty=True), b"exit\r"
        if kind == "sftp":
            a = ssh_args(g, f"bob@{UNIX_DEPLOY}@web01", key=key)
            # the same options, as sftp takes them: -P PORT, -b - before the destination
            opts = [x for x in a[1:-1] if x not in ("-p", str(g.port))]
            return ["sftp", "-P", str(g.port), *opts, "-b", "-", a[-1]], b"pwd\n"
        if kind == "vanish":
            return ssh_args(g, f"bob@{UNIX_DEPLOY}@web01", key=key, tty=True), None
        return ssh_args(g, f"bob@{UNIX_DEPLOY}@nosuch", "true", key=key), b""

    r = soak.soak(client, g.proc.pid, g.db_path(), SESSIONS,
                  max_seconds=240, parallel=3)
    summary = (f"{r}\n--- serve log tail ---\n{g.read_log()[-3000:]}")
    assert r["sessions"] >= SESSIONS // 2, summary
    assert sum(r["failures"].values()) == 0, summary
    assert r["end"]["fds"] == r["start"]["fds"], summary
    assert r["leaked_workers"] == 0, summary
    assert r["open_session_rows"] == 0, summary
    assert len(g.sessions()) >= r["sessions"] * 4 // 5 - 5, summary
