"""A small synchronous client for the admin API, for tests and scripts.

Works against an `EmulatorServer` in the same process (`emu.admin`) or any running emulator:
`AdminClient("http://127.0.0.1:8787")`.
"""

from __future__ import annotations

from typing import Any

import httpx


class AdminRequestError(RuntimeError):
    """The admin API refused a call (its `{"error"}` message is the exception's text)."""


class AdminClient:
    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=f"{self.url}/emulator", timeout=timeout_s)

    def seed(self, scenario: str, **fields: Any) -> dict[str, Any]:
        """Seed a conversation; returns its ids (`conversationId`, `participants` by purpose,
        `guestToken`, `deploymentId`)."""
        return self._call("POST", "/conversations", json={"scenario": scenario, **fields})

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        """The emulator's internal view of a conversation (message texts, pending changes...)."""
        return self._call("GET", f"/conversations/{conversation_id}")

    def send_message(self, conversation_id: str, sender: str, text: str) -> dict[str, Any]:
        """The conversation's `sender` ("customer", "agent" or "bot") sends `text` now; returns
        `messageId`, `messageTime` and `participantId`."""
        return self._call("POST", f"/conversations/{conversation_id}/messages", json={"from": sender, "text": text})

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The logged Genesys requests with `seq` greater than `since`, oldest first."""
        return self._call("GET", "/requests", params={"since": since})["requests"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def config(self, **changes: Any) -> dict[str, Any]:
        """The current config, after applying `changes` if any are given."""
        if not changes:
            return self._call("GET", "/config")
        return self._call("PUT", "/config", json=changes)

    def add_fault(self, **rule: Any) -> str:
        """Add a fault rule (`method`, `route`, `status`, `code`, `message`, `count`, `rate`,
        `latency_s`, `retry_after`); returns its id."""
        return self._call("POST", "/faults", json=rule)["id"]

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def hold(self, method: str, route: str, count: int = 1, timeout_s: float | None = None) -> str:
        """Withhold the responses of the next `count` matching requests; returns the hold id."""
        body = {"method": method, "route": route, "count": count, "timeout_s": timeout_s}
        return self._call("POST", "/holds", json=body)["id"]

    def hold_status(self, hold_id: str) -> dict[str, Any]:
        """`{"id", "engaged", "matched", "released"}`."""
        return self._call("GET", f"/holds/{hold_id}")

    def release(self, hold_id: str) -> dict[str, Any]:
        return self._call("POST", f"/holds/{hold_id}/release")

    def add_client(self, client_id: str, client_secret: str, permissions: list[str] | None) -> dict[str, Any]:
        """Register an OAuth client; `permissions=None` grants every permission."""
        body = {"client_id": client_id, "client_secret": client_secret, "permissions": permissions}
        return self._call("POST", "/clients", json=body)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.is_error:
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise AdminRequestError(f"{method} /emulator{path}: {response.status_code} {message}")
        return response.json() if response.content else None
