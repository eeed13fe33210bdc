"""How Genesys errors become Temporal retries or failures.

429 waits exactly ``Retry-After`` through Temporal's retry (``next_retry_delay``), never a sleep in
the activity; 409, 5xx and timeouts retry with the policy's backoff; 400, 401 (after one token
refresh), 403 and 404 fail at once with a message that says what to fix.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from genesys import GenesysError, PermissionDenied, RateLimited, UnknownProfile

# Error types a step raises that no retry can fix: the workflow turns them into outcome `failed`.
NON_RETRYABLE_TYPES = (
    "BadRequest",
    "AuthenticationFailed",
    "PermissionDenied",
    "NotFound",
    "GenesysError",
    "UnknownProfile",
)


def application_error(error: GenesysError, step: str) -> ApplicationError:
    message = f"{step}: {error}"
    if isinstance(error, PermissionDenied):
        message += " Grant the OAuth client's role the permission named above."
    details = {"status": error.status, "code": error.code, "contextId": error.context_id}
    if isinstance(error, RateLimited):
        return ApplicationError(
            message,
            details,
            type="RateLimited",
            next_retry_delay=timedelta(seconds=error.retry_after or 1),
        )
    return ApplicationError(message, details, type=type(error).__name__, non_retryable=not error.retryable)


def unknown_profile_error(error: UnknownProfile) -> ApplicationError:
    return ApplicationError(str(error), type="UnknownProfile", non_retryable=True)


def still_changing(step: str, what: str, cause: GenesysError | None = None) -> ApplicationError:
    """The remote state has not caught up yet (a change in flight): try again shortly.

    With ``cause`` (the 409), its status, code and contextId go along, as for any Genesys error.
    """
    details = [{"status": cause.status, "code": cause.code, "contextId": cause.context_id}] if cause else []
    return ApplicationError(f"{step}: {what}", *details, type="StillChanging", next_retry_delay=timedelta(seconds=1))
