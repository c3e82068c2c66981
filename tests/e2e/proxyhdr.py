"""PROXY protocol headers (v1, v2) for the tests, and a ProxyCommand relay
that opens a connection to Gatehouse with one, as a balancer would."""
import ipaddress
import os
import struct
import sys

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src=None, sport=40000, dst="127.0.0.1", dport=2222):
    """A PROXY v2 header for a TCP client SRC:SPORT; SRC None: LOCAL."""
    if src is None:
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        body = s.packed + d.packed + struct.pack("!HH", sport, dport)
        return SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body
    body = s.packed + ipaddress.ip_address("::1").packed + struct.pack("!HH", sport, dport)
    return SIG + bytes([0x21, 0x21]) + struct.pack("!H", len(body)) + body


def v1(src, sport=40000, dst="127.0.0.1", dport=2222):
    fam = "TCP4" if ipaddress.ip_address(src).version == 4 else "TCP6"
    return f"PROXY {fam} {src} {dst} {sport} {dport}\r\n".encode()


def relay_command(port, src, version=2):
    """A ProxyCommand for ssh: connects to 127.0.0.1:PORT, sends a header
    naming SRC as the client, then relays stdin/stdout."""
    return f"/usr/bin/python3 {os.path.abspath(__file__)} {port} {src} {version}"


def _relay(port, src, version):
    import selectors
    import socket
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(v2(src) if version == 2 else v1(src))
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj == 0:
                data = os.read(0, 65536)
                if not data:
                    s.shutdown(socket.SHUT_WR)
                    sel.unregister(0)
                    continue
                s.sendall(data)
            else:
                data = s.recv(65536)
                if not data:
                    return
                os.write(1, data)


if __name__ == "__main__":
    _relay(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
