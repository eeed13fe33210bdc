"""Temporal workflow definitions: deterministic, no I/O."""

from .models import TerminateProgress, TerminateRequest, TerminateResult, workflow_id
from .sweep import SweepStaleConversations
from .sweep_models import SweepRequest, SweepResult, sweep_id, sweep_schedule_id
from .terminate import TerminateConversation
from .watch import WatchConversation
from .watch_models import WatchRequest, WatchResult, WatchSettings, WatchStatus, watch_id

__all__ = [
    "SweepRequest",
    "SweepResult",
    "SweepStaleConversations",
    "TerminateConversation",
    "TerminateProgress",
    "TerminateRequest",
    "TerminateResult",
    "WatchConversation",
    "WatchRequest",
    "WatchResult",
    "WatchSettings",
    "WatchStatus",
    "sweep_id",
    "sweep_schedule_id",
    "watch_id",
    "workflow_id",
]
