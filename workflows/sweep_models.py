"""The sweep workflow's input and result: its public contract.

Workflow type ``SweepStaleConversations``: find the open web messaging conversations nobody
watches (the analytics details query) and start a watch, with the sweep's policy, for each.
Manual runs have id ``sweep-{profile}`` (one at a time); a Temporal Schedule runs it every few
minutes (id ``closer-sweep-{profile}``, overlap policy skip).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from .contract import InputModel, ResultModel
from .durations import Duration, check_within
from .watch_models import WatchSettings

SWEEP_WORKFLOW_TYPE = "SweepStaleConversations"
#: Genesys threads a customer's messages back into a conversation for up to 72 h: one that started
#: earlier and is still open has been forgotten by everyone.
DEFAULT_LOOKBACK = timedelta(hours=72)
LOOKBACK_MAX = timedelta(days=30)
#: The largest page of the details query (Genesys' maximum is UNCONFIRMED; 100 is commonly used).
PAGE_SIZE_MAX = 100
#: Each watch started reads Genesys at once: 60 a minute leaves most of a token's 300 to the rest.
DEFAULT_STARTS_PER_MINUTE = 60
#: 20 a second: beyond it a page's reads would crowd out every termination on the same token.
STARTS_PER_MINUTE_MAX = 1200


def sweep_id(profile: str) -> str:
    """The workflow id of a manual sweep: one at a time per profile."""
    return f"sweep-{profile}"


def sweep_schedule_id(profile: str) -> str:
    """The default id of a profile's sweep schedule."""
    return f"closer-sweep-{profile}"


class SweepRequest(WatchSettings):
    """Sweep one profile's org: every open web messaging conversation that started within
    ``lookback`` and has no watch gets one, with this policy (``idle`` and the rest, as a watch)."""

    #: The worker's Genesys credentials profile: the org to sweep, and the watches' profile.
    profile: str = Field(default="default", min_length=1)
    #: The analytics interval reaches back this far: conversations that started in it.
    lookback: Duration = DEFAULT_LOOKBACK
    #: Conversations per analytics page (one Genesys call each).
    page_size: int = Field(default=PAGE_SIZE_MAX, ge=1, le=PAGE_SIZE_MAX)
    #: Watches started per minute at most: each reads Genesys at once, from the same budget.
    starts_per_minute: int = Field(default=DEFAULT_STARTS_PER_MINUTE, ge=1, le=STARTS_PER_MINUTE_MAX)
    #: Not for a sweep (see below): out of its schema and its JSON.
    deadline: SkipJsonSchema[AwareDatetime | None] = Field(default=None, exclude=True)

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, value: timedelta) -> timedelta:
        return check_within(value, LOOKBACK_MAX)

    @model_validator(mode="after")
    def _no_deadline(self) -> SweepRequest:
        # On a schedule, one time would close every conversation swept after it at its first read.
        if self.deadline is not None:
            raise ValueError(
                "deadline: a sweep takes no absolute deadline (it would apply to every run): use maxDuration"
            )
        return self

    def watch_input(self, conversation_id: str) -> dict[str, object]:
        """The input of the watch this sweep starts for a conversation (a ``WatchRequest``, JSON)."""
        settings = self.model_dump(mode="json", include=set(WatchSettings.model_fields), exclude_none=True)
        return {"conversationId": conversation_id, "profile": self.profile, **settings}


class SweepResult(ResultModel):
    profile: str
    #: The analytics interval: conversations that started in it (its end fixed when the sweep began).
    interval_start: datetime
    interval_end: datetime
    #: Matches the first query counted (open web messaging conversations, analytics' view).
    total_hits: int = 0
    #: Conversations the pages nominated (each once).
    candidates: int = 0
    #: Candidates that had a watch already: running, or finished (a finished watch is not
    #: restarted unless it failed: its conversation ended, or an operator cancelled it).
    already_watched: int = 0
    watches_started: int = 0
    pages: int = 0
    #: Genesys calls made by the sweep itself (the queries); each watch reports its own.
    api_calls: int = 0


class SweepMemory(InputModel):
    """Where a sweep is, carried across continue-as-new as its second argument (internal: a caller
    starts a sweep with the request alone)."""

    #: The page to process next; None until the first query has counted the pages. Pages go from
    #: the last to the first (see the workflow).
    page: int | None = None
    pages_total: int = 0
    #: The previous page's conversations: a conversation that ends shifts the pages after it, and
    #: brings one from the page processed before into the next.
    previous_page: list[str] = Field(default_factory=list)
    #: The totals so far, and the interval (its end fixed by the first run, so that every page is
    #: of the same query).
    result: SweepResult
