"""Closure callbacks: the result, signed per Standard Webhooks, reaches the receiver once per event.

The receiver is a real HTTP server on loopback verifying every request with the `standardwebhooks`
package, as a user's would; workers are real (in-process, or `python worker.py` killed mid-delivery).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.callback_config import CallbackConfig
from activities.callbacks import CallbackActivities
from closer.dev_server import TEMPORAL_CLI
from closer.temporal import start_termination, terminate
from genesys import ClientPool
from worker import build_worker
from workflows import TerminateRequest, TerminateResult, workflow_id

from .callback_receiver import CALLBACK_SECRET, CallbackReceiver, Delivery
from .conftest import Terminate, emulator_env, genesys_requests, new_id, seed
from .test_cli import closer
from .worker_process import REPO, WorkerProcess

DISALLOWED = "https://evil.example:8443/hook"


def assert_one_verified_event(deliveries: list[Delivery], result: TerminateResult) -> None:
    """Every delivery carried the result's event id and a valid signature, and the payload is the result."""
    assert result.callback is not None
    assert {d.event_id for d in deliveries} == {result.callback.event_id}
    assert all(d.payload is not None for d in deliveries), "a signature did not verify"
    payloads = [d.payload for d in deliveries]
    assert all(p == payloads[0] for p in payloads), "retries must send the same event"
    payload = payloads[0]
    assert payload is not None
    assert payload["type"] == "termination.finished"
    assert payload["data"]["conversationId"] == result.conversation_id
    assert payload["data"]["outcome"] == result.outcome
    # The whole result in camelCase, but for the callback's own delivery report.
    assert payload["data"] == result.model_dump(mode="json", exclude={"callback"})


