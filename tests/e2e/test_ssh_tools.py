"""Stock file-transfer tools through an exec login, end to end: legacy
`scp -O`, rsync over ssh and git over ssh reach the target through
gatehouse, each exec is authorized for its upload or download and written
as a "file" event with its method and path. Real clients -> gatehouse
serve -> real sshd."""
import os
import pwd
import shutil
import subprocess

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, ssh_run, wait_for

# network parsers and protocols: the sanitizer run takes this module too
pytestmark_protocol = True

LOGIN = f"alice@{UNIX_DEPLOY}@web01"
BOB = f"bob@{UNIX_DEPLOY}@web01"


def _need(tool):
    if not shutil.which(tool):
        pytest.fail(f"{tool} missing (scripts/deps.sh installs it)")


def _ssh_opts(g, key, login):
    return ["-F", "/dev/null", "-i", key, "-o", f"User={login}",
            "-o", f"UserKnownHostsFile={g.known_hosts}",
            "-o", "StrictHostKeyChecking=accept-new", "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "PreferredAuthentications=publickey", "-o", "ConnectTimeout=10"]


def _ssh_cmd(g, key, login):
    """The ssh command line for rsync -e and GIT_SSH_COMMAND."""
    return " ".join(["ssh", "-p", str(g.port), *_ssh_opts(g, key, login)])


def _env():
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    return env


def _run(args, env=None, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env or _env(),
                          cwd=cwd, start_new_session=True)


def _scp(g, key, login, src, dst):
    return _run(["scp", "-O", "-q", "-P", str(g.port), *_ssh_opts(g, key, login), src, dst])


def _rsync(g, key, login, src, dst):
    return _run(["rsync", "-a", "-e", _ssh_cmd(g, key, login), src, dst])


def _git(g, key, login, *args, cwd=None):
    env = _env()
    env["GIT_SSH_COMMAND"] = _ssh_cmd(g, key, login)
    env["GIT_TERMINAL_PROMPT"] = "0"
    return _run(["git", "-c", "user.name=Tester", "-c", "user.email=tester@example.test",
                 "-c", "init.defaultBranch=main", *args], env=env, cwd=cwd)


def _as_deploy(*args):
    """Run a command on the target machine as the target account."""
    home = pwd.getpwnam(UNIX_DEPLOY).pw_dir
    return subprocess.run(["runuser", "-u", UNIX_DEPLOY, "--", "env", f"HOME={home}", *args],
                          capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture
def tdir():
    """A fresh directory in the target's /tmp owned by the deploy account."""
    d = f"/tmp/gh-tools-{os.getpid()}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    pw = pwd.getpwnam(UNIX_DEPLOY)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bare_repo(tdir):
    """A bare git repository with one commit, made on the target by its
    account; returns its path."""
    _need("git")
    _as_deploy("git", "-c", "user.name=Deploy", "-c", "user.email=deploy@example.test",
               "-c", "init.defaultBranch=main", "init", "-q", f"{tdir}/work")
    with open(f"{tdir}/work/README", "w") as f:
        f.write("hello from the target\n")
    pw = pwd.getpwnam(UNIX_DEPLOY)
    os.chown(f"{tdir}/work/README", pw.pw_uid, pw.pw_gid)
    _as_deploy("git", "-C", f"{tdir}/work", "add", "README")
    _as_deploy("git", "-C", f"{tdir}/work", "-c", "user.name=Deploy",
               "-c", "user.email=deploy@example.test", "commit", "-q", "-m", "init")
    _as_deploy("git", "clone", "-q", "--bare", f"{tdir}/work", f"{tdir}/repo.git")
    return f"{tdir}/repo.git"


@pytest.fixture
def alice_key(ghenv, keygen):
    priv, pub = keygen("alice_key")
    ghenv.cli("user", "key", "add", "alice", "--key-file", pub)
    return priv


def _file_events(g, method=None):
    return [e for e in g.events("file") if method is None or e["method"] == method]


def _wait_events(g, method, n=1):
    assert wait_for(lambda: len(_file_events(g, method)) >= n, timeout=10), g.events("file")
    return _file_events(g, method)


def _check_event(e, path, action, allow=True, user="alice"):
    assert e["user_name"] == user and e["asset_name"] == "web01", e
    assert e["account"] == UNIX_DEPLOY, e
    assert e["result"] == ("allow" if allow else "deny"), e
    assert f'path="{path}"' in (e["detail"] or ""), e
    assert f"actions={action}" in (e["detail"] or ""), e
    assert e["session_id"], e


def test_scp_legacy_upload_and_download(ghenv, alice_key, tdir, tmp_path):
    g = ghenv
    blob = os.urandom(256 << 10)
    (tmp_path / "up.bin").write_bytes(blob)
    p = _scp(g, alice_key, LOGIN, str(tmp_path / "up.bin"), f"127.0.0.1:{tdir}/up.bin")
    assert p.returncode == 0, p.stderr + g.read_log()
    with open(f"{tdir}/up.bin", "rb") as f:
        assert f.read() == blob
    assert pwd.getpwuid(os.stat(f"{tdir}/up.bin").st_uid).pw_name == UNIX_DEPLOY
    p = _scp(g, alice_key, LOGIN, f"127.0.0.1:{tdir}/up.bin", str(tmp_path / "down.bin"))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "down.bin").read_bytes() == blob
    up = _wait_events(g, "scp-upload")
    down = _wait_events(g, "scp-download")
    assert len(up) == 1 and len(down) == 1, g.events("file")
    _check_event(up[0], f"{tdir}/up.bin", "upload")
    _check_event(down[0], f"{tdir}/up.bin", "download")
    # the events belong to the exec sessions
    sids = {s["id"]: s for s in g.sessions()}
    assert sids[up[0]["session_id"]]["kind"] == "exec", sids


def test_rsync_both_directions(ghenv, alice_key, tdir, tmp_path):
    _need("rsync")
    g = ghenv
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("alpha\n")
    (src / "b.bin").write_bytes(os.urandom(100 << 10))
    p = _rsync(g, alice_key, LOGIN, f"{src}/", f"127.0.0.1:{tdir}/dst/")
    assert p.returncode == 0, p.stderr + g.read_log()
    with open(f"{tdir}/dst/a.txt") as f:
        assert f.read() == "alpha\n"
    with open(f"{tdir}/dst/b.bin", "rb") as f:
        assert f.read() == (src / "b.bin").read_bytes()
    back = tmp_path / "back"
    p = _rsync(g, alice_key, LOGIN, f"127.0.0.1:{tdir}/dst/", f"{back}/")
    assert p.returncode == 0, p.stderr
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "b.bin").read_bytes() == (src / "b.bin").read_bytes()
    up = _wait_events(g, "rsync-upload")
    down = _wait_events(g, "rsync-download")
    assert len(up) == 1 and len(down) == 1, g.events("file")
    _check_event(up[0], f"{tdir}/dst/", "upload")
    _check_event(down[0], f"{tdir}/dst/", "download")


