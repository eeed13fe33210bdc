"""Genesys errors: the `ErrorBody` JSON every failing Genesys call answers with.

Handlers raise `GenesysError`; the gateway turns it into a response whose `contextId` is also sent
as the `inin-correlation-id` header (Genesys support asks for that id).
"""

from __future__ import annotations

from starlette.responses import JSONResponse

CORRELATION_HEADER = "inin-correlation-id"

# The code Genesys uses for each status when nothing more specific applies.
DEFAULT_CODES: dict[int, str] = {
    400: "bad.request",
    401: "bad.credentials",
    403: "missing.any.permissions",
    404: "not.found",
    # UNCONFIRMED: the real code of a 409 on a participant change in flight is undocumented.
    409: "conflict",
    429: "too.many.requests",
    500: "internal.server.error",
    503: "service.unavailable",
    504: "request.timeout",
}

_DEFAULT_MESSAGES: dict[int, str] = {
    400: "The request could not be understood by the server due to malformed syntax.",
    401: "Invalid login credentials.",
    403: "You are not authorized to perform the requested action.",
    404: "The requested resource was not found.",
    409: "The request could not be completed due to a conflict with the current state.",
    429: "Rate limit exceeded the maximum. Retry the request in a few seconds.",
    500: "The server encountered an unexpected condition.",
    503: "Service Unavailable - The server is currently unavailable (because it is overloaded "
    "or down for maintenance).",
    504: "The request timed out.",
}


class GenesysError(Exception):
    """A failure answered as `ErrorBody`.

    `message_params` fills `messageWithParams`: each `{name}` in it is a key of the params, the way
    Genesys writes it.
    """

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        message_with_params: str | None = None,
        message_params: dict[str, str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.code = code or DEFAULT_CODES.get(status, "bad.request" if status < 500 else "internal.server.error")
        self.message = message or _DEFAULT_MESSAGES.get(status, self.code)
        self.message_with_params = message_with_params
        self.message_params = message_params
        self.retry_after = retry_after
        super().__init__(f"{status} {self.code}: {self.message}")

    def to_response(self, context_id: str) -> JSONResponse:
        body: dict[str, object] = {"message": self.message, "code": self.code, "status": self.status}
        if self.message_with_params is not None:
            body["messageWithParams"] = self.message_with_params
            body["messageParams"] = self.message_params or {}
        body.update({"contextId": context_id, "details": [], "errors": []})
        headers = {CORRELATION_HEADER: context_id}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return JSONResponse(body, status_code=self.status, headers=headers)


def bad_request(message: str, code: str = "bad.request") -> GenesysError:
    return GenesysError(400, code, message)


def not_found(what: str) -> GenesysError:
    return GenesysError(404, "not.found", f"{what} not found.")
