"""Seeds: the conversations a test or the demo starts from (`POST /emulator/conversations`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .state import ChatMessage, Communication, Conversation, Participant

Scenario = Literal["agent", "bot", "ended", "stuck", "not_web_messaging"]
WrapupPrompt = Literal["mandatory", "optional", "agentRequested", "timeout", "forcedTimeout"]

DEFAULT_CUSTOMER_MESSAGES = ("Hi, my order 4411 never arrived", "Can you check where it is?")
RESOLVED_WRAPUP = {"code": "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11", "name": "Resolved"}
"""The wrap-up the `ended` scenario's agent already has."""

_HISTORY_S = 120.0
"""Seeded conversations started this long ago, so their timestamps look lived-in."""


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: Scenario
    id: uuid.UUID | None = None
    """The conversation id; a new uuid4 by default."""
    wrapup_prompt: WrapupPrompt = "optional"
    wrapup_required: bool = True
    customer_messages: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        default_factory=lambda: list(DEFAULT_CUSTOMER_MESSAGES)
    )
    disconnect: Literal["Send", "ReadOnly"] | None = "Send"
    """The deployment's conversation-disconnect setting: what the guest sees at the end."""


def seed(request: SeedRequest, now: float) -> Conversation:
    start = now - _HISTORY_S
    channel = "open" if request.scenario == "not_web_messaging" else "webmessaging"
    customer = _participant("customer", "Customer", channel, start)
    customer.communication.messages = [
        ChatMessage(str(uuid.uuid4()), "inbound", text, start + 5 * (i + 1))
        for i, text in enumerate(request.customer_messages)
    ]
    participants = [customer]
    queue_id = str(uuid.uuid4())
    if request.scenario == "bot":
        # UNCONFIRMED how a bot appears: here, an Architect flow participant (purpose workflow).
        participants.append(_participant("workflow", "Support Bot", channel, start + 1))
    else:
        if request.scenario != "not_web_messaging":
            acd = _participant("acd", "Support", channel, start + 1, queue_id=queue_id)
            _disconnect(acd, start + 10, "transfer")
            participants.append(acd)
        agent = _participant("agent", "Agent", channel, start + 10, queue_id=queue_id)
        agent.user_id = str(uuid.uuid4())
        agent.wrapup_required = request.wrapup_required
        agent.wrapup_prompt = request.wrapup_prompt
        participants.append(agent)
    conversation = Conversation(
        id=str(request.id or uuid.uuid4()),
        scenario=request.scenario,
        started_at=start,
        participants=participants,
        deployment_id=str(uuid.uuid4()),
        guest_token=str(uuid.uuid4()),
        guest_disconnect=request.disconnect,
        stuck=request.scenario == "stuck",
    )
    if request.scenario == "ended":
        _end(conversation, now - 30)
    return conversation


def seed_response(conversation: Conversation) -> dict[str, object]:
    return {
        "conversationId": conversation.id,
        "participants": {
            p.purpose: {"participantId": p.id, "communicationId": p.communication.id}
            for p in conversation.participants
        },
        "guestToken": conversation.guest_token,
        "deploymentId": conversation.deployment_id,
    }


def _participant(purpose: str, name: str, channel: str, at: float, queue_id: str | None = None) -> Participant:
    communication = Communication(str(uuid.uuid4()), channel, "inbound", connected_at=at)
    return Participant(str(uuid.uuid4()), purpose, name, communication, joined_at=at, queue_id=queue_id)


def _disconnect(participant: Participant, at: float, disconnect_type: str) -> None:
    participant.communication.state = "disconnected"
    participant.communication.disconnected_at = at
    participant.communication.disconnect_type = disconnect_type


def _end(conversation: Conversation, at: float) -> None:
    """Everyone left at `at`, the agent wrapped up, and Genesys set the end shortly after."""
    for participant in conversation.participants:
        if participant.connected:
            _disconnect(participant, at, "client")
        if participant.wrapup_required:
            participant.apply_wrapup(dict(RESOLVED_WRAPUP), at)
    conversation.end_due_at = conversation.ended_at = at + 1
