"""Durations as people write them: ``90s``, ``15m``, ``24h``, ``1h30m``, ``2d``; also a number of
seconds or ISO 8601 (``PT15M``), what TypeScript and Java clients tend to send.

On the wire a duration is written back in the short form (``15m``), so a status reads as it was set.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_SHORT = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_ISO = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
EXAMPLES = "like 90s, 15m, 24h, 1h30m, a number of seconds, or ISO 8601 such as PT15M"


def parse_duration(value: Any) -> timedelta:
    try:
        return _parse(value)
    except OverflowError:  # past timedelta's 999,999,999 days: no setting wants that
        raise ValueError("is far too long a duration") from None


def _parse(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration ({EXAMPLES}), got a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a duration ({EXAMPLES}), got {value}")
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return timedelta(seconds=float(text))
        match = _SHORT.match(text.lower()) or _ISO.match(text.upper())
        if match and any(match.groups()):
            days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        raise ValueError(f"{value[:40]!r} is not a duration: write it {EXAMPLES}")
    raise ValueError(f"expected a duration ({EXAMPLES})")


def check_within(value: timedelta, maximum: timedelta) -> timedelta:
    """``value`` if more than 0 and at most ``maximum``; a ValueError saying so otherwise."""
    if not timedelta(0) < value <= maximum:
        raise ValueError(f"must be more than 0 and at most {format_duration(maximum)} (got {format_duration(value)})")
    return value


def format_duration(value: timedelta) -> str:
    """The short form: ``15m``, ``1h30m``, ``90s`` stays ``1m30s``; fractions of a second kept."""
    total = value.total_seconds()
    if total == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        if unit == "s":
            remainder = round(total, 3)
            if remainder:
                parts.append(f"{remainder:g}s")
        elif total >= size:
            count = int(total // size)
            parts.append(f"{count}{unit}")
            total -= count * size
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d+(\.\d+)?[dhms])+$", "examples": ["90s", "15m", "24h", "1h30m"]},
                {"type": "string", "description": "ISO 8601 duration, e.g. PT15M"},
                {"type": "number", "minimum": 0, "description": "seconds"},
            ],
            "description": "A duration: 90s, 15m, 24h, 1h30m, a number of seconds, or ISO 8601 (PT15M).",
        }
    ),
]
