"""closer's Prometheus metrics: Temporal's SDK metrics and closer's own, on one endpoint.

With ``CLOSER_METRICS_PORT`` set, the worker and ``closer api`` build their Temporal runtime with
Temporal's Prometheus exporter (``temporalio.runtime.PrometheusConfig``) listening on that port,
and record closer's own metrics (``closer_*``) through the same runtime's metric meter: the
activities' ``activity.metric_meter()``, the workflows' ``workflow.metric_meter()`` (which records
nothing while a workflow replays) and the runtime's own meter (the API, the active-watches gauge).
One endpoint, ``http://HOST:PORT/metrics``, no second metrics library. Unset, nothing listens and
recording costs next to nothing (Temporal's meter without an exporter).

Prometheus conventions throughout: counters end in ``_total``, durations are seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from activities.metrics import (
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    RATE_LIMIT_WAIT,
    STEP_DURATION,
    WATCHES_ACTIVE,
)

from .logs import core_logging_config

METRICS_PORT_VARIABLE = "CLOSER_METRICS_PORT"

#: Buckets of closer's duration histograms, in seconds: from a fast read to a long pacer wait.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: How often a worker counts the running watches (a visibility query) for closer_watches_active.
WATCHES_ACTIVE_INTERVAL_SECONDS = 15.0

log = logging.getLogger(__name__)


class MetricsSettingsError(ValueError):
    """``CLOSER_METRICS_PORT`` cannot be used; the message says what to set."""


def metrics_address(environ: Mapping[str, str] | None = None) -> str | None:
    """Where to serve /metrics: ``0.0.0.0:PORT`` from ``CLOSER_METRICS_PORT`` (a port, or HOST:PORT);
    None when it is unset or empty (no endpoint)."""
    value = (os.environ if environ is None else environ).get(METRICS_PORT_VARIABLE, "").strip()
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise MetricsSettingsError(
            f"{METRICS_PORT_VARIABLE} is {value!r}: set it to a port (e.g. 9464) or HOST:PORT, or leave it unset"
        )
    return f"{host or '0.0.0.0'}:{int(port)}"


def telemetry_runtime(address: str | None) -> Runtime | None:
    """A Temporal runtime serving Prometheus metrics on ``address`` (core logs forwarded as
    closer.logs does), or None without an address: the default runtime then.

    MetricsSettingsError where the port cannot be bound (in use, say)."""
    if address is None:
        return None
    config = PrometheusConfig(
        bind_address=address,
        counters_total_suffix=True,
        durations_as_seconds=True,
        histogram_bucket_overrides={
            name: DURATION_BUCKETS for name in (STEP_DURATION, RATE_LIMIT_WAIT, HTTP_REQUEST_DURATION)
        },
    )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logging_config(), metrics=config))
    except Exception as error:  # the core's bind error: a RuntimeError with the OS's words
        raise MetricsSettingsError(
            f"cannot serve metrics on {address} ({error}): set {METRICS_PORT_VARIABLE} to a free port"
        ) from None


# --- the worker: active watches -----------------------------------------------------------------

RUNNING_WATCHES_QUERY = "WorkflowType = 'WatchConversation' AND ExecutionStatus = 'Running'"


async def report_active_watches(
    client: Client, meter: MetricMeter, interval: float = WATCHES_ACTIVE_INTERVAL_SECONDS
) -> None:
    """Set closer_watches_active to the namespace's running watches, every ``interval`` seconds.

    Counted by Temporal (a visibility count), not by this worker: a watch lives for hours and
    moves between workers, so only the cluster knows how many run. Every worker reports the same
    number: aggregate with max(), not sum()."""
    gauge = meter.create_gauge(WATCHES_ACTIVE, "Watches running in the namespace (Temporal visibility count)")
    namespace = client.namespace
    while True:
        try:
            count = await client.count_workflows(RUNNING_WATCHES_QUERY)
            gauge.set(count.count, {"namespace": namespace})
        except Exception as error:  # visibility down or not allowed: the gauge keeps its last value
            log.debug("could not count the running watches: %s", error)
        await asyncio.sleep(interval)


# --- the HTTP API -----------------------------------------------------------------------------


class HttpMetrics:
    """ASGI middleware: closer_http_requests_total and closer_http_request_duration_seconds, by
    method, route (the route's template, e.g. /v1/terminations/{conversation_id}) and status."""

    def __init__(self, app: Callable[..., Awaitable[None]], meter: MetricMeter) -> None:
        self.app = app
        self._requests = meter.create_counter(HTTP_REQUESTS, "HTTP API requests, by method, route and status")
        self._duration = meter.create_histogram_float(
            HTTP_REQUEST_DURATION, "HTTP API request duration, by method, route and status", "s"
        )

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        attributes: dict[str, str] | None = None  # once the response starts

        def labelled(status: int) -> dict[str, str]:
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # never the raw path: unbounded
            return {"method": scope["method"], "route": route, "status": str(status)}

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal attributes
            if message["type"] == "http.response.start":
                # Counted before the response leaves: a caller holding the response (or a scrape
                # after it) sees its request counted.
                attributes = labelled(message["status"])
                self._requests.add(1, attributes)
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if attributes is None:  # no response started: the server answers 500
                attributes = labelled(500)
                self._requests.add(1, attributes)
            self._duration.record(time.monotonic() - started, attributes)
