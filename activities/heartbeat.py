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
        async def beat() -> None:
            # The first beat after a second, not at once: a step that finishes sooner (most do)
            # costs no heartbeat call to Temporal, and a dead worker is still noticed within the
            # heartbeat timeout (5 s).
            while True:
                await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
                activity.heartbeat()

        beater = asyncio.create_task(beat())
        try:
            return await fn(*args, **kwargs)
        finally:
            beater.cancel()

    return wrapper
