"""Temporal workflow definitions: deterministic, no I/O."""

from .models import TerminateProgress, TerminateRequest, TerminateResult, workflow_id
from .terminate import TerminateConversation

__all__ = ["TerminateConversation", "TerminateProgress", "TerminateRequest", "TerminateResult", "workflow_id"]
