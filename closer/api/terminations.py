"""``/v1/terminations``: start (or join) a termination, wait briefly for it, read it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import AfterValidator
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from workflows import TerminateConversation, TerminateRequest, workflow_id
from workflows.contract import check_uuid, parse_json

from ..temporal import start_termination
from .connection import Temporal
from .openapi import json_body
from .problems import problem_responses
from .termination_state import Termination, TerminationHandle, termination_state

#: The longest a request may wait for a result; past it, follow the Location.
MAX_WAIT_SECONDS = 60

router = APIRouter(prefix="/terminations", tags=["terminations"])

ConversationId = Annotated[
    str,
    AfterValidator(check_uuid),  # the contract's own check and message, as for the request body
    Path(alias="conversationId", json_schema_extra={"format": "uuid"}, description="The Genesys conversation id."),
]


@router.post(
    "",
    operation_id="startTermination",
    summary="Start (or join) the termination of a conversation",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Termination,
    openapi_extra=json_body(TerminateRequest),
    responses={
        202: {"description": "Started, or joined while running: follow `Location`."},
        200: {"model": Termination, "description": "Finished: before the wait ran out, or long before this request."},
        **problem_responses(422),
    },
)
async def start(
    request: Request,
    response: Response,
    temporal: Temporal,
    wait: Annotated[
        float | None,
        Query(gt=0, le=MAX_WAIT_SECONDS, description="Wait up to this many seconds for the result."),
    ] = None,
) -> Termination:
    """End a conversation, or join its termination already under way or finished.

    One termination per conversation, whoever asks: a second request returns the same one, and a
    finished one is not run again unless it ended `failed` (its cause may have been fixed).
    The body is a `TerminateRequest`, camelCase (snake_case accepted too).
    """
    # The raw body, parsed by the contract itself: the messages are the CLI's, word for word.
    terminate = parse_json(TerminateRequest, await request.body())
    handle = await start_termination(await temporal.client(), terminate, task_queue=temporal.settings.task_queue)
    if wait is not None:
        await _until_finished(handle, wait)
    termination = await termination_state(handle, terminate.conversation_id, with_progress=wait is not None)
    response.headers["Location"] = request.app.url_path_for("termination", conversationId=terminate.conversation_id)
    if termination.status != "running":
        response.status_code = status.HTTP_200_OK
    return termination


@router.get(
    "/{conversationId}",
    name="termination",
    operation_id="getTermination",
    summary="Read the termination of a conversation",
    response_model=Termination,
    responses=problem_responses(404, 422),
)
async def read(conversation_id: ConversationId, temporal: Temporal) -> Termination:
    """How far a termination got: its steps while it runs, its result once finished."""
    client = await temporal.client()
    handle = client.get_workflow_handle_for(TerminateConversation.run, workflow_id(conversation_id))
    try:
        return await termination_state(handle, conversation_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no termination of conversation {conversation_id}: start one with POST /v1/terminations",
    )


async def _until_finished(handle: TerminationHandle, seconds: float) -> None:
    # How it ended is read afterwards, with everything else; only "not yet" matters here.
    with contextlib.suppress(asyncio.TimeoutError, WorkflowFailureError):
        await asyncio.wait_for(handle.result(), seconds)
