"""The termination workflow: lookup, goodbye, disconnect, close, verify (teardown fallback), delete.

Deterministic and free of I/O: every Genesys call is an activity, every wait a durable timer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from activities.callbacks import CALLBACK_NOT_ALLOWED, CallbackActivities
    from activities.metrics import CALLBACKS, TERMINATIONS
    from activities.models import (
        CallbackDelivery,
        CloseInput,
        ConversationRef,
        ConversationSnapshot,
        DeleteTranscriptInput,
        DisconnectInput,
        GoodbyeInput,
        ParticipantSnapshot,
        StepResult,
        VerifyInput,
        WrapupDecision,
    )
    from activities.termination import TerminationActivities

    from . import search_attributes
    from .contract import invalid_input_error, root_message, workflow_input
    from .metrics import count
    from .models import (
        WORKFLOW_TYPE,
        CallbackReport,
        Outcome,
        ParticipantOutcome,
        StepRecord,
        TerminateProgress,
        TerminateRequest,
        TerminateResult,
        TerminationFinished,
        WrapupOutcome,
    )
    from .patches import FRONT_DOOR_PATCH, LEAN_PATCH
    from .policies import (
        CALLBACK_CHECK_TIMEOUT,
        CALLBACK_RETRY_POLICY,
        CALLBACK_SCHEDULE_TO_CLOSE,
        CALLBACK_START_TO_CLOSE,
        STEP_HEARTBEAT_TIMEOUT,
        STEP_RETRY_POLICY,
        STEP_SCHEDULE_TO_CLOSE,
        TEARDOWN_VERIFY_TIMEOUT,
        TRANSCRIPT_DELETE_AFTER,
        VERIFY_FIRST_POLL,
        VERIFY_MAX_POLL,
        VERIFY_SETTLE,
    )
    from .steps import run_step


StepInput = TypeVar("StepInput", bound=ConversationRef)
Result = TypeVar("Result", bound=StepResult)

_WRAPUP_OUTCOME: dict[WrapupDecision, WrapupOutcome] = {"code": "code", "skip": "skipped", "none": "none"}

_GOODBYE_DETAIL = {
    "sent": "sent",
    "already_sent": "an earlier attempt had sent it: not sent again",
    "agent_left": "not sent: the agent left first",
}


class TerminationFailed(Exception):
    """Ends the run with outcome `failed` and a message saying what to fix."""


@workflow.defn(name=WORKFLOW_TYPE)
class TerminateConversation:
    def __init__(self) -> None:
        self._steps: list[StepRecord] = []
        self._current: str | None = None
        self._participants: dict[str, ParticipantOutcome] = {}
        # Filled in as the run goes; its outcome is set last.
        self._result = TerminateResult(conversation_id="", outcome="failed")
        self._finished: TerminateResult | None = None  # what the progress query shows once done
        self._calls = 0  # every step's Genesys calls
        self._unrecorded_calls = 0  # calls not yet attributed to a StepRecord
        self._last_read: ConversationSnapshot | None = None  # the latest read of the conversation
        self._shown_step: str | None = None  # what the CloserStep search attribute says
        self._default_callback: bool | None = None  # whether the worker has a default callback URL
        self._answered_at: datetime | None = None  # when the latest step's last Genesys call was answered

    @workflow.query
    def progress(self) -> TerminateProgress:
        return TerminateProgress(
            conversation_id=self._result.conversation_id,
            current_step=self._current,
            steps=list(self._steps),
            result=self._finished,
        )

    @workflow.run
    async def run(self, *args: object) -> TerminateResult:
        """Takes one argument, a ``TerminateRequest`` as JSON (see ``workflows.contract``)."""
        request = workflow_input(TerminateRequest, args)
        self._result.conversation_id = request.conversation_id
        self._request = request
        # One patch call per new run: each records a marker and upserts TemporalChangeVersion.
        self._lean = workflow.patched(LEAN_PATCH)
        self._findable = self._lean or workflow.patched(FRONT_DOOR_PATCH)
        await (self._begin() if self._lean else self._begin_before_lean())
        self._ref = ConversationRef(conversation_id=request.conversation_id, profile=request.profile)
        try:
            outcome = await self._terminate()
        except TerminationFailed as failure:
            outcome = self._fail(str(failure))
        except ActivityError as failure:
            outcome = self._fail(root_message(failure))
        self._result.outcome = outcome
        self._result.participants = list(self._participants.values())
        self._result.steps = list(self._steps)
        self._result.api_calls = self._calls
        self._current = None
        self._finished = self._result  # final: the progress query shows it while the callback goes out
        count(TERMINATIONS, outcome=outcome)
        await (self._finish(outcome) if self._lean else self._finish_before_lean(outcome))
        return self._result

    async def _begin(self) -> None:
        request = self._request
        present = workflow.info().typed_search_attributes
        self._upsert(*search_attributes.missing_at_start(request.conversation_id, request.profile, present))
        self._shown_step = search_attributes.FIRST_STEP
        if request.callback_url:
            # Before anything touches Genesys: a URL the operator does not allow fails the run now.
            await self._check_callback(request.callback_url)

    async def _finish(self, outcome: Outcome) -> None:
        """The outcome shows at once (in one upsert with the step), then the callback goes out."""
        if self._request.callback_url or await self._worker_calls_back():
            self._upsert(search_attributes.OUTCOME.value_set(outcome), self._show_step("deliver callback"))
            await self._send_callback()
            self._upsert(self._show_step("done"))
        else:
            self._result.callback = CallbackReport(status="not_configured")
            self._upsert(search_attributes.OUTCOME.value_set(outcome), self._show_step("done"))

    async def _begin_before_lean(self) -> None:
        request = self._request
        self._upsert(
            search_attributes.CONVERSATION_ID.value_set(request.conversation_id),
            search_attributes.PROFILE.value_set(request.profile),
        )
        if self._findable and request.callback_url:
            await self._check_callback(request.callback_url)

    async def _finish_before_lean(self, outcome: Outcome) -> None:
        self._upsert(search_attributes.OUTCOME.value_set(outcome))
        if self._findable:  # these runs always ran the delivery activity
            self._upsert(search_attributes.STEP.value_set("deliver callback"))
            await self._send_callback()
        self._upsert(search_attributes.STEP.value_set("done"))

    async def _check_callback(self, url: str | None) -> bool:
        """Whether a callback goes out: the worker's allowlist and default URL decide (a workflow
        cannot read its environment). Since the lean patch a local activity, run only when the
        request names a URL: a local activity in the first task made a run ~1 s slower at 100
        concurrent starts (`make bench`)."""
        try:
            if self._lean:
                return bool(
                    await workflow.execute_local_activity_method(
                        CallbackActivities.check_callback,
                        url,
                        start_to_close_timeout=CALLBACK_CHECK_TIMEOUT,
                        schedule_to_close_timeout=STEP_SCHEDULE_TO_CLOSE,
                        retry_policy=STEP_RETRY_POLICY,
                    )
                )
            # Older runs: a regular activity, whose recorded result is null.
            await workflow.execute_activity(
                "check callback",
                url,
                start_to_close_timeout=CALLBACK_CHECK_TIMEOUT,
                schedule_to_close_timeout=STEP_SCHEDULE_TO_CLOSE,
                retry_policy=STEP_RETRY_POLICY,
            )
            return True
        except (ActivityError, ApplicationError) as failure:
            # A local activity's failure reaches the workflow unwrapped; a regular one's as its cause.
            cause = failure.cause if isinstance(failure, ActivityError) else failure
            if isinstance(cause, ApplicationError) and cause.type == CALLBACK_NOT_ALLOWED:
                raise invalid_input_error([cause.message]) from None
            raise

    async def _worker_calls_back(self) -> bool:
        """Whether the worker has a default callback URL: its lookup step said so (sparing every
        run a step of its own); if the lookup never answered, a local activity asks."""
        if self._default_callback is None:
            self._default_callback = await self._check_callback(None)
        return self._default_callback

    async def _send_callback(self) -> None:
        """POST the result to the callback URL, retrying for up to a day; the outcome stands whatever happens."""
        # One id for the event, on every attempt and across worker crashes: receivers dedupe on it.
        event_id = f"msg_{workflow.info().run_id}"
        payload = TerminationFinished(timestamp=workflow.now(), data=self._result).model_dump(
            mode="json", exclude={"data": {"callback"}}
        )
        report = self._result.callback = CallbackReport(status="pending", event_id=event_id)
        self._current = "deliver callback"
        workflow.set_current_details("**deliver callback**")
        try:
            delivered = await workflow.execute_activity_method(
                CallbackActivities.deliver_callback,
                CallbackDelivery(event_id=event_id, url=self._request.callback_url, payload=payload),
                start_to_close_timeout=CALLBACK_START_TO_CLOSE,
                heartbeat_timeout=STEP_HEARTBEAT_TIMEOUT,
                schedule_to_close_timeout=CALLBACK_SCHEDULE_TO_CLOSE,
                retry_policy=CALLBACK_RETRY_POLICY,
            )
        except ActivityError as failure:
            report.status = "failed"
            report.error, report.attempts = _callback_failure(failure)
            count(CALLBACKS, status="failed")
        else:
            if delivered.status == "not_configured":
                self._result.callback = CallbackReport(status="not_configured")
            else:
                count(CALLBACKS, status="delivered")
                report.status, report.attempts, report.delivered_at = (
                    "delivered",
                    delivered.attempts,
                    delivered.delivered_at,
                )
        self._current = None

    def _upsert(self, *updates: SearchAttributeUpdate) -> None:
        if self._findable and updates:
            workflow.upsert_search_attributes(list(updates))

    def _show_step(self, name: str) -> SearchAttributeUpdate:
        """The CloserStep update to ``name`` (to upsert with others, or alone with ``_enter``)."""
        self._shown_step = name
        return search_attributes.STEP.value_set(name)

    def _enter(self, phase: str) -> None:
        """Since the lean patch, CloserStep shows only the phases that can wait long: one upsert
        (a visibility write) per phase, not per step."""
        if self._lean and phase != self._shown_step:
            self._upsert(self._show_step(phase))

    async def _terminate(self) -> Outcome:
        lookup = await self._step(TerminationActivities.lookup, self._ref)
        self._default_callback = lookup.default_callback
        snapshot = lookup.snapshot
        if not snapshot.found:
            self._record("lookup", "no such conversation")
            return "not_found"
        if not snapshot.is_web_messaging:
            self._record("lookup", f"media {', '.join(snapshot.media_types) or 'none'}: not web messaging, left alone")
            return "not_web_messaging"
        if snapshot.ended:
            self._record("lookup", "already ended")
            self._result.verified_at = lookup.answered_at or workflow.now()  # the read's answer
            await self._delete_transcript()
            return "already_closed"
        self._record("lookup", _describe(snapshot))
        self._last_read = snapshot
        active = {p.id for p in snapshot.connected_participants + snapshot.pending_wrapup_participants}

        if self._request.goodbye:
            await self._goodbye(snapshot)
        closed = False
        if self._lean and not any(p.is_agent for p in snapshot.connected_participants):
            # Nobody to wrap up: the conversation PATCH ends everyone in one call, where a PATCH
            # per participant takes one each (and a bot's or a queue's is UNCONFIRMED to work).
            await self._close(snapshot)
            closed = True
        else:
            for participant in _disconnect_order(snapshot):
                await self._disconnect(participant)

        verify_timeout = timedelta(seconds=self._request.verify_timeout_seconds)
        outcome = await self._verify(timeout=verify_timeout, closed=closed)
        if outcome is None:
            if not self._request.allow_teardown:
                raise TerminationFailed(
                    f"Genesys did not confirm the end ({self._steps[-1].detail}) and teardown is not allowed: "
                    "give a wrap-up code, allow teardown, or raise the verify timeout"
                )
            self._enter("teardown")
            await self._step(TerminationActivities.teardown, self._ref)
            self._record("teardown", "full teardown requested (Genesys applies a system wrap-up)")
            # Whoever the last read showed connected or in wrap-up is ended by the teardown.
            assert self._last_read is not None
            for participant in self._last_read.participants:
                if participant.connected or participant.pending_wrapup:
                    self._participants[participant.id] = ParticipantOutcome(
                        participant_id=participant.id,
                        purpose=participant.purpose,
                        action="torn_down",
                        wrapup="system" if participant.is_agent and participant.wrapup_required else "none",
                    )
            outcome = await self._verify(timeout=TEARDOWN_VERIFY_TIMEOUT, closed=True, after_teardown=True)
            if outcome is None:
                raise TerminationFailed(
                    f"Genesys did not confirm the end within {TEARDOWN_VERIFY_TIMEOUT.seconds}s of the teardown"
                )
        # Participants active at the start that neither a disconnect of ours nor the teardown
        # ended: the close step did.
        for participant in snapshot.participants:
            if participant.id in active and participant.id not in self._participants:
                self._participants[participant.id] = ParticipantOutcome(
                    participant_id=participant.id, purpose=participant.purpose, action="closed"
                )
        await self._delete_transcript()
        return outcome

    async def _goodbye(self, snapshot: ConversationSnapshot) -> None:
        assert self._request.goodbye
        communication = snapshot.agent_communication()
        if communication is None:
            # Agentless sends do not support web messaging: without an agent there is no sender.
            self._result.goodbye = "no_agent"
            self._record("send goodbye", "skipped: no connected agent to send it")
            return
        result = await self._step(
            TerminationActivities.send_goodbye,
            GoodbyeInput(
                **self._ref.model_dump(),
                communication_id=communication.id,
                text=self._request.goodbye,
                known_message_ids=communication.message_ids,
            ),
        )
        self._result.goodbye = result.status
        self._record("send goodbye", _GOODBYE_DETAIL[result.status])

    async def _disconnect(self, participant: ParticipantSnapshot) -> None:
        wrapup: WrapupDecision = "none"
        code: str | None = None
        if participant.is_agent and participant.wrapup_required:
            if self._request.wrapup_code:
                wrapup, code = "code", self._request.wrapup_code
            elif participant.wrapup_skippable:
                wrapup = "skip"
        result = await self._step(
            TerminationActivities.disconnect_participant,
            DisconnectInput(**self._ref.model_dump(), participant_id=participant.id, wrapup=wrapup, wrapup_code=code),
        )
        self._record("disconnect participant", f"{participant.purpose}: {result.action}, wrap-up {result.wrapup}")
        if result.action == "refused":
            return  # the close step ends it
        self._participants[participant.id] = ParticipantOutcome(
            participant_id=participant.id,
            purpose=participant.purpose,
            action=result.action,
            wrapup=_WRAPUP_OUTCOME[result.wrapup],
        )

    async def _verify(self, *, timeout: timedelta, closed: bool, after_teardown: bool = False) -> Outcome | None:
        """Poll until Genesys confirms the end; close what is left once (unless ``closed``). None
        when time runs out."""
        deadline = workflow.now() + timeout
        poll = VERIFY_FIRST_POLL
        reads = 0
        while True:
            settle = timedelta(0)
            settle_until = None
            if self._lean and reads == 0:
                # The first read waits in its activity (see VERIFY_SETTLE), counted from the
                # answer to the last ending call, which the workflow task in between is part of.
                settle = VERIFY_SETTLE
                settle_until = self._answered_at + settle if self._answered_at else None
            else:
                self._enter("verify")
                await workflow.sleep(self._next_poll(poll, deadline))
            verify = VerifyInput(
                **self._ref.model_dump(), settle_seconds=settle.total_seconds(), settle_until=settle_until
            )
            read = await self._step(TerminationActivities.verify, verify)
            snapshot = self._last_read = read.snapshot
            reads += 1
            if snapshot.ended:
                # When the read was answered (runs recorded before the field: the workflow's time).
                self._result.verified_at = read.answered_at or workflow.now()
                self._record("verify", "Genesys confirms the end")
                return "forced" if after_teardown else "closed"
            code = self._request.wrapup_code
            in_wrapup = snapshot.pending_wrapup_participants
            if not code and not after_teardown and any(p.wrapup_prompt == "mandatory" for p in in_wrapup):
                # Only a wrap-up code or the teardown's system wrap-up ends this after-call work.
                self._record("verify", "an agent is in mandatory wrap-up and no wrap-up code was given")
                return None
            # What disconnects did not end (a 202 that changed nothing, a refused PATCH, after-call
            # work) gets closed once: right away if we never touched it, after a second look otherwise.
            closable = snapshot.connected_participants + [p for p in in_wrapup if code or p.wrapup_skippable]
            disconnected_by_us = {i for i, o in self._participants.items() if o.action == "disconnected"}
            untouched = any(p.id not in disconnected_by_us for p in closable)
            if closable and not closed and (untouched or reads >= 2):
                closed = True
                await self._close(snapshot)
                continue
            if workflow.now() >= deadline:
                self._record("verify", f"not ended after {timeout.total_seconds():g}s: {_describe(snapshot)}")
                return None
            if not settle:
                poll = min(poll * 2, VERIFY_MAX_POLL)

    def _next_poll(self, poll: timedelta, deadline: datetime) -> timedelta:
        """How long to sleep before the next read: ``poll``, but never past the deadline, and
        (since the lean patch) the whole way to it when the read after this one would come sooner
        than ``poll`` before it: a read just before the deadline buys nothing the deadline's does not."""
        left = max(deadline - workflow.now(), timedelta(0))
        if self._lean and left < 2 * poll:
            return left
        return min(poll, left)

    async def _close(self, snapshot: ConversationSnapshot) -> None:
        """End after-call work and disconnect whoever ``snapshot`` shows connected, in one step."""
        result = await self._step(
            TerminationActivities.close,
            CloseInput(**self._ref.model_dump(), wrapup_code=self._request.wrapup_code, snapshot=snapshot),
        )
        self._record(
            "close",
            f"wrap-up applied to {len(result.wrapups_applied)}, skipped for {len(result.wrapups_skipped)}, "
            f"conversation disconnect {'sent' if result.conversation_disconnected else 'not needed'}",
        )

    async def _delete_transcript(self) -> None:
        if not self._request.delete_transcript:
            return
        result = await self._step(
            TerminationActivities.delete_transcript,
            DeleteTranscriptInput(**self._ref.model_dump(), delete_date=workflow.now() + TRANSCRIPT_DELETE_AFTER),
        )
        self._result.transcript_recordings_scheduled = result.recordings_scheduled
        self._record("delete transcript", f"{result.recordings_scheduled} recording(s) scheduled for deletion")

    async def _step(self, activity: Callable[[Any, StepInput], Awaitable[Result]], argument: StepInput) -> Result:
        """Run one step as an activity with the named timeouts and retry policy."""
        # The activity's registered name: what users see in the Temporal UI. (getattr because a
        # double-underscore name would be mangled inside this class.)
        name = getattr(activity, "__temporal_activity_definition").name
        if not self._lean and name != self._current:
            self._upsert(search_attributes.STEP.value_set(name))
        self._current = name
        workflow.set_current_details(f"**{name}** ({len(self._steps)} steps done)")
        result = await run_step(activity, argument)
        self._answered_at = result.answered_at or self._answered_at
        self._calls += result.calls
        self._unrecorded_calls += result.calls
        return result

    def _record(self, name: str, detail: str) -> None:
        self._steps.append(StepRecord(name=name, detail=detail, calls=self._unrecorded_calls, at=workflow.now()))
        self._unrecorded_calls = 0

    def _fail(self, message: str) -> Outcome:
        self._result.error = message
        self._record(self._current or "terminate", f"failed: {message}")
        return "failed"


