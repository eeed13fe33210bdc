"""A step that runs longer than its heartbeat timeout keeps its attempt alive by heartbeating
(activities.heartbeat): a slow Genesys answer must not time the attempt out and repeat its call."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.heartbeat import HEARTBEAT_EVERY_SECONDS, heartbeating

from .conftest import new_id

SLOW_STEP_SECONDS = 2.5
# Longer than the first beat (1 s) and than the SDK's throttle between beats (0.8 of it), shorter
# than the step: without beats the attempt times out.
HEARTBEAT_TIMEOUT = timedelta(seconds=1.5)


@activity.defn(name="slow step")
@heartbeating
async def slow_step(seconds: float) -> int:
    await asyncio.sleep(seconds)
    return activity.info().attempt


@workflow.defn(name="HeartbeatProbe")
class HeartbeatProbe:
    @workflow.run
    async def run(self, seconds: float) -> int:
        return await workflow.execute_activity(
            slow_step,
            seconds,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=2, initial_interval=timedelta(milliseconds=100)),
        )


async def test_a_step_longer_than_its_heartbeat_timeout_finishes_in_its_first_attempt(
    temporal_client: Client,
) -> None:
    assert HEARTBEAT_EVERY_SECONDS < HEARTBEAT_TIMEOUT.total_seconds() < SLOW_STEP_SECONDS
    queue = f"heartbeat-{new_id()}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[HeartbeatProbe],
        activities=[slow_step],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await temporal_client.start_workflow(
            HeartbeatProbe.run, SLOW_STEP_SECONDS, id=f"heartbeat-{new_id()}", task_queue=queue
        )
        assert await handle.result() == 1  # no heartbeat timeout, so no second attempt
        timeouts = [
            e for e in (await handle.fetch_history()).events if e.HasField("activity_task_timed_out_event_attributes")
        ]
        assert timeouts == []
