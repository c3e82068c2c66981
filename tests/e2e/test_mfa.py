"""TOTP second factor end to end with the real OpenSSH client under pexpect
(keyboard-interactive after the password or key) and codes computed by
oathtool: enrolment at the first login (secret, otpauth URI, QR code),
later logins, a replayed code, a wrong code, reset."""
import os
import re
import subprocess

import pexpect

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_args

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
CODE_PROMPT = "Verification code: "


def totp(secret, offset=0):
    """The code oathtool computes for SECRET at now + OFFSET seconds."""
    args = ["oathtool", "--totp", "-b", secret]
    if offset:
        args += ["-N", f"now + {offset} seconds"]
    return subprocess.check_output(args, text=True).strip()


def spawn(g, login=DIRECT, command="echo mfa-reached-target", key=None, tries=1):
    """ssh under pexpect, logging at INFO (OpenSSH prints keyboard-interactive
    instructions through its logger) with keyboard-interactive allowed."""
    a = ssh_args(g, login, command, key=key)
    a = ["LogLevel=INFO" if x == "LogLevel=ERROR" else x for x in a]
    a = [x + ",keyboard-interactive" if x.startswith("PreferredAuthentications=") else x
         for x in a]
    # also bounds the keyboard-interactive rounds
    a[1:1] = ["-o", f"NumberOfPasswordPrompts={tries}"]
    env = dict(os.environ, LC_ALL="C.UTF-8", TERM="xterm")
    env.pop("SSH_AUTH_SOCK", None)
    return pexpect.spawn(a[0], a[1:], env=env, timeout=30, encoding="utf-8",
                         codec_errors="replace", dimensions=(80, 120))


def password_step(g, child):
    child.expect("[Pp]assword:")
    child.sendline(g.alice_pw)


def enrol(g, child):
    """Answer the enrolment prompt; returns the secret shown."""
    child.expect(CODE_PROMPT)
    shown = child.before
    m = re.search(r"secret: ([A-Z2-7]{32})", shown)
    assert m, shown
    secret = m.group(1)
    assert f"otpauth://totp/Gatehouse:alice?secret={secret}&issuer=Gatehouse" in shown
    # the QR code, drawn with half blocks, in lines of equal width
    qr = [ln for ln in shown.splitlines() if "\u2588" in ln or "\u2580" in ln]
    assert len(qr) > 10 and len({len(ln.rstrip("\r")) for ln in qr}) == 1, qr
    child.sendline(totp(secret))
    return secret


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def logins(g):
    return g.events("login")


def test_enrolment_then_login_then_replay(ghenv):
    g = ghenv
    g.cli("user", "set", "alice", "--mfa", "required")
    # first login: password, then enrolment confirmed with one code
    c = spawn(g)
    password_step(g, c)
    secret = enrol(g, c)
    out, status = finish(c)
    assert status == 0 and "mfa-reached-target" in out, out
    ev = logins(g)[-1]
    assert ev["result"] == "success" and ev["method"] == "keyboard-interactive"
    assert ev["reason"] == "totp enrolled after password"
    shown = g.cli("user", "mfa", "show", "alice", "--json").stdout
    assert '"totp": true' in shown and '"mfa": "required"' in shown
    assert any(e["method"] == "user set" for e in g.events("change"))
    # the seed is sealed in the store, never stored in clear
    with g.db() as db:
        sealed = db.execute("SELECT totp_sealed FROM users WHERE name='alice'").fetchone()[0]
    assert sealed and secret.encode() not in sealed
    assert secret not in g.read_log()

    # a later login: no enrolment text, a code for the next time step
    code = totp(secret, offset=30)
    c = spawn(g)
    password_step(g, c)
    c.expect(CODE_PROMPT)
    assert "secret:" not in c.before and "otpauth" not in c.before
    c.sendline(code)
    out, status = finish(c)
    assert status == 0 and "mfa-reached-target" in out, out
    assert logins(g)[-1]["reason"] == "totp code after password"

    # the same code again: refused as a replay
    c = spawn(g)
    password_step(g, c)
    c.expect(CODE_PROMPT)
    c.sendline(code)
    i = c.expect([CODE_PROMPT, "Permission denied", pexpect.EOF])
    assert i in (0, 1), c.before
    c.close(force=True)
    fails = [e for e in logins(g) if e["result"] == "failure"]
    assert fails[-1]["reason"] == "totp code replayed", fails[-1]
    assert fails[-1]["method"] == "keyboard-interactive"


def test_wrong_code_then_right_code(ghenv):
    g = ghenv
    g.cli("user", "set", "alice", "--mfa", "required")
    c = spawn(g)
    password_step(g, c)
    secret = enrol(g, c)
    assert finish(c)[1] == 0
    c = spawn(g, tries=2)
    password_step(g, c)
    c.expect(CODE_PROMPT)
    good = totp(secret, offset=30)
    c.sendline("000000" if good != "000000" else "111111")
    # OpenSSH asks again (keyboard-interactive is still allowed)
    c.expect(CODE_PROMPT)
    assert "Permission denied" not in c.before
    c.sendline(good)
    out, status = finish(c)
    assert status == 0 and "mfa-reached-target" in out, out
    reasons = [e["reason"] for e in logins(g)]
    assert "bad totp code" in reasons


def test_global_mfa_all_with_publickey_and_reset(gatehouse, target, keygen):
    g = gatehouse
    g.write_conf("mfa = all\n")  # the configuration is read at start
    g.stop()
    g.start()
    priv, pub = keygen("id_alice")
    g.alice_pw = "unused"
    g.add_user("alice", key_pub=pub)
    g.add_asset("web01")
    g.add_account("web01", UNIX_DEPLOY)
    g.add_perm("p", "alice", "web01")
    assert "mfa = all" in g.cli("config", "show").stdout

    c = spawn(g, key=priv)
    secret = enrol(g, c)
    out, status = finish(c)
    assert status == 0 and "mfa-reached-target" in out, out
    assert logins(g)[-1]["reason"] == "totp enrolled after publickey"

    # reset: the next login enrols a new secret
    g.cli("user", "mfa", "reset", "alice")
    c = spawn(g, key=priv)
    secret2 = enrol(g, c)
    assert finish(c)[1] == 0
    assert secret2 != secret


def test_no_mfa_when_off_and_not_required(ghenv):
    g = ghenv
    c = spawn(g)
    password_step(g, c)
    out, status = finish(c)
    assert status == 0 and "mfa-reached-target" in out
    assert CODE_PROMPT not in out
    assert logins(g)[-1]["method"] == "password"
