"""Run a closer worker: ``python worker.py``.

Reads the Temporal and Genesys settings from the environment (see closer/settings.py and the
README) and serves the termination workflow and its steps on the task queue until SIGINT/SIGTERM,
finishing running steps before it exits. Refuses to start (exit status 2, one line) where the
namespace lacks closer's search attributes: `closer setup` creates them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from datetime import timedelta

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities import SweepActivities, TerminationActivities, WatchActivities
from activities.callback_config import CallbackConfig, origin_of
from activities.callbacks import CallbackActivities
from activities.metrics import StepMetrics
from closer import search_attributes
from closer.logs import FailedAttemptLog, LogFormatError, configure_logging
from closer.metrics import MetricsSettingsError, metrics_address, report_active_watches, telemetry_runtime
from closer.settings import Settings, SettingsError, TemporalSettings
from closer.temporal import CannotConnect, connect, short_reason
from closer.tracing import flush_traces, tracing_enabled
from genesys import ClientPool
from workflows import SweepStaleConversations, TerminateConversation, WatchConversation
from workflows.sandbox import SANDBOX_VARIABLE, sandboxed, workflow_runner

#: How long to try reaching Temporal at start before exiting (status 2, one line saying what to fix).
CONNECT_TIMEOUT_SECONDS = 15.0
#: On shutdown, running steps get this long to finish before they are cancelled (and retried elsewhere).
GRACEFUL_SHUTDOWN = timedelta(seconds=15)
#: The workflows a worker serves (and the replay tests replay).
WORKFLOWS = (TerminateConversation, WatchConversation, SweepStaleConversations)
#: The worker's limits, each from an optional variable (unset or empty: the Temporal SDK's default):
#: how many workflows it keeps in memory (more are replayed from their history when their next task
#: comes), and how many workflow tasks and steps it runs at once. See Performance in the README.
WORKER_LIMITS = {
    "max_cached_workflows": "CLOSER_MAX_CACHED_WORKFLOWS",
    "max_concurrent_workflow_tasks": "CLOSER_MAX_CONCURRENT_WORKFLOW_TASKS",
    "max_concurrent_activities": "CLOSER_MAX_CONCURRENT_ACTIVITIES",
}


def worker_limits(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """``Worker`` keyword arguments from the CLOSER_MAX_* variables that are set; ValueError if one
    is not a positive whole number.

    A cache of 0 is refused too, with why: a watch's read is a local activity, run inside the
    workflow task its timer wakes, and with no cache the SDK evicts the run while the read is in
    flight, cancels the read and runs it again on the replay."""
    env = os.environ if environ is None else environ
    limits = {}
    for argument, variable in WORKER_LIMITS.items():
        value = env.get(variable, "").strip()
        if not value:
            continue
        if value.isdigit() and int(value) == 0 and argument == "max_cached_workflows":
            raise ValueError(
                f"{variable} is 0: set it to at least 1, or leave it unset (1000). Watches read Genesys with a "
                "local activity, which the SDK cancels and runs again at every eviction when it keeps no workflow "
                "in memory (measured: half the due times went unread)"
            )
        if not value.isdigit() or int(value) == 0:
            raise ValueError(f"{variable} is {value!r}: set it to a positive whole number, or leave it unset")
        limits[argument] = int(value)
    return limits


def build_worker(
    client: Client, task_queue: str, clients: ClientPool, callbacks: CallbackActivities | None = None
) -> Worker:
    """Without ``callbacks``, terminations send no callback and a request's callback URL is refused."""
    callbacks = callbacks or CallbackActivities(CallbackConfig())
    limits = worker_limits()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            *TerminationActivities(clients, default_callback=callbacks.default_url_set).all(),
            *WatchActivities(clients).all(),
            *SweepActivities(clients).all(),
            *callbacks.all(),
        ],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        workflow_runner=workflow_runner(sandboxed()),
        # One log line per failed attempt (step, conversation, Genesys status, code, contextId)
        # instead of the SDK's traceback per retry; every attempt's duration as a metric. (The
        # tracing interceptor, when configured, comes with the client: closer.tracing.)
        interceptors=[FailedAttemptLog(), StepMetrics()],
        max_cached_workflows=limits.get("max_cached_workflows", 1000),  # the SDK's default
        max_concurrent_workflow_tasks=limits.get("max_concurrent_workflow_tasks"),
        max_concurrent_activities=limits.get("max_concurrent_activities"),
    )


class CannotServe(Exception):
    """The cluster is not ready for closer's workflows; the message says which command fixes it."""


