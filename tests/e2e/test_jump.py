"""Recorded ProxyJump: `ssh -J` through Gatehouse with StrictHostKeyChecking=yes
and a known_hosts holding only what `known-hosts` printed (plus the front
door's own key): shell, exec with exit status, recording, session rows,
refusal, a two-hop chain and sftp."""
import os
import subprocess

import pexpect

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True



def _front_line(g):
    pub = subprocess.run(["ssh-keygen", "-y", "-f", os.path.join(g.data, "ssh_host_ed25519_key")],
                         capture_output=True, text=True, check=True).stdout.split()
    return f"[127.0.0.1]:{g.port} {pub[0]} {pub[1]}\n"


def _known_hosts(g):
    p = ssh_run(g, "alice", "known-hosts", password=ALICE_PW)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _setup(g, tmp_path):
    """ssh_config with gh (the front door) and the assets behind it."""
    kh = tmp_path / "kh_jump"
    kh.write_text(_front_line(g) + _known_hosts(g))
    cfg = tmp_path / "ssh_config"
    port = g.target.port
    cfg.write_text(f"""
Host gh
    HostName 127.0.0.1
    Port {g.port}
    User alice
Host web01
    Port {port}
    User {UNIX_DEPLOY}
    ProxyJump gh
Host web01-pc
    HostName web01
    Port {port}
    User {UNIX_DEPLOY}
    ProxyCommand ssh -F {cfg} -W %h:%p gh
Host db01
    Port {port}
    User {UNIX_DEPLOY}
    ProxyJump {UNIX_DEPLOY}@web01
Host *
    UserKnownHostsFile {kh}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    PreferredAuthentications password
    PubkeyAuthentication no
    IdentityAgent none
    ConnectTimeout 10
    LogLevel ERROR
""")
    return str(cfg), kh


def _env():
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    return env


def _ssh(g, cfg, host, *cmd, timeout=60, binary="ssh", extra=()):
    env = _env()
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=env.get("DISPLAY", ":0"))
    return subprocess.run([binary, "-F", cfg, *extra, host, *cmd], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL,
                          start_new_session=True)


def _closed_sessions(g, n=1, asset="web01"):
    rows = []

    def done():
        rows[:] = [r for r in g.sessions() if r["asset_name"] == asset and r["ended_at"]]
        return len(rows) >= n
    assert wait_for(done, timeout=20), g.sessions()
    return rows


def test_known_hosts_lists_permitted_assets(ghenv):
    g = ghenv
    g.add_asset("db01")  # no permission for alice
    out = _known_hosts(g)
    lines = out.splitlines()
    assert len(lines) == 1, out
    hosts, ktype, key = lines[0].split()[:3]
    assert hosts == f"web01,[web01]:{g.target.port},[127.0.0.1]:{g.target.port}"
    jump = subprocess.run(["ssh-keygen", "-y", "-f", os.path.join(g.data, "ssh_jump_ed25519_key")],
                          capture_output=True, text=True, check=True).stdout.split()
    assert (ktype, key) == (jump[0], jump[1])
    front = _front_line(g).split()
    assert key != front[2]  # not the front door's key
    # the admin's view: every asset, or one user's
    allv = g.cli("known-hosts").stdout
    assert f"[db01]:{g.target.port}" in allv and f"[web01]:{g.target.port}" in allv
    assert g.cli("known-hosts", "--user", "alice").stdout == out


def test_jump_exec_recorded(ghenv, tmp_path):
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    p = _ssh(g, cfg, "web01", "echo jumped-$((6*7)); exit 3")
    assert p.returncode == 3, p.stderr
    assert p.stdout == "jumped-42\n"
    r = _closed_sessions(g)[0]
    assert r["account"] == UNIX_DEPLOY and r["kind"] == "exec" and r["user_name"] == "alice"
    assert r["exit_status"] == 3
    assert r["recording_path"] and os.path.exists(r["recording_path"])
    rp = g.cli("replay", r["id"], "--speed", "1000", check=0)
    assert "jumped-42" in rp.stdout
    jumps = g.events("jump")
    assert jumps and jumps[-1]["result"] == "allow" and jumps[-1]["asset_name"] == "web01"
    logins = [e for e in g.events("login") if e["method"] == "proxyjump"]
    assert logins and logins[-1]["result"] == "success"


def test_jump_shell(ghenv, tmp_path):
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    env = _env()
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=env.get("DISPLAY", ":0"), TERM="xterm")
    c = pexpect.spawn("ssh", ["-F", cfg, "-tt", "web01"], env=env, timeout=30,
                      encoding="utf-8", codec_errors="replace")
    c.expect(PROMPT_RE)
    c.sendline("echo shell-$((7*7))")
    c.expect("shell-49")
    c.expect(PROMPT_RE)
    c.sendline("exit 0")
    c.expect(pexpect.EOF)
    c.close()
    r = _closed_sessions(g)[0]
    assert r["kind"] == "shell" and r["recording_path"]
    rp = g.cli("replay", r["id"], "--speed", "1000", check=0)
    assert "shell-49" in rp.stdout


