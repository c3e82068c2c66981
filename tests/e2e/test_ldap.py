"""LDAP and Active Directory end to end (docs/LDAP.md): a real slapd
(ldapenv.py) with StartTLS and a test CA, the real gatehouse serve, the
real ssh client.

A directory user logs in with its directory password (a bind as its DN,
never stored) and with a key from sshPublicKey; the directory group ops is
mapped to the Gatehouse group ops, which holds the permission on web01;
leaving the group takes the access away at the next sync or login; a
directory-disabled user is refused (OpenLDAP's pwdAccountLockedTime, AD's
userAccountControl); a directory that is down or does not answer fails
within ldap_timeout while local users log in as before; an injection in the
user name finds nobody. Every change the directory makes is a chained
"change" event by actor ldap."""
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from dropenv import drop_tmp  # noqa: F401 (fixture)
from ldapenv import *  # noqa: F401,F403
from ldapenv import ROOT_DN  # noqa: F401
from sshenv import *  # noqa: F401,F403
from sshenv import running_gatehouse

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

ADMIN_PW = "local-" + "admin-Pw-77"


def _pwfile(tmp_path, content=SERVICE_PW + "\n", mode=0o600):
    p = os.path.join(str(tmp_path), "ldap-bind.pw")
    with open(p, "w") as f:
        f.write(content)
    os.chmod(p, mode)
    return p


@contextlib.contextmanager
def ldap_gatehouse(gh_bin, tmp_path, target, sl, extra="", **over):
    """Gatehouse with LDAP on SL: ops => ops holds connect on web01 as
    ghtest-deploy; a local user 'localadmin' with a password."""
    over.setdefault("ldap_group_map", [f"cn=ops,{GROUPS} => ops"])
    conf = ldap_conf(sl, _pwfile(tmp_path), **over) + extra
    with running_gatehouse(gh_bin, tmp_path, target, conf) as g:
        g.add_user("localadmin", password=ADMIN_PW)
        g.add_asset("web01")
        g.add_account("web01", UNIX_DEPLOY)
        g.cli("group", "add", "ops", check=None)  # a periodic sync may have made it
        g.cli("perm", "add", "p-ops", "--group", "ops", "--asset", "web01", "--account",
              UNIX_DEPLOY)
        g.cli("perm", "add", "p-local", "--user", "localadmin", "--asset", "web01", "--account",
              UNIX_DEPLOY)
        yield g


@pytest.fixture
def lg(gh_bin, tmp_path, target, slapd):
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd) as g:
        yield g


def _login(u):
    return f"{u}@{UNIX_DEPLOY}@web01"


def _user(g, name):
    with contextlib.closing(g.db()) as c:
        r = c.execute("SELECT u.*, l.dn, l.email, l.display_name, l.dir_disabled FROM users u "
                      "LEFT JOIN user_ldap l ON l.user_id = u.id WHERE u.name = ?",
                      (name,)).fetchone()
        return dict(r) if r else None


def _groups_of(g, name):
    with contextlib.closing(g.db()) as c:
        return sorted(r[0] for r in c.execute(
            "SELECT g.name FROM user_groups g JOIN group_members m ON m.group_id = g.id "
            "JOIN users u ON u.id = m.user_id WHERE u.name = ?", (name,)))


def _ldap_changes(g):
    return [e for e in g.events("change") if e["user_name"] == "ldap"]


def _last_login(g, name):
    ev = [e for e in g.events("login") if e["user_name"] == name]
    return ev[-1] if ev else None


def _reaches(g, name, **kw):
    p = ssh_run(g, _login(name), "id -un", **kw)
    return p.returncode == 0 and p.stdout.strip() == UNIX_DEPLOY, p


