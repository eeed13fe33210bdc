"""Watching conversations from Python: create or update, touch, cancel, read.

One watch per conversation (id ``watch-{conversationId}``). Every helper validates its input
with the contract's models first, so a bad request raises ``InvalidInput`` before anything starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from workflows import WatchConversation, WatchRequest, WatchResult, WatchSettings, WatchStatus, watch_id
from workflows.contract import InvalidInput, parse, root_message


class NoWatch(LookupError):
    """No watch is running for that conversation."""


def watch_request(request: WatchRequest | Mapping[str, Any]) -> WatchRequest:
    """A request as a model: a mapping (camelCase or snake_case) is validated, InvalidInput if bad."""
    return request if isinstance(request, WatchRequest) else parse(WatchRequest, dict(request))


async def watch(client: Client, request: WatchRequest | Mapping[str, Any], *, task_queue: str) -> WatchStatus:
    """Start watching the conversation, or give its running watch these settings (one atomic call:
    update-with-start). Returns the watch's status with the settings applied."""
    request = watch_request(request)
    settings = WatchSettings.model_validate(request.model_dump(exclude={"conversation_id", "profile"}))
    start = WithStartWorkflowOperation(
        WatchConversation.run,
        request,
        id=watch_id(request.conversation_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Watch {request.conversation_id}: idle {request.model_dump(mode='json')['idle']}",
    )
    try:
        return await client.execute_update_with_start_workflow(
            WatchConversation.configure, settings, start_workflow_operation=start
        )
    except WorkflowUpdateFailedError as error:
        raise InvalidInput([root_message(error)]) from None


async def touch(
    client: Client,
    conversation_id: str,
    *,
    start: WatchRequest | Mapping[str, Any] | None = None,
    task_queue: str | None = None,
) -> None:
    """Activity seen: the idle countdown restarts now, with no Genesys read.

    With ``start`` (and ``task_queue``), start the watch if there is none, in the same call
    (signal-with-start): the idempotent "start or touch" a message handler wants.
    """
    if start is None:
        await _signal(client, conversation_id, WatchConversation.touch)
        return
    request = watch_request(start)
    if request.conversation_id != conversation_id.lower():
        raise InvalidInput([f"conversationId: the request is for {request.conversation_id}, not {conversation_id}"])
    if task_queue is None:
        raise ValueError("starting a watch needs the task queue")
    await client.start_workflow(
        WatchConversation.run,
        request,
        id=watch_id(request.conversation_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="touch",
    )


async def cancel(client: Client, conversation_id: str) -> None:
    """Stop watching (a close already under way goes on)."""
    await _signal(client, conversation_id, WatchConversation.cancel)


async def watch_state(client: Client, conversation_id: str) -> WatchStatus | WatchResult:
    """The running watch's status, or the finished watch's result; NoWatch if there never was one."""
    handle = client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id.lower()))
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NoWatch(f"no watch for conversation {conversation_id}") from None
        raise
    if description.status == WorkflowExecutionStatus.RUNNING:
        return await handle.query(WatchConversation.status)
    try:
        return await handle.result()
    except WorkflowFailureError as error:
        raise NoWatch(f"the watch for conversation {conversation_id} failed: {root_message(error)}") from None


async def _signal(client: Client, conversation_id: str, signal: Any) -> None:
    handle = client.get_workflow_handle(watch_id(conversation_id.lower()))
    try:
        await handle.signal(signal)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise NoWatch(f"no watch is running for conversation {conversation_id}") from None
        raise
