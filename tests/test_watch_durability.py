"""Watches across failures: a worker SIGKILLed while a watch sleeps or while it sends its warning,
the Temporal server restarted with watches pending, and a busy watch continuing as new.

Real parts only: `python worker.py` subprocesses killed with SIGKILL, dev servers on loopback (one
with a database file, restarted), the emulator's holds to kill a worker inside a send. What a user
relies on: the warning reaches the customer exactly once, and the conversation still closes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from closer import watches
from closer.dev_server import start_dev_server
from workflows import WatchConversation, WatchResult, WatchStatus, watch_id
from workflows.policies import WATCH_CONTINUE_AS_NEW_EVENTS, WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST

from .conftest import free_port, genesys_requests, new_id, seed
from .test_guest_view import _guest_events
from .test_watch import SEND, WARNING, reads, sends
from .worker_process import WorkerProcess

Handle = WorkflowHandle[WatchConversation, WatchResult]


async def _watch(client: Client, task_queue: str, conversation_id: str, **fields: object) -> Handle:
    await watches.watch(client, {"conversationId": conversation_id, **fields}, task_queue=task_queue)
    return client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id))


async def _waiting(handle: Handle) -> WatchStatus:
    """The status once the watch sleeps on its timer (its first read done)."""
    for _ in range(100):
        status = await handle.query(WatchConversation.status)
        if status.state == "waiting" and status.due_at is not None:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the watch never went to sleep: {status}")


def _kind(event: HistoryEvent) -> str:
    """An event's type without its prefix; a marker is a ``read`` (the watch's local activity) or a ``patch``."""
    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
        return "read" if event.marker_recorded_event_attributes.marker_name == "core_local_activity" else "patch"
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def _texts(received: list[dict]) -> list[str]:
    """The text messages a guest's socket received."""
    return [
        e["body"]["text"] for e in received if e.get("class") == "StructuredMessage" and e["body"].get("type") == "Text"
    ]


