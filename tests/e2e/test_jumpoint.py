"""Jumpoints: the administration (tokens: one per node, hashed, 24 h) and the
rule that an asset assigned to a jumpoint is reached only through it (never
directly, even when its address is reachable from Gatehouse)."""
import json
import re

from sshenv import *  # noqa: F401,F403
from sshenv import ALICE_PW, UNIX_DEPLOY, ssh_run


def _token(out):
    m = re.search(r"^token: (ghj_[0-9a-f]{64})$", out, re.M)
    assert m, out
    return m.group(1)


def test_add_prints_token_stored_hashed(ghenv):
    g = ghenv
    p = g.cli("jumpoint", "add", "jp1", "--comment", "dc east")
    tok = _token(p.stdout)
    assert f"gatehouse jumpoint run --bastion 127.0.0.1:{g.port} --token {tok}" in p.stdout
    with open(g.db_path(), "rb") as f:
        assert tok.encode() not in f.read()
    with g.db() as c:
        rows = c.execute("SELECT token_hash, token_expires, created_at FROM jumpoint_nodes").fetchall()
    assert len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0][0])
    assert 24 * 3600 - 60 <= rows[0][1] - rows[0][2] <= 24 * 3600
    # not clustered: one node only
    p = g.cli("jumpoint", "token", "jp1", check=None)
    assert p.returncode != 0 and "--clustered" in p.stderr


def test_clustered_ten_nodes_and_list_json(ghenv):
    g = ghenv
    toks = {_token(g.cli("jumpoint", "add", "jpc", "--clustered").stdout)}
    for _ in range(9):
        toks.add(_token(g.cli("jumpoint", "token", "jpc").stdout))
    assert len(toks) == 10
    p = g.cli("jumpoint", "token", "jpc", check=None)
    assert p.returncode != 0 and "(10)" in p.stderr
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    jp = [j for j in lst if j["name"] == "jpc"][0]
    assert jp["clustered"] is True and jp["enabled"] is True and len(jp["nodes"]) == 10
    for n in jp["nodes"]:
        for k in ("host", "version", "connected", "connected_since", "last_seen", "sessions"):
            assert k in n, n
        assert n["connected"] is False
    g.cli("jumpoint", "disable", "jpc")
    lst = json.loads(g.cli("jumpoint", "list", "--json").stdout)
    assert [j for j in lst if j["name"] == "jpc"][0]["enabled"] is False
    g.cli("jumpoint", "enable", "jpc")
    g.cli("jumpoint", "del", "jpc")
    assert "jpc" not in g.cli("jumpoint", "list").stdout


def test_asset_behind_jumpoint_never_reached_directly(ghenv):
    """web01's address is reachable from here, but once it is assigned to a
    jumpoint with no node connected, a login fails with that reason instead
    of connecting directly; the jumpoint cannot be deleted while used."""
    g = ghenv
    g.cli("jumpoint", "add", "jp2")
    g.cli("asset", "set", "web01", "--jumpoint", "jp2")
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=ALICE_PW)
    assert p.returncode != 0
    assert "no jumpoint node connected" in p.stderr
    assert g.cli("jumpoint", "del", "jp2", check=None).returncode != 0
    p = g.cli("asset", "set", "web01", "--gateway", "x", "--jumpoint", "jp2", check=None)
    assert p.returncode != 0
    g.cli("asset", "set", "web01", "--jumpoint", "")
    p = ssh_run(g, f"alice@{UNIX_DEPLOY}@web01", "true", password=ALICE_PW)
    assert p.returncode == 0, p.stderr
