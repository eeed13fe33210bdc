"""The guest's Web Messaging WebSocket: agent messages arrive, and the end arrives once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from emulator import EmulatorServer

from .conftest import GenesysApi, ids

DISCONNECT_EVENTS = [{"eventType": "Presence", "presence": {"type": "Disconnect"}}]


@contextmanager
def guest(emu: EmulatorServer, seeded: dict[str, Any]) -> Iterator[ClientConnection]:
    """A guest whose session is configured with the seed's token."""
    url = f"{emu.url.replace('http', 'ws')}/v1?deploymentId={seeded['deploymentId']}"
    with connect(url) as socket:
        send(
            socket,
            {"action": "configureSession", "deploymentId": seeded["deploymentId"], "token": seeded["guestToken"]},
        )
        yield socket


def send(socket: ClientConnection, payload: dict[str, Any]) -> None:
    socket.send(json.dumps(payload))


def receive(socket: ClientConnection, timeout_s: float = 2.0) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=timeout_s))


def assert_silent(socket: ClientConnection, timeout_s: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        socket.recv(timeout=timeout_s)


def end_conversation(api: GenesysApi, cid: str) -> None:
    assert api.http.patch(f"/api/v2/conversations/messages/{cid}", json={"state": "disconnected"}).status_code == 200


def test_guest_gets_agent_messages_and_exactly_one_disconnect(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent")
    cid, _, comm = ids(seeded, "agent")
    with guest(emu, seeded) as socket:
        assert receive(socket) == {
            "type": "response", "class": "SessionResponse", "code": 200,
            "body": {"connected": True, "newSession": False, "readOnly": False},
        }  # fmt: skip
        send(socket, {"action": "echo", "message": {"type": "Text", "text": "ping"}})
        echoed = receive(socket)
        assert echoed["class"] == "StructuredMessage" and echoed["body"]["text"] == "ping"

        sent = api.post_message(cid, comm, "Goodbye!").json()
        pushed = receive(socket)
        assert pushed["type"] == "message" and pushed["class"] == "StructuredMessage"
        assert pushed["body"]["type"] == "Text" and pushed["body"]["direction"] == "Outbound"
        assert pushed["body"]["text"] == "Goodbye!" and pushed["body"]["id"] == sent["id"]

        end_conversation(api, cid)
        event = receive(socket)

        assert event["class"] == "StructuredMessage" and event["code"] == 200
        assert event["body"]["type"] == "Event" and event["body"]["direction"] == "Outbound"
        assert event["body"]["events"] == DISCONNECT_EVENTS and event["body"]["channel"]["time"]
        assert api.conversation(cid)["endTime"]  # only sent once the end is visible
        assert_silent(socket)
        assert emu.admin.conversation(cid)["guest"]["disconnect_events_sent"] == 1


@pytest.mark.parametrize(("scenario", "sender", "purpose"), [("bot", "bot", "workflow"), ("agent", "agent", "agent")])
def test_guest_gets_the_messages_the_admin_api_sends_for_the_bot_or_agent(
    emu: EmulatorServer, api: GenesysApi, scenario: str, sender: str, purpose: str
) -> None:
    seeded = emu.admin.seed(scenario)
    cid = seeded["conversationId"]
    with guest(emu, seeded) as socket:
        receive(socket)

        sent = emu.admin.send_message(cid, sender, "Is there anything else?")
        pushed = receive(socket)
        emu.admin.send_message(cid, "customer", "No, thanks")

        assert pushed["class"] == "StructuredMessage" and pushed["body"]["direction"] == "Outbound"
        assert pushed["body"]["text"] == "Is there anything else?" and pushed["body"]["id"] == sent["messageId"]
        assert pushed["body"]["channel"]["time"] == sent["messageTime"]
        assert_silent(socket)  # the guest is the customer: its own messages are not pushed back
    [listed] = next(p for p in api.message_conversation(cid)["participants"] if p["purpose"] == purpose)["messages"]
    assert listed["messageStatus"] == "delivery-success"  # a guest was there to receive it


def test_read_only_guest_cannot_send_after_the_end(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent", disconnect="ReadOnly")
    cid = seeded["conversationId"]
    with guest(emu, seeded) as socket:
        receive(socket)
        send(
            socket,
            {"action": "onMessage", "token": seeded["guestToken"], "message": {"type": "Text", "text": "still there?"}},
        )
        assert receive(socket)["body"]["text"] == "still there?"
        assert emu.admin.conversation(cid)["customer_messages"][-1]["text"] == "still there?"

        end_conversation(api, cid)
        assert receive(socket)["body"]["events"] == DISCONNECT_EVENTS
        send(
            socket,
            {"action": "onMessage", "token": seeded["guestToken"], "message": {"type": "Text", "text": "hello?"}},
        )

        refusal = receive(socket)
        assert refusal["type"] == "response" and 400 <= refusal["code"] < 500

    with guest(emu, seeded) as again:
        assert receive(again)["body"]["readOnly"] is True
        assert_silent(again)  # the end was announced to the guests connected at the time


def test_no_disconnect_event_when_the_deployment_does_not_send_it(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent", disconnect=None)
    with guest(emu, seeded) as socket:
        receive(socket)
        end_conversation(api, seeded["conversationId"])
        assert_silent(socket, 0.3)


def test_an_unknown_guest_token_is_refused(emu: EmulatorServer) -> None:
    seeded = emu.admin.seed("agent")
    with guest(emu, {**seeded, "guestToken": "nope"}) as socket:
        assert receive(socket)["code"] == 400
