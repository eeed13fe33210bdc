"""The emulator's tunables: timings, limits and the switchable assumptions about Genesys."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MessagePlacement = Literal["sender", "customer"]
"""Whose `messages[]` lists a message (UNCONFIRMED in Genesys, see `message_placement`)."""


class EmulatorConfig(BaseModel):
    """Changeable at run time with `PUT /emulator/config` (a partial update).

    A change applies to what happens next (a disconnect already scheduled keeps its time), except
    `token_ttl_s`, which every token is checked against.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    disconnect_delay_s: float = Field(0.2, ge=0)
    """How long after a 202 a disconnect becomes visible."""
    end_delay_s: float = Field(0.3, ge=0)
    """How long after the last communication disconnects the conversation gets its `endTime`."""
    token_ttl_s: float = Field(86400, gt=0)
    """Lifetime of an access token from its issue (`expires_in`). Lowering it expires the tokens
    already out, before their advertised `expires_in`: they then answer 401 `bad.credentials`."""
    rate_limit_per_minute: int | None = Field(300, ge=1)
    """Requests per token in a sliding window (Genesys' default is 300 a minute); None turns it off."""
    rate_limit_window_s: float = Field(60.0, gt=0)
    """The window that limit counts in: Genesys' is a minute; tests shrink it to compress time."""
    wrapup_timeout_s: float | None = Field(None, ge=0)
    """After-call work ends with a system wrap-up after this long; None: it waits forever."""
    seed: int | None = None
    """Seeds the random source of fault rules with a `rate`, so a run is reproducible."""
    analytics_lag_s: float = Field(2.0, ge=0)
    """Analytics is near-real-time: the details query finds a conversation this long after it
    started, and shows its `conversationEnd` this long after it ended."""

    # UNCONFIRMED behaviours of the real API (see README "Assumptions").
    customer_disconnect_ends_conversation: bool = False
    """If true, disconnecting the customer disconnects every other participant too."""
    system_participants_accept_patch: bool = True
    """If false, the participant PATCH on an acd/workflow/ivr participant answers 400."""
    message_placement: MessagePlacement = "sender"
    """Whose `messages[]` (`MessageDetails`) in the conversation GETs lists a message: its sender's
    (the customer's on the customer, the agent's on the agent, the bot's on the workflow
    participant), or, with "customer", every message on the customer participant."""
    analytics_max_page_size: int = Field(100, ge=1)
    """The largest `paging.pageSize` the details query accepts; above it, 400."""
