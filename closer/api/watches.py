"""``/v1/watches``: close a conversation once idle (or at a deadline); touch, cancel, read."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows import WatchConversation, WatchRequest, watch_id
from workflows.contract import parse_json
from workflows.watch_models import WatchSettingsBody

from .. import watches
from .connection import Temporal
from .openapi import json_body
from .problems import problem_responses
from .terminations import ConversationId
from .watch_state import Watch, WatchHandle, watch_state

router = APIRouter(prefix="/watches", tags=["watches"])


@router.put(
    "/{conversationId}",
    name="watch",
    operation_id="putWatch",
    summary="Watch a conversation, or change its watch's settings",
    response_model=Watch,
    openapi_extra=json_body(WatchSettingsBody),
    responses=problem_responses(422),
)
async def put(conversation_id: ConversationId, request: Request, temporal: Temporal) -> Watch:
    """Close the conversation once it has been idle for `idle` (after an optional warning), or at
    its deadline. A running watch takes the new settings at once. The body is a `WatchSettingsBody`."""
    body = await _body(request, conversation_id)
    client = await temporal.client()
    current = await watches.watch(client, body, task_queue=temporal.settings.task_queue)
    return await watch_state(_handle(client, conversation_id), conversation_id, status=current)


@router.post(
    "/{conversationId}/touch",
    operation_id="touchWatch",
    summary="Activity seen: restart the idle countdown",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra={
        "requestBody": {
            "required": False,
            **json_body(WatchSettingsBody)["requestBody"],
            "description": "Optional: settings to start the watch with if there is none (start-or-touch).",
        }
    },
    responses=problem_responses(404, 422),
)
async def touch(conversation_id: ConversationId, request: Request, temporal: Temporal) -> Response:
    """No Genesys call: the watch's due time moves. With a body, a watch is started if there is
    none (one idempotent call, for a message handler that sees every message)."""
    start = await _optional_body(request, conversation_id)
    client = await temporal.client()
    try:
        await watches.touch(client, conversation_id, start=start, task_queue=temporal.settings.task_queue)
    except watches.NoWatch as error:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"{error}: start one with PUT /v1/watches/{conversation_id}"
        ) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{conversationId}",
    operation_id="cancelWatch",
    summary="Stop watching a conversation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 422),
)
async def cancel(conversation_id: ConversationId, temporal: Temporal) -> Response:
    """The watch ends with outcome `cancelled` (a close already under way goes on)."""
    try:
        await watches.cancel(await temporal.client(), conversation_id)
    except watches.NoWatch as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{conversationId}",
    operation_id="getWatch",
    summary="Read the watch of a conversation",
    response_model=Watch,
    responses=problem_responses(404, 422),
)
async def read(conversation_id: ConversationId, temporal: Temporal) -> Watch:
    """Due time, last activity and warnings while it runs; its result once finished."""
    try:
        return await watch_state(_handle(await temporal.client(), conversation_id), conversation_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no watch of conversation {conversation_id}: start one with PUT /v1/watches/{conversation_id}",
    )


async def _optional_body(request: Request, conversation_id: str) -> WatchRequest | None:
    return await _body(request, conversation_id) if (await request.body()).strip() else None


async def _body(request: Request, conversation_id: str) -> WatchRequest:
    raw = await request.body()
    settings = parse_json(WatchSettingsBody, raw)
    return WatchRequest.model_validate({**settings.model_dump(), "conversationId": conversation_id})


def _handle(client: Client, conversation_id: str) -> WatchHandle:
    return client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id))
