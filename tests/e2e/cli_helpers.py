"""Helpers for the CLI end-to-end tests (not fixtures: plain functions)."""
import json
import subprocess


def keygen(tmp_path, name="id_ed25519", kind="ed25519", passphrase="", comment="test@gh", extra=()):
    """Generate a key pair with ssh-keygen; returns (private_path, public_path)."""
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f", str(path),
                    *extra], check=True, capture_output=True)
    return str(path), str(path) + ".pub"


def fingerprint(pub_path):
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


def js(p):
    """Parse a CompletedProcess's stdout as JSON (asserting success first)."""
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return json.loads(p.stdout)
