"""A watch as the API shows it: running (with its status), finished (with the result), or failed.

Read from Temporal on each request, as a termination is: ``describe``, the ``status`` query while
it runs, the result once it has one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from workflows import WatchConversation, WatchResult, WatchStatus
from workflows.contract import ResultModel

from .runs import QUERY_TIMEOUT, UNANSWERED, failure_text

WatchHandle = WorkflowHandle[WatchConversation, WatchResult]


class Watch(ResultModel):
    """The watch of one conversation (workflow `watch-{conversationId}`)."""

    conversation_id: str
    workflow_id: str
    status: Literal["running", "finished", "failed"] = Field(
        description="running: watching (see `watch`); finished: see `result.outcome`; failed: the workflow itself "
        "failed (see `error`)."
    )
    watch: WatchStatus | None = Field(
        default=None,
        description="While running: due time, last activity, warnings; null if no worker answered in time.",
    )
    result: WatchResult | None = None
    error: str | None = None


async def watch_state(handle: WatchHandle, conversation_id: str, *, status: WatchStatus | None = None) -> Watch:
    """The watch of ``handle``'s run (``status`` if the caller has it already); RPCError NOT_FOUND if none."""
    shown = Watch(conversation_id=conversation_id, workflow_id=handle.id, status="running", watch=status)
    if status is not None:
        return shown
    description = await handle.describe()
    if description.status == WorkflowExecutionStatus.RUNNING:
        try:
            return shown.model_copy(
                update={"watch": await handle.query(WatchConversation.status, rpc_timeout=QUERY_TIMEOUT)}
            )
        except UNANSWERED:
            return shown
    try:
        return shown.model_copy(update={"status": "finished", "result": await handle.result()})
    except WorkflowFailureError as failure:
        return shown.model_copy(update={"status": "failed", "error": failure_text(failure, description)})
