"""The termination workflow's input and result: its public contract, for every client language.

Workflow type ``TerminateConversation``, id ``terminate-{conversationId}``; the payload is this
model as JSON (pydantic data converter), so a TypeScript, Go or Java client sends the same object.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .policies import DEFAULT_VERIFY_TIMEOUT_SECONDS

WORKFLOW_TYPE = "TerminateConversation"
#: Genesys's limit for a web messaging message.
GOODBYE_MAX_CHARS = 2000

WrapupOutcome = Literal["code", "skipped", "system", "none"]
Outcome = Literal["closed", "already_closed", "not_found", "not_web_messaging", "forced", "failed"]


def workflow_id(conversation_id: str) -> str:
    """One termination per conversation, whoever asks."""
    return f"terminate-{conversation_id}"


class TerminateRequest(BaseModel):
    """What to end and how. Names a credentials profile, never a secret."""

    conversation_id: str
    profile: str = "default"
    #: Why (for operators, shown in the Temporal UI). Not sent to Genesys.
    reason: str | None = None
    #: A last message to the customer on the agent's communication, sent exactly once.
    goodbye: str | None = None
    #: Wrap-up code id applied to agents who need one; without it, wrap-up is skipped where allowed.
    wrapup_code: str | None = None
    #: How long to wait for Genesys to confirm the end before the teardown fallback.
    verify_timeout_seconds: float = DEFAULT_VERIFY_TIMEOUT_SECONDS
    #: Whether the last-resort full teardown may be used.
    allow_teardown: bool = True
    #: Schedule deletion of the conversation's messaging transcript once it has ended.
    delete_transcript: bool = False

    def problems(self) -> list[str]:
        """What is wrong with this request, each saying what to fix; empty when it is fine.

        Checked at every edge (CLI, API, Python starter) and again by the workflow, which fails
        cleanly rather than letting a validation error retry its task forever.
        """
        found = []
        try:
            uuid.UUID(self.conversation_id)
        except ValueError:
            found.append(f"conversation id {self.conversation_id!r} is not a UUID (Genesys ids look like 3fa85f64-5717-4562-b3fc-2c963f66afa6)")
        if not self.profile:
            found.append("profile is empty: name a configured credentials profile (default: 'default')")
        if self.goodbye is not None and not self.goodbye.strip():
            found.append("goodbye is empty: give the text or leave it out")
        if self.goodbye is not None and len(self.goodbye) > GOODBYE_MAX_CHARS:
            found.append(f"goodbye is {len(self.goodbye)} characters: Genesys accepts at most {GOODBYE_MAX_CHARS}")
        if self.wrapup_code is not None and not self.wrapup_code.strip():
            found.append("wrap-up code is empty: give a wrap-up code id or leave it out")
        if not 0 < self.verify_timeout_seconds <= 3600:
            found.append("verify timeout must be between 0 and 3600 seconds")
        return found


class StepRecord(BaseModel):
    """One step as it happened: what users see step by step."""

    name: str
    detail: str
    calls: int = 0
    at: datetime


class ParticipantOutcome(BaseModel):
    participant_id: str
    purpose: str | None = None
    #: disconnected: by its own PATCH; already_disconnected: Genesys had it gone already;
    #: closed: by the conversation-level disconnect; torn_down: by the teardown.
    action: Literal["disconnected", "already_disconnected", "closed", "torn_down"]
    #: code: wrap-up code applied; skipped: wrap-up skipped; system: Genesys's system wrap-up.
    wrapup: WrapupOutcome = "none"


class TerminateResult(BaseModel):
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


class TerminateProgress(BaseModel):
    """Answer of the ``progress`` query."""

    conversation_id: str
    current_step: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    result: TerminateResult | None = None