async def check_search_attributes(client: Client, namespace: str) -> None:
    """Refuse to start where a workflow would hang upserting an unknown search attribute."""
    try:
        found = await search_attributes.check(client, namespace)
    except RPCError as error:
        # Temporal Cloud, or a role without operator rights: the attributes may well be there.
        logging.warning(
            "could not list the search attributes of namespace %s (%s): not checked. Workflows hang if any of "
            "these is missing: %s",
            namespace,
            error.message,
            search_attributes.describe(search_attributes.REQUIRED),
        )
        return
    if not found.ok:
        raise CannotServe(found.problem())


async def check_namespace(client: Client, temporal: TemporalSettings) -> None:
    """Refuse to start (CannotConnect) where the namespace is unknown or not ours: the SDK's own
    check comes later, as a multi-line error, after the worker has said it is polling."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=temporal.namespace), retry=True
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise CannotConnect(
                f"namespace {temporal.namespace!r} not found at {temporal.address}: set {temporal.source('namespace')} to one it has"
            ) from None
        if error.status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED):
            raise CannotConnect(
                f"Temporal at {temporal.address} refused the credentials for namespace {temporal.namespace!r} "
                f"({error.message}): check TEMPORAL_API_KEY (or the client certificate) and TEMPORAL_NAMESPACE"
            ) from None
        raise CannotConnect(
            f"Temporal at {temporal.address} cannot describe namespace {temporal.namespace!r}: {error.message}"
        ) from None


async def run_worker(settings: Settings, runtime: Runtime | None = None) -> None:
    """``runtime``: one serving Prometheus metrics (closer.metrics), else Temporal's default."""
    client = await connect(settings.temporal, timeout=CONNECT_TIMEOUT_SECONDS, runtime=runtime, service="closer-worker")
    await check_namespace(client, settings.temporal)
    await check_search_attributes(client, settings.temporal.namespace)
    clients = ClientPool(settings.profiles)
    callbacks = CallbackActivities(settings.callbacks)
    worker = build_worker(client, settings.temporal.task_queue, clients, callbacks)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Only where metrics are served: a visibility query every few seconds is for someone to read.
    watches = asyncio.create_task(report_active_watches(client, runtime.metric_meter)) if runtime else None
    try:
        async with worker:
            logging.info(
                "closer worker polling %s task queue %s, profiles: %s",
                settings.temporal.describe(),
                settings.temporal.task_queue,
                ", ".join(settings.profiles) or "none",
            )
            logging.info("closure callbacks: %s", _describe_callbacks(settings.callbacks))
            if not sandboxed():
                logging.info("workflows run outside Temporal's sandbox (%s=off)", SANDBOX_VARIABLE)
            if runtime is not None:
                logging.info("metrics on http://%s/metrics", metrics_address())
            if tracing_enabled():
                logging.info("traces exported over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)")
            await stop.wait()
    finally:
        if watches is not None:
            watches.cancel()
        await clients.aclose()
        await callbacks.aclose()


def _describe_callbacks(config: CallbackConfig) -> str:
    # Origins only: a URL's path may carry a token, and logs are read by more people than configs.
    default = f"default to {origin_of(config.url)}" if config.url else "no default"
    allowed = ", ".join(sorted(config.allowed_origins)) or "none"
    return f"{default}; request URLs allowed from: {allowed}"


def main() -> int:
    try:
        configure_logging(logging.INFO)  # text, or JSON lines with CLOSER_LOG_FORMAT=json
    except LogFormatError as error:
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    if not settings.profiles:
        print(
            "closer worker: no Genesys credentials: set GENESYSCLOUD_OAUTHCLIENT_ID, "
            "GENESYSCLOUD_OAUTHCLIENT_SECRET and GENESYSCLOUD_REGION",
            file=sys.stderr,
        )
        return 2
    try:
        worker_limits()
        sandboxed()
    except ValueError as error:
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    try:
        runtime = telemetry_runtime(metrics_address())
    except MetricsSettingsError as error:
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_worker(settings, runtime))
    except CannotServe as error:
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    except CannotConnect as error:  # bad Temporal settings, no server, TLS or credentials refused
        print(f"closer worker: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # the server refused the worker (the SDK's own validation)
        print(
            f"closer worker: Temporal at {settings.temporal.address} refused the worker: {short_reason(str(error))}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    code = main()
    flush_traces()
    # Leave without interpreter finalization: the Temporal SDK's Rust threads can abort a process
    # that is finalizing (temporalio/sdk-python#300), and by now everything is closed.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
