"""A real HAProxy (Debian's haproxy, foreground -db) in front of Gatehouse
nodes on loopback, configured from packaging/haproxy.cfg.tmpl -- the
template docs/HA.md shows -- with free ports and the nodes' addresses."""
import os
import shutil
import socket
import string
import subprocess

import pytest

from sshenv import free_port, port_open, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "packaging", "haproxy.cfg.tmpl")


def servers(pairs):
    return "\n".join(f"    server {name} {addr}" for name, addr in pairs)


def render(runtime_dir, ssh_port, web_port, ssh_nodes, web_nodes, check_inter="1s"):
    with open(TEMPLATE) as f:
        t = string.Template(f.read())
    return t.substitute(runtime_dir=runtime_dir, maxconn=256, bind_addr="127.0.0.1", ssh_port=ssh_port,
                        web_port=web_port, pg_port=free_port(), mysql_port=free_port(),
                        redis_port=free_port(), check_inter=check_inter,
                        ssh_servers=servers(ssh_nodes), web_servers=servers(web_nodes),
                        pg_servers="", mysql_servers="", redis_servers="")


class HAProxy:
    """Started by start(); .port is the SSH front, .web_port the console's.
    Looks like a Gatehouse to ssh_run (port, known_hosts, askpass)."""

    def __init__(self, tmp, askpass):
        self.tmp = tmp
        self.port = free_port()
        self.web_port = free_port()
        self.known_hosts = os.path.join(tmp, "known_hosts_ha")
        self.askpass = askpass
        self.cfg = os.path.join(tmp, "haproxy.cfg")
        self.log_path = os.path.join(tmp, "haproxy.log")
        self.proc = None

    def start(self, ssh_nodes, web_nodes):
        with open(self.cfg, "w") as f:
            f.write(render(self.tmp, self.port, self.web_port, ssh_nodes, web_nodes))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.path.exists(haproxy):
            pytest.fail("haproxy is not installed (scripts/deps.sh)")
        chk = subprocess.run([haproxy, "-c", "-f", self.cfg], capture_output=True, text=True)
        assert chk.returncode == 0, chk.stdout + chk.stderr
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([haproxy, "-db", "-f", self.cfg], stdout=self.log,
                                     stderr=self.log)
        if not wait_for(lambda: port_open(self.port), timeout=20):
            self.stop()
            pytest.fail("haproxy did not start:\n" + open(self.log_path).read())

    def stat(self):
        """{(backend, server): status} from the stats socket."""
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(self.tmp, "haproxy.sock"))
        s.sendall(b"show stat\n")
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        s.close()
        res = {}
        for ln in out.decode().splitlines():
            if ln.startswith("#") or not ln:
                continue
            f = ln.split(",")
            res[(f[0], f[1])] = f[17]
        return res

    def all_up(self, backend, names):
        try:
            st = self.stat()
        except OSError:
            return False
        return all(st.get((backend, n)) == "UP" for n in names)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
