"""The emulator's whole state, one instance per app: what every route handler works on."""

from __future__ import annotations

from typing import Any

from . import clock
from .auth import Auth
from .config import EmulatorConfig
from .faults import Faults, Holds, RateLimiter
from .guest import GuestHub
from .request_log import RequestLog
from .state import Conversation, ConversationStore


class Emulator:
    """Everything lives on the server's event loop thread: handlers never block and never run in
    a thread pool, so no locks are needed."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.auth = Auth()
        self.conversations = ConversationStore()
        self.faults = Faults(config.seed)
        self.holds = Holds()
        self.rate_limiter = RateLimiter()
        self.request_log = RequestLog()
        self.guests = GuestHub()

    def conversation(self, conversation_id: str, now: float | None = None) -> Conversation:
        """The conversation settled to `now` (default: this instant), or 404 `not.found`."""
        return self.conversations.get(conversation_id, clock.now() if now is None else now, self.config)

    def update_config(self, changes: dict[str, Any]) -> EmulatorConfig:
        """Partial update; an invalid change raises pydantic's ValidationError and changes nothing."""
        self.config = EmulatorConfig.model_validate({**self.config.model_dump(), **changes})
        if "seed" in changes:
            self.faults.reseed(self.config.seed)
        return self.config

    def shutdown(self) -> None:
        """Let every withheld response go, so the server can stop promptly."""
        self.holds.release_all()
