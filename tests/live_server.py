"""A real Seedboard server process for tests, without importing Django here.

The SDK's tests also run on the SDK's oldest Python (`make test-sdk-oldest`), where the server
cannot be imported: they start it with another interpreter (`python`), which is why this
module needs nothing but the standard library and httpx.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A gunicorn process serving Seedboard on the test database; stop() and start() for fault tests."""

    url: str
    token: str
    other_token: str
    port: int
    env: dict[str, str]
    python: str = sys.executable  # the interpreter with the server installed
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [self.python, "-m", "gunicorn", "server.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=REPO, env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