def test_git_clone_and_push(ghenv, alice_key, bare_repo, tmp_path):
    g = ghenv
    url = f"ssh://127.0.0.1:{g.port}{bare_repo}"
    p = _git(g, alice_key, LOGIN, "clone", "-q", url, str(tmp_path / "clone"))
    assert p.returncode == 0, p.stderr + g.read_log()
    assert (tmp_path / "clone" / "README").read_text() == "hello from the target\n"
    (tmp_path / "clone" / "new.txt").write_text("pushed through gatehouse\n")
    clone = str(tmp_path / "clone")
    assert _git(g, alice_key, LOGIN, "add", "new.txt", cwd=clone).returncode == 0
    assert _git(g, alice_key, LOGIN, "commit", "-q", "-m", "add", cwd=clone).returncode == 0
    p = _git(g, alice_key, LOGIN, "push", "-q", "origin", "HEAD:main", cwd=clone)
    assert p.returncode == 0, p.stderr + g.read_log()
    out = _as_deploy("git", "-C", bare_repo, "show", "main:new.txt").stdout
    assert out == "pushed through gatehouse\n"
    fetch = _wait_events(g, "git-fetch")
    push = _wait_events(g, "git-push")
    assert len(push) == 1, g.events("file")
    _check_event(fetch[0], bare_repo, "download")
    _check_event(push[0], bare_repo, "upload")


