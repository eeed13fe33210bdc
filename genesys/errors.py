"""Typed errors built from Genesys's ``ErrorBody``.

Each keeps what a caller and Genesys support need: the HTTP status, Genesys's error ``code``, its
``message``, the ``contextId`` (support asks for it) and, for 429, ``Retry-After``.
"""

from __future__ import annotations

import httpx


class GenesysError(Exception):
    """Genesys answered with an error, or could not be reached."""

    #: Whether trying the same request again later can succeed.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        context_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.context_id = context_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [f"{self.status or '-'} {self.code or type(self).__name__}: {self.message}"]
        if self.context_id:
            parts.append(f"(contextId {self.context_id})")
        return " ".join(parts)


class BadRequest(GenesysError):
    """400: the request is wrong for the conversation's current state or shape."""


class AuthenticationFailed(GenesysError):
    """401 even with a fresh token: the OAuth client id or secret is wrong."""


class PermissionDenied(GenesysError):
    """403: the OAuth client's roles lack a permission; the message names it."""


class NotFound(GenesysError):
    """404: no such conversation (or participant, communication, recording)."""


class Conflict(GenesysError):
    """409: a previous change to the same participant is still in flight."""

    retryable = True


class RateLimited(GenesysError):
    """429: over the per-token rate limit; wait ``retry_after`` seconds."""

    retryable = True


class ServerError(GenesysError):
    """5xx from Genesys."""

    retryable = True


class Unreachable(GenesysError):
    """No answer: connection refused, reset, or the request timed out."""

    retryable = True


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def error_from_response(response: httpx.Response) -> GenesysError:
    """Build the typed error for a non-2xx response from its ``ErrorBody``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    cls = _BY_STATUS.get(status)
    if cls is None:
        # 501 Not Implemented will not start working on a retry; other 5xx may.
        cls = ServerError if status >= 500 and status != 501 else GenesysError
    retry_after = _seconds(response.headers.get("Retry-After"))
    return cls(
        str(body.get("message") or response.reason_phrase or "no message"),
        status=status,
        code=body.get("code"),
        context_id=body.get("contextId") or response.headers.get("inin-correlation-id"),
        retry_after=retry_after,
    )


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
