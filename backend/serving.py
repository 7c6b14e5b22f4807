"""Serving ASGI apps locally for every channel's simulator, tests and benchmarks: in a
background thread of this process, or with uvicorn in a subprocess; and finding a free port
for either."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI


@dataclass
class Served:
    """An ASGI app served by uvicorn in a background thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=5)


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound socket (a free port unless one is given): its URL is known before serving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve_in_thread(app: FastAPI, sock: socket.socket | None = None) -> Served:
    """Serve `app` on `sock` (a fresh one on a free port by default) until it listens."""
    sock = sock or listening_socket()
    host, port = sock.getsockname()[:2]
    # No websockets here: importing their library only to warn about it is noise.
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"could not serve on {host}:{port}")
        time.sleep(0.01)
    return Served(server, thread, f"http://{host}:{port}")


def serve_in_subprocess(
    factory: str, *, port: int, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Start uvicorn on 127.0.0.1:`port` serving the app `factory` ("module:function")
    returns, its output appended to `log_path`; it may not listen yet."""
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        # Our own interpreter and module with fixed arguments: nothing here comes from input.
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def stop_subprocess(process: subprocess.Popen[bytes]) -> None:
    """Ask the process to finish and wait a few seconds for it."""
    process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
