"""Every Genesys-side request the emulator answered, so tests can count calls and check each one
against the official SDK's operations. Admin calls and the guest WebSocket are not logged."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    time: float
    """Wall-clock seconds since the epoch when the answer was ready."""
    method: str
    path: str
    route: str | None
    """The SDK path template that matched (`/oauth/token` for tokens), None for an unknown path."""
    query: dict[str, str]
    status: int
    body: object
    """The parsed JSON body (the raw text if it was not JSON; `{"grant_type"}` only for tokens)."""
    client_id: str | None


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._last_seq = 0

    def append(
        self,
        *,
        method: str,
        path: str,
        route: str | None,
        query: dict[str, str],
        status: int,
        body: object,
        client_id: str | None,
    ) -> None:
        self._last_seq += 1
        self._entries.append(
            LoggedRequest(self._last_seq, time.time(), method, path, route, query, status, body, client_id)
        )

    def since(self, seq: int) -> dict[str, object]:
        """Entries after `seq`, and the cursor for the next call. Clearing keeps numbering, so a
        cursor stays valid."""
        entries = [asdict(entry) for entry in self._entries if entry.seq > seq]
        return {"requests": entries, "next": max(seq, self._last_seq)}

    def clear(self) -> None:
        self._entries.clear()
