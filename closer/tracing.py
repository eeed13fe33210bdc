"""OpenTelemetry traces through Temporal's tracing interceptor, exported over OTLP when configured.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, every
Temporal client closer makes (``closer.temporal.connect``: the worker's, the CLI's, the HTTP
API's) carries ``temporalio.contrib.opentelemetry.TracingInterceptor``: starting a workflow makes a
span whose context travels in the workflow's headers, and the worker's workflow and activity spans
join that trace. Spans go to the endpoint over OTLP/HTTP (protobuf) in batches; the exporter reads
the standard ``OTEL_*`` variables (headers, timeout, ``OTEL_SERVICE_NAME``, ``OTEL_BSP_*``).
Unset, no tracer provider is made and no interceptor added: no tracing overhead at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.client import Interceptor

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_interceptor: Interceptor | None = None
_configured = False


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return any(env.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def tracing_interceptors(service: str = "closer") -> list[Interceptor]:
    """The client interceptors for tracing (workers built on the client inherit them): none unless
    an OTLP endpoint is configured. The first call sets up the process's tracer provider;
    ``service`` names the process where ``OTEL_SERVICE_NAME`` does not."""
    global _interceptor, _configured
    if not _configured:
        _configured = True
        if tracing_enabled():
            _interceptor = _tracing_interceptor(service)
    return [_interceptor] if _interceptor is not None else []


def _tracing_interceptor(service: str) -> Interceptor:
    # Imported only when tracing is on: the SDK and the exporter cost start-up time otherwise.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from temporalio.contrib.opentelemetry import TracingInterceptor

    # OTEL_SERVICE_NAME, where set, wins over ``service``; OTEL_RESOURCE_ATTRIBUTES adds to it.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return TracingInterceptor(trace.get_tracer("closer"))


def flush_traces(timeout_millis: int = 5000) -> None:
    """Send the spans still buffered: before a process leaves with os._exit (no atexit hooks)."""
    if _interceptor is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)
