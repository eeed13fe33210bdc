"""Running the emulator: in a background thread for tests (`EmulatorServer`), or in the
foreground for the demo and the CLI (`serve`)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from .admin_client import AdminClient
from .app import create_app
from .auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .config import EmulatorConfig
from .core import Emulator

_START_TIMEOUT_S = 10.0


class EmulatorServer:
    """uvicorn on 127.0.0.1 in a daemon thread; port 0 (the default) picks a free port.

    ```
    with EmulatorServer(config=EmulatorConfig(disconnect_delay_s=0.05)) as emu:
        emu.url                      # "http://127.0.0.1:40123"
        emu.admin.seed("agent")
    ```
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.app = create_app(config)
        self.emulator: Emulator = self.app.state.emulator
        self._host = host
        self._port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._admin: AdminClient | None = None
        self.url = ""

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            raise RuntimeError("the emulator is not started")
        return self._admin

    def start(self) -> EmulatorServer:
        # Bind here, not in uvicorn, so the port is known (and taken) before the thread starts.
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and without it
        # every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self.url = f"http://{self._host}:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            lifespan="off",
            # Bounded, in case a client keeps a connection busy; holds are released on stop.
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(server, sock),), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on {self.url}")
            time.sleep(0.005)
        self._admin = AdminClient(self.url)
        return self

    def stop(self) -> None:
        """Quick and clean, even with a response held or a guest WebSocket open."""
        if self._server is None or self._thread is None:
            return
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self.emulator.shutdown)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._admin is not None:
            self._admin.close()
        self._server = self._thread = self._loop = self._admin = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        await server.serve(sockets=[sock])


def serve(host: str = "127.0.0.1", port: int = 8787, config: EmulatorConfig | None = None) -> None:
    """Run the emulator in the foreground until interrupted (the demo, `closer emulator`)."""
    print(f"Genesys Cloud emulator on http://{host}:{port}", flush=True)
    print(f"  OAuth client id: {DEFAULT_CLIENT_ID}  secret: {DEFAULT_CLIENT_SECRET}", flush=True)
    print(f"  admin API: http://{host}:{port}/emulator/", flush=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", lifespan="off")
