"""The admin API, only under `/emulator/`: never part of Genesys, never logged, no auth.

Errors here are plain `{"error": "..."}` with a 4xx status.
"""

from __future__ import annotations

import json
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import clock
from .core import Emulator
from .errors import GenesysError
from .faults import FaultRule, Hold, HoldRule
from .scenarios import SeedRequest, seed, seed_response
from .state import Conversation, Sender

ModelT = TypeVar("ModelT", bound=BaseModel)


class ClientRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    client_secret: str
    permissions: list[str] | None
    """None: every permission."""


class MessageRequest(BaseModel):
    """A participant sends a message now: `{"from": "customer" | "agent" | "bot", "text": ...}`."""

    model_config = ConfigDict(extra="forbid")

    sender: Sender = Field(alias="from")
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


async def seed_conversation(request: Request) -> Response:
    emulator = _emulator(request)
    conversation = seed(await _model(request, SeedRequest), clock.now())
    try:
        emulator.conversations.add(conversation)
    except ValueError as error:
        raise AdminError(409, str(error)) from None
    return JSONResponse(seed_response(conversation), status_code=201)


async def conversation_view(request: Request) -> Response:
    return JSONResponse(_view(_emulator(request), _conversation(request, clock.now())))


async def send_message(request: Request) -> Response:
    """Activity on demand: the customer, the agent or the bot sends a message now. Agent and bot
    messages reach the guest's socket, as the Genesys message POST's do."""
    now = clock.now()
    conversation = _conversation(request, now)
    body = await _model(request, MessageRequest)
    try:
        participant = conversation.connected_sender(body.sender)
    except GenesysError as error:
        raise AdminError(400, error.message) from None
    message = participant.send(body.text, now)
    if message.direction == "outbound":
        _emulator(request).guests.deliver(conversation.id, message)
    answer = {"messageId": message.id, "messageTime": clock.iso(message.at), "participantId": participant.id}
    return JSONResponse(answer, status_code=201)


async def list_requests(request: Request) -> Response:
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        raise AdminError(400, "since must be an integer") from None
    return JSONResponse(_emulator(request).request_log.since(since))


async def clear_requests(request: Request) -> Response:
    _emulator(request).request_log.clear()
    return Response(status_code=204)


async def get_config(request: Request) -> Response:
    return JSONResponse(_emulator(request).config.model_dump())


async def put_config(request: Request) -> Response:
    changes = await _json(request)
    if not isinstance(changes, dict):
        raise AdminError(400, "send a JSON object of the settings to change")
    try:
        config = _emulator(request).update_config(changes)
    except ValidationError as error:
        raise AdminError(400, _problems(error)) from None
    return JSONResponse(config.model_dump())


async def add_fault(request: Request) -> Response:
    fault_id = _emulator(request).faults.add(await _model(request, FaultRule))
    return JSONResponse({"id": fault_id}, status_code=201)


async def list_faults(request: Request) -> Response:
    return JSONResponse(_emulator(request).faults.listing())


async def clear_faults(request: Request) -> Response:
    _emulator(request).faults.clear()
    return Response(status_code=204)


async def remove_fault(request: Request) -> Response:
    if not _emulator(request).faults.remove(request.path_params["fault_id"]):
        raise AdminError(404, "no such fault")
    return Response(status_code=204)


async def add_hold(request: Request) -> Response:
    hold = _emulator(request).holds.add(await _model(request, HoldRule))
    return JSONResponse({"id": hold.id}, status_code=201)


async def hold_status(request: Request) -> Response:
    return JSONResponse(_hold(request).status())


async def release_hold(request: Request) -> Response:
    hold = _hold(request)
    hold.release()
    return JSONResponse(hold.status())


async def add_client(request: Request) -> Response:
    body = await _model(request, ClientRequest)
    client = _emulator(request).auth.add_client(body.client_id, body.client_secret, body.permissions)
    permissions = None if client.permissions is None else sorted(client.permissions)
    return JSONResponse({"client_id": client.client_id, "permissions": permissions}, status_code=201)


def _view(emulator: Emulator, c: Conversation) -> dict[str, object]:
    """Internal state, including what Genesys never shows (message texts, pending changes)."""

    def texts(direction: str) -> list[dict[str, object]]:
        return [
            {"communicationId": p.communication.id, "text": m.text} for p, m in c.messages() if m.direction == direction
        ]

    return {
        "conversationId": c.id,
        "scenario": c.scenario,
        "stuck": c.stuck,
        "endTime": None if c.ended_at is None else clock.iso(c.ended_at),
        "teardowns": c.teardowns,
        "participants": [
            {
                "id": p.id,
                "purpose": p.purpose,
                "communicationId": p.communication.id,
                "type": p.communication.type,
                "state": p.communication.state,
                "disconnectType": p.communication.disconnect_type,
                "in_flight": p.pending is not None,
                "wrapupRequired": p.wrapup_required,
                "wrapupPrompt": p.wrapup_prompt,
                "wrapup": p.wrapup,
                "wrapup_by_system": p.wrapup_by_system,
                "wrapupSkipped": p.wrapup_skipped,
                "pending_acw": p.in_after_call_work,
            }
            for p in c.participants
        ],
        "sent_messages": texts("outbound"),
        "customer_messages": texts("inbound"),
        "recording": {"id": c.recording_id, "deleteDate": c.recording_delete_date},
        "guest": {
            "deploymentId": c.deployment_id,
            "disconnect": c.guest_disconnect,
            "connected": emulator.guests.connected(c.id),
            "disconnect_events_sent": emulator.guests.disconnect_events_sent[c.id],
        },
    }


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _conversation(request: Request, now: float) -> Conversation:
    try:
        return _emulator(request).conversation(request.path_params["conversation_id"], now)
    except GenesysError as error:
        raise AdminError(404, error.message) from None


def _hold(request: Request) -> Hold:
    hold = _emulator(request).holds.get(request.path_params["hold_id"])
    if hold is None:
        raise AdminError(404, "no such hold")
    return hold


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        raise AdminError(400, "the body is not JSON") from None


async def _model(request: Request, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(await _json(request))
    except ValidationError as error:
        raise AdminError(400, _problems(error)) from None


def _problems(error: ValidationError) -> str:
    """One line per problem, naming the field: `from: Input should be 'customer', 'agent' or 'bot'`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    )


async def admin_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AdminError)
    return JSONResponse({"error": error.message}, status_code=error.status)


ADMIN_ROUTES = [
    Route("/conversations", seed_conversation, methods=["POST"]),
    Route("/conversations/{conversation_id}", conversation_view, methods=["GET"]),
    Route("/conversations/{conversation_id}/messages", send_message, methods=["POST"]),
    Route("/requests", list_requests, methods=["GET"]),
    Route("/requests", clear_requests, methods=["DELETE"]),
    Route("/config", get_config, methods=["GET"]),
    Route("/config", put_config, methods=["PUT"]),
    Route("/faults", add_fault, methods=["POST"]),
    Route("/faults", list_faults, methods=["GET"]),
    Route("/faults", clear_faults, methods=["DELETE"]),
    Route("/faults/{fault_id}", remove_fault, methods=["DELETE"]),
    Route("/holds", add_hold, methods=["POST"]),
    Route("/holds/{hold_id}", hold_status, methods=["GET"]),
    Route("/holds/{hold_id}/release", release_hold, methods=["POST"]),
    Route("/clients", add_client, methods=["POST"]),
]
