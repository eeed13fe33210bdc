"""What the API's resources share about reading a workflow run from Temporal."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionDescription, WorkflowFailureError, WorkflowQueryFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError

#: A query unanswered this long means no worker has the workflow: the resource is shown without it.
QUERY_TIMEOUT = timedelta(seconds=2)
#: What a query raises when no worker answers it (or the run closed meanwhile).
UNANSWERED = (RPCError, WorkflowQueryFailedError)


def failure_text(failure: WorkflowFailureError, description: WorkflowExecutionDescription) -> str:
    """Why a run failed as a workflow, e.g. ``workflow terminated: operator: wrong conversation``."""
    how = description.status.name.lower() if description.status else "failed"
    cause = failure.cause
    message = cause.message if isinstance(cause, FailureError) else str(cause)  # without the type's name
    return f"workflow {how}: {message}"
