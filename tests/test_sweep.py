"""Sweeps end to end: the analytics query over an emulator of their own, watches on a real dev server.

A sweep must give every stale conversation exactly one watch (and so at most one close), leave
the ones already watched alone, never run twice at once, and refuse a second manual run.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from jsonschema import Draft202012Validator
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from closer import sweeps, watches
from workflows import WatchConversation, search_attributes, sweep_id, watch_id
from workflows.schemas import DIRECTORY as SCHEMAS

from .conftest import EMULATOR_CLIENT_SECRET, READ_ONLY_CLIENT_ID, Sweeper, emulator_env, new_id, seed
from .test_cli import assert_one_line, closer
from .worker_process import WorkerProcess

QUERY = "/api/v2/analytics/conversations/details/query"
MESSAGE_READ = "/api/v2/conversations/messages/{conversationId}"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
CONVERSATION_PATCH = "/api/v2/conversations/messages/{conversationId}"
# Idle for 40 minutes: a sweep's watch with idle 30m closes it at its first reads.
STALE = {"started_ago_s": 3000, "last_message_age_s": 2400}
SWEEP_RESULT = Draft202012Validator(json.loads((SCHEMAS / "SweepResult.json").read_text()))


async def test_a_sweep_gives_every_stale_conversation_one_watch(sweeper: Sweeper, temporal_client: Client) -> None:
    emu, queue = sweeper.emulator, sweeper.task_queue
    conversations = [seed(emu, "agent" if i % 2 else "bot", **STALE)["conversationId"] for i in range(250)]
    # Watched already (one in twelve, on every page), with an idle period that keeps them open.
    watched = set(conversations[::12][:20])
    for cid in watched:
        await watches.watch(temporal_client, {"conversationId": cid, "idle": "1h"}, task_queue=queue)

    started = asyncio.get_running_loop().time()
    result = await sweeps.sweep(
        temporal_client, {"idle": "30m", "pageSize": 100, "startsPerMinute": 1200}, task_queue=queue
    )
    swept_in = asyncio.get_running_loop().time() - started

    assert (result.candidates, result.already_watched, result.watches_started) == (250, 20, 230)
    assert result.pages == 3
    assert result.api_calls == 4  # counting the pages, then pages 3, 2 and 1
    assert swept_in >= 230 / 1200 * 60 * 0.9  # paced
    SWEEP_RESULT.validate(json.loads(result.model_dump_json()))  # what clients in other languages build against

    unwatched = [c for c in conversations if c not in watched]
    outcomes = await asyncio.gather(
        *(temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(c)).result() for c in unwatched)
    )
    assert {(w.outcome, w.termination.outcome if w.termination else None) for w in outcomes} == {
        ("closed_idle", "closed")
    }
    for cid in watched:
        description = await temporal_client.get_workflow_handle(watch_id(cid)).describe()
        assert description.status == WorkflowExecutionStatus.RUNNING

    # None closed twice: one disconnect per participant of an agent conversation, one conversation
    # disconnect of a bot's, none for the watched ones.
    requests = emu.admin.requests()
    patches = Counter(r["path"] for r in requests if r["route"] == PARTICIPANT_PATCH)
    assert set(patches.values()) == {1}
    per_conversation = Counter(path.split("/")[5] for path in patches)
    conversation_patches = Counter(
        r["path"].split("/")[5] for r in requests if (r["method"], r["route"]) == ("PATCH", CONVERSATION_PATCH)
    )
    agents = {c for i, c in enumerate(conversations) if i % 2 and c not in watched}
    assert set(per_conversation) == agents and set(per_conversation.values()) == {2}
    assert set(conversation_patches) == set(unwatched) - agents and set(conversation_patches.values()) == {1}
    # One watch and one termination per conversation (each started once).
    assert await _runs(temporal_client, "WatchConversation", queue, len(conversations)) == Counter(
        {watch_id(c): 1 for c in conversations}
    )
    assert await _runs(temporal_client, "TerminateConversation", queue, len(unwatched)) == Counter(
        {f"terminate-{c}": 1 for c in unwatched}
    )

    for cid in watched:  # not this test's business any more
        await temporal_client.get_workflow_handle(watch_id(cid)).terminate("test over")


async def test_a_sweep_killed_while_starting_watches_counts_each_once(
    temporal_env: WorkflowEnvironment, temporal_client: Client, own_emulator
) -> None:
    conversations = [seed(own_emulator, "agent", **STALE)["conversationId"] for _ in range(30)]
    worker = WorkerProcess(
        temporal_env.client.service_client.config.target_host, f"sweep-crash-{new_id()}", own_emulator.url
    )
    queue = worker.env["CLOSER_TASK_QUEUE"]
    worker.start()
    try:
        # Idle 1h: each watch reads once and sleeps (the reads show how far the starts got).
        handle = await sweeps.run_sweep(temporal_client, {"idle": "1h", "startsPerMinute": 300}, task_queue=queue)
        while len([r for r in own_emulator.admin.requests() if r["route"] == MESSAGE_READ]) < 8:
            await asyncio.sleep(0.05)
        worker.kill()
        worker.start()
        result = await asyncio.wait_for(handle.result(), timeout=60)
    finally:
        worker.stop()

    # The retry resumed from the last heartbeat that reached Temporal, which trails the starts:
    # it recognised the dead attempt's later starts as its own, not as watched before.
    assert (result.candidates, result.watches_started, result.already_watched) == (30, 30, 0)
    history = await handle.fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert max(attempts) >= 2
    assert await _runs(temporal_client, "WatchConversation", queue, 30) == Counter(
        {watch_id(c): 1 for c in conversations}
    )
    for cid in conversations:
        await temporal_client.get_workflow_handle(watch_id(cid)).terminate("test over")


async def test_scheduled_sweeps_never_overlap(sweeper: Sweeper, temporal_client: Client) -> None:
    # Every sweep takes over 2 s (a slow analytics answer); the schedule fires every second.
    sweeper.emulator.admin.add_fault(method="POST", route=QUERY, latency_s=2.5)
    handle, created = await sweeps.schedule_sweeps(
        temporal_client,
        {"idle": "30m"},
        every="1s",
        task_queue=sweeper.task_queue,
        schedule_id=f"closer-sweep-test-{new_id()}",
    )
    assert created
    await asyncio.sleep(9)
    await handle.pause()
    while (description := await handle.describe()).info.running_actions:
        await asyncio.sleep(0.5)
    await handle.delete()

    runs = []
    for action in description.info.recent_actions:
        run = await temporal_client.get_workflow_handle(
            action.action.workflow_id, run_id=action.action.first_execution_run_id
        ).describe()
        assert run.status == WorkflowExecutionStatus.COMPLETED
        runs.append((run.start_time, run.close_time))
    runs.sort()
    assert len(runs) >= 2
    assert all(close <= next_start for (_, close), (next_start, _) in zip(runs, runs[1:])), runs
    assert description.info.num_actions == len(runs)
    assert description.info.num_actions_skipped_overlap >= len(runs)  # about two a sweep


async def test_a_second_manual_sweep_is_refused(
    sweeper: Sweeper, temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    sweeper.emulator.admin.add_fault(method="POST", route=QUERY, latency_s=3)
    env = emulator_env(temporal_env.client.service_client.config.target_host, sweeper.task_queue, sweeper.emulator.url)
    first = asyncio.create_task(closer(env, "sweep", "run", "--idle", "30m", "--wait"))
    await _until_running(temporal_client, sweep_id("default"))

    second = await closer(env, "sweep", "run", "--idle", "30m")

    assert_one_line(second, "a sweep of profile 'default' is already running (workflow sweep-default)")
    done = await first
    assert done.code == 0, done
    assert "watches started  0" in done.stdout and "api calls        1" in done.stdout


async def test_sweep_schedule_commands(sweeper: Sweeper, temporal_env: WorkflowEnvironment) -> None:
    env = emulator_env(temporal_env.client.service_client.config.target_host, sweeper.task_queue, sweeper.emulator.url)
    name = f"closer-sweep-test-{new_id()}"

    created = await closer(env, "sweep", "schedule", "--every", "5m", "--idle", "30m", "--id", name)
    updated = await closer(
        env,
        "sweep",
        "schedule",
        "--every",
        "10m",
        "--idle",
        "45m",
        "--warning",
        "Still there?",
        "--warn-before",
        "2m",
        "--id",
        name,
    )
    paused = await closer(env, "sweep", "pause", "--id", name)
    listed = await closer(env, "sweep", "list")
    deleted = await closer(env, "sweep", "delete", "--id", name)
    again = await closer(env, "sweep", "delete", "--id", name)

    assert created.code == 0 and created.stdout.startswith(
        f"created schedule {name}: every 5m, watches with idle 30m (profile default), next at "
    )
    assert updated.code == 0 and updated.stdout.startswith(f"updated schedule {name}: every 10m, watches with idle 45m")
    assert (paused.code, paused.stdout) == (0, f"paused schedule {name}\n")
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(name)]
    assert line == f"{name}  every 10m  idle 45m  profile default  paused  runs 0, skipped 0, missed 0"
    assert (deleted.code, deleted.stdout) == (0, f"deleted schedule {name}\n")
    assert_one_line(again, f"no sweep schedule '{name}' (see: closer sweep list)")


async def test_bad_sweep_input_is_one_line_and_fails_a_run_at_once(
    sweeper: Sweeper, temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    env = emulator_env(temporal_env.client.service_client.config.target_host, sweeper.task_queue, sweeper.emulator.url)

    run = await closer(env, "sweep", "run", "--idle", "30m", "--starts-per-minute", "5000", "--lookback", "0s")

    assert_one_line(
        run, "lookback: must be more than 0", "starts_per_minute: input should be less than or equal to 1200"
    )
    # From any other client the run fails at once, non-retryably, with the same words.
    with pytest.raises(WorkflowFailureError) as failed:
        await temporal_client.execute_workflow(
            "SweepStaleConversations",
            {"idle": "30m", "deadline": "2030-01-01T00:00:00Z"},
            id=f"sweep-bad-{new_id()}",
            task_queue=sweeper.task_queue,
        )
    assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == "InvalidInput"
    assert "deadline: a sweep takes no absolute deadline" in failed.value.cause.message


async def test_a_sweep_without_the_analytics_permission_fails_at_once_naming_it(
    sweeper: Sweeper, temporal_client: Client
) -> None:
    sweeper.emulator.admin.add_client(READ_ONLY_CLIENT_ID, EMULATOR_CLIENT_SECRET, ["conversation:communication:view"])

    handle = await sweeps.run_sweep(
        temporal_client, {"idle": "30m", "profile": "read-only"}, task_queue=sweeper.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()

    assert "analytics:conversationDetail:view" in str(failed.value.cause.cause)
    assert [r["status"] for r in sweeper.emulator.admin.requests() if r["route"] == QUERY] == [403]  # not retried
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(search_attributes.OUTCOME) == "failed"


async def _runs(client: Client, workflow_type: str, task_queue: str, expected: int) -> Counter[str]:
    """Starts of the type on the queue, by workflow id (visibility catches up within moments): the
    runs that did not continue as new, one for each chain of runs (a watch started through
    `watch` continues as new after its first read)."""
    query = f"WorkflowType = '{workflow_type}' AND TaskQueue = '{task_queue}' AND ExecutionStatus != 'ContinuedAsNew'"
    for _ in range(50):
        runs = Counter([execution.id async for execution in client.list_workflows(query)])
        if sum(runs.values()) >= expected:
            return runs
        await asyncio.sleep(0.2)
    return runs


async def _until_running(client: Client, workflow_id: str) -> None:
    for _ in range(100):
        try:
            if (await client.get_workflow_handle(workflow_id).describe()).status == WorkflowExecutionStatus.RUNNING:
                return
        except RPCError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} never ran")
