"""The FastAPI application: routers, API keys, problem details, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from importlib.metadata import version

from fastapi import APIRouter, Depends, FastAPI
from temporalio.runtime import Runtime

from ..metrics import HttpMetrics
from ..settings import TemporalSettings
from . import health, terminations, watches
from .auth import ApiKeys
from .connection import TemporalConnection
from .openapi import openapi_document
from .problems import install_problem_handlers, problem_responses

#: The resources under /v1, each its own router; all of them need an API key. A new resource
#: (watches, say) is a module with a ``router`` and one more entry here.
V1_ROUTERS: Sequence[APIRouter] = (terminations.router, watches.router)


def create_app(temporal: TemporalSettings, api_keys: Sequence[str], runtime: Runtime | None = None) -> FastAPI:
    """The API, starting terminations on ``temporal.task_queue``; connects to Temporal on first use.

    With ``runtime`` (one serving Prometheus metrics on CLOSER_METRICS_PORT: closer.metrics), its
    Temporal client uses it and every request is counted and timed there, by route and status."""
    app = FastAPI(
        title="closer",
        version=version("closer"),
        description="End Genesys Cloud Web Messaging conversations durably, as Temporal workflows.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.temporal = TemporalConnection(temporal, runtime)
    if runtime is not None:
        app.add_middleware(HttpMetrics, meter=runtime.metric_meter)
    install_problem_handlers(app)
    app.include_router(health.router)
    for router in V1_ROUTERS:
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(ApiKeys(api_keys))],
            responses=problem_responses(401, 503),
        )
    app.openapi = partial(openapi_document, app)  # type: ignore[method-assign]
    return app