def _disconnect_order(snapshot: ConversationSnapshot) -> list[ParticipantSnapshot]:
    """Agents first, then other participants (acd, bots), the customer last."""
    rank = {"agent": 0, "user": 0, "customer": 2}
    return sorted(snapshot.connected_participants, key=lambda p: rank.get(p.purpose or "", 1))


def _describe(snapshot: ConversationSnapshot) -> str:
    live = ", ".join(p.purpose or "?" for p in snapshot.connected_participants) or "nobody"
    wrapup = len(snapshot.pending_wrapup_participants)
    return f"connected: {live}; in wrap-up: {wrapup}; endTime {'set' if snapshot.end_time else 'not set'}"


def _callback_failure(failure: ActivityError) -> tuple[str, int]:
    """The last attempt's message and number (its ApplicationError's details), past any timeout."""
    error: BaseException | None = failure
    last: ApplicationError | None = None
    while error is not None:
        if isinstance(error, ApplicationError):
            last = error
        error = error.__cause__
    if last is None:
        return root_message(failure), 0
    details = last.details[0] if last.details and isinstance(last.details[0], dict) else {}
    message = last.message
    if failure.retry_state == RetryState.TIMEOUT:
        message = f"no 2xx within {CALLBACK_SCHEDULE_TO_CLOSE.total_seconds() / 3600:g} hours; last {message}"
    return message, int(details.get("attempt", 0))
