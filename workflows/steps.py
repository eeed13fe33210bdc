"""Running one Genesys-backed step from a workflow, with the step timeouts and retry policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import StepResult

    from .policies import STEP_HEARTBEAT_TIMEOUT, STEP_RETRY_POLICY, STEP_SCHEDULE_TO_CLOSE, STEP_START_TO_CLOSE

Argument = TypeVar("Argument")
Result = TypeVar("Result", bound=StepResult)


async def run_step(
    activity: Callable[[Any, Argument], Awaitable[Result]],
    argument: Argument,
    *,
    schedule_to_close: timedelta = STEP_SCHEDULE_TO_CLOSE,
    local: bool = False,
) -> Result:
    """The activity method ``activity`` on ``argument``, retried per the step policy: heartbeating,
    or with ``local`` a local activity, run by this worker inside the workflow task that asks for
    it with no activity task through Temporal (for a short read: a watch's, every idle period)."""
    if local:
        return await workflow.execute_local_activity_method(
            activity,
            argument,
            start_to_close_timeout=STEP_START_TO_CLOSE,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=STEP_RETRY_POLICY,
        )
    return await workflow.execute_activity_method(
        activity,
        argument,
        start_to_close_timeout=STEP_START_TO_CLOSE,
        heartbeat_timeout=STEP_HEARTBEAT_TIMEOUT,
        schedule_to_close_timeout=schedule_to_close,
        retry_policy=STEP_RETRY_POLICY,
    )
