"""A worker SIGKILLed after Genesys accepted a request, before the step completed, then restarted.

The emulator applies the request and withholds its response (a hold), so the kill lands exactly in
the window where the worker cannot know whether Genesys acted. The same workflow must finish, and
the goodbye must reach the customer exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from closer.temporal import start_termination
from workflows import TerminateRequest

from .conftest import genesys_requests, new_id, seed
from .worker_process import WorkerProcess

MESSAGE_POST = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


@pytest.fixture
def worker_process(temporal_env: WorkflowEnvironment, emulator) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        temporal_env.client.service_client.config.target_host, f"crash-{new_id()}", emulator.url
    )
    yield process
    process.stop()


async def _kill_while_held(emulator, worker_process: WorkerProcess, hold_id: str) -> None:
    for _ in range(400):
        if emulator.admin.hold_status(hold_id)["engaged"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the held request never arrived:\n{worker_process.output()}")
    worker_process.kill()
    emulator.admin.release(hold_id)  # Genesys's answer goes to a dead process


async def test_goodbye_is_sent_exactly_once_across_a_worker_crash(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    seeded = seed(emulator, "agent")
    cid = seeded["conversationId"]
    hold = emulator.admin.hold("POST", MESSAGE_POST, count=1)
    worker_process.start()

    handle = await start_termination(
        temporal_client,
        TerminateRequest(conversation_id=cid, goodbye="Closing now, goodbye."),
        task_queue=worker_process.env["CLOSER_TASK_QUEUE"],
    )
    await _kill_while_held(emulator, worker_process, hold)
    worker_process.start()
    result = await handle.result()

    assert result.outcome == "closed"
    assert result.goodbye == "already_sent"  # the retry found it and did not send it again
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == ["Closing now, goodbye."]
    assert [r["status"] for r in genesys_requests(emulator, cid) if r["route"] == MESSAGE_POST] == [200]


async def test_disconnect_converges_across_a_worker_crash(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    seeded = seed(emulator, "agent")
    cid = seeded["conversationId"]
    hold = emulator.admin.hold("PATCH", PARTICIPANT_PATCH, count=1)
    worker_process.start()

    handle = await start_termination(
        temporal_client, TerminateRequest(conversation_id=cid), task_queue=worker_process.env["CLOSER_TASK_QUEUE"]
    )
    await _kill_while_held(emulator, worker_process, hold)
    worker_process.start()
    result = await handle.result()

    assert result.outcome == "closed"
    agent = seeded["participants"]["agent"]["participantId"]
    agent_patches = [r["status"] for r in genesys_requests(emulator, cid) if r["route"] == PARTICIPANT_PATCH and agent in r["path"]]
    # The first PATCH was accepted (202) before the kill; the retry found the agent already gone.
    assert agent_patches[0] == 202 and agent_patches[1:] and agent_patches[-1] == 400
    assert {p.participant_id: p.action for p in result.participants}[agent] == "already_disconnected"
