"""closer's own metric names and what activities record (see closer/metrics.py for the endpoint).

Recorded through Temporal's metric meters: ``activity.metric_meter()`` here, ``workflow.metric_meter()``
in the workflows (nothing while replaying), so they land on the worker's Prometheus endpoint beside
Temporal's own metrics; without an endpoint they cost next to nothing.
"""

from __future__ import annotations

import time
from typing import Any

from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

# closer's metric names (Temporal's own are temporal_*), as the README and the dashboard use them.
TERMINATIONS = "closer_terminations"
STEP_DURATION = "closer_step_duration_seconds"
GENESYS_CALLS = "closer_genesys_calls"
GENESYS_RATE_LIMITED = "closer_genesys_rate_limited"
RATE_LIMIT_WAIT = "closer_genesys_rate_limit_wait_seconds"
WATCHES = "closer_watches"
WATCHES_ACTIVE = "closer_watches_active"
SWEEPS = "closer_sweeps"
SWEEP_WATCHES_STARTED = "closer_sweep_watches_started"
CALLBACKS = "closer_callbacks"
CALLBACK_ATTEMPTS_FAILED = "closer_callback_attempts_failed"
HTTP_REQUESTS = "closer_http_requests"
HTTP_REQUEST_DURATION = "closer_http_request_duration_seconds"


def activity_meter() -> MetricMeter | None:
    """The running activity's meter (namespace, task queue and activity type as attributes)."""
    return activity.metric_meter() if activity.in_activity() else None


def record_genesys_calls(calls: list[tuple[str, str, float]]) -> None:
    """An activity's Genesys calls: (operation, status, seconds waited for the pacer) each."""
    meter = activity_meter()
    if meter is None or not calls:
        return
    counter = meter.create_counter(
        GENESYS_CALLS, "Genesys API calls (token requests excluded), by operation and status"
    )
    limited = meter.create_counter(GENESYS_RATE_LIMITED, "Genesys answers 429 Too Many Requests, by operation")
    waits = meter.create_histogram_float(
        RATE_LIMIT_WAIT, "Time a Genesys call waited for closer's rate-limit pacer before it went", "s"
    )
    for operation, status, waited in calls:
        counter.add(1, {"operation": operation, "status": status})
        if status == "429":
            limited.add(1, {"operation": operation})
        waits.record(waited, {"operation": operation})


def count_failed_callback_attempt() -> None:
    meter = activity_meter()
    if meter is not None:
        meter.create_counter(CALLBACK_ATTEMPTS_FAILED, "Callback delivery attempts that failed (retried)").add(1)


class StepMetrics(Interceptor):
    """Worker interceptor: every activity attempt's duration, by step (activity type) and result."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _StepMetricsInbound(next)


class _StepMetricsInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        started = time.monotonic()
        result = "failed"
        try:
            value = await self.next.execute_activity(input)
            result = "ok"
            return value
        finally:
            activity.metric_meter().create_histogram_float(
                STEP_DURATION, "Duration of each step (activity) attempt, by result", "s"
            ).record(time.monotonic() - started, {"step": activity.info().activity_type, "result": result})
