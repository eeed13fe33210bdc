"""Seeds: the conversations a test or the demo starts from (`POST /emulator/conversations`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .state import Communication, Conversation, Participant

Scenario = Literal["agent", "bot", "ended", "stuck", "not_web_messaging"]
WrapupPrompt = Literal["mandatory", "optional", "agentRequested", "timeout", "forcedTimeout"]

DEFAULT_CUSTOMER_MESSAGES = ("Hi, my order 4411 never arrived", "Can you check where it is?")
RESOLVED_WRAPUP = {"code": "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11", "name": "Resolved"}
"""The wrap-up the `ended` scenario's agent already has."""

DEFAULT_STARTED_AGO_S = 120.0
"""Seeded conversations started this long ago by default, so their timestamps look lived-in."""
MESSAGE_SPACING_S = 5.0
"""Seconds between two seeded customer messages."""
ENDED_AGO_S = 30.0
"""The `ended` scenario ended this long ago (or at its last seeded moment, if that is later)."""


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
    started_ago_s: float = Field(DEFAULT_STARTED_AGO_S, ge=0)
    """How long ago the conversation started. Its participants joined within its first 10 s
    (all at once, now, for a conversation started less than that ago)."""
    last_message_age_s: float | None = Field(None, ge=0)
    """How long ago the last customer message was sent (the others `MESSAGE_SPACING_S` apart
    before it); None: the messages were sent in the conversation's first seconds."""

    @model_validator(mode="after")
    def _messages_after_start(self) -> SeedRequest:
        if self.last_message_age_s is not None and self.last_message_age_s > self.started_ago_s:
            raise ValueError("last_message_age_s cannot be more than started_ago_s")
        if self.last_message_age_s is not None and not self.customer_messages:
            raise ValueError("last_message_age_s needs customer_messages")
        return self


def seed(request: SeedRequest, now: float) -> Conversation:
    start = now - request.started_ago_s

    def early(offset_s: float) -> float:
        """A moment of the conversation's first seconds, never in the future."""
        return min(start + offset_s, now)

    channel = "open" if request.scenario == "not_web_messaging" else "webmessaging"
    customer = _participant("customer", "Customer", channel, start)
    count = len(request.customer_messages)
    if request.last_message_age_s is None:
        times = [early(MESSAGE_SPACING_S * (i + 1)) for i in range(count)]
    else:
        last = now - request.last_message_age_s
        times = [max(start, last - MESSAGE_SPACING_S * (count - 1 - i)) for i in range(count)]
    for text, at in zip(request.customer_messages, times):
        customer.send(text, at)
    participants = [customer]
    queue_id = str(uuid.uuid4())
    if request.scenario == "bot":
        # UNCONFIRMED how a bot appears: here, an Architect flow participant (purpose workflow).
        participants.append(_participant("workflow", "Support Bot", channel, early(1)))
    else:
        if request.scenario != "not_web_messaging":
            acd = _participant("acd", "Support", channel, early(1), queue_id=queue_id)
            _disconnect(acd, early(10), "transfer")
            participants.append(acd)
        agent = _participant("agent", "Agent", channel, early(10), queue_id=queue_id)
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
        left_at = max([now - ENDED_AGO_S, early(10), *times])
        _end(conversation, left_at, ended_at=min(left_at + 1, now))
    return conversation


def seed_response(conversation: Conversation) -> dict[str, object]:
    return {
        "conversationId": conversation.id,
        "participants": {
            p.purpose: {"participantId": p.id, "communicationId": p.communication.id} for p in conversation.participants
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


def _end(conversation: Conversation, left_at: float, *, ended_at: float) -> None:
    """Everyone left at `left_at`, the agent wrapped up, and Genesys set the end at `ended_at`."""
    for participant in conversation.participants:
        if participant.connected:
            _disconnect(participant, left_at, "client")
        if participant.wrapup_required:
            participant.apply_wrapup(dict(RESOLVED_WRAPUP), left_at)
    conversation.end_due_at = conversation.ended_at = ended_at