async def test_a_worker_killed_while_the_watch_sleeps_warns_once_and_closes(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    # The worker first: its start-up (seconds on a loaded machine) must not eat the idle period.
    worker_process.start()
    seeded = seed(emulator, "agent", last_message_age_s=0)
    seeded_at = time.monotonic()
    cid = seeded["conversationId"]
    received: list[dict] = []
    configured = asyncio.Event()
    guest = asyncio.create_task(_guest_events(emulator.url, seeded, received, configured))
    try:
        await asyncio.wait_for(configured.wait(), timeout=5)
        # The warning is due 3s after the customer's message, the close 2s after the warning.
        handle = await _watch(
            temporal_client, worker_process.env["CLOSER_TASK_QUEUE"], cid, idle="5s", warning=WARNING, warnBefore="2s"
        )
        assert (await _waiting(handle)).due == "warning"
        worker_process.kill()
        await asyncio.sleep(seeded_at + 3.5 - time.monotonic())  # the warning falls due while no worker runs
        assert sends(emulator, cid) == []
        worker_process.start()

        result = await asyncio.wait_for(handle.result(), timeout=40)
        await asyncio.sleep(0.3)  # anything late would reach the guest now
    finally:
        guest.cancel()

    assert result.outcome == "closed_idle"
    assert result.termination is not None and result.termination.outcome == "closed"
    assert [w.status for w in result.warnings] == ["sent"]
    assert [r["status"] for r in sends(emulator, cid)] == [200]
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == [WARNING]
    assert _texts(received) == [WARNING]
    assert len(reads(emulator, cid)) == result.reads == 3  # start, warning due, close due: none repeated
    # The close still gives the customer the warning's lead time, counted from when it went out.
    close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
    assert close["time"] >= sends(emulator, cid)[0]["time"] + 2 - 0.05


async def test_a_worker_killed_while_it_sends_the_warning_sends_it_once(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    hold_id = emulator.admin.hold("POST", SEND, count=1)
    worker_process.start()

    handle = await _watch(
        temporal_client, worker_process.env["CLOSER_TASK_QUEUE"], cid, idle="2s", warning=WARNING, warnBefore="1s"
    )
    for _ in range(200):
        if emulator.admin.hold_status(hold_id)["engaged"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the warning's send never arrived:\n{worker_process.output()}")
    worker_process.kill()  # Genesys has the warning; the worker never hears so
    emulator.admin.release(hold_id)
    worker_process.start()

    result = await asyncio.wait_for(handle.result(), timeout=40)

    assert result.outcome == "closed_idle"
    assert result.termination is not None and result.termination.outcome == "closed"
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == [WARNING]
    assert [r["status"] for r in sends(emulator, cid)] == [200]  # the retry looked, found it, did not resend
    assert [w.status for w in result.warnings] == ["already_sent"]
    assert len(reads(emulator, cid)) == result.reads == 3  # start, warning due, close due


async def test_pending_watches_fire_after_a_temporal_restart(tmp_path: Path, emulator) -> None:
    port, database = free_port(), tmp_path / "temporal.db"
    server: WorkflowEnvironment = await start_dev_server(port=port, dev_server_database_filename=str(database))
    worker = WorkerProcess(f"127.0.0.1:{port}", f"watch-restart-{new_id()}", emulator.url)
    # Half of them warn 2s before the close: their warning falls due while the server is down.
    settings = [{"idle": "6s"}, {"idle": "6s", "warning": WARNING, "warnBefore": "2s"}] * 3
    try:
        worker.start()
        cids = [seed(emulator, "agent", last_message_age_s=0)["conversationId"] for _ in settings]
        task_queue = worker.env["CLOSER_TASK_QUEUE"]
        handles = await asyncio.gather(
            *(_watch(server.client, task_queue, cid, **fields) for cid, fields in zip(cids, settings))
        )
        await asyncio.gather(*map(_waiting, handles))
        assert not any(sends(emulator, cid) for cid in cids)  # none due yet (else this would test nothing)
        await server.shutdown()  # every watch on its timer, none due yet
        await asyncio.sleep(4)
        server = await start_dev_server(port=port, dev_server_database_filename=str(database))

        results = await asyncio.wait_for(
            asyncio.gather(
                *(server.client.get_workflow_handle_for(WatchConversation.run, watch_id(cid)).result() for cid in cids)
            ),
            timeout=60,
        )
    finally:
        worker.stop()
        await server.shutdown()

    assert [r.outcome for r in results] == ["closed_idle"] * len(cids)
    for cid, fields, result in zip(cids, settings, results):
        assert result.termination is not None and result.termination.outcome == "closed"
        warned = "warning" in fields
        assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == ([WARNING] if warned else [])
        # Not early: the close came a full idle period after the last message (Genesys's time).
        assert result.last_activity_at is not None
        close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
        assert close["time"] >= result.last_activity_at.timestamp() + 6 - 0.05
        # The start's read, one confirming the warning is due (if any), one confirming the close.
        assert len(reads(emulator, cid)) == result.reads == (3 if warned else 2)


async def test_a_busy_watch_continues_as_new_and_keeps_its_state(
    temporal_client: Client, worker: str, emulator
) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await _watch(temporal_client, worker, cid, idle="3s", warning=WARNING, warnBefore="1.5s")
    first_run = (await handle.describe()).run_id
    while not (await handle.query(WatchConversation.status)).warnings:
        await asyncio.sleep(0.2)

    # A flood of touches (each a signal: events in the history) until the run continues as new.
    # At least one: a run that drew a short length (short-runs-v3) may have continued as new on
    # its own right after the warning, and the touches are what start the new idle period.
    touches = 0
    while touches == 0 or (await handle.describe()).run_id == first_run:
        assert touches < 3 * WATCH_CONTINUE_AS_NEW_EVENTS, "the watch never continued as new"
        await watches.touch(temporal_client, cid)
        touches += 1
    flood_ended = datetime.now(timezone.utc)

    old = temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(cid), run_id=first_run)
    events = [e async for e in old.fetch_history_events()]
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    # Runs stay short (short-runs-v1): a cached run's finished timers and reads stay in the
    # worker's memory, and a watch beyond the cache is replayed from the start of its run. (Past
    # the run's drawn length by however many touches arrived while the run was ending.)
    assert WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST <= len(events) < 2 * WATCH_CONTINUE_AS_NEW_EVENTS
    before: WatchStatus = await old.query(WatchConversation.status)
    after: WatchStatus = await handle.query(WatchConversation.status)
    queried = datetime.now(timezone.utc)
    assert after.touches == touches
    assert [w.status for w in after.warnings] == ["sent"] and after.warnings == before.warnings
    assert (after.started_at, after.reads, after.api_calls) == (before.started_at, before.reads, before.api_calls)
    assert after.last_activity_at is not None and before.last_activity_at is not None
    # The last touch: during the flood, seen by the new run at the latest when the query ran
    # (a touch takes effect when the worker handles it, a little after the signal is accepted).
    assert before.last_activity_at <= after.last_activity_at <= queried
    assert after.last_activity_at >= flood_ended - timedelta(seconds=2)

    result = await asyncio.wait_for(handle.result(), timeout=30)

    # The touches started a new idle period: its own warning, then the close.
    assert result.outcome == "closed_idle"
    assert result.termination is not None and result.termination.outcome == "closed"
    assert result.touches == touches
    assert [w.status for w in result.warnings] == ["sent", "sent"]
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == [WARNING, WARNING]
    assert len(sends(emulator, cid)) == 2


async def test_a_watch_continues_as_new_after_a_read_not_between_its_timer_and_the_read(
    temporal_client: Client, worker: str, emulator
) -> None:
    """A long run continues as new before it next sleeps: the read its timer woke it for runs in
    the old run, on time, and the new run starts with a timer and no read (no Genesys call)."""
    # The customer spoke last: in awaiting_customer mode nothing counts down, and the watch
    # looks again every idle period, one read each (6 events), until its run is long.
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await _watch(temporal_client, worker, cid, idle="1s", mode="awaiting_customer")
    first_run = (await handle.describe()).run_id
    async with asyncio.timeout(90):
        while (await handle.describe()).run_id == first_run:
            await asyncio.sleep(0.5)

    old = temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(cid), run_id=first_run)
    old_events = [e async for e in old.fetch_history_events()]
    new_events = [e async for e in handle.fetch_history_events()]
    await watches.cancel(temporal_client, cid)

    old_kinds = [_kind(e) for e in old_events]
    assert old_kinds[-1] == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    after_last_timer = old_kinds[len(old_kinds) - 1 - old_kinds[::-1].index("TIMER_FIRED") :]
    assert "read" in after_last_timer and "TIMER_STARTED" not in after_last_timer, after_last_timer
    new_kinds = [_kind(e) for e in new_events]
    assert "TIMER_STARTED" in new_kinds and "read" not in new_kinds[: new_kinds.index("TIMER_STARTED")], new_kinds
    assert len(old_events) <= WATCH_CONTINUE_AS_NEW_EVENTS + 12


async def test_a_run_that_took_an_update_continues_as_new_before_it_sleeps(
    temporal_client: Client, worker: str, emulator
) -> None:
    """The SDK keeps an update's state in the worker's memory until its run ends (about 33 KiB of
    a cached watch): the run a watch starts in (its start is an update) and a run a settings change
    reaches continue as new before they sleep. The new runs hold no update, read nothing of their
    own, and keep the settings."""
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await _watch(temporal_client, worker, cid, idle="30s")
    await _waiting(handle)
    after_start = [e async for e in handle.fetch_history_events()]
    await _watch(temporal_client, worker, cid, idle="40s")
    status = await _waiting(handle)
    after_change = [e async for e in handle.fetch_history_events()]
    await watches.cancel(temporal_client, cid)

    continued_from = set()
    for events in (after_start, after_change):
        kinds = [_kind(e) for e in events]
        continued_from.add(events[0].workflow_execution_started_event_attributes.continued_execution_run_id)
        assert not [k for k in kinds if k.startswith("WORKFLOW_EXECUTION_UPDATE")], kinds
        assert "read" not in kinds and "TIMER_STARTED" in kinds, kinds
    assert "" not in continued_from and len(continued_from) == 2  # two runs, each continued
    assert status.settings is not None and status.settings.idle == timedelta(seconds=40)
    assert len(reads(emulator, cid)) == 1  # the start's: a new run reads nothing


async def test_watches_started_together_continue_as_new_at_different_lengths(
    temporal_client: Client, worker: str, emulator
) -> None:
    """Each run draws its length (short-runs-v3): watches started in the same minute and alike
    busy do not all continue as new in the same minute, run after run (at 10,000 watches that
    left timers minutes late while the server caught up)."""
    cids = [seed(emulator, "agent", last_message_age_s=0)["conversationId"] for _ in range(8)]
    handles = [await _watch(temporal_client, worker, cid, idle="1s", mode="awaiting_customer") for cid in cids]
    first_runs = [(await handle.describe()).run_id for handle in handles]

    async def first_run_length(cid: str, run_id: str) -> int:
        old = temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(cid), run_id=run_id)
        while (await old.describe()).status == WorkflowExecutionStatus.RUNNING:
            await asyncio.sleep(0.5)
        events = [e async for e in old.fetch_history_events()]
        assert _kind(events[-1]) == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
        return len(events)

    async with asyncio.timeout(90):
        lengths = await asyncio.gather(*map(first_run_length, cids, first_runs))
    for cid in cids:
        await watches.cancel(temporal_client, cid)

    # Alike busy (a read, 6 events, a second): only the drawn length sets them apart. Eight runs
    # over five possible periods all alike: about 1 in 40,000.
    assert all(WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST <= n <= WATCH_CONTINUE_AS_NEW_EVENTS + 12 for n in lengths), lengths
    assert len(set(lengths)) > 1, f"every run continued as new at {lengths[0]} events"


