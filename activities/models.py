"""What the termination steps take and return.

Everything here lands in workflow histories, so it holds ids, states and counts: never a secret,
never customer text (message bodies, names, addresses).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

WEB_MESSAGING = "webmessaging"
# Wrap-up prompts under which Genesys refuses `wrapupSkipped` (the agent must give a code, or
# wait out the forced timeout).
UNSKIPPABLE_WRAPUP_PROMPTS = frozenset({"mandatory", "forcedTimeout"})
# Communication states in which a participant still takes part in the conversation.
LIVE_STATES = frozenset({"alerting", "connected", "parked"})


class CommunicationSnapshot(BaseModel):
    id: str
    state: str | None = None
    type: str | None = None
    #: Ids of the messages on this communication (ids only: how a resent goodbye is detected).
    message_ids: list[str] = Field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


class ParticipantSnapshot(BaseModel):
    id: str
    purpose: str | None = None
    communications: list[CommunicationSnapshot] = Field(default_factory=list)
    wrapup_required: bool = False
    wrapup_prompt: str | None = None
    #: A wrap-up was applied or skipped: the participant is out of after-call work.
    wrapup_done: bool = False

    @property
    def connected(self) -> bool:
        return any(c.live for c in self.communications)

    @property
    def is_agent(self) -> bool:
        return self.purpose in ("agent", "user")

    @property
    def pending_wrapup(self) -> bool:
        """Disconnected but sitting in after-call work (the state agents get stuck in)."""
        return self.is_agent and self.wrapup_required and not self.wrapup_done and not self.connected

    @property
    def wrapup_skippable(self) -> bool:
        return self.wrapup_prompt not in UNSKIPPABLE_WRAPUP_PROMPTS

    @property
    def live_communication(self) -> CommunicationSnapshot | None:
        return next((c for c in self.communications if c.live), None)

    @property
    def last_communication(self) -> CommunicationSnapshot | None:
        return self.communications[-1] if self.communications else None


class ConversationSnapshot(BaseModel):
    """A PII-free picture of a conversation, as one read of Genesys saw it."""

    conversation_id: str
    found: bool = True
    end_time: datetime | None = None
    media_types: list[str] = Field(default_factory=list)
    participants: list[ParticipantSnapshot] = Field(default_factory=list)

    @property
    def is_web_messaging(self) -> bool:
        return WEB_MESSAGING in self.media_types

    @property
    def connected_participants(self) -> list[ParticipantSnapshot]:
        return [p for p in self.participants if p.connected]

    @property
    def pending_wrapup_participants(self) -> list[ParticipantSnapshot]:
        return [p for p in self.participants if p.pending_wrapup]

    @property
    def ended(self) -> bool:
        """Genesys confirms the end: ``endTime`` set, nobody connected, nobody in after-call work."""
        return self.end_time is not None and not self.connected_participants and not self.pending_wrapup_participants

    def participant(self, participant_id: str) -> ParticipantSnapshot | None:
        return next((p for p in self.participants if p.id == participant_id), None)

    def agent_communication(self) -> CommunicationSnapshot | None:
        """The connected agent communication a goodbye message goes out on."""
        for p in self.participants:
            if p.is_agent and (comm := p.live_communication) is not None:
                return comm
        return None


# --- step inputs -----------------------------------------------------------------------------


class ConversationRef(BaseModel):
    """Which conversation, through which credentials profile (a name, never a secret)."""

    conversation_id: str
    profile: str = "default"


class GoodbyeInput(ConversationRef):
    communication_id: str
    text: str
    #: Message ids already on the communication before the send: anything new may be ours.
    known_message_ids: list[str] = Field(default_factory=list)


WrapupDecision = Literal["code", "skip", "none"]


class DisconnectInput(ConversationRef):
    participant_id: str
    wrapup: WrapupDecision = "none"
    wrapup_code: str | None = None


class DeleteTranscriptInput(ConversationRef):
    #: Decided by the workflow, so every attempt schedules the same date.
    delete_date: datetime


class VerifyInput(ConversationRef):
    #: Wait this long before the read (the first read after the disconnects: see VERIFY_SETTLE) ...
    settle_seconds: float = 0.0
    #: ... but no later than this: the settle counted from the last ending call's answer, not
    #: from this step's start (the workflow task and dispatch between them are part of it).
    settle_until: datetime | None = None


class CloseInput(ConversationRef):
    wrapup_code: str | None = None
    #: The latest snapshot: who is still connected and who is pending wrap-up.
    snapshot: ConversationSnapshot


# --- step results ----------------------------------------------------------------------------


class StepResult(BaseModel):
    #: Genesys API calls the step made (token requests excluded).
    calls: int = 0
    #: When the step's last Genesys call was answered (the worker's clock, UTC); null if it made none.
    answered_at: datetime | None = None


class LookupResult(StepResult):
    snapshot: ConversationSnapshot
    #: From the lookup step only: whether this worker delivers closure callbacks to a default URL
    #: (CLOSER_CALLBACK_URL). A workflow cannot read its worker's settings; the first step's result
    #: carries this one, rather than a step of its own costing every run a round trip.
    default_callback: bool = False


class GoodbyeResult(StepResult):
    #: already_sent: a retry found it delivered by an earlier attempt; agent_left: the agent's
    #: communication ended before it could be sent.
    status: Literal["sent", "already_sent", "agent_left"]
    #: The message's id (closer's own messages are not activity to a watch).
    message_id: str | None = None


#: refused: Genesys refused the PATCH and the participant is still there (left to the close step).
DisconnectAction = Literal["disconnected", "already_disconnected", "refused"]


class DisconnectResult(StepResult):
    participant_id: str
    action: DisconnectAction
    wrapup: WrapupDecision = "none"


class CloseResult(StepResult):
    wrapups_applied: list[str] = Field(default_factory=list)
    wrapups_skipped: list[str] = Field(default_factory=list)
    conversation_disconnected: bool = False


class TeardownResult(StepResult):
    pass


class DeleteTranscriptResult(StepResult):
    recordings_scheduled: int = 0
    delete_date: datetime | None = None


# --- closure callbacks -----------------------------------------------------------------------


class CallbackDelivery(BaseModel):
    """One closure callback to deliver: the same ``event_id`` (``webhook-id``) on every attempt."""

    event_id: str
    #: The request's callbackUrl (already checked against the allowlist), or None: the worker's
    #: CLOSER_CALLBACK_URL, which so stays out of histories.
    url: str | None = None
    #: The Standard Webhooks payload, ``{"type", "timestamp", "data"}``, as JSON.
    payload: dict[str, Any]


class CallbackResult(BaseModel):
    #: not_configured: the request named no URL and the worker has no CLOSER_CALLBACK_URL.
    status: Literal["delivered", "not_configured"]
    #: The attempt that got a 2xx.
    attempts: int = 0
    delivered_at: datetime | None = None
