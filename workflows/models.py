"""The termination workflow's input and result: its public contract, for every client language.

Workflow type ``TerminateConversation``, id ``terminate-{conversationId}``; the input is one JSON
object (camelCase, or snake_case from Python), the result one JSON object in camelCase: the JSON
Schemas in ``schemas/`` are generated from these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, field_validator
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.callback_config import origin_of

from .contract import InputModel, ResultModel, check_text, check_uuid
from .policies import DEFAULT_VERIFY_TIMEOUT_SECONDS

WORKFLOW_TYPE = "TerminateConversation"
#: Genesys's limit for a web messaging message.
GOODBYE_MAX_CHARS = 2000

WrapupOutcome = Literal["code", "skipped", "system", "none"]
Outcome = Literal["closed", "already_closed", "not_found", "not_web_messaging", "forced", "failed"]


#: What the schema promises of a callback URL (the validator says what is wrong with others).
CallbackUrl = Annotated[
    str, WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://[^/?#@]+", "maxLength": 2048})
]


def workflow_id(conversation_id: str) -> str:
    """One termination per conversation, whoever asks."""
    return f"terminate-{conversation_id}"


class TerminationOptions(InputModel):
    """How to end a conversation: shared by a termination request and a watch's closing."""

    #: A last message to the customer on the agent's communication, sent exactly once.
    goodbye: str | None = Field(default=None, json_schema_extra={"maxLength": GOODBYE_MAX_CHARS, "pattern": r"\S"})
    #: Wrap-up code id applied to agents who need one; without it, wrap-up is skipped where allowed.
    wrapup_code: str | None = Field(default=None, min_length=1)
    #: How long to wait for Genesys to confirm the end before the teardown fallback.
    verify_timeout_seconds: float = Field(default=DEFAULT_VERIFY_TIMEOUT_SECONDS, gt=0, le=3600)
    #: Whether the last-resort full teardown may be used.
    allow_teardown: bool = True
    #: Schedule deletion of the conversation's messaging transcript once it has ended.
    delete_transcript: bool = False
    #: Where to POST the result when the termination ends (a signed Standard Webhooks callback);
    #: its origin must be in the worker's CLOSER_CALLBACK_ALLOWED_ORIGINS. Without it, the worker's
    #: CLOSER_CALLBACK_URL, if set, gets the callback.
    callback_url: CallbackUrl | None = Field(default=None, max_length=2048)

    @field_validator("goodbye")
    @classmethod
    def _goodbye(cls, value: str | None) -> str | None:
        return check_text(value, "goodbye", GOODBYE_MAX_CHARS)

    @field_validator("callback_url")
    @classmethod
    def _callback_url(cls, value: str | None) -> str | None:
        if value is not None:
            origin_of(value)  # ValueError saying what is wrong with it
        return value


class ConversationTarget(InputModel):
    """Which conversation, through which of the worker's credentials profiles (never a secret)."""

    #: The Genesys conversation id (a UUID; the schema says so, for generated clients and fuzzers).
    conversation_id: str = Field(json_schema_extra={"format": "uuid"})
    #: The worker's Genesys credentials profile to use.
    profile: str = Field(default="default", min_length=1)

    @field_validator("conversation_id")
    @classmethod
    def _conversation_id(cls, value: str) -> str:
        return check_uuid(value)


# Bases in this order so that the conversation comes first in the schema and in error lists.
class TerminateRequest(TerminationOptions, ConversationTarget):
    """What to end and how."""

    #: Why (for operators, shown in the Temporal UI). Not sent to Genesys.
    reason: str | None = Field(default=None, max_length=500)


class StepRecord(ResultModel):
    """One step as it happened: what users see step by step."""

    name: str
    detail: str
    calls: int = 0
    at: datetime


class ParticipantOutcome(ResultModel):
    participant_id: str
    purpose: str | None = None
    #: disconnected: by its own PATCH; already_disconnected: Genesys had it gone already;
    #: closed: by the conversation-level disconnect; torn_down: by the teardown.
    action: Literal["disconnected", "already_disconnected", "closed", "torn_down"]
    #: code: wrap-up code applied; skipped: wrap-up skipped; system: Genesys's system wrap-up.
    wrapup: WrapupOutcome = "none"


class CallbackReport(ResultModel):
    """Whether and when the closure callback reached its receiver."""

    #: pending: being delivered (seen only in the progress query); not_configured: no URL in the
    #: request and none on the worker; failed: a 410 Gone, or no 2xx within 24 hours (see `error`).
    status: Literal["pending", "delivered", "failed", "not_configured"]
    #: The ``webhook-id`` every attempt carried: what receivers dedupe on. Null when not configured.
    event_id: str | None = None
    #: Attempts made: the one that got a 2xx, or the last that failed.
    attempts: int = 0
    #: When the receiver answered 2xx.
    delivered_at: datetime | None = None
    #: For `failed`: the last attempt's failure.
    error: str | None = None


class TerminateResult(ResultModel):
    conversation_id: str
    outcome: Outcome
    participants: list[ParticipantOutcome] = Field(default_factory=list)
    #: sent; already_sent (a retry found it delivered); agent_left; no_agent (bot-only: nobody to send it).
    goodbye: Literal["sent", "already_sent", "agent_left", "no_agent"] | None = None
    #: When a read of Genesys confirmed the end (``endTime`` set, nobody connected or in wrap-up).
    verified_at: datetime | None = None
    transcript_recordings_scheduled: int | None = None
    #: Genesys API calls made by completed steps (token requests excluded).
    api_calls: int = 0
    steps: list[StepRecord] = Field(default_factory=list)
    #: For `failed`: what went wrong and what to fix.
    error: str | None = None
    #: The closure callback's delivery (null only for runs from before callbacks existed). The
    #: callback's own payload carries the rest of the result, without this field.
    callback: CallbackReport | None = None


class TerminationFinished(ResultModel):
    """The closure callback's payload, in the Standard Webhooks shape."""

    type: Literal["termination.finished"] = "termination.finished"
    #: When the termination reached its outcome (the same on every delivery attempt).
    timestamp: datetime
    data: TerminateResult


class TerminateProgress(ResultModel):
    """Answer of the ``progress`` query."""

    conversation_id: str
    current_step: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    result: TerminateResult | None = None
