"""closer's logs: plain text or JSON lines, and one line per failed activity attempt.

``CLOSER_LOG_FORMAT`` (``text``, the default, or ``json``) chooses the format of every log line the
worker, ``closer api`` and the CLI write on stderr. JSON lines carry ``time``, ``level``,
``logger``, ``message``, and the structured fields of the line (a failed attempt's ``step``,
``conversationId``, ``status``, ``code``, ``contextId``, ...); an unexpected exception's traceback
is the ``exception`` field of its one line.

A failed activity attempt is logged once, by :class:`FailedAttemptLog` (a worker interceptor), as
one line naming the step, the conversation, Genesys's status, code and contextId. The Temporal
SDK's own "Completing activity as failed" record, with a full traceback per retry, is dropped for
those errors; any other exception (a bug) keeps its traceback.

Nothing here logs a request body, a goodbye, a customer text, a token or a secret: the fields are
ids, step names, statuses and Genesys's error codes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

LOG_FORMAT_VARIABLE = "CLOSER_LOG_FORMAT"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The logger of the one line per failed activity attempt.
ATTEMPTS_LOGGER = "closer.attempts"
#: Where the Temporal SDK's core (Rust) log lines are forwarded, so they take the same format.
CORE_LOGGER = "temporalio.core"

_attempts = logging.getLogger(ATTEMPTS_LOGGER)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What every LogRecord has: anything else on a record is a structured field (``extra``).
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Extras not worth a field: the core log entry object (its text is already in the message).
_SKIPPED_EXTRAS = frozenset({"temporal_log"})


class LogFormatError(ValueError):
    """``CLOSER_LOG_FORMAT`` names no known format."""


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """``text`` or ``json``, from ``CLOSER_LOG_FORMAT``; LogFormatError saying what to set otherwise."""
    value = (os.environ if environ is None else environ).get(LOG_FORMAT_VARIABLE, "").strip().lower() or "text"
    if value not in FORMATS:
        raise LogFormatError(f"{LOG_FORMAT_VARIABLE} is {value!r}: set it to text or json (or leave it unset for text)")
    return value


def configure_logging(level: int = logging.INFO, environ: Mapping[str, str] | None = None) -> str:
    """Log to stderr in the configured format at ``level``; returns the format.

    Replaces the root logger's handlers (so calling it again, with another level, is fine),
    quiets httpx's line per request, and forwards the Temporal SDK core's own lines to Python
    logging so that they take the same format (when no Temporal runtime was created yet).
    """
    chosen = log_format(environ)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)  # Python's warnings too take the format, not a bare stderr line
    # httpx logs every request at INFO; closer logs the failures (with Genesys's contextId) itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    forward_core_logs()
    return chosen


def core_logging_config() -> LoggingConfig:
    """The Temporal runtime's logging: core warnings forwarded to the ``temporalio.core`` logger.

    A Temporal ``Runtime`` built elsewhere (for metrics, say) should pass this as its
    ``TelemetryConfig(logging=...)`` so that core lines keep closer's log format.
    """
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )


def forward_core_logs() -> None:
    """Make the default Temporal runtime forward core logs, unless a runtime exists already."""
    try:
        Runtime.set_default(
            Runtime(telemetry=TelemetryConfig(logging=core_logging_config())), error_if_already_set=True
        )
    except RuntimeError:
        pass  # created already (by a client, or configured for metrics): keep it


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the record's structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if (
                key not in _RECORD_ATTRIBUTES
                and key not in _SKIPPED_EXTRAS
                and not key.startswith("_")
                and key not in entry
            ):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class FailedAttemptLog(Interceptor):
    """Worker interceptor: one log line per failed activity attempt, instead of a traceback.

    Creating it also installs the filter that drops the SDK's traceback record for the errors it
    logs (ApplicationErrors: Genesys errors, a change still in flight, callback refusals).
    """

    def __init__(self) -> None:
        quiet_logged_failures()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _AttemptLogInbound(next)


class _AttemptLogInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except ApplicationError as error:
            log_failed_attempt(error, input.args)
            raise


def log_failed_attempt(error: ApplicationError, args: Sequence[Any]) -> None:
    """The one line for a failed attempt of the running activity."""
    info = activity.info()
    details = error.details[0] if error.details and isinstance(error.details[0], dict) else {}
    fields: dict[str, Any] = {
        "step": info.activity_type,
        "conversationId": _conversation_id(args, info.workflow_id),
        "attempt": info.attempt,
        "workflowId": info.workflow_id,
        "errorType": error.type,
        "status": details.get("status"),
        "code": details.get("code"),
        "contextId": details.get("contextId"),
        "retryable": not error.non_retryable,
        "retryIn": error.next_retry_delay.total_seconds() if error.next_retry_delay else None,
    }
    # The error's own message, less the step's name: closer's words, or Genesys's for what to fix.
    message = error.message.removeprefix(f"{info.activity_type}: ")
    what = f"{info.activity_type} attempt {info.attempt} failed for conversation {fields['conversationId'] or '-'}: "
    genesys = fields["status"] is not None or fields["contextId"] is not None
    if genesys:
        what += f"{fields['status'] or '-'} {fields['code'] or error.type}, contextId {fields['contextId'] or '-'}"
    else:
        what += f"{error.type}: {message}"
    if error.non_retryable:
        what += f"; not retryable: {message}" if genesys else "; not retryable"
    elif fields["retryIn"] is not None:
        what += f"; retry in {fields['retryIn']:g}s"
    else:
        what += "; retryable"
    setattr(error, _LOGGED, True)
    _attempts.warning(what, extra=fields)


_LOGGED = "_closer_attempt_logged"


class _DropLoggedFailures(logging.Filter):
    """Drops the SDK's "Completing activity as failed" record (with its traceback) for an error
    :func:`log_failed_attempt` has already logged in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and getattr(error, _LOGGED, False))


def quiet_logged_failures() -> None:
    """Install the filter on the SDK's activity logger (once)."""
    sdk_logger = activity.logger.base_logger
    if not any(isinstance(f, _DropLoggedFailures) for f in sdk_logger.filters):
        sdk_logger.addFilter(_DropLoggedFailures())


def _conversation_id(args: Sequence[Any], workflow_id: str | None) -> str | None:
    """The step input's conversation id, else the one in the workflow id (``terminate-{id}``)."""
    for arg in args:
        value = getattr(arg, "conversation_id", None)
        if isinstance(value, str):
            return value
        if isinstance(arg, Mapping) and isinstance(arg.get("conversationId"), str):
            return arg["conversationId"]
    found = _UUID.search(workflow_id or "")
    return found.group(0) if found else None
