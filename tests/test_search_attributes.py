"""Operators find terminations in the Temporal UI by conversation, outcome, step and profile.

The queries are the README's, through the visibility API the UI uses. On a new cluster the search
attributes do not exist: `closer setup` creates them, and a worker refuses to start without them
(its workflows would hang on the first upsert).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from closer import search_attributes
from closer.dev_server import TEMPORAL_CLI, start_dev_server
from closer.temporal import start_termination, terminate
from emulator.server import EmulatorServer
from workflows import TerminateRequest, workflow_id

from .conftest import Terminate, emulator_env, new_id, seed
from .test_cli import closer
from .worker_process import WorkerProcess

#: Visibility is eventually consistent: a run shows up in queries shortly after it changes.
VISIBLE_WITHIN_SECONDS = 10.0
NAMES = list(search_attributes.REQUIRED)


async def found(client: Client, query: str, expected: set[str]) -> set[str]:
    """The ids of runs matching ``query``, once they include ``expected`` (or time is up)."""
    deadline = asyncio.get_running_loop().time() + VISIBLE_WITHIN_SECONDS
    while True:
        ids = {execution.id async for execution in client.list_workflows(query)}
        if expected <= ids or asyncio.get_running_loop().time() > deadline:
            return ids
        await asyncio.sleep(0.2)


async def test_operators_find_runs_by_each_search_attribute(
    temporal_client: Client, worker: str, emulator: EmulatorServer, run_termination: Terminate
) -> None:
    closed = seed(emulator, "bot")["conversationId"]
    failed = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]
    verifying = seed(emulator, "stuck")["conversationId"]
    assert (await run_termination(closed)).outcome == "closed"
    assert (await run_termination(failed, allow_teardown=False, verify_timeout_seconds=1)).outcome == "failed"
    stuck = await start_termination(temporal_client, TerminateRequest(conversation_id=verifying), task_queue=worker)

    queries = {
        f'CloserConversationId = "{closed}"': workflow_id(closed),
        'CloserOutcome = "failed"': workflow_id(failed),
        'CloserStep = "verify" AND ExecutionStatus = "Running"': workflow_id(verifying),
        'CloserProfile = "default" AND CloserOutcome = "closed"': workflow_id(closed),
    }
    try:
        for query, expected in queries.items():
            assert expected in await found(temporal_client, query, {expected}), query
    finally:
        await stuck.terminate("found it: no need to wait for the teardown")


async def test_a_run_started_by_another_client_is_as_findable(
    temporal_client: Client, worker: str, emulator: EmulatorServer
) -> None:
    """closer's own starters set the start attributes with the start; for any other client (here
    Temporal's CLI) the workflow upserts them itself."""
    cid = seed(emulator, "agent")["conversationId"]
    process = await asyncio.create_subprocess_exec(
        str(TEMPORAL_CLI), "workflow", "execute", "--type", "TerminateConversation", "--task-queue", worker,
        "--workflow-id", workflow_id(cid), "--input", json.dumps({"conversationId": cid}),
        "--address", temporal_client.service_client.config.target_host,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await asyncio.wait_for(process.communicate(), timeout=60))[0].decode()
    assert process.returncode == 0, output

    query = f'CloserConversationId = "{cid}" AND CloserProfile = "default" AND CloserStep = "done"'
    assert workflow_id(cid) in await found(temporal_client, f'{query} AND CloserOutcome = "closed"', {workflow_id(cid)})


@pytest.fixture
async def bare_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server as bare as a new cluster: none of closer's search attributes."""
    env = await start_dev_server(search_attributes=())
    yield env
    await env.shutdown()


async def test_setup_creates_the_search_attributes_once_and_workers_then_start(
    bare_server: WorkflowEnvironment, emulator: EmulatorServer
) -> None:
    address = bare_server.client.service_client.config.target_host
    task_queue = f"setup-{new_id()}"
    env = emulator_env(address, task_queue, emulator.url)
    assert (await search_attributes.check(bare_server.client, "default")).missing == NAMES

    first = await closer(env, "setup")
    again = await closer(env, "setup")

    assert first.code == 0, first
    assert first.stdout == f"created in namespace 'default': {search_attributes.describe(NAMES)}\n"
    assert (await search_attributes.check(bare_server.client, "default")).ok
    assert again.code == 0, again
    assert again.stdout.startswith("nothing to do")
    worker = WorkerProcess(address, task_queue, emulator.url)
    worker.start()
    try:
        cid = seed(emulator, "bot")["conversationId"]
        result = await terminate(bare_server.client, TerminateRequest(conversation_id=cid), task_queue=task_queue)
        assert result.outcome == "closed"
        assert workflow_id(cid) in await found(
            bare_server.client, f'CloserConversationId = "{cid}"', {workflow_id(cid)}
        )
    finally:
        worker.stop()


async def test_a_worker_refuses_to_start_without_them_and_names_the_command(
    bare_server: WorkflowEnvironment, emulator: EmulatorServer
) -> None:
    address = bare_server.client.service_client.config.target_host

    code, output = WorkerProcess(address, f"refused-{new_id()}", emulator.url).refusal()

    assert code == 2, output
    (line,) = output.splitlines()
    assert "`closer setup`" in line
    for name in NAMES:
        assert name in line
