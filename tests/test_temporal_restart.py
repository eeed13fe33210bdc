"""The Temporal server itself stops mid-batch and starts again: every termination completes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from closer.dev_server import start_dev_server
from closer.temporal import start_termination
from workflows import TerminateConversation, TerminateRequest, workflow_id

from .conftest import free_port, new_id, seed
from .worker_process import WorkerProcess

BATCH = 20
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


async def _start_server(port: int, database: Path) -> WorkflowEnvironment:
    return await start_dev_server(port=port, dev_server_database_filename=str(database))


async def test_batch_survives_a_temporal_restart(tmp_path: Path, emulator) -> None:
    port, database = free_port(), tmp_path / "temporal.db"
    server = await _start_server(port, database)
    worker = WorkerProcess(f"127.0.0.1:{port}", f"restart-{new_id()}", emulator.url)
    conversation_ids = [seed(emulator, "agent")["conversationId"] for _ in range(BATCH)]
    before = len(emulator.admin.requests())
    try:
        worker.start()
        for cid in conversation_ids:
            await start_termination(
                server.client,
                TerminateRequest(conversation_id=cid, goodbye="Bye!"),
                task_queue=worker.env["CLOSER_TASK_QUEUE"],
            )
        # Stop Temporal once the batch is under way: some disconnects sent, most not finished.
        while sum(r["route"] == PARTICIPANT_PATCH for r in emulator.admin.requests()[before:]) < 5:
            await asyncio.sleep(0.05)
        await server.shutdown()
        await asyncio.sleep(2)
        server = await _start_server(port, database)

        results = await asyncio.wait_for(
            asyncio.gather(
                *(
                    server.client.get_workflow_handle_for(TerminateConversation.run, workflow_id(cid)).result()
                    for cid in conversation_ids
                )
            ),
            timeout=240,
        )
    finally:
        worker.stop()
        await server.shutdown()

    assert [r.outcome for r in results] == ["closed"] * BATCH
    for cid in conversation_ids:
        assert len(emulator.admin.conversation(cid)["sent_messages"]) == 1
