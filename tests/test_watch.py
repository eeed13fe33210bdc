"""Idle timeouts: the watch workflow end to end, real dev server, emulator over loopback.

Durations are seconds here (the emulator's clock is real); each test says which Genesys calls it
expects, since cheapness in calls is the point of a lazy watch.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from closer import watches
from workflows import WatchConversation, WatchResult, watch_id

from .conftest import genesys_requests, seed
from .test_guest_view import _guest_events

MESSAGE_READ = "/api/v2/conversations/messages/{conversationId}"
SEND = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"
WARNING = "Are you still there? This chat closes soon."


@pytest.fixture
def start_watch(temporal_client: Client, worker: str, emulator):
    async def start(conversation_id: str, **fields: object) -> WorkflowHandle[WatchConversation, WatchResult]:
        await watches.watch(temporal_client, {"conversationId": conversation_id, **fields}, task_queue=worker)
        return temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id))

    return start


def reads(emulator, cid: str) -> list[dict]:
    return [r for r in genesys_requests(emulator, cid) if r["method"] == "GET" and r["route"] == MESSAGE_READ]


def sends(emulator, cid: str) -> list[dict]:
    return [r for r in genesys_requests(emulator, cid) if r["route"] == SEND]


async def test_idle_conversation_gets_exactly_one_warning_then_closes(start_watch, emulator) -> None:
    seeded = seed(emulator, "agent", last_message_age_s=0)
    cid = seeded["conversationId"]
    received: list[dict] = []
    configured = asyncio.Event()
    guest = asyncio.create_task(_guest_events(emulator.url, seeded, received, configured))
    await asyncio.wait_for(configured.wait(), timeout=5)

    handle = await start_watch(cid, idle="4s", warning=WARNING, warnBefore="2s", close={"goodbye": "Closing now."})
    result = await asyncio.wait_for(handle.result(), timeout=30)
    guest.cancel()

    assert result.outcome == "closed_idle"
    assert result.termination is not None and result.termination.outcome == "closed"
    assert [w.status for w in result.warnings] == ["sent"]
    assert len(sends(emulator, cid)) == 2  # the warning, then the goodbye
    texts = [
        e["body"]["text"] for e in received if e.get("class") == "StructuredMessage" and e["body"].get("type") == "Text"
    ]
    assert texts == [WARNING, "Closing now."]
    # One read at start, one confirming the warning is due, one confirming the close.
    assert len(reads(emulator, cid)) == 3 == result.reads


async def test_a_message_before_the_due_time_moves_it(start_watch, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="3s")
    await asyncio.sleep(1.5)
    message = emulator.admin.send_message(cid, "customer", "still here!")

    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "closed_idle"
    assert result.last_activity_at == datetime.fromisoformat(message["messageTime"].replace("Z", "+00:00"))
    close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
    assert _at(close) >= _at_iso(message["messageTime"]) + 3 - 0.05
    # start, the first due time (finds the message), the moved due time.
    assert len(reads(emulator, cid)) == 3


async def test_a_read_answered_after_the_due_time_it_moved_is_read_again_before_closing(start_watch, emulator) -> None:
    """A read asked for before the due time its answer sets, and answered (or handled) after it,
    cannot say the customer kept quiet until then: a slow Genesys or a busy worker must not close
    a conversation whose customer wrote while the read was on its way."""
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="3s")
    await asyncio.sleep(1)
    emulator.admin.send_message(cid, "customer", "one moment")  # the first due read finds it
    hold_id = emulator.admin.hold("GET", MESSAGE_READ, count=1)
    for _ in range(200):  # that read: Genesys has answered it, the worker has not heard yet
        if emulator.admin.hold_status(hold_id)["engaged"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the due read never came")
    await asyncio.sleep(0.5)
    unseen = emulator.admin.send_message(cid, "customer", "back again")  # after that read's answer
    await asyncio.sleep(2)  # the due time the held answer sets (1 s after it) passes; not "back again"'s
    emulator.admin.release(hold_id)

    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "closed_idle"
    close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
    assert _at(close) >= _at_iso(unseen["messageTime"]) + 3 - 0.05
    # start, the held one, the one read again at once (finds "back again"), the moved due time.
    assert len(reads(emulator, cid)) == 4 == result.reads


async def test_awaiting_customer_counts_only_after_the_agents_unanswered_message(start_watch, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]  # the customer spoke last
    handle = await start_watch(cid, idle="2s", mode="awaiting_customer")
    await asyncio.sleep(3)

    status = await handle.query(WatchConversation.status)
    assert status.state == "waiting" and status.due == "check"  # nothing counts down
    agent = emulator.admin.send_message(cid, "agent", "Anything else I can help with?")
    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "closed_idle"
    close = next(r for r in genesys_requests(emulator, cid) if r["method"] == "PATCH")
    assert _at(close) >= _at_iso(agent["messageTime"]) + 2 - 0.05


async def test_touches_move_the_due_time_without_reading(start_watch, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="2s")
    for _ in range(5):
        await asyncio.sleep(0.6)
        await watches.touch(handle._client, cid)
    reads_while_touched = len(reads(emulator, cid))

    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert reads_while_touched == 1  # the start's only
    assert result.outcome == "closed_idle" and result.touches == 5
    assert len(reads(emulator, cid)) == 2  # plus the one confirming the close


async def test_a_watch_reads_in_the_workflow_task_its_timer_wakes(start_watch, emulator) -> None:
    """Each read is a local activity: no activity task through Temporal and no second workflow
    task for its answer, so an idle period costs a watch 6 history events, not 11."""
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="2s")
    await asyncio.sleep(1)
    emulator.admin.send_message(cid, "customer", "one more thing")  # one more idle period
    while len(reads(emulator, cid)) < 2:
        await asyncio.sleep(0.1)
    emulator.admin.send_message(cid, "customer", "and another")  # and another

    result = await asyncio.wait_for(handle.result(), timeout=30)
    events = (await handle.fetch_history()).events  # the run the start's update left for

    assert result.outcome == "closed_idle" and result.reads == len(reads(emulator, cid)) == 4
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in events]
    assert "read activity" not in scheduled
    fired = [i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
    # The run's first period also records its patch markers (each a marker and an upsert); then
    # timer fired, task (3), read marker, timer.
    assert [b - a for a, b in zip(fired, fired[1:])][1:] == [6]


async def test_max_duration_closes_a_busy_conversation(start_watch, emulator) -> None:
    cid = seed(emulator, "agent", started_ago_s=10, last_message_age_s=0)["conversationId"]

    handle = await start_watch(cid, idle="1h", maxDuration="12s")
    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "closed_deadline"
    assert result.termination is not None and result.termination.outcome == "closed"
    assert result.warnings == []


async def test_a_conversation_ended_elsewhere_stops_the_watch_quietly(start_watch, run_termination, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="3s")
    await run_termination(cid)  # some other service ends it

    result = await asyncio.wait_for(handle.result(), timeout=30)

    assert result.outcome == "ended_elsewhere"
    assert result.termination is None
    assert len(reads(emulator, cid)) == 2


async def test_cancel_stops_the_watch(start_watch, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    handle = await start_watch(cid, idle="1h")
    await watches.cancel(handle._client, cid)

    result = await asyncio.wait_for(handle.result(), timeout=10)

    assert result.outcome == "cancelled"
    assert [r["method"] for r in genesys_requests(emulator, cid)] == ["GET"]


def _at(request: dict) -> float:
    """When the emulator answered the request (wall clock)."""
    return request["time"]


def _at_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
