"""The steps of a sweep: one page of the analytics details query, and starting watches, paced.

What these return lands in workflow histories: conversation ids and counts, nothing else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from .heartbeat import HEARTBEAT_EVERY_SECONDS
from .models import StepResult
from .steps import GenesysActivities, genesys_step

#: The memo key of a watch a sweep started: which sweep run, for operators and for a retried
#: "start watches" to recognise its own earlier starts.
STARTED_BY_MEMO = "startedBy"


class QueryPageInput(BaseModel):
    profile: str = "default"
    interval_start: datetime
    interval_end: datetime
    #: From 1.
    page_number: int
    page_size: int


class PageResult(StepResult):
    conversation_ids: list[str] = Field(default_factory=list)
    #: Matches over all pages, as this query counted them.
    total_hits: int = 0


class WorkflowStart(BaseModel):
    workflow_id: str
    #: The workflow's one argument, as JSON.
    input: dict[str, Any]
    static_summary: str | None = None


class StartWatchesInput(BaseModel):
    workflow_type: str
    starts: list[WorkflowStart]
    starts_per_minute: int


class StartWatchesResult(BaseModel):
    """Also the heartbeat's details: a retried attempt goes on from here."""

    #: Starts dealt with, in order: a retry resumes after them.
    done: int = 0
    started: int = 0
    #: Already running, or finished without failing.
    already_watched: int = 0


class SweepActivities(GenesysActivities):
    """A sweep's steps: the query (Genesys) and the starts (Temporal, through the worker's client)."""

    @genesys_step("query page")
    async def query_page(self, query: QueryPageInput) -> PageResult:
        """``POST /api/v2/analytics/conversations/details/query``: one page of the open web
        messaging conversations that started in the interval. Candidates only: analytics lags."""
        page = await self._client(query).query_conversation_details(
            query.interval_start, query.interval_end, query.page_number, query.page_size
        )
        # Lower-cased as every closer entry point does: one conversation, one watch id.
        ids = [c.conversation_id.lower() for c in page.conversations]
        return PageResult(conversation_ids=ids, total_hits=page.total_hits)

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every step of a sweep, for ``Worker(activities=...)``."""
        return [self.query_page, start_watches]


@activity.defn(name="start watches")
async def start_watches(request: StartWatchesInput) -> StartWatchesResult:
    """Start each workflow unless one with its id exists, at most ``starts_per_minute``.

    Conflict policy *fail*: a watch already running stays as it is, atomically, with no race
    against another sweep or a service starting it. Reuse policy *failed only*: a watch that
    finished (its conversation ended, or an operator cancelled it) is not started again. Progress
    is heartbeated, so a retry after a crash goes on where the last attempt was.
    """
    info = activity.info()
    client = activity.client()
    progress = (
        StartWatchesResult.model_validate(info.heartbeat_details[0]) if info.heartbeat_details else StartWatchesResult()
    )
    started_by = {"workflowId": info.workflow_id, "runId": info.workflow_run_id}
    gap = 60.0 / request.starts_per_minute
    # The first start waits a gap too: the previous page's last one may have gone just now.
    next_at = time.monotonic() + gap
    beater = asyncio.create_task(_heartbeat(progress))
    try:
        for start in request.starts[progress.done :]:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            began = time.monotonic()
            try:
                await client.start_workflow(
                    request.workflow_type,
                    start.input,
                    id=start.workflow_id,
                    task_queue=info.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    memo={STARTED_BY_MEMO: started_by},
                    static_summary=start.static_summary,
                )
                progress.started += 1
                next_at = began + gap  # only starts are paced: a refusal costs Genesys nothing
            except WorkflowAlreadyStartedError:
                # A retry resumes from the last heartbeat that reached the server, which may trail
                # its predecessor's last starts: those it recognises by their memo.
                if info.attempt > 1 and await _started_by(client, start.workflow_id) == started_by:
                    progress.started += 1
                else:
                    progress.already_watched += 1
            progress.done += 1
    finally:
        beater.cancel()
    return progress


async def _heartbeat(progress: StartWatchesResult) -> None:
    """Heartbeat the progress so far, also while pacing: a slow pace is no sign of a dead worker."""
    while True:
        activity.heartbeat(progress.model_copy())
        await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)


async def _started_by(client: Client, workflow_id: str) -> object:
    description = await client.get_workflow_handle(workflow_id).describe()
    return (await description.memo()).get(STARTED_BY_MEMO)
