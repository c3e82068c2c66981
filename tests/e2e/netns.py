"""Remote networks for the e2e tests: network namespaces joined by veth
pairs with link-local addresses (169.254.N.1/30 - 169.254.N.2/30) the test
picks, so a peer inside is reachable only from its neighbour. Nothing is
forwarded between two veths of one namespace (a new namespace has
ip_forward 0), so a namespace two links away cannot be reached. Everything
is removed by close(), also when a test fails half-way."""
import os
import random
import subprocess

from sshenv import Target, wait_for  # noqa: F401


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class Nets:
    """Namespaces and veth pairs, all removed by close()."""

    def __init__(self):
        self.tag = "%05x" % random.randrange(16 ** 5)
        self.namespaces = []
        self.links = []      # host-side veth names (deleting one deletes its pair)
        self.used = set()
        self.procs = []

    def ns(self, name):
        full = f"gh{self.tag}{name}"
        _ip("netns", "add", full)
        self.namespaces.append(full)
        _ip("-n", full, "link", "set", "lo", "up")
        return full

    def _subnet(self):
        while True:
            n = random.randrange(10, 250)
            if n not in self.used and not _ip("-4", "addr", "show", "to",
                                                f"169.254.{n}.0/30").stdout.strip():
                self.used.add(n)
                return n

    def link(self, a, b):
        """Join namespace A (None: this host) to B; returns (addr_a, addr_b)."""
        n = self._subnet()
        va, vb = f"g{self.tag}{len(self.links)}a", f"g{self.tag}{len(self.links)}b"
        _ip("link", "add", va, "type", "veth", "peer", "name", vb)
        self.links.append(va)
        addr_a, addr_b = f"169.254.{n}.1", f"169.254.{n}.2"
        for dev, ns, addr in ((va, a, addr_a), (vb, b, addr_b)):
            if ns:
                _ip("link", "set", dev, "netns", ns)
            pre = ["-n", ns] if ns else []
            _ip(*pre, "addr", "add", f"{addr}/30", "dev", dev)
            _ip(*pre, "link", "set", dev, "up")
        return addr_a, addr_b

    def run(self, ns, *cmd, **kw):
        return subprocess.run(["ip", "netns", "exec", ns, *cmd], **kw)

    def popen(self, ns, *cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        for v in self.links:
            _ip("link", "del", v, check=False)
        for ns in self.namespaces:
            wait_for(lambda: _ip("netns", "del", ns, check=False).returncode == 0, timeout=5)


class NsTarget(Target):
    """The e2e target sshd (same accounts) listening on ADDR:22 inside
    namespace NS."""

    def start_in(self, nets, ns, addr):
        os.makedirs("/run/sshd", exist_ok=True)
        self.port = 22
        self.addr = addr
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "Port 22", f"ListenAddress {addr}",
                *[f"HostKey {k}" for k in self.host_keys],
                f"PidFile {self.dir}/sshd.pid",
                "PasswordAuthentication yes", "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes", "UsePAM no", "PermitRootLogin no",
                "StrictModes no", "AuthorizedKeysFile .ssh/authorized_keys",
                "Subsystem sftp internal-sftp", "LogLevel VERBOSE", "MaxStartups 100",
                "AllowTcpForwarding yes", ""]))
        logpath = os.path.join(self.dir, "sshd.log")
        self.log = open(logpath, "a")
        self.proc = nets.popen(ns, "/usr/sbin/sshd", "-D", "-e", "-f", cfg,
                               stdout=self.log, stderr=self.log)
        ok = wait_for(lambda: "Server listening on" in open(logpath).read(), timeout=10)
        assert ok, "sshd in namespace did not start: " + open(logpath).read()
