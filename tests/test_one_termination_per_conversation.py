"""Whoever asks, and however often: one workflow and one result per conversation."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from closer.temporal import start_termination
from workflows import TerminateRequest, workflow_id

from .conftest import genesys_requests, seed


async def test_two_starts_give_one_workflow_and_one_result(temporal_client: Client, worker: str, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    request = TerminateRequest(conversation_id=cid)

    first, second = await asyncio.gather(
        start_termination(temporal_client, request, task_queue=worker),
        start_termination(
            temporal_client, request.model_copy(update={"goodbye": "a different ask"}), task_queue=worker
        ),
    )
    results = await asyncio.gather(first.result(), second.result())

    assert results[0] == results[1]
    assert results[0].outcome == "closed"
    runs = [w async for w in temporal_client.list_workflows(f"WorkflowId = '{workflow_id(cid)}'")]
    assert len(runs) == 1
    calls_after_first = len(genesys_requests(emulator, cid))

    # A start after it finished returns the finished termination instead of running it again.
    late = await start_termination(temporal_client, request, task_queue=worker)
    assert await late.result() == results[0]
    assert len(genesys_requests(emulator, cid)) == calls_after_first
