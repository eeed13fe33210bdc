"""The worker's limits from CLOSER_MAX_* (worker.worker_limits) and its sandbox setting
(CLOSER_WORKFLOW_SANDBOX, workflows/sandbox.py)."""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from closer import watches
from closer.temporal import terminate
from emulator.server import EmulatorServer
from worker import worker_limits
from workflows import (
    TerminateRequest,
    WatchConversation,
    watch_id,
    workflow_id,
)
from workflows.sandbox import sandboxed

from .conftest import new_id, replayer, seed
from .worker_process import WorkerProcess


def test_unset_or_empty_leaves_the_sdk_defaults() -> None:
    assert worker_limits({}) == {}
    assert worker_limits({"CLOSER_MAX_CACHED_WORKFLOWS": " "}) == {}


def test_set_values_become_worker_arguments() -> None:
    env = {
        "CLOSER_MAX_CACHED_WORKFLOWS": "4000",
        "CLOSER_MAX_CONCURRENT_WORKFLOW_TASKS": "50",
        "CLOSER_MAX_CONCURRENT_ACTIVITIES": "200",
    }
    assert worker_limits(env) == {
        "max_cached_workflows": 4000,
        "max_concurrent_workflow_tasks": 50,
        "max_concurrent_activities": 200,
    }
    assert worker_limits({"CLOSER_MAX_CACHED_WORKFLOWS": "1"}) == {"max_cached_workflows": 1}


def test_a_cache_of_zero_is_refused_with_why() -> None:
    # With no cache the SDK evicts a watch's run while its read (a local activity) is in flight,
    # cancels the read and runs it again on the replay, again and again.
    with pytest.raises(ValueError, match=r"CLOSER_MAX_CACHED_WORKFLOWS is 0: set it to at least 1.*local activity"):
        worker_limits({"CLOSER_MAX_CACHED_WORKFLOWS": "0"})


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="CLOSER_MAX_CONCURRENT_ACTIVITIES"):
        worker_limits({"CLOSER_MAX_CONCURRENT_ACTIVITIES": value})


def test_the_sandbox_is_on_unless_turned_off() -> None:
    assert sandboxed({}) is True
    assert sandboxed({"CLOSER_WORKFLOW_SANDBOX": ""}) is True
    assert sandboxed({"CLOSER_WORKFLOW_SANDBOX": "on"}) is True
    assert sandboxed({"CLOSER_WORKFLOW_SANDBOX": " Off "}) is False


@pytest.mark.parametrize("value", ["no", "false", "0", "disabled"])
def test_other_sandbox_values_are_refused_naming_the_choices(value: str) -> None:
    with pytest.raises(ValueError, match=r"CLOSER_WORKFLOW_SANDBOX is .*: set it to on \(the default\) or off"):
        sandboxed({"CLOSER_WORKFLOW_SANDBOX": value})


def test_a_worker_refuses_to_start_with_a_bad_sandbox_value(
    temporal_env: WorkflowEnvironment, emulator: EmulatorServer
) -> None:
    address = temporal_env.client.service_client.config.target_host
    worker = WorkerProcess(address, f"refused-{new_id()}", emulator.url, CLOSER_WORKFLOW_SANDBOX="sometimes")

    code, output = worker.refusal()

    assert code == 2, output
    (line,) = output.splitlines()
    assert "CLOSER_WORKFLOW_SANDBOX is 'sometimes': set it to on (the default) or off" in line


async def test_a_worker_without_the_sandbox_terminates_and_watches_as_the_sandboxed_one_would(
    temporal_env: WorkflowEnvironment, temporal_client: Client, emulator: EmulatorServer
) -> None:
    """The same workflow code outside the sandbox: it says so when it starts, a termination and an
    idle watch end as they do sandboxed, and their histories replay in the sandbox (the same commands)."""
    address = temporal_env.client.service_client.config.target_host
    queue = f"unsandboxed-{new_id()}"
    worker = WorkerProcess(address, queue, emulator.url, CLOSER_WORKFLOW_SANDBOX="off")
    worker.start()
    try:
        assert "workflows run outside Temporal's sandbox (CLOSER_WORKFLOW_SANDBOX=off)" in worker.output()
        terminated = seed(emulator, "agent")["conversationId"]
        result = await terminate(temporal_client, TerminateRequest(conversation_id=terminated), task_queue=queue)
        assert result.outcome == "closed"

        watched = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
        await watches.watch(temporal_client, {"conversationId": watched, "idle": "2s"}, task_queue=queue)
        watch = await temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(watched)).result()
        assert watch.outcome == "closed_idle" and watch.termination is not None
        assert watch.termination.outcome == "closed"
    finally:
        worker.stop()

    replaying = replayer(sandbox=True)
    for run_id in (workflow_id(terminated), watch_id(watched), workflow_id(watched)):
        history: WorkflowHistory = await temporal_client.get_workflow_handle(run_id).fetch_history()
        await replaying.replay_workflow(history)  # raises on any difference
