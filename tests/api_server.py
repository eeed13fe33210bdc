"""closer's HTTP API served by uvicorn on a free loopback port, in a background thread.

The server has its own event loop (and so its own Temporal client, connected on first use), as it
would in its own process; tests talk to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence

import uvicorn
from temporalio.runtime import Runtime

from closer.api import create_app
from closer.settings import TemporalSettings

_START_TIMEOUT_S = 10.0


class ApiServer:
    def __init__(self, temporal: TemporalSettings, api_keys: Sequence[str], runtime: Runtime | None = None) -> None:
        self._app = create_app(temporal, api_keys, runtime)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __enter__(self) -> ApiServer:
        # Bound here, so the port is known (and taken) before uvicorn starts.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(self._app, log_level="warning", timeout_graceful_shutdown=2))
        self._server = server
        self._thread = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[sock]),), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.005)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)
