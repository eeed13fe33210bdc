"""Client-side pacing, so a batch of terminations does not stampede Genesys's rate limit."""

from __future__ import annotations

import asyncio
import time


class RequestPacer:
    """A generic cell rate limiter (GCRA) for one token's requests.

    Genesys counts requests per token in a rolling minute. Pacing at 90% of the limit, with a
    small burst allowance, keeps any 60 s window under it; after a 429 every request of this
    token holds off until ``Retry-After`` has passed, instead of each one finding out for itself.
    """

    def __init__(self, requests_per_minute: int, *, headroom: float = 0.9) -> None:
        self._interval = 60.0 / (requests_per_minute * headroom)
        self._burst = max(1, requests_per_minute // 30)
        self._next_free = 0.0  # the theoretical arrival time of the next request

    async def wait_turn(self) -> None:
        now = time.monotonic()
        slot = max(self._next_free, now)
        self._next_free = slot + self._interval
        delay = slot - self._burst * self._interval - now
        if delay > 0:
            await asyncio.sleep(delay)

    def hold_off(self, seconds: float) -> None:
        """Nobody sends before ``seconds`` from now (after a 429)."""
        self._next_free = max(self._next_free, time.monotonic() + seconds + self._burst * self._interval)
