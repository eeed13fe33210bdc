"""Starting, joining and watching terminations from Python."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime

from workflows import (
    TerminateConversation,
    TerminateRequest,
    TerminateResult,
    search_attributes,
    workflow_id,
)
from workflows.contract import InvalidInput, parse

from .converter import data_converter
from .settings import SettingsError, TemporalSettings
from .tracing import tracing_interceptors

__all__ = [
    "CannotConnect",
    "InvalidInput",
    "Termination",
    "connect",
    "start_or_join",
    "start_termination",
    "terminate",
    "termination_request",
]


def termination_request(request: TerminateRequest | Mapping[str, Any]) -> TerminateRequest:
    """A request as a model: a mapping (camelCase or snake_case) is validated, InvalidInput if bad."""
    return request if isinstance(request, TerminateRequest) else parse(TerminateRequest, dict(request))


class CannotConnect(RuntimeError):
    """Temporal cannot be reached with these settings: one line saying what to fix.

    A RuntimeError, as the SDK's own connection errors are, so callers catching those catch it too.
    """


async def connect(
    settings: TemporalSettings, *, timeout: float | None = None, runtime: Runtime | None = None, service: str = "closer"
) -> Client:
    """A Temporal client that speaks the workflows' pydantic models, as ``settings`` describe it
    (address, namespace, API key, TLS/mTLS: ``TemporalSettings.from_env``, through envconfig).

    Every failure is a CannotConnect whose message is one line saying what to fix: settings that
    cannot work (a missing certificate file, a malformed address), an address nobody answers, a
    TLS mismatch, refused credentials. With ``timeout``, give up rather than keep waiting.

    ``runtime``: the Temporal runtime (one serving Prometheus metrics: closer.metrics), else the
    default. With an OTLP endpoint configured the client traces (closer.tracing), as ``service``.
    """
    try:
        options = settings.connect_options()
    except SettingsError as error:
        raise CannotConnect(str(error)) from None
    try:
        connecting = Client.connect(
            **options,
            data_converter=data_converter,
            interceptors=tracing_interceptors(service),
            runtime=runtime,
        )
        return await asyncio.wait_for(connecting, timeout)
    except asyncio.TimeoutError:
        raise CannotConnect(
            f"no answer from Temporal at {settings.address} within {timeout:g} s: check {settings.source('address')} "
            "and that this machine can reach it"
        ) from None
    except (RuntimeError, ValueError, OSError) as error:
        raise CannotConnect(connection_problem(settings, error)) from None


def connection_problem(settings: TemporalSettings, error: BaseException) -> str:
    """The SDK's connection error (a Rust transport error's Debug text, mostly) as what to fix."""
    text = str(error)
    address, where = settings.address, settings.source("address")
    reason = short_reason(text)
    if "dns error" in text:
        return f"cannot reach Temporal at {address}: no such host ({reason}): fix {where}"
    if "tcp connect error" in text or "Connection refused" in text:
        fix = (
            "set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) to a running one"
            if where == "TEMPORAL_ADDRESS"
            else f"fix {where}"
        )
        return f"cannot reach Temporal at {address} ({reason}): start a server or {fix}"
    if "InvalidContentType" in text or "InvalidMessage" in text:
        return (
            f"TLS handshake with Temporal at {address} failed, the server does not speak TLS there: for a server "
            f"without TLS set TEMPORAL_TLS=false (TLS is on with {'an API key' if settings.api_key else 'TLS settings'})"
        )
    if any(
        marker in text for marker in ("InvalidCertificate", "UnknownIssuer", "NotValidForName", "certificate verify")
    ):
        return (
            f"TLS with Temporal at {address}: its certificate is not trusted ({reason}): set "
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA (or TEMPORAL_TLS_SERVER_NAME to the name it holds)"
        )
    if any(marker in text for marker in ("PrivateKeyParse", "CertificateParse", "PEM")):
        return (
            f"the client certificate or key for Temporal at {address} cannot be used ({reason}): check "
            f"{settings.source('client_cert')} and {settings.source('client_private_key')} (PEM, a matching pair)"
        )
    if any(marker in text for marker in ("Unauthenticated", "PermissionDenied", "unauthorized", "Unauthorized")):
        return (
            f"Temporal at {address} refused the credentials ({reason}): check TEMPORAL_API_KEY (or the client "
            f"certificate) and that it is allowed in namespace {settings.namespace!r}"
        )
    if isinstance(error, ValueError):
        return f"{where}={address!r} cannot be used ({reason}): give host:port, e.g. localhost:7233"
    return f"cannot connect to Temporal at {address} ({reason}): check {where} and the TLS settings"


def short_reason(text: str) -> str:
    """The useful part of a transport error: its message, else the text without the SDK's prefixes."""
    quoted = re.findall(r'(?:message|error): "([^"]+)"', text)
    if quoted:
        return quoted[-1][:1].lower() + quoted[-1][1:]
    short = text.replace("Failed client connect: ", "").replace("Server connection error: ", "")
    return short if len(short) <= 160 else short[:157] + "..."


async def start_termination(
    client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str
) -> WorkflowHandle[TerminateConversation, TerminateResult]:
    """Start the termination of a conversation, or join the one already running or finished.

    One workflow per conversation (id ``terminate-{conversationId}``): a second start while one
    runs joins it, and after it finished returns it rather than running it again, unless it
    ended `failed` (a missing permission, say): then, the cause perhaps fixed, it runs again.
    """
    return (await start_or_join(client, request, task_queue=task_queue)).handle


@dataclass(frozen=True)
class Termination:
    """What :func:`start_or_join` found: the workflow, and its result if it had already finished."""

    handle: WorkflowHandle[TerminateConversation, TerminateResult]
    #: The result of a termination that had finished before this start (and so was not run again).
    finished: TerminateResult | None = None


async def start_or_join(
    client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str
) -> Termination:
    """:func:`start_termination`, also telling a termination that had already finished (with its
    result) from one started or joined now: a batch reports those as already done."""
    request = termination_request(request)
    try:
        return Termination(await _start(client, request, task_queue, WorkflowIDReusePolicy.REJECT_DUPLICATE))
    except WorkflowAlreadyStartedError:
        pass
    finished = client.get_workflow_handle_for(TerminateConversation.run, workflow_id(request.conversation_id))
    try:
        result = await finished.result()
        if result.outcome != "failed":
            return Termination(finished, result)
    except WorkflowFailureError:
        pass  # failed as a workflow (terminated by an operator, say): run it again as well
    return Termination(await _start(client, request, task_queue, WorkflowIDReusePolicy.ALLOW_DUPLICATE))


async def _start(
    client: Client, request: TerminateRequest, task_queue: str, reuse: WorkflowIDReusePolicy
) -> WorkflowHandle[TerminateConversation, TerminateResult]:
    summary = f"Terminate {request.conversation_id}" + (f": {request.reason}" if request.reason else "")
    return await client.start_workflow(
        TerminateConversation.run,
        request,
        id=workflow_id(request.conversation_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=reuse,
        static_summary=summary,
        search_attributes=search_attributes.at_start(request.conversation_id, request.profile),
    )


async def terminate(
    client: Client, request: TerminateRequest | Mapping[str, Any], *, task_queue: str
) -> TerminateResult:
    """Start (or join) the termination and wait for its result."""
    handle = await start_termination(client, request, task_queue=task_queue)
    return await handle.result()