async def test_the_signed_result_is_delivered_once_per_event_across_retries(
    run_termination: Terminate, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    path = f"/flaky/{cid}"
    callback_receiver.answer(path, 500, 500)

    result = await run_termination(cid, callback_url=callback_receiver.url(path))

    assert result.outcome == "closed"
    assert result.callback is not None
    assert (result.callback.status, result.callback.attempts) == ("delivered", 3)
    assert result.callback.delivered_at is not None and result.verified_at is not None
    assert result.callback.delivered_at >= result.verified_at
    deliveries = callback_receiver.deliveries(path)
    assert [d.status for d in deliveries] == [500, 500, 200]
    assert_one_verified_event(deliveries, result)


async def test_a_receiver_saying_gone_gets_no_more_and_the_outcome_stands(
    run_termination: Terminate, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    path = f"/gone/{cid}"
    callback_receiver.answer(path, 410)

    result = await run_termination(cid, callback_url=callback_receiver.url(path))

    assert result.outcome == "closed"
    assert result.callback is not None
    assert (result.callback.status, result.callback.attempts) == ("failed", 1)
    assert "410" in (result.callback.error or "")
    assert len(callback_receiver.deliveries(path)) == 1


async def test_a_disallowed_origin_fails_the_run_at_once_and_touches_no_genesys_api(
    temporal_client: Client, worker: str, emulator
) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    handle = await start_termination(
        temporal_client, {"conversationId": cid, "callbackUrl": DISALLOWED}, task_queue=worker
    )
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result()

    cause = raised.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidInput" and cause.non_retryable
    assert "callbackUrl" in cause.message and "CLOSER_CALLBACK_ALLOWED_ORIGINS" in cause.message
    assert "https://evil.example:8443" in cause.message
    assert genesys_requests(emulator, cid) == []
    assert emulator.admin.conversation(cid)["endTime"] is None


async def test_the_temporal_cli_gets_the_same_rejection(
    temporal_env: WorkflowEnvironment, worker: str, emulator
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    process = await asyncio.create_subprocess_exec(
        str(TEMPORAL_CLI), "workflow", "execute",
        "--address", temporal_env.client.service_client.config.target_host,
        "--type", "TerminateConversation", "--task-queue", worker, "--workflow-id", workflow_id(cid),
        "--input", json.dumps({"conversationId": cid, "callbackUrl": DISALLOWED}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await asyncio.wait_for(process.communicate(), timeout=30))[0].decode()

    assert process.returncode != 0, output
    assert "origin https://evil.example:8443 is not in CLOSER_CALLBACK_ALLOWED_ORIGINS" in output
    assert genesys_requests(emulator, cid) == []


async def test_no_callback_configured_sends_nothing_and_says_so(
    run_termination: Terminate, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    result = await run_termination(cid)  # the session's worker has no CLOSER_CALLBACK_URL

    assert result.outcome == "closed"
    assert result.callback is not None
    assert (result.callback.status, result.callback.event_id) == ("not_configured", None)
    assert not [d for d in callback_receiver.deliveries() if cid in json.dumps(d.payload)]


@pytest.fixture(scope="module")
async def default_url_worker(
    temporal_client: Client, client_pool: ClientPool, callback_receiver: CallbackReceiver
) -> AsyncIterator[str]:
    """A worker whose operator set CLOSER_CALLBACK_URL and no allowed origins."""
    task_queue = f"callbacks-default-{new_id()}"
    callbacks = CallbackActivities(CallbackConfig(url=callback_receiver.url("/default"), secret=CALLBACK_SECRET))
    async with build_worker(temporal_client, task_queue, client_pool, callbacks):
        yield task_queue
    await callbacks.aclose()


async def test_the_default_url_gets_the_callback_when_the_request_names_none(
    temporal_client: Client, default_url_worker: str, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    handle = await start_termination(
        temporal_client, TerminateRequest(conversation_id=cid), task_queue=default_url_worker
    )
    result = await handle.result()

    assert result.outcome == "closed"
    assert result.callback is not None
    assert (result.callback.status, result.callback.attempts) == ("delivered", 1)
    deliveries = [d for d in callback_receiver.deliveries("/default") if d.event_id == result.callback.event_id]
    assert len(deliveries) == 1
    assert_one_verified_event(deliveries, result)


async def test_the_default_url_hears_of_a_run_that_failed_before_its_lookup_answered(
    temporal_client: Client, default_url_worker: str, emulator, callback_receiver: CallbackReceiver
) -> None:
    """The lookup's result tells the run whether the worker has a default URL; without one (a
    missing permission: the lookup fails) the run asks the worker itself."""
    cid = seed(emulator, "agent")["conversationId"]
    fault = emulator.admin.add_fault(
        method="GET", route="/api/v2/conversations/{conversationId}", status=403, code="missing.permissions"
    )
    try:
        result = await terminate(temporal_client, TerminateRequest(conversation_id=cid), task_queue=default_url_worker)
    finally:
        emulator.admin.remove_fault(fault)

    assert result.outcome == "failed"
    assert result.callback is not None and result.callback.status == "delivered"
    deliveries = [d for d in callback_receiver.deliveries("/default") if d.event_id == result.callback.event_id]
    assert len(deliveries) == 1 and (deliveries[0].payload or {})["data"]["outcome"] == "failed"


async def test_without_allowed_origins_a_request_url_is_refused(
    temporal_client: Client, default_url_worker: str, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    request = TerminateRequest(conversation_id=cid, callback_url=callback_receiver.url("/mine"))

    handle = await start_termination(temporal_client, request, task_queue=default_url_worker)
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result()

    assert "CLOSER_CALLBACK_ALLOWED_ORIGINS is not set" in str(raised.value.cause)
    assert genesys_requests(emulator, cid) == []


@pytest.fixture
def callback_worker_process(
    temporal_env: WorkflowEnvironment, emulator, callback_receiver: CallbackReceiver
) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        temporal_env.client.service_client.config.target_host,
        f"callbacks-crash-{new_id()}",
        emulator.url,
        CLOSER_CALLBACK_SECRET=CALLBACK_SECRET,
        CLOSER_CALLBACK_ALLOWED_ORIGINS=callback_receiver.origin,
    )
    yield process
    process.stop()


async def test_a_worker_killed_mid_delivery_redelivers_the_same_event(
    temporal_client: Client, emulator, callback_receiver: CallbackReceiver, callback_worker_process: WorkerProcess
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    path = f"/crash/{cid}"
    hold = callback_receiver.hold(path)  # the first request waits here until the worker is dead
    callback_worker_process.start()
    request = TerminateRequest(conversation_id=cid, callback_url=callback_receiver.url(path))
    handle = await start_termination(
        temporal_client, request, task_queue=callback_worker_process.env["CLOSER_TASK_QUEUE"]
    )

    assert await asyncio.to_thread(hold.arrived.wait, 60), callback_worker_process.output()
    callback_worker_process.kill()
    hold.release.set()  # the receiver's answer goes to a dead process
    callback_worker_process.start()
    result = await handle.result()

    assert result.outcome == "closed"
    assert result.callback is not None
    assert (result.callback.status, result.callback.attempts) == ("delivered", 2)
    deliveries = callback_receiver.deliveries(path)
    assert len(deliveries) == 2
    assert_one_verified_event(deliveries, result)
    assert CALLBACK_SECRET not in callback_worker_process.output()


async def test_the_cli_takes_a_callback_url_and_shows_the_delivery(
    temporal_env: WorkflowEnvironment, worker: str, emulator, callback_receiver: CallbackReceiver
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    path = f"/cli/{cid}"
    env = emulator_env(temporal_env.client.service_client.config.target_host, worker, emulator.url)

    run = await closer(env, "terminate", cid, "--callback-url", callback_receiver.url(path))

    assert run.code == 0, run
    event_id = callback_receiver.deliveries(path)[0].event_id
    assert "callback     delivered " in run.stdout and f"(first attempt, {event_id})" in run.stdout

    bad = await closer(env, "terminate", new_id(), "--callback-url", "ftp://example.com/hook")
    assert bad.code == 2 and bad.stderr.strip().endswith("callback_url: must be an http:// or https:// URL"), bad


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        (
            {"CLOSER_CALLBACK_URL": "https://hooks.example.com/closer"},
            "CLOSER_CALLBACK_SECRET is not: callbacks are always signed",
        ),
        ({"CLOSER_CALLBACK_SECRET": "whsec_c2hvcnQ="}, "CLOSER_CALLBACK_SECRET: decodes to 5 bytes"),
        (
            {
                "CLOSER_CALLBACK_ALLOWED_ORIGINS": "https://hooks.example.com/closer",
                "CLOSER_CALLBACK_SECRET": CALLBACK_SECRET,
            },
            "has a path",
        ),
    ],
    ids=["url without secret", "short secret", "origin with a path"],
)
async def test_a_worker_with_unusable_callback_settings_says_what_to_fix(
    temporal_env: WorkflowEnvironment, emulator, setting: dict[str, str], says: str
) -> None:
    env = {
        **emulator_env(temporal_env.client.service_client.config.target_host, f"unused-{new_id()}", emulator.url),
        **setting,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "worker.py", cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2 and stdout == b""
    assert says in stderr.decode() and len(stderr.decode().splitlines()) == 1
    assert "c2hvcnQ=" not in stderr.decode()