def test_download_only_permission(ghenv, keygen, tdir, bare_repo, tmp_path):
    """A permission with actions connect,download: scp -O download and git
    clone work, scp -O upload and git push are refused with only "not
    permitted", each decision a "file" event; other commands still run."""
    g = ghenv
    bpriv, bpub = keygen("bob_key")
    g.add_user("bob", key_pub=bpub)
    g.cli("perm", "add", "p-bob", "--user", "bob", "--asset", "web01", "--actions",
          "connect,download")
    with open(f"{tdir}/src.txt", "w") as f:
        f.write("from the target\n")
    (tmp_path / "up.txt").write_text("must not arrive\n")

    p = _scp(g, bpriv, BOB, f"127.0.0.1:{tdir}/src.txt", str(tmp_path / "got.txt"))
    assert p.returncode == 0, p.stderr + g.read_log()
    assert (tmp_path / "got.txt").read_text() == "from the target\n"

    p = _scp(g, bpriv, BOB, str(tmp_path / "up.txt"), f"127.0.0.1:{tdir}/up.txt")
    assert p.returncode != 0
    assert "not permitted" in p.stderr, p.stderr
    assert "upload" not in p.stderr and "denied" not in p.stderr, p.stderr
    assert not os.path.exists(f"{tdir}/up.txt")

    url = f"ssh://127.0.0.1:{g.port}{bare_repo}"
    clone = str(tmp_path / "clone")
    p = _git(g, bpriv, BOB, "clone", "-q", url, clone)
    assert p.returncode == 0, p.stderr
    (tmp_path / "clone" / "x.txt").write_text("x\n")
    assert _git(g, bpriv, BOB, "add", "x.txt", cwd=clone).returncode == 0
    assert _git(g, bpriv, BOB, "commit", "-q", "-m", "x", cwd=clone).returncode == 0
    p = _git(g, bpriv, BOB, "push", "-q", "origin", "HEAD:main", cwd=clone)
    assert p.returncode != 0
    assert "not permitted" in p.stderr, p.stderr
    log = _as_deploy("git", "-C", bare_repo, "log", "--format=%s", "main").stdout
    assert log == "init\n", log

    # a plain command is not a transfer: connect is enough
    p = ssh_run(g, BOB, "echo ok", key=bpriv)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr

    down = _wait_events(g, "scp-download")
    _check_event(down[0], f"{tdir}/src.txt", "download", user="bob")
    up = _wait_events(g, "scp-upload")
    assert len(up) == 1, up
    _check_event(up[0], f"{tdir}/up.txt", "upload", allow=False, user="bob")
    assert "upload" in up[0]["reason"], up
    fetch = _wait_events(g, "git-fetch")
    _check_event(fetch[0], bare_repo, "download", user="bob")
    push = _wait_events(g, "git-push")
    assert len(push) == 1, push
    _check_event(push[0], bare_repo, "upload", allow=False, user="bob")
    # the refusals are policy denials with the reason, for the admin
    denies = [e for e in g.events("policy") if e["result"] == "deny"]
    assert len(denies) == 2, denies
    assert any("scp-upload" in (e["reason"] or "") for e in denies), denies
    assert any("git-push" in (e["reason"] or "") for e in denies), denies
    refused = [s for s in g.sessions() if s["close_reason"] == "not permitted"]
    assert len(refused) == 2, g.sessions()
    assert not [e for e in g.events("file") if e["method"] in ("rsync-upload",)]


def test_scp_permission_on_protocol_scp(ghenv, keygen, tdir, tmp_path):
    """scp's upload may come from a permission on protocol scp; rsync needs
    it on ssh."""
    _need("rsync")
    g = ghenv
    cpriv, cpub = keygen("carol_key")
    g.add_user("carol", key_pub=cpub)
    g.cli("perm", "add", "p-carol", "--user", "carol", "--asset", "web01", "--actions",
          "connect", "--protocols", "ssh")
    g.cli("perm", "add", "p-carol-scp", "--user", "carol", "--asset", "web01", "--actions",
          "upload", "--protocols", "scp")
    login = f"carol@{UNIX_DEPLOY}@web01"
    (tmp_path / "up.txt").write_text("via scp\n")
    p = _scp(g, cpriv, login, str(tmp_path / "up.txt"), f"127.0.0.1:{tdir}/up.txt")
    assert p.returncode == 0, p.stderr + g.read_log()
    with open(f"{tdir}/up.txt") as f:
        assert f.read() == "via scp\n"
    p = _rsync(g, cpriv, login, str(tmp_path / "up.txt"), f"127.0.0.1:{tdir}/r.txt")
    assert p.returncode != 0
    assert not os.path.exists(f"{tdir}/r.txt")
    up = _wait_events(g, "rsync-upload")
    _check_event(up[0], f"{tdir}/r.txt", "upload", allow=False, user="carol")


def test_hostile_exec_is_a_plain_command(ghenv, alice_key, tdir):
    """A transfer command with anything more for the shell is an ordinary
    exec: relayed as it is, with no file event."""
    g = ghenv
    p = ssh_run(g, LOGIN, f"scp -t {tdir}/x; echo after", key=alice_key, input="")
    assert "after" in p.stdout, p.stdout + p.stderr
    sids = [s for s in g.sessions() if s["kind"] == "exec"]
    assert sids
    assert not _file_events(g), g.events("file")
