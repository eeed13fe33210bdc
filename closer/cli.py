"""The ``closer`` command line: terminate a conversation, set a cluster up, run a worker, the emulator or the demo.

Every problem a user can fix (a malformed id, an unknown profile, no Temporal server) is found
before anything starts and reported as one line on stderr, exit status 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

import click
from pydantic import BaseModel
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from workflows import (
    TerminateConversation,
    TerminateRequest,
    TerminateResult,
    workflow_id,
)
from workflows.contract import InvalidInput, parse, root_message
from workflows.models import CallbackReport, ParticipantOutcome, StepRecord
from workflows.policies import DEFAULT_VERIFY_TIMEOUT_SECONDS

from . import search_attributes
from .logs import LogFormatError, configure_logging
from .metrics import MetricsSettingsError, metrics_address, telemetry_runtime
from .settings import TemporalSettings, profile_names_from_env, profile_variables
from .temporal import CannotConnect, connect, start_termination
from .tracing import flush_traces

M = TypeVar("M", bound=BaseModel)

#: Exit status for a request that cannot start (what to fix is on stderr).
EXIT_USAGE = 2
#: Exit status for a termination that ran and failed.
EXIT_FAILED = 1
#: How long to try reaching Temporal before saying it is not there.
CONNECT_TIMEOUT_SECONDS = 5.0
#: How often ``--wait`` asks the workflow how far it got.
PROGRESS_POLL_SECONDS = 0.3
#: A progress query unanswered this long means no worker has picked the workflow up yet.
QUERY_TIMEOUT = timedelta(seconds=2)


class CannotStart(click.ClickException):
    """Nothing started: one line saying what to fix, exit status 2."""

    exit_code = EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """End Genesys Cloud Web Messaging conversations durably, as Temporal workflows."""
    _configure_logging(logging.WARNING)  # the worker and the API raise it to INFO


def _configure_logging(level: int) -> str:
    try:
        return configure_logging(level)  # text, or JSON lines with CLOSER_LOG_FORMAT=json
    except LogFormatError as error:
        raise CannotStart(str(error)) from None


def main() -> NoReturn:
    """The ``closer`` command: run it, then leave without interpreter finalization.

    The Temporal SDK's Rust threads can call into Python while the interpreter finalizes and abort
    a process that has finished its work (temporalio/sdk-python#300). Every command has closed
    what it opened by the time it returns, so skipping finalization loses nothing.
    """
    try:
        cli.main(prog_name="closer")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    flush_traces()  # the spans of workflows this command started (with OTEL_EXPORTER_OTLP_ENDPOINT set)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@cli.command()
@click.argument("conversation_id", required=False)
@click.option(
    "--from-file",
    "from_file",
    metavar="FILE",
    help="Terminate every conversation in FILE (- for stdin): one id a line, or a CSV with a header (see --column). Resumable: finished ones are skipped.",
)
@click.option(
    "--column",
    metavar="NAME",
    help="With --from-file: the CSV column holding the ids (default: conversationId, conversation_id or id).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    metavar="N",
    help="With --from-file: at most N terminations in flight (default 20).",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow the steps and print the result, or print the workflow id and return.",
)
@click.option(
    "--goodbye",
    metavar="TEXT",
    help="A last message to the customer, sent once on the agent's communication (at most 2000 characters).",
)
@click.option(
    "--wrapup-code",
    metavar="ID",
    help="Wrap-up code id for agents who must wrap up; without it wrap-up is skipped where allowed.",
)
@click.option(
    "--delete-transcript",
    is_flag=True,
    help="Schedule deletion of the conversation's messaging recordings once it has ended.",
)
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Genesys credentials profile (see the README: configuration).",
)
@click.option("--reason", metavar="TEXT", help="Why, for operators: shown in the Temporal UI, never sent to Genesys.")
@click.option(
    "--verify-timeout",
    type=float,
    default=DEFAULT_VERIFY_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for Genesys to confirm the end before the teardown fallback.",
)
@click.option("--no-teardown", is_flag=True, help="Never use the last-resort full teardown; fail instead.")
@click.option(
    "--callback-url",
    metavar="URL",
    help="POST the signed result here when the termination ends; its origin must be in the worker's CLOSER_CALLBACK_ALLOWED_ORIGINS.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print only the result (or the workflow id) as JSON, for scripts; with --from-file one JSON object a line.",
)
def terminate(
    conversation_id: str | None,
    from_file: str | None,
    column: str | None,
    concurrency: int | None,
    wait: bool,
    goodbye: str | None,
    wrapup_code: str | None,
    delete_transcript: bool,
    profile: str,
    reason: str | None,
    verify_timeout: float,
    no_teardown: bool,
    callback_url: str | None,
    as_json: bool,
) -> None:
    """End a conversation, or join its termination already under way.

    With --from-file, end every conversation a file names, at most --concurrency at a time, with
    the same options for each.
    """
    # The request's fields, as the options give them: the same for one id or a whole file.
    options = {
        "profile": profile,
        "reason": reason,
        "goodbye": goodbye,
        "wrapup_code": wrapup_code,
        "verify_timeout_seconds": verify_timeout,
        "allow_teardown": not no_teardown,
        "delete_transcript": delete_transcript,
        "callback_url": callback_url,
    }
    if from_file is not None:
        if conversation_id is not None:
            raise CannotStart("give a CONVERSATION_ID or --from-file FILE, not both")
        from .batch_cli import terminate_batch  # the batch has its own module

        terminate_batch(from_file, column=column, concurrency=concurrency, wait=wait, as_json=as_json, **options)
        return
    if conversation_id is None:
        raise CannotStart("give a CONVERSATION_ID (or --from-file FILE for many)")
    if column is not None or concurrency is not None:
        raise CannotStart(f"{'--column' if column is not None else '--concurrency'} goes with --from-file FILE")
    request = _valid(TerminateRequest, conversation_id=conversation_id, **options)
    _check_profile(profile)
    temporal = TemporalSettings.from_env()
    try:
        result = asyncio.run(_terminate(temporal, request, wait=wait, as_json=as_json))
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: a termination already started goes on (workflow {workflow_id(conversation_id)})", err=True
        )
        sys.exit(130)
    if result is not None and result.outcome == "failed":
        sys.exit(EXIT_FAILED)


@cli.command()
def worker() -> None:
    """Run a worker (same as: python worker.py).

    Configured by the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (and TEMPORAL_API_KEY or
    TEMPORAL_TLS_*, or TEMPORAL_PROFILE), CLOSER_TASK_QUEUE and the GENESYSCLOUD_* credentials (see the README).
    """
    from worker import (
        main as run_worker,  # the worker's own entry point, imported only when run
    )

    sys.exit(run_worker())


@cli.command()
def setup() -> None:
    """Create closer's search attributes in the namespace, where missing (once per cluster).

    Uses TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE and Temporal's operator API; running it again
    changes nothing. Workers refuse to start without them: workflows would hang.
    """
    asyncio.run(_setup(TemporalSettings.from_env()))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
def emulator(host: str, port: int) -> None:
    """Run the local Genesys Cloud emulator in the foreground.

    Its OAuth client: emulator-client / emulator-secret.
    """
    from emulator.__main__ import (
        serve,  # imported only here: the other commands never need it
    )

    serve(host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8788, show_default=True, type=int)
def api(host: str, port: int) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs).

    Configured by the environment: CLOSER_API_KEYS (comma-separated bearer keys, required),
    TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (and TEMPORAL_API_KEY or TEMPORAL_TLS_*, or TEMPORAL_PROFILE)
    and CLOSER_TASK_QUEUE (see the README). Until Temporal can be reached, /readyz and the /v1 routes
    answer 503 and the log says what to fix.
    """
    import uvicorn

    from .api import (  # FastAPI is imported only when the API is served
        API_KEYS_VARIABLE,
        api_keys_from_env,
        create_app,
    )

    keys = api_keys_from_env()
    if not keys:
        raise CannotStart(
            f"no API keys: set {API_KEYS_VARIABLE} to one or more keys, comma-separated "
            f"(e.g. {API_KEYS_VARIABLE}=$(openssl rand -hex 32))"
        )
    # JSON: uvicorn's own lines (startup, access) go through closer's handler; text: uvicorn's format.
    logs: dict[str, Any] = {"log_config": None} if _configure_logging(logging.INFO) == "json" else {}
    try:
        # Prometheus metrics on CLOSER_METRICS_PORT (a port of their own, without API keys): requests
        # by route and status, and the Temporal client's own metrics.
        runtime = telemetry_runtime(metrics_address())
    except MetricsSettingsError as error:
        raise CannotStart(str(error)) from None
    app = create_app(TemporalSettings.from_env(), keys, runtime)
    uvicorn.run(app, host=host, port=port, log_level="info", **logs)


@cli.command()
@click.argument("conversation_ids", nargs=-1, metavar="[CONVERSATION_ID]...")
@click.option("--keep-open", is_flag=True, help="Keep the embedded Temporal UI and emulator up until Ctrl-C.")
def demo(conversation_ids: tuple[str, ...], keep_open: bool) -> None:
    """Terminate a varied set of conversations, one line each.

    By default on an embedded Temporal dev server (with UI) and the emulator.

    With TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) set it uses that cluster; with GENESYSCLOUD_* credentials it uses the real
    org, and then terminates only the CONVERSATION_IDs given.
    """
    from .demo import (
        run_demo,  # pulls in the emulator and the worker: only when asked for
    )

    sys.exit(asyncio.run(run_demo(list(conversation_ids), keep_open=keep_open)))


def _valid(model: type[M], **fields: object) -> M:
    """The options as the workflow's input model, or exit 2 with the contract's own messages."""
    try:
        return parse(model, fields)
    except InvalidInput as error:
        raise CannotStart(str(error)) from None


def _check_profile(name: str) -> None:
    # Names only: the CLI needs the profiles' client ids, not their secrets (the worker has those).
    configured = profile_names_from_env(os.environ)
    if name in configured:
        return
    raise CannotStart(
        f"unknown Genesys credentials profile {name!r} (configured here: {', '.join(configured) or 'none'}): "
        f"define it with {profile_variables(name)}, as for the worker"
    )


async def reach_temporal(settings: TemporalSettings) -> Client:
    """Connect, or exit 2 with the one line that says what to fix (a bad setting, no server, TLS, credentials)."""
    try:
        return await connect(settings, timeout=CONNECT_TIMEOUT_SECONDS)
    except CannotConnect as error:
        raise CannotStart(str(error)) from None


async def _setup(settings: TemporalSettings) -> None:
    client = await reach_temporal(settings)
    try:
        before = await search_attributes.add_missing(client, settings.namespace)
    except RPCError as error:
        refused = (
            f"Temporal refused to list or create search attributes in namespace {settings.namespace!r}: {error.message}"
        )
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            # Temporal Cloud has no operator API for this: its own UI and tcld create them.
            wanted = search_attributes.describe(search_attributes.REQUIRED)
            refused += f" (where the operator API is not allowed, as on Temporal Cloud, create them in the namespace's settings: {wanted})"
        raise CannotStart(refused) from None
    if before.mistyped:
        raise CannotStart(before.problem())
    if before.missing:
        click.echo(f"created in namespace {settings.namespace!r}: {search_attributes.describe(before.missing)}")
    else:
        click.echo(f"nothing to do: namespace {settings.namespace!r} has closer's search attributes")


async def _terminate(
    settings: TemporalSettings, request: TerminateRequest, *, wait: bool, as_json: bool
) -> TerminateResult | None:
    client = await reach_temporal(settings)
    try:
        handle = await start_termination(client, request, task_queue=settings.task_queue)
    except RPCError as error:
        raise CannotStart(
            f"Temporal refused to start the termination: {error.message} (namespace {settings.namespace!r})"
        ) from None
    if not wait:
        click.echo(json.dumps({"workflowId": handle.id}) if as_json else handle.id)
        return None
    if not as_json:
        click.echo(f"{handle.id} on task queue {settings.task_queue}")
    try:
        result = await _follow(handle, settings.task_queue, show_steps=not as_json)
    except WorkflowFailureError as failure:
        raise click.ClickException(f"the termination workflow failed: {root_message(failure)}") from None
    click.echo(result.model_dump_json(indent=2) if as_json else _describe_result(result))
    return result


async def _follow(
    handle: WorkflowHandle[TerminateConversation, TerminateResult], task_queue: str, *, show_steps: bool
) -> TerminateResult:
    """Wait for the result, printing each step as the workflow records it."""
    result = asyncio.ensure_future(handle.result())
    shown = 0
    warned = False
    while not result.done():
        try:
            progress = await handle.query(TerminateConversation.progress, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            if show_steps and not warned:
                click.echo(f"waiting for a worker on task queue {task_queue} (start one with: closer worker)", err=True)
                warned = True
        else:
            if show_steps:
                _print_steps(progress.steps[shown:])
            shown = len(progress.steps)
        await asyncio.wait({result}, timeout=PROGRESS_POLL_SECONDS)
    final = result.result()
    if show_steps:
        _print_steps(final.steps[shown:])
    return final


def _print_steps(steps: Iterable[StepRecord]) -> None:
    for step in steps:
        calls = f"{step.calls} call{'' if step.calls == 1 else 's'}"
        click.echo(f"  {step.name:<22} {calls:>8}  {step.detail}")


def _describe_result(result: TerminateResult) -> str:
    rows: list[tuple[str, str]] = [("outcome", result.outcome)]
    rows += [("participants" if i == 0 else "", _describe_participant(p)) for i, p in enumerate(result.participants)]
    if result.goodbye:
        rows.append(("goodbye", result.goodbye))
    if result.transcript_recordings_scheduled is not None:
        rows.append(("transcript", f"{result.transcript_recordings_scheduled} recording(s) scheduled for deletion"))
    rows.append(("verified at", result.verified_at.isoformat() if result.verified_at else "not verified"))
    rows.append(("api calls", str(result.api_calls)))
    if result.error:
        rows.append(("error", result.error))
    if result.callback:
        rows.append(("callback", _describe_callback(result.callback)))
    return "\n".join(f"{label:<13}{value}" for label, value in rows)


def _describe_callback(callback: CallbackReport) -> str:
    if callback.status == "delivered":
        assert callback.delivered_at is not None
        tries = f"attempt {callback.attempts}" if callback.attempts > 1 else "first attempt"
        return f"delivered {callback.delivered_at.isoformat()} ({tries}, {callback.event_id})"
    if callback.status == "failed":
        return f"failed after {callback.attempts} attempt(s): {callback.error} ({callback.event_id})"
    return "none configured" if callback.status == "not_configured" else callback.status


def _describe_participant(participant: ParticipantOutcome) -> str:
    wrapup = "" if participant.wrapup == "none" else f", wrap-up {participant.wrapup}"
    return f"{participant.purpose or '?':<9}{participant.action}{wrapup}  ({participant.participant_id})"


# Commands with modules of their own (imported last: they build on the helpers above).
from .sweep_cli import sweep  # noqa: E402
from .watch_cli import watch  # noqa: E402

cli.add_command(watch)
cli.add_command(sweep)
