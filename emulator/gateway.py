"""The front door of every Genesys request, in the order Genesys' edge would apply things:

route match → injected fault (latency, error) → bearer token (401) → per-token rate limit (429) →
permission (403) → the operation → request log → held response (if a hold matches).

A fault or refusal happens before the operation, so it changes nothing.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from . import bodies, clock
from .core import Emulator
from .errors import CORRELATION_HEADER, GenesysError
from .state import Conversation


@dataclass
class Call:
    """One Genesys request on its way through the gateway."""

    emulator: Emulator
    request: Request
    params: dict[str, str]
    raw_body: bytes
    client_id: str | None = None
    log_body: object = None
    """What the request log shows as the body (for the token endpoint, only its grant_type)."""

    def json(self) -> object:
        """The parsed JSON body; 400 `bad.request` if it is not JSON."""
        return bodies.parse_json(self.raw_body)

    def conversation(self, now: float) -> Conversation:
        return self.emulator.conversation(self.params["conversationId"], now)


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True)
class GenesysRoute:
    method: str
    template: str
    """The SDK's path template, e.g. `/api/v2/conversations/{conversationId}`."""
    handler: Handler
    permissions: tuple[str, ...] | None
    """Any one of these is enough; None: no bearer token needed (the token endpoint)."""
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def dispatcher(routes: list[GenesysRoute]) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint that serves every non-admin HTTP path."""

    def match(method: str, path: str) -> tuple[GenesysRoute | None, dict[str, str]]:
        for route in routes:
            found = route.pattern.match(path) if route.method == method else None
            if found:
                return route, found.groupdict()
        return None, {}

    async def dispatch(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        route, params = match(request.method, request.url.path)
        call = Call(emulator, request, params, await request.body())
        call.client_id = emulator.auth.client_id_of(request.headers.get("authorization"))
        # Logged before anything can refuse the request, so a faulted one shows its body too.
        if route is None or route.permissions is not None:
            call.log_body = _loggable(call.raw_body)
        else:  # the token endpoint: never the form itself, it may carry a secret
            call.log_body = {"grant_type": bodies.form_grant_type(call.raw_body)}
        context_id = str(uuid.uuid4())
        try:
            response = await _answer(call, route)
        except GenesysError as error:
            response = error.to_response(context_id)
        response.headers[CORRELATION_HEADER] = context_id
        template = route.template if route else None
        emulator.request_log.append(
            method=request.method,
            path=request.url.path,
            route=template,
            query=dict(request.query_params),
            status=response.status_code,
            body=call.log_body,
            client_id=call.client_id,
        )
        hold = emulator.holds.match(request.method, template)
        if hold is not None:
            await hold.wait()
        return response

    return dispatch


async def _answer(call: Call, route: GenesysRoute | None) -> Response:
    emulator = call.emulator
    fault = emulator.faults.pick(
        call.request.method, route.template if route else None, call.params.get("conversationId")
    )
    if fault is not None:
        if fault.latency_s:
            await asyncio.sleep(fault.latency_s)
        error = fault.error()
        if error is not None:
            raise error
    if route is None:
        raise GenesysError(404, "not.found", f"No operation {call.request.method} {call.request.url.path}.")
    if route.permissions is not None:
        authorization = call.request.headers.get("authorization")
        token, client = emulator.auth.client_from_bearer(authorization, emulator.config.token_ttl_s)
        config = emulator.config
        emulator.rate_limiter.admit(token, clock.now(), config.rate_limit_per_minute, config.rate_limit_window_s)
        client.require_any(route.permissions)
    return await route.handler(call)


def _loggable(raw: bytes) -> object:
    try:
        return bodies.parse_json(raw)
    except GenesysError:
        return raw.decode(errors="replace")
