"""``closer sweep``: watch every open conversation nobody watches, on a schedule or now."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from temporalio.client import Client, WorkflowFailureError

from workflows import SweepRequest, SweepResult, sweep_schedule_id
from workflows.contract import root_message
from workflows.durations import format_duration

from . import sweeps
from .cli import CannotStart, _check_profile, _valid, reach_temporal
from .settings import TemporalSettings
from .watch_cli import watch_policy_options, watch_settings

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _policy_options(command: F) -> F:
    """The watch policy a sweep applies, and how it sweeps: shared by `schedule` and `run`."""
    options = [
        click.option(
            "--lookback", metavar="DURATION", help="Sweep conversations that started this far back (default 72h)."
        ),
        click.option(
            "--page-size", type=int, metavar="N", help="Conversations per analytics query, 1 to 100 (default 100)."
        ),
        click.option(
            "--starts-per-minute",
            type=int,
            metavar="N",
            help="Watches started per minute at most (default 60): each reads Genesys at once.",
        ),
        click.option(
            "--profile", default="default", show_default=True, help="Genesys credentials profile: the org swept."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return watch_policy_options(command)


@click.group()
def sweep() -> None:
    """Watch every open web messaging conversation that nobody watches.

    A sweep pages through the analytics details query (permission analytics:conversationDetail:view)
    and starts a watch with the given policy for each conversation without one.
    """


@sweep.command()
@click.option("--every", metavar="DURATION", required=True, help="How often to sweep, e.g. 5m.")
@click.option("--id", "schedule_id", metavar="NAME", help="The schedule's id (default closer-sweep-PROFILE).")
@_policy_options
def schedule(every: str, schedule_id: str | None, **options: Any) -> None:
    """Create or update a Temporal Schedule of sweeps (overlap policy: skip)."""
    request = _request(options)

    async def create(client: Client, settings: TemporalSettings) -> str:
        handle, created = await sweeps.schedule_sweeps(
            client, request, every=every, task_queue=settings.task_queue, schedule_id=schedule_id
        )
        info = (await handle.describe()).info
        next_run = f", next at {info.next_action_times[0].isoformat()}" if info.next_action_times else ""
        return (
            f"{'created' if created else 'updated'} schedule {handle.id}: every {every}, "
            f"watches with idle {format_duration(request.idle)} (profile {request.profile}){next_run}"
        )

    click.echo(_run(create))


@sweep.command()
@click.option(
    "--wait/--no-wait",
    default=False,
    show_default=True,
    help="Wait for the sweep and print its result, or print its workflow id and return.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print only the result (or the workflow id) as JSON, for scripts."
)
@_policy_options
def run(wait: bool, as_json: bool, **options: Any) -> None:
    """Sweep now (workflow sweep-PROFILE: one at a time)."""
    request = _request(options)

    async def start(client: Client, settings: TemporalSettings) -> str:
        handle = await sweeps.run_sweep(client, request, task_queue=settings.task_queue)
        if not wait:
            return json.dumps({"workflowId": handle.id}) if as_json else handle.id
        if not as_json:
            click.echo(f"{handle.id} on task queue {settings.task_queue}")
        try:
            result = await handle.result()
        except WorkflowFailureError as failure:
            raise click.ClickException(f"the sweep failed: {root_message(failure)}") from None
        return result.model_dump_json(indent=2) if as_json else _describe(result)

    click.echo(_run(start))


@sweep.command(name="list")
def list_() -> None:
    """The sweep schedules: interval, policy, state, next run, runs and skips."""

    async def read(client: Client, settings: TemporalSettings) -> str:
        rows = [_describe_schedule(s) for s in await sweeps.list_schedules(client)]
        return "\n".join(rows) or "no sweep schedules (create one with: closer sweep schedule --every 5m --idle 30m)"

    click.echo(_run(read))


def _schedule_id(command: F) -> F:
    command = click.option(
        "--profile", default="default", show_default=True, help="Genesys credentials profile (names the default id)."
    )(command)
    return click.option(
        "--id", "schedule_id", metavar="NAME", help="The schedule's id (default closer-sweep-PROFILE)."
    )(command)


@sweep.command()
@_schedule_id
def pause(schedule_id: str | None, profile: str) -> None:
    """Pause a sweep schedule (a sweep under way goes on)."""
    click.echo(_on_schedule(sweeps.pause_schedule, schedule_id or sweep_schedule_id(profile), "paused"))


@sweep.command()
@_schedule_id
def resume(schedule_id: str | None, profile: str) -> None:
    """Resume a paused sweep schedule."""
    click.echo(_on_schedule(sweeps.resume_schedule, schedule_id or sweep_schedule_id(profile), "resumed"))


@sweep.command()
@_schedule_id
def delete(schedule_id: str | None, profile: str) -> None:
    """Delete a sweep schedule (a sweep under way goes on)."""
    click.echo(_on_schedule(sweeps.delete_schedule, schedule_id or sweep_schedule_id(profile), "deleted"))


def _on_schedule(act: Callable[[Client, str], Awaitable[None]], schedule_id: str, done: str) -> str:
    async def apply(client: Client, settings: TemporalSettings) -> str:
        await act(client, schedule_id)
        return f"{done} schedule {schedule_id}"

    return _run(apply)


def _request(options: dict[str, Any]) -> SweepRequest:
    request = _valid(SweepRequest, **watch_settings(options))
    _check_profile(request.profile)
    return request


def _run(action: Callable[[Client, TemporalSettings], Awaitable[T]]) -> T:
    """Connect to Temporal and run ``action``; what the user can fix is one line, exit 2."""
    settings = TemporalSettings.from_env()

    async def connected() -> T:
        client = await reach_temporal(settings)
        try:
            return await action(client, settings)
        except (sweeps.InvalidInput, sweeps.SweepRunning, sweeps.NoSchedule) as error:
            raise CannotStart(str(error)) from None

    return asyncio.run(connected())


def _describe(result: SweepResult) -> str:
    rows = [
        ("candidates", f"{result.candidates} (of {result.total_hits} hits: open conversations started "
                       f"{result.interval_start.isoformat(timespec='seconds')} to {result.interval_end.isoformat(timespec='seconds')})"),
        ("already watched", str(result.already_watched)),
        ("watches started", str(result.watches_started)),
        ("pages", str(result.pages)),
        ("api calls", str(result.api_calls)),
    ]  # fmt: skip
    return "\n".join(f"{label:<17}{value}" for label, value in rows)


def _describe_schedule(schedule: sweeps.SweepSchedule) -> str:
    request = schedule.request
    every = f"every {format_duration(schedule.every)}" if schedule.every else "custom calendar"
    state = "paused" if schedule.paused else f"next {schedule.next_run.isoformat()}" if schedule.next_run else "active"
    running = f", running {', '.join(schedule.running)}" if schedule.running else ""
    return (
        f"{schedule.id}  {every}  idle {format_duration(request.idle)}  profile {request.profile}  {state}  "
        f"runs {schedule.runs}, skipped {schedule.skipped}, missed {schedule.missed}{running}"
    )
