"""Client-side pacing, so a batch of terminations does not stampede Genesys's rate limit."""

from __future__ import annotations

import asyncio
import time
from collections import deque

#: The least slack added to the window for arrivals trailing sends (a loaded machine, a burst).
MIN_SKEW_SECONDS = 0.25


class RequestPacer:
    """Keeps one token's requests under Genesys's per-token limit, counted as Genesys counts it.

    Genesys allows ``limit`` requests per token in any sliding window of a minute. The pacer
    mirrors that window with some headroom: below it requests go at once, at it each waits for the
    oldest to leave the window, so a batch runs at the limit instead of into 429s. After a 429
    every request of this token holds off until ``Retry-After`` has passed, instead of each one
    finding out for itself.
    """

    def __init__(self, limit: int, *, window_seconds: float = 60.0, headroom: float = 0.98, skew: float = 0.05) -> None:
        # The headroom is taken once, on the count: 98% of the limit per window. (It used to be
        # taken twice, on the count and again on the window's length, which paced a backlog at
        # 0.95 / (1 / 0.95) = 90% of the limit, and about 81% measured: `make bench`.)
        self._capacity = max(1, int(limit * headroom))
        # Genesys counts arrivals, which trail sends by a little, more so for a burst: a window 5%
        # longer (3 s of a minute; at least 0.25 s) keeps the next burst from overlapping the
        # tail of the last one.
        self._window = window_seconds + max(window_seconds * skew, MIN_SKEW_SECONDS)
        self._sends: deque[float] = deque()  # when each request in the window goes (or went)
        self._hold_until = 0.0

    async def wait_turn(self) -> float:
        """Wait until this request may go; returns the seconds waited."""
        now = time.monotonic()
        while self._sends and self._sends[0] <= now - self._window:
            self._sends.popleft()
        at = max(now, self._hold_until)
        if len(self._sends) >= self._capacity:
            # The slot this request needs frees when the capacity-th latest send leaves the window.
            at = max(at, self._sends[-self._capacity] + self._window)
        self._sends.append(at)
        if at > now:
            await asyncio.sleep(at - now)
        return at - now

    def hold_off(self, seconds: float) -> None:
        """Nobody sends before ``seconds`` from now (after a 429)."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)
