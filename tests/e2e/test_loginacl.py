"""Login ACLs (source CIDR, schedules) and permission schedules end to end:
real OpenSSH clients bound to 127.0.0.1 or 127.0.0.2 (ssh -b) against
gatehouse on 127.0.0.1. A refusal is a plain authentication failure for the
client; the audit log names the rule."""
import datetime

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_run

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def run_from(g, source, cmd="echo reached-target"):
    return ssh_run(g, DIRECT, cmd, password=g.alice_pw,
                   extra=("-b", source, "-o", "NumberOfPasswordPrompts=1"))


def login_failures(g):
    return [e for e in g.events("login") if e["result"] == "failure"]


def not_today_utc():
    """A whole-day UTC window two days away: never holds now."""
    day = (datetime.datetime.now(datetime.timezone.utc).weekday() + 2) % 7
    return f"{DAYS[day]} 00:00-24:00 UTC"


def assert_refused_plainly(p):
    assert p.returncode == 255, (p.stdout, p.stderr)
    assert "reached-target" not in p.stdout
    assert "Permission denied" in p.stderr, p.stderr
    # nothing about rules, ACLs or schedules reaches the client
    for word in ("acl", "rule", "schedule", "office", "elsewhere"):
        assert word not in p.stderr.lower(), p.stderr


def test_cidr_allows_one_source_and_refuses_another(ghenv):
    g = ghenv
    g.cli("loginacl", "add", "office", "--user", "alice", "--cidr", "127.0.0.1/32",
          "--action", "allow", "--priority", "10")
    g.cli("loginacl", "add", "elsewhere", "--user", "alice", "--action", "deny",
          "--priority", "90")
    ok = run_from(g, "127.0.0.1")
    assert ok.returncode == 0, ok.stderr
    assert "reached-target" in ok.stdout

    bad = run_from(g, "127.0.0.2")
    assert_refused_plainly(bad)
    refused = [e for e in login_failures(g) if e["source"].startswith("127.0.0.2:")]
    assert refused and refused[-1]["reason"] == "acl deny rule=elsewhere", refused
    assert refused[-1]["method"] == "password"
    assert "acl deny rule=elsewhere" in g.read_log()
    # no session was opened for the refused login
    assert all(not (s["source_addr"] or "").startswith("127.0.0.2") for s in g.sessions())

    # deleting the deny rule lets 127.0.0.2 in again (no rule matches: allowed)
    g.cli("loginacl", "del", "elsewhere")
    changes = [e["method"] for e in g.events("change") if e["result"] == "ok"]
    assert changes.count("loginacl add") == 2 and "loginacl del" in changes
    again = run_from(g, "127.0.0.2")
    assert again.returncode == 0, again.stderr


def test_group_rule_and_listing(ghenv):
    g = ghenv
    g.cli("group", "add", "ops")
    g.cli("group", "member", "add", "ops", "alice")
    g.cli("loginacl", "add", "ops-lab", "--group", "ops", "--source", "127.0.0.2",
          "--source", "::ffff:127.0.0.3/128", "--action", "deny", "--priority", "5")
    out = g.cli("loginacl", "list").stdout
    assert "ops-lab" in out and "@ops" in out and "127.0.0.2/32" in out
    rules = __import__("json").loads(g.cli("loginacl", "list", "--json").stdout)
    assert rules[0]["groups"] == ["ops"] and rules[0]["action"] == "deny"
    assert rules[0]["sources"] == ["127.0.0.2/32", "127.0.0.3/32"]
    assert_refused_plainly(run_from(g, "127.0.0.2"))
    assert login_failures(g)[-1]["reason"] == "acl deny rule=ops-lab"
    assert run_from(g, "127.0.0.1").returncode == 0


def test_login_schedule_outside_window_refused(ghenv):
    g = ghenv
    # allowed only in a window that excludes now; everything else denied
    g.cli("loginacl", "add", "hours", "--user", "alice", "--schedule", not_today_utc(),
          "--action", "allow", "--priority", "10")
    g.cli("loginacl", "add", "closed", "--user", "alice", "--action", "deny",
          "--priority", "20")
    assert_refused_plainly(run_from(g, "127.0.0.1"))
    assert login_failures(g)[-1]["reason"] == \
        "acl deny rule=closed (outside schedule of rule hours)"

    # a window holding now in another zone (every day, all day, UTC+14)
    g.cli("loginacl", "add", "always", "--user", "alice", "--action", "allow",
          "--schedule", "Mon-Sun 00:00-24:00 Pacific/Kiritimati", "--priority", "15")
    ok = run_from(g, "127.0.0.1")
    assert ok.returncode == 0, ok.stderr


