"""The blocking helper, as a Celery task or a Django view calls it: from threads with no event loop."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.testing import WorkflowEnvironment

from closer.settings import TemporalSettings
from closer.sync import Closer
from workflows import TerminateRequest
from workflows.contract import InvalidInput, parse

from .conftest import genesys_requests, seed


@pytest.fixture
def closer(temporal_env: WorkflowEnvironment, worker: str):
    config = temporal_env.client.config()
    settings = TemporalSettings(address=config["service_client"].config.target_host, task_queue=worker)
    with Closer(settings) as closer:
        yield closer


async def test_threads_without_an_event_loop_terminate_and_share_one_workflow_per_conversation(
    closer: Closer, emulator
) -> None:
    cids = [seed(emulator, "agent")["conversationId"] for _ in range(3)]

    # Two "Celery tasks" per conversation, each in a thread of its own, camelCase and snake_case.
    results = await asyncio.gather(
        *(asyncio.to_thread(closer.terminate, {"conversationId": cid, "goodbye": "Bye!"}) for cid in cids),
        *(asyncio.to_thread(closer.terminate, {"conversation_id": cid, "goodbye": "Bye!"}) for cid in cids),
    )

    assert [r.outcome for r in results] == ["closed"] * 6
    for cid in cids:
        sends = [r for r in genesys_requests(emulator, cid) if r["method"] == "POST"]
        assert len(sends) == 1, "one termination per conversation: one goodbye"


async def test_start_returns_the_workflow_id_at_once(closer: Closer, emulator) -> None:
    cid = seed(emulator, "bot")["conversationId"]

    workflow_id = await asyncio.to_thread(closer.start_termination, cid)

    assert workflow_id == f"terminate-{cid}"


def test_bad_input_raises_the_contract_messages_before_anything_starts(closer: Closer) -> None:
    body = {"conversationId": "not-a-uuid", "wrapupCodeId": "x"}

    with pytest.raises(InvalidInput) as raised:
        closer.terminate(body)

    with pytest.raises(InvalidInput) as expected:
        parse(TerminateRequest, body)
    assert raised.value.problems == expected.value.problems
    assert any(
        p.startswith("wrapupCodeId: unknown field") and "did you mean wrapupCode" in p for p in raised.value.problems
    )
