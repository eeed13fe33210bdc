"""``/healthz`` (the process answers) and ``/readyz`` (and Temporal answers it): no API key, for
load balancers and orchestrators."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from .connection import Temporal
from .problems import problem_responses

#: A readiness probe answers fast or not at all.
READY_TIMEOUT = timedelta(seconds=2)

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["alive", "ready"]


@router.get("/healthz", operation_id="alive", response_model=Health)
async def alive() -> Health:
    """The API process is up (whatever Temporal's state)."""
    return Health(status="alive")


@router.get("/readyz", operation_id="ready", response_model=Health, responses=problem_responses(503))
async def ready(temporal: Temporal) -> Health:
    """The API can reach Temporal: a 503 problem otherwise."""
    client = await temporal.client()
    # The cheapest call every frontend answers (the SDK's own connect makes it); failing is a 503.
    await client.workflow_service.get_system_info(GetSystemInfoRequest(), retry=False, timeout=READY_TIMEOUT)
    return Health(status="ready")