def test_loginacl_cli_errors(ghenv):
    g = ghenv
    p = g.cli("loginacl", "add", "x", "--user", "alice", "--cidr", "10.0.0.0/33",
              "--action", "deny", check=2)
    assert "bad --source" in p.stderr
    p = g.cli("loginacl", "add", "x", "--user", "alice", "--action", "deny",
              "--schedule", "Mon-Fri 09:00-18:00 Mars/Olympus", check=2)
    assert "unknown time zone" in p.stderr
    p = g.cli("loginacl", "add", "x", "--user", "alice", "--action", "maybe", check=2)
    p = g.cli("loginacl", "add", "x", "--action", "deny", check=2)
    assert "--user" in p.stderr
    p = g.cli("loginacl", "add", "x", "--user", "nobody", "--action", "deny", check=1)
    assert "unknown user" in p.stderr
    g.cli("loginacl", "add", "x", "--user", "alice", "--action", "deny", "--source", "10.0.0.0/8")
    p = g.cli("loginacl", "add", "x", "--user", "alice", "--action", "deny", check=1)
    assert "already exists" in p.stderr
    g.cli("loginacl", "del", "nope", check=1)


def test_permission_schedule(ghenv):
    g = ghenv
    g.cli("perm", "set", "p-alice-web01", "--schedule", not_today_utc())
    assert not_today_utc() in g.cli("perm", "show", "p-alice-web01").stdout
    p = run_from(g, "127.0.0.1")
    # the login succeeds, the target is refused
    assert p.returncode != 0 and "reached-target" not in p.stdout
    assert "not permitted" in p.stderr
    deny = [e for e in g.events("policy") if e["result"] == "deny"]
    assert deny and "outside its schedule" in deny[-1]["reason"], deny
    chk = g.cli("perm", "check", "alice", "web01", UNIX_DEPLOY, check=1)
    assert "outside its schedule" in chk.stdout + chk.stderr

    # a window holding now: allowed again
    g.cli("perm", "set", "p-alice-web01", "--schedule", "Mon-Sun 00:00-24:00 America/New_York")
    assert run_from(g, "127.0.0.1").returncode == 0
    g.cli("perm", "set", "p-alice-web01", "--no-schedule")
    assert "always" in g.cli("perm", "show", "p-alice-web01").stdout

    # perm add --schedule, and a bad schedule is refused
    g.cli("perm", "add", "p2", "--user", "alice", "--asset", "web01", "--schedule",
          "Sat,Sun 10:00-12:00 Europe/Berlin")
    g.cli("perm", "add", "p3", "--user", "alice", "--asset", "web01", "--schedule",
          "Someday 10:00-12:00", check=2)


def _port6_open(port):
    import socket
    try:
        with socket.create_connection(("::1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_ipv6_source(ghenv):
    """Gatehouse on [::1]: IPv6 rules match the IPv6 client address and IPv4
    rules never do."""
    import os
    import subprocess
    from sshenv import ssh_args, wait_for
    g = ghenv
    g.stop()
    conf = os.path.join(g.data, "gatehouse.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace(f"ssh_listen = 127.0.0.1:{g.port}", f"ssh_listen = [::1]:{g.port}"))
    g.log = open(g.log_path, "a")
    g.proc = subprocess.Popen([g.bin, "--data", g.data, "serve"], stdout=g.log, stderr=g.log,
                              env=g.env)
    assert wait_for(lambda: _port6_open(g.port), timeout=30), g.read_log()

    def run6():
        a = ssh_args(g, DIRECT, "echo reached-target")
        a[-2] = f"{DIRECT}@::1"
        a[1:1] = ["-o", "NumberOfPasswordPrompts=1"]
        env = dict(os.environ, SSH_ASKPASS=g.askpass, SSH_ASKPASS_REQUIRE="force",
                   GH_TEST_PASSWORD=g.alice_pw, DISPLAY=os.environ.get("DISPLAY", ":0"))
        env.pop("SSH_AUTH_SOCK", None)
        return subprocess.run(a, input="", capture_output=True, text=True, env=env, timeout=60,
                              start_new_session=True)

    # an IPv4 rule covering all of loopback does not match ::1
    g.cli("loginacl", "add", "v4-loopback", "--user", "alice", "--source", "127.0.0.0/8",
          "--action", "deny", "--priority", "10")
    g.cli("loginacl", "add", "v6-docs", "--user", "alice", "--source", "2001:db8::/32",
          "--action", "deny", "--priority", "10")
    ok = run6()
    assert ok.returncode == 0 and "reached-target" in ok.stdout, ok.stderr
    g.cli("loginacl", "add", "v6-loopback", "--user", "alice", "--source", "::1/128",
          "--action", "deny", "--priority", "20")
    assert_refused_plainly(run6())
    ev = login_failures(g)[-1]
    assert ev["reason"] == "acl deny rule=v6-loopback" and ev["source"].startswith("::1"), ev
