"""One emulator for the emulator's own tests, with short delays so they stay fast.

Everything goes over real HTTP on 127.0.0.1: a test talks to the Genesys paths exactly as a client
would (`GenesysApi`) and inspects or steers the emulator through its admin API.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from emulator import EmulatorConfig, EmulatorServer

TEST_CONFIG = EmulatorConfig(disconnect_delay_s=0.05, end_delay_s=0.05, analytics_lag_s=0)
CLIENT = ("emulator-client", "emulator-secret")

CONVERSATION = "/api/v2/conversations/{conversationId}"
MESSAGE_CONVERSATION = "/api/v2/conversations/messages/{conversationId}"
PARTICIPANT = MESSAGE_CONVERSATION + "/participants/{participantId}"
COMMUNICATION = PARTICIPANT + "/communications/{communicationId}"
MESSAGE_POST = MESSAGE_CONVERSATION + "/communications/{communicationId}/messages"
DETAILS_QUERY = "/api/v2/analytics/conversations/details/query"


class GenesysApi:
    """A bare Genesys client: a token from `/oauth/token`, then bearer requests."""

    def __init__(self, url: str, client: tuple[str, str] = CLIENT) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.token = fetch_token(self.http, client)
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GenesysApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def conversation(self, cid: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v2/conversations/{cid}")
        assert response.status_code == 200, response.text
        return response.json()

    def participant(self, cid: str, pid: str) -> dict[str, Any]:
        return next(p for p in self.conversation(cid)["participants"] if p["id"] == pid)

    def message_conversation(self, cid: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v2/conversations/messages/{cid}")
        assert response.status_code == 200, response.text
        return response.json()

    def query_details(self, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(DETAILS_QUERY, json=body)

    def patch_participant(self, cid: str, pid: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.patch(f"/api/v2/conversations/messages/{cid}/participants/{pid}", json=body)

    def disconnect(self, cid: str, pid: str, **fields: Any) -> httpx.Response:
        return self.patch_participant(cid, pid, {"state": "disconnected", **fields})

    def post_message(self, cid: str, comm_id: str, text: str) -> httpx.Response:
        return self.http.post(
            f"/api/v2/conversations/messages/{cid}/communications/{comm_id}/messages", json={"textBody": text}
        )

    def teardown(self, cid: str) -> httpx.Response:
        return self.http.post(f"/api/v2/conversations/{cid}/disconnect")


def fetch_token(http: httpx.Client, client: tuple[str, str] = CLIENT) -> str:
    response = http.post("/oauth/token", auth=client, data={"grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def wait_until(predicate: Callable[[], Any], timeout_s: float = 3.0) -> Any:
    """Poll until `predicate()` is truthy; return its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        time.sleep(0.01)


def ids(seeded: dict[str, Any], purpose: str) -> tuple[str, str, str]:
    """(conversationId, participantId, communicationId) of a seeded participant."""
    participant = seeded["participants"][purpose]
    return seeded["conversationId"], participant["participantId"], participant["communicationId"]


@pytest.fixture(scope="session")
def emu_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(config=TEST_CONFIG) as server:
        yield server


@pytest.fixture
def emu(emu_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The shared emulator; its config and fault rules are reset after each test."""
    yield emu_server
    emu_server.admin.clear_faults()
    emu_server.admin.config(**TEST_CONFIG.model_dump())


@pytest.fixture
def api(emu: EmulatorServer) -> Iterator[GenesysApi]:
    """A client with its own token, so the per-token rate limit of one test never hits another."""
    with GenesysApi(emu.url) as client:
        yield client
