"""The steps of a watch: read a conversation's latest activity, send the warning, join a termination.

What these return lands in workflow histories: times, ids and counts, never message text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import WorkflowFailureError

from genesys import NotFound

from .heartbeat import heartbeating
from .models import WEB_MESSAGING, ConversationRef, GoodbyeInput, GoodbyeResult, StepResult
from .steps import GenesysActivities, genesys_step

# Participant states in which a message participant is gone for good.
GONE_STATES = frozenset({"disconnected", "terminated"})


class ActivityReadInput(ConversationRef):
    mode: Literal["any", "awaiting_customer"] = "any"
    #: closer's own messages (its warnings): not activity.
    ignore_message_ids: list[str] = Field(default_factory=list)


class ActivityReadResult(StepResult):
    found: bool = True
    web_messaging: bool = True
    #: Every participant has left: the conversation ended, by whatever means.
    ended: bool = False
    started_at: datetime | None = None
    #: The latest message by anyone (closer's own excepted), or None if there is none.
    last_message_at: datetime | None = None
    #: When the idle countdown started by the mode's rule; None while it does not count down
    #: (mode awaiting_customer and the customer spoke last).
    idle_since: datetime | None = None


class JoinTerminationInput(BaseModel):
    workflow_id: str


class WatchActivities(GenesysActivities):
    """A watch's steps; the termination's own steps are TerminationActivities."""

    @genesys_step("read activity")
    async def read_activity(self, request: ActivityReadInput) -> ActivityReadResult:
        """``GET /api/v2/conversations/messages/{id}``: the latest ``messageTime``; one call, or two
        in mode awaiting_customer when there is a message (its direction, from the bulk read)."""
        client = self._client(request)
        try:
            conversation = await client.get_message_conversation(request.conversation_id)
        except NotFound:
            return ActivityReadResult(found=False, web_messaging=False)
        participants = conversation.participants
        starts = [p.start_time for p in participants if p.start_time is not None]
        result = ActivityReadResult(
            web_messaging=any(p.type == WEB_MESSAGING for p in participants),
            ended=bool(participants) and all(p.state in GONE_STATES for p in participants),
            started_at=min(starts) if starts else None,
        )
        ignored = set(request.ignore_message_ids)
        messages = [
            (m.message_time, m.message_id)
            for p in participants
            for m in p.messages
            if m.message_time is not None and m.message_id not in ignored
        ]
        if not messages:
            # Nobody has written yet: idle since the conversation started.
            result.idle_since = result.started_at
            return result
        last_at, last_id = max(messages)
        result.last_message_at = result.idle_since = last_at
        if request.mode == "awaiting_customer" and last_id is not None:
            # Whose message it is: the bulk read's direction is authoritative (which participant a
            # message is listed under is not documented). The text it returns stays here.
            last = await client.get_message_texts(request.conversation_id, [last_id])
            if last and last[0].direction == "inbound":
                result.idle_since = None  # the customer spoke last: the agent's turn, no countdown
        return result

    @genesys_step("send warning")
    async def send_warning(self, warning: GoodbyeInput) -> GoodbyeResult:
        """The "are you still there?" message, on the agent's communication, exactly once."""
        return await self._send_once(warning)

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every step of a watch, for ``Worker(activities=...)``."""
        return [self.read_activity, self.send_warning, join_termination]


@activity.defn(name="join termination")
@heartbeating
async def join_termination(request: JoinTerminationInput) -> dict[str, Any] | None:
    """Wait for a termination that was already running when the watch came to close.

    A child workflow cannot join a running workflow, so this waits for it through the worker's
    own Temporal client. Its result as JSON (the workflow reads it as TerminateResult), or None if
    that run failed as a workflow: the watch then starts the termination again.
    """
    handle = activity.client().get_workflow_handle(request.workflow_id)
    try:
        return await handle.result()
    except WorkflowFailureError:
        return None
