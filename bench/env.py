"""What every measurement shares: the emulator in its own process, a Temporal dev server, a
closer worker, and the scale (``BENCH_SCALE=short`` for CI, ``full`` by default)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from emulator.admin_client import AdminClient
from emulator.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from genesys import ClientPool, Profile
from worker import build_worker

SHORT = os.environ.get("BENCH_SCALE", "full") == "short"


def scale(full: int, short: int) -> int:
    return short if SHORT else full


def new_id() -> str:
    return str(uuid.uuid4())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmulatorProcess:
    """The emulator on loopback in a subprocess (so its CPU is not the worker's)."""

    def __init__(self, **config: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._config = config
        self._process: subprocess.Popen[bytes] | None = None
        self.admin: AdminClient

    def __enter__(self) -> EmulatorProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.emulator_process", str(self.port), json.dumps(self._config)],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/emulator/config", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator process did not start") from None
                time.sleep(0.1)
        self.admin = AdminClient(self.url, timeout_s=60)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.admin.close()
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=10)

    def api_requests(self) -> list[dict]:
        """The logged Genesys API requests (token requests excluded)."""
        return [r for r in self.admin.requests() if r["path"].startswith("/api/")]


def worker_env(
    client: Client,
    emulator_url: str,
    task_queue: str,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    **settings: str,
) -> dict[str, str]:
    """The environment of ``python worker.py`` (as deployed) on our Temporal, its Genesys the
    emulator, signing in as ``client_id``; ``settings`` are further variables (CLOSER_...)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CLOSER_", "GENESYSCLOUD_"))}
    return {
        **inherited,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "CLOSER_TASK_QUEUE": task_queue,
        "GENESYSCLOUD_OAUTHCLIENT_ID": client_id,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": client_secret,
        "CLOSER_GENESYS_API_URL": emulator_url,
        "CLOSER_GENESYS_LOGIN_URL": emulator_url,
        **settings,
    }


def profile(url: str, **fields: Any) -> Profile:
    return Profile(
        client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, api_url=url, login_url=url, **fields
    )


@asynccontextmanager
async def closer_worker(client: Client, url: str, **profile_fields: Any) -> AsyncIterator[tuple[Worker, str]]:
    """closer's own worker (``worker.build_worker``) on a fresh task queue, its Genesys the emulator."""
    clients = ClientPool({"default": profile(url, **profile_fields)})
    task_queue = f"bench-{new_id()}"
    try:
        worker = build_worker(client, task_queue, clients)
        async with worker:
            yield worker, task_queue
    finally:
        await clients.aclose()


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
