"""Time: monotonic seconds order the state changes, the wall clock dates what Genesys shows.

Every timed change is stored with the monotonic time it takes effect, so state can be settled
lazily on each read; `iso()` turns such a time into the ISO-8601 timestamp the wire carries.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

_WALL_AT_START = time.time()
_MONOTONIC_AT_START = time.monotonic()


def now() -> float:
    """Monotonic seconds: the emulator's one notion of 'now'."""
    return time.monotonic()


def iso(at: float) -> str:
    """The wall-clock timestamp of monotonic time `at`, as Genesys writes it (ms, `Z`)."""
    wall = _WALL_AT_START + (at - _MONOTONIC_AT_START)
    stamp = datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def at_wall(value: datetime) -> float:
    """The monotonic time of a wall-clock moment (the inverse of `iso`), e.g. a query's interval."""
    return _MONOTONIC_AT_START + (value.timestamp() - _WALL_AT_START)


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 timestamp; `Z` is accepted on every supported Python (3.10 has no `Z`)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp needs a time zone")
    return parsed


def format_iso(value: datetime) -> str:
    """A datetime as Genesys writes it (UTC, ms, `Z`)."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