def test_password_login_over_starttls_with_mapped_group(lg, slapd):
    """alice exists only in the directory: her first login over ssh binds as
    her DN over StartTLS (test CA), creates her (source ldap, no password
    stored), puts her in ops (mapped from cn=ops) whose permission lets her
    reach web01. A wrong password is refused."""
    ok, p = _reaches(lg, "alice", password=USER_PW["alice"])
    assert ok, p.stderr + lg.read_log()
    u = _user(lg, "alice")
    assert u["source"] == "ldap" and u["password_hash"] is None
    assert u["dn"] == f"uid=alice,{PEOPLE}" and u["email"] == "alice@example.org"
    assert u["display_name"] == "Alice Example"
    assert '"source": "ldap"' in lg.cli("user", "show", "alice", "--json").stdout
    assert _groups_of(lg, "alice") == ["ops"]
    what = [e["method"] for e in _ldap_changes(lg)]
    assert "ldap user add" in what and "ldap group member add" in what
    assert all(e["source"] == "login" for e in _ldap_changes(lg))
    # the password never reaches the store, the log or the events
    blob = lg.read_log() + repr(lg.events())
    assert USER_PW["alice"] not in blob and SERVICE_PW not in blob

    ok, p = _reaches(lg, "alice", password="wrong-" + USER_PW["alice"])
    assert not ok
    ev = _last_login(lg, "alice")
    assert ev["result"] == "failure" and ev["reason"] == "bad password"
    # the second user base (ou=staff) is searched too
    ok, p = _reaches(lg, "erin", password=USER_PW["erin"])
    assert not ok  # erin is in no mapped group: logged in, but no permission
    assert _last_login(lg, "erin")["result"] == "success"
    assert _user(lg, "erin")["dn"] == f"uid=erin,ou=staff,{BASE}"
    verify = lg.cli("event", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_key_from_sshPublicKey(lg, slapd, keygen):
    """bob's key is his directory entry's sshPublicKey: it logs him in; a
    key the directory does not hold does not. Removing the key from the
    directory takes it away at the next login."""
    slapd.modify(f"dn: cn=ops,{GROUPS}\nchangetype: modify\nadd: member\n"
                 f"member: uid=bob,{PEOPLE}\n")
    ok, p = _reaches(lg, "bob", key=slapd.bob_key)
    assert ok, p.stderr + lg.read_log()
    assert _last_login(lg, "bob")["method"] == "publickey"
    other, _ = keygen("not_in_directory")
    ok, p = _reaches(lg, "bob", key=other)
    assert not ok
    slapd.modify(f"dn: uid=bob,{PEOPLE}\nchangetype: modify\ndelete: sshPublicKey\n")
    ok, p = _reaches(lg, "bob", key=slapd.bob_key)
    assert not ok
    assert _last_login(lg, "bob")["reason"] == "key not registered"
    assert "ldap user key del" in [e["method"] for e in _ldap_changes(lg)]


def test_removed_from_group_no_access_after_sync(lg, slapd):
    """alice leaves cn=ops in the directory: `gatehouse ldap sync` takes her
    out of ops (a change event by ldap) and she reaches web01 no more."""
    assert _reaches(lg, "alice", password=USER_PW["alice"])[0]
    slapd.modify(f"dn: cn=ops,{GROUPS}\nchangetype: modify\ndelete: member\n"
                 f"member: uid=alice,{PEOPLE}\n")
    dry = lg.cli("ldap", "sync", "--dry-run")
    assert "would ldap group member del: \"ops\" \"alice\"" in dry.stdout, dry.stdout
    assert _groups_of(lg, "alice") == ["ops"]  # a dry run changes nothing
    p = lg.cli("ldap", "sync")
    assert "ldap group member del: \"ops\" \"alice\"" in p.stdout, p.stdout
    assert _groups_of(lg, "alice") == []
    ev = [e for e in _ldap_changes(lg) if e["method"] == "ldap group member del"]
    assert ev and ev[-1]["source"] == "sync"
    # a session opened now is refused by the gate
    ok, p = _reaches(lg, "alice", password=USER_PW["alice"])
    assert not ok


def test_removed_from_group_no_access_at_next_login(lg, slapd):
    """Without a sync: the next login reads the directory and the access is
    gone; put back in the group, the next login has it again."""
    assert _reaches(lg, "alice", password=USER_PW["alice"])[0]
    slapd.modify(f"dn: cn=ops,{GROUPS}\nchangetype: modify\ndelete: member\n"
                 f"member: uid=alice,{PEOPLE}\n")
    assert not _reaches(lg, "alice", password=USER_PW["alice"])[0]
    assert _groups_of(lg, "alice") == []
    slapd.modify(f"dn: cn=ops,{GROUPS}\nchangetype: modify\nadd: member\n"
                 f"member: uid=alice,{PEOPLE}\n")
    assert _reaches(lg, "alice", password=USER_PW["alice"])[0]


def test_disabled_in_directory_refused(lg, slapd):
    """carol is locked in the directory (ppolicy's pwdAccountLockedTime):
    refused, and the sync disables her in Gatehouse (kept, not deleted);
    unlocked, the sync enables her again. A user gone from the directory is
    disabled, its history kept."""
    assert _last_login(lg, "carol") is None
    p = ssh_run(lg, "carol", "true", password=USER_PW["carol"])
    assert _last_login(lg, "carol")["result"] == "success", lg.read_log()
    slapd.modify(f"dn: uid=carol,{PEOPLE}\nchangetype: modify\nadd: pwdAccountLockedTime\n"
                 "pwdAccountLockedTime: 000001010000Z\n")
    p = lg.cli("ldap", "sync")
    assert "ldap user disable: \"carol\" (pwdAccountLockedTime set)" in p.stdout, p.stdout
    assert _user(lg, "carol")["disabled"] == 1
    p = ssh_run(lg, "carol", "true", password=USER_PW["carol"])
    assert p.returncode != 0
    assert _last_login(lg, "carol")["reason"] == "disabled"
    slapd.modify(f"dn: uid=carol,{PEOPLE}\nchangetype: modify\ndelete: pwdAccountLockedTime\n")
    lg.cli("ldap", "sync")
    assert _user(lg, "carol")["disabled"] == 0
    # gone from the directory: disabled, the row and its events stay
    slapd.modify(f"dn: uid=carol,{PEOPLE}\nchangetype: delete\n")
    p = lg.cli("ldap", "sync")
    assert "ldap user disable: \"carol\" (gone from the directory)" in p.stdout, p.stdout
    assert _user(lg, "carol")["disabled"] == 1
    assert _last_login(lg, "carol") is not None


def test_active_directory_flavour(gh_bin, tmp_path, target, slapd):
    """ldap_flavor = ad: sAMAccountName, memberOf, userAccountControl. dave
    (512) reaches web01 through memberOf cn=ops; frank (514, bit 0x2) is
    refused and never created."""
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd, ldap_flavor="ad",
                        ldap_user_base=f"ou=ad,{BASE}") as g:
        ok, p = _reaches(g, "dave", password=USER_PW["dave"])
        assert ok, p.stderr + g.read_log()
        assert _user(g, "dave")["display_name"] == "Dave AD"
        assert _groups_of(g, "dave") == ["ops"]
        ok, p = _reaches(g, "frank", password=USER_PW["frank"])
        assert not ok
        assert _last_login(g, "frank")["reason"] == "disabled"
        assert _user(g, "frank") is None
        t = g.cli("ldap", "test", "frank")
        assert "userAccountControl 514" in t.stdout and "refused" in t.stdout, t.stdout


