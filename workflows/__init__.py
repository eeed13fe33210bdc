"""Temporal workflow definitions: deterministic, no I/O."""

from .models import TerminateProgress, TerminateRequest, TerminateResult, workflow_id
from .terminate import TerminateConversation
from .watch import WatchConversation
from .watch_models import WatchRequest, WatchResult, WatchSettings, WatchStatus, watch_id

__all__ = [
    "TerminateConversation",
    "TerminateProgress",
    "TerminateRequest",
    "TerminateResult",
    "WatchConversation",
    "WatchRequest",
    "WatchResult",
    "WatchSettings",
    "WatchStatus",
    "watch_id",
    "workflow_id",
]
