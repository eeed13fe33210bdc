"""The steps of a termination, as Temporal activities.

Each step trusts the remote state, not its own memory: after a 409, a 400 "no active
conversations" or a worker crash it reads the conversation and compares it with the goal, so
running a step any number of times ends in the same place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from genesys import BadRequest, ClientPool, Conflict, NotFound
from genesys.models import MediaParticipantRequest, RecordingRetention, WrapupInput

from .errors import still_changing
from .models import (
    CloseInput,
    CloseResult,
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
    VerifyInput,
)
from .steps import GenesysActivities, genesys_step

# Genesys answers this when nobody is left to disconnect: the goal is reached, not an error.
ALREADY_DISCONNECTED_CODES = frozenset({"conversation.error.participant.no.active.conversations"})
# Wrap-up refusals a plain disconnect gets past (the agent then sits in after-call work).
WRAPUP_REFUSED_CODES = frozenset({"conversation.error.wrapup.cannot.skip", "conversation.error.wrapup.code.required"})


class TerminationActivities(GenesysActivities):
    """The termination steps, sharing one Genesys client per profile for the worker's life."""

    def __init__(self, clients: ClientPool, *, default_callback: bool = False) -> None:
        super().__init__(clients)
        self._default_callback = default_callback

    @genesys_step("lookup")
    async def lookup(self, ref: ConversationRef) -> LookupResult:
        try:
            snapshot = await self._read(ref)
        except NotFound:
            snapshot = ConversationSnapshot(conversation_id=ref.conversation_id, found=False)
        return LookupResult(snapshot=snapshot, default_callback=self._default_callback)

    @genesys_step("verify")
    async def verify(self, request: VerifyInput) -> LookupResult:
        """One read of the conversation, after a short settle; the workflow polls it on durable timers."""
        settle = request.settle_seconds
        if settle and request.settle_until is not None:
            # Never longer than settle_seconds, whatever another worker's clock said.
            settle = min(settle, (request.settle_until - datetime.now(timezone.utc)).total_seconds())
        if settle > 0:
            await asyncio.sleep(settle)
        return LookupResult(snapshot=await self._read(request))

    @genesys_step("send goodbye")
    async def send_goodbye(self, goodbye: GoodbyeInput) -> GoodbyeResult:
        return await self._send_once(goodbye)

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
                raise still_changing(
                    "disconnect participant",
                    f"participant {request.participant_id} is still connected: {error.code}",
                    error,
                ) from None
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
        except Conflict as error:
            raise still_changing("close", "a participant is still changing", error) from None
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


def _disconnect_body(request: DisconnectInput) -> MediaParticipantRequest:
    if request.wrapup == "code" and request.wrapup_code:
        return MediaParticipantRequest(state="disconnected", wrapup=WrapupInput(code=request.wrapup_code))
    if request.wrapup == "skip":
        return MediaParticipantRequest(state="disconnected", wrapup_skipped=True)
    return MediaParticipantRequest(state="disconnected")
