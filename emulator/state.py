"""Conversations and their timed transitions.

Nothing runs in the background: a change that Genesys applies "later" is stored with the monotonic
time it takes effect, and `Conversation.settle(now)` applies everything due before any read or
write. Two reads at the same moment therefore always agree, and a test can reason about time.

One participant has exactly one communication here (a messaging participant's `messages[0]`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from .config import EmulatorConfig
from .errors import GenesysError, bad_request, not_found

SYSTEM_PURPOSES = frozenset({"acd", "workflow", "ivr"})
"""Participants that are Genesys itself (queue, Architect flow or bot, IVR), not people."""

# UNCONFIRMED: the code and name Genesys records for a wrap-up it applies itself (after-call work
# timed out, or a teardown); this is the default wrap-up code's well-known id.
SYSTEM_WRAPUP = {"code": "ININ-WRAP-UP-TIMEOUT", "name": "ININ-WRAP-UP-TIMEOUT"}

GuestDisconnect = Literal["Send", "ReadOnly"]

Sender = Literal["customer", "agent", "bot"]
# UNCONFIRMED how a bot appears: here, as an Architect flow participant (purpose workflow).
SENDER_PURPOSES: dict[Sender, str] = {"customer": "customer", "agent": "agent", "bot": "workflow"}


@dataclass
class ChatMessage:
    """One message on a communication. Its text is only shown by the admin view, the bulk
    lookup and the recording transcript, never by the conversation GETs (as in Genesys)."""

    id: str
    direction: Literal["inbound", "outbound"]
    text: str
    at: float
    delivered: bool = False
    """An outbound message a guest's socket received (`delivery-success` rather than `sent`)."""


@dataclass
class Communication:
    id: str
    type: str
    """Messaging platform: `webmessaging`, or `open` for Open Messaging."""
    direction: Literal["inbound", "outbound"]
    connected_at: float
    initial_state: Literal["connected", "disconnected"] = "connected"
    state: Literal["connected", "disconnected"] = "connected"
    disconnected_at: float | None = None
    disconnect_type: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)


@dataclass
class PendingDisconnect:
    """A disconnect Genesys has accepted (202) but not applied yet."""

    at: float
    disconnect_type: str
    wrapup: dict[str, object] | None = None
    wrapup_skipped: bool = False


@dataclass
class Participant:
    id: str
    purpose: str
    name: str
    communication: Communication
    joined_at: float
    user_id: str | None = None
    queue_id: str | None = None
    wrapup_required: bool = False
    wrapup_prompt: str | None = None
    wrapup: dict[str, object] | None = None
    wrapup_by_system: bool = False
    wrapup_skipped: bool = False
    acw_started_at: float | None = None
    acw_ended_at: float | None = None
    pending: PendingDisconnect | None = None

    @property
    def connected(self) -> bool:
        return self.communication.state == "connected"

    @property
    def in_after_call_work(self) -> bool:
        """Disconnected, wrap-up required, and no wrap-up yet."""
        return self.acw_started_at is not None and self.acw_ended_at is None

    @property
    def wrapup_mandatory(self) -> bool:
        return self.wrapup_required and self.wrapup_prompt == "mandatory"

    def apply_wrapup(self, wrapup: dict[str, object], at: float, *, by_system: bool = False) -> None:
        self.wrapup = wrapup
        self.wrapup_by_system = by_system
        if self.in_after_call_work:
            self.acw_ended_at = at

    def skip_wrapup(self, at: float) -> None:
        self.wrapup_skipped = True
        if self.in_after_call_work:
            self.acw_ended_at = at

    def send(self, text: str, at: float) -> ChatMessage:
        """A message this participant sends on its communication: inbound from the customer,
        outbound from anyone else."""
        direction: Literal["inbound", "outbound"] = "inbound" if self.purpose == "customer" else "outbound"
        message = ChatMessage(str(uuid.uuid4()), direction, text, at)
        self.communication.messages.append(message)
        return message


def check_can_skip_wrapup(participant: Participant) -> None:
    if participant.wrapup_mandatory:
        raise bad_request(
            "Wrap-up cannot be skipped: this participant's wrap-up prompt is mandatory.",
            "conversation.error.wrapup.cannot.skip",
        )


