"""Metrics and traces: a `python worker.py` with CLOSER_METRICS_PORT and an OTLP endpoint set runs
terminations with known outcomes and a watch; its Prometheus endpoint is scraped over HTTP and
its counters checked against what happened (the workflows' results, the emulator's request log),
and the spans it exported over OTLP/HTTP checked to join the traces the starting client began.
The HTTP API's own endpoint is checked after a few requests."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment

from activities import metrics
from closer.converter import data_converter
from closer.metrics import telemetry_runtime
from closer.settings import TemporalSettings
from closer.temporal import start_termination
from closer.watches import watch
from emulator.server import EmulatorServer
from workflows import TerminateRequest
from workflows.watch_models import watch_id

from .api_server import ApiServer
from .conftest import API_KEYS, bearer, free_port, genesys_requests, new_id, seed
from .worker_process import REPO, WorkerProcess

CONVERSATION_GET = "/api/v2/conversations/{conversationId}"
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus's text format: (name, labels, value) per sample."""
    samples = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            found = _SAMPLE.match(line)
            assert found, line
            name, labels, value = found.groups()
            samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for n, ls, v in samples if n == name and all(ls.get(k) == x for k, x in labels.items()))


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on loopback: POST /v1/traces (protobuf), spans kept in order."""

    def __init__(self) -> None:
        self.spans: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest.FromString(body)
                    for resource_spans in request.resource_spans:
                        service = next(
                            (
                                a.value.string_value
                                for a in resource_spans.resource.attributes
                                if a.key == "service.name"
                            ),
                            "",
                        )
                        for scope_spans in resource_spans.scope_spans:
                            receiver.spans.extend((service, span) for span in scope_spans.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Run:
    metrics: list[tuple[str, dict[str, str], float]]
    outcomes: dict[str, str]  # conversation id -> termination outcome
    watch_outcome: str
    genesys_requests: int  # the emulator's log, for these conversations
    client_spans: list = field(default_factory=list)
    worker_spans: list = field(default_factory=list)


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
async def run(temporal_env: WorkflowEnvironment, session_emulator: EmulatorServer, otlp: OtlpReceiver) -> Run:
    emu = session_emulator
    target = temporal_env.client.service_client.config.target_host
    port = free_port()
    task_queue = f"metrics-{new_id()}"
    worker = WorkerProcess(
        target,
        task_queue,
        emu.url,
        CLOSER_METRICS_PORT=f"127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    # The starting side traces too, as the CLI and the API do: its spans kept in memory here.
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = await Client.connect(
        target,
        data_converter=data_converter,
        interceptors=[TracingInterceptor(provider.get_tracer("test"))],
    )
    closed = [seed(emu, "agent")["conversationId"] for _ in range(2)]
    limited = seed(emu, "agent")["conversationId"]
    emu.admin.add_fault(
        conversation_id=limited,
        method="GET",
        route=CONVERSATION_GET,
        status=429,
        code="too.many.requests",
        retry_after=1,
        count=1,
    )
    unknown, unwatched = new_id(), new_id()
    worker.start()
    try:
        ids = [*closed, limited, unknown]
        handles = [
            await start_termination(client, TerminateRequest(conversation_id=c), task_queue=task_queue) for c in ids
        ]
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=90)
        await watch(client, {"conversationId": unwatched, "idle": "PT1M"}, task_queue=task_queue)
        watched = await asyncio.wait_for(client.get_workflow_handle(watch_id(unwatched)).result(), timeout=60)
        async with httpx.AsyncClient() as http:
            # The workflow's counter is recorded as its last task completes: poll briefly.
            for _ in range(50):
                metrics = parse_metrics((await http.get(f"http://127.0.0.1:{port}/metrics")).text)
                if total(metrics, "closer_watches_total") >= 1 and total(metrics, "closer_terminations_total") >= 4:
                    break
                await asyncio.sleep(0.1)
        for _ in range(50):  # the worker's spans go out in batches every 100 ms
            if any(s.name.startswith("RunActivity:") for _, s in otlp.spans):
                break
            await asyncio.sleep(0.1)
    finally:
        worker.stop()
    return Run(
        metrics=metrics,
        outcomes={c: r.outcome for c, r in zip(ids, results)},
        watch_outcome=watched["outcome"] if isinstance(watched, dict) else watched.outcome,
        genesys_requests=sum(len(genesys_requests(emu, c)) for c in [*ids, unwatched]),
        client_spans=list(exporter.get_finished_spans()),
        worker_spans=list(otlp.spans),
    )


def test_worker_counters_match_what_happened(run: Run) -> None:
    m = run.metrics
    print(
        f"\n{run.genesys_requests} Genesys calls, {len(run.worker_spans)} worker spans; closer's metrics: "
        f"{sorted({n for n, _, _ in m if n.startswith('closer_')})}"
    )
    assert sorted(run.outcomes.values()) == ["closed", "closed", "closed", "not_found"]
    # Terminations by outcome: exactly what the workflows returned.
    assert total(m, "closer_terminations_total", outcome="closed") == 3
    assert total(m, "closer_terminations_total", outcome="not_found") == 1
    assert total(m, "closer_terminations_total") == 4
    assert run.watch_outcome == "not_found"
    assert total(m, "closer_watches_total", outcome="not_found") == 1
    # Every Genesys call the emulator logged for these conversations, and no other.
    assert total(m, "closer_genesys_calls_total") == run.genesys_requests
    assert total(m, "closer_genesys_calls_total", operation="get_conversation", status="429") == 1
    assert total(m, "closer_genesys_rate_limited_total") >= 1
    assert total(m, "closer_genesys_rate_limited_total", operation="get_conversation") == 1
    # The pacer's wait: one observation per call.
    assert total(m, "closer_genesys_rate_limit_wait_seconds_count") == run.genesys_requests
    # Step durations: a lookup attempt per termination, plus the 429's failed attempt.
    assert total(m, "closer_step_duration_seconds_count", step="lookup", result="ok") == 4
    assert total(m, "closer_step_duration_seconds_count", step="lookup", result="failed") == 1
    assert total(m, "closer_step_duration_seconds_count", step="read activity", result="ok") == 1
    # Temporal's own SDK metrics on the same endpoint.
    assert total(m, "temporal_workflow_completed_total", workflow_type="TerminateConversation") == 4
    assert total(m, "temporal_activity_execution_failed_total") >= 1
    assert any(name == "temporal_activity_execution_latency_bucket" for name, _, _ in m)
    # The active-watches gauge is there (the namespace's count: other tests' watches may run too).
    assert any(name == "closer_watches_active" for name, _, _ in m)


def test_worker_spans_join_the_starting_clients_traces(run: Run) -> None:
    starts = [s for s in run.client_spans if s.name == "StartWorkflow:TerminateConversation"]
    assert len(starts) == 4
    trace_ids = {s.context.trace_id for s in starts}
    worker = [(service, s) for service, s in run.worker_spans if int.from_bytes(s.trace_id, "big") in trace_ids]
    names = {s.name for _, s in worker}
    assert {"RunWorkflow:TerminateConversation", "StartActivity:lookup", "RunActivity:lookup"} <= names
    assert {service for service, _ in worker} == {"closer-worker"}
    # Every termination's run is in its own start's trace.
    assert {int.from_bytes(s.trace_id, "big") for _, s in worker if s.name == "RunWorkflow:TerminateConversation"} == (
        trace_ids
    )


async def test_api_requests_by_route_and_status(temporal_env: WorkflowEnvironment) -> None:
    port = free_port()
    runtime = telemetry_runtime(f"127.0.0.1:{port}")
    settings = TemporalSettings(address=temporal_env.client.service_client.config.target_host, task_queue=new_id())
    with ApiServer(settings, API_KEYS, runtime) as api:
        async with httpx.AsyncClient(base_url=api.url) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            for _ in range(2):
                assert (await http.get(f"/v1/terminations/{new_id()}", headers=bearer(API_KEYS[0]))).status_code == 404
            assert (await http.get(f"/v1/terminations/{new_id()}")).status_code == 401
            assert (await http.get("/no/such/route")).status_code == 404
            metrics = parse_metrics((await http.get(f"http://127.0.0.1:{port}/metrics")).text)
    termination_routes = {
        ls["route"] for n, ls, _ in metrics if n == "closer_http_requests_total" and "terminations" in ls["route"]
    }
    assert len(termination_routes) == 1  # the template, never a conversation id
    route = termination_routes.pop()
    assert "{" in route
    assert total(metrics, "closer_http_requests_total", route="/healthz", status="200") == 1
    assert total(metrics, "closer_http_requests_total", route="/readyz", status="200") == 1
    assert total(metrics, "closer_http_requests_total", route=route, method="GET", status="404") == 2
    assert total(metrics, "closer_http_requests_total", route=route, status="401") == 1
    assert total(metrics, "closer_http_requests_total", route="unmatched", status="404") == 1
    assert total(metrics, "closer_http_request_duration_seconds_count", route=route) == 3
    # The API's Temporal client's own metrics on the same endpoint.
    assert total(metrics, "temporal_request_total") >= 1


def test_the_dashboard_uses_closers_metric_names() -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "closer.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(closer_[a-z_]+)", target["expr"])
    }
    known = {getattr(metrics, n) for n in dir(metrics) if n.isupper() and isinstance(getattr(metrics, n), str)}
    kinds = {
        "_total": lambda base: base in known - {metrics.WATCHES_ACTIVE},
        "_bucket": lambda base: base.endswith("_seconds"),
        "_sum": lambda base: base.endswith("_seconds"),
        "_count": lambda base: base.endswith("_seconds"),
    }
    for name in used:
        suffix = next((s for s in kinds if name.endswith(s)), "")
        base = name.removesuffix(suffix)
        assert base in known and (not suffix or kinds[suffix](base)), name
    assert known - {metrics.HTTP_REQUEST_DURATION} <= {
        n.removesuffix("_total").removesuffix("_bucket") for n in used
    }  # every metric on a panel
