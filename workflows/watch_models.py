"""The watch workflow's input, settings, status and result: its public contract.

Workflow type ``WatchConversation``, id ``watch-{conversationId}``: one watch per conversation.
Input one JSON object (``WatchRequest``), camelCase or snake_case; result and status camelCase.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from .contract import InputModel, ResultModel, check_text
from .durations import Duration, check_within, format_duration
from .models import GOODBYE_MAX_CHARS, ConversationTarget, TerminateResult, TerminationOptions

WATCH_WORKFLOW_TYPE = "WatchConversation"
#: The longest idle period a watch takes: past that, a conversation is a sweep's business.
IDLE_MAX = timedelta(days=30)
#: The longest a conversation may be given to live (Genesys threads messages for at most 72 h).
MAX_DURATION_MAX = timedelta(days=30)

#: any: idle since the last message by anyone. awaiting_customer: idle since the agent's or bot's
#: last message, while the customer has not answered it (no countdown while the customer spoke last).
WatchMode = Literal["any", "awaiting_customer"]
WatchOutcome = Literal[
    "closed_idle", "closed_deadline", "ended_elsewhere", "cancelled", "not_found", "not_web_messaging"
]
WarningStatus = Literal["sent", "already_sent", "skipped"]


def watch_id(conversation_id: str) -> str:
    """One watch per conversation, whoever asks."""
    return f"watch-{conversation_id}"


class WatchSettings(InputModel):
    """What a watch does: everything here can be changed while it runs."""

    #: Close after this long without activity (90s, 15m, 24h; at most 30 days).
    idle: Duration
    mode: WatchMode = "any"
    #: "Are you still there?": sent once per idle period, ``warnBefore`` ahead of the close.
    warning: str | None = None
    #: How long before the close the warning goes out (the customer's time to answer it).
    warn_before: Duration | None = None
    #: Close this long after the conversation started, whatever its activity.
    max_duration: Duration | None = None
    #: Close at this time, whatever its activity (ISO 8601 with a time zone).
    deadline: AwareDatetime | None = None
    #: How to close: the termination's options.
    close: TerminationOptions = Field(default_factory=TerminationOptions)

    @field_validator("idle")
    @classmethod
    def _idle(cls, value: timedelta) -> timedelta:
        return check_within(value, IDLE_MAX)

    @field_validator("max_duration")
    @classmethod
    def _max_duration(cls, value: timedelta | None) -> timedelta | None:
        return None if value is None else check_within(value, MAX_DURATION_MAX)

    @field_validator("warning")
    @classmethod
    def _warning(cls, value: str | None) -> str | None:
        return check_text(value, "warning", GOODBYE_MAX_CHARS)

    @model_validator(mode="after")
    def _warning_lead(self) -> WatchSettings:
        if self.warning is not None and self.warn_before is None:
            raise ValueError("warnBefore: required with a warning (how long before the close it goes out, e.g. 2m)")
        if self.warn_before is not None:
            if self.warning is None:
                raise ValueError(
                    "warnBefore: given without a warning: give the warning text too, or leave warnBefore out"
                )
            if not timedelta(0) < self.warn_before < self.idle:
                raise ValueError(
                    f"warnBefore ({format_duration(self.warn_before)}) must be more than 0 and shorter than "
                    f"idle ({format_duration(self.idle)})"
                )
        return self


# Bases in this order so that the conversation comes first in the schema and in error lists.
class WatchRequest(WatchSettings, ConversationTarget):
    """Watch a conversation: close it once idle, or at its deadline."""


class WatchSettingsBody(WatchSettings):
    """The HTTP API's body for a watch: the settings, and the credentials profile (the
    conversation is in the path)."""

    profile: str = Field(default="default", min_length=1)


class WarningRecord(ResultModel):
    at: datetime
    status: WarningStatus
    #: For `skipped`: why (e.g. no connected agent to send it).
    reason: str | None = None


class WatchStatus(ResultModel):
    """Answer of the ``status`` query (and the HTTP API's watch resource)."""

    conversation_id: str
    #: waiting (a timer), reading, warning, closing, finished.
    state: Literal["waiting", "reading", "warning", "closing", "finished"] = "waiting"
    settings: WatchSettings | None = None
    #: When the next timer fires: the watch then reads Genesys (or closes at the deadline).
    due_at: datetime | None = None
    #: What is due then: a warning, the close, or only a look (the customer spoke last).
    due: Literal["warning", "close", "deadline", "check"] | None = None
    #: The latest activity known: a message seen by a read, or a touch.
    last_activity_at: datetime | None = None
    #: When the conversation started (from the first read).
    started_at: datetime | None = None
    warnings: list[WarningRecord] = Field(default_factory=list)
    reads: int = 0
    touches: int = 0
    #: Genesys calls made by the watch itself (its termination's are in its result).
    api_calls: int = 0


class WatchResult(ResultModel):
    conversation_id: str
    outcome: WatchOutcome
    #: The termination the watch ran (closed_idle, closed_deadline), as TerminateResult.
    termination: TerminateResult | None = None
    last_activity_at: datetime | None = None
    warnings: list[WarningRecord] = Field(default_factory=list)
    reads: int = 0
    touches: int = 0
    api_calls: int = 0


class WatchMemory(InputModel):
    """What a watch knows, carried across continue-as-new as its second argument (internal:
    a caller starts a watch with the request alone)."""

    started_at: datetime | None = None
    #: The latest read: when, the latest message it saw, and where its idle countdown starts
    #: (None while the customer spoke last in mode awaiting_customer).
    read_at: datetime | None = None
    last_message_at: datetime | None = None
    read_idle_since: datetime | None = None
    touched_at: datetime | None = None
    #: The idle period (by its start) that has had its warning, and when it went out.
    warned_for: datetime | None = None
    warned_at: datetime | None = None
    #: closer's own warning messages: not activity.
    warning_message_ids: list[str] = Field(default_factory=list)
    warnings: list[WarningRecord] = Field(default_factory=list)
    reads: int = 0
    touches: int = 0
    api_calls: int = 0
