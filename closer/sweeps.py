"""Sweeping from Python: a Temporal Schedule of sweeps, one sweep now, and the schedules' upkeep.

A schedule (id ``closer-sweep-{profile}`` unless named) starts ``SweepStaleConversations`` every
so often with overlap policy *skip*: a sweep still going when the next is due makes it skip, so
two never run at once. A manual sweep has id ``sweep-{profile}``, one at a time. Every helper
validates its input with the contract's models first (``InvalidInput`` before anything starts).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import field_validator
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from workflows import SweepRequest, SweepResult, SweepStaleConversations, search_attributes, sweep_id, sweep_schedule_id
from workflows.contract import InputModel, InvalidInput, parse
from workflows.durations import Duration, format_duration
from workflows.policies import SWEEP_CATCHUP_WINDOW
from workflows.sweep_models import SWEEP_WORKFLOW_TYPE

__all__ = [
    "InvalidInput",
    "NoSchedule",
    "SweepRunning",
    "SweepSchedule",
    "delete_schedule",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "run_sweep",
    "schedule_sweeps",
    "sweep",
    "sweep_request",
]


class SweepRunning(RuntimeError):
    """A manual sweep for that profile is under way: one at a time."""


class NoSchedule(LookupError):
    """No sweep schedule has that id."""


class Every(InputModel):
    """How often a schedule sweeps."""

    every: Duration

    @field_validator("every")
    @classmethod
    def _every(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError(f"must be at least 1s (got {format_duration(value)})")
        return value


@dataclass(frozen=True)
class SweepSchedule:
    """A sweep schedule, as ``list_schedules`` reads it."""

    id: str
    every: timedelta | None
    request: SweepRequest
    paused: bool
    next_run: datetime | None
    #: Sweeps started, and those skipped (one still running) or missed (past the catch-up window).
    runs: int
    skipped: int
    missed: int
    running: list[str]


def sweep_request(request: SweepRequest | Mapping[str, Any]) -> SweepRequest:
    """A request as a model: a mapping (camelCase or snake_case) is validated, InvalidInput if bad."""
    return request if isinstance(request, SweepRequest) else parse(SweepRequest, dict(request))


async def schedule_sweeps(
    client: Client,
    request: SweepRequest | Mapping[str, Any],
    *,
    every: timedelta | str,
    task_queue: str,
    schedule_id: str | None = None,
) -> tuple[ScheduleHandle, bool]:
    """Create the schedule, or give the existing one this request and interval (paused stays
    paused). Returns its handle and whether it was created."""
    request = sweep_request(request)
    interval = parse(Every, {"every": every}).every
    schedule_id = schedule_id or sweep_schedule_id(request.profile)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            SweepStaleConversations.run,
            request,
            # Temporal appends each run's scheduled time: closer-sweep-default-2026-11-21T10:05:00Z.
            id=schedule_id,
            task_queue=task_queue,
            typed_search_attributes=TypedSearchAttributes(
                [SearchAttributePair(search_attributes.PROFILE, request.profile)]
            ),
            static_summary=f"Sweep {request.profile}: watch with idle {format_duration(request.idle)}",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=SWEEP_CATCHUP_WINDOW),
        state=ScheduleState(note=f"closer sweep every {format_duration(interval)}"),
    )
    try:
        return await client.create_schedule(schedule_id, schedule), True
    except ScheduleAlreadyRunningError:
        pass

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = current.description.schedule.state
        return ScheduleUpdate(schedule=schedule)

    handle = client.get_schedule_handle(schedule_id)
    await handle.update(update)
    return handle, False


async def run_sweep(
    client: Client, request: SweepRequest | Mapping[str, Any], *, task_queue: str
) -> WorkflowHandle[SweepStaleConversations, SweepResult]:
    """Start a sweep now (id ``sweep-{profile}``); SweepRunning if one is under way."""
    request = sweep_request(request)
    try:
        return await client.start_workflow(
            SweepStaleConversations.run,
            request,
            id=sweep_id(request.profile),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"Sweep {request.profile}: watch with idle {format_duration(request.idle)}",
        )
    except WorkflowAlreadyStartedError:
        raise SweepRunning(
            f"a sweep of profile {request.profile!r} is already running (workflow {sweep_id(request.profile)}): "
            "wait for it to finish"
        ) from None


async def sweep(client: Client, request: SweepRequest | Mapping[str, Any], *, task_queue: str) -> SweepResult:
    """Run a sweep now and wait for its result."""
    return await (await run_sweep(client, request, task_queue=task_queue)).result()


async def list_schedules(client: Client) -> list[SweepSchedule]:
    """Every schedule that starts sweeps, whatever its id."""
    found = []
    async for listed in await client.list_schedules():
        action = listed.schedule.action if listed.schedule else None
        if getattr(action, "workflow", None) != SWEEP_WORKFLOW_TYPE:
            continue
        description = await client.get_schedule_handle(listed.id).describe()
        schedule, info = description.schedule, description.info
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        [request] = await client.data_converter.decode(schedule.action.args, [SweepRequest])
        intervals = schedule.spec.intervals
        found.append(
            SweepSchedule(
                id=listed.id,
                every=intervals[0].every if intervals else None,
                request=request,
                paused=schedule.state.paused,
                next_run=info.next_action_times[0] if info.next_action_times else None,
                runs=info.num_actions,
                skipped=info.num_actions_skipped_overlap,
                missed=info.num_actions_missed_catchup_window,
                running=[
                    r.workflow_id for r in info.running_actions if isinstance(r, ScheduleActionExecutionStartWorkflow)
                ],
            )
        )
    return sorted(found, key=lambda s: s.id)


async def pause_schedule(client: Client, schedule_id: str) -> None:
    async with _schedule(client, schedule_id) as handle:
        await handle.pause(note="paused with closer sweep pause")


async def resume_schedule(client: Client, schedule_id: str) -> None:
    async with _schedule(client, schedule_id) as handle:
        await handle.unpause(note="resumed with closer sweep resume")


async def delete_schedule(client: Client, schedule_id: str) -> None:
    """Delete the schedule; a sweep it started goes on to its end."""
    async with _schedule(client, schedule_id) as handle:
        await handle.delete()


@contextlib.asynccontextmanager
async def _schedule(client: Client, schedule_id: str) -> AsyncIterator[ScheduleHandle]:
    """The schedule's handle; its calls raise NoSchedule, not an RPC error, for an unknown id."""
    try:
        yield client.get_schedule_handle(schedule_id)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NoSchedule(f"no sweep schedule {schedule_id!r} (see: closer sweep list)") from None
        raise