def require_wrapup_code(participant: Participant, wrapup: dict[str, object]) -> None:
    """A wrap-up is a code: without one it is refused (Genesys' `wrapup.code.required`)."""
    if not wrapup.get("code"):
        prompt = participant.wrapup_prompt or "optional"
        raise bad_request(
            f"A wrap-up code is required (wrap-up prompt: {prompt}).",
            "conversation.error.wrapup.code.required",
        )


def no_active_conversations() -> GenesysError:
    return bad_request(
        "The participant has no active conversations to disconnect.",
        "conversation.error.participant.no.active.conversations",
    )


@dataclass
class Conversation:
    id: str
    scenario: str
    started_at: float
    participants: list[Participant]
    deployment_id: str
    guest_token: str
    guest_disconnect: GuestDisconnect | None
    recording_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recording_delete_date: str | None = None
    stuck: bool = False
    """A stuck conversation accepts every PATCH and changes nothing; only the teardown ends it."""
    torn_down: bool = False
    teardowns: int = 0
    end_due_at: float | None = None
    """When `endTime` will be set: `end_delay_s` after the last communication disconnected."""
    ended_at: float | None = None

    # --- reading -----------------------------------------------------------------------------

    def settle(self, now: float, config: EmulatorConfig) -> None:
        """Apply every change due by `now`, each at its own effective time."""
        due = sorted((p for p in self.participants if p.pending and p.pending.at <= now), key=_pending_at)
        for participant in due:
            self._apply_disconnect(participant, config)
        if self.ended_at is None and self.end_due_at is not None and self.end_due_at <= now:
            self.ended_at = self.end_due_at
        if config.wrapup_timeout_s is not None:
            for participant in self.participants:
                started = participant.acw_started_at
                if participant.in_after_call_work and started is not None:
                    timeout_at = started + config.wrapup_timeout_s
                    if timeout_at <= now:
                        participant.apply_wrapup(dict(SYSTEM_WRAPUP), timeout_at, by_system=True)

    def participant(self, participant_id: str) -> Participant:
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        raise not_found(f"Participant {participant_id}")

    def communication(self, communication_id: str) -> tuple[Participant, Communication]:
        for participant in self.participants:
            if participant.communication.id == communication_id:
                return participant, participant.communication
        raise not_found(f"Communication {communication_id}")

    def connected_sender(self, sender: Sender) -> Participant:
        """The connected participant who sends as `sender`; 400 `bad.request` if there is none."""
        purpose = SENDER_PURPOSES[sender]
        present = [p for p in self.participants if p.purpose == purpose]
        if not present:
            raise bad_request(f"Conversation {self.id} has no {sender} (a participant with purpose '{purpose}').")
        connected = next((p for p in present if p.connected), None)
        if connected is None:
            raise bad_request(f"The {sender} of conversation {self.id} is no longer connected.")
        return connected

    def messages(self) -> list[tuple[Participant, ChatMessage]]:
        """Every message of the conversation, oldest first."""
        pairs = [(p, m) for p in self.participants for m in p.communication.messages]
        return sorted(pairs, key=lambda pair: pair[1].at)

    # --- changing ----------------------------------------------------------------------------

    def patch_participant(
        self,
        participant: Participant,
        now: float,
        config: EmulatorConfig,
        *,
        disconnect: bool,
        wrapup: dict[str, object] | None = None,
        wrapup_skipped: bool = False,
    ) -> None:
        """The participant PATCH (and, with no wrap-up, the communication PATCH).

        Everything is checked first, so a refused request changes nothing. A disconnect takes
        effect after `disconnect_delay_s`; a wrap-up alone applies at once (to a participant in
        after-call work, or ahead of a disconnect so that none follows)."""
        if participant.purpose in SYSTEM_PURPOSES and not config.system_participants_accept_patch:
            # UNCONFIRMED whether Genesys lets a client change acd/workflow/ivr participants.
            raise bad_request(
                f"Participant {participant.id} has purpose '{participant.purpose}' and cannot be changed."
            )
        self._check_not_in_flight(participant)
        if disconnect and not participant.connected:
            raise no_active_conversations()
        if wrapup is not None:
            require_wrapup_code(participant, wrapup)
        if wrapup_skipped:
            check_can_skip_wrapup(participant)
        if self.stuck:
            return
        if disconnect:
            at = now + config.disconnect_delay_s
            participant.pending = PendingDisconnect(at, "client", wrapup, wrapup_skipped)
            if participant.purpose == "customer" and config.customer_disconnect_ends_conversation:
                # UNCONFIRMED: the others leave because their peer did.
                self._schedule_everyone(at, "peer")
        elif wrapup is not None:
            participant.apply_wrapup(wrapup, now)
        elif wrapup_skipped:
            participant.skip_wrapup(now)

    def post_wrapup(self, participant: Participant, wrapup: dict[str, object], now: float) -> None:
        """The wrap-up POST: applies at once and ends after-call work."""
        require_wrapup_code(participant, wrapup)
        participant.apply_wrapup(wrapup, now)

    def disconnect_all(self, now: float, config: EmulatorConfig) -> None:
        """The conversation PATCH: disconnect every connected participant, no wrap-up."""
        if not any(p.connected for p in self.participants):
            raise no_active_conversations()
        if not self.stuck:
            self._schedule_everyone(now + config.disconnect_delay_s, "client")

    def teardown(self, now: float, config: EmulatorConfig) -> None:
        """`POST /api/v2/conversations/{id}/disconnect`: ends everything, even a stuck conversation,
        and wraps up (as the system) whoever waits for a wrap-up now or will after this."""
        self.teardowns += 1
        self.torn_down = True
        self._schedule_everyone(now + config.disconnect_delay_s, "system")
        for participant in self.participants:
            if participant.in_after_call_work:
                participant.apply_wrapup(dict(SYSTEM_WRAPUP), now, by_system=True)

    def send_agent_message(self, communication_id: str, text: str, now: float) -> ChatMessage:
        participant, communication = self.communication(communication_id)
        if participant.purpose != "agent":
            raise bad_request(
                f"Communication {communication_id} belongs to a participant with purpose "
                f"'{participant.purpose}'; messages can only be sent on an agent's communication."
            )
        if communication.state != "connected":
            raise bad_request(f"Communication {communication_id} is {communication.state}, not connected.")
        return participant.send(text, now)

    def _check_not_in_flight(self, participant: Participant) -> None:
        if participant.pending is not None:
            raise GenesysError(
                409,
                "conflict",
                f"Participant {participant.id} has a change in progress; retry once it completes.",
            )

    def _schedule_everyone(self, at: float, disconnect_type: str) -> None:
        for participant in self.participants:
            if participant.connected and participant.pending is None:
                participant.pending = PendingDisconnect(at, disconnect_type)

    def _apply_disconnect(self, participant: Participant, config: EmulatorConfig) -> None:
        change = participant.pending
        assert change is not None
        participant.pending = None
        communication = participant.communication
        communication.state = "disconnected"
        communication.disconnected_at = change.at
        communication.disconnect_type = change.disconnect_type
        if change.wrapup is not None:
            participant.apply_wrapup(change.wrapup, change.at)
        elif change.wrapup_skipped:
            participant.skip_wrapup(change.at)
        elif participant.wrapup_required and participant.wrapup is None and not participant.wrapup_skipped:
            participant.acw_started_at = change.at
            if self.torn_down:
                participant.apply_wrapup(dict(SYSTEM_WRAPUP), change.at, by_system=True)
        if self.end_due_at is None and not any(p.connected for p in self.participants):
            self.end_due_at = change.at + config.end_delay_s


def _pending_at(participant: Participant) -> float:
    assert participant.pending is not None
    return participant.pending.at


class ConversationStore:
    """Every seeded conversation, settled on access."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}

    def add(self, conversation: Conversation) -> None:
        if conversation.id in self._conversations:
            raise ValueError(f"conversation {conversation.id} already exists")
        self._conversations[conversation.id] = conversation

    def get(self, conversation_id: str, now: float, config: EmulatorConfig) -> Conversation:
        """The settled conversation, or 404 `not.found`."""
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            raise not_found(f"Conversation {conversation_id}")
        conversation.settle(now, config)
        return conversation

    def settled(self, now: float, config: EmulatorConfig) -> list[Conversation]:
        """Every conversation, settled to `now`."""
        for conversation in self._conversations.values():
            conversation.settle(now, config)
        return list(self._conversations.values())

    def by_guest_token(self, token: str) -> Conversation | None:
        for conversation in self._conversations.values():
            if conversation.guest_token == token:
                return conversation
        return None
