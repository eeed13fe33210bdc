"""closer for code without an event loop: a Django view, a Celery task, a script.

One ``Closer`` per process holds one Temporal connection on an event loop of its own, in a daemon
thread; every method is a plain blocking call, safe from many threads at once::

    closer = Closer.from_env()            # TEMPORAL_* (envconfig: address, namespace, API key, TLS), CLOSER_TASK_QUEUE
    result = closer.terminate({"conversationId": cid, "goodbye": "Thanks!"})
    closer.start_termination(cid)         # or start (or join) and return at once
    closer.watch({"conversationId": cid, "idle": "15m"})   # close it once idle 15 minutes
    closer.touch(cid)                     # a message was seen: the countdown restarts

Bad input raises ``InvalidInput`` (the same messages as the CLI and the HTTP API) before anything
starts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from temporalio.client import Client

from workflows import TerminateRequest, TerminateResult, WatchRequest, WatchResult, WatchStatus

from . import temporal, watches
from .settings import TemporalSettings

T = TypeVar("T")

#: Connecting gives up after this long rather than hanging a web request.
CONNECT_TIMEOUT_SECONDS = 10.0

TerminationInput = TerminateRequest | Mapping[str, Any] | str


class Closer:
    """A blocking front to closer's Python helpers (``closer.temporal``)."""

    def __init__(self, settings: TemporalSettings) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="closer-temporal", daemon=True)
        self._thread.start()
        self._client: asyncio.Task[Client] | None = None

    @classmethod
    def from_env(cls) -> Closer:
        return cls(TemporalSettings.from_env())

    def terminate(self, request: TerminationInput, *, timeout: float | None = None) -> TerminateResult:
        """Start (or join) the termination and wait for its result (at most ``timeout`` seconds)."""
        return self._call(
            self._with_client(temporal.terminate, _request(request), task_queue=self.settings.task_queue), timeout
        )

    def start_termination(self, request: TerminationInput) -> str:
        """Start (or join) the termination; return its workflow id at once."""
        return self._call(self._start_termination(_request(request)), CONNECT_TIMEOUT_SECONDS * 2)

    def watch(self, request: WatchRequest | Mapping[str, Any]) -> WatchStatus:
        """Start watching the conversation, or change its watch's settings."""
        return self._call(
            self._with_client(watches.watch, watches.watch_request(request), task_queue=self.settings.task_queue),
            CONNECT_TIMEOUT_SECONDS * 2,
        )

    def touch(self, conversation_id: str, *, start: WatchRequest | Mapping[str, Any] | None = None) -> None:
        """Activity seen: restart the idle countdown (with ``start``: start the watch if none)."""
        start = None if start is None else watches.watch_request(start)
        self._call(
            self._with_client(watches.touch, conversation_id, start=start, task_queue=self.settings.task_queue),
            CONNECT_TIMEOUT_SECONDS * 2,
        )

    def cancel_watch(self, conversation_id: str) -> None:
        self._call(self._with_client(watches.cancel, conversation_id), CONNECT_TIMEOUT_SECONDS * 2)

    def watch_state(self, conversation_id: str) -> WatchStatus | WatchResult:
        """A running watch's status or a finished one's result (``NoWatch`` if none)."""
        return self._call(self._with_client(watches.watch_state, conversation_id), CONNECT_TIMEOUT_SECONDS * 2)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> Closer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    async def _start_termination(self, request: TerminateRequest) -> str:
        handle = await temporal.start_termination(await self._connected(), request, task_queue=self.settings.task_queue)
        return handle.id

    async def _with_client(self, helper: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return await helper(await self._connected(), *args, **kwargs)

    async def _connected(self) -> Client:
        # One connection for every calling thread. This runs on the loop's own thread only, so
        # needs no lock; a failed attempt is forgotten so that the next call tries again.
        if self._client is None or (self._client.done() and self._client.exception() is not None):
            self._client = asyncio.ensure_future(temporal.connect(self.settings, timeout=CONNECT_TIMEOUT_SECONDS))
        return await asyncio.shield(self._client)

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


def _request(request: TerminationInput) -> TerminateRequest:
    """Validated here, in the caller's thread, so InvalidInput surfaces before anything starts."""
    if isinstance(request, str):
        request = {"conversationId": request}
    return temporal.termination_request(request)
