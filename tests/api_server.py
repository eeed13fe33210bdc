"""closer's HTTP API served by uvicorn on a free loopback port, in a background thread.

The server has its own event loop (and so its own Temporal client, connected on first use), as it
would in its own process; tests talk to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence

import httpx
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


class ApiProcess:
    """``closer api`` as its own process, as an operator runs it: ``async with ApiProcess(env) as http``
    gives a client for it once it answers; ``output`` holds everything it logged once it stopped."""

    def __init__(self, env: dict[str, str], *, timeout: float = 70) -> None:
        from .conftest import free_port  # conftest imports this module

        self._env, self._timeout = env, timeout
        self._port = free_port()
        self._process: asyncio.subprocess.Process | None = None
        self._http: httpx.AsyncClient | None = None
        self.output = ""

    async def __aenter__(self) -> httpx.AsyncClient:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "closer", "api", "--port", str(self._port),
            env=self._env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self._http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self._port}", timeout=self._timeout)
        for _ in range(200):
            try:
                await self._http.get("/healthz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        return self._http

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._process is not None and self._http is not None
        await self._http.aclose()
        self._process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(self._process.communicate(), timeout=30)
        self.output = (stdout + stderr).decode()
