"""A termination as the API shows it: running (and how far), finished (with the result), or failed.

Read from Temporal on each request: the run's status from ``describe``, its progress from the
workflow's ``progress`` query, its result once it has one. Nothing is kept in the API.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from workflows import TerminateConversation, TerminateResult
from workflows.contract import ResultModel
from workflows.models import StepRecord

from .runs import QUERY_TIMEOUT, UNANSWERED, failure_text

TerminationHandle = WorkflowHandle[TerminateConversation, TerminateResult]


class Termination(ResultModel):
    """The termination of one conversation (workflow `terminate-{conversationId}`)."""

    conversation_id: str
    workflow_id: str
    status: Literal["running", "finished", "failed"] = Field(
        description="finished: the workflow returned a result, whatever its outcome (`failed` included: see "
        "`result.error`); failed: the workflow itself failed (input another client sent that is not valid, "
        "terminated by an operator, ...): see `error`."
    )
    current_step: str | None = Field(
        default=None, description="The step under way; null when not running, or when no worker answered in time."
    )
    steps: list[StepRecord] = Field(default_factory=list, description="The steps so far (all of them once finished).")
    result: TerminateResult | None = None
    error: str | None = Field(default=None, description="For status failed: why the workflow failed.")


async def termination_state(
    handle: TerminationHandle, conversation_id: str, *, with_progress: bool = True
) -> Termination:
    """The termination of ``handle``'s run; RPCError NOT_FOUND if there is none.

    Without ``with_progress`` a running termination is shown without asking its worker how far
    it got: an answer at once, even when no worker is polling.
    """
    description = await handle.describe()
    shown = Termination(conversation_id=conversation_id, workflow_id=handle.id, status="running")
    if description.status == WorkflowExecutionStatus.RUNNING:
        if not with_progress:
            return shown
        try:
            progress = await handle.query(TerminateConversation.progress, rpc_timeout=QUERY_TIMEOUT)
        except UNANSWERED:
            return shown  # no worker answered: running is all Temporal itself knows
        if progress.result is not None:  # finished between the two calls
            return _finished(shown, progress.result)
        return shown.model_copy(update={"current_step": progress.current_step, "steps": progress.steps})
    try:
        return _finished(shown, await handle.result())
    except WorkflowFailureError as failure:
        return shown.model_copy(update={"status": "failed", "error": failure_text(failure, description)})


def _finished(shown: Termination, result: TerminateResult) -> Termination:
    return shown.model_copy(update={"status": "finished", "steps": result.steps, "result": result})
