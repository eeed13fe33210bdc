"""Temporal workflow definitions: deterministic, no I/O.

The workflow classes load on first use: the sandbox re-imports a workflow's module and this
package for every workflow run, so importing the package must not execute every workflow module
(a termination would otherwise re-run the watch's and the sweep's module code too).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .models import TerminateProgress, TerminateRequest, TerminateResult, workflow_id
from .sweep_models import SweepRequest, SweepResult, sweep_id, sweep_schedule_id
from .watch_models import WatchRequest, WatchResult, WatchSettings, WatchStatus, watch_id

if TYPE_CHECKING:
    from .sweep import SweepStaleConversations
    from .terminate import TerminateConversation
    from .watch import WatchConversation

_WORKFLOWS = {
    "SweepStaleConversations": ".sweep",
    "TerminateConversation": ".terminate",
    "WatchConversation": ".watch",
}


def __getattr__(name: str) -> Any:
    module = _WORKFLOWS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


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
