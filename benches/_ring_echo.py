"""Echo servers run in a child process by ``bench_core.py`` (multiprocessing 'spawn').

They live in their own importable module so the spawned interpreter can find them
by name; ``bench_core.py`` puts this directory on ``sys.path``, which 'spawn' passes
on to the child. An empty message asks the echo loop to stop.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection
from pathlib import Path

STOP = b""
TIMEOUT_S = 5.0


def _ensure_importable() -> None:
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)


def ring_echo(request_name: str, reply_name: str) -> None:
    """Attach to ``request_name`` as consumer and ``reply_name`` as producer; echo."""
    _ensure_importable()
    from oms.errors import QueueEmpty, QueueFull
    from oms.queues import ShmRing

    requests = ShmRing.attach(request_name, role="consumer")
    replies = ShmRing.attach(reply_name, role="producer")
    get, put = requests.get, replies.put
    try:
        while True:
            message = get(timeout=TIMEOUT_S)
            if message == STOP:
                break
            put(message, timeout=TIMEOUT_S)
    except (QueueEmpty, QueueFull):
        pass  # the parent went away: nothing to echo to
    finally:
        replies.close()
        requests.close()


def pipe_echo(conn: Connection) -> None:
    """Echo every message received on ``conn`` until STOP or the parent closes it."""
    recv, send = conn.recv_bytes, conn.send_bytes
    try:
        while True:
            message = recv()
            if message == STOP:
                break
            send(message)
    except EOFError:
        pass
    finally:
        conn.close()
