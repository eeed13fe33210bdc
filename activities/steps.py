"""What every Genesys-backed activity class shares: the client pool, the step decorator, reads,
and sending a message exactly once."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from temporalio import activity

from genesys import (
    BadRequest,
    ClientPool,
    GenesysClient,
    GenesysError,
    UnknownProfile,
    counting_calls,
)

from .errors import application_error, unknown_profile_error
from .heartbeat import heartbeating
from .metrics import record_genesys_calls
from .models import (
    CommunicationSnapshot,
    ConversationRef,
    ConversationSnapshot,
    GoodbyeInput,
    GoodbyeResult,
    StepResult,
)
from .snapshot import snapshot_of


class OnProfile(Protocol):
    """Every step's input names the credentials profile to call Genesys with."""

    profile: str


R = TypeVar("R", bound=StepResult)
In = TypeVar("In", bound=OnProfile)

StepMethod = Callable[[Any, In], Awaitable[R]]


def genesys_step(name: str) -> Callable[[StepMethod[In, R]], StepMethod[In, R]]:
    """Make a method an activity called ``name``: heartbeating, counting its calls (and recording
    them as metrics: closer_genesys_calls_total, ...), typed errors."""

    def decorate(method: StepMethod[In, R]) -> StepMethod[In, R]:
        @activity.defn(name=name)
        @functools.wraps(method)
        @heartbeating
        async def run(self: GenesysActivities, step_input: In) -> R:
            with counting_calls() as calls:
                try:
                    result = await method(self, step_input)
                except GenesysError as error:
                    raise application_error(error, name) from None
                except UnknownProfile as error:
                    raise unknown_profile_error(error) from None
                finally:
                    record_genesys_calls(calls.calls)  # failed attempts' calls count too
            result.calls = calls.count
            if calls.count:
                result.answered_at = datetime.now(timezone.utc)
            return result

        return run

    return decorate


class GenesysActivities:
    """Activities sharing one Genesys client per profile for the worker's life."""

    def __init__(self, clients: ClientPool) -> None:
        self._clients = clients

    def _client(self, ref: OnProfile) -> GenesysClient:
        return self._clients.get(ref.profile)

    async def _read(self, ref: ConversationRef) -> ConversationSnapshot:
        return snapshot_of(await self._client(ref).get_conversation(ref.conversation_id))

    async def _send_once(self, message: GoodbyeInput) -> GoodbyeResult:
        """Send ``message`` on the agent's communication, once across retries and crashes.

        The API has no idempotency key. A retry may follow an attempt whose send Genesys accepted
        before the worker died, so look for the message before sending it again.
        """
        if activity.info().attempt > 1:
            sent = await self._already_sent(message)
            if sent is not None:
                return GoodbyeResult(status="already_sent", message_id=sent)
        try:
            data = await self._client(message).send_message(
                message.conversation_id, message.communication_id, message.text
            )
        except BadRequest:
            # Refused: if the agent left in the meantime there is nobody to say it, and that is
            # no reason not to go on. Anything else is a real error.
            communication = _communication(await self._read(message), message.communication_id)
            if communication is not None and communication.live:
                raise
            return GoodbyeResult(status="agent_left")
        return GoodbyeResult(status="sent", message_id=data.id)

    async def _already_sent(self, message: GoodbyeInput) -> str | None:
        """The id of a message with this text sent since ``known_message_ids`` were read, if any."""
        communication = _communication(await self._read(message), message.communication_id)
        new_ids = [
            m for m in (communication.message_ids if communication else []) if m not in message.known_message_ids
        ]
        if not new_ids:
            return None
        # Compare texts here, in the activity: they never leave it.
        messages = await self._client(message).get_message_texts(message.conversation_id, new_ids)
        return next(
            (m.id for m in messages if m.normalized_message and m.normalized_message.text == message.text), None
        )


def _communication(snapshot: ConversationSnapshot, communication_id: str) -> CommunicationSnapshot | None:
    return next((c for p in snapshot.participants for c in p.communications if c.id == communication_id), None)
