"""Starting, joining and watching terminations from Python."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows import (
    TerminateConversation,
    TerminateRequest,
    TerminateResult,
    workflow_id,
)
from workflows.contract import InvalidInput, parse

from .settings import TemporalSettings

__all__ = ["InvalidInput", "Termination", "connect", "start_or_join", "start_termination", "terminate", "termination_request"]


def termination_request(request: TerminateRequest | Mapping[str, Any]) -> TerminateRequest:
    """A request as a model: a mapping (camelCase or snake_case) is validated, InvalidInput if bad."""
    return request if isinstance(request, TerminateRequest) else parse(TerminateRequest, dict(request))


async def connect(settings: TemporalSettings, *, timeout: float | None = None) -> Client:
    """A Temporal client that speaks the workflows' pydantic models.

    With ``timeout``, give up (TimeoutError) rather than keep retrying an address nobody answers.
    """
    connecting = Client.connect(settings.address, namespace=settings.namespace, data_converter=pydantic_data_converter)
    return await asyncio.wait_for(connecting, timeout)


async def start_termination(
    client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str
) -> WorkflowHandle[TerminateConversation, TerminateResult]:
    """Start the termination of a conversation, or join the one already running or finished.

    One workflow per conversation (id ``terminate-{conversationId}``): a second start while one
    runs joins it, and after it finished returns it rather than running it again, unless it
    ended `failed` (a missing permission, say): then, the cause perhaps fixed, it runs again.
    """
    return (await start_or_join(client, request, task_queue=task_queue)).handle


@dataclass(frozen=True)
class Termination:
    """What :func:`start_or_join` found: the workflow, and its result if it had already finished."""

    handle: WorkflowHandle[TerminateConversation, TerminateResult]
    #: The result of a termination that had finished before this start (and so was not run again).
    finished: TerminateResult | None = None


async def start_or_join(client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str) -> Termination:
    """:func:`start_termination`, also telling a termination that had already finished (with its
    result) from one started or joined now: a batch reports those as already done."""
    request = termination_request(request)
    try:
        return Termination(await _start(client, request, task_queue, WorkflowIDReusePolicy.REJECT_DUPLICATE))
    except WorkflowAlreadyStartedError:
        pass
    finished = client.get_workflow_handle_for(TerminateConversation.run, workflow_id(request.conversation_id))
    try:
        result = await finished.result()
        if result.outcome != "failed":
            return Termination(finished, result)
    except WorkflowFailureError:
        pass  # failed as a workflow (terminated by an operator, say): run it again as well
    return Termination(await _start(client, request, task_queue, WorkflowIDReusePolicy.ALLOW_DUPLICATE))


async def _start(
    client: Client, request: TerminateRequest, task_queue: str, reuse: WorkflowIDReusePolicy
) -> WorkflowHandle[TerminateConversation, TerminateResult]:
    summary = f"Terminate {request.conversation_id}" + (f": {request.reason}" if request.reason else "")
    return await client.start_workflow(
        TerminateConversation.run,
        request,
        id=workflow_id(request.conversation_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=reuse,
        static_summary=summary,
    )


async def terminate(client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str) -> TerminateResult:
    """Start (or join) the termination and wait for its result."""
    handle = await start_termination(client, request, task_queue=task_queue)
    return await handle.result()
