"""Heartbeat while an activity runs, so a dead worker is noticed in seconds, not at start-to-close."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
T = TypeVar("T")

HEARTBEAT_EVERY_SECONDS = 1.0


def heartbeating(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        # The first beat after a second, not at once: a step that finishes sooner (most do) costs
        # no heartbeat call to Temporal, and a dead worker is still noticed within the heartbeat
        # timeout (5 s). A timer callback, not a task: most steps end before it fires, and a task
        # per step was a measurable share of the worker's CPU (`make bench`).
        if activity.info().is_local:
            return await fn(*args, **kwargs)  # a local activity has no heartbeat: its workflow task is its lease
        loop = asyncio.get_running_loop()
        pending: asyncio.TimerHandle

        def beat() -> None:
            nonlocal pending
            activity.heartbeat()
            pending = loop.call_later(HEARTBEAT_EVERY_SECONDS, beat)

        pending = loop.call_later(HEARTBEAT_EVERY_SECONDS, beat)
        try:
            return await fn(*args, **kwargs)
        finally:
            pending.cancel()

    return wrapper
