"""A worker SIGKILLed after Genesys accepted a request, before the step completed, then restarted.

The emulator applies the request and withholds its response (a hold), so the kill lands exactly in
the window where the worker cannot know whether Genesys acted. The same workflow must finish, and
the goodbye must reach the customer exactly once.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from closer.temporal import start_termination
from workflows import TerminateRequest, TerminateResult

from .conftest import genesys_requests, seed
from .worker_process import WorkerProcess

MESSAGE_POST = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


async def _terminate_across_a_crash(
    temporal_client: Client, emulator, worker_process: WorkerProcess, request: TerminateRequest, method: str, route: str
) -> TerminateResult:
    """Run ``request``; kill the worker once Genesys has taken the first ``method route`` request
    but before the worker heard back; restart it; return the same workflow's result."""
    hold_id = emulator.admin.hold(method, route, count=1)
    worker_process.start()
    handle = await start_termination(temporal_client, request, task_queue=worker_process.env["CLOSER_TASK_QUEUE"])
    for _ in range(400):
        if emulator.admin.hold_status(hold_id)["engaged"]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the held request never arrived:\n{worker_process.output()}")
    worker_process.kill()
    emulator.admin.release(hold_id)  # Genesys's answer goes to a dead process
    worker_process.start()
    return await handle.result()


async def test_goodbye_is_sent_exactly_once_across_a_worker_crash(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    request = TerminateRequest(conversation_id=cid, goodbye="Closing now, goodbye.")

    result = await _terminate_across_a_crash(temporal_client, emulator, worker_process, request, "POST", MESSAGE_POST)

    assert result.outcome == "closed"
    assert result.goodbye == "already_sent"  # the retry found it and did not send it again
    assert [m["text"] for m in emulator.admin.conversation(cid)["sent_messages"]] == ["Closing now, goodbye."]
    assert [r["status"] for r in genesys_requests(emulator, cid) if r["route"] == MESSAGE_POST] == [200]


async def test_disconnect_converges_across_a_worker_crash(
    temporal_client: Client, emulator, worker_process: WorkerProcess
) -> None:
    seeded = seed(emulator, "agent")
    cid = seeded["conversationId"]
    request = TerminateRequest(conversation_id=cid)

    result = await _terminate_across_a_crash(
        temporal_client, emulator, worker_process, request, "PATCH", PARTICIPANT_PATCH
    )

    assert result.outcome == "closed"
    agent = seeded["participants"]["agent"]["participantId"]
    agent_patches = [
        r["status"] for r in genesys_requests(emulator, cid) if r["route"] == PARTICIPANT_PATCH and agent in r["path"]
    ]
    # The first PATCH was accepted (202) before the kill; the retry found the agent already gone.
    assert agent_patches[0] == 202 and agent_patches[1:] and agent_patches[-1] == 400
    assert {p.participant_id: p.action for p in result.participants}[agent] == "already_disconnected"
