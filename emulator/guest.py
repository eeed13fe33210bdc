"""The guest side of Web Messaging: the Messenger's WebSocket (`wss://webmessaging.{region}/v1`).

Only what the project needs: configure a session with the guest token a seed returned, receive the
agent's and the bot's messages, send messages, echo, and receive the Presence Disconnect event when
the conversation ends (if the seed's deployment enables it: `disconnect` "Send" or "ReadOnly").
Shapes follow the Messenger transport SDK (`type`/`class`/`code`/`body` envelopes).

State is settled lazily, so each connected guest has a small writer task that, between pushes,
checks every `TICK_S` whether its conversation has ended.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import clock
from .state import ChatMessage, Conversation

if TYPE_CHECKING:
    from .core import Emulator

TICK_S = 0.02


class GuestSession:
    def __init__(self) -> None:
        self.outbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.conversation_id: str | None = None
        self.disconnect_sent = False


class GuestHub:
    """The connected guests of each conversation."""

    def __init__(self) -> None:
        self._sessions: defaultdict[str, set[GuestSession]] = defaultdict(set)
        self.disconnect_events_sent: Counter[str] = Counter()

    def join(self, conversation_id: str, session: GuestSession) -> None:
        self.leave(session)
        session.conversation_id = conversation_id
        self._sessions[conversation_id].add(session)

    def leave(self, session: GuestSession) -> None:
        if session.conversation_id is not None:
            self._sessions[session.conversation_id].discard(session)

    def connected(self, conversation_id: str) -> int:
        return len(self._sessions[conversation_id])

    def push(self, conversation_id: str, payload: dict[str, object]) -> int:
        """Queue `payload` for every guest of the conversation; how many there are."""
        sessions = self._sessions[conversation_id]
        for session in sessions:
            session.outbox.put_nowait(payload)
        return len(sessions)

    def deliver(self, conversation_id: str, message: ChatMessage) -> None:
        """An agent's or bot's message to the guests; `delivered` if any was there to get it."""
        message.delivered = self.push(conversation_id, agent_message_event(message)) > 0


def agent_message_event(message: ChatMessage) -> dict[str, object]:
    """An outbound (agent or bot) text as the guest receives it."""
    body = {"type": "Text", "text": message.text, "direction": "Outbound", "id": message.id}
    return _structured({**body, "channel": {"time": clock.iso(message.at)}})


def _disconnect_event() -> dict[str, object]:
    return _structured(
        {
            "id": str(uuid.uuid4()),
            "type": "Event",
            "direction": "Outbound",
            "events": [{"eventType": "Presence", "presence": {"type": "Disconnect"}}],
            "channel": {"time": clock.iso(clock.now())},
        }
    )


def _structured(body: dict[str, object]) -> dict[str, object]:
    return {"type": "message", "class": "StructuredMessage", "code": 200, "body": body}


def _error(code: int, text: str) -> dict[str, object]:
    return {"type": "response", "class": "string", "code": code, "body": text}


def _read_only(conversation: Conversation) -> bool:
    return conversation.ended_at is not None and conversation.guest_disconnect == "ReadOnly"


async def guest_endpoint(websocket: WebSocket) -> None:
    emulator: Emulator = websocket.app.state.emulator
    await websocket.accept()
    session = GuestSession()
    writer = asyncio.create_task(_write(websocket, session, emulator))
    try:
        while True:
            text = await websocket.receive_text()
            session.outbox.put_nowait(_answer(emulator, session, websocket.query_params.get("deploymentId"), text))
    except WebSocketDisconnect:
        pass
    finally:
        emulator.guests.leave(session)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)


def _answer(emulator: Emulator, session: GuestSession, deployment_id: str | None, text: str) -> dict[str, object]:
    try:
        request = json.loads(text)
        action = request["action"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return _error(400, "Expected a JSON object with an 'action'.")
    if action == "configureSession":
        return _configure(emulator, session, deployment_id, request)
    if action == "echo":
        message = request.get("message")
        message = message if isinstance(message, dict) else {}
        return _structured({"type": "Text", "text": "ping", **message, "direction": "Inbound", "id": str(uuid.uuid4())})
    if session.conversation_id is None:
        return _error(400, "Configure the session first (action configureSession).")
    if action == "onMessage":
        return _on_message(emulator, session, request)
    return _error(400, f"Unsupported action {action!r}.")


def _configure(
    emulator: Emulator, session: GuestSession, deployment_id: str | None, request: dict[str, object]
) -> dict[str, object]:
    conversation = emulator.conversations.by_guest_token(str(request.get("token")))
    if conversation is None:
        # The real service would start a new session; the emulator only knows seeded guests.
        return _error(400, "Unknown session token: use the guestToken of a seeded conversation.")
    if request.get("deploymentId") != conversation.deployment_id or deployment_id != conversation.deployment_id:
        return _error(400, "The deploymentId does not match the session's deployment.")
    conversation.settle(clock.now(), emulator.config)
    emulator.guests.join(conversation.id, session)
    # The Disconnect event goes to the guests connected when the conversation ends; a guest
    # joining later learns it from `readOnly` (with ReadOnly) instead.
    session.disconnect_sent = conversation.ended_at is not None
    body = {"connected": True, "newSession": False, "readOnly": _read_only(conversation)}
    return {"type": "response", "class": "SessionResponse", "code": 200, "body": body}


def _on_message(emulator: Emulator, session: GuestSession, request: dict[str, object]) -> dict[str, object]:
    assert session.conversation_id is not None
    conversation = emulator.conversation(session.conversation_id)
    if _read_only(conversation):
        # UNCONFIRMED: the exact code and text of the refusal in a read-only session.
        return _error(403, "The conversation has ended and is read-only; start a new chat.")
    message = request.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text:
        return _error(400, "message.text is required.")
    customer = next((p for p in conversation.participants if p.purpose == "customer"), None)
    inbound = ChatMessage(str(uuid.uuid4()), "inbound", text, clock.now())
    if customer is not None and customer.connected:
        customer.communication.messages.append(inbound)
    # Once the customer has left, a real guest message starts a new conversation; that is not
    # modelled: the message is echoed and kept nowhere.
    body = {"type": "Text", "text": text, "direction": "Inbound", "id": inbound.id}
    return _structured({**body, "channel": {"time": clock.iso(inbound.at)}})


async def _write(websocket: WebSocket, session: GuestSession, emulator: Emulator) -> None:
    """The only sender on this socket: queued answers and pushes, then the Disconnect event once."""
    while True:
        try:
            payload = await asyncio.wait_for(session.outbox.get(), TICK_S)
        except asyncio.TimeoutError:
            payload = None
        if payload is None:
            ended = _newly_ended_conversation(emulator, session)
            if ended is not None:
                payload = _disconnect_event()
                session.disconnect_sent = True
                emulator.guests.disconnect_events_sent[ended] += 1
        if payload is not None:
            try:
                await websocket.send_text(json.dumps(payload))
            except (OSError, RuntimeError, WebSocketDisconnect):
                return


def _newly_ended_conversation(emulator: Emulator, session: GuestSession) -> str | None:
    """The id of this guest's conversation if it ended and the guest is due its Disconnect event."""
    if session.conversation_id is None or session.disconnect_sent:
        return None
    conversation = emulator.conversation(session.conversation_id)
    if conversation.ended_at is None or conversation.guest_disconnect is None:
        return None
    return conversation.id