def test_jump_unknown_host_key_refused_by_client(ghenv, tmp_path):
    """Without the known-hosts lines the client refuses the jump host key."""
    g = ghenv
    cfg, kh = _setup(g, tmp_path)
    kh.write_text(_front_line(g))
    p = _ssh(g, cfg, "web01", "true")
    assert p.returncode == 255
    assert not [r for r in g.sessions() if r["asset_name"] == "web01"]


def test_jump_refused_for_unpermitted_asset(ghenv, tmp_path):
    g = ghenv
    g.add_asset("db01")
    g.add_account("db01", UNIX_DEPLOY)
    cfg, _ = _setup(g, tmp_path)
    env_cfg = open(cfg).read().replace(f"ProxyJump {UNIX_DEPLOY}@web01", "ProxyJump gh")
    with open(cfg, "w") as f:
        f.write(env_cfg)
    p = _ssh(g, cfg, "db01", "true")
    assert p.returncode == 255
    assert "forwarding failed" in p.stderr or "prohibited" in p.stderr, p.stderr
    ev = [e for e in g.events("jump") if e["asset_name"] == "db01"]
    assert ev and ev[-1]["result"] == "deny" and "denied" in ev[-1]["reason"], ev
    # names, not ids (it said "no permission covers asset 2 for user 1")
    assert "covers asset 'db01' for user 'alice'" in ev[-1]["reason"], ev[-1]
    assert not [r for r in g.sessions() if r["asset_name"] == "db01"]


def test_jump_two_hop_chain(ghenv, tmp_path):
    g = ghenv
    g.add_asset("db01")
    g.add_account("db01", UNIX_DEPLOY)
    g.add_perm("p-alice-db01", "alice", "db01")
    cfg, _ = _setup(g, tmp_path)
    p = _ssh(g, cfg, "db01", "id -un; exit 5")
    assert p.returncode == 5, p.stderr
    assert p.stdout == f"{UNIX_DEPLOY}\n"
    r = _closed_sessions(g, asset="db01")[0]
    assert r["account"] == UNIX_DEPLOY and r["exit_status"] == 5 and r["recording_path"]
    hops = [e["asset_name"] for e in g.events("jump") if e["result"] == "allow"]
    assert hops[-2:] == ["web01", "db01"]


def test_sftp_through_jump(ghenv, tmp_path):
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(100000))
    remote = f"/tmp/gh-jump-sftp-{os.getpid()}.bin"
    batch = tmp_path / "batch"
    batch.write_text(f"put {src} {remote}\nget {remote} {tmp_path}/down.bin\nrm {remote}\n")
    p = _ssh(g, cfg, "web01", binary="sftp", extra=("-b", str(batch)))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "down.bin").read_bytes() == src.read_bytes()
    r = _closed_sessions(g)[0]
    assert r["protocol"] == "sftp"
    files = [e for e in g.events("file") if remote in (e["detail"] or "")]
    assert files, g.events("file")
    assert any("bytes_written=100000" in e["detail"] for e in files), files


def test_jump_session_ends_on_server_shutdown(ghenv, tmp_path):
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    env = _env()
    env.update(SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force", GH_TEST_PASSWORD=ALICE_PW,
               DISPLAY=env.get("DISPLAY", ":0"), TERM="xterm")
    c = pexpect.spawn("ssh", ["-F", cfg, "-tt", "web01"], env=env, timeout=30,
                      encoding="utf-8", codec_errors="replace")
    c.expect(PROMPT_RE)
    rc = g.stop(timeout=60)
    assert rc == 0
    c.expect("shutting down")
    c.expect(pexpect.EOF)
    c.close()
    rows = [r for r in g.sessions() if r["asset_name"] == "web01"]
    assert rows and rows[0]["ended_at"] and rows[0]["close_reason"] == "server shutdown", rows
    g.start()  # the fixture stops it again


def test_proxycommand_ssh_w(ghenv, tmp_path):
    """ProxyCommand ssh -W %h:%p (what -J does under the hood) is the same jump."""
    g = ghenv
    cfg, _ = _setup(g, tmp_path)
    p = _ssh(g, cfg, "web01-pc", "echo via-w; exit 7")
    assert p.returncode == 7, p.stderr
    assert p.stdout == "via-w\n"
    r = _closed_sessions(g)[0]
    assert r["kind"] == "exec" and r["exit_status"] == 7 and r["recording_path"]


def _plain_setup(g, tmp_path):
    """ssh_config with only gh and strict host key checking: `ssh -J gh
    ACCOUNT@HOST` then asks for HOST on port 22, as a user types it."""
    kh = tmp_path / "kh_plain"
    kh.write_text(_front_line(g) + _known_hosts(g))
    cfg = tmp_path / "ssh_config_plain"
    cfg.write_text(f"""
Host gh
    HostName 127.0.0.1
    Port {g.port}
    User alice
Host *
    UserKnownHostsFile {kh}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    PreferredAuthentications password
    PubkeyAuthentication no
    IdentityAgent none
    ConnectTimeout 10
    LogLevel ERROR
""")
    return str(cfg), kh


