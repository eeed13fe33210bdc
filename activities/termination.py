"""The steps of a termination, as Temporal activities.

Each step trusts the remote state, not its own memory: after a 409, a 400 "no active
conversations" or a worker crash it reads the conversation and compares it with the goal, so
running a step any number of times ends in the same place.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import activity

from genesys import (
    BadRequest,
    ClientPool,
    Conflict,
    GenesysClient,
    GenesysError,
    NotFound,
    UnknownProfile,
    counting_calls,
)
from genesys.models import MediaParticipantRequest, RecordingRetention, WrapupInput

from .errors import application_error, still_changing, unknown_profile_error
from .heartbeat import heartbeating
from .models import (
    CloseInput,
    CloseResult,
    CommunicationSnapshot,
    ConversationRef,
    ConversationSnapshot,
    DeleteTranscriptInput,
    DeleteTranscriptResult,
    DisconnectInput,
    DisconnectResult,
    GoodbyeInput,
    GoodbyeResult,
    LookupResult,
    StepResult,
    TeardownResult,
)
from .snapshot import snapshot_of

R = TypeVar("R", bound=StepResult)
I = TypeVar("I", bound=ConversationRef)

# Genesys answers this when nobody is left to disconnect: the goal is reached, not an error.
ALREADY_DISCONNECTED_CODES = frozenset({"conversation.error.participant.no.active.conversations"})
# Wrap-up refusals a plain disconnect gets past (the agent then sits in after-call work).
WRAPUP_REFUSED_CODES = frozenset(
    {"conversation.error.wrapup.cannot.skip", "conversation.error.wrapup.code.required"}
)


StepMethod = Callable[["TerminationActivities", I], Awaitable[R]]


def genesys_step(name: str) -> Callable[[StepMethod[I, R]], StepMethod[I, R]]:
    """Make a method an activity called ``name``: heartbeating, counting its calls, typed errors."""

    def decorate(method: StepMethod[I, R]) -> StepMethod[I, R]:
        @activity.defn(name=name)
        @functools.wraps(method)
        @heartbeating
        async def run(self: TerminationActivities, step_input: I) -> R:
            with counting_calls() as calls:
                try:
                    result = await method(self, step_input)
                except GenesysError as error:
                    raise application_error(error, name) from None
                except UnknownProfile as error:
                    raise unknown_profile_error(error) from None
            result.calls = calls[0]
            return result

        return run

    return decorate


class TerminationActivities:
    """The termination steps, sharing one Genesys client per profile for the worker's life."""

    def __init__(self, clients: ClientPool) -> None:
        self._clients = clients

    def _client(self, ref: ConversationRef) -> GenesysClient:
        return self._clients.get(ref.profile)

    async def _read(self, ref: ConversationRef) -> ConversationSnapshot:
        return snapshot_of(await self._client(ref).get_conversation(ref.conversation_id))

    @genesys_step("lookup")
    async def lookup(self, ref: ConversationRef) -> LookupResult:
        try:
            snapshot = await self._read(ref)
        except NotFound:
            snapshot = ConversationSnapshot(conversation_id=ref.conversation_id, found=False)
        return LookupResult(snapshot=snapshot)

    @genesys_step("verify")
    async def verify(self, ref: ConversationRef) -> LookupResult:
        """One read of the conversation; the workflow polls it on durable timers."""
        return LookupResult(snapshot=await self._read(ref))

    @genesys_step("send goodbye")
    async def send_goodbye(self, goodbye: GoodbyeInput) -> GoodbyeResult:
        # The API has no idempotency key. A retry may follow an attempt whose send Genesys
        # accepted before the worker died, so look for the message before sending it again.
        if activity.info().attempt > 1 and await self._goodbye_already_sent(goodbye):
            return GoodbyeResult(status="already_sent")
        try:
            await self._client(goodbye).send_message(goodbye.conversation_id, goodbye.communication_id, goodbye.text)
        except BadRequest:
            # Refused: if the agent left in the meantime there is nobody to say it, and that is
            # no reason not to end the conversation. Anything else is a real error.
            communication = _communication((await self._read(goodbye)), goodbye.communication_id)
            if communication is not None and communication.live:
                raise
            return GoodbyeResult(status="agent_left")
        return GoodbyeResult(status="sent")

    async def _goodbye_already_sent(self, goodbye: GoodbyeInput) -> bool:
        communication = _communication(await self._read(goodbye), goodbye.communication_id)
        new_ids = [m for m in (communication.message_ids if communication else []) if m not in goodbye.known_message_ids]
        if not new_ids:
            return False
        # Compare texts here, in the activity: they never leave it.
        messages = await self._client(goodbye).get_message_texts(goodbye.conversation_id, new_ids)
        return any(m.normalized_message and m.normalized_message.text == goodbye.text for m in messages)

    @genesys_step("disconnect participant")
    async def disconnect_participant(self, request: DisconnectInput) -> DisconnectResult:
        client = self._client(request)
        wrapup = request.wrapup
        try:
            try:
                await client.patch_message_participant(
                    request.conversation_id, request.participant_id, _disconnect_body(request)
                )
            except BadRequest as error:
                if error.code not in WRAPUP_REFUSED_CODES:
                    raise
                # Skipping is not allowed here (mandatory wrap-up): disconnect anyway; the agent
                # goes to after-call work and the close step (or the teardown) finishes it.
                wrapup = "none"
                await client.patch_message_participant(
                    request.conversation_id, request.participant_id, MediaParticipantRequest(state="disconnected")
                )
        except (Conflict, BadRequest) as error:
            # After any refusal: read, compare with the goal, continue.
            participant = (await self._read(request)).participant(request.participant_id)
            if participant is None or not participant.connected:
                return DisconnectResult(participant_id=request.participant_id, action="already_disconnected")
            if isinstance(error, Conflict):  # a change in flight: look again shortly
                raise still_changing("disconnect participant", f"participant {request.participant_id} is still connected: {error.code}") from None
            # Refused outright (UNCONFIRMED whether acd or bot participants take this PATCH):
            # the close step's conversation-level disconnect ends whoever is left.
            return DisconnectResult(participant_id=request.participant_id, action="refused")
        return DisconnectResult(participant_id=request.participant_id, action="disconnected", wrapup=wrapup)

    @genesys_step("close")
    async def close(self, request: CloseInput) -> CloseResult:
        """End after-call work (wrap-up code, or skip where allowed), then disconnect whoever is left."""
        client = self._client(request)
        result = CloseResult()
        try:
            for participant in request.snapshot.pending_wrapup_participants:
                communication = participant.last_communication
                if request.wrapup_code and communication is not None:
                    wrapup = WrapupInput(code=request.wrapup_code)
                    await client.apply_wrapup(request.conversation_id, participant.id, communication.id, wrapup)
                    result.wrapups_applied.append(participant.id)
                elif participant.wrapup_skippable:
                    await client.patch_message_participant(
                        request.conversation_id, participant.id, MediaParticipantRequest(wrapup_skipped=True)
                    )
                    result.wrapups_skipped.append(participant.id)
            if request.snapshot.connected_participants:
                await client.disconnect_message_conversation(request.conversation_id)
                result.conversation_disconnected = True
        except Conflict:
            raise still_changing("close", "a participant is still changing") from None
        except BadRequest as error:
            # Everyone left between the read and this call: nothing left to close.
            if error.code not in ALREADY_DISCONNECTED_CODES:
                raise
        return result

    @genesys_step("teardown")
    async def teardown(self, ref: ConversationRef) -> TeardownResult:
        await self._client(ref).teardown(ref.conversation_id)
        return TeardownResult()

    @genesys_step("delete transcript")
    async def delete_transcript(self, request: DeleteTranscriptInput) -> DeleteTranscriptResult:
        """Schedule deletion of the conversation's messaging recordings (their ``deleteDate``)."""
        client = self._client(request)
        delete_date = request.delete_date
        scheduled = 0
        for recording in await client.get_recordings(request.conversation_id):
            if recording.delete_date is not None and recording.delete_date <= delete_date:
                scheduled += 1  # an earlier attempt (or someone else) already scheduled it
                continue
            await client.schedule_recording_deletion(
                request.conversation_id, recording.id, RecordingRetention(delete_date=delete_date)
            )
            scheduled += 1
        return DeleteTranscriptResult(recordings_scheduled=scheduled, delete_date=delete_date)

    def all(self) -> list[Callable[..., Awaitable[StepResult]]]:
        """Every step, for ``Worker(activities=...)``."""
        return [
            self.lookup,
            self.verify,
            self.send_goodbye,
            self.disconnect_participant,
            self.close,
            self.teardown,
            self.delete_transcript,
        ]


def _communication(snapshot: ConversationSnapshot, communication_id: str) -> CommunicationSnapshot | None:
    return next((c for p in snapshot.participants for c in p.communications if c.id == communication_id), None)


def _disconnect_body(request: DisconnectInput) -> MediaParticipantRequest:
    if request.wrapup == "code" and request.wrapup_code:
        return MediaParticipantRequest(state="disconnected", wrapup=WrapupInput(code=request.wrapup_code))
    if request.wrapup == "skip":
        return MediaParticipantRequest(state="disconnected", wrapup_skipped=True)
    return MediaParticipantRequest(state="disconnected")