def test_directory_down_fails_cleanly_local_admin_still_in(lg, slapd):
    """slapd stopped: an LDAP user's login fails with "directory
    unavailable" at once; the local user logs in as before."""
    assert _reaches(lg, "alice", password=USER_PW["alice"])[0]
    slapd.stop()
    t0 = time.monotonic()
    ok, p = _reaches(lg, "alice", password=USER_PW["alice"])
    assert not ok and time.monotonic() - t0 < 15
    assert _last_login(lg, "alice")["reason"] == "directory unavailable"
    ok, p = _reaches(lg, "localadmin", password=ADMIN_PW)
    assert ok, p.stderr
    p = lg.cli("ldap", "sync", check=1)
    assert "nothing disabled" in p.stderr
    assert _user(lg, "alice")["disabled"] == 0


@pytest.fixture
def silent_directory():
    """A TCP port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    conns, stop = [], threading.Event()

    def hold():
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(s.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=hold, daemon=True)
    t.start()
    yield s.getsockname()[1]
    stop.set()
    t.join(5)
    for c in conns:
        c.close()
    s.close()


def test_silent_directory_bounded_by_ldap_timeout(gh_bin, tmp_path, target, slapd,
                                                  silent_directory):
    """A directory that accepts and never answers: the login fails within
    ldap_timeout (2 s here, plus the failure delay), not at login_grace_time;
    the local user is not slowed down."""
    url = f"ldap://127.0.0.1:{silent_directory}"
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd, ldap_url=url, ldap_timeout="2") as g:
        t0 = time.monotonic()
        ok, p = _reaches(g, "alice", password=USER_PW["alice"])
        took = time.monotonic() - t0
        assert not ok and took < 10, took
        assert _last_login(g, "alice")["reason"] == "directory unavailable"
        t0 = time.monotonic()
        ok, p = _reaches(g, "localadmin", password=ADMIN_PW)
        assert ok and time.monotonic() - t0 < 5, p.stderr


def test_injection_in_user_name_finds_nobody(lg, slapd):
    """`*)(uid=*` is escaped (RFC 4515): the directory finds nobody, no user
    is created, the login is refused."""
    t = lg.cli("ldap", "test", "*)(uid=*", check=1)
    assert "(uid=\\2a\\29\\28uid=\\2a)" in t.stdout and "no entry matches" in t.stdout, t.stdout
    t = lg.cli("ldap", "test", "*", check=1)
    assert "no entry matches" in t.stdout
    for name in ("*)(uid=*", "*", "alice)(uid=*"):
        p = ssh_run(lg, name, "true", password=USER_PW["alice"])
        assert p.returncode != 0
    with contextlib.closing(lg.db()) as c:
        names = [r[0] for r in c.execute("SELECT name FROM users")]
    assert sorted(names) == ["admin", "localadmin"], names
    assert not _ldap_changes(lg)


def test_sync_creates_pages_and_periodic(gh_bin, tmp_path, target, slapd):
    """`gatehouse serve` syncs every ldap_sync_interval in a process of its
    own: the directory's users appear without logging in (five users over a
    size limit of two: paged results), a new one within the interval."""
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd, ldap_sync_interval="1") as g:
        assert wait_for(lambda: _user(g, "mallory") is not None and _user(g, "erin"), 20), \
            g.read_log()
        assert _groups_of(g, "alice") == ["ops"]
        assert all(e["source"] == "sync" for e in _ldap_changes(g))
        slapd.modify(f"dn: uid=grace,{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\n"
                     "uid: grace\ncn: Grace\nsn: G\n")
        assert wait_for(lambda: _user(g, "grace") is not None, 20), g.read_log()
        # a local user of a directory user's name is never taken over
        with contextlib.closing(g.db()) as c:
            assert c.execute("SELECT source FROM users WHERE name = 'localadmin'"
                             ).fetchone()[0] == "local"


def test_bind_password_file_must_be_private(gh_bin, tmp_path, target, slapd):
    """The bind password file is read by root before workers drop: a file
    readable by others stops `serve` and `ldap test` naming the file, never
    showing the secret."""
    pw = _pwfile(tmp_path, mode=0o644)
    conf = ldap_conf(slapd, pw, ldap_group_map=f"cn=ops,{GROUPS} => ops")
    g = Gatehouse(gh_bin, str(tmp_path), target, extra_conf=conf)
    t = g.cli("ldap", "test", check=1)
    assert "ldap-bind.pw" in t.stderr and "mode 0644" in t.stderr, t.stderr
    assert SERVICE_PW not in t.stdout + t.stderr
    p = subprocess.run([gh_bin, "--data", g.data, "serve"], capture_output=True, text=True,
                       timeout=60, env=g.env)
    assert p.returncode != 0 and "ldap-bind.pw" in p.stderr + p.stdout, p.stderr
    os.chmod(pw, 0o600)
    t = g.cli("ldap", "test", "alice")
    assert "connection: ok" in t.stdout and f"dn: uid=alice,{PEOPLE}" in t.stdout, t.stdout
    assert "gatehouse groups:\n  ops" in t.stdout


def test_with_privilege_drop(gh_bin, drop_tmp, target, slapd):
    """The default set-up (workers drop to the gatehouse user): the bind
    password was read by root before the drop (the file stays root's 0600),
    the worker connects with StartTLS and binds as the user."""
    ca = os.path.join(drop_tmp, "ldap-ca.crt")
    shutil.copyfile(slapd.ca, ca)
    os.chmod(ca, 0o644)
    pw = _pwfile(drop_tmp)
    conf = ldap_conf(slapd, pw, ldap_ca_file=ca, ldap_group_map=f"cn=ops,{GROUPS} => ops")
    g = Gatehouse(gh_bin, drop_tmp, target, extra_conf=conf, drop=True)
    g.start()
    try:
        g.add_asset("web01")
        g.add_account("web01", UNIX_DEPLOY)
        g.cli("group", "add", "ops")
        g.cli("perm", "add", "p-ops", "--group", "ops", "--asset", "web01", "--account",
              UNIX_DEPLOY)
        ok, p = _reaches(g, "alice", password=USER_PW["alice"])
        assert ok, p.stderr + g.read_log()
        slapd.modify(f"dn: cn=ops,{GROUPS}\nchangetype: modify\nadd: member\n"
                     f"member: uid=bob,{PEOPLE}\n")
        ok, p = _reaches(g, "bob", key=slapd.bob_key)
        assert ok, p.stderr + g.read_log()
        assert os.stat(pw).st_mode & 0o777 == 0o600 and os.stat(pw).st_uid == 0
    finally:
        rc = g.stop()
    assert rc == 0, g.read_log()


def test_totp_still_applies(gh_bin, tmp_path, target, slapd):
    """With mfa = all an LDAP user's directory password is the first factor
    only: enrolment at the first login, then a code every time."""
    from test_mfa import CODE_PROMPT, enrol, finish, password_step, spawn, totp
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd, extra="mfa = all\n") as g:
        g.alice_pw = USER_PW["alice"]
        c = spawn(g, login=_login("alice"))
        password_step(g, c)
        secret = enrol(g, c)
        out, status = finish(c)
        assert status == 0 and "mfa-reached-target" in out, out + g.read_log()
        code = totp(secret, offset=30)
        c = spawn(g, login=_login("alice"))
        password_step(g, c)
        c.expect(CODE_PROMPT)
        c.sendline(code)
        out, status = finish(c)
        assert status == 0 and "mfa-reached-target" in out, out
        assert _last_login(g, "alice")["reason"] == "totp code after password"


def test_config_check_names_ldap_mistakes(gh, tmp_path, data_dir):
    """`gatehouse config check` refuses an LDAP setting that cannot work."""
    conf = os.path.join(str(data_dir), "gatehouse.conf")
    os.makedirs(str(data_dir), exist_ok=True)
    for text, word in (("ldap_url = http://h\nldap_user_base = dc=x\n", "ldap://"),
                       ("ldap_url = ldap://h\n", "ldap_user_base"),
                       ("ldap_url = ldap://h\nldap_user_base = dc=x\n"
                        "ldap_group_map = cn=ops,dc=x ops\n", "ldap_group_map")):
        with open(conf, "w") as f:
            f.write(text)
        p = gh("config", "check")
        assert p.returncode == 1 and word in p.stderr, p.stderr
    with open(conf, "w") as f:
        f.write("ldap_url = ldap://h\nldap_user_base = dc=x\n"
                "ldap_group_map = cn=ops,dc=x => ops\nldap_group_map = cn=dba,dc=x => dba\n")
    p = gh("config", "check")
    assert p.returncode == 0, p.stderr
    show = gh("config", "show").stdout
    assert "ldap_group_map = cn=ops,dc=x => ops\nldap_group_map = cn=dba,dc=x => dba\n" in show


def test_directory_never_takes_over_a_local_user(lg, slapd):
    """mallory exists locally (with a password of her own) and in the
    directory: she stays local. Her directory password does not log her in,
    the sync skips her, her local password still works, no directory group
    is given to her."""
    lg.add_user("mallory", password=ADMIN_PW)
    lg.cli("perm", "add", "p-mallory", "--user", "mallory", "--asset", "web01", "--account",
           UNIX_DEPLOY)
    ok, p = _reaches(lg, "mallory", password=USER_PW["mallory"])
    assert not ok and _last_login(lg, "mallory")["reason"] == "bad password"
    p = lg.cli("ldap", "sync")
    assert "skipped mallory: a local user of that name exists" in p.stdout, p.stdout
    assert _user(lg, "mallory")["source"] == "local" and _user(lg, "mallory")["dn"] is None
    assert _reaches(lg, "mallory", password=ADMIN_PW)[0]


def test_empty_password_and_unverified_certificate_refused(gh_bin, tmp_path, target, slapd):
    """An empty password is never sent as a bind (the directory would take
    it as anonymous and say yes); a directory whose certificate does not
    chain to ldap_ca_file (here: none given, the system CAs) is not used."""
    with ldap_gatehouse(gh_bin, tmp_path, target, slapd) as g:
        assert _reaches(g, "alice", password=USER_PW["alice"])[0]
        ok, p = _reaches(g, "alice", password="")
        assert not ok and _last_login(g, "alice")["reason"] == "bad password"
    (tmp_path / "nocafile").mkdir()
    with ldap_gatehouse(gh_bin, tmp_path / "nocafile", target, slapd, ldap_ca_file="") as g:
        ok, p = _reaches(g, "alice", password=USER_PW["alice"])
        assert not ok and _last_login(g, "alice")["reason"] == "directory unavailable"
        assert "certificate" in g.read_log().lower() or "tls" in g.read_log().lower(), \
            g.read_log()
        t = g.cli("ldap", "test", check=1)
        assert "connection: FAILED" in t.stdout, t.stdout


def test_web_console_login_binds_as_the_directory_user(lg, slapd, tmp_path):
    """The web console's login asks the same first-factor rules as SSH
    (auth/userauth.h): an LDAP user's password is a bind as its DN from the
    privilege-dropped web process; a wrong one is refused and audited."""
    from test_web_api import Web
    web = Web(lg, str(tmp_path))
    r = web.req("POST", "/api/v1/login", json={"user": "alice", "password": "wrong"})
    assert r.status_code == 401, r.text
    ev = _last_login(lg, "alice")
    assert ev["method"] == "web" and ev["result"] == "failure", ev
    r = web.req("POST", "/api/v1/login", json={"user": "alice", "password": USER_PW["alice"]})
    assert r.status_code == 200, r.text + lg.read_log()
    assert _user(lg, "alice")["source"] == "ldap"
    ev = _last_login(lg, "alice")
    assert ev["method"] == "web" and ev["result"] == "success", ev