def test_jump_by_name_whatever_the_ssh_port(ghenv, tmp_path):
    """`ssh -J gh deploy@web01` with web01's SSH port not 22: the channel to
    web01:22 names the asset, so it is a recorded jump to its SSH service,
    trusted through the plain `web01` line known-hosts prints. Guards the
    channel to NAME:22 being taken for a TCP tunnel (`stdio forwarding
    failed`) and the name printed only as [web01]:PORT: fails without the fix."""
    g = ghenv
    assert g.target.port != 22
    hosts = _known_hosts(g).split()[0].split(",")
    assert "web01" in hosts and f"[127.0.0.1]:{g.target.port}" in hosts, hosts
    assert "127.0.0.1" not in hosts  # the address on port 22 is another service
    cfg, _ = _plain_setup(g, tmp_path)
    p = _ssh(g, cfg, f"{UNIX_DEPLOY}@web01", "echo by-name-$((6*7)); exit 4",
             extra=("-J", "gh"))
    assert p.returncode == 4, p.stderr
    assert p.stdout == "by-name-42\n"
    r = _closed_sessions(g)[0]
    assert r["account"] == UNIX_DEPLOY and r["kind"] == "exec" and r["exit_status"] == 4
    assert r["recording_path"] and os.path.exists(r["recording_path"])
    jumps = g.events("jump")
    assert jumps and jumps[-1]["result"] == "allow" and jumps[-1]["asset_name"] == "web01", jumps
    assert not [e for e in g.events("tunnel") if e["result"] == "allow"]


def test_jump_to_address_on_port_22_stays_a_tunnel(ghenv, tmp_path):
    """The asset's address on port 22, when its SSH port is another, is a
    real port of that host: a TCP tunnel needing `forward` (alice has only
    connect), refused and audited, never a jump."""
    g = ghenv
    cfg, _ = _plain_setup(g, tmp_path)
    p = _ssh(g, cfg, f"{UNIX_DEPLOY}@127.0.0.1", "true", extra=("-J", "gh"))
    assert p.returncode == 255
    assert "forwarding failed" in p.stderr or "prohibited" in p.stderr, p.stderr
    ev = [e for e in g.events("tunnel") if e["result"] == "deny"]
    assert ev and ev[-1]["asset_name"] == "web01" and "forward" in ev[-1]["reason"], ev
    assert not g.events("jump")
    assert not [r for r in g.sessions() if r["asset_name"] == "web01"]


def test_jump_by_name_beats_another_assets_address(ghenv, tmp_path):
    """A name that is also another asset's address: `web01` on port 22 is
    the asset named web01 (a jump to its SSH service), not asset gamma whose
    address is `web01` with SSH port 22 (that one preferred the port and
    jumped to gamma, a login to the unresolvable host web01)."""
    g = ghenv
    g.cli("asset", "add", "gamma", "--address", "web01", "--port", "22")
    g.add_account("gamma", UNIX_DEPLOY)
    g.add_perm("p-alice-gamma", "alice", "gamma")
    cfg, _ = _plain_setup(g, tmp_path)
    p = _ssh(g, cfg, f"{UNIX_DEPLOY}@web01", "echo named; exit 6", extra=("-J", "gh"))
    assert p.returncode == 6, p.stderr
    assert p.stdout == "named\n"
    assert _closed_sessions(g)[0]["exit_status"] == 6
    assert [e["asset_name"] for e in g.events("jump")] == ["web01"]


def test_jump_by_name_in_another_case(ghenv, tmp_path):
    """Asset names match in any case (the client lowercases host names and
    compares known_hosts lines so); several assets of one name in other
    cases are refused as ambiguous, never guessed."""
    g = ghenv
    g.add_asset("DB01")
    g.add_account("DB01", UNIX_DEPLOY)
    g.add_perm("p-alice-DB01", "alice", "DB01")
    cfg, _ = _plain_setup(g, tmp_path)
    assert "DB01" in _known_hosts(g)
    p = _ssh(g, cfg, f"{UNIX_DEPLOY}@DB01", "echo upper; exit 2", extra=("-J", "gh"))
    assert p.returncode == 2, p.stderr
    assert p.stdout == "upper\n"
    assert _closed_sessions(g, asset="DB01")[0]["exit_status"] == 2
    g.add_asset("Db01")
    p = _ssh(g, cfg, "gh", extra=("-W", "db01:22"), timeout=30)
    assert p.returncode == 255, p.stderr
    ev = [e for e in g.events("tunnel") if e["result"] == "deny"]
    assert ev and "ambiguous" in ev[-1]["reason"], ev
    assert [e["asset_name"] for e in g.events("jump")] == ["DB01"]
