"""What can go wrong between a client and Genesys: injected errors and latency, the per-token
rate limit, and held responses (the request took effect, the client never heard back)."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import GenesysError


class FaultRule(BaseModel):
    """`POST /emulator/faults`. Matches on method and route template (both optional); applies
    before any effect, so a faulted request changes nothing."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    route: str | None = None
    """The SDK path template, e.g. `/api/v2/conversations/{conversationId}`, or `/oauth/token`."""
    status: int | None = Field(None, ge=400, le=599)
    """None: a latency-only rule, the request then proceeds normally."""
    code: str | None = None
    message: str | None = None
    count: int | None = Field(None, ge=1)
    """Fire on the next `count` matching requests only (None: no limit)."""
    rate: float | None = Field(None, ge=0, le=1)
    """Fire with this probability (seeded by config `seed`); None: always."""
    conversation_id: str | None = None
    """Only requests about this conversation (so concurrent work elsewhere is left alone)."""
    latency_s: float = Field(0, ge=0)
    retry_after: int | None = Field(None, ge=1)
    """`Retry-After` seconds on the error; a 429 gets 1 when unset."""

    @model_validator(mode="after")
    def _does_something(self) -> FaultRule:
        if self.status is None and not self.latency_s:
            raise ValueError("a fault needs a status, a latency_s, or both")
        return self

    def matches(self, method: str, route: str | None, conversation_id: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.route is None or self.route == route)
            and (self.conversation_id is None or self.conversation_id == conversation_id)
        )

    def error(self) -> GenesysError | None:
        if self.status is None:
            return None
        retry_after = self.retry_after if self.retry_after is not None else (1 if self.status == 429 else None)
        return GenesysError(self.status, self.code, self.message, retry_after=retry_after)


@dataclass
class _ActiveFault:
    rule: FaultRule
    remaining: int | None


class Faults:
    def __init__(self, seed: int | None) -> None:
        self._rules: dict[str, _ActiveFault] = {}
        self._random = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> str:
        fault_id = str(uuid.uuid4())
        self._rules[fault_id] = _ActiveFault(rule, rule.count)
        return fault_id

    def remove(self, fault_id: str) -> bool:
        return self._rules.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()

    def listing(self) -> list[dict[str, object]]:
        return [
            {"id": fault_id, "remaining": active.remaining, **active.rule.model_dump(exclude_none=True)}
            for fault_id, active in self._rules.items()
        ]

    def pick(self, method: str, route: str | None, conversation_id: str | None = None) -> FaultRule | None:
        """The first matching rule that fires for this request (spending one of its `count`)."""
        for fault_id, active in list(self._rules.items()):
            rule = active.rule
            if not rule.matches(method, route, conversation_id):
                continue
            if rule.rate is not None and self._random.random() >= rule.rate:
                continue
            if active.remaining is not None:
                active.remaining -= 1
                if active.remaining == 0:
                    del self._rules[fault_id]
            return rule
        return None


class HoldRule(BaseModel):
    """`POST /emulator/holds`."""

    model_config = ConfigDict(extra="forbid")

    method: str
    route: str
    count: int = Field(1, ge=1)
    """How many matching requests to hold."""
    timeout_s: float | None = Field(None, gt=0)
    """Let a held response go after this long even without a release."""


@dataclass
class Hold:
    """Matching requests are fully processed (effect applied, logged); their responses wait for
    `release()`. This is how a test kills a worker after Genesys accepted its request but before
    the worker saw the answer."""

    id: str
    rule: HoldRule
    matched: int = 0
    engaged: int = 0
    released: bool = False
    _release: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def status(self) -> dict[str, object]:
        return {"id": self.id, "engaged": self.engaged, "matched": self.matched, "released": self.released}

    def release(self) -> None:
        self.released = True
        self._release.set()

    async def wait(self) -> None:
        self.engaged += 1
        try:
            await asyncio.wait_for(self._release.wait(), self.rule.timeout_s)
        except asyncio.TimeoutError:
            pass
        finally:
            self.engaged -= 1


class Holds:
    def __init__(self) -> None:
        self._holds: dict[str, Hold] = {}

    def add(self, rule: HoldRule) -> Hold:
        hold = Hold(str(uuid.uuid4()), rule)
        self._holds[hold.id] = hold
        return hold

    def get(self, hold_id: str) -> Hold | None:
        return self._holds.get(hold_id)

    def match(self, method: str, route: str | None) -> Hold | None:
        for hold in self._holds.values():
            rule = hold.rule
            if hold.released or hold.matched >= rule.count:
                continue
            if rule.method.upper() == method and rule.route == route:
                hold.matched += 1
                return hold
        return None

    def release_all(self) -> None:
        """On shutdown: no response stays withheld."""
        for hold in self._holds.values():
            hold.release()


class RateLimiter:
    """Genesys' per-token limit: at most `limit` requests in any window (a minute in Genesys)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def admit(self, token: str, now: float, limit: int | None, window_s: float = 60.0) -> None:
        """Count this request, or raise 429 with `Retry-After` = seconds until a slot frees."""
        if limit is None:
            return
        seen = self._seen.setdefault(token, deque())
        while seen and seen[0] <= now - window_s:
            seen.popleft()
        if len(seen) >= limit:
            frees_at = seen[len(seen) - limit] + window_s
            raise GenesysError(
                429,
                "too.many.requests",
                f"Rate limit exceeded the maximum [{limit}] requests within [{window_s:g}] seconds.",
                retry_after=max(1, math.ceil(frees_at - now)),
            )
        seen.append(now)