async def test_continuing_as_new_between_warning_and_close_neither_warns_again_nor_closes_late(
    temporal_client: Client, worker: str, emulator
) -> None:
    """Settings changes do not restart the idle period: a flood of them continues the run as new
    between the warning and the close. The new run must know the warning went out (no second one)
    and that its message is closer's own (not the customer's activity, which would postpone the close)."""
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    # The warning 2s after the customer's message, the close 7s later: room for the flood.
    settings = {"conversationId": cid, "idle": "9s", "warning": WARNING, "warnBefore": "7s"}
    handle = await _watch(temporal_client, worker, cid, **settings)
    first_run = (await handle.describe()).run_id
    while not (await handle.query(WatchConversation.status)).warnings:
        await asyncio.sleep(0.1)

    updates = 0
    while (description := await handle.describe()).run_id == first_run:
        assert description.status == WorkflowExecutionStatus.RUNNING, "the watch ended before it continued as new"
        assert updates < WATCH_CONTINUE_AS_NEW_EVENTS, "the watch never continued as new"
        await watches.watch(temporal_client, settings, task_queue=worker)
        updates += 1
    status = await _waiting(handle)
    assert status.due == "close" and [w.status for w in status.warnings] == ["sent"]

    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "closed_idle"
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == [WARNING]
    assert result.last_activity_at is not None
    close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
    # On time: the idle period counted from the customer's message, not from the warning.
    assert (
        result.last_activity_at.timestamp() + 9 - 0.05 <= close["time"] <= result.last_activity_at.timestamp() + 9 + 2
    )
