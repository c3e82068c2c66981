"""A real OpenLDAP directory for the LDAP end-to-end tests: Debian's
`slapd` in a temp dir on a free loopback port (slapd.conf style, mdb
database loaded with slapadd before start, `-d 0` so that it stays in the
foreground, stopped by PID), StartTLS with a certificate of a test CA made
here with openssl. The tree:

  dc=example,dc=org
    ou=people   alice (password, group ops), bob (password + sshPublicKey),
                carol (password), mallory (password; group dba)
    ou=staff    erin (a second user base)
    ou=ad       AD-like entries (objectClass user): dave (userAccountControl
                512, memberOf ops), frank (514: disabled)
    ou=groups   ops (alice), dba (mallory); both also name uid=nobody (no
                entry: groupOfNames needs a member when the tests empty one)
    ou=services gatehouse (the service account Gatehouse binds as)

Every wait has a deadline; nothing here talks to anything off loopback."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from sshenv import free_port, port_open, reachable_tmp, wait_for

__all__ = ["Slapd", "slapd", "BASE", "PEOPLE", "GROUPS", "SERVICE_DN", "SERVICE_PW",
           "USER_PW", "ldap_conf"]

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
SERVICE_DN = f"cn=gatehouse,ou=services,{BASE}"
SERVICE_PW = "svc-" + "Pw-4kQ9"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PW = "root-" + "Pw-Z2x7"
USER_PW = {"alice": "alice-" + "Ld-8Hn", "bob": "bob-" + "Ld-3Km", "carol": "carol-" + "Ld-5Tq",
           "mallory": "mallory-" + "Ld-1Wz", "erin": "erin-" + "Ld-6Yp",
           "dave": "dave-" + "Ld-2Rc", "frank": "frank-" + "Ld-9Vb"}


def _run(*args, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=60, **kw)
    assert p.returncode == 0, f"{' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def _make_ca(d):
    """A test CA and a server certificate for 127.0.0.1 signed by it."""
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=Gatehouse Test CA")
    _run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def _ldif(ssh_key_line):
    people = []
    for uid in ("alice", "bob", "carol", "mallory"):
        extra = ""
        if uid == "bob" and ssh_key_line:
            extra = f"objectClass: ldapPublicKey\nsshPublicKey: {ssh_key_line}\n"
        people.append(f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
{extra}uid: {uid}
cn: {uid.capitalize()} Example
sn: Example
mail: {uid}@example.org
userPassword: {USER_PW[uid]}
""")
    ad = []
    for uid, uac, groups in (("dave", 512, ["ops"]), ("frank", 514, ["ops"])):
        member_of = "".join(f"memberOf: cn={g},{GROUPS}\n" for g in groups)
        ad.append(f"""dn: cn={uid},ou=ad,{BASE}
objectClass: user
cn: {uid}
sn: {uid}
sAMAccountName: {uid}
displayName: {uid.capitalize()} AD
userAccountControl: {uac}
{member_of}userPassword: {USER_PW[uid]}
""")
    return f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ou=staff,{BASE}
objectClass: organizationalUnit
ou: staff

dn: ou=ad,{BASE}
objectClass: organizationalUnit
ou: ad

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{BASE}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: gatehouse
userPassword: {SERVICE_PW}

""" + "\n".join(people) + f"""
dn: uid=erin,ou=staff,{BASE}
objectClass: inetOrgPerson
uid: erin
cn: Erin Staff
sn: Staff
userPassword: {USER_PW['erin']}

""" + "\n".join(ad) + f"""
dn: cn=ops,{GROUPS}
objectClass: groupOfNames
cn: ops
member: uid=alice,{PEOPLE}
member: uid=nobody,{PEOPLE}

dn: cn=dba,{GROUPS}
objectClass: groupOfNames
cn: dba
member: uid=mallory,{PEOPLE}
member: uid=nobody,{PEOPLE}
"""


class Slapd:
    """One slapd on 127.0.0.1:PORT serving the test tree."""

    def __init__(self, tmp, ssh_key_line=None):
        self.dir = os.path.join(tmp, "slapd")
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ca, crt, key = _make_ca(self.dir)
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.log_path = os.path.join(self.dir, "slapd.log")
        with open(self.conf, "w") as f:
            f.write(f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {HERE}/ldap/openssh-lpk.schema
include {HERE}/ldap/ad-compat.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
TLSCACertificateFile {self.ca}
TLSCertificateFile {crt}
TLSCertificateKeyFile {key}
# without paged results a search returns at most 2 entries: the tests list 5 users
sizelimit size.soft=2 size.hard=2 size.pr=2 size.prtotal=unlimited

database mdb
maxsize 16777216
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {self.dir}/db
overlay ppolicy
access to attrs=userPassword by anonymous auth by self write by * none
access to * by dn.exact="{SERVICE_DN}" read by self read by * none
""")
        ldif = os.path.join(self.dir, "tree.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif(ssh_key_line))
        _run("slapadd", "-f", self.conf, "-l", ldif)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            ["/usr/sbin/slapd", "-d", "0", "-f", self.conf, "-h", self.url],
            stdout=self.log, stderr=self.log, start_new_session=True)
        if not wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 20) \
                or self.proc.poll() is not None:
            self.stop()
            pytest.fail("slapd did not start:\n" + open(self.log_path).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        wait_for(lambda: not port_open(self.port), 10)

    def modify(self, ldif):
        """Apply LDIF changes as the directory's administrator."""
        return _run("ldapmodify", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW,
                    input=ldif)


def ldap_conf(sl, pwfile, **over):
    """gatehouse.conf lines for SL (a Slapd) with the bind password in PWFILE."""
    conf = {
        "ldap_url": sl.url,
        "ldap_ca_file": sl.ca,
        "ldap_bind_dn": SERVICE_DN,
        "ldap_bind_password_file": pwfile,
        "ldap_user_base": f"{PEOPLE} | ou=staff,{BASE}",
        "ldap_group_base": GROUPS,
        "ldap_timeout": "3",
        "ldap_page_size": "2",
    }
    conf.update(over)
    lines = []
    for k, v in conf.items():
        for one in (v if isinstance(v, list) else [v]):
            lines.append(f"{k} = {one}\n")
    return "".join(lines)


@pytest.fixture
def slapd(tmp_path, keygen):
    """A started slapd whose bob holds a generated key (slapd.bob_key: the
    private key path). Its directory (the test CA Gatehouse's workers read)
    is one the workers' user can reach: they drop privileges by default."""
    key, pub = keygen("bob_ldap")
    with open(pub) as f:
        line = f.read().strip()
    tmp = reachable_tmp()
    s = Slapd(tmp, ssh_key_line=line)
    s.bob_key = key
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)
