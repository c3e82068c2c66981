"""A web terminal client (GET /api/v1/terminal, docs/WEB.md) over Debian's
python3-websocket: binary frames are terminal bytes, text frames JSON
control messages. Used by the web terminal tests and bench/."""
import json
import re
import ssl
import time
import urllib.parse

import websocket


class WebTerm:
    def __init__(self, base_port, ca, asset, account, token=None, cookie=None, origin=None,
                 cols=80, rows=24, timeout=20):
        q = urllib.parse.urlencode({"asset": asset, "account": account, "cols": cols,
                                    "rows": rows})
        headers = []
        if token:
            headers.append(f"Authorization: Bearer {token}")
        kw = {}
        if cookie:
            kw["cookie"] = cookie
        if origin:
            kw["origin"] = origin
        self.ws = websocket.create_connection(
            f"wss://127.0.0.1:{base_port}/api/v1/terminal?{q}", header=headers,
            sslopt={"ca_certs": ca, "check_hostname": False, "cert_reqs": ssl.CERT_REQUIRED},
            timeout=timeout, **kw)
        self.out = bytearray()
        self.controls = []
        self.closed = None       # the {"type":"closed"} message, once read
        self.eof = False

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        self.ws.send(data, opcode=websocket.ABNF.OPCODE_BINARY)

    def resize(self, cols, rows):
        self.ws.send(json.dumps({"type": "resize", "cols": cols, "rows": rows}))

    def _read_one(self, wait):
        if self.eof:
            return False
        self.ws.settimeout(wait)
        try:
            op, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return False
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            self.eof = True
            return False
        if op == websocket.ABNF.OPCODE_BINARY:
            self.out += data
        elif op == websocket.ABNF.OPCODE_TEXT:
            m = json.loads(data.decode())
            self.controls.append(m)
            if m.get("type") == "closed":
                self.closed = m
        elif op == websocket.ABNF.OPCODE_CLOSE:
            self.eof = True
        return True

    def expect(self, pattern, timeout=20):
        """Wait for PATTERN (bytes regex) in the output after the last match;
        returns the match. Fails with what was read."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.out)
            if m:
                self.out = self.out[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                raise AssertionError(f"{pattern!r} not seen; got {bytes(self.out)[-2000:]!r} "
                                     f"controls {self.controls}")
            self._read_one(min(left, 0.5))

    def wait_closed(self, timeout=20):
        end = time.monotonic() + timeout
        while self.closed is None and not self.eof and time.monotonic() < end:
            self._read_one(0.5)
        assert self.closed is not None, f"no closed message; got {bytes(self.out)[-2000:]!r}"
        return self.closed

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 (already gone)
            pass
