"""Byte-exact uploads through the relay while its buffers fill and drain:
a target that starts reading late, several sessions at once."""
import os
import threading

import pytest

from sshenv import *  # noqa: F401,F403 (fixtures)
from sshenv import UNIX_DEPLOY, upload_check

DIRECT = f"alice@{UNIX_DEPLOY}@web01"
# reads in uneven pieces with short pauses: the target's window opens in
# small steps, so the relay's buffer is pulled with little room left
UNEVEN_READER = ("python3 -c 'import sys,time,hashlib,random\nh=hashlib.sha256()\n"
                 "while True:\n b=sys.stdin.buffer.read1(random.choice((3000,20000,70000)))\n"
                 " if not b: break\n h.update(b)\n"
                 " if random.random()<0.05: time.sleep(0.01)\nprint(h.hexdigest())'")


@pytest.mark.parametrize("reader", ["sleep 1; sha256sum", UNEVEN_READER],
                         ids=["late", "uneven"])
def test_uploads_arrive_byte_exact(ghenv, reader):
    """The relay's buffer toward the target fills while the target does not
    read, then is pulled from libssh while more arrives: every byte once,
    in order (4 sessions at once, 12 MiB each)."""
    g = ghenv
    blobs = [os.urandom(12 << 20) for _ in range(4)]
    errors = []

    def run(blob):
        try:
            upload_check(g, DIRECT, blob, reader, password=g.alice_pw, timeout=180)
        except AssertionError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=run, args=(b,)) for b in blobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(200)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
