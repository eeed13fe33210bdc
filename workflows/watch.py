"""The watch workflow: close a conversation once it has been idle too long (after one warning),
or at its absolute deadline.

Lazy reads: the watch sleeps on a durable timer until the earliest moment something could be due,
reads Genesys once to confirm, then warns, closes or sleeps again until the new due time. While
nothing happens that is one read per idle period (plus one per warning); a `touch` only moves the
due time in memory, and the timer already set finds it moved when it fires. Deterministic, no I/O.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.metrics import WATCHES
    from activities.models import ConversationRef, GoodbyeInput
    from activities.termination import TerminationActivities
    from activities.watch import ActivityReadInput, JoinTerminationInput, WatchActivities, join_termination

    from . import search_attributes
    from .contract import InvalidInput, invalid_input_error, parse, root_message, workflow_input
    from .durations import format_duration
    from .metrics import count
    from .models import WORKFLOW_TYPE, TerminateRequest, TerminateResult, workflow_id
    from .patches import (
        FRESH_READ_PATCH,
        LEAN_PATCH,
        LOCAL_READ_PATCH,
        SHORT_RUNS_PATCH,
        SHORT_RUNS_V2_PATCH,
        SHORT_RUNS_V3_PATCH,
        UPDATED_RUN_PATCH,
    )
    from .policies import (
        JOIN_TERMINATION_START_TO_CLOSE,
        STEP_HEARTBEAT_TIMEOUT,
        STEP_RETRY_POLICY,
        WATCH_CONTINUE_AS_NEW_EVENTS,
        WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS,
        WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS_V2,
        WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST,
        WATCH_READ_SCHEDULE_TO_CLOSE,
    )
    from .steps import run_step
    from .watch_models import (
        WATCH_WORKFLOW_TYPE,
        WarningRecord,
        WatchMemory,
        WatchOutcome,
        WatchRequest,
        WatchResult,
        WatchSettings,
        WatchStatus,
    )

Due = Literal["warning", "close", "deadline", "check"]
State = Literal["waiting", "reading", "warning", "closing", "finished"]

NO_AGENT = "no connected agent to send it (web messaging has no agentless sends)"


@workflow.defn(name=WATCH_WORKFLOW_TYPE)
class WatchConversation:
    @workflow.init
    def __init__(self, *args: object) -> None:
        # The input is read here, not in run: an update sent with the start (update-with-start)
        # runs before run does, and needs the request.
        self._request: WatchRequest | None = None
        self._invalid: ApplicationError | None = None
        self._memory = WatchMemory()
        try:
            self._request = workflow_input(WatchRequest, args[:1] if len(args) == 2 else args)
            if len(args) == 2:
                self._memory = parse(WatchMemory, args[1])
        except InvalidInput as error:
            self._invalid = invalid_input_error(error.problems)
        except ApplicationError as error:
            self._invalid = error
        self._state: State = "waiting"
        self._shown_state: State = "waiting"  # what the CloserStep search attribute says
        self._lean = False  # set in run: see LEAN_PATCH
        self._woken = False
        self._cancelled = False
        self._took_update = False  # see UPDATED_RUN_PATCH
        self._read_asked_at: datetime | None = None  # when the latest read was asked for
        self._result: WatchResult | None = None
        # This run's length (short-runs-v3), drawn per run so that watches started together, and
        # kept alike busy, do not all continue as new in the same minute. (The workflow's seeded
        # random: a replay draws the same.)
        self._run_events = workflow.random().randint(WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST, WATCH_CONTINUE_AS_NEW_EVENTS)

    # --- what callers send and ask -------------------------------------------------------------

    @workflow.signal
    def touch(self, *args: object) -> None:
        """Activity seen (by any service): the idle countdown restarts now. No read, no wake-up:
        the timer already set finds the due time moved when it fires."""
        self._memory.touched_at = workflow.now()
        self._memory.touches += 1
        if self._history_too_long() or self._run_long():
            self._woken = True  # a flood of touches: let the loop continue as new

    @workflow.signal
    def cancel(self, *args: object) -> None:
        """Stop watching (ignored once the close has begun: the termination goes on)."""
        self._cancelled = True
        self._woken = True

    @workflow.update
    def configure(self, *args: object) -> WatchStatus:
        """New settings (a ``WatchSettings`` object), applied at once; answers the new status."""
        if self._request is None:
            raise self._invalid or ApplicationError("the watch has no request")
        self._request = WatchRequest.model_validate(
            {**self._request.model_dump(include={"conversation_id", "profile"}), **_settings(args).model_dump()}
        )
        self._woken = True
        self._took_update = True
        return self.status()

    @configure.validator
    def _validate_configure(self, *args: object) -> None:
        _settings(args)  # a rejected update leaves no trace in the history

    @workflow.query
    def status(self) -> WatchStatus:
        request, memory = self._request, self._memory
        due, due_at = (
            self._next()
            if request is not None and memory.read_at is not None and self._result is None
            else (None, None)
        )
        return WatchStatus(
            conversation_id=request.conversation_id if request else "",
            state=self._state,
            settings=WatchSettings.model_validate(request.model_dump(exclude={"conversation_id", "profile"}))
            if request
            else None,
            due_at=due_at,
            due=due,
            last_activity_at=self._last_activity(),
            started_at=memory.started_at,
            warnings=list(memory.warnings),
            reads=memory.reads,
            touches=memory.touches,
            api_calls=memory.api_calls,
        )

    # --- the run -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, *args: object) -> WatchResult:
        """Takes one argument, a ``WatchRequest`` as JSON (a second, its memory, only when it
        continues as new)."""
        if self._invalid is not None or self._request is None:
            raise self._invalid or ApplicationError("no request")
        self._lean = workflow.patched(LEAN_PATCH)
        workflow.upsert_search_attributes(
            [
                search_attributes.CONVERSATION_ID.value_set(self._request.conversation_id),
                search_attributes.PROFILE.value_set(self._request.profile),
            ]
        )
        termination: TerminateResult | None = None
        outcome = await self._watch()
        if isinstance(outcome, tuple):
            outcome, termination = outcome
        self._set_state("finished")
        workflow.upsert_search_attributes(
            [search_attributes.OUTCOME.value_set(outcome), search_attributes.STEP.value_set("done")]
        )
        count(WATCHES, outcome=outcome)
        memory = self._memory
        self._result = WatchResult(
            conversation_id=self._request.conversation_id,
            outcome=outcome,
            termination=termination,
            last_activity_at=self._last_activity(),
            warnings=memory.warnings,
            reads=memory.reads,
            touches=memory.touches,
            api_calls=memory.api_calls,
        )
        return self._result

    async def _watch(self) -> WatchOutcome | tuple[WatchOutcome, TerminateResult]:
        if self._memory.read_at is None and (ended := await self._read()):
            return ended
        while True:
            if self._cancelled:
                return "cancelled"
            if self._history_too_long():
                await self._continue_as_new()
            due, at = self._next()
            if workflow.now() < at:
                if self._run_long() or self._holds_update():
                    await self._continue_as_new()
                await self._sleep_until(at, due)
                continue
            if due != "deadline":
                # A read always confirms before a warning or a close; activity since moves `at`.
                if ended := await self._read():
                    return ended
                if self._cancelled:
                    return "cancelled"
                due, at = self._next()
                if workflow.now() < at:
                    continue
                if self._read_stale(at):
                    continue  # due already: read again at once
            if due == "warning":
                await self._warn()
            elif due in ("close", "deadline"):
                outcome: WatchOutcome = "closed_deadline" if due == "deadline" else "closed_idle"
                return outcome, await self._close(outcome)

    def _next(self) -> tuple[Due, datetime]:
        """What is due next, and when: from the settings and what the watch knows, nothing else."""
        assert self._request is not None and self._memory.read_at is not None
        settings, memory, read_at = self._request, self._memory, self._memory.read_at
        idle_since = self._idle_since()
        due: Due
        if idle_since is None:
            # The customer spoke last (awaiting_customer): look again after an idle period.
            due, at = "check", read_at + settings.idle
        elif settings.warning is not None and settings.warn_before is not None and memory.warned_for != idle_since:
            due, at = "warning", idle_since + settings.idle - settings.warn_before
        else:
            at = idle_since + settings.idle
            if memory.warned_for == idle_since and memory.warned_at is not None and settings.warn_before is not None:
                at = max(at, memory.warned_at + settings.warn_before)  # the lead time to answer it
            due = "close"
        deadline = self._deadline()
        if deadline is not None and deadline <= at:
            return "deadline", deadline
        return due, at

    def _idle_since(self) -> datetime | None:
        """Where the idle countdown starts: the latest read's answer, or a later touch."""
        memory = self._memory
        touched = memory.touched_at
        if touched is not None and memory.last_message_at is not None and touched <= memory.last_message_at:
            touched = None  # the read has seen newer activity than the touch
        starts = [t for t in (memory.read_idle_since, touched) if t is not None]
        return max(starts) if starts else None

    def _read_stale(self, due_at: datetime) -> bool:
        """Whether the latest read was asked for before ``due_at``: its answer says nothing of
        what the customer wrote between then and now, so it cannot confirm a close or a warning.
        (A read follows its due time, except where the read or the workflow task after it took
        long enough for the due time to pass: a slow Genesys, a busy worker.)"""
        assert self._read_asked_at is not None
        return self._read_asked_at < due_at and workflow.patched(FRESH_READ_PATCH)

    def _deadline(self) -> datetime | None:
        assert self._request is not None
        deadlines = [self._request.deadline] if self._request.deadline else []
        if self._request.max_duration is not None and self._memory.started_at is not None:
            deadlines.append(self._memory.started_at + self._request.max_duration)
        return min(deadlines) if deadlines else None

    def _last_activity(self) -> datetime | None:
        times = [t for t in (self._memory.last_message_at, self._memory.touched_at) if t is not None]
        return max(times) if times else None

    async def _sleep_until(self, at: datetime, due: Due) -> None:
        self._set_state("waiting")
        self._woken = False
        try:
            await workflow.wait_condition(
                lambda: self._woken, timeout=at - workflow.now(), timeout_summary=f"{due} due"
            )
        except asyncio.TimeoutError:
            pass

    # --- the steps -----------------------------------------------------------------------------

    async def _read(self) -> WatchOutcome | None:
        """One read of Genesys; an outcome if it shows there is nothing (more) to watch."""
        assert self._request is not None
        self._set_state("reading")
        memory = self._memory
        self._read_asked_at = workflow.now()
        read = await run_step(
            WatchActivities.read_activity,
            ActivityReadInput(
                conversation_id=self._request.conversation_id,
                profile=self._request.profile,
                mode=self._request.mode,
                ignore_message_ids=memory.warning_message_ids,
            ),
            schedule_to_close=WATCH_READ_SCHEDULE_TO_CLOSE,
            # A local activity: the read runs in the workflow task its timer wakes, with no activity
            # task through Temporal and no second workflow task for its answer (LOCAL_READ_PATCH).
            local=workflow.patched(LOCAL_READ_PATCH),
        )
        memory.reads += 1
        memory.api_calls += read.calls
        memory.read_at = workflow.now()
        if not read.found:
            return "not_found"
        if not read.web_messaging:
            return "not_web_messaging"
        if read.ended:
            return "ended_elsewhere"
        memory.started_at = memory.started_at or read.started_at
        memory.last_message_at = read.last_message_at
        memory.read_idle_since = read.idle_since
        return None

    async def _warn(self) -> None:
        """The warning, once for this idle period; skipped (and why) where it cannot be sent."""
        self._set_state("warning")
        memory = self._memory
        # The period being warned, fixed now: a touch arriving during the sends starts the next one.
        period = self._idle_since()
        try:
            record = await self._send_warning()
        except ActivityError as failure:
            # Refused (a missing permission, say) or Genesys down for the step's whole schedule:
            # the watch goes on without it, and still closes on time.
            record = WarningRecord(
                at=workflow.now(), status="skipped", reason=f"could not be sent: {root_message(failure)}"
            )
        memory.warned_for = period
        memory.warnings.append(record)

    async def _send_warning(self) -> WarningRecord:
        assert self._request is not None and self._request.warning is not None
        memory = self._memory
        ref = ConversationRef(conversation_id=self._request.conversation_id, profile=self._request.profile)
        lookup = await run_step(TerminationActivities.lookup, ref)
        memory.api_calls += lookup.calls
        communication = lookup.snapshot.agent_communication()
        if communication is None:
            return WarningRecord(at=workflow.now(), status="skipped", reason=NO_AGENT)
        sent = await run_step(
            WatchActivities.send_warning,
            GoodbyeInput(
                **ref.model_dump(),
                communication_id=communication.id,
                text=self._request.warning,
                known_message_ids=communication.message_ids,
            ),
        )
        memory.api_calls += sent.calls
        if sent.status == "agent_left":
            return WarningRecord(at=workflow.now(), status="skipped", reason="the agent left before it could be sent")
        memory.warned_at = workflow.now()
        if sent.message_id:
            memory.warning_message_ids.append(sent.message_id)
        return WarningRecord(at=workflow.now(), status=sent.status)

    async def _close(self, why: WatchOutcome) -> TerminateResult:
        """Run the termination as a child (``terminate-{id}``), or join the one already running."""
        assert self._request is not None
        self._set_state("closing")
        settings = self._request
        reason = f"watch: idle {format_duration(settings.idle)}" if why == "closed_idle" else "watch: deadline reached"
        request = TerminateRequest(
            conversation_id=settings.conversation_id,
            profile=settings.profile,
            reason=reason,
            **settings.close.model_dump(),
        )
        while True:
            try:
                # By its type's name, not its class: the sandbox re-imports what a workflow's
                # module imports for every run, and a watch need not carry the termination's code.
                return await workflow.execute_child_workflow(
                    WORKFLOW_TYPE,
                    request,
                    result_type=TerminateResult,
                    id=workflow_id(settings.conversation_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    static_summary=f"Terminate {settings.conversation_id}: {reason}",
                    search_attributes=search_attributes.at_start(settings.conversation_id, settings.profile),
                )
            except WorkflowAlreadyStartedError:
                joined = await workflow.execute_activity(
                    join_termination,
                    JoinTerminationInput(workflow_id=workflow_id(settings.conversation_id)),
                    start_to_close_timeout=JOIN_TERMINATION_START_TO_CLOSE,
                    heartbeat_timeout=STEP_HEARTBEAT_TIMEOUT,
                    retry_policy=STEP_RETRY_POLICY,
                )
                if joined is not None:
                    return TerminateResult.model_validate(joined)
                # That run failed as a workflow: start the termination again.

    # --- bookkeeping ---------------------------------------------------------------------------

    def _set_state(self, state: State) -> None:
        if state == self._state:
            return
        self._state = state
        # A read takes a moment: since the lean patch CloserStep skips it (two visibility writes
        # and two history events fewer per idle period; the status query still shows it).
        if self._lean and state in ("reading", self._shown_state):
            return
        self._shown_state = state
        workflow.upsert_search_attributes([search_attributes.STEP.value_set(state)])

    def _history_too_long(self) -> bool:
        """Continue as new at once (whatever is due): Temporal suggests it, or past the events
        runs continued as new at before short-runs-v1."""
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS
        )

    def _run_long(self) -> bool:
        """Continue as new before the next sleep (short-runs-v1): never between a timer and the
        read it woke the watch for, so the new run's start costs that read no time. Past this
        run's drawn length, 25 to 50 events (short-runs-v3); runs that passed it before v3, past 50
        (short-runs-v2); runs that passed 50 before v2, past 100."""
        # Each patch is asked only once the run is past its length: its marker goes in the task
        # that continues as new, so a run that ends sooner records none. A run replaying past its
        # drawn length without the v3 marker was started before it, and goes on to 50; one past 50
        # without the v2 marker, to 100.
        length = workflow.info().get_current_history_length()
        return any(
            length >= events and workflow.patched(patch)
            for events, patch in (
                (self._run_events, SHORT_RUNS_V3_PATCH),
                (WATCH_CONTINUE_AS_NEW_EVENTS, SHORT_RUNS_V2_PATCH),
                (WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS_V2, SHORT_RUNS_PATCH),
            )
        )

    def _holds_update(self) -> bool:
        """Continue as new before the next sleep: this run took an update, whose state the SDK
        keeps in the worker's memory until the run ends (UPDATED_RUN_PATCH). The new run starts
        with a timer and no read; its memory and settings go with it."""
        return self._took_update and workflow.patched(UPDATED_RUN_PATCH)

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(args=[self._request, self._memory])


def _settings(args: tuple[object, ...]) -> WatchSettings:
    if len(args) != 1:
        raise ApplicationError(
            f"invalid input: expected exactly one argument, WatchSettings; got {len(args)}", type="InvalidInput"
        )
    try:
        return parse(WatchSettings, args[0])
    except InvalidInput as error:
        raise invalid_input_error(error.problems) from None
