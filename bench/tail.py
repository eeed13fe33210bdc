"""Where the latest reads' lateness went: each late read split, from its watch's history, into
the parts between its due time and the read reaching the emulator.

A watch sets its timer in a workflow task for (due - the task's workflow time); the server fires it,
schedules a workflow task (on the worker's sticky queue, or the shared one after a sticky
schedule-to-start timeout), a poller takes it, and the worker replays the run if it is not cached
and runs the read (a local activity). So a read's lateness is the sum of:

- ``set_late_s``: the timer's due in the server (TimerStarted + its duration) minus the due time;
  the task that set the timer finished after its workflow time;
- ``timer_s``: TimerFired minus that;
- ``queued_s``: the workflow task's start minus its first scheduling after the timer fired;
- ``in_worker_s``: the read's time in the emulator minus the task's start (replay, the workflow code,
  the read's request; and 10 s more where the worker dropped the task and it timed out).

All four come from one clock (the server, the emulator and the bench share this machine's).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import NamedTuple

from temporalio.api.enums.v1 import EventType, TaskQueueKind, TimeoutType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecution

from workflows import watch_id

from .env import percentile


class TimedRead(NamedTuple):
    """A watch's read of its conversation and the due time it answered (bench clock)."""

    conversation_id: str
    due: float
    read_at: float

    @property
    def lateness(self) -> float:
        return self.read_at - self.due


def by_window(reads: list[TimedRead], seconds: float) -> list[dict]:
    """The reads' lateness in windows of ``seconds`` of due time, from the first due: p50, p99 and
    max each. A run-wide p99 cannot tell a steady cost from one bad stretch (a storm of
    continue-as-new, say); the windows can."""
    if not reads:
        return []
    first = min(r.due for r in reads)
    windows: dict[int, list[float]] = {}
    for read in reads:
        windows.setdefault(int((read.due - first) // seconds), []).append(read.lateness)
    return [
        {
            "from_s": k * seconds,
            "reads": len(late),
            "p50_s": statistics.median(late),
            "p99_s": percentile(late, 0.99),
            "max_s": max(late),
        }
        for k, late in sorted(windows.items())
    ]


#: The parts a read's lateness adds up from, in order.
LATENESS_PARTS = ("set_late_s", "timer_s", "queued_s", "in_worker_s")


class ReadParts(NamedTuple):
    set_late_s: float
    timer_s: float
    queued_s: float
    in_worker_s: float
    sticky_timeouts: int
    #: The first task after the timer went to the shared queue, not the worker's sticky one.
    shared_queue: bool
    #: The task the worker took was not completed within its timeout (start-to-close): the worker
    #: dropped it (with more watches than its cache: README "Watches beyond the cache").
    dropped: bool


def event_time(event: HistoryEvent) -> float:
    """When the server recorded ``event`` (seconds since the epoch, as ``time.time()``)."""
    return event.event_time.ToMicroseconds() / 1e6


async def watch_runs(client: Client, conversation_id: str) -> list[WorkflowExecution]:
    """The watch's runs: its first and each it continued as new with (in no set order)."""
    return [w async for w in client.list_workflows(f"WorkflowId = '{watch_id(conversation_id)}'")]


async def run_histories(client: Client, conversation_id: str) -> list[list[HistoryEvent]]:
    """The events of each of the watch's runs, the first run first."""
    runs = sorted(await watch_runs(client, conversation_id), key=lambda w: w.start_time)
    return [list((await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()).events) for run in runs]


def _last_timer_fired(events: list[HistoryEvent], read: TimedRead) -> int | None:
    """The index of the run's latest TimerFired at or before the read."""
    return next(
        (
            i
            for i in range(len(events) - 1, -1, -1)
            if events[i].event_type == EventType.EVENT_TYPE_TIMER_FIRED and event_time(events[i]) <= read.read_at
        ),
        None,
    )


def split(runs: list[list[HistoryEvent]], read: TimedRead) -> ReadParts | None:
    """The parts of ``read``'s lateness, from its watch's runs' events (a read belongs to the run
    whose timer fired last before it: a watch continues as new after a read, so its next run has
    fired no timer yet); None when no run holds the timer that woke it (the read was not a
    timer's)."""
    latest = [
        (event_time(events[i]), events, i) for events in runs if (i := _last_timer_fired(events, read)) is not None
    ]
    if not latest:
        return None
    _, events, fired_at = max(latest, key=lambda found: found[0])
    fired = events[fired_at]
    timer_id = fired.timer_fired_event_attributes.timer_id
    started_timer = next(
        (
            e
            for e in events[:fired_at]
            if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
            and e.timer_started_event_attributes.timer_id == timer_id
        ),
        None,
    )
    if started_timer is None:
        return None
    server_due = (
        event_time(started_timer)
        + started_timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
    )
    scheduled = task_started = None
    timeouts = started_at = 0
    for started_at in range(fired_at + 1, len(events)):
        event = events[started_at]
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and scheduled is None:
            scheduled = event
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            timeouts += (
                event.workflow_task_timed_out_event_attributes.timeout_type
                == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
            )
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_started = event
            break
    if scheduled is None or task_started is None:
        return None
    ended = next(
        (
            e
            for e in events[started_at + 1 :]
            if e.event_type
            in (EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
        ),
        None,
    )
    sticky = scheduled.workflow_task_scheduled_event_attributes.task_queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY
    return ReadParts(
        set_late_s=server_due - read.due,
        timer_s=event_time(fired) - server_due,
        queued_s=event_time(task_started) - event_time(scheduled),
        in_worker_s=read.read_at - event_time(task_started),
        sticky_timeouts=timeouts,
        shared_queue=not sticky,
        dropped=ended is not None and ended.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    )


async def breakdown(client: Client, late: list[TimedRead], most: int = 100) -> dict:
    """The medians of the parts over (at most ``most``, evenly chosen) of these reads, how many
    waited out a sticky schedule-to-start timeout, and in which minute of the run each came
    (clustered: a stall; spread: a steady cost)."""
    chosen = late[:: max(1, len(late) // most)][:most]
    gate = asyncio.Semaphore(10)

    async def runs(conversation_id: str) -> list[list[HistoryEvent]]:
        async with gate:
            return await run_histories(client, conversation_id)

    # One fetch per watch: a watch late once is often late again in the same stretch.
    watched = list({r.conversation_id for r in chosen})
    histories = dict(zip(watched, await asyncio.gather(*(runs(c) for c in watched)), strict=True))
    found = [p for r in chosen if (p := split(histories[r.conversation_id], r)) is not None]
    if not found:
        return {"reads": 0}
    first = min(r.read_at for r in late)
    minutes: dict[int, int] = {}
    for read in late:
        minute = int((read.read_at - first) // 60)
        minutes[minute] = minutes.get(minute, 0) + 1
    return {
        "reads": len(found),
        "of": len(late),
        "lateness_min_s": min(r.lateness for r in late),
        **{f: statistics.median(getattr(p, f) for p in found) for f in LATENESS_PARTS},
        "sticky_timeouts": sum(p.sticky_timeouts for p in found),
        "shared_queue": sum(p.shared_queue for p in found),
        "dropped": sum(p.dropped for p in found),
        "per_minute": [minutes.get(m, 0) for m in range(max(minutes) + 1)],
    }
