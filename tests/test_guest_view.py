"""What the customer sees: the guest's Messenger WebSocket gets the goodbye, then exactly one
Presence Disconnect event, when closer ends the conversation."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from .conftest import Terminate, seed


async def _guest_events(url: str, seeded: dict, received: list[dict], configured: asyncio.Event) -> None:
    ws_url = url.replace("http://", "ws://") + f"/v1?deploymentId={seeded['deploymentId']}"
    async with websockets.connect(ws_url) as socket:
        await socket.send(
            json.dumps(
                {"action": "configureSession", "deploymentId": seeded["deploymentId"], "token": seeded["guestToken"]}
            )
        )
        async for raw in socket:
            event = json.loads(raw)
            if event.get("class") == "SessionResponse":
                configured.set()
            received.append(event)


def _disconnect_events(received: list[dict]) -> list[dict]:
    return [
        e
        for e in received
        if e.get("class") == "StructuredMessage"
        and e["body"].get("type") == "Event"
        and any(
            ev.get("eventType") == "Presence" and ev["presence"]["type"] == "Disconnect" for ev in e["body"]["events"]
        )
    ]


@pytest.mark.parametrize("setting", ["Send", "ReadOnly"])
async def test_guest_receives_the_goodbye_then_one_disconnect(
    run_termination: Terminate, emulator, setting: str
) -> None:
    seeded = seed(emulator, "agent", disconnect=setting)
    received: list[dict] = []
    configured = asyncio.Event()
    guest = asyncio.create_task(_guest_events(emulator.url, seeded, received, configured))
    await asyncio.wait_for(configured.wait(), timeout=5)

    result = await run_termination(seeded["conversationId"], goodbye="Thanks, we are closing this chat.")
    await asyncio.sleep(0.5)  # anything late would arrive now
    guest.cancel()

    assert result.outcome == "closed"
    texts = [
        e["body"]["text"] for e in received if e.get("class") == "StructuredMessage" and e["body"].get("type") == "Text"
    ]
    assert texts == ["Thanks, we are closing this chat."]
    assert len(_disconnect_events(received)) == 1


async def test_no_disconnect_event_when_the_deployment_disables_it(run_termination: Terminate, emulator) -> None:
    seeded = seed(emulator, "agent", disconnect=None)
    received: list[dict] = []
    configured = asyncio.Event()
    guest = asyncio.create_task(_guest_events(emulator.url, seeded, received, configured))
    await asyncio.wait_for(configured.wait(), timeout=5)

    result = await run_termination(seeded["conversationId"])
    await asyncio.sleep(0.5)
    guest.cancel()

    assert result.outcome == "closed"
    assert _disconnect_events(received) == []
